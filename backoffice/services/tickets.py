"""Ticket use cases: open from a dossier or an order, comment, assign, move, list the queue."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from backoffice import sla
from backoffice.events import TicketResolved
from backoffice.models import Ticket, TicketEvent
from backoffice.sla import TicketKind, TicketStatus
from frontoffice.db import publish, utcnow
from frontoffice.errors import Conflict, InvalidInput, NotFound, field_error
from frontoffice.models import Role, User
from frontoffice.phones import InvalidPhone, normalize_phone
from orders.models import Order

MAX_BODY = 5000


def open_ticket(
    session: Session,
    *,
    kind: str,
    subject: str,
    body: str = "",
    client_phone: str = "",
    order_number: str = "",
    order_date: dt.date | None = None,
    order_id: int | None = None,
    actor_id: int | None = None,
    region: str = "RU",
    sla_minutes: Mapping[str, int] | None = None,
    now: dt.datetime | None = None,
) -> Ticket:
    """Open a ticket about a client (by phone) or an order, with the SLA deadline of its kind.

    People name an order by its number and business day (``KZ1-007`` of 2026-12-05:
    :func:`find_order`); ``order_id`` is for callers that hold the order itself.
    """
    errors = []
    if kind not in {k.value for k in TicketKind}:
        errors.append(field_error("kind", f"must be one of {', '.join(k.value for k in TicketKind)}"))
    subject = (subject or "").strip()
    if not 1 <= len(subject) <= 200:
        errors.append(field_error("subject", "must have 1 to 200 characters"))
    body = (body or "").strip()
    if len(body) > MAX_BODY:
        errors.append(field_error("body", f"must have at most {MAX_BODY} characters"))
    phone = ""
    if (client_phone or "").strip():
        try:
            phone = normalize_phone(client_phone, region)
        except InvalidPhone as exc:
            errors.append(field_error("client_phone", str(exc)))
    order = None
    if order_id is not None:
        order = session.get(Order, order_id)
        if order is None:
            errors.append(field_error("order_id", f"there is no order {order_id}"))
    elif (order_number or "").strip() or order_date is not None:
        order, problems = _named_order(session, order_number, order_date)
        errors += problems
    if not phone and order is None and not any(e["field"] in ORDER_FIELDS for e in errors):
        errors.append(field_error("client_phone", "name the client's phone or the order"))
    if errors:
        raise InvalidInput(
            "The ticket cannot be opened: " + "; ".join(f"{e['field']}: {e['message']}" for e in errors),
            errors=errors,
        )
    if order is not None and not phone:
        phone = order.client_phone
    now = now or utcnow()
    ticket = Ticket(
        kind=kind,
        status=TicketStatus.OPEN,
        subject=subject,
        body=body,
        client_phone=phone,
        order_id=order.id if order is not None else None,
        created_by=actor_id,
        created_at=now,
        updated_at=now,
        due_at=sla.due_at(kind, now, sla_minutes),
    )
    ticket.events = [
        TicketEvent(at=now, actor_id=actor_id, kind="created", to_status=TicketStatus.OPEN, body=body)
    ]
    session.add(ticket)
    session.flush()
    return ticket


#: The fields a ticket names its order or client by.
ORDER_FIELDS = frozenset({"client_phone", "order_id", "order_number", "order_date"})


def normal_number(number: str) -> str:
    """An order number as typed, the way it is stored (``kz1-7`` stays ``KZ1-7``: only case and
    spaces are forgiven)."""
    return "".join((number or "").split()).upper()


def find_order(session: Session, number: str, day: dt.date) -> Order | None:
    """The order with this number on this business day (numbers start again every day)."""
    return session.scalar(
        select(Order).where(Order.number == normal_number(number), Order.business_date == day).limit(1)
    )


def _named_order(session: Session, number: str, day: dt.date | None) -> tuple[Order | None, list]:
    """The order named by number and day, or the problems of naming it."""
    number = normal_number(number)
    if not number:
        return None, [field_error("order_number", "give the order's number with its date", "required")]
    if day is None:
        return None, [
            field_error(
                "order_date", f"give the date of order {number}: numbers start again every day", "required"
            )
        ]
    order = find_order(session, number, day)
    if order is None:
        return None, [
            field_error(
                "order_number",
                f"there is no order {number} of {day.isoformat()}",
                "unknown_order",
                number=number,
                date=day.isoformat(),
            )
        ]
    return order, []


def get_ticket(session: Session, ticket_id: int) -> Ticket:
    """The ticket, or :class:`NotFound`."""
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        raise NotFound(f"There is no ticket {ticket_id}.")
    return ticket


def _flush(session: Session, ticket_id: int) -> None:
    try:
        session.flush()
    except StaleDataError:
        raise Conflict(
            f"Ticket {ticket_id} was changed at the same moment by someone else; reload it."
        ) from None


def _check_version(ticket: Ticket, expected_version: int | None) -> None:
    if expected_version is not None and ticket.version != expected_version:
        raise Conflict(
            f"Ticket {ticket.id} was changed by someone else (version {ticket.version}, you had "
            f"{expected_version}); reload it.",
            current_version=ticket.version,
        )


def add_comment(
    session: Session, ticket_id: int, body: str, *, actor_id: int | None, now: dt.datetime | None = None
) -> TicketEvent:
    """Add a comment to the ticket's history."""
    body = (body or "").strip()
    if not 1 <= len(body) <= MAX_BODY:
        raise InvalidInput(
            "A comment needs some text.",
            errors=[field_error("body", f"must have 1 to {MAX_BODY} characters")],
        )
    ticket = get_ticket(session, ticket_id)
    now = now or utcnow()
    event = TicketEvent(at=now, actor_id=actor_id, kind="comment", body=body)
    ticket.events.append(event)
    ticket.updated_at = now
    _flush(session, ticket_id)
    return event


def _back_office_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None or not user.active or user.role != Role.BACKOFFICE:
        raise InvalidInput(
            "Tickets are assigned to active back-office staff only.",
            errors=[field_error("assignee_id", "not an active user with the backoffice role")],
        )
    return user


def assign_ticket(
    session: Session,
    ticket_id: int,
    assignee_id: int | None,
    *,
    actor_id: int | None,
    expected_version: int | None = None,
    now: dt.datetime | None = None,
) -> Ticket:
    """Give the ticket to a back-office person (or nobody), recorded in its history."""
    ticket = get_ticket(session, ticket_id)
    _check_version(ticket, expected_version)
    if ticket.status in sla.CLOSED_STATES:
        raise Conflict(f"Ticket {ticket.id} is {ticket.status}; it cannot be reassigned.")
    name = "nobody"
    if assignee_id is not None:
        name = _back_office_user(session, assignee_id).full_name
    if ticket.assignee_id == assignee_id:
        return ticket
    now = now or utcnow()
    history = ticket.events
    ticket.assignee_id = assignee_id
    ticket.updated_at = now
    history.append(TicketEvent(at=now, actor_id=actor_id, kind="assigned", body=f"Assigned to {name}."))
    _flush(session, ticket_id)
    return ticket


def move_ticket(
    session: Session,
    ticket_id: int,
    target: str,
    *,
    note: str = "",
    actor_id: int | None,
    expected_version: int | None = None,
    now: dt.datetime | None = None,
) -> Ticket:
    """Move a ticket through its states; closing needs a note, taking it into work assigns the taker."""
    try:
        to = TicketStatus(target)
    except ValueError:
        raise InvalidInput(
            f"Unknown ticket status {target!r}.",
            errors=[field_error("status", f"must be one of {', '.join(s.value for s in TicketStatus)}")],
        ) from None
    ticket = get_ticket(session, ticket_id)
    _check_version(ticket, expected_version)
    current = TicketStatus(ticket.status)
    try:
        sla.check_move(current, to)
    except sla.IllegalTicketMove as exc:
        raise Conflict(
            str(exc), allowed=[s.value for s in exc.allowed], current_status=current.value
        ) from None
    note = (note or "").strip()
    if to in sla.NEEDS_NOTE and not note:
        raise InvalidInput(
            f"Say how the ticket is {to.value.replace('_', ' ')}: the note goes to the client's dossier.",
            errors=[field_error("note", "required")],
        )
    if len(note) > MAX_BODY:
        raise InvalidInput(
            "The note is too long.", errors=[field_error("note", f"at most {MAX_BODY} characters")]
        )
    now = now or utcnow()
    history = ticket.events
    if to is TicketStatus.IN_PROGRESS and ticket.assignee_id is None and actor_id is not None:
        actor = session.get(User, actor_id)
        if actor is not None and actor.role == Role.BACKOFFICE:
            ticket.assignee_id = actor_id
    ticket.status = to
    ticket.updated_at = now
    if to in sla.CLOSED_STATES:
        ticket.closed_at = now
        ticket.resolution = note
    history.append(
        TicketEvent(at=now, actor_id=actor_id, kind="status", from_status=current, to_status=to, body=note)
    )
    _flush(session, ticket_id)
    if to is TicketStatus.RESOLVED:
        publish(
            session,
            TicketResolved(
                ticket_id=ticket.id,
                kind=ticket.kind,
                actor_id=actor_id,
                at=now,
                order_id=ticket.order_id,
                client_phone=ticket.client_phone,
            ),
        )
    return ticket


@dataclass(frozen=True)
class TicketFilter:
    """Filters of the ticket queue."""

    status: Sequence[str] = ()
    kind: str | None = None
    overdue: bool = False
    phone: str | None = None
    order_id: int | None = None
    order_number: str | None = None
    order_date: dt.date | None = None
    assignee_id: int | None = None
    page: int = 1
    per_page: int = 50


def list_tickets(
    session: Session, flt: TicketFilter, now: dt.datetime | None = None
) -> tuple[list[Ticket], int]:
    """A page of tickets, the most urgent first (earliest deadline), and how many match."""
    now = now or utcnow()
    conditions = []
    if flt.status:
        conditions.append(Ticket.status.in_(list(flt.status)))
    if flt.kind:
        conditions.append(Ticket.kind == flt.kind)
    if flt.overdue:
        conditions += [Ticket.status.in_(list(sla.OPEN_STATES)), Ticket.due_at < now]
    if flt.phone:
        conditions.append(Ticket.client_phone == flt.phone)
    if flt.order_id is not None:
        conditions.append(Ticket.order_id == flt.order_id)
    if flt.order_number:
        named = select(Order.id).where(Order.number == normal_number(flt.order_number))
        if flt.order_date is not None:
            named = named.where(Order.business_date == flt.order_date)
        conditions.append(Ticket.order_id.in_(named))
    if flt.assignee_id is not None:
        conditions.append(Ticket.assignee_id == flt.assignee_id)
    total = session.scalar(select(func.count()).select_from(Ticket).where(*conditions)) or 0
    rows = session.scalars(
        select(Ticket)
        .where(*conditions)
        .order_by(Ticket.due_at, Ticket.id)
        .limit(flt.per_page)
        .offset((flt.page - 1) * flt.per_page)
    ).all()
    return list(rows), total


def tickets_of_client(session: Session, phone: str, limit: int = 20) -> list[Ticket]:
    """A client's open tickets first, then the latest closed ones (for the dossier)."""
    open_rows = session.scalars(
        select(Ticket)
        .where(Ticket.client_phone == phone, Ticket.status.in_(list(sla.OPEN_STATES)))
        .order_by(Ticket.due_at)
        .limit(limit)
    ).all()
    closed_rows = session.scalars(
        select(Ticket)
        .where(Ticket.client_phone == phone, Ticket.status.in_(list(sla.CLOSED_STATES)))
        .order_by(Ticket.created_at.desc())
        .limit(max(0, min(5, limit - len(open_rows))))
    ).all()
    return [*open_rows, *closed_rows]


def queue_counts(session: Session, now: dt.datetime | None = None) -> dict[str, int]:
    """How many tickets are open, in progress and overdue."""
    now = now or utcnow()
    counts = dict.fromkeys(("open", "in_progress", "overdue"), 0)
    for status, n in session.execute(
        select(Ticket.status, func.count())
        .where(Ticket.status.in_(list(sla.OPEN_STATES)))
        .group_by(Ticket.status)
    ):
        counts[status] = n
    counts["overdue"] = (
        session.scalar(
            select(func.count())
            .select_from(Ticket)
            .where(Ticket.status.in_(list(sla.OPEN_STATES)), Ticket.due_at < now)
        )
        or 0
    )
    return counts


def back_office_staff(session: Session) -> list[User]:
    """Active users who may be assigned tickets."""
    return list(
        session.scalars(
            select(User).where(User.role == Role.BACKOFFICE, User.active.is_(True)).order_by(User.full_name)
        )
    )
