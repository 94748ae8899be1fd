"""Facts the nomenclature publishes after commit."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class StopListChanged:
    """An item was put on or taken off a branch's stop-list."""

    branch_id: int
    item_id: int
    sku: str
    name: str
    stopped: bool
    reason: str
    actor_id: int | None
    at: dt.datetime
