"""Extension points the orders package offers: how other packages take part in placing an order."""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, Protocol

from frontoffice.extensions import Chain

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from orders.services import OrderDraft


class PlacementPolicy(Protocol):
    """A rule another package plugs into placement (zone and fee, antifraud, default organization)."""

    def __call__(self, session: Session, draft: OrderDraft) -> None:
        """Adjust ``draft`` or raise a domain error to refuse the order (nothing is written then)."""


class PolicyOrder(enum.IntEnum):
    """Where a placement policy runs; lower runs first. Named so the order is a decision, not an accident."""

    #: Fill what the caller left open (the default organization for uncovered lines).
    DEFAULTS = 10
    #: Where the order goes: delivery zone, fee.
    LOCATION = 20
    #: Screening of the finished draft (antifraud): runs last, so it sees the final fee and total.
    SCREENING = 30


PLACEMENT_POLICIES: Chain[PlacementPolicy] = Chain(
    "orders.placement_policies",
    "Policies the placement pipeline (``orders.services.apply_policies``) runs once on every draft, "
    "whichever endpoint it came through, sorted by ``PolicyOrder``; each may adjust the draft or refuse "
    "the order. A draft whose caller already located it (``draft.located``) keeps its zone and fee.",
)
