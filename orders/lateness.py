"""How late an open order is, as the monitor and the dispatch screen colour it (pure)."""

from __future__ import annotations

import datetime as dt
import math

#: Minutes late at which a late order turns from ``minor`` to ``serious`` and to ``critical``.
LATENESS_LEVELS = ((30, "critical"), (10, "serious"), (0, "minor"))


def lateness_level(minutes_late: float) -> str:
    """Colour class of a late order: ``minor`` under 10 min, ``serious`` under 30, then ``critical``."""
    for threshold, level in LATENESS_LEVELS:
        if minutes_late >= threshold:
            return level
    return "minor"


def minutes_late(promised_at: dt.datetime | None, now: dt.datetime) -> int | None:
    """Whole minutes an order is past its promise; None when it has no promise or is not late yet."""
    if promised_at is None or promised_at >= now:
        return None
    return math.floor((now - promised_at).total_seconds() / 60)
