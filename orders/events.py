"""Facts about orders, published after commit."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from frontoffice.money import Minor


@dataclass(frozen=True)
class OrderEvent:
    """Base of every order fact."""

    order_id: int
    branch_id: int


@dataclass(frozen=True)
class OrderPlaced(OrderEvent):
    """A new order was taken."""

    number: str
    status: str
    kind: str
    total: Minor
    client_phone: str
    client_name: str
    payment_kind: str
    created_at: dt.datetime
    promised_at: dt.datetime | None
    lat: float | None
    lon: float | None
    actor_id: int | None


@dataclass(frozen=True)
class OrderStatusChanged(OrderEvent):
    """An order moved from one state to another."""

    number: str
    from_status: str
    to_status: str
    reason: str | None
    at: dt.datetime
    actor_id: int | None
    courier_id: int | None = None


@dataclass(frozen=True)
class CourierAssigned(OrderEvent):
    """A courier took (or was given) an order; ``courier_id`` None means released."""

    courier_id: int | None
    previous_courier_id: int | None
    at: dt.datetime
    actor_id: int | None


@dataclass(frozen=True)
class OrderEdited(OrderEvent):
    """An order was changed after it was taken (lines, address, time, payment or comment): its
    receipts were split again and ``version`` is the order's version after the change."""

    number: str
    version: int
    status: str
    #: The fields that changed, e.g. ("lines", "address", "total").
    changed: tuple[str, ...]
    total: Minor
    promised_at: dt.datetime | None
    lat: float | None
    lon: float | None
    at: dt.datetime
    actor_id: int | None
    reason: str | None
    courier_id: int | None = None
