"""Giving an order to a courier and taking it back: the guard shared by a courier's claim
and a dispatcher's assignment.

Taking an order is one conditional ``UPDATE orders … WHERE courier_id IS NULL AND …``
(DESIGN.md): the database decides who wins, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import exists, func, select, update
from sqlalchemy.orm import Session

from couriers.models import Courier, CourierBranch, CourierShift
from couriers.services.audit import audit
from couriers.services.shifts import lock_courier, open_shift
from couriers.services.tracking import CARRIED_STATES, carried_count
from frontoffice.db import publish
from frontoffice.errors import Conflict, NotFound
from orders.events import CourierAssigned
from orders.models import Order
from orders.states import POOL_STATES

#: The states of an order a courier may take, as a sorted tuple for SQL ``IN``.
POOL = tuple(sorted(POOL_STATES))

_orders = Order.__table__


def _take_statement(order_id: int, courier: Courier, now: dt.datetime):
    """The one conditional UPDATE that gives an unclaimed pool order to a courier who may take it."""
    carried_by = _orders.alias("carried")
    carried = (
        select(func.count())
        .select_from(carried_by)
        .where(carried_by.c.courier_id == courier.id, carried_by.c.status.in_(CARRIED_STATES))
        .scalar_subquery()
    )
    shift_open = exists().where(CourierShift.courier_id == courier.id, CourierShift.ended_at.is_(None))
    serves = exists().where(
        CourierBranch.courier_id == courier.id, CourierBranch.branch_id == _orders.c.branch_id
    )
    return (
        update(_orders)
        .where(
            _orders.c.id == order_id,
            _orders.c.courier_id.is_(None),
            _orders.c.status.in_(POOL),
            _orders.c.kind == "delivery",
            _orders.c.training.is_(False),  # a trainee's order never reaches a courier
            serves,
            shift_open,
            carried < courier.max_active_orders,
        )
        .values(courier_id=courier.id, assigned_at=now, version=_orders.c.version + 1)
        .returning(_orders.c.branch_id)
    )


def give(session: Session, order_id: int, courier: Courier, now: dt.datetime) -> int | None:
    """Give a pool order to a courier if the guard allows it: the order's branch id, or None."""
    lock_courier(session, courier.id)
    row = session.execute(_take_statement(order_id, courier, now)).first()
    return None if row is None else row[0]


def after_take(
    session: Session,
    order_id: int,
    branch_id: int,
    courier: Courier,
    actor_id: int | None,
    now: dt.datetime,
    by: str,
) -> Order:
    """Audit and publish an assignment that :func:`give` made; the order as it is now."""
    audit(
        session,
        order_id,
        "courier_assigned",
        actor_id=actor_id,
        at=now,
        payload={"courier_id": courier.id, "courier_name": courier.name, "by": by},
    )
    publish(session, CourierAssigned(order_id, branch_id, courier.id, None, now, actor_id))
    session.flush()
    return session.get(Order, order_id, populate_existing=True)


def why_not(session: Session, order_id: int, courier: Courier, *, as_courier: bool) -> Exception:
    """The most useful refusal after a conditional UPDATE touched nothing."""
    order = session.get(Order, order_id, populate_existing=True)
    serves = set(courier.branch_ids)
    if order is None or (as_courier and (order.kind != "delivery" or order.branch_id not in serves)):
        return NotFound(
            f"There is no order {order_id} in your pool." if as_courier else f"There is no order {order_id}."
        )
    if order.kind != "delivery":
        return Conflict(f"Order {order.number} is a {order.kind} order; it has no courier.")
    if order.courier_id is not None:
        if order.courier_id == courier.id:
            return Conflict(
                f"Order {order.number} is already {'yours' if as_courier else 'theirs'} ({order.status})."
            )
        if as_courier:
            # ``code`` lets an app tell a lost race from the other refusals without reading English
            return Conflict(f"Order {order.number} was already taken by another courier.", code="taken")
        return Conflict(
            f"Order {order.number} already has courier {order.courier_id}; unassign it first.",
            courier_id=order.courier_id,
        )
    if order.status not in POOL_STATES:
        return Conflict(
            f"Order {order.number} is {order.status}; only confirmed, cooking or ready orders can be taken."
        )
    who = "You" if as_courier else f"Courier {courier.name}"
    if not courier.active:
        return Conflict(f"{who} is switched off.")
    if order.branch_id not in serves:
        return Conflict(f"{who} does not deliver for branch {order.branch_id}.")
    if open_shift(session, courier.id) is None:
        return Conflict(
            f"{who} must start a shift before taking orders." if as_courier else f"{who} is not on shift."
        )
    carried = carried_count(session, courier.id)
    if carried >= courier.max_active_orders:
        return Conflict(
            f"{who} already carries {carried} orders, the maximum is {courier.max_active_orders}.",
            carried=carried,
            max_active_orders=courier.max_active_orders,
        )
    return Conflict(f"Order {order.number} changed at the same moment; reload and try again.")


def drop(
    session: Session,
    order: Order,
    courier_id: int,
    *,
    actor_id: int | None,
    now: dt.datetime,
    by: str,
    reason: str | None,
) -> Order:
    """Take an order back from its courier into the pool (only before pickup), audited and published."""
    row = session.execute(
        update(_orders)
        .where(_orders.c.id == order.id, _orders.c.courier_id == courier_id, _orders.c.status.in_(POOL))
        .values(courier_id=None, assigned_at=None, version=_orders.c.version + 1)
        .returning(_orders.c.branch_id)
    ).first()
    if row is None:
        current = session.get(Order, order.id, populate_existing=True)
        status = current.status if current else "gone"
        raise Conflict(f"Order {order.number} is {status}; it can be given back only before pickup.")
    audit(
        session,
        order.id,
        "courier_released" if by == "courier" else "courier_unassigned",
        actor_id=actor_id,
        at=now,
        reason=reason,
        payload={"courier_id": courier_id, "by": by},
    )
    publish(session, CourierAssigned(order.id, row[0], None, courier_id, now, actor_id))
    session.flush()
    return session.get(Order, order.id, populate_existing=True)
