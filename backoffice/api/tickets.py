"""The ticket endpoints: the queue, opening, comments, moves and assignment."""

from __future__ import annotations

from backoffice import services
from backoffice.api.common import (
    TICKET_READERS,
    TICKET_WORKERS,
    bp,
    phone_of,
    user_names,
)
from backoffice.ports import TICKET_SLA_MINUTES
from backoffice.schemas import (
    TicketAssignIn,
    TicketCommentIn,
    TicketEventOut,
    TicketIn,
    TicketMoveIn,
    TicketOut,
    TicketPage,
    TicketQuery,
)
from frontoffice.api import endpoint
from frontoffice.db import utcnow
from frontoffice.kernel import current_kernel
from frontoffice.models import User


def _ticket_out(s, ticket, with_events: bool = False) -> TicketOut:
    ids = [ticket.assignee_id] + ([e.actor_id for e in ticket.events] if with_events else [])
    return TicketOut.of(ticket, utcnow(), user_names(s, ids), with_events=with_events)


@endpoint(
    bp,
    "/tickets",
    roles=TICKET_READERS,
    query=TicketQuery,
    response=TicketPage,
    summary="The ticket queue, earliest deadline first",
    tags=["tickets"],
)
def list_tickets(query: TicketQuery, actor: User) -> TicketPage:
    """Filter by status, kind, overdue, phone, order, or your own."""
    statuses = query.status if isinstance(query.status, list) else [query.status] if query.status else []
    flt = services.TicketFilter(
        status=[st.value for st in statuses],
        kind=query.kind.value if query.kind else None,
        overdue=query.overdue,
        phone=phone_of(query.phone, "query.phone") if query.phone else None,
        order_number=query.order_number,
        order_date=query.order_date,
        assignee_id=actor.id if query.mine else None,
        page=query.page,
        per_page=query.per_page,
    )
    now = utcnow()
    with current_kernel().db.reading() as s:
        rows, total = services.list_tickets(s, flt, now)
        names = user_names(s, [t.assignee_id for t in rows])
        return TicketPage(
            items=[TicketOut.of(t, now, names) for t in rows],
            total=total,
            page=query.page,
            per_page=query.per_page,
        )


@endpoint(
    bp,
    "/tickets",
    method="POST",
    roles=TICKET_READERS,
    body=TicketIn,
    response=TicketOut,
    status=201,
    summary="Open a ticket for the back office",
    tags=["tickets"],
    description="About a client (`client_phone`) or an order, named as people see it: `order_number` "
    "(`KZ1-007`) with `order_date`, its business day (numbers start again every day). An unknown number "
    "is a 422 on `order_number` (`unknown_order`), a number without its date a 422 on `order_date`.",
)
def open_ticket(body: TicketIn, actor: User) -> TicketOut:
    """From the dossier (client phone) or an order; the deadline follows the kind's SLA."""
    k = current_kernel()
    with k.db.unit_of_work() as s:
        ticket = services.open_ticket(
            s,
            kind=body.kind.value,
            subject=body.subject,
            body=body.body,
            client_phone=body.client_phone,
            order_number=body.order_number or "",
            order_date=body.order_date,
            actor_id=actor.id,
            region=k.settings.phone_region,
            sla_minutes=k.extensions.get(TICKET_SLA_MINUTES),
        )
        return _ticket_out(s, ticket, with_events=True)


@endpoint(
    bp,
    "/tickets/<int:ticket_id>",
    roles=TICKET_READERS,
    response=TicketOut,
    summary="One ticket with its history",
    tags=["tickets"],
    errors=(404,),
)
def get_ticket(ticket_id: int) -> TicketOut:
    """The ticket, its comments and moves."""
    with current_kernel().db.reading() as s:
        return _ticket_out(s, services.get_ticket(s, ticket_id), with_events=True)


@endpoint(
    bp,
    "/tickets/<int:ticket_id>/comments",
    method="POST",
    roles=TICKET_READERS,
    body=TicketCommentIn,
    response=TicketEventOut,
    status=201,
    summary="Comment on a ticket",
    tags=["tickets"],
    errors=(404,),
)
def comment_ticket(ticket_id: int, body: TicketCommentIn, actor: User) -> TicketEventOut:
    """Add a line to the history."""
    with current_kernel().db.unit_of_work() as s:
        event = services.add_comment(s, ticket_id, body.body, actor_id=actor.id)
        return TicketEventOut.of(event, {actor.id: actor.full_name})


@endpoint(
    bp,
    "/tickets/<int:ticket_id>/status",
    method="POST",
    roles=TICKET_WORKERS,
    body=TicketMoveIn,
    response=TicketOut,
    summary="Move a ticket (open → in_progress → resolved | rejected)",
    tags=["tickets"],
    errors=(404, 409),
)
def move_ticket(ticket_id: int, body: TicketMoveIn, actor: User) -> TicketOut:
    """Closing needs a note; taking into work assigns the back-office taker."""
    with current_kernel().db.unit_of_work() as s:
        ticket = services.move_ticket(
            s,
            ticket_id,
            body.status.value,
            note=body.note,
            actor_id=actor.id,
            expected_version=body.expected_version,
        )
        return _ticket_out(s, ticket, with_events=True)


@endpoint(
    bp,
    "/tickets/<int:ticket_id>/assign",
    method="POST",
    roles=TICKET_WORKERS,
    body=TicketAssignIn,
    response=TicketOut,
    summary="Assign a ticket to a back-office person",
    tags=["tickets"],
    errors=(404, 409),
)
def assign_ticket(ticket_id: int, body: TicketAssignIn, actor: User) -> TicketOut:
    """Only active users with the backoffice role may be assignees."""
    with current_kernel().db.unit_of_work() as s:
        ticket = services.assign_ticket(
            s, ticket_id, body.assignee_id, actor_id=actor.id, expected_version=body.expected_version
        )
        return _ticket_out(s, ticket, with_events=True)
