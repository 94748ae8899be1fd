"""Tracking links and what a customer's tracking page shows.

A delivery order gets its link when it is placed (:func:`issue_link`, a projector of
``OrderPlaced``: once per order however often the event is replayed); the link stops working
``ttl`` after the order ends (:func:`end_link`, a projector of ``OrderStatusChanged``).
:func:`tracking_view` is what the page and its socket show: the status steps, the promise, the
live ETA, and the courier's first name and position only while the order is on its way.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from couriers.models import Courier, CourierPosition
from frontoffice.db import dialect_of, execute_fast, insert_or_skip, utcnow
from orders.events import OrderPlaced, OrderStatusChanged
from orders.models import Order, OrderEvent
from orders.states import TERMINAL, OrderStatus
from tracking import eta
from tracking.models import TrackingLink

#: What a token looks like: 128 random bits in URL-safe base64 (22 characters). Anything else is
#: refused before the database is asked.
TOKEN_FORMAT = re.compile(r"[A-Za-z0-9_-]{22}")
#: The path of a tracking page; ``{token}`` is the link's token.
PAGE_PATH = "/t/{token}"


def new_token() -> str:
    """A fresh unguessable token (128 random bits)."""
    return secrets.token_urlsafe(16)


# Built once: a link is issued for every delivery order placed.
_TOKEN_OF = select(TrackingLink.token).where(TrackingLink.order_id == bindparam("order_id"))
_ORDER_STORED = select(Order.id).where(Order.id == bindparam("order_id"))


def issue_link(session: Session, order_id: int) -> str:
    """The order's tracking token, made on first call (the same token on every later one)."""
    execute_fast(
        session,
        insert_or_skip(dialect_of(session), TrackingLink.__table__, ("order_id",)),
        {"order_id": order_id, "token": new_token(), "created_at": utcnow()},
    )
    return execute_fast(session, _TOKEN_OF, {"order_id": order_id}).scalar()


def on_order_placed(session: Session, event: OrderPlaced) -> None:
    """A delivery order gets its tracking link (projector; a replay changes nothing). An event of an
    order that is not stored (a fact journaled by hand, a test's) links nothing."""
    stored = execute_fast(session, _ORDER_STORED, {"order_id": event.order_id}).scalar() is not None
    if event.kind == "delivery" and stored:
        issue_link(session, event.order_id)


def end_link(session: Session, event: OrderStatusChanged, ttl: dt.timedelta) -> None:
    """An order that ended (delivered, failed, cancelled, rejected) keeps its link ``ttl`` longer
    (projector; a replay writes the same time)."""
    if event.to_status in TERMINAL:
        session.execute(
            update(TrackingLink)
            .where(TrackingLink.order_id == event.order_id)
            .values(expires_at=event.at + ttl)
        )


def valid_link(session: Session, token: str, now: dt.datetime | None = None) -> TrackingLink | None:
    """The link of ``token`` while it works; None for a malformed, unknown or expired one."""
    if not TOKEN_FORMAT.fullmatch(token or ""):
        return None
    link = session.scalar(select(TrackingLink).where(TrackingLink.token == token))
    if link is None or (link.expires_at is not None and link.expires_at <= (now or utcnow())):
        return None
    return link


def link_of(session: Session, order_id: int) -> TrackingLink | None:
    """The order's tracking link, working or not (None: the order has none)."""
    return session.scalar(select(TrackingLink).where(TrackingLink.order_id == order_id))


def tracking_url(
    session: Session,
    order_id: int,
    *,
    base_url: str | None,
    now: dt.datetime | None = None,
    issue: bool = False,
) -> str | None:
    """The absolute address of an order's tracking page on ``base_url`` (the service's public
    address); None when the order has no working link or no public address is known.

    ``issue``: a delivery order under way that has no link yet gets it now (in the caller's write
    transaction), so a caller that hears ``OrderPlaced`` before the link's own projector — the
    "order taken" message — still has the link to send.
    """
    if not base_url:
        return None
    link = link_of(session, order_id)
    if link is None and issue:
        order = session.get(Order, order_id)
        if order is not None and order.kind == "delivery" and order.status not in TERMINAL:
            issue_link(session, order_id)
            link = link_of(session, order_id)
    if link is None or (link.expires_at is not None and link.expires_at <= (now or utcnow())):
        return None
    return base_url.rstrip("/") + PAGE_PATH.format(token=link.token)


@dataclass(frozen=True)
class CourierOnTheWay:
    """What the customer sees of their courier while the order is on its way."""

    first_name: str
    lat: float | None
    lon: float | None
    position_at: dt.datetime | None


@dataclass(frozen=True)
class TrackingView:
    """One order as its tracking page shows it."""

    order_id: int
    number: str
    business_date: dt.date
    status: str
    steps: list[eta.Step]
    promised_at: dt.datetime | None
    eta: eta.Eta | None
    courier: CourierOnTheWay | None
    branch_name: str
    branch_phone: str
    destination: eta.Point | None

    def as_json(self) -> dict[str, Any]:
        """The view as the page's script reads it (times in ISO 8601, codes not texts)."""
        return {
            "order_id": self.order_id,
            "number": self.number,
            "business_date": self.business_date.isoformat(),
            "status": self.status,
            "steps": [{"code": s.code, "state": s.state} for s in self.steps],
            "promised_at": _iso(self.promised_at),
            "eta": None
            if self.eta is None
            else {
                "seconds": self.eta.seconds,
                "arrive_at": _iso(self.eta.arrive_at),
                "stops_before": self.eta.stops_before,
            },
            "courier": None
            if self.courier is None
            else {
                "first_name": self.courier.first_name,
                "lat": self.courier.lat,
                "lon": self.courier.lon,
                "position_at": _iso(self.courier.position_at),
            },
            "branch": {"name": self.branch_name, "phone": self.branch_phone},
            "destination": None
            if self.destination is None
            else {"lat": self.destination[0], "lon": self.destination[1]},
        }


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def tracking_view(
    session: Session, order_id: int, *, travel: eta.TravelTime, now: dt.datetime | None = None
) -> TrackingView | None:
    """What the tracking page of ``order_id`` shows now; None when there is no such order."""
    now = now or utcnow()
    order = session.get(Order, order_id, populate_existing=True)
    if order is None:
        return None
    last_reached = None
    if order.status in eta.UNDELIVERED_ENDS:
        last_reached = session.scalar(
            select(OrderEvent.from_status)
            .where(OrderEvent.order_id == order.id, OrderEvent.to_status == order.status)
            .order_by(OrderEvent.id.desc())
            .limit(1)
        )
    destination = (order.lat, order.lon) if order.lat is not None and order.lon is not None else None
    courier = None
    estimate = None
    # The courier is shown only between pickup and the door: never before, never after.
    if order.status == OrderStatus.IN_DELIVERY and order.courier_id is not None:
        courier, estimate = _on_the_way(session, order, destination, travel, now)
    return TrackingView(
        order_id=order.id,
        number=order.number,
        business_date=order.business_date,
        status=order.status,
        steps=eta.steps(order.status, last_reached),
        promised_at=order.promised_at,
        eta=estimate,
        courier=courier,
        branch_name=order.branch.name,
        branch_phone=order.branch.phone,
        destination=destination,
    )


def _on_the_way(
    session: Session,
    order: Order,
    destination: eta.Point | None,
    travel: eta.TravelTime,
    now: dt.datetime,
) -> tuple[CourierOnTheWay | None, eta.Eta | None]:
    """The courier of an order on its way and, from their latest position, the ETA."""
    row = session.execute(
        select(
            Courier.name,
            Courier.vehicle,
            CourierPosition.lat,
            CourierPosition.lon,
            CourierPosition.recorded_at,
        )
        .outerjoin(CourierPosition, CourierPosition.courier_id == Courier.id)
        .where(Courier.id == order.courier_id)
    ).first()
    if row is None:
        return None, None
    name, vehicle, lat, lon, fixed_at = row
    courier = CourierOnTheWay(eta.first_name(name), lat, lon, fixed_at)
    if lat is None or lon is None or destination is None:
        return courier, None
    bag = [
        eta.BagOrder(*r)
        for r in session.execute(
            select(Order.id, Order.lat, Order.lon, Order.promised_at).where(
                Order.courier_id == order.courier_id, Order.status == OrderStatus.IN_DELIVERY
            )
        )
    ]
    estimate = eta.estimate(
        (lat, lon),
        destination,
        now=now,
        speed_mps=eta.vehicle_speed_mps(vehicle),
        travel=travel,
        stops=eta.stops_before(bag, order.id),
    )
    return courier, estimate


def orders_on_the_way(session: Session, courier_id: int) -> list[int]:
    """The orders with a tracking link that a courier carries to the door now."""
    return list(
        session.scalars(
            select(Order.id)
            .join(TrackingLink, TrackingLink.order_id == Order.id)
            .where(Order.courier_id == courier_id, Order.status == OrderStatus.IN_DELIVERY)
            .order_by(Order.id)
        )
    )
