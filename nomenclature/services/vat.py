"""VAT rates a seller cannot charge: named by the lint and explain, refused when a condition, an
item, a group or an organization is saved. The rule itself is :func:`nomenclature.taxes.charge_vat`;
which conditions really decide an item is :func:`nomenclature.distribution.rate_conflicts`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from frontoffice.errors import FieldError, field_error
from nomenclature.distribution import (
    Assignment,
    Condition,
    Distributor,
    RateConflict,
    rate_conflicts,
    sale_places,
)
from nomenclature.models import Item
from nomenclature.services.branches import active_branch_ids
from nomenclature.taxes import VatCharge, VatRate

# A refusal names this many conflicts and counts the rest.
SHOWN = 5

Line = tuple[int | None, int | None, VatRate]  # item id (None: not saved yet), group id, rate


def item_label(item: Item) -> str:
    """``Cola 0.5 l (DR-COLA05)`` for messages."""
    return f"{item.name} ({item.sku})"


def line_of(item: Item) -> Line:
    """An item as the conflict rules see it."""
    return item.id, item.group_id, VatRate(item.vat_rate)


def active_items(session: Session) -> list[Item]:
    """The items on sale, by name."""
    return list(session.scalars(select(Item).where(Item.active.is_(True)).order_by(Item.name, Item.id)))


def find_conflicts(
    session: Session,
    dist: Distributor,
    lines: Iterable[Line],
    on: dt.date,
    *,
    since: dt.date | None = None,
    deciding: Callable[[Condition], bool] | None = None,
    default_organization_id: int | None = None,
    fallbacks: bool = False,
) -> list[RateConflict]:
    """The (item, seller) pairs where the seller cannot charge the item's rate, in every active
    branch, order kind and payment, on every day from ``since``."""
    return rate_conflicts(
        lines,
        dist,
        sale_places(active_branch_ids(session)),
        on,
        since=since,
        deciding=deciding,
        default_organization_id=default_organization_id,
        fallbacks=fallbacks,
    )


def vat_sentence(who: str, item: str, seller: str, vat: VatCharge) -> str:
    """``#3 "Drinks" gives Cola (DR-COLA05) to IP … under ОСН, which cannot charge …: why``."""
    return (
        f"{who} gives {item} to {seller}, which cannot charge {vat.source} {vat.asked.label}: {vat.problem}"
    )


def describe_conflict(conflict: RateConflict, item: str) -> str:
    """A conflict as one sentence: who gives which item to whom, and why the rate cannot be charged."""
    who = conflict.condition.label if conflict.condition is not None else "the default organization"
    seller = f"{conflict.seller.name} under {conflict.tax_system.label}"
    if conflict.taking_over_from is not None:
        seller += f" (taking over from {conflict.taking_over_from.name} at its annual revenue limit)"
    return vat_sentence(who, item, seller, conflict.vat)


def vat_refusal(a: Assignment, item: str, seller_name: str, condition: str | None) -> str | None:
    """Why a line must be refused: its seller cannot charge its VAT rate (None when it can).

    ``condition`` labels the deciding condition (None: the default organization sells)."""
    if a.vat_problem is None:
        return None
    seller = f"{seller_name} under {a.tax_system.label}"
    if a.fallback_from:
        seller += " (taking over at an annual revenue limit)"
    return vat_sentence(condition or "the default organization", item, seller, a.vat)


def conflict_error(
    field: str, lead: str, conflicts: Sequence[RateConflict], names: Mapping[int | None, str]
) -> list[FieldError]:
    """One refusal naming the first conflicts and counting the rest (empty when there are none)."""
    if not conflicts:
        return []
    shown = [describe_conflict(c, names.get(c.item_id, "the item")) for c in conflicts[:SHOWN]]
    more = len(conflicts) - SHOWN
    tail = f"; and {more} more (see the lint)" if more > 0 else ""
    return [field_error(field, f"{lead}: {'; '.join(shown)}{tail}")]


def condition_conflicts_error(
    conflicts: Sequence[RateConflict], items: Mapping[int | None, Item]
) -> list[FieldError]:
    """The refusal of a condition that would give items to a seller that cannot charge their rate."""
    if not conflicts:
        return []
    first = conflicts[0]
    listed = [f"{item_label(items[c.item_id])} at {c.vat.asked.label}" for c in conflicts[:SHOWN]]
    more = len(conflicts) - SHOWN
    if more > 0:
        listed.append(f"and {more} more")
    problems = "; ".join(dict.fromkeys(str(c.vat.problem) for c in conflicts))
    return [
        field_error(
            "vat_rate",
            f"{first.seller.name} under {first.tax_system.label} cannot charge the VAT rate of items "
            f"this condition would decide: {', '.join(listed)}. {problems}. Set a VAT override the "
            f"organization can charge, or leave these items to another organization",
        )
    ]
