"""Telephony use cases: operators' extensions and lines, recording what the PBX reports, the call
log and the call-back list, click-to-call."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session

from frontoffice import audit
from frontoffice.db import execute_fast, utcnow
from frontoffice.errors import Conflict, InvalidInput, NotFound, field_error
from frontoffice.models import User
from frontoffice.phones import InvalidPhone, display_phone, normalize_phone
from orders.models import Order
from telephony import calls
from telephony.calls import CallAnswered, CallEnded, CallFact, CallRinging, CallStarted
from telephony.models import Call, OperatorExtension, PhoneLine

EXTENSION_RE = re.compile(r"^[0-9]{2,10}$")
#: An order placed this long after a call ended still counts as taken during it (the operator
#: finishes typing after the client hung up).
ORDER_GRACE = dt.timedelta(minutes=10)


# --- extensions and lines ---------------------------------------------------------------------


def extension_map(session: Session) -> dict[str, int]:
    """Every operator's extension → the operator's user id."""
    return dict(session.execute(select(OperatorExtension.extension, OperatorExtension.user_id)).all())


def extension_of(session: Session, user_id: int) -> str | None:
    """The extension of a user, None when they have none."""
    return session.scalar(select(OperatorExtension.extension).where(OperatorExtension.user_id == user_id))


def set_extension(session: Session, user_id: int, extension: str) -> OperatorExtension | None:
    """Give a user an extension (an empty one takes theirs away); None when they have none left."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"There is no user {user_id}.")
    extension = (extension or "").strip()
    current = session.scalar(select(OperatorExtension).where(OperatorExtension.user_id == user_id))
    before = audit.state(current, ["extension"]) if current else None
    if not extension:
        if current is not None:
            session.delete(current)
            audit.record(session, "delete", audit.Entity.OPERATOR_EXTENSION, user_id, before, None)
        return None
    if not EXTENSION_RE.match(extension):
        raise InvalidInput(
            "An extension is 2 to 10 digits.",
            errors=[field_error("extension", "An extension is 2 to 10 digits.", "extension_format")],
        )
    holder = session.scalar(select(OperatorExtension).where(OperatorExtension.extension == extension))
    if holder is not None and holder.user_id != user_id:
        raise InvalidInput(
            f"Extension {extension} already rings another operator.",
            errors=[
                field_error("extension", "This extension already rings another operator.", "extension_taken")
            ],
        )
    if current is None:
        current = OperatorExtension(user_id=user_id, extension=extension)
        session.add(current)
    current.extension = extension
    session.flush()
    audit.record(
        session,
        "update" if before else "create",
        audit.Entity.OPERATOR_EXTENSION,
        user_id,
        before,
        {"extension": extension},
    )
    return current


def list_lines(session: Session) -> list[PhoneLine]:
    """The lines clients call, by number."""
    return list(session.scalars(select(PhoneLine).order_by(PhoneLine.number)))


def add_line(session: Session, number: str, name: str) -> PhoneLine:
    """Name a number clients call (``+7 843 200-10-10`` → ``Pizza Kazan``)."""
    errors = []
    key = calls.digits(number)
    if not 3 <= len(key) <= 20:
        errors.append(field_error("number", "A line is a number of 3 to 20 digits.", "line_format"))
    name = (name or "").strip()
    if not name or len(name) > 200:
        errors.append(field_error("name", "Name the line in 1 to 200 characters.", "name_missing"))
    if not errors and session.scalar(select(PhoneLine.id).where(PhoneLine.number == key)):
        errors.append(field_error("number", "This line is already named.", "line_taken"))
    if errors:
        raise InvalidInput("The line was not added.", errors=errors)
    line = PhoneLine(number=key, name=name)
    session.add(line)
    session.flush()
    audit.record(
        session, "create", audit.Entity.PHONE_LINE, line.id, None, audit.state(line, ["number", "name"])
    )
    return line


def remove_line(session: Session, line_id: int) -> None:
    """Forget a line's name (its calls keep the number)."""
    line = session.get(PhoneLine, line_id)
    if line is None:
        raise NotFound(f"There is no line {line_id}.")
    audit.record(
        session, "delete", audit.Entity.PHONE_LINE, line_id, audit.state(line, ["number", "name"]), None
    )
    session.delete(line)


def line_names(session: Session) -> dict[str, str]:
    """Line number → its name."""
    return dict(session.execute(select(PhoneLine.number, PhoneLine.name)).all())


# --- what the PBX reports ---------------------------------------------------------------------


@dataclass(frozen=True)
class Ring:
    """An operator's phone rings with a client's call: what their workspace is told."""

    user_id: int
    call_id: int
    phone: str | None
    display: str
    anonymous: bool
    line: str
    line_name: str


def _caller(raw: str, region: str) -> tuple[str | None, bool]:
    if calls.is_withheld(raw):
        return None, True
    try:
        return normalize_phone(raw, region), False
    except InvalidPhone:
        return None, False


def record_facts(session: Session, source: str, facts: list[CallFact], region: str = "RU") -> list[Ring]:
    """Apply what the PBX reported (idempotent: a fact seen twice changes nothing more); returns
    the rings to show operators."""
    rings: list[Ring] = []
    if not facts:
        return rings
    extensions = extension_map(session)
    for fact in facts:
        call = session.scalar(select(Call).where(Call.source == source, Call.external_id == fact.key))
        if isinstance(fact, CallStarted):
            if call is None:
                caller, anonymous = _caller(fact.number, region)
                call = Call(
                    source=source,
                    external_id=fact.key,
                    direction=fact.direction,
                    caller=caller,
                    raw_number=(fact.number or "")[:40] if not anonymous else "",
                    anonymous=anonymous,
                    line=fact.line[:20],
                    extension=fact.extension,
                    user_id=extensions.get(fact.extension),
                    status=calls.RINGING,
                    started_at=fact.at,
                )
                session.add(call)
                session.flush()
            continue
        if call is None or call.status in calls.FINAL:
            continue  # a fact about a call we never saw start, or one already over
        if isinstance(fact, CallRinging) and call.status == calls.RINGING:
            call.rang = True
            call.extension = fact.extension
            call.user_id = extensions.get(fact.extension)
            if call.user_id is not None and call.direction == calls.INBOUND:
                rings.append(_ring(session, call))
        elif isinstance(fact, CallAnswered) and call.answered_at is None:
            call.status = calls.TALKING
            call.answered_at = fact.at
            call.extension = fact.extension
            call.user_id = extensions.get(fact.extension)
            if call.caller:
                _close_callbacks(session, call.caller, fact.at)
        elif isinstance(fact, CallEnded):
            _end(call, fact.at)
    return rings


def _ring(session: Session, call: Call) -> Ring:
    names = line_names(session) if call.line else {}
    return Ring(
        user_id=call.user_id or 0,
        call_id=call.id,
        phone=call.caller,
        display=display_phone(call.caller) if call.caller else call.raw_number,
        anonymous=call.anonymous,
        line=call.line,
        line_name=names.get(call.line, ""),
    )


def _end(call: Call, at: dt.datetime) -> None:
    call.ended_at = max(at, call.started_at)
    call.status = calls.outcome(call.answered_at is not None, call.rang)
    if call.answered_at is not None:
        call.duration_s = max(0, int((call.ended_at - call.answered_at).total_seconds()))


def _close_callbacks(session: Session, caller: str, at: dt.datetime) -> None:
    session.execute(
        update(Call)
        .where(
            Call.caller == caller,
            Call.status.in_([calls.MISSED, calls.ABANDONED]),
            Call.called_back_at.is_(None),
        )
        .values(called_back_at=at)
    )


def settle_calls(session: Session, source: str, open_keys: set[str], at: dt.datetime) -> int:
    """Calls of ``source`` recorded as going on that the PBX no longer has ended while nobody
    listened: log them as ended now. Returns how many."""
    going = session.scalars(
        select(Call).where(Call.source == source, Call.status.in_([calls.RINGING, calls.TALKING]))
    ).all()
    ended = 0
    for call in going:
        if call.external_id not in open_keys:
            _end(call, at)
            ended += 1
    return ended


def link_order(
    session: Session, order_id: int, client_phone: str, actor_id: int | None, placed_at: dt.datetime
) -> int | None:
    """Link an order to the call it was taken during: the operator's answered call (or the
    client's) going on when it was placed, or ended at most ``ORDER_GRACE`` before. Returns the
    call's id."""
    params = {"placed_at": placed_at, "ended_after": placed_at - ORDER_GRACE}
    candidates = []
    if actor_id is not None:
        candidates.append((_CALL_OF_OPERATOR, {**params, "match": actor_id}))
    if client_phone:
        candidates.append((_CALL_OF_CALLER, {**params, "match": client_phone}))
    for query, args in candidates:
        call_id = execute_fast(session, query, args).scalar()
        if call_id is not None:
            execute_fast(session, _LINK_CALL, {"call_id": call_id, "linked_order": order_id})
            return call_id
    return None


def _call_taking(match: Any) -> Any:
    """The newest answered call matching ``match`` that was going on when an order was placed
    (``placed_at``) or ended after ``ended_after``, with no order yet: built once (it runs for every
    order placed)."""
    placed_at = bindparam("placed_at", type_=Call.answered_at.type)
    ended_after = bindparam("ended_after", type_=Call.ended_at.type)
    return (
        select(Call.id)
        .where(
            match,
            Call.answered_at.is_not(None),
            Call.order_id.is_(None),
            Call.answered_at <= placed_at,
            (Call.ended_at.is_(None)) | (Call.ended_at >= ended_after),
        )
        .order_by(Call.answered_at.desc())
        .limit(1)
    )


_CALL_OF_OPERATOR = _call_taking(Call.user_id == bindparam("match"))
_CALL_OF_CALLER = _call_taking(Call.caller == bindparam("match"))
_LINK_CALL = (
    update(Call)
    .where(Call.id == bindparam("call_id"))
    .values(order_id=bindparam("linked_order"))
    .execution_options(synchronize_session=False)
)


# --- reading ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CallRow:
    """One call as the log shows it."""

    call: Call
    operator: str
    line_name: str
    order_number: str | None
    order_date: dt.date | None


def call_log(
    session: Session, since: dt.datetime, until: dt.datetime, status: str | None = None, limit: int = 500
) -> list[CallRow]:
    """The calls that started in [since, until), newest first."""
    query = (
        select(Call, User.full_name, Order.number, Order.business_date)
        .outerjoin(User, User.id == Call.user_id)
        .outerjoin(Order, Order.id == Call.order_id)
        .where(Call.started_at >= since, Call.started_at < until)
        .order_by(Call.started_at.desc(), Call.id.desc())
        .limit(limit)
    )
    if status:
        query = query.where(Call.status == status)
    names = line_names(session)
    return [
        CallRow(call, name or "", names.get(call.line, ""), number, day)
        for call, name, number, day in session.execute(query).all()
    ]


@dataclass(frozen=True)
class Callback:
    """A client to call back: their latest missed call, and how many they made."""

    call: Call
    attempts: int
    line_name: str


def callbacks(session: Session, limit: int = 200) -> list[Callback]:
    """Clients whose calls nobody took and nobody returned, latest first (withheld numbers cannot
    be called back and are not listed)."""
    open_calls = (
        select(Call.caller, func.max(Call.id).label("last_id"), func.count().label("n"))
        .where(
            Call.direction == calls.INBOUND,
            Call.status.in_([calls.MISSED, calls.ABANDONED]),
            Call.caller.is_not(None),
            Call.called_back_at.is_(None),
        )
        .group_by(Call.caller)
        .subquery()
    )
    rows = session.execute(
        select(Call, open_calls.c.n)
        .join(open_calls, open_calls.c.last_id == Call.id)
        .order_by(Call.started_at.desc())
        .limit(limit)
    ).all()
    names = line_names(session)
    return [Callback(call, n, names.get(call.line, "")) for call, n in rows]


# --- click-to-call ----------------------------------------------------------------------------


@dataclass(frozen=True)
class DialRequest:
    """Ring this extension, then dial this number."""

    extension: str
    phone: str

    @property
    def digits(self) -> str:
        """The number as PBXes dial it (E.164 without ``+``)."""
        return self.phone.lstrip("+")


def prepare_dial(session: Session, user_id: int, phone: str, region: str = "RU") -> DialRequest:
    """Check a click-to-call: a number that is a phone, an operator with an extension."""
    try:
        e164 = normalize_phone(phone, region)
    except InvalidPhone as exc:
        raise InvalidInput(
            "This is not a phone number.", errors=[field_error("phone", str(exc), "invalid_phone")]
        ) from None
    extension = extension_of(session, user_id)
    if extension is None:
        raise Conflict(
            "You have no extension: an admin gives you one on the staff pages (Telephony).",
            code="no_extension",
        )
    return DialRequest(extension, e164)


def mark_called_back(session: Session, phone: str, at: dt.datetime | None = None) -> int:
    """Take a client's missed calls off the call-back list (they are being called back)."""
    result = session.execute(
        update(Call)
        .where(
            Call.caller == phone,
            Call.status.in_([calls.MISSED, calls.ABANDONED]),
            Call.called_back_at.is_(None),
        )
        .values(called_back_at=at or utcnow())
    )
    return result.rowcount or 0


def get_call(session: Session, call_id: int) -> Call:
    """One call."""
    call = session.get(Call, call_id)
    if call is None:
        raise NotFound(f"There is no call {call_id}.")
    return call
