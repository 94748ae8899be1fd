"""Registers the back office: the antifraud placement policy, the dossier sections, the ticket and
bonus subscribers, the bonus widget of the operator workspace, the JSON API and the pages.

Dossier sections contributed to the lookup (``callcentre.ports.DOSSIER_SECTIONS``):

- ``warnings``: the antifraud verdict at first contact — ``{"action": "none" | "note" | "flag" |
  "hold" | "reject", "score": int, "items": [{"rule", "rule_id", "version", "version_id", "kind",
  "score", "action", "reason", "level" (= action), "message" (one line for the operator)}, …]}``,
  items most severe first, none when the caller is clean;
- ``tickets``: the client's open tickets, then the latest closed ones —
  ``[{"id", "kind", "status", "subject", "due_at", "overdue", "minutes_left", "order_number", "order_date", "url",
  "message"}, …]``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from flask import Flask, has_request_context, request, url_for

from backoffice import demo, labels, services, sla
from backoffice.api import bp as api_bp
from backoffice.events import TicketResolved
from backoffice.ports import RULEBOOK, TICKET_SLA_MINUTES
from backoffice.views import register_pages
from callcentre.ports import DOSSIER_SECTIONS, WORKSPACE_ENDPOINTS
from frontoffice.db import utcnow
from frontoffice.kernel import Kernel
from frontoffice.packages import DomainPackage
from orders.events import OrderPlaced, OrderStatusChanged
from orders.ports import PLACEMENT_POLICIES, PolicyOrder

#: The header an ordering app sends its device id in (checked against the device blacklist).
DEVICE_HEADER = "X-Device-Id"


def device_of_request() -> str:
    """The device id of the current request, empty outside one or when not sent."""
    if not has_request_context():
        return ""
    return (request.headers.get(DEVICE_HEADER) or "").strip()[:200]


def sla_overrides(config: Mapping[str, Any]) -> dict[str, int]:
    """``TICKET_SLA_MINUTES`` from the app config (``{"complaint": 60, …}``), checked."""
    raw = config.get("TICKET_SLA_MINUTES") or {}
    out: dict[str, int] = {}
    for kind, minutes in dict(raw).items():
        if kind not in {k.value for k in sla.TicketKind}:
            raise ValueError(f"TICKET_SLA_MINUTES names an unknown ticket kind {kind!r}")
        if isinstance(minutes, bool) or not isinstance(minutes, int) or minutes <= 0:
            raise ValueError(f"TICKET_SLA_MINUTES[{kind!r}] must be a positive whole number of minutes")
        out[kind] = minutes
    return out


def warning_entry(hit: dict[str, Any]) -> dict[str, Any]:
    """A rule that fired, as a dossier warning."""
    line = f"{hit['reason']} ({hit['rule']} v{hit['version']}: {hit['action']}, score {hit['score']})"
    return {**hit, "level": hit["action"], "message": line}


def ticket_url(ticket_id: int) -> str:
    """The ticket's page; empty outside a request (a dossier built by a script), where none can be built."""
    return url_for("backoffice.ticket_detail", ticket_id=ticket_id) if has_request_context() else ""


def ticket_entry(ticket: Any, now: dt.datetime) -> dict[str, Any]:
    """A ticket as a dossier line."""
    overdue = sla.is_overdue(ticket.status, ticket.due_at, now)
    left = sla.minutes_left(ticket.due_at, now)
    if ticket.status in sla.CLOSED_STATES:
        when = ticket.status
    elif overdue:
        when = f"overdue by {-left} min"
    else:
        when = f"due in {left} min"
    return {
        "id": ticket.id,
        "kind": ticket.kind,
        "status": ticket.status,
        "subject": ticket.subject,
        "due_at": ticket.due_at.isoformat(),
        "overdue": overdue,
        "minutes_left": left,
        "order_number": ticket.order.number if ticket.order is not None else None,
        "order_date": ticket.order.business_date.isoformat() if ticket.order is not None else None,
        "url": ticket_url(ticket.id),
        "message": f"{ticket.kind}: {ticket.subject} — {when}",
    }


def register(app: Flask, kernel: Kernel) -> None:
    """Wire the back office into the app."""
    kernel.labels.declare(*labels.VOCABULARIES)
    rulebook = services.RuleBook()
    kernel.extensions.provide(RULEBOOK, rulebook)
    kernel.extensions.provide(TICKET_SLA_MINUTES, sla_overrides(app.config))
    kernel.extensions.add(
        PLACEMENT_POLICIES,
        "antifraud",
        services.placement_policy(rulebook, device_of_request),
        order=PolicyOrder.SCREENING,
    )

    def pay_placed(session: Any, event: OrderPlaced) -> None:
        services.on_order_placed(session, event)

    def pay_status(session: Any, event: OrderStatusChanged) -> None:
        services.on_status_changed(session, event)

    def pay_ticket(session: Any, event: TicketResolved) -> None:
        services.on_ticket_resolved(session, event)

    # Bookkeeping projectors: the bus runs them with the other projectors of the same
    # commit in one write transaction. (The verdict and the address key of a placed order are
    # written by the placement policy itself, in the order's transaction.)
    kernel.bus.project(OrderPlaced, pay_placed)
    kernel.bus.project(OrderStatusChanged, pay_status)
    kernel.bus.project(TicketResolved, pay_ticket)

    def warnings_section(session: Any, client: Any, phone: str) -> dict[str, Any]:
        verdict = services.screen_contact(session, rulebook, phone, getattr(client, "name", "") or "")
        return {
            "warnings": {
                "action": verdict.action,
                "score": verdict.score,
                "items": [warning_entry(h.to_dict()) for h in verdict.hits],
            }
        }

    def tickets_section(session: Any, client: Any, phone: str) -> dict[str, Any]:
        now = utcnow()
        return {"tickets": [ticket_entry(t, now) for t in services.tickets_of_client(session, phone)]}

    kernel.extensions.add(DOSSIER_SECTIONS, "warnings", warnings_section, order=10)
    kernel.extensions.add(DOSSIER_SECTIONS, "tickets", tickets_section, order=20)
    kernel.extensions.add(WORKSPACE_ENDPOINTS, "bonuses", "backoffice_api.my_bonus", order=10)
    # The operator opens tickets from the call (the dossier and the order history) through this.
    kernel.extensions.add(WORKSPACE_ENDPOINTS, "tickets", "backoffice_api.open_ticket", order=20)

    app.register_blueprint(api_bp)
    register_pages(app, kernel)


PACKAGE = DomainPackage("backoffice", register, demo=demo.load)
