"""Extension points the orders package offers: how other packages take part in placing an order."""

from __future__ import annotations

import enum
from dataclasses import dataclass
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


@dataclass(frozen=True)
class BranchSection:
    """Something a branch serves, as its admin page shows it: a title, a summary line, the names
    of what is in it, where it is managed (a page address, or None), and a GeoJSON
    FeatureCollection address whose features with ``properties.branch_id`` of this branch are
    drawn on the branch's map (or None)."""

    title: str
    summary: str
    items: tuple[str, ...] = ()
    url: str | None = None
    map_url: str | None = None


class BranchSectionSource(Protocol):
    """Tells what a branch serves in one respect (its delivery zones, its stop-list, its couriers)."""

    def __call__(self, session: Session, branch_id: int) -> BranchSection:
        """The section of branch ``branch_id`` (called while a page renders: texts may be translated)."""


BRANCH_SECTIONS: Chain[BranchSectionSource] = Chain(
    "orders.branch_sections",
    "What a branch serves, shown on its admin page (/admin/branches/<id>) with a link to where each "
    "is managed: delivery zones, the stop-list, couriers … each package adds what it owns.",
)


@dataclass(frozen=True)
class SectionImage:
    """A picture an order section shows (a delivery photo, a signature): its address and its caption."""

    url: str
    caption: str


@dataclass(frozen=True)
class OrderSection:
    """Something another package knows about an order, as the order's page shows it: a title, a
    summary line, facts as (name, value) pairs, pictures (served by that package, which checks
    who may see them), and a link to where the reader may act on the order."""

    title: str
    summary: str
    facts: tuple[tuple[str, str], ...] = ()
    images: tuple[SectionImage, ...] = ()
    #: An action on the order another page offers, as (the button's text, its address).
    link: tuple[str, str] | None = None


class OrderSectionSource(Protocol):
    """Tells what a package knows about one order (its courier's proof of delivery …)."""

    def __call__(self, session: Session, order_id: int) -> OrderSection | None:
        """The section of order ``order_id``, or None when there is nothing to show (called while the
        page renders, for a reader already allowed to see the order: texts may be translated)."""


ORDER_SECTIONS: Chain[OrderSectionSource] = Chain(
    "orders.order_sections",
    "What other packages know about an order, shown on its page (/orders/<id>) under the order's own "
    "facts: the couriers package adds the proof of delivery (photo, signature, position, cash), the "
    "call centre the way to change the order in the operator workspace.",
)
