"""Shifts and cash: start with a change float, end handing cash in, the shift report."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from couriers.events import CourierShiftChanged
from couriers.models import Courier, CourierDelivery, CourierShift, CourierTrackPoint
from couriers.services.register import get_courier
from couriers.services.tracking import CARRIED_STATES
from couriers.spatial import path_length_m
from frontoffice.db import publish, utcnow
from frontoffice.errors import Conflict, InvalidInput, NotFound, field_error
from orders.models import Order


def open_shift(session: Session, courier_id: int) -> CourierShift | None:
    """The courier's open shift, if any."""
    return session.scalar(
        select(CourierShift).where(CourierShift.courier_id == courier_id, CourierShift.ended_at.is_(None))
    )


def lock_courier(session: Session, courier_id: int) -> None:
    """Hold the courier's row until the transaction ends."""
    # PostgreSQL: serialize this courier's claims and shift changes (SQLite writers are serial anyway).
    session.execute(select(Courier.id).where(Courier.id == courier_id).with_for_update())


def start_shift(
    session: Session, courier: Courier, *, opening_cash: int = 0, now: dt.datetime | None = None
) -> CourierShift:
    """Open a shift with the change float the courier takes along; 409 if one is already open."""
    now = now or utcnow()
    if opening_cash < 0:
        raise InvalidInput(
            "The opening cash cannot be negative.", errors=[field_error("opening_cash", "Negative.")]
        )
    lock_courier(session, courier.id)
    current = open_shift(session, courier.id)
    if current is not None:
        raise Conflict(
            f"A shift is already open since {current.started_at.isoformat()}; end it first.",
            shift_id=current.id,
        )
    shift = CourierShift(courier_id=courier.id, started_at=now, opening_cash=opening_cash, cash_collected=0)
    session.add(shift)
    try:
        session.flush()
    except IntegrityError:
        raise Conflict("A shift was opened at the same moment; reload.") from None
    publish(session, CourierShiftChanged(courier.id, True, now, tuple(courier.branch_ids)))
    return shift


@dataclass
class ShiftReport:
    """What happened in one shift: time, orders, cash, distance."""

    shift: CourierShift
    courier: Courier
    delivered: int
    failed: int
    deliveries: list[tuple[CourierDelivery, str]]
    distance_m: float
    expected_cash: int
    discrepancy: int | None


def shift_report(session: Session, shift: CourierShift, now: dt.datetime | None = None) -> ShiftReport:
    """The report of a shift (open or closed)."""
    now = now or utcnow()
    courier = get_courier(session, shift.courier_id)
    rows = session.execute(
        select(CourierDelivery, Order.number)
        .join(Order, Order.id == CourierDelivery.order_id)
        .where(CourierDelivery.shift_id == shift.id)
        .order_by(CourierDelivery.at)
    ).all()
    deliveries = [(r[0], r[1]) for r in rows]
    end = shift.ended_at or now
    track = session.execute(
        select(CourierTrackPoint.lat, CourierTrackPoint.lon)
        .where(
            CourierTrackPoint.courier_id == shift.courier_id,
            CourierTrackPoint.recorded_at >= shift.started_at,
            CourierTrackPoint.recorded_at <= end,
        )
        .order_by(CourierTrackPoint.recorded_at)
    ).all()
    expected = shift.opening_cash + shift.cash_collected
    return ShiftReport(
        shift=shift,
        courier=courier,
        delivered=sum(1 for d, _ in deliveries if d.outcome == "delivered"),
        failed=sum(1 for d, _ in deliveries if d.outcome == "failed"),
        deliveries=deliveries,
        distance_m=round(path_length_m((r[0], r[1]) for r in track), 1),
        expected_cash=expected,
        discrepancy=None if shift.closing_cash is None else shift.closing_cash - expected,
    )


def end_shift(
    session: Session, courier: Courier, *, closing_cash: int | None = None, now: dt.datetime | None = None
) -> ShiftReport:
    """Close the open shift, recording the cash handed in (default: all cash on hand); 409 while
    the courier still carries orders."""
    now = now or utcnow()
    lock_courier(session, courier.id)
    shift = open_shift(session, courier.id)
    if shift is None:
        raise Conflict("No shift is open.")
    carried = session.scalars(
        select(Order.number).where(Order.courier_id == courier.id, Order.status.in_(CARRIED_STATES))
    ).all()
    if carried:
        raise Conflict(
            f"Finish or release your orders before ending the shift: {', '.join(carried)}.",
            orders=list(carried),
        )
    if closing_cash is not None and closing_cash < 0:
        raise InvalidInput(
            "The cash handed in cannot be negative.", errors=[field_error("cash_handed_in", "Negative.")]
        )
    shift.ended_at = now
    shift.closing_cash = shift.opening_cash + shift.cash_collected if closing_cash is None else closing_cash
    session.flush()
    publish(session, CourierShiftChanged(courier.id, False, now, tuple(courier.branch_ids)))
    return shift_report(session, shift, now)


def get_shift(session: Session, courier_id: int, shift_id: int) -> CourierShift:
    """One of the courier's own shifts, or 404."""
    shift = session.get(CourierShift, shift_id)
    if shift is None or shift.courier_id != courier_id:
        raise NotFound(f"You have no shift {shift_id}.")
    return shift


def purge_track_points(session: Session, older_than_days: float, *, now: dt.datetime | None = None) -> int:
    """Delete track points recorded more than ``older_than_days`` ago (the track-point retention); how many."""
    cutoff = (now or utcnow()) - dt.timedelta(days=older_than_days)
    return session.execute(delete(CourierTrackPoint).where(CourierTrackPoint.recorded_at < cutoff)).rowcount
