"""Local stand-ins for the registers, real HTTP servers on 127.0.0.1 that answer as ATOL Online v5
and ATOL Web Server do (tokens, error codes, "wait"/"inProgress" before "done"/"ready"). The demo
runs one so the whole loop is visible without hardware; the tests run them to check the clients.

Each keeps every document it printed, deduped on the external id as the real ones are."""

from __future__ import annotations

import itertools
import json
import threading
import time
import uuid as uuidlib
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Printed:
    """A document a fake register took."""

    uuid: str
    external_id: str
    operation: str
    body: dict[str, Any]
    polls: int = 0
    fiscal_document_number: int = 0


@dataclass
class FakeState:
    """What a fake register holds, and how it misbehaves when told to."""

    #: Polls answered "wait"/"inProgress" before "done"/"ready".
    polls_before_done: int = 1
    #: Seconds to sleep after taking a document before answering (a timeout after accepting).
    delay_after_accept_s: float = 0.0
    #: How many next documents to take but answer late (``delay_after_accept_s``).
    slow_accepts: int = 0
    #: A message to fail the next documents with (the register's own refusal).
    fail_with: str | None = None
    printed: dict[str, Printed] = field(default_factory=dict)
    by_external_id: dict[str, str] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)
    counter: itertools.count = field(default_factory=lambda: itertools.count(1001))
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self, external_id: str, operation: str, body: dict[str, Any]) -> tuple[Printed, bool]:
        """The document under ``external_id``; True when it is new."""
        with self.lock:
            known = self.by_external_id.get(external_id)
            if known is not None:
                return self.printed[known], False
            doc = Printed(
                external_id if operation.startswith("task:") else str(uuidlib.uuid4()),
                external_id,
                operation.removeprefix("task:"),
                body,
                fiscal_document_number=next(self.counter),
            )
            self.printed[doc.uuid] = doc
            self.by_external_id[external_id] = doc.uuid
            return doc, True

    def late(self) -> float:
        """How long to hold the answer to a document just taken."""
        with self.lock:
            if self.slow_accepts > 0:
                self.slow_accepts -= 1
                return self.delay_after_accept_s
        return 0.0


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
        """Quiet: the fakes do not log every request."""

    def _body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            return json.loads(raw or b"null")
        except ValueError:
            return None

    def _answer(self, status: int, body: Any, hold_s: float = 0.0) -> None:
        if hold_s:
            time.sleep(hold_s)
        data = json.dumps(body, ensure_ascii=False).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up waiting: what it sent is taken all the same

    def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
        """Route a POST."""
        self.server.state.requests.append(f"POST {self.path}")
        self.server.route_post(self, self._body())

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        """Route a GET."""
        self.server.state.requests.append(f"GET {self.path}")
        self.server.route_get(self)


class _Server(ThreadingHTTPServer):
    """A fake register's HTTP server; each kind below answers its own protocol's routes."""

    daemon_threads = True
    block_on_close = False
    state: FakeState

    def route_post(self, h: _Handler, body: Any) -> None:
        """Answer a POST (every kind overrides it)."""
        raise NotImplementedError(f"{type(self).__name__} answers no POST")

    def route_get(self, h: _Handler) -> None:
        """Answer a GET (every kind overrides it)."""
        raise NotImplementedError(f"{type(self).__name__} answers no GET")


def _now() -> str:
    return time.strftime("%d.%m.%Y %H:%M:%S")


class _AtolOnline(_Server):
    """``/possystem/v5``: getToken, <group>/sell|sell_refund, <group>/report/<uuid>."""

    login = "demo"
    password = "demo-password"
    group = "demo-group"

    def _error(self, h: _Handler, http_status: int, code: int, text: str, **extra: Any) -> None:
        h._answer(
            http_status,
            {
                "error": {"error_id": str(uuidlib.uuid4()), "code": code, "text": text, "type": "system"},
                "timestamp": _now(),
                **extra,
            },
        )

    def _authorized(self, h: _Handler) -> bool:
        if h.headers.get("Token") != self.token:
            self._error(h, 401, 11, "Передан некорректный или просроченный токен")
            return False
        return True

    def route_post(self, h: _Handler, body: Any) -> None:
        path = h.path.split("?")[0]
        if path == "/possystem/v5/getToken":
            if (
                not isinstance(body, dict)
                or body.get("login") != self.login
                or body.get("pass") != self.password
            ):
                self._error(h, 401, 12, "Неверный логин или пароль")
                return
            h._answer(200, {"token": self.token, "error": None, "timestamp": _now()})
            return
        for operation in ("sell", "sell_refund"):
            if path == f"/possystem/v5/{self.group}/{operation}":
                if not self._authorized(h):
                    return
                self._register(h, operation, body)
                return
        self._error(h, 404, 2, "Неизвестный адрес")

    def _register(self, h: _Handler, operation: str, body: Any) -> None:
        receipt = body.get("receipt") if isinstance(body, dict) else None
        external_id = body.get("external_id") if isinstance(body, dict) else None
        if not external_id or not isinstance(receipt, dict) or not receipt.get("items"):
            self._error(h, 400, 32, "Ошибка валидации входного чека")
            return
        doc, new = self.state.take(external_id, operation, body)
        if not new:
            self._error(
                h,
                409,
                33,
                f"В системе существует чек с external_id : {external_id} и group_code: {self.group}",
                uuid=doc.uuid,
                status="fail",
            )
            return
        h._answer(
            200, {"uuid": doc.uuid, "status": "wait", "error": None, "timestamp": _now()}, self.state.late()
        )

    def route_get(self, h: _Handler) -> None:
        prefix = f"/possystem/v5/{self.group}/report/"
        if not h.path.startswith(prefix):
            self._error(h, 404, 2, "Неизвестный адрес")
            return
        if not self._authorized(h):
            return
        doc = self.state.printed.get(h.path[len(prefix) :])
        if doc is None:
            self._error(h, 400, 34, "Нет чека с таким uuid")
            return
        doc.polls += 1
        answer: dict[str, Any] = {
            "uuid": doc.uuid,
            "external_id": doc.external_id,
            "timestamp": _now(),
            "group_code": self.group,
            "error": None,
            "payload": None,
        }
        if doc.polls <= self.state.polls_before_done:
            h._answer(200, {**answer, "status": "wait"})
        elif self.state.fail_with:
            answer["error"] = {
                "error_id": str(uuidlib.uuid4()),
                "code": 1,
                "text": self.state.fail_with,
                "type": "driver",
            }
            h._answer(200, {**answer, "status": "fail"})
        else:
            total = doc.body["receipt"]["total"]
            h._answer(
                200,
                {
                    **answer,
                    "status": "done",
                    "payload": {
                        "total": total,
                        "fns_site": "www.nalog.gov.ru",
                        "fn_number": "9999078900004312",
                        "shift_number": 1,
                        "receipt_datetime": _now(),
                        "fiscal_receipt_number": doc.fiscal_document_number - 1000,
                        "fiscal_document_number": doc.fiscal_document_number,
                        "ecr_registration_number": "0000000001002292",
                        "fiscal_document_attribute": 1_000_000_000 + doc.fiscal_document_number,
                    },
                },
            )

    token = "fake-token-1"


class _WebServer(_Server):
    """``/api/v2/requests``: queue a task under a uuid, read its result."""

    def route_post(self, h: _Handler, body: Any) -> None:
        if h.path != "/api/v2/requests":
            h._answer(404, {"error": {"code": 404, "description": "Not found"}})
            return
        if not isinstance(body, dict) or not body.get("uuid") or not isinstance(body.get("request"), list):
            h._answer(400, {"error": {"code": 400, "description": "Неверный формат запроса"}})
            return
        doc, new = self.state.take(body["uuid"], f"task:{body['request'][0].get('type')}", body)
        if not new:
            h._answer(
                409, {"error": {"code": 409, "description": f"Задание с uuid {doc.uuid} уже существует"}}
            )
            return
        h._answer(201, {"number": doc.fiscal_document_number, "isBlocked": False}, self.state.late())

    def route_get(self, h: _Handler) -> None:
        prefix = "/api/v2/requests/"
        doc = self.state.printed.get(h.path[len(prefix) :]) if h.path.startswith(prefix) else None
        if doc is None:
            h._answer(404, {"error": {"code": 404, "description": "Задание не найдено"}})
            return
        doc.polls += 1
        if doc.polls <= self.state.polls_before_done:
            h._answer(
                200,
                {
                    "results": [
                        {"status": "inProgress", "errorCode": 0, "errorDescription": "", "result": None}
                    ]
                },
            )
        elif self.state.fail_with:
            h._answer(
                200,
                {
                    "results": [
                        {
                            "status": "error",
                            "errorCode": 68,
                            "errorDescription": self.state.fail_with,
                            "result": None,
                        }
                    ]
                },
            )
        else:
            total = doc.body["request"][0].get("total")
            h._answer(
                200,
                {
                    "results": [
                        {
                            "status": "ready",
                            "errorCode": 0,
                            "errorDescription": "",
                            "result": {
                                "fiscalParams": {
                                    "fiscalDocumentDateTime": time.strftime("%Y-%m-%dT%H:%M:%S+03:00"),
                                    "fiscalDocumentNumber": doc.fiscal_document_number,
                                    "fiscalDocumentSign": str(2_000_000_000 + doc.fiscal_document_number),
                                    "fiscalReceiptNumber": doc.fiscal_document_number - 1000,
                                    "fnNumber": "9999078900004313",
                                    "registrationNumber": "0000000001002293",
                                    "shiftNumber": 1,
                                    "total": total,
                                }
                            },
                        }
                    ]
                },
            )


@dataclass
class FakeRegister:
    """A running fake: its address, its state, and how to stop it."""

    server: _Server
    thread: threading.Thread

    @property
    def state(self) -> FakeState:
        """What it printed and how it behaves."""
        return self.server.state

    @property
    def url(self) -> str:
        """Its base URL (ATOL Online's includes ``/possystem/v5``)."""
        host, port = self.server.server_address[:2]
        base = f"http://{host}:{port}"
        return f"{base}/possystem/v5" if isinstance(self.server, _AtolOnline) else base

    def stop(self) -> None:
        """Shut it down."""
        self.server.shutdown()
        self.server.server_close()


def start(kind: str, state: FakeState | None = None, port: int = 0) -> FakeRegister:
    """Start a fake ``atol_online`` or ``atol_webserver`` on 127.0.0.1 in a daemon thread."""
    cls = _AtolOnline if kind == "atol_online" else _WebServer
    server = cls(("127.0.0.1", port), _Handler)
    server.state = state or FakeState()
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name=f"fake-{kind}", daemon=True
    )
    thread.start()
    return FakeRegister(server, thread)


#: The fake ATOL Online account (what the demo's register is set up with).
ATOL_ONLINE_LOGIN = _AtolOnline.login
ATOL_ONLINE_PASSWORD = _AtolOnline.password
ATOL_ONLINE_GROUP = _AtolOnline.group
