"""Dispatch: candidates for an order, assign and unassign, auto-dispatch, and the manager's
overview of every courier.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from couriers.models import Courier, CourierBranch, CourierPosition, CourierShift
from couriers.services.assignment import after_take, drop, give, why_not
from couriers.services.tracking import CARRIED_STATES, DEFAULT_SIGNAL_TIMEOUT_S, CourierState, courier_states
from couriers.spatial import GridIndex, distance_m, eta_seconds, rank_by_geodesic
from frontoffice.db import utcnow
from frontoffice.errors import Conflict, InvalidInput, NotFound, field_error
from orders.models import REAL_ORDER, Order
from orders.states import OrderStatus


@dataclass(frozen=True)
class Candidate:
    """A free courier who could take an order, with the way to the branch and on to the client."""

    courier: Courier
    lat: float
    lon: float
    recorded_at: dt.datetime
    battery: float | None
    distance_m: float
    eta_s: int
    eta_to_client_s: int | None


def _free_couriers(
    session: Session, branch_id: int, now: dt.datetime, timeout_s: int, exclude: set[int] = frozenset()
) -> list[tuple[Courier, CourierPosition]]:
    rows = session.execute(
        select(Courier, CourierPosition)
        .join(CourierPosition, CourierPosition.courier_id == Courier.id)
        .join(
            CourierBranch, and_(CourierBranch.courier_id == Courier.id, CourierBranch.branch_id == branch_id)
        )
        .where(Courier.active.is_(True))
    ).all()
    if not rows:
        return []
    states = courier_states(session, now, signal_timeout_s=timeout_s, courier_ids=[c.id for c, _ in rows])
    return [(c, p) for c, p in rows if states.get(c.id) is CourierState.FREE and c.id not in exclude]


def dispatch_candidates(
    session: Session,
    order_id: int,
    *,
    now: dt.datetime | None = None,
    signal_timeout_s: int = DEFAULT_SIGNAL_TIMEOUT_S,
    limit: int = 5,
    exclude: set[int] = frozenset(),
) -> list[Candidate]:
    """Free couriers of the order's branch, nearest to the branch first, ranked by estimated arrival.

    A grid index finds the nearest few by straight distance; geopy measures those few exactly.
    """
    now = now or utcnow()
    order = session.get(Order, order_id)
    if order is None:
        raise NotFound(f"There is no order {order_id}.")
    if order.kind != "delivery":
        raise Conflict(f"Order {order.number} is a {order.kind} order; it needs no courier.")
    branch = order.branch
    free = _free_couriers(session, branch.id, now, signal_timeout_s, exclude)
    if not free:
        return []
    by_id = {c.id: (c, p) for c, p in free}
    index = GridIndex(cell_m=1000.0, ref_lat=branch.lat)
    for c, p in free:
        index.add(c.id, p.lat, p.lon)
    nearest = rank_by_geodesic(branch.lat, branch.lon, index.nearest(branch.lat, branch.lon, limit * 2))
    leg = (
        distance_m(branch.lat, branch.lon, order.lat, order.lon)
        if order.lat is not None and order.lon is not None
        else None
    )
    out = []
    for n in nearest:
        courier, pos = by_id[n.key]
        eta = eta_seconds(n.distance_m, courier.vehicle)
        out.append(
            Candidate(
                courier=courier,
                lat=pos.lat,
                lon=pos.lon,
                recorded_at=pos.recorded_at,
                battery=pos.battery,
                distance_m=round(n.distance_m, 1),
                eta_s=eta,
                eta_to_client_s=eta + eta_seconds(leg, courier.vehicle) if leg is not None else None,
            )
        )
    out.sort(key=lambda c: (c.eta_s, c.distance_m, c.courier.id))
    return out[:limit]


def assign_courier(
    session: Session,
    order_id: int,
    courier_id: int,
    *,
    actor_id: int | None,
    by: str = "dispatcher",
    now: dt.datetime | None = None,
) -> Order:
    """A dispatcher gives an unclaimed order to a courier (same guard as a claim), with audit."""
    now = now or utcnow()
    courier = session.get(Courier, courier_id)
    if courier is None:
        raise InvalidInput(
            f"There is no courier {courier_id}.", errors=[field_error("courier_id", "Unknown courier.")]
        )
    branch_id = give(session, order_id, courier, now) if courier.active else None
    if branch_id is not None:
        return after_take(session, order_id, branch_id, courier, actor_id, now, by)
    raise why_not(session, order_id, courier, as_courier=False)


def unassign_courier(
    session: Session,
    order_id: int,
    *,
    actor_id: int | None,
    reason: str | None = None,
    now: dt.datetime | None = None,
) -> Order:
    """A dispatcher takes an order back from its courier (before pickup) into the pool."""
    order = session.get(Order, order_id)
    if order is None:
        raise NotFound(f"There is no order {order_id}.")
    if order.courier_id is None:
        raise Conflict(f"Order {order.number} has no courier.")
    return drop(
        session,
        order,
        order.courier_id,
        actor_id=actor_id,
        now=now or utcnow(),
        by="dispatcher",
        reason=reason,
    )


def auto_dispatch(
    session: Session,
    *,
    after_minutes: float,
    now: dt.datetime | None = None,
    signal_timeout_s: int = DEFAULT_SIGNAL_TIMEOUT_S,
    actor_id: int | None = None,
) -> list[tuple[int, int]]:
    """Give every delivery order ready and unclaimed for ``after_minutes`` to the nearest free courier.

    Returns ``(order_id, courier_id)`` of each assignment; each is audited as ``by: auto``.
    """
    now = now or utcnow()
    cutoff = now - dt.timedelta(minutes=after_minutes)
    waiting = session.scalars(
        select(Order.id)
        .where(
            Order.kind == "delivery",
            Order.status == OrderStatus.READY,
            Order.courier_id.is_(None),
            Order.status_changed_at <= cutoff,
            REAL_ORDER,
        )
        .order_by(Order.promised_at.asc(), Order.id.asc())
    ).all()
    done: list[tuple[int, int]] = []
    used: set[int] = set()
    for order_id in waiting:
        for candidate in dispatch_candidates(
            session, order_id, now=now, signal_timeout_s=signal_timeout_s, limit=3, exclude=used
        ):
            savepoint = session.begin_nested()
            try:
                assign_courier(session, order_id, candidate.courier.id, actor_id=actor_id, by="auto", now=now)
            except Conflict:
                savepoint.rollback()
                continue
            savepoint.commit()
            done.append((order_id, candidate.courier.id))
            used.add(candidate.courier.id)
            break
    return done


# --- manager's view -------------------------------------------------------------------------


@dataclass(frozen=True)
class CourierOverview:
    """A courier as a manager sees it: facts, state, position, load, cash."""

    courier: Courier
    state: CourierState
    position: CourierPosition | None
    carried: int
    shift: CourierShift | None


def overview(
    session: Session,
    *,
    now: dt.datetime | None = None,
    signal_timeout_s: int = DEFAULT_SIGNAL_TIMEOUT_S,
    include_inactive: bool = False,
) -> list[CourierOverview]:
    """Every courier with its derived state."""
    now = now or utcnow()
    q = select(Courier).order_by(Courier.name, Courier.id)
    if not include_inactive:
        q = q.where(Courier.active.is_(True))
    couriers = session.scalars(q).all()
    ids = [c.id for c in couriers]
    states = courier_states(session, now, signal_timeout_s=signal_timeout_s, courier_ids=ids)
    positions = {
        p.courier_id: p
        for p in session.scalars(select(CourierPosition).where(CourierPosition.courier_id.in_(ids)))
    }
    shifts = {
        s.courier_id: s
        for s in session.scalars(
            select(CourierShift).where(CourierShift.ended_at.is_(None), CourierShift.courier_id.in_(ids))
        )
    }
    carried = dict(
        session.execute(
            select(Order.courier_id, func.count())
            .where(Order.courier_id.in_(ids), Order.status.in_(CARRIED_STATES))
            .group_by(Order.courier_id)
        ).all()
    )
    return [
        CourierOverview(
            courier=c,
            state=states.get(c.id, CourierState.OFFLINE),
            position=positions.get(c.id),
            carried=carried.get(c.id, 0),
            shift=shifts.get(c.id),
        )
        for c in couriers
    ]
