"""Facts about couriers, published after commit."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


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
