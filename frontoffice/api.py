"""The JSON endpoint decorator: roles, pydantic parsing, idempotency, serialization, OpenAPI.

Every JSON endpoint of every package is declared with :func:`endpoint`, so the roles
it admits, its request and response models and its idempotency are stated in one
place; the OpenAPI document and the role-matrix test both read them from here.
"""

from __future__ import annotations

import datetime as dt
import functools
import inspect
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from pydantic import BaseModel, ValidationError
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException, UnsupportedMediaType

from frontoffice import idempotency
from frontoffice.auth import csrf_exempt, require_roles
from frontoffice.db import upsert, utcnow
from frontoffice.errors import Conflict, DomainError, Forbidden, InvalidInput, problem, problem_of
from frontoffice.guards import json_body
from frontoffice.idempotency import Verdict
from frontoffice.models import IdempotencyRecord

log = logging.getLogger(__name__)

MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: The answer to a user whose password an admin reset, until they choose a new one.
PASSWORD_CHANGE_FIRST = (
    "An admin reset your password: choose a new one first (POST /api/v1/account/password, "
    "or log in to the pages)."
)
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
    #: Callable by a user who must change their password first (changing it, logging out).
    before_password_change: bool = False
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
        # pydantic writes the JSON itself (in the model's field order, UTF-8): no dict in between.
        return current_app.response_class(
            result.model_dump_json() + "\n", status=status, mimetype="application/json"
        )
    if isinstance(result, list):
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
    before_password_change: bool = False,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare a JSON endpoint on ``bp``.

    The view receives path parameters, plus ``body``/``query`` (validated models) and
    ``actor`` (the calling user) when its signature names them. Mutating endpoints
    honour ``Idempotency-Key`` unless ``idempotent=False``. A user whose password an admin reset
    gets 403 everywhere but where ``before_password_change`` is set.
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
        before_password_change=before_password_change,
    )
    if not public and not spec.roles:
        raise ValueError(f"endpoint {rule} must name its roles or be public")

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        wanted = set(inspect.signature(fn).parameters)

        @functools.wraps(fn)
        def view(**path_kwargs: Any) -> Response:
            actor = None if public else require_roles(spec.roles)
            if actor is not None and actor.must_change_password and not spec.before_password_change:
                raise Forbidden(PASSWORD_CHANGE_FIRST, code="password_change_required")
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


# --- idempotency (the rules: frontoffice.idempotency) ----------------------------------------


@dataclass(frozen=True)
class _Claim:
    """This request's hold on its key: the record and the attempt number it claimed."""

    record_id: int
    attempt: int


class _NotKept(Exception):
    """The call's transaction is rolled back and its answer not recorded."""

    def __init__(self, response: Response | None = None):
        super().__init__()
        self.response = response


def _idempotent(user_id: int, key: str, run: Callable[[], Response]) -> Response:
    """Run the call once per (user, key): its writes and its recorded answer commit together, in
    one transaction, or neither does; a retry replays the answer, waits for a call in flight, or
    takes over an attempt that stopped answering."""
    if (why := idempotency.key_problem(key)) is not None:
        raise InvalidInput(why)
    kernel = current_app.extensions["frontoffice"]
    db = kernel.db
    fingerprint = idempotency.fingerprint(request.method, request.path, request.get_data(cache=True))
    takeover_after = dt.timedelta(seconds=kernel.settings.idempotency_takeover_s)
    claim = _claim(db, user_id, key, fingerprint, takeover_after)
    if isinstance(claim, Response):
        return claim
    try:
        with db.one_transaction() as s:
            resp = _answer(run)
            if resp.status_code >= 500:  # our fault: keep nothing, let a retry run the call again
                raise _NotKept(resp)
            if not _record_answer(s, claim, resp):
                # A retry took the key over while this attempt ran too long: its answer wins.
                raise _NotKept()
    except _NotKept as dropped:
        if dropped.response is not None:
            _release(db, claim)
            return dropped.response
        return _answer_of_successor(db, user_id, key, fingerprint, takeover_after)
    except BaseException:
        _release(db, claim)
        raise
    return resp


def _answer(run: Callable[[], Response]) -> Response:
    """The call's answer; the problems it raises for the caller (4xx) are answers too."""
    try:
        return run()
    except DomainError as err:
        return problem_of(err)
    except HTTPException as err:
        if err.code is None or err.code >= 500:
            raise
        return problem(err.code, err.name, err.description)


def _claim(
    db: Any, user_id: int, key: str, fingerprint: str, takeover_after: dt.timedelta
) -> _Claim | Response:
    """Claim the key (a new record, or the takeover of a dead attempt), or the answer the caller
    gets instead: the recorded one, 409 while the first call runs, 422 for another request."""
    table = IdempotencyRecord.__table__
    now = utcnow()
    with db.unit_of_work() as s:
        inserted = s.execute(
            upsert(
                s,
                table,
                {
                    "user_id": user_id,
                    "key": key,
                    "fingerprint": fingerprint,
                    "created_at": now,
                    "locked_at": now,
                },
                ["user_id", "key"],
            ).returning(table.c.id)
        ).first()
        if inserted is not None:
            return _Claim(inserted.id, 1)
        record = _find(s, user_id, key)
        verdict = idempotency.judge(_found(record), fingerprint, now, takeover_after)
        if verdict is Verdict.TAKE_OVER:
            ours = _Claim(record.id, record.attempt + 1)
            took = s.execute(
                update(IdempotencyRecord)
                .where(
                    IdempotencyRecord.id == record.id,
                    IdempotencyRecord.attempt == record.attempt,
                    IdempotencyRecord.status_code.is_(None),
                )
                .values(attempt=ours.attempt, locked_at=now)
                .execution_options(synchronize_session=False)
            ).rowcount
            if took:
                return ours
            # Another retry took it over, or the attempt answered, between our read and write.
            s.expire(record)
            verdict = idempotency.judge(_found(record), fingerprint, now, takeover_after)
    return _verdict_answer(verdict, record)


def _find(s: Session, user_id: int, key: str) -> IdempotencyRecord:
    return s.execute(
        select(IdempotencyRecord).where(IdempotencyRecord.user_id == user_id, IdempotencyRecord.key == key)
    ).scalar_one()


def _found(record: IdempotencyRecord) -> idempotency.Found:
    return idempotency.Found(
        fingerprint=record.fingerprint,
        answered=record.status_code is not None,
        started_at=record.locked_at or record.created_at,
    )


def _verdict_answer(verdict: Verdict, record: IdempotencyRecord) -> Response:
    if verdict is Verdict.MISMATCH:
        raise InvalidInput("This Idempotency-Key was already used for a different request.")
    if verdict is Verdict.REPLAY:
        resp = Response(
            record.response_body or "",
            status=record.status_code,
            mimetype=record.response_mimetype or "application/json",
        )
        resp.headers["Idempotent-Replayed"] = "true"
        return resp
    raise Conflict(
        "A request with this Idempotency-Key is still being processed; retry shortly.",
        headers={"Retry-After": "1"},
    )


def _record_answer(s: Session, claim: _Claim, resp: Response) -> bool:
    """Write the answer in the call's own transaction, if this attempt still holds the key."""
    return bool(
        s.execute(
            update(IdempotencyRecord)
            .where(
                IdempotencyRecord.id == claim.record_id,
                IdempotencyRecord.attempt == claim.attempt,
                IdempotencyRecord.status_code.is_(None),
            )
            .values(
                status_code=resp.status_code,
                response_body=resp.get_data(as_text=True),
                response_mimetype=resp.mimetype,
            )
        ).rowcount
    )


def _answer_of_successor(
    db: Any, user_id: int, key: str, fingerprint: str, takeover_after: dt.timedelta
) -> Response:
    with db.reading() as s:
        record = _find(s, user_id, key)
    return _verdict_answer(idempotency.judge(_found(record), fingerprint, utcnow(), takeover_after), record)


def _release(db: Any, claim: _Claim) -> None:
    """Give the key up after a call whose work was rolled back, so a retry runs it at once. When
    the database is what failed this may fail too: then the retry takes the key over later."""
    try:
        with db.unit_of_work() as s:
            s.execute(
                delete(IdempotencyRecord).where(
                    IdempotencyRecord.id == claim.record_id,
                    IdempotencyRecord.attempt == claim.attempt,
                    IdempotencyRecord.status_code.is_(None),
                )
            )
    except Exception:
        log.warning("idempotency record %s left for a takeover", claim.record_id, exc_info=True)
