"""The JSON endpoint decorator: roles, pydantic parsing, idempotency, serialization, OpenAPI.

Every JSON endpoint of every package is declared with :func:`endpoint`, so the roles
it admits, its request and response models and its idempotency are stated in one
place; the OpenAPI document and the role-matrix test both read them from here.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, request
from pydantic import BaseModel, ValidationError
from sqlalchemy import delete, select, update
from werkzeug.exceptions import HTTPException, UnsupportedMediaType

from frontoffice.auth import csrf_exempt, require_roles
from frontoffice.db import upsert, utcnow
from frontoffice.errors import Conflict, DomainError, InvalidInput, problem
from frontoffice.guards import json_body
from frontoffice.models import IdempotencyRecord

MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
IDEMPOTENCY_HEADER = "Idempotency-Key"


@dataclass(frozen=True)
class EndpointSpec:
    """What one JSON endpoint accepts, answers and who may call it."""

    method: str
    roles: frozenset[str]
    summary: str
    tags: tuple[str, ...] = ()
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    response: Any = None
    status: int = 200
    public: bool = False
    idempotent: bool = False
    description: str = ""
    errors: tuple[int, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)


def validation_errors(err: ValidationError, prefix: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
    """Pydantic errors as a list of ``{field, message, type}`` for problem+json ``errors``."""
    out = []
    for e in err.errors(include_url=False):
        loc = [str(p) for p in (*prefix, *e["loc"])]
        out.append({"field": ".".join(loc) or "body", "message": e["msg"], "type": e["type"]})
    return out


def parse_json_body() -> Any:
    """The request body as JSON: 415 for another content type, 400 when malformed or too deep, 422
    for a NUL character (see :func:`frontoffice.guards.json_body`)."""
    if request.mimetype != "application/json":
        raise UnsupportedMediaType(
            f"Send the body as application/json (got {request.mimetype or 'no content type'})."
        )
    return json_body(request.get_data(cache=True))


def parse_model(model: type[BaseModel], data: Any, where: str = "body") -> BaseModel:
    """Validate ``data`` against ``model``; 422 naming each bad field."""
    try:
        return model.model_validate(data)
    except ValidationError as err:
        raise InvalidInput(
            f"The {where} has {err.error_count()} invalid field(s).",
            errors=validation_errors(err, () if where == "body" else (where,)),
        ) from None


def parse_query(model: type[BaseModel]) -> BaseModel:
    """Validate the query string against ``model``."""
    data: dict[str, Any] = {}
    for key in request.args:
        values = request.args.getlist(key)
        data[key] = values if len(values) > 1 else values[0]
    return parse_model(model, data, "query")


def to_response(result: Any, status: int) -> Response:
    """Serialize a view's result: a model, a list of models, a dict, a Response, or None (204)."""
    if isinstance(result, Response):
        return result
    if isinstance(result, tuple):
        result, status = result
    if result is None:
        return Response(status=204)
    if isinstance(result, BaseModel):
        payload = result.model_dump(mode="json")
    elif isinstance(result, list):
        payload = [r.model_dump(mode="json") if isinstance(r, BaseModel) else r for r in result]
    else:
        payload = result
    resp = jsonify(payload)
    resp.status_code = status
    return resp


def endpoint(
    bp: Blueprint,
    rule: str,
    *,
    method: str = "GET",
    roles: Iterable[str] = (),
    summary: str,
    tags: Iterable[str] = (),
    body: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    response: Any = None,
    status: int = 200,
    public: bool = False,
    idempotent: bool | None = None,
    errors: Iterable[int] = (),
    description: str = "",
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare a JSON endpoint on ``bp``.

    The view receives path parameters, plus ``body``/``query`` (validated models) and
    ``actor`` (the calling user) when its signature names them. Mutating endpoints
    honour ``Idempotency-Key`` unless ``idempotent=False``.
    """
    method = method.upper()
    spec = EndpointSpec(
        method=method,
        roles=frozenset(roles),
        summary=summary,
        tags=tuple(tags),
        body=body,
        query=query,
        response=response,
        status=status,
        public=public,
        idempotent=(method in MUTATING) if idempotent is None else idempotent,
        errors=tuple(errors),
        description=description,
    )
    if not public and not spec.roles:
        raise ValueError(f"endpoint {rule} must name its roles or be public")

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        wanted = set(inspect.signature(fn).parameters)

        @functools.wraps(fn)
        def view(**path_kwargs: Any) -> Response:
            actor = None if public else require_roles(spec.roles)
            kwargs = dict(path_kwargs)
            if body is not None:
                kwargs["body"] = parse_model(body, parse_json_body())
            if query is not None:
                kwargs["query"] = parse_query(query)
            if "actor" in wanted:
                kwargs["actor"] = actor

            def run() -> Response:
                return to_response(fn(**kwargs), status)

            key = request.headers.get(IDEMPOTENCY_HEADER)
            if spec.idempotent and key and actor is not None:
                return _idempotent(actor.id, key.strip(), run)
            return run()

        view.api_spec = spec  # type: ignore[attr-defined]
        if public:
            # A public endpoint authenticates by other means (device id, password in the body).
            csrf_exempt(view)
        bp.add_url_rule(rule, endpoint=fn.__name__, view_func=view, methods=[method])
        return view

    return decorate


# --- idempotency -----------------------------------------------------------------------------


def _fingerprint() -> str:
    h = hashlib.sha256()
    h.update(request.method.encode())
    h.update(b"\0")
    h.update(request.path.encode())
    h.update(b"\0")
    h.update(request.get_data(cache=True))
    return h.hexdigest()


def _idempotent(user_id: int, key: str, run: Callable[[], Response]) -> Response:
    if not key or len(key) > 200:
        raise InvalidInput("The Idempotency-Key header must have 1 to 200 characters.")
    db = current_app.extensions["frontoffice"].db
    fingerprint = _fingerprint()
    table = IdempotencyRecord.__table__
    with db.unit_of_work() as s:
        inserted = s.execute(
            upsert(
                s,
                table,
                {"user_id": user_id, "key": key, "fingerprint": fingerprint, "created_at": utcnow()},
                ["user_id", "key"],
            ).returning(table.c.id)
        ).first()
        existing = None
        if inserted is None:
            existing = s.execute(
                select(IdempotencyRecord).where(
                    IdempotencyRecord.user_id == user_id, IdempotencyRecord.key == key
                )
            ).scalar_one()
    if existing is not None:
        if existing.fingerprint != fingerprint:
            raise InvalidInput("This Idempotency-Key was already used for a different request.")
        if existing.status_code is None:
            raise Conflict("A request with this Idempotency-Key is still being processed; retry shortly.")
        resp = Response(
            existing.response_body or "",
            status=existing.status_code,
            mimetype=existing.response_mimetype or "application/json",
        )
        resp.headers["Idempotent-Replayed"] = "true"
        return resp

    where = (IdempotencyRecord.user_id == user_id, IdempotencyRecord.key == key)
    try:
        resp = run()
    except DomainError as err:
        resp = problem(err.status, err.title, err.detail, errors=err.errors, **err.extra)
    except HTTPException as err:
        if err.code is None or err.code >= 500:
            _forget(db, where)
            raise
        resp = problem(err.code, err.name, err.description)
    except BaseException:
        _forget(db, where)
        raise
    if resp.status_code >= 500:
        _forget(db, where)
        return resp
    with db.unit_of_work() as s:
        s.execute(
            update(IdempotencyRecord)
            .where(*where)
            .values(
                status_code=resp.status_code,
                response_body=resp.get_data(as_text=True),
                response_mimetype=resp.mimetype,
            )
        )
    g.idempotency_stored = True
    return resp


def _forget(db: Any, where: tuple[Any, ...]) -> None:
    with db.unit_of_work() as s:
        s.execute(delete(IdempotencyRecord).where(*where))
