"""Read-only descriptions of the other packages' tables the monitor reads.

The monitor is a leaf: it never imports ``couriers`` or ``callcentre``. It reads their
tables through these lightweight SQLAlchemy Core ``table()``/``column()`` descriptions, which
state the contract (the columns it relies on) and nothing more. Where a table is missing
(a package not installed, an older schema), the tile that needs it shows "n/a" instead of
failing: :class:`TableProbe` says which tables exist.
"""

from __future__ import annotations

import datetime as dt
import threading
import time

from sqlalchemy import Engine, Integer, Select, String, column, func, inspect, select, table

from frontoffice.db import UTCDateTime
from orders.models import Order

# --- couriers package ---------------------------------------------------------------------------

couriers = table(
    "couriers",
    column("id", Integer),
    column("user_id", Integer),
    column("name", String),
    column("phone", String),
    column("vehicle", String),
    column("max_active_orders", Integer),
    column("active"),
    column("device_id", String),
)

courier_branches = table("courier_branches", column("courier_id", Integer), column("branch_id", Integer))

courier_shifts = table(
    "courier_shifts",
    column("id", Integer),
    column("courier_id", Integer),
    column("started_at", UTCDateTime()),
    column("ended_at", UTCDateTime()),
)

#: The latest position of each courier (one row per courier).
courier_positions = table(
    "courier_positions",
    column("courier_id", Integer),
    column("lat"),
    column("lon"),
    column("recorded_at", UTCDateTime()),
    column("received_at", UTCDateTime()),
    column("accuracy"),
    column("speed"),
    column("bearing"),
    column("battery"),
)

# --- callcentre package -------------------------------------------------------------------------

clients = table(
    "clients",
    column("id", Integer),
    column("phone", String),
    column("name", String),
    column("created_at", UTCDateTime()),
    column("merged_into_id", Integer),
)

client_stats = table(
    "client_stats",
    column("client_id", Integer),
    column("orders_count", Integer),
    column("delivered_count", Integer),
    column("cancelled_count", Integer),
    column("total_spent", Integer),
    column("first_order_at", UTCDateTime()),
    column("last_order_at", UTCDateTime()),
)

#: Tickets: open ones are ``open`` or ``in_progress``; ``due_at`` is the promised resolution time.
tickets = table(
    "tickets",
    column("id", Integer),
    column("status", String),
    column("kind", String),
    column("due_at", UTCDateTime()),
    column("created_at", UTCDateTime()),
)

#: Delivery zones: ``geometry`` is a GeoJSON Polygon or MultiPolygon.
delivery_zones = table(
    "delivery_zones",
    column("id", Integer),
    column("branch_id", Integer),
    column("name", String),
    column("geometry"),
    column("active"),
    column("color", String),
)

OPEN_TICKET_STATUSES = ("open", "in_progress")

# --- orders package: receipts (who sold what part of an order) ----------------------------------

#: One receipt per (order, organization, tax system); the organization's name is copied on it.
order_receipts = table(
    "order_receipts",
    column("id", Integer),
    column("order_id", Integer),
    column("organization_id", Integer),
    column("organization_name", String),
    column("total", Integer),
)

RECEIPT_TABLES = ("order_receipts",)


def organization_revenue(day: dt.date) -> Select:
    """Delivered revenue of a business day per branch and organization (the receipts' totals)."""
    r = order_receipts
    return (
        select(
            Order.branch_id,
            r.c.organization_id,
            func.max(r.c.organization_name).label("name"),
            func.sum(r.c.total).label("amount"),
        )
        .select_from(r)
        .join(Order, Order.id == r.c.order_id)
        .where(Order.business_date == day, Order.status == "delivered")
        .group_by(Order.branch_id, r.c.organization_id)
    )


class TableProbe:
    """Which tables exist, asked of the database at most once per ``ttl_s`` seconds."""

    def __init__(self, engine: Engine, ttl_s: float = 30.0):
        self._engine = engine
        self._ttl = ttl_s
        self._names: frozenset[str] = frozenset()
        self._at = -float("inf")
        self._lock = threading.Lock()

    def _refresh(self) -> None:
        now = time.monotonic()
        if now - self._at < self._ttl:
            return
        with self._lock:
            if now - self._at < self._ttl:
                return
            inspector = inspect(self._engine)
            self._names = frozenset(inspector.get_table_names())
            self._at = now

    def has(self, *names: str) -> bool:
        """True when every named table exists."""
        self._refresh()
        return all(name in self._names for name in names)

    def forget(self) -> None:
        """Ask the database again on the next call (after a migration, in tests)."""
        self._at = -float("inf")
