"""Domain errors and their one mapping to HTTP problem+json (RFC 9457).

Services raise the exceptions below; ``register_error_handlers`` turns every error
under ``/api`` (and ``/healthz``) into ``application/problem+json`` and never leaks a
stack trace. Pages get a readable HTML page instead.
"""

from __future__ import annotations

import logging
from typing import Any, NotRequired, TypedDict

from flask import Flask, Request, Response, json, render_template, request
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

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

    def __init__(self, detail: str, *, errors: list[dict[str, Any]] | None = None, **extra: Any):
        super().__init__(detail)
        self.detail = detail
        self.errors = errors
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


def problem(status: int, title: str, detail: str | None = None, **extra: Any) -> Response:
    """Build an ``application/problem+json`` response."""
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body.update({k: v for k, v in extra.items() if v is not None})
    resp = Response(json.dumps(body), status=status, mimetype=PROBLEM_MIME)
    if status == 401:
        resp.headers["WWW-Authenticate"] = 'Bearer realm="frontoffice"'
    return resp


def wants_problem_json(req: Request) -> bool:
    """True for API paths and clients that prefer JSON over HTML."""
    path = req.path
    if path.startswith("/api") or path == "/healthz" or path.startswith("/metrics"):
        return True
    best = req.accept_mimetypes.best_match(["text/html", "application/json", PROBLEM_MIME])
    return best in {"application/json", PROBLEM_MIME}


def register_error_handlers(app: Flask) -> None:
    """Map domain errors, HTTP errors and unexpected exceptions to responses, in one place."""

    @app.errorhandler(DomainError)
    def _domain(err: DomainError):
        if wants_problem_json(request):
            return problem(err.status, err.title, err.detail, errors=err.errors, **err.extra)
        return _html(err.status, err.title, err.detail)

    @app.errorhandler(StaleDataError)
    def _stale(err: StaleDataError):
        detail = "The record was changed by someone else at the same moment; reload it and try again."
        if wants_problem_json(request):
            return problem(409, "Conflict", detail)
        return _html(409, "Conflict", detail)

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


def _html(status: int, title: str, detail: str | None):
    return render_template("error.html", status=status, title=title, detail=detail), status
