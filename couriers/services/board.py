"""The dispatch screen's reads and its one setting: the undelivered orders of a manager's branches
with their lateness, the auto-dispatch rule (on/off, after how many minutes), and the proof of
delivery of an order (photo, signature, position, cash) for the staff of its branch."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from couriers.models import Courier, CourierDelivery, DeliveryProof, DispatchSetting
from frontoffice.db import utcnow
from frontoffice.errors import InvalidInput, NotFound, field_error
from orders.lateness import lateness_level, minutes_late
from orders.models import REAL_ORDER, Branch, Order
from orders.states import ACTIVE

#: The one row of :class:`DispatchSetting`.
SETTING_ID = 1
#: Bounds of the auto-dispatch wait, in minutes.
MIN_AFTER_MINUTES, MAX_AFTER_MINUTES = 1, 240
#: At most this many orders on the screen (the most urgent first).
BOARD_LIMIT = 500


@dataclass(frozen=True)
class BoardOrder:
    """An undelivered delivery order as the dispatch screen lists it."""

    id: int
    number: str
    business_date: dt.date
    branch_id: int
    branch_name: str
    status: str
    client_name: str
    address: str
    promised_at: dt.datetime | None
    minutes_late: int | None
    late_level: str | None
    courier_id: int | None
    courier_name: str | None
    assigned_at: dt.datetime | None


def dispatch_board(
    session: Session, *, within: Collection[int] | None, now: dt.datetime | None = None
) -> list[BoardOrder]:
    """Undelivered delivery orders of the branches ``within`` (None: every branch), the one
    promised first at the top (orders without a promise last)."""
    now = now or utcnow()
    q = (
        select(Order, Branch.name, Courier.name)
        .join(Branch, Branch.id == Order.branch_id)
        .outerjoin(Courier, Courier.id == Order.courier_id)
        .where(Order.kind == "delivery", Order.status.in_(sorted(ACTIVE)), REAL_ORDER)
        .order_by(Order.promised_at.is_(None), Order.promised_at, Order.id)
        .limit(BOARD_LIMIT)
    )
    if within is not None:
        q = q.where(Order.branch_id.in_(sorted(within)))
    return [
        _board_order(order, branch, courier, minutes_late(order.promised_at, now))
        for order, branch, courier in session.execute(q).all()
    ]


def _board_order(order: Order, branch_name: str, courier_name: str | None, late: int | None) -> BoardOrder:
    return BoardOrder(
        id=order.id,
        number=order.number,
        business_date=order.business_date,
        branch_id=order.branch_id,
        branch_name=branch_name,
        status=order.status,
        client_name=order.client_name,
        address=order.address_text,
        promised_at=order.promised_at,
        minutes_late=late,
        late_level=lateness_level(late) if late is not None else None,
        courier_id=order.courier_id,
        courier_name=courier_name,
        assigned_at=order.assigned_at,
    )


def recent_deliveries(
    session: Session,
    *,
    within: Collection[int] | None,
    now: dt.datetime | None = None,
    hours: float = 3,
) -> list[BoardOrder]:
    """Delivery orders whose courier's trip ended (delivered or failed) in the last ``hours``,
    the latest first: the screen shows their proof of delivery."""
    since = (now or utcnow()) - dt.timedelta(hours=hours)
    q = (
        select(Order, Branch.name, Courier.name)
        .join(CourierDelivery, CourierDelivery.order_id == Order.id)
        .join(Branch, Branch.id == Order.branch_id)
        .outerjoin(Courier, Courier.id == CourierDelivery.courier_id)
        .where(CourierDelivery.at >= since)
        .order_by(CourierDelivery.at.desc(), Order.id.desc())
        .limit(BOARD_LIMIT)
    )
    if within is not None:
        q = q.where(Order.branch_id.in_(sorted(within)))
    return [_board_order(order, branch, courier, None) for order, branch, courier in session.execute(q).all()]


# --- the auto-dispatch rule ---------------------------------------------------------------------


@dataclass(frozen=True)
class AutoDispatchRule:
    """Whether auto-dispatch runs and after how many minutes a ready, unclaimed order goes to the
    nearest free courier; who changed it last and when (None: never changed, the defaults)."""

    enabled: bool
    after_minutes: float
    updated_at: dt.datetime | None = None
    updated_by: int | None = None


def auto_dispatch_rule(session: Session, *, default_minutes: float | None = None) -> AutoDispatchRule:
    """The rule in force: the stored one, else on when ``default_minutes`` (the
    COURIER_AUTO_DISPATCH_MINUTES setting) is given, off with 5 minutes otherwise."""
    row = session.get(DispatchSetting, SETTING_ID)
    if row is not None:
        return AutoDispatchRule(row.auto_dispatch, row.after_minutes, row.updated_at, row.updated_by)
    if default_minutes is not None and default_minutes > 0:
        return AutoDispatchRule(True, default_minutes)
    return AutoDispatchRule(False, 5)


def set_auto_dispatch_rule(
    session: Session, *, enabled: bool, after_minutes: int, actor_id: int | None
) -> AutoDispatchRule:
    """Switch auto-dispatch on or off and set its wait (422 naming ``after_minutes`` out of bounds)."""
    if not MIN_AFTER_MINUTES <= after_minutes <= MAX_AFTER_MINUTES:
        raise InvalidInput(
            f"Auto-dispatch waits {MIN_AFTER_MINUTES} to {MAX_AFTER_MINUTES} minutes.",
            errors=[
                field_error("after_minutes", f"From {MIN_AFTER_MINUTES} to {MAX_AFTER_MINUTES} minutes.")
            ],
        )
    row = session.get(DispatchSetting, SETTING_ID)
    if row is None:
        row = DispatchSetting(id=SETTING_ID)
        session.add(row)
    row.auto_dispatch = enabled
    row.after_minutes = after_minutes
    row.updated_at = utcnow()
    row.updated_by = actor_id
    session.flush()
    return AutoDispatchRule(row.auto_dispatch, row.after_minutes, row.updated_at, row.updated_by)


# --- proof of delivery --------------------------------------------------------------------------


@dataclass(frozen=True)
class ProofImage:
    """A stored photo or signature (its bytes are fetched separately)."""

    id: int
    kind: str
    content_type: str
    size: int
    created_at: dt.datetime


@dataclass(frozen=True)
class ProofOfDelivery:
    """How a courier's trip with an order ended, with the images taken at the door."""

    order_id: int
    outcome: str
    courier_id: int
    courier_name: str
    at: dt.datetime
    lat: float | None
    lon: float | None
    cash_collected: int
    reason_code: str | None
    comment: str
    images: tuple[ProofImage, ...]


def _order_within(session: Session, order_id: int, within: Collection[int] | None) -> Order:
    order = session.get(Order, order_id)
    if order is None or (within is not None and order.branch_id not in within):
        raise NotFound(f"There is no order {order_id}.")
    return order


def proof_of_delivery(
    session: Session, order_id: int, *, within: Collection[int] | None
) -> ProofOfDelivery | None:
    """The proof of delivery of an order of the branches ``within``; None before the trip ended;
    404 for an order elsewhere."""
    _order_within(session, order_id, within)
    delivery = session.get(CourierDelivery, order_id)
    if delivery is None:
        return None
    courier_name = session.scalar(select(Courier.name).where(Courier.id == delivery.courier_id)) or ""
    images = session.execute(
        select(
            DeliveryProof.id,
            DeliveryProof.kind,
            DeliveryProof.content_type,
            DeliveryProof.size,
            DeliveryProof.created_at,
        )
        .where(DeliveryProof.order_id == order_id)
        .order_by(DeliveryProof.id)
    ).all()
    return ProofOfDelivery(
        order_id=order_id,
        outcome=delivery.outcome,
        courier_id=delivery.courier_id,
        courier_name=courier_name,
        at=delivery.at,
        lat=delivery.lat,
        lon=delivery.lon,
        cash_collected=delivery.cash_collected,
        reason_code=delivery.reason_code,
        comment=delivery.comment,
        images=tuple(ProofImage(*row) for row in images),
    )


def proof_image(session: Session, proof_id: int, *, within: Collection[int] | None) -> DeliveryProof:
    """A stored proof image of an order of the branches ``within``; 404 for one of another branch
    (its existence is not told)."""
    proof = session.get(DeliveryProof, proof_id)
    branch_id = session.scalar(select(Order.branch_id).where(Order.id == proof.order_id)) if proof else None
    if proof is None or (within is not None and branch_id not in within):
        raise NotFound(f"There is no proof {proof_id}.")
    return proof


def order_in_scope(session: Session, order_id: int, within: Collection[int] | None) -> None:
    """404 for an order that does not exist or belongs to a branch outside ``within``."""
    _order_within(session, order_id, within)


def proof_counts(session: Session, order_ids: Collection[int]) -> dict[int, int]:
    """How many proof images each of ``order_ids`` has (orders with none are absent)."""
    if not order_ids:
        return {}
    return dict(
        session.execute(
            select(DeliveryProof.order_id, func.count())
            .where(DeliveryProof.order_id.in_(list(order_ids)))
            .group_by(DeliveryProof.order_id)
        ).all()
    )
