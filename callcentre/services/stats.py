"""Client statistics: the subscriber that counts placed, delivered and cancelled orders."""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

from sqlalchemy import bindparam, case, select, update
from sqlalchemy.orm import Session

from callcentre.models import (
    Client,
    ClientOrderFact,
    ClientStats,
)
from callcentre.services.clients import ensure_client
from frontoffice.db import UTCDateTime, dialect_of, execute_fast, upsert, utcnow
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
    dialect = dialect_of(session)
    inserted = execute_fast(
        session,
        _fact_statement(dialect),
        {"f_order": order.id, "f_fact": fact, "f_client": client_id, "f_at": now},
    ).first()
    if inserted is None:
        return False
    params = {"p_client": client_id, "p_at": order.created_at, "p_total": order.total}
    execute_fast(session, _count_statement(dialect, fact), params)
    return True


@functools.cache
def _fact_statement(dialect: str) -> Any:
    """Record one fact, or nothing when it was recorded already (``RETURNING`` tells which)."""
    table = ClientOrderFact.__table__
    return upsert(
        dialect,
        table,
        {
            "order_id": bindparam("f_order"),
            "fact": bindparam("f_fact"),
            "client_id": bindparam("f_client"),
            "at": bindparam("f_at", type_=UTCDateTime()),
        },
        ["order_id", "fact"],
    ).returning(table.c.order_id)


@functools.cache
def _count_statement(dialect: str, fact: str) -> Any:
    """Count one fact in a client's statistics in one statement, creating the row on the client's
    first fact (parameters ``p_client``, ``p_at``, ``p_total``)."""
    table = ClientStats.__table__
    c = table.c
    at = bindparam("p_at", type_=UTCDateTime())
    total = bindparam("p_total", type_=c.total_spent.type)
    first = {"client_id": bindparam("p_client"), **{k: 0 for k in _COUNTS}}
    changes: dict[str, Any]
    if fact == "placed":
        first.update(orders_count=1, first_order_at=at, last_order_at=at)
        changes = {
            "orders_count": c.orders_count + 1,
            "first_order_at": case(
                (c.first_order_at.is_(None) | (c.first_order_at > at), at), else_=c.first_order_at
            ),
            "last_order_at": case(
                (c.last_order_at.is_(None) | (c.last_order_at < at), at), else_=c.last_order_at
            ),
        }
    elif fact == "delivered":
        first.update(delivered_count=1, total_spent=total)
        changes = {"delivered_count": c.delivered_count + 1, "total_spent": c.total_spent + total}
    else:
        first.update(cancelled_count=1)
        changes = {"cancelled_count": c.cancelled_count + 1}
    return upsert(dialect, table, first, ["client_id"], update=changes)


_COUNTS = ("orders_count", "delivered_count", "cancelled_count", "total_spent")


_ORDER_FOR_FACT = select(
    Order.id, Order.client_phone, Order.client_name, Order.total, Order.created_at
).where(Order.id == bindparam("order_id"))


def record_order_fact(
    session: Session, order_id: int, status: str, *, now: dt.datetime | None = None
) -> bool:
    """Count one order event in its client's statistics, creating the client on a first order.

    A client is dated no later than their earliest order (``created_at``, "client since").

    ``status`` is ``"placed"`` or the order's new status. Idempotent per order and
    fact: a replayed event changes nothing and returns False. A delivery or a
    cancellation also counts the order as placed if that was missed.
    """
    now = now or utcnow()
    fact = "placed" if status == "placed" else STATUS_FACTS.get(status)
    if fact is None:
        return False
    order = execute_fast(session, _ORDER_FOR_FACT, {"order_id": order_id}).first()
    if order is None:
        return False
    client_id = _client_of(session, order)
    changed = False
    if fact != "placed":
        changed = _record_fact(session, order, client_id, "placed", now)
    return _record_fact(session, order, client_id, fact, now) or changed


# Every order placed looks its caller up: plain columns first, the ORM only for a new or merged one.
_CLIENT_BY_PHONE = select(Client.id, Client.created_at, Client.merged_into_id).where(
    Client.phone == bindparam("phone")
)
_BACKDATE = (
    update(Client.__table__).where(Client.id == bindparam("client_id")).values(created_at=bindparam("since"))
)


def _client_of(session: Session, order: Any) -> int:
    """The id of the order's client, created on their first order; a client is dated no later than
    their earliest order."""
    row = execute_fast(session, _CLIENT_BY_PHONE, {"phone": order.client_phone}).first()
    if row is not None and row.merged_into_id is None:
        client_id, since = row.id, row.created_at
    else:
        client = ensure_client(session, order.client_phone, order.client_name, order.created_at)
        client_id, since = client.id, client.created_at
    if order.created_at is not None and since > order.created_at:
        execute_fast(session, _BACKDATE, {"client_id": client_id, "since": order.created_at})
    return client_id


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
