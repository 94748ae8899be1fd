"""Ticket pages: the back-office queue (operators open tickets there too) and one ticket."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from backoffice import services, sla
from backoffice.api.common import user_names
from backoffice.ports import TICKET_SLA_MINUTES
from backoffice.views.common import (
    TICKET_READERS,
    TICKET_WORKERS,
    bo_time,
    bp,
    day_field,
    field_errors,
    id_field,
    int_or_none,
    refused,
)
from frontoffice.auth import page
from frontoffice.db import utcnow
from frontoffice.errors import DomainError, Forbidden, InvalidInput
from frontoffice.kernel import current_kernel
from frontoffice.phones import InvalidPhone, normalize_phone


@bp.route("/tickets", methods=["GET", "POST"])
@page(TICKET_READERS)
def tickets_queue():
    """The back-office queue; operators open tickets here (or from the dossier)."""
    k = current_kernel()
    form_values: dict[str, Any] = {
        "kind": request.args.get("kind", "complaint"),
        "client_phone": request.args.get("phone", ""),
        "order_number": request.args.get("order_number", ""),
        "order_date": request.args.get("order_date", ""),
        "subject": "",
        "body": "",
    }
    errors: dict[str, str] = {}
    if request.method == "POST":
        form = request.form
        form_values = {
            key: form.get(key, "")
            for key in ("kind", "client_phone", "order_number", "order_date", "subject", "body")
        }
        try:
            order_date = day_field(form, "order_date", _("Pick the order's date."))
            with k.db.unit_of_work() as s:
                ticket = services.open_ticket(
                    s,
                    kind=form.get("kind", ""),
                    subject=form.get("subject", ""),
                    body=form.get("body", ""),
                    client_phone=form.get("client_phone", ""),
                    order_number=form.get("order_number", ""),
                    order_date=order_date,
                    actor_id=current_user.id,
                    region=k.settings.phone_region,
                    sla_minutes=k.extensions.get(TICKET_SLA_MINUTES),
                )
                ticket_id, due = ticket.id, ticket.due_at
            flash(_("Ticket #%(id)s opened; due %(due)s.", id=ticket_id, due=bo_time(due)))
            return redirect(url_for(".ticket_detail", ticket_id=ticket_id))
        except DomainError as err:
            refused(err)
            errors = field_errors(err)
    args = request.args
    view = args.get("view", "open")
    statuses = {
        "open": [sla.TicketStatus.OPEN, sla.TicketStatus.IN_PROGRESS],
        "closed": [sla.TicketStatus.RESOLVED, sla.TicketStatus.REJECTED],
        "all": [],
    }.get(view, [sla.TicketStatus.OPEN, sla.TicketStatus.IN_PROGRESS])
    phone = None
    if args.get("phone_filter"):
        try:
            phone = normalize_phone(args["phone_filter"], k.settings.phone_region)
        except InvalidPhone as exc:
            flash(str(exc))
    flt = services.TicketFilter(
        status=[st.value for st in statuses],
        kind=args.get("kind_filter") or None,
        overdue=args.get("overdue") == "1",
        phone=phone,
        assignee_id=current_user.id if args.get("mine") == "1" else None,
        per_page=200,
    )
    now = utcnow()
    with k.db.reading() as s:
        rows, total = services.list_tickets(s, flt, now)
        counts = services.queue_counts(s, now)
        names = user_names(s, [t.assignee_id for t in rows])
    return render_template(
        "backoffice/tickets_queue.html",
        tickets=rows,
        total=total,
        counts=counts,
        names=names,
        now=now,
        kinds=[kd.value for kd in sla.TicketKind],
        sla_minutes={
            kd.value: sla.sla_minutes(kd.value, k.extensions.get(TICKET_SLA_MINUTES)) for kd in sla.TicketKind
        },
        is_overdue=sla.is_overdue,
        minutes_left=sla.minutes_left,
        form=form_values,
        errors=errors,
        view=view,
        args=args,
    ), (422 if request.method == "POST" else 200)


@bp.route("/tickets/<int:ticket_id>", methods=["GET", "POST"])
@page(TICKET_READERS)
def ticket_detail(ticket_id: int):
    """A ticket: its history and comments, and what can be done with it."""
    k = current_kernel()
    if request.method == "POST":
        form = request.form
        action = form.get("action", "")
        version = int_or_none(form.get("expected_version"))
        try:
            if action in {"comment"}:
                with k.db.unit_of_work() as s:
                    services.add_comment(s, ticket_id, form.get("body", ""), actor_id=current_user.id)
                flash(_("Comment added."))
            else:
                if not current_user.has_role(*TICKET_WORKERS):
                    raise Forbidden(_("Only the back office and managers work on tickets; you may comment."))
                with k.db.unit_of_work() as s:
                    if action == "assign":
                        services.assign_ticket(
                            s,
                            ticket_id,
                            id_field(form, "assignee_id", _("Choose the assignee from the list.")),
                            actor_id=current_user.id,
                            expected_version=version,
                        )
                        flash(_("Assignee changed."))
                    elif action in {st.value for st in sla.TicketStatus}:
                        ticket = services.move_ticket(
                            s,
                            ticket_id,
                            action,
                            note=form.get("note", ""),
                            actor_id=current_user.id,
                            expected_version=version,
                        )
                        status = k.labels.text("ticket_state", ticket.status)
                        flash(_("Ticket #%(id)s: %(status)s.", id=ticket_id, status=status))
                    else:
                        raise InvalidInput(_("Unknown action."))
        except DomainError as err:
            if err.status == 404:
                raise
            refused(err)
        return redirect(url_for(".ticket_detail", ticket_id=ticket_id))
    now = utcnow()
    with k.db.reading() as s:
        ticket = services.get_ticket(s, ticket_id)
        events = list(ticket.events)
        names = user_names(s, [ticket.assignee_id, ticket.created_by, *(e.actor_id for e in events)])
        staff = services.back_office_staff(s)
    allowed = sorted(sla.TRANSITIONS[sla.TicketStatus(ticket.status)])
    return render_template(
        "backoffice/tickets_detail.html",
        ticket=ticket,
        events=events,
        names=names,
        staff=staff,
        overdue=sla.is_overdue(ticket.status, ticket.due_at, now),
        left=sla.minutes_left(ticket.due_at, now),
        allowed=[str(a) for a in allowed],
        needs_note=[str(st) for st in sla.NEEDS_NOTE],
        can_work=current_user.has_role(*TICKET_WORKERS),
    )
