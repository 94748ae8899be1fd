"""When an order can be promised: ASAP from the zone's time and the branch's load, pre-order slots (pure).

The load rule, kept deliberately simple so operators can explain it to a caller:
a branch absorbs :data:`BASE_CAPACITY` active orders (taken and not yet delivered,
cancelled, failed or rejected) at the zone's own delivery time; every further
:data:`STEP_ORDERS` active orders, or part of them, add :data:`STEP_MINUTES` minutes,
up to :data:`MAX_EXTRA_MINUTES`. So with a 45-minute zone and 17 active orders the
promise is 45 + 20 = 65 minutes.

Pre-order slots lie on a :data:`SLOT_MINUTES` grid in the branch's time zone, from
the earliest possible arrival to the end of tomorrow, and only where the zone's
opening hours are open.
"""

from __future__ import annotations

import datetime as dt
import math
from zoneinfo import ZoneInfo

from callcentre.zones import WeeklyHours

BASE_CAPACITY = 10
STEP_ORDERS = 5
STEP_MINUTES = 10
MAX_EXTRA_MINUTES = 90
PICKUP_MINUTES = 20
DEFAULT_DELIVERY_MINUTES = 60
SLOT_MINUTES = 15
MAX_AHEAD = dt.timedelta(days=7)
#: A promise a little earlier than the computed earliest time is still accepted (clock skew, typing).
TOLERANCE = dt.timedelta(minutes=2)


def load_extra_minutes(active_orders: int) -> int:
    """Extra minutes the branch's current load adds to a promise."""
    over = max(0, active_orders - BASE_CAPACITY)
    return min(MAX_EXTRA_MINUTES, math.ceil(over / STEP_ORDERS) * STEP_MINUTES)


def eta_minutes(base_minutes: int, active_orders: int) -> int:
    """Minutes until an ASAP order arrives: the zone's (or pickup) time plus the load."""
    return base_minutes + load_extra_minutes(active_orders)


def ceil_to_minute(at: dt.datetime) -> dt.datetime:
    """``at`` rounded up to a whole minute."""
    floor = at.replace(second=0, microsecond=0)
    return floor if floor == at else floor + dt.timedelta(minutes=1)


def _ceil_to_grid(local: dt.datetime, step: int) -> dt.datetime:
    base = local.replace(second=0, microsecond=0)
    if base < local:
        base += dt.timedelta(minutes=1)
    extra = (-(base.hour * 60 + base.minute)) % step
    return base + dt.timedelta(minutes=extra)


def preorder_slots(
    hours: WeeklyHours,
    timezone: str,
    now: dt.datetime,
    earliest: dt.datetime,
    *,
    step: int = SLOT_MINUTES,
) -> list[dt.datetime]:
    """Grid times (aware UTC) from ``earliest`` to the end of tomorrow (local) when the zone is open."""
    tz = ZoneInfo(timezone)
    local_now = now.astimezone(tz)
    end = dt.datetime.combine(local_now.date() + dt.timedelta(days=2), dt.time(0, 0), tzinfo=tz)
    slot = _ceil_to_grid(earliest.astimezone(tz), step)
    out: list[dt.datetime] = []
    while slot < end:
        # Walk the grid in UTC so DST changes neither repeat nor skip a slot.
        if hours.is_open(slot.astimezone(tz)):
            out.append(slot.astimezone(dt.UTC))
        slot = (slot.astimezone(dt.UTC) + dt.timedelta(minutes=step)).astimezone(tz)
    return out


def promise_problem(
    hours: WeeklyHours,
    timezone: str,
    now: dt.datetime,
    earliest: dt.datetime,
    promised_at: dt.datetime | None,
) -> str | None:
    """Why an order cannot be promised (ASAP when ``promised_at`` is None), or None when it can."""
    tz = ZoneInfo(timezone)
    if promised_at is None:
        if hours.is_open(now.astimezone(tz)):
            return None
        return "Delivery is closed now; choose a pre-order time within the opening hours."
    if promised_at.tzinfo is None:
        return "The promised time needs a time zone offset."
    if promised_at < earliest - TOLERANCE:
        local = earliest.astimezone(tz).strftime("%H:%M")
        return f"The promised time is too early; the earliest possible is {local}."
    if promised_at > now + MAX_AHEAD:
        return "Pre-orders are taken at most 7 days ahead."
    if not hours.is_open(promised_at.astimezone(tz)):
        return "The promised time falls outside the opening hours."
    return None
