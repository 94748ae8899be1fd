"""Telephony over JSON: ``/api/v1/telephony`` — click-to-call, the call log, the call-back list,
extensions and lines, and Mango Office's signed notifications."""

from __future__ import annotations

import datetime as dt
import logging
from zoneinfo import ZoneInfo

from flask import Blueprint, request
from sqlalchemy import select

from frontoffice.api import endpoint
from frontoffice.db import utcnow
from frontoffice.errors import DomainError, Forbidden, NotFound
from frontoffice.kernel import current_kernel
from frontoffice.models import Role, User
from telephony import services
from telephony.adapters import PbxError
from telephony.adapters.mango import BadSignature, facts_of, verify
from telephony.ports import TELEPHONY
from telephony.schemas import (
    Accepted,
    CallbackList,
    CallbackOut,
    CallList,
    CallOut,
    CallQuery,
    DialIn,
    DialOut,
    ExtensionIn,
    ExtensionList,
    ExtensionOut,
    LineIn,
    LineList,
    LineOut,
)

log = logging.getLogger(__name__)

bp = Blueprint("telephony_api", __name__, url_prefix="/api/v1/telephony")

TAGS = ["telephony"]
#: Who calls clients and reads the call log.
CALLERS = frozenset({Role.OPERATOR, Role.MANAGER, Role.BACKOFFICE})
ADMIN = frozenset({Role.ADMIN})
#: The roles that take calls (the staff an extension may be given to).
ANSWERING_ROLES = (Role.OPERATOR, Role.MANAGER, Role.BACKOFFICE)
#: Mango's notifications this service reads; the others (recording, dtmf, sms …) are acknowledged.
MANGO_EVENTS = ("call", "summary")


class PbxUnavailable(DomainError):
    """No PBX is configured, or it did not take the command (503)."""

    status = 503
    title = "Service unavailable"


def day_bounds(day: dt.date, timezone: str) -> tuple[dt.datetime, dt.datetime]:
    """A business day as a UTC interval."""
    zone = ZoneInfo(timezone)
    start = dt.datetime.combine(day, dt.time(), zone)
    return start.astimezone(dt.UTC), (start + dt.timedelta(days=1)).astimezone(dt.UTC)


def today(timezone: str) -> dt.date:
    """Today in the business time zone."""
    return dt.datetime.now(ZoneInfo(timezone)).date()


def dial_phone(user_id: int, phone: str) -> services.DialRequest:
    """Ring the user's extension, then the client (both pages and the API call this)."""
    k = current_kernel()
    pbx = k.extensions.get(TELEPHONY).pbx
    with k.db.reading() as s:
        req = services.prepare_dial(s, user_id, phone, k.settings.phone_region)
    if pbx is None:
        raise PbxUnavailable("No telephone exchange is configured (FRONTOFFICE_TELEPHONY).", code="no_pbx")
    try:
        pbx.originate(req.extension, req.digits, f"fo-{user_id}-{utcnow():%H%M%S%f}")
    except PbxError as exc:
        log.warning("click-to-call failed: %s", exc.message)
        raise PbxUnavailable(exc.message, code="pbx_failed") from None
    with k.db.unit_of_work() as s:
        services.mark_called_back(s, req.phone)
    return req


@endpoint(
    bp,
    "/dial",
    method="POST",
    roles=CALLERS,
    body=DialIn,
    response=DialOut,
    status=202,
    idempotent=False,
    summary="Call a client from my extension",
    tags=TAGS,
    errors=(409, 422, 503),
    description="The PBX rings the caller's own extension (AMI Originate / Mango commands/callback), then "
    "dials the client. 409 `no_extension`: the user has no extension; 422: not a phone number; 503 "
    "`no_pbx` or `pbx_failed`: no PBX configured, or it did not take the command. The client's missed "
    "calls leave the call-back list.",
)
def dial(body: DialIn, actor: User) -> DialOut:
    """Click-to-call."""
    req = dial_phone(actor.id, body.phone)
    return DialOut(extension=req.extension, phone=req.phone)


def call_out(row: services.CallRow) -> CallOut:
    """A call as the API shows it."""
    c = row.call
    return CallOut(
        id=c.id,
        source=c.source,
        direction=c.direction,
        phone=c.caller,
        anonymous=c.anonymous,
        line=c.line,
        line_name=row.line_name,
        extension=c.extension,
        operator=row.operator,
        status=c.status,
        started_at=c.started_at,
        answered_at=c.answered_at,
        ended_at=c.ended_at,
        duration_s=c.duration_s,
        order_id=c.order_id,
        order_number=row.order_number,
    )


@endpoint(bp, "/calls", roles=CALLERS, query=CallQuery, response=CallList, summary="The call log", tags=TAGS)
def list_calls(query: CallQuery) -> CallList:
    """The calls of one business day, newest first, with their outcome, duration and order."""
    k = current_kernel()
    since, until = day_bounds(query.day or today(k.settings.timezone), k.settings.timezone)
    with k.db.reading() as s:
        rows = services.call_log(s, since, until, query.status)
    return CallList(items=[call_out(r) for r in rows])


@endpoint(bp, "/callbacks", roles=CALLERS, response=CallbackList, summary="The call-back list", tags=TAGS)
def list_callbacks() -> CallbackList:
    """Clients whose calls nobody answered or returned, latest first."""
    with current_kernel().db.reading() as s:
        items = [
            CallbackOut(
                call_id=cb.call.id,
                phone=cb.call.caller or "",
                line=cb.call.line,
                line_name=cb.line_name,
                status=cb.call.status,
                last_call_at=cb.call.started_at,
                attempts=cb.attempts,
            )
            for cb in services.callbacks(s)
        ]
    return CallbackList(items=items)


def extension_rows(session) -> list[ExtensionOut]:
    """Staff who take calls, with their extensions."""
    by_user = {uid: ext for ext, uid in services.extension_map(session).items()}
    users = session.scalars(
        select(User).where(User.role.in_([str(r) for r in ANSWERING_ROLES])).order_by(User.username)
    )
    return [ExtensionOut(user_id=u.id, username=u.username, extension=by_user.get(u.id)) for u in users]


@endpoint(bp, "/extensions", roles=ADMIN, response=ExtensionList, summary="Operators' extensions", tags=TAGS)
def list_extensions() -> ExtensionList:
    """Every operator, manager and back-office user with their extension (or none)."""
    with current_kernel().db.reading() as s:
        return ExtensionList(items=extension_rows(s))


@endpoint(
    bp,
    "/extensions/<int:user_id>",
    method="PUT",
    roles=ADMIN,
    body=ExtensionIn,
    response=ExtensionOut,
    summary="Give a user an extension",
    tags=TAGS,
    errors=(404, 422),
    description="422 names `extension`: not 2 to 10 digits, or another user's. An empty one takes it away.",
)
def put_extension(user_id: int, body: ExtensionIn) -> ExtensionOut:
    """Set (or clear) the extension that rings on the user's desk."""
    k = current_kernel()
    with k.db.unit_of_work() as s:
        row = services.set_extension(s, user_id, body.extension)
        user = s.get(User, user_id)
        out = ExtensionOut(user_id=user_id, username=user.username, extension=row.extension if row else None)
    k.extensions.get(TELEPHONY).desk.forget_extensions()
    return out


@endpoint(bp, "/lines", roles=ADMIN, response=LineList, summary="Named lines", tags=TAGS)
def list_lines() -> LineList:
    """The numbers clients call, with their names."""
    with current_kernel().db.reading() as s:
        return LineList(
            items=[LineOut(id=x.id, number=x.number, name=x.name) for x in services.list_lines(s)]
        )


@endpoint(
    bp,
    "/lines",
    method="POST",
    roles=ADMIN,
    body=LineIn,
    response=LineOut,
    status=201,
    summary="Name a line",
    tags=TAGS,
    errors=(422,),
)
def create_line(body: LineIn) -> LineOut:
    """Name a number clients call (the workspace shows the name when it rings)."""
    with current_kernel().db.unit_of_work() as s:
        line = services.add_line(s, body.number, body.name)
        return LineOut(id=line.id, number=line.number, name=line.name)


@endpoint(
    bp,
    "/lines/<int:line_id>",
    method="DELETE",
    roles=ADMIN,
    status=204,
    summary="Forget a line",
    tags=TAGS,
    errors=(404,),
)
def delete_line(line_id: int) -> None:
    """Forget a line's name."""
    with current_kernel().db.unit_of_work() as s:
        services.remove_line(s, line_id)


@endpoint(
    bp,
    "/mango/events/<string:kind>",
    method="POST",
    public=True,
    idempotent=False,
    response=Accepted,
    summary="Mango Office notification",
    tags=TAGS,
    errors=(403, 404),
    description="Mango Office's VPBX posts a form of `vpbx_api_key`, `json` and `sign` = sha256(key + json + "
    "salt). A wrong key or signature is 403 `bad_signature` and changes nothing. `call` and `summary` "
    "are read; other notifications are acknowledged with accepted=false.",
)
def mango_event(kind: str) -> Accepted:
    """Record what Mango reports about a call, ring the operator's workspace."""
    k = current_kernel()
    telephony = k.extensions.get(TELEPHONY)
    if telephony.mango is None:
        raise NotFound("Mango Office is not the configured telephone exchange.")
    try:
        data = verify(telephony.mango, request.form)
    except BadSignature as exc:
        log.warning("Mango notification refused: %s", exc)
        raise Forbidden(str(exc), code="bad_signature") from None
    if kind not in MANGO_EVENTS:
        return Accepted(accepted=False)
    facts = facts_of(kind, data, telephony.desk.is_extension, utcnow())
    telephony.desk.record("mango", facts)
    return Accepted(accepted=bool(facts))
