"""Facts about orders, published after commit."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


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
    total: int
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


# Courier facts live here too: orders is the vocabulary every package may import, and the
# monitor (a leaf) must hear couriers without importing the couriers package.


@dataclass(frozen=True)
class CourierMoved:
    """A courier's current position changed (coalesce before sending to screens)."""

    courier_id: int
    lat: float
    lon: float
    at: dt.datetime
    branch_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class CourierShiftChanged:
    """A courier started (``on_shift`` True) or ended a shift."""

    courier_id: int
    on_shift: bool
    at: dt.datetime
    branch_ids: tuple[int, ...] = ()
