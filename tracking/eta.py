"""When the courier will be at the door, and how far along an order is (pure).

The estimate runs from the courier's latest position through the orders in their bag that come
before this one (each with a handover at the door) to this order's address. How long a leg takes
is asked of one replaceable :class:`TravelTime`: :class:`StraightLine` (the straight distance ×
a detour factor at the courier's speed) today, or a road router (``tracking.adapters.osrm``)
chosen by a setting.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from couriers.spatial import ROUTE_FACTOR, VEHICLE_SPEED_KMH, haversine_m

#: A WGS84 point, (lat, lon).
Point = tuple[float, float]

#: Seconds a courier spends at each door before moving on (handing over, taking the money).
HANDOVER_S = 180.0


class TravelTime(Protocol):
    """How long travel takes along a path."""

    def legs(self, points: Sequence[Point], speed_mps: float) -> list[float]:
        """Seconds from each of ``points`` to the next (one value fewer than points) for a courier
        whose typical speed is ``speed_mps``."""
        ...


@dataclass(frozen=True)
class StraightLine:
    """Streets are not straight: the straight (great-circle) distance × ``detour_factor``, at the
    courier's speed."""

    detour_factor: float = ROUTE_FACTOR

    def legs(self, points: Sequence[Point], speed_mps: float) -> list[float]:
        """See :meth:`TravelTime.legs`."""
        if speed_mps <= 0 or not math.isfinite(speed_mps):
            raise ValueError("speed_mps must be a positive finite number")
        return [
            haversine_m(a[0], a[1], b[0], b[1]) * self.detour_factor / speed_mps
            for a, b in zip(points, points[1:], strict=False)
        ]


def vehicle_speed_mps(vehicle: str) -> float:
    """The typical door-to-door speed of a vehicle kind (a car when unknown), metres per second."""
    return VEHICLE_SPEED_KMH.get(vehicle, VEHICLE_SPEED_KMH["car"]) / 3.6


@dataclass(frozen=True)
class BagOrder:
    """An order a courier carries: where it goes and when it was promised."""

    order_id: int
    lat: float | None
    lon: float | None
    promised_at: dt.datetime | None


def delivery_sequence(bag: Sequence[BagOrder]) -> list[BagOrder]:
    """The order in which a courier delivers the bag: earliest promise first (orders without a
    promise last), then the order taken first."""
    far = dt.datetime.max.replace(tzinfo=dt.UTC)
    return sorted(bag, key=lambda o: (o.promised_at or far, o.order_id))


def stops_before(bag: Sequence[BagOrder], order_id: int) -> list[Point]:
    """The addresses the courier delivers to before ``order_id`` (those without a position are
    skipped); every order of the bag when ``order_id`` is not in it."""
    out: list[Point] = []
    for o in delivery_sequence(bag):
        if o.order_id == order_id:
            break
        if o.lat is not None and o.lon is not None:
            out.append((o.lat, o.lon))
    return out


@dataclass(frozen=True)
class Eta:
    """An arrival estimate: ``seconds`` from ``now``, the time, and the doors visited first."""

    seconds: int
    arrive_at: dt.datetime
    stops_before: int


def estimate(
    position: Point,
    destination: Point,
    *,
    now: dt.datetime,
    speed_mps: float,
    travel: TravelTime,
    stops: Sequence[Point] = (),
    handover_s: float = HANDOVER_S,
) -> Eta:
    """When a courier at ``position`` reaches ``destination`` after delivering to ``stops`` in turn."""
    path = [position, *stops, destination]
    seconds = sum(travel.legs(path, speed_mps)) + handover_s * len(stops)
    whole = max(0, int(math.ceil(seconds)))
    return Eta(seconds=whole, arrive_at=now + dt.timedelta(seconds=whole), stops_before=len(stops))


#: The steps a customer sees, in order (``in_delivery``: on the way).
STEPS = ("placed", "cooking", "in_delivery", "delivered")
#: Which step each order status stands at.
STEP_OF_STATUS = {
    "new": "placed",
    "on_hold": "placed",
    "confirmed": "placed",
    "cooking": "cooking",
    "ready": "cooking",
    "in_delivery": "in_delivery",
    "delivered": "delivered",
}
#: Statuses that end an order without a delivery.
UNDELIVERED_ENDS = frozenset({"failed", "rejected", "cancelled"})


@dataclass(frozen=True)
class Step:
    """One step of the order's way and whether it is ``done``, ``current`` or ``todo``."""

    code: str
    state: str


def steps(status: str, last_reached: str | None = None) -> list[Step]:
    """The steps of an order in ``status``. An order that ended undelivered shows the steps it
    reached (``last_reached``: its status before the end) as done and none as current."""
    if status in UNDELIVERED_ENDS:
        reached = STEP_OF_STATUS.get(last_reached or "", "placed")
        upto = STEPS.index(reached)
        return [Step(code, "done" if i <= upto else "todo") for i, code in enumerate(STEPS)]
    current = STEPS.index(STEP_OF_STATUS.get(status, "placed"))
    if STEPS[current] == "delivered":
        return [Step(code, "done") for code in STEPS]
    return [
        Step(code, "done" if i < current else "current" if i == current else "todo")
        for i, code in enumerate(STEPS)
    ]


def first_name(name: str) -> str:
    """What a customer is told of their courier: the first word of the name."""
    parts = name.split()
    return parts[0] if parts else ""
