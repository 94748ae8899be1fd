"""Real local HTTP servers that answer like SMS.ru's ``sms/send`` (https://sms.ru/api/send) and the
Telegram Bot API's ``sendMessage`` (https://core.telegram.org/bots/api#making-requests), each
answering the next step of its ``script`` and then success; they keep what they got and what they
accepted."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response


def _json(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body, ensure_ascii=False), status=status, mimetype="application/json")


@dataclass
class FakeSmsRu:
    """``POST /sms/send`` with api_id, to, msg, json=1. Steps: ``ok``; ``500`` (an HTTP 500 page);
    ``balance`` (status ERROR, 201: not enough money); ``bad_number`` (the number's entry ERROR, 202);
    ``unavailable`` (status ERROR, 220: try later)."""

    api_id: str = "test-api-id"
    script: list[str] = field(default_factory=list)
    got: list[dict[str, str]] = field(default_factory=list)
    accepted: list[dict[str, str]] = field(default_factory=list)
    url: str = ""
    _ids: int = 0

    def __call__(self, environ, start_response):
        request = Request(environ)
        form = request.form.to_dict()
        self.got.append(form)
        if request.path != "/sms/send" or request.method != "POST":
            return Response("not found", status=404)(environ, start_response)
        step = self.script.pop(0) if self.script else "ok"
        to = form.get("to", "")
        if step == "500":
            resp = Response("<html><body>502 Bad Gateway</body></html>", status=500, mimetype="text/html")
        elif form.get("api_id") != self.api_id:
            resp = _json({"status": "ERROR", "status_code": 200, "status_text": "Неправильный api_id"})
        elif step == "balance":
            resp = _json(
                {"status": "ERROR", "status_code": 201, "status_text": "Не хватает средств на лицевом счету"}
            )
        elif step == "unavailable":
            resp = _json({"status": "ERROR", "status_code": 220, "status_text": "Сервис временно недоступен"})
        elif step == "bad_number":
            resp = _json(
                {
                    "status": "OK",
                    "status_code": 100,
                    "sms": {
                        to: {
                            "status": "ERROR",
                            "status_code": 202,
                            "status_text": "Неправильно указан номер телефона получателя",
                        }
                    },
                    "balance": 4122.56,
                }
            )
        else:
            self._ids += 1
            self.accepted.append(form)
            sms_id = f"000000-{10000000 + self._ids}"
            resp = _json(
                {
                    "status": "OK",
                    "status_code": 100,
                    "sms": {to: {"status": "OK", "status_code": 100, "sms_id": sms_id}},
                    "balance": 4122.56,
                }
            )
        return resp(environ, start_response)


@dataclass
class FakeTelegram:
    """``POST /bot<token>/sendMessage`` with JSON chat_id, text. Steps: ``ok``; ``429`` (flood
    control, retry_after 7); ``chat_not_found`` (400); a wrong token answers 401."""

    token: str = "123456:TEST-token"
    script: list[str] = field(default_factory=list)
    got: list[dict[str, Any]] = field(default_factory=list)
    accepted: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""
    _ids: int = 0

    def __call__(self, environ, start_response):
        request = Request(environ)
        body = request.get_json(silent=True) or {}
        self.got.append(body)
        if request.path != f"/bot{self.token}/sendMessage":
            resp = _json({"ok": False, "error_code": 401, "description": "Unauthorized"}, 401)
            return resp(environ, start_response)
        step = self.script.pop(0) if self.script else "ok"
        if step == "429":
            resp = _json(
                {
                    "ok": False,
                    "error_code": 429,
                    "description": "Too Many Requests: retry after 7",
                    "parameters": {"retry_after": 7},
                },
                429,
            )
        elif step == "chat_not_found":
            resp = _json({"ok": False, "error_code": 400, "description": "Bad Request: chat not found"}, 400)
        else:
            self._ids += 1
            self.accepted.append(body)
            resp = _json(
                {
                    "ok": True,
                    "result": {
                        "message_id": self._ids,
                        "date": 1764972000,
                        "chat": {"id": body.get("chat_id"), "type": "private"},
                        "text": body.get("text"),
                    },
                }
            )
        return resp(environ, start_response)


@contextmanager
def serving(fake: Any) -> Iterator[Any]:
    """Serve ``fake`` on 127.0.0.1, a free port; its ``url`` is set."""
    server = make_server("127.0.0.1", 0, fake, threaded=True)
    fake.url = f"http://127.0.0.1:{server.port}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
