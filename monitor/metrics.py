"""Delivery metrics of one business day, computed from plain rows (pure: no Flask, no session).

Definitions used everywhere on the monitor, the API and the reports:

* **Revenue** is the total of delivered orders; money still travelling with open orders is
  ``pending``. The **average check** is revenue divided by the number of delivered orders,
  rounded half up to a whole minor unit.
* **Delivery time** runs from ``created_at`` to ``delivered_at``, in minutes. Percentiles
  interpolate linearly between the closest ranks (the usual "type 7" definition, the same
  as ``numpy.percentile``'s default).
* **On time** means ``delivered_at <= promised_at``; orders without a promise do not count.
* **Late now** are open orders whose ``promised_at`` has passed; their colour class grows
  with the minutes late (see :func:`lateness_level`).
* A courier **on shift** is exactly one of ``free`` (no active orders), ``busy`` or
  ``no_signal`` (no position for longer than the signal timeout) — the three add up.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from zoneinfo import ZoneInfo

from orders.lateness import lateness_level

#: Every order status, in the order the monitor shows them.
STATUSES = (
    "new",
    "on_hold",
    "confirmed",
    "cooking",
    "ready",
    "in_delivery",
    "delivered",
    "failed",
    "rejected",
    "cancelled",
)
#: Statuses of orders that are still open (not closed one way or another).
OPEN_STATUSES = frozenset({"new", "on_hold", "confirmed", "cooking", "ready", "in_delivery"})
#: Statuses in which an order keeps its courier busy.
COURIER_BUSY_STATUSES = frozenset({"confirmed", "cooking", "ready", "in_delivery"})


@dataclass(frozen=True)
class OrderRow:
    """What the metrics need to know of one order."""

    id: int
    number: str
    branch_id: int
    status: str
    total: int
    created_at: dt.datetime
    promised_at: dt.datetime | None = None
    delivered_at: dt.datetime | None = None
    kind: str = "delivery"
    courier_id: int | None = None
    lat: float | None = None
    lon: float | None = None
    address: str = ""
    client_name: str = ""


@dataclass(frozen=True)
class CourierRow:
    """A courier with an open shift, their latest position and how many orders they carry."""

    id: int
    name: str
    active_orders: int = 0
    last_seen: dt.datetime | None = None
    lat: float | None = None
    lon: float | None = None
    branch_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class Revenue:
    """Money of the day in minor units."""

    total: int
    delivered: int
    average_check: int
    pending: int


@dataclass(frozen=True)
class DeliveryTimes:
    """Created → delivered, in minutes; None when nothing was delivered."""

    count: int
    average: float | None
    median: float | None
    p90: float | None


@dataclass(frozen=True)
class OnTime:
    """Delivered orders with a promise, and how many of them arrived by it."""

    count: int
    on_time: int

    @property
    def rate(self) -> float | None:
        """Share on time, 0..1; None when there is nothing to judge."""
        return self.on_time / self.count if self.count else None


@dataclass(frozen=True)
class LateOrder:
    """An open order past its promised time."""

    order: OrderRow
    minutes_late: int
    level: str


@dataclass(frozen=True)
class CourierState:
    """A courier on shift and the one state the monitor shows for them."""

    courier: CourierRow
    state: str


@dataclass(frozen=True)
class CourierSummary:
    """How many couriers are on shift, and of them free, busy, without signal."""

    on_shift: int
    free: int
    busy: int
    no_signal: int
    couriers: tuple[CourierState, ...] = field(default=())


@dataclass(frozen=True)
class HourlyComparison:
    """Orders placed per local hour today and on the same weekday a week ago."""

    today: tuple[int, ...]
    last_week: tuple[int, ...]
    today_so_far: int
    last_week_same_time: int


def orders_by_status(orders: Iterable[OrderRow]) -> dict[str, int]:
    """Count orders per status; every known status is present, unknown ones are added."""
    counts = dict.fromkeys(STATUSES, 0)
    for order in orders:
        counts[order.status] = counts.get(order.status, 0) + 1
    return counts


def revenue(orders: Iterable[OrderRow]) -> Revenue:
    """Revenue of delivered orders, the average check, and what open orders still carry."""
    total = delivered = pending = 0
    for order in orders:
        if order.status == "delivered":
            total += order.total
            delivered += 1
        elif order.status in OPEN_STATUSES:
            pending += order.total
    average = div_half_up(total, delivered) if delivered else 0
    return Revenue(total=total, delivered=delivered, average_check=average, pending=pending)


def div_half_up(numerator: int, denominator: int) -> int:
    """``numerator / denominator`` rounded half up to an integer (non-negative numbers)."""
    quotient, remainder = divmod(numerator, denominator)
    return quotient + (1 if 2 * remainder >= denominator else 0)


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0..100) of ``values`` by linear interpolation between closest ranks."""
    if not values:
        raise ValueError("percentile of no values")
    if not 0 <= q <= 100:
        raise ValueError("q must be within 0..100")
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    lower = math.floor(position)
    upper = math.ceil(position)
    if lower == upper:
        return float(ordered[lower])
    return ordered[lower] + (ordered[upper] - ordered[lower]) * (position - lower)


def delivery_minutes(order: OrderRow) -> float | None:
    """Minutes from creation to delivery, or None for an order not delivered."""
    if order.status != "delivered" or order.delivered_at is None:
        return None
    return (order.delivered_at - order.created_at).total_seconds() / 60


def delivery_times(orders: Iterable[OrderRow]) -> DeliveryTimes:
    """Average, median and 90th percentile of the delivery times of delivered orders."""
    minutes = [m for m in (delivery_minutes(o) for o in orders) if m is not None]
    if not minutes:
        return DeliveryTimes(0, None, None, None)
    return DeliveryTimes(
        count=len(minutes),
        average=round(sum(minutes) / len(minutes), 1),
        median=round(percentile(minutes, 50), 1),
        p90=round(percentile(minutes, 90), 1),
    )


def on_time(orders: Iterable[OrderRow]) -> OnTime:
    """Delivered orders with a promised time, and those delivered by it."""
    count = punctual = 0
    for order in orders:
        if order.status != "delivered" or order.delivered_at is None or order.promised_at is None:
            continue
        count += 1
        if order.delivered_at <= order.promised_at:
            punctual += 1
    return OnTime(count=count, on_time=punctual)


def late_orders(orders: Iterable[OrderRow], now: dt.datetime) -> list[LateOrder]:
    """Open orders past their promised time, the latest first (then by number)."""
    late = []
    for order in orders:
        if order.status not in OPEN_STATUSES or order.promised_at is None or order.promised_at >= now:
            continue
        minutes = (now - order.promised_at).total_seconds() / 60
        late.append(LateOrder(order=order, minutes_late=math.floor(minutes), level=lateness_level(minutes)))
    late.sort(key=lambda item: (-(now - item.order.promised_at).total_seconds(), item.order.number))
    return late


def courier_state(courier: CourierRow, now: dt.datetime, signal_timeout_s: float) -> str:
    """``no_signal`` when the last position is missing or too old, else ``busy`` or ``free``."""
    if courier.last_seen is None or (now - courier.last_seen).total_seconds() > signal_timeout_s:
        return "no_signal"
    return "busy" if courier.active_orders > 0 else "free"


def courier_summary(
    couriers: Iterable[CourierRow], now: dt.datetime, signal_timeout_s: float
) -> CourierSummary:
    """Couriers on shift split into free, busy and no signal."""
    states = tuple(CourierState(c, courier_state(c, now, signal_timeout_s)) for c in couriers)
    count = {"free": 0, "busy": 0, "no_signal": 0}
    for item in states:
        count[item.state] += 1
    return CourierSummary(
        on_shift=len(states),
        free=count["free"],
        busy=count["busy"],
        no_signal=count["no_signal"],
        couriers=tuple(sorted(states, key=lambda s: (s.courier.name, s.courier.id))),
    )


def hourly_counts(created: Iterable[dt.datetime], zone: ZoneInfo) -> list[int]:
    """Orders per local hour (24 buckets) of the given creation times."""
    buckets = [0] * 24
    for at in created:
        buckets[at.astimezone(zone).hour] += 1
    return buckets


def hourly_comparison(
    today: Iterable[dt.datetime], last_week: Iterable[dt.datetime], now: dt.datetime, zone: ZoneInfo
) -> HourlyComparison:
    """Orders per hour today against the same weekday a week ago, and the totals up to this moment."""
    today = list(today)
    last_week = list(last_week)
    week_ago = now - dt.timedelta(days=7)
    return HourlyComparison(
        today=tuple(hourly_counts(today, zone)),
        last_week=tuple(hourly_counts(last_week, zone)),
        today_so_far=sum(1 for at in today if at <= now),
        last_week_same_time=sum(1 for at in last_week if at <= week_ago),
    )


def business_day(now: dt.datetime, zone: ZoneInfo) -> dt.date:
    """The business date of a moment in the business's time zone."""
    return now.astimezone(zone).date()


def share(part: int, whole: int) -> Decimal:
    """``part`` as a percentage of ``whole`` with two decimals (0 when the whole is 0)."""
    if whole <= 0:
        return Decimal("0.00")
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.01"))
