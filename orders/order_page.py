"""The page of one order (``/orders/<id>``) for the staff of its branch: what was ordered, where it
goes, where it is now, its history, and what other packages know about it (``orders.order_sections``:
the proof of delivery the couriers package keeps)."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, render_template

from frontoffice.auth import branch_scope, page
from frontoffice.db import utcnow
from frontoffice.kernel import current_kernel
from frontoffice.models import Role
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


@bp.route("/<int:order_id>")
@page(READERS)
def order(order_id: int):
    """One order with its lines, its history and the sections other packages add; 404 outside
    the reader's branches."""
    k = current_kernel()
    zone = ZoneInfo(k.settings.timezone)
    with k.db.reading() as s:
        found = services.get_order(s, order_id, within=branch_scope())
        late = minutes_late(found.promised_at, utcnow()) if found.status in ACTIVE else None
        view: dict[str, Any] = {
            "order": found,
            "lines": list(found.lines),
            "events": list(found.events),
            "money": lambda minor: format_money(minor, k.settings.currency),
            "local": lambda at: at.astimezone(zone).strftime("%d.%m.%Y %H:%M") if at else "",
            "late": late,
            "late_level": lateness_level(late) if late is not None else None,
            "sections": [
                sec for source in k.extensions.all(ORDER_SECTIONS) if (sec := source(s, order_id)) is not None
            ],
        }
        return render_template("orders/order.html", **view)
