"""Domain errors and their one mapping to HTTP problem+json (RFC 9457).

Services raise the exceptions below; ``register_error_handlers`` turns every error
under ``/api`` (and ``/healthz``) into ``application/problem+json`` and never leaks a
stack trace. Pages get a readable HTML page instead.
"""

from __future__ import annotations

import logging
from typing import Any, NotRequired, TypedDict

from flask import Flask, Request, Response, json, render_template, request
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from frontoffice.dbhealth import unavailable
from frontoffice.requestlog import current_request_id

log = logging.getLogger(__name__)

PROBLEM_MIME = "application/problem+json"


class FieldError(TypedDict):
    """One entry of a 422's ``errors``: which field, what is wrong, a machine-readable type."""

    field: str
    message: str
    type: str
    params: NotRequired[dict[str, Any]]


def field_error(field: str, message: str, type: str = "value_error", **params: Any) -> FieldError:
    """A :class:`FieldError` (``params`` carry values a page may show next to the field)."""
    out = FieldError(field=field, message=message, type=type)
    if params:
        out["params"] = params
    return out


class DomainError(Exception):
    """A business rule refused the request. Subclasses fix the HTTP status."""

    status = 400
    title = "Bad request"
    type = "about:blank"

    def __init__(
        self,
        detail: str,
        *,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ):
        super().__init__(detail)
        self.detail = detail
        self.errors = errors
        #: HTTP headers of the answer (``Retry-After`` …), not members of the problem document.
        self.headers = headers or {}
        self.extra = extra


class InvalidInput(DomainError):
    """The request was understood but its content breaks a rule (422)."""

    status = 422
    title = "Unprocessable content"


class NotFound(DomainError):
    """The named thing does not exist (404)."""

    status = 404
    title = "Not found"


class Conflict(DomainError):
    """The request conflicts with the current state (409)."""

    status = 409
    title = "Conflict"


class Unauthorized(DomainError):
    """No valid credentials (401)."""

    status = 401
    title = "Unauthorized"


class Forbidden(DomainError):
    """Credentials valid, permission missing (403)."""

    status = 403
    title = "Forbidden"


def problem(
    status: int, title: str, detail: str | None = None, *, headers: dict[str, str] | None = None, **extra: Any
) -> Response:
    """Build an ``application/problem+json`` response."""
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body.update({k: v for k, v in extra.items() if v is not None})
    body.setdefault("request_id", current_request_id())
    if body["request_id"] is None:
        del body["request_id"]
    resp = Response(json.dumps(body), status=status, mimetype=PROBLEM_MIME, headers=headers)
    if status == 401:
        resp.headers["WWW-Authenticate"] = 'Bearer realm="frontoffice"'
    return resp


def problem_of(err: DomainError) -> Response:
    """The problem+json answer to a domain error."""
    return problem(err.status, err.title, err.detail, errors=err.errors, headers=err.headers, **err.extra)


def wants_problem_json(req: Request) -> bool:
    """True for API paths and clients that prefer JSON over HTML."""
    path = req.path
    if path.startswith("/api") or path in ("/healthz", "/readyz") or path.startswith("/metrics"):
        return True
    best = req.accept_mimetypes.best_match(["text/html", "application/json", PROBLEM_MIME])
    return best in {"application/json", PROBLEM_MIME}


UNAVAILABLE = "Service unavailable"
DATABASE_UNAVAILABLE = "The database is not answering right now; retry in a few seconds."


def database_unavailable(retry_after_s: int, detail: str = DATABASE_UNAVAILABLE) -> Response:
    """503 problem+json for a database that is down, silent, too slow or busy, with ``Retry-After``."""
    return problem(503, UNAVAILABLE, detail, headers={"Retry-After": str(retry_after_s)})


def register_error_handlers(app: Flask, *, retry_after_s: int = 5) -> None:
    """Map domain errors, HTTP errors, an unavailable database and unexpected exceptions to
    responses, in one place."""

    @app.errorhandler(DomainError)
    def _domain(err: DomainError):
        if wants_problem_json(request):
            return problem_of(err)
        return _html(err.status, err.title, err.detail, err.headers)

    @app.errorhandler(StaleDataError)
    def _stale(err: StaleDataError):
        detail = "The record was changed by someone else at the same moment; reload it and try again."
        if wants_problem_json(request):
            return problem(409, "Conflict", detail)
        return _html(409, "Conflict", detail)

    @app.errorhandler(SQLAlchemyError)
    def _database(err: SQLAlchemyError):
        if not unavailable(err):
            return _unexpected(err)
        log.warning("database unavailable on %s %s: %s", request.method, request.path, _first_line(err))
        if wants_problem_json(request):
            return database_unavailable(retry_after_s)
        return _html(503, UNAVAILABLE, DATABASE_UNAVAILABLE, {"Retry-After": str(retry_after_s)})

    @app.errorhandler(HTTPException)
    def _http(err: HTTPException):
        if err.code is None or err.code < 400:
            return err
        if wants_problem_json(request):
            detail = err.description
            if err.code == 413:
                limit = app.config.get("MAX_CONTENT_LENGTH")
                detail = f"The request body is larger than the limit of {limit} bytes."
            resp = problem(err.code, err.name, detail)
            if err.code == 405 and err.valid_methods:
                resp.headers["Allow"] = ", ".join(err.valid_methods)
            return resp
        return _html(err.code, err.name, err.description)

    @app.errorhandler(Exception)
    def _unexpected(err: Exception):
        log.exception("unhandled error on %s %s", request.method, request.path)
        if wants_problem_json(request):
            return problem(
                500, "Internal server error", "The server failed to process the request; it was logged."
            )
        return _html(500, "Internal server error", "Something went wrong on our side; it was logged.")


def _html(status: int, title: str, detail: str | None, headers: Any = None):
    try:
        page = render_template("error.html", status=status, title=title, detail=detail)
    except Exception:  # the page itself needs what failed (the logged-in user lives in the database)
        log.warning("error page not rendered", exc_info=True)
        page = f"<!doctype html><title>{status} {title}</title><h1>{status} {title}</h1><p>{detail or ''}</p>"
    return page, status, headers or {}


def _first_line(err: BaseException) -> str:
    return f"{err.__class__.__name__}: {str(err).splitlines()[0] if str(err) else ''}"
