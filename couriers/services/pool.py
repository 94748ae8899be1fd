"""A courier and the order pool: claim, release, pick up, deliver (with cash and proofs), fail;
and what a courier sees (the pool, the orders carried, the history).

Status moves go through :func:`orders.services.change_status`, so the audit trail and the
events of an order stay in one place.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from couriers.models import Courier, CourierDelivery, CourierShift, DeliveryProof
from couriers.services.assignment import POOL, after_take, drop, give, why_not
from couriers.services.shifts import open_shift
from couriers.services.tracking import CARRIED_STATES, current_position
from couriers.spatial import distance_m, valid_coordinates
from couriers.tracking import TrackPoint
from frontoffice.db import utcnow
from frontoffice.errors import Conflict, InvalidInput, NotFound, field_error
from orders.models import REAL_ORDER, Order
from orders.services import change_status
from orders.states import POOL_STATES, TERMINAL, OrderStatus

#: Why a delivery failed; ``other`` needs a comment.
FAIL_REASONS = {
    "client_absent": "Nobody at the door and the client does not answer",
    "client_refused": "The client refused the order",
    "wrong_address": "The address does not exist or is wrong",
    "unreachable": "The place cannot be reached (closed area, road blocked)",
    "damaged": "The order was damaged on the way",
    "other": "Another reason (explain in the comment)",
}

#: Accepted proof images: content type → the first bytes every such file starts with.
PROOF_TYPES = {"image/jpeg": b"\xff\xd8\xff", "image/png": b"\x89PNG\r\n\x1a\n", "image/webp": b"RIFF"}
PROOF_KINDS = ("photo", "signature")
MAX_PROOF_BYTES = 512 * 1024


def claim_order(
    session: Session, courier: Courier, order_id: int, *, actor_id: int | None, now: dt.datetime | None = None
) -> Order:
    """A courier takes an order from the pool: exactly one courier wins, the others get 409.

    Claiming an order the courier already has answers it again (a retry), changing nothing.
    """
    now = now or utcnow()
    branch_id = give(session, order_id, courier, now)
    if branch_id is not None:
        return after_take(session, order_id, branch_id, courier, actor_id, now, "courier")
    order = session.get(Order, order_id, populate_existing=True)
    if order is not None and order.courier_id == courier.id and order.status in CARRIED_STATES:
        return order
    raise why_not(session, order_id, courier, as_courier=True)


def _own_order(session: Session, courier: Courier, order_id: int) -> Order:
    order = session.get(Order, order_id, populate_existing=True)
    if order is None or order.courier_id != courier.id:
        raise NotFound(f"You have no order {order_id}.")
    return order


def release_order(
    session: Session,
    courier: Courier,
    order_id: int,
    *,
    actor_id: int | None,
    reason: str | None = None,
    now: dt.datetime | None = None,
) -> Order:
    """A courier gives an order back to the pool (only before pickup)."""
    order = _own_order(session, courier, order_id)
    return drop(
        session, order, courier.id, actor_id=actor_id, now=now or utcnow(), by="courier", reason=reason
    )


def _require_shift(session: Session, courier: Courier) -> CourierShift:
    shift = open_shift(session, courier.id)
    if shift is None:
        raise Conflict("Start a shift first.")
    return shift


def pickup_order(
    session: Session, courier: Courier, order_id: int, *, actor_id: int | None, now: dt.datetime | None = None
) -> Order:
    """The courier leaves the branch with a ready order (ready → in_delivery)."""
    order = _own_order(session, courier, order_id)
    _require_shift(session, courier)
    return change_status(
        session,
        order.id,
        OrderStatus.IN_DELIVERY,
        actor_id=actor_id,
        now=now,
        payload={"courier_id": courier.id},
    )


@dataclass(frozen=True)
class ProofUpload:
    """A photo or signature image sent with a delivery, base64 encoded."""

    kind: str
    content_type: str
    data_base64: str


def decode_proofs(proofs: Sequence[ProofUpload]) -> list[tuple[str, str, bytes]]:
    """Decode and check proof images (kind, type, size, magic bytes); 422 naming each bad one."""
    errors: list[dict] = []
    out: list[tuple[str, str, bytes]] = []
    if len(proofs) > len(PROOF_KINDS):
        errors.append(field_error("proofs", f"At most {len(PROOF_KINDS)} proofs (one photo, one signature)."))
    seen: set[str] = set()
    for i, proof in enumerate(proofs):
        where = f"proofs.{i}"
        if proof.kind not in PROOF_KINDS:
            errors.append(field_error(f"{where}.kind", f"The kind must be one of {', '.join(PROOF_KINDS)}."))
            continue
        if proof.kind in seen:
            errors.append(field_error(f"{where}.kind", f"Only one {proof.kind}."))
            continue
        seen.add(proof.kind)
        magic = PROOF_TYPES.get(proof.content_type)
        if magic is None:
            errors.append(field_error(f"{where}.content_type", f"Accepted types: {', '.join(PROOF_TYPES)}."))
            continue
        try:
            data = base64.b64decode(proof.data_base64, validate=True)
        except (binascii.Error, ValueError):
            errors.append(field_error(f"{where}.data_base64", "Not valid base64."))
            continue
        if not data:
            errors.append(field_error(f"{where}.data_base64", "The image is empty."))
        elif len(data) > MAX_PROOF_BYTES:
            errors.append(
                field_error(
                    f"{where}.data_base64",
                    f"The image has {len(data)} bytes; the limit is {MAX_PROOF_BYTES}.",
                )
            )
        elif not data.startswith(magic) or (proof.content_type == "image/webp" and data[8:12] != b"WEBP"):
            errors.append(
                field_error(f"{where}.data_base64", f"The bytes are not a {proof.content_type} image.")
            )
        else:
            out.append((proof.kind, proof.content_type, data))
    if errors:
        raise InvalidInput("The proof of delivery is not acceptable.", errors=errors)
    return out


def _stamp(
    session: Session, courier_id: int, lat: float | None, lon: float | None
) -> tuple[float | None, float | None]:
    if lat is not None or lon is not None:
        if not valid_coordinates(lat, lon):
            raise InvalidInput(
                "The position stamp needs a valid lat and lon.",
                errors=[field_error("lat", "Invalid coordinates.")],
            )
        return lat, lon
    pos = current_position(session, courier_id)
    return (pos.lat, pos.lon) if pos else (None, None)


def deliver_order(
    session: Session,
    courier: Courier,
    order_id: int,
    *,
    actor_id: int | None,
    cash_collected: int | None = None,
    lat: float | None = None,
    lon: float | None = None,
    proofs: Sequence[ProofUpload] = (),
    comment: str = "",
    now: dt.datetime | None = None,
) -> Order:
    """Hand the order over: cash orders record the cash taken (it joins the shift's cash on hand),
    with optional photo/signature and the position where it happened."""
    now = now or utcnow()
    order = _own_order(session, courier, order_id)
    shift = _require_shift(session, courier)
    if order.payment_kind == "cash":
        if cash_collected is None:
            raise InvalidInput(
                f"Order {order.number} is paid in cash: say how much cash you took.",
                errors=[field_error("cash_collected", "Required for cash orders.")],
                total=str(order.total / 100),
            )
    elif cash_collected:
        raise InvalidInput(
            f"Order {order.number} is paid by {order.payment_kind}; no cash is taken.",
            errors=[field_error("cash_collected", "Only cash orders collect cash.")],
        )
    cash = cash_collected or 0
    if cash < 0:
        raise InvalidInput("Cash cannot be negative.", errors=[field_error("cash_collected", "Negative.")])
    decoded = decode_proofs(proofs)
    stamp_lat, stamp_lon = _stamp(session, courier.id, lat, lon)
    payload: dict[str, Any] = {"courier_id": courier.id, "lat": stamp_lat, "lon": stamp_lon}
    if order.payment_kind == "cash":
        payload["cash_collected"] = cash
        payload["cash_expected"] = order.total
    order = change_status(
        session, order.id, OrderStatus.DELIVERED, actor_id=actor_id, now=now, payload=payload
    )
    session.add(
        CourierDelivery(
            order_id=order.id,
            courier_id=courier.id,
            shift_id=shift.id,
            outcome="delivered",
            comment=comment.strip(),
            cash_collected=cash,
            lat=stamp_lat,
            lon=stamp_lon,
            at=now,
        )
    )
    for kind, content_type, data in decoded:
        session.add(
            DeliveryProof(
                order_id=order.id,
                courier_id=courier.id,
                kind=kind,
                content_type=content_type,
                size=len(data),
                sha256=hashlib.sha256(data).hexdigest(),
                data=data,
                created_at=now,
            )
        )
    if cash:
        session.execute(
            update(CourierShift)
            .where(CourierShift.id == shift.id)
            .values(cash_collected=CourierShift.cash_collected + cash)
        )
    session.flush()
    return order


def fail_order(
    session: Session,
    courier: Courier,
    order_id: int,
    *,
    actor_id: int | None,
    reason_code: str,
    comment: str = "",
    lat: float | None = None,
    lon: float | None = None,
    now: dt.datetime | None = None,
) -> Order:
    """The delivery could not be made: a reason code (and a comment for ``other``)."""
    now = now or utcnow()
    if reason_code not in FAIL_REASONS:
        raise InvalidInput(
            f"Unknown reason {reason_code!r}; known: {', '.join(FAIL_REASONS)}.",
            errors=[field_error("reason_code", "Unknown reason.")],
        )
    comment = comment.strip()
    if reason_code == "other" and not comment:
        raise InvalidInput(
            "Explain the reason in the comment.", errors=[field_error("comment", "Required for other.")]
        )
    order = _own_order(session, courier, order_id)
    shift = _require_shift(session, courier)
    stamp_lat, stamp_lon = _stamp(session, courier.id, lat, lon)
    reason = f"{reason_code}: {comment}" if comment else reason_code
    order = change_status(
        session,
        order.id,
        OrderStatus.FAILED,
        actor_id=actor_id,
        reason=reason,
        now=now,
        payload={"courier_id": courier.id, "reason_code": reason_code, "lat": stamp_lat, "lon": stamp_lon},
    )
    session.add(
        CourierDelivery(
            order_id=order.id,
            courier_id=courier.id,
            shift_id=shift.id,
            outcome="failed",
            reason_code=reason_code,
            comment=comment,
            cash_collected=0,
            lat=stamp_lat,
            lon=stamp_lon,
            at=now,
        )
    )
    session.flush()
    return order


# --- what a courier sees ---------------------------------------------------------------------


@dataclass(frozen=True)
class PoolEntry:
    """An order as a courier sees it, with distances (metres; None when a position is unknown)."""

    order: Order
    from_courier_m: float | None
    from_branch_m: float | None


def _entry(order: Order, pos: TrackPoint | None) -> PoolEntry:
    has_target = order.lat is not None and order.lon is not None
    from_courier = distance_m(pos.lat, pos.lon, order.lat, order.lon) if has_target and pos else None
    branch = order.branch
    from_branch = distance_m(branch.lat, branch.lon, order.lat, order.lon) if has_target else None
    return PoolEntry(order, from_courier, from_branch)


def describe(session: Session, courier_id: int | None, order: Order) -> PoolEntry:
    """An order with its distances from a courier's last position and from its branch."""
    return _entry(order, current_position(session, courier_id) if courier_id is not None else None)


def available_orders(session: Session, courier: Courier) -> list[PoolEntry]:
    """Unclaimed delivery orders of the courier's branches that can be taken, soonest promised first."""
    branches = courier.branch_ids
    if not branches:
        return []
    orders = session.scalars(
        select(Order)
        .where(
            Order.kind == "delivery",
            Order.courier_id.is_(None),
            Order.status.in_(POOL),
            Order.branch_id.in_(branches),
            REAL_ORDER,
        )
        .order_by(Order.promised_at.asc(), Order.id.asc())
        .limit(200)
    ).all()
    pos = current_position(session, courier.id)
    return [_entry(o, pos) for o in orders]


def active_orders(session: Session, courier: Courier) -> list[PoolEntry]:
    """The orders the courier has taken and not finished."""
    orders = session.scalars(
        select(Order)
        .where(Order.courier_id == courier.id, Order.status.in_(CARRIED_STATES))
        .order_by(Order.promised_at.asc(), Order.id.asc())
    ).all()
    pos = current_position(session, courier.id)
    return [_entry(o, pos) for o in orders]


def order_history(
    session: Session, courier: Courier, *, page: int = 1, per_page: int = 50
) -> tuple[list[Order], int]:
    """Finished orders the courier carried, newest first, and their number."""
    where = (Order.courier_id == courier.id, Order.status.in_(list(TERMINAL)))
    total = session.scalar(select(func.count()).select_from(Order).where(*where)) or 0
    rows = session.scalars(
        select(Order)
        .where(*where)
        .order_by(Order.status_changed_at.desc(), Order.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return list(rows), total


def visible_order(session: Session, courier: Courier, order_id: int) -> PoolEntry:
    """An order the courier may see: one it carried, or one in its pool; 404 otherwise."""
    order = session.get(Order, order_id)
    if order is None:
        raise NotFound(f"You have no order {order_id}.")
    mine = order.courier_id == courier.id
    in_pool = (
        order.courier_id is None
        and order.kind == "delivery"
        and not order.training
        and order.status in POOL_STATES
        and order.branch_id in courier.branch_ids
    )
    if not (mine or in_pool):
        raise NotFound(f"You have no order {order_id}.")
    return _entry(order, current_position(session, courier.id))


def delivery_of(session: Session, order_id: int) -> CourierDelivery | None:
    """How a courier's trip with an order ended, if it did."""
    return session.get(CourierDelivery, order_id)
