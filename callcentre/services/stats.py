"""Client statistics: the subscriber that counts placed, delivered and cancelled orders."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import bindparam, case, select, update
from sqlalchemy.orm import Session

from callcentre.models import (
    ClientOrderFact,
    ClientStats,
)
from callcentre.services.clients import ensure_client
from frontoffice.db import UTCDateTime, upsert, utcnow
from orders.models import Order
from orders.states import OrderStatus

#: Facts the statistics count, keyed by the order status that produces them.
STATUS_FACTS = {OrderStatus.DELIVERED.value: "delivered", OrderStatus.CANCELLED.value: "cancelled"}


def stats_row(session: Session, client_id: int) -> ClientStats:
    """A client's statistics row, created empty when missing."""
    session.execute(upsert(session, ClientStats.__table__, {"client_id": client_id}, ["client_id"]))
    row = session.get(ClientStats, client_id, populate_existing=True)
    assert row is not None
    return row


def _record_fact(session: Session, order: Any, client_id: int, fact: str, now: dt.datetime) -> bool:
    table = ClientOrderFact.__table__
    inserted = session.execute(
        upsert(
            session,
            table,
            {"order_id": order.id, "fact": fact, "client_id": client_id, "at": now},
            ["order_id", "fact"],
        ).returning(table.c.order_id)
    ).first()
    if inserted is None:
        return False
    session.execute(upsert(session, ClientStats.__table__, {"client_id": client_id}, ["client_id"]))
    params = {"p_client": client_id, "p_at": order.created_at, "p_total": order.total}
    session.execute(_COUNT_FACT[fact], params)
    return True


def _count_fact_statements() -> dict[str, Any]:
    """The UPDATE of a client's statistics for each fact, built once (parameters p_client, p_at, p_total)."""
    s = ClientStats
    at = bindparam("p_at", type_=UTCDateTime())
    by_client = update(ClientStats).where(ClientStats.client_id == bindparam("p_client"))
    return {
        "placed": by_client.values(
            orders_count=s.orders_count + 1,
            first_order_at=case(
                (s.first_order_at.is_(None) | (s.first_order_at > at), at), else_=s.first_order_at
            ),
            last_order_at=case(
                (s.last_order_at.is_(None) | (s.last_order_at < at), at), else_=s.last_order_at
            ),
        ),
        "delivered": by_client.values(
            delivered_count=s.delivered_count + 1,
            total_spent=s.total_spent + bindparam("p_total", type_=s.total_spent.type),
        ),
        "cancelled": by_client.values(cancelled_count=s.cancelled_count + 1),
    }


_COUNT_FACT = _count_fact_statements()
_ORDER_FOR_FACT = select(
    Order.id, Order.client_phone, Order.client_name, Order.total, Order.created_at
).where(Order.id == bindparam("order_id"))


def record_order_fact(
    session: Session, order_id: int, status: str, *, now: dt.datetime | None = None
) -> bool:
    """Count one order event in its client's statistics, creating the client on a first order.

    ``status`` is ``"placed"`` or the order's new status. Idempotent per order and
    fact: a replayed event changes nothing and returns False. A delivery or a
    cancellation also counts the order as placed if that was missed.
    """
    now = now or utcnow()
    fact = "placed" if status == "placed" else STATUS_FACTS.get(status)
    if fact is None:
        return False
    order = session.execute(_ORDER_FOR_FACT, {"order_id": order_id}).first()
    if order is None:
        return False
    client = ensure_client(session, order.client_phone, order.client_name, now)
    changed = False
    if fact != "placed":
        changed = _record_fact(session, order, client.id, "placed", now)
    return _record_fact(session, order, client.id, fact, now) or changed


def rebuild_stats(session: Session, client_id: int) -> ClientStats:
    """Recount a client's statistics from the facts already recorded (repair tool)."""
    rows = session.execute(
        select(ClientOrderFact.fact, Order.total, Order.created_at)
        .join(Order, Order.id == ClientOrderFact.order_id)
        .where(ClientOrderFact.client_id == client_id)
    ).all()
    stats = stats_row(session, client_id)
    placed = [r for r in rows if r.fact == "placed"]
    stats.orders_count = len(placed)
    stats.delivered_count = sum(1 for r in rows if r.fact == "delivered")
    stats.cancelled_count = sum(1 for r in rows if r.fact == "cancelled")
    stats.total_spent = sum(r.total for r in rows if r.fact == "delivered")
    stats.first_order_at = min((r.created_at for r in placed), default=None)
    stats.last_order_at = max((r.created_at for r in placed), default=None)
    session.flush()
    return stats
