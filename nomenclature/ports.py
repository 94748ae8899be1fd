"""Extension points the nomenclature package offers to the packages that sell through it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from frontoffice.extensions import Slot

#: ``revenue(session, organization_ids, on) -> {organization_id: minor units sold this year}``.
RevenueLookup = Callable[[Any, Sequence[int], dt.date], Mapping[int, int]]
#: ``backtest(session, form_data) -> result`` (raises ``pydantic.ValidationError`` or a domain error).
Backtest = Callable[[Any, dict[str, Any]], Any]

ORGANIZATION_REVENUE: Slot[RevenueLookup] = Slot(
    "nomenclature.organization_revenue",
    "The revenue each organization sold this calendar year, so explain can apply annual revenue "
    "limits; provided by orders, which records what was sold.",
)
DISTRIBUTION_BACKTEST: Slot[Backtest] = Slot(
    "nomenclature.distribution_backtest",
    "Replays recent sold lines under proposed distribution conditions, for the conditions page; "
    "provided by orders, which holds the sold lines.",
)
