"""Request ids and JSON logs.

Every request gets an id: the client's (or nginx's) ``X-Request-ID`` when it is sane — 1 to 128
characters of letters, digits and ``-_.:`` — else a new random one. It is answered in the
``X-Request-ID`` header, written in every problem+json body (``request_id``, see
:mod:`frontoffice.errors`) and in every log line written while the request is served, so a
support ticket quoting it leads to the lines. :class:`RequestIdMiddleware` sits outside everything
else (the OsmAnd endpoint is answered in front of Flask and gets one too).

Logs are one JSON object per line (``log_format = json``, the default) or plain text.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
import re
import secrets
import sys
from collections.abc import Callable, Iterable
from typing import Any

HEADER = "X-Request-ID"
ENVIRON_KEY = "frontoffice.request_id"
_SANE = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")
_current: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)


def new_request_id() -> str:
    """A fresh random request id."""
    return secrets.token_hex(16)


def request_id_from(header: str | None) -> str:
    """The client's request id if it is sane, else a new one."""
    if header and _SANE.match(header):
        return header
    return new_request_id()


def current_request_id() -> str | None:
    """The id of the request being served in this context, or None outside requests."""
    return _current.get()


class RequestIdMiddleware:
    """Gives every request its id (see the module's docstring) and answers it in a header."""

    def __init__(self, app: Callable[..., Iterable[bytes]]):
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        rid = request_id_from(environ.get("HTTP_X_REQUEST_ID"))
        environ[ENVIRON_KEY] = rid
        # gunicorn's access log reads the header the app was sent: make it the id in use.
        environ["HTTP_X_REQUEST_ID"] = rid
        token = _current.set(rid)

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            headers = [(k, v) for k, v in headers if k.lower() != HEADER.lower()]
            headers.append((HEADER, rid))
            return start_response(status, headers, exc_info)

        try:
            return self.app(environ, start)
        finally:
            _current.reset(token)


_base_factory = logging.getLogRecordFactory()


def _record_with_request_id(*args: Any, **kwargs: Any) -> logging.LogRecord:
    record = _base_factory(*args, **kwargs)
    record.request_id = _current.get()
    return record


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id, exception."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        rid = getattr(record, "request_id", None)
        if rid:
            out["request_id"] = rid
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"


def formatter(log_format: str) -> logging.Formatter:
    """The formatter of ``log_format``: ``json`` or ``text``."""
    return JsonFormatter() if log_format.lower() == "json" else logging.Formatter(TEXT_FORMAT)


def configure_logging(log_format: str = "json", level: str = "INFO") -> None:
    """Stamp every log record with the request id and, unless the root logger already has a
    handler (a test runner's, an embedding app's), log to stderr in ``log_format``."""
    logging.setLogRecordFactory(_record_with_request_id)
    root = logging.getLogger()
    ours = [h for h in root.handlers if getattr(h, "frontoffice", False)]
    if root.handlers and not ours:
        return
    handler = ours[0] if ours else logging.StreamHandler(sys.stderr)
    handler.frontoffice = True  # type: ignore[attr-defined]
    handler.setFormatter(formatter(log_format))
    if not ours:
        root.addHandler(handler)
    root.setLevel(level.upper())
