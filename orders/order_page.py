"""The page of one order (``/orders/<id>``) for the staff of its branch: what was ordered, where it
goes, where it is now, its receipts, its history and the changes made after it was taken, and what other packages know about it (``orders.order_sections``:
the proof of delivery the couriers package keeps)."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, render_template
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from frontoffice.auth import branch_scope, current_principal, page
from frontoffice.db import utcnow
from frontoffice.kernel import current_kernel
from frontoffice.models import Role, User
from frontoffice.money import format_money
from orders import services
from orders.lateness import lateness_level, minutes_late
from orders.ports import ORDER_SECTIONS
from orders.states import ACTIVE

bp = Blueprint(
    "order_pages",
    __name__,
    url_prefix="/orders",
    root_path=str(Path(__file__).resolve().parent),
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)

#: Who reads an order's page (admins too): the staff who take, dispatch and settle orders.
READERS = frozenset({Role.MANAGER, Role.OPERATOR, Role.BACKOFFICE})

#: What a change of an order may change, as its trail names it.
EDIT_FIELDS = {
    "lines": _l("Lines"),
    "address": _l("Address"),
    "promised_at": _l("Promised"),
    "payment_kind": _l("Payment"),
    "change_from": _l("Change from"),
    "comment": _l("Comment"),
    "delivery_fee": _l("Delivery fee"),
    "total": _l("Total"),
    "receipts": _l("Receipts"),
    "status": _l("Status"),
}


def edit_rows(event: Any) -> list[tuple[str, str, Any, Any]]:
    """The changes of an ``edited`` trail entry as (field, its name, before, after), in a fixed order."""
    changes = (event.payload or {}).get("changes", {})
    return [(f, str(EDIT_FIELDS[f]), *changes[f]) for f in EDIT_FIELDS if f in changes]


@bp.route("/<int:order_id>")
@page(READERS)
def order(order_id: int):
    """One order with its lines, its history and the sections other packages add; 404 outside
    the reader's branches."""
    k = current_kernel()
    zone = ZoneInfo(k.settings.timezone)
    with k.db.reading() as s:
        found = services.get_order(
            s, order_id, within=branch_scope(), training=services.training_view(current_principal())
        )
        late = minutes_late(found.promised_at, utcnow()) if found.status in ACTIVE else None
        view: dict[str, Any] = {
            "order": found,
            "lines": list(found.lines),
            "events": list(found.events),
            "receipts": list(found.receipts),
            "edits": [(e, edit_rows(e)) for e in found.events if e.kind == services.EDITED],
            "names": dict(
                s.execute(
                    select(User.id, User.full_name).where(
                        User.id.in_({e.actor_id for e in found.events if e.actor_id is not None})
                    )
                ).all()
            ),
            "money": lambda minor: format_money(minor, k.settings.currency),
            "local": lambda at: at.astimezone(zone).strftime("%d.%m.%Y %H:%M") if at else "",
            "late": late,
            "late_level": lateness_level(late) if late is not None else None,
            "sections": [
                sec for source in k.extensions.all(ORDER_SECTIONS) if (sec := source(s, order_id)) is not None
            ],
        }
        return render_template("orders/order.html", **view)
