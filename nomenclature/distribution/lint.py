"""Lint of the distribution conditions: ambiguous pairs, items left uncovered, and lines given to a
seller that cannot charge their VAT rate (pure)."""

from __future__ import annotations

import datetime as dt
import itertools
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from nomenclature.distribution.assignment import Distributor, OrganizationProfile, fallback_sellers
from nomenclature.distribution.conditions import ORDER_KINDS, PAYMENT_KINDS, Condition, SaleContext, Scope
from nomenclature.distribution.index import DistributionIndex
from nomenclature.taxes import TaxSystem, VatCharge, VatRate, charge_vat

Place = tuple[int | None, str, str]  # branch, order kind, payment kind


@dataclass(frozen=True)
class Ambiguity:
    """Two conditions the rules can only separate by age: same scope and priority, overlapping."""

    first: Condition
    second: Condition
    message: str


def _overlap(a: frozenset, b: frozenset) -> bool:
    return not a or not b or bool(a & b)


def _periods_overlap(a: Condition, b: Condition) -> bool:
    lo = max(a.valid_from or dt.date.min, b.valid_from or dt.date.min)
    hi = min(a.valid_to or dt.date.max, b.valid_to or dt.date.max)
    return lo <= hi


def ambiguities(conditions: Iterable[Condition]) -> list[Ambiguity]:
    """Active conditions with the same scope and priority whose contexts and periods overlap
    while their outcomes differ."""
    buckets: dict[tuple[Scope, int | None, int], list[Condition]] = defaultdict(list)
    for c in conditions:
        if c.active:
            buckets[(c.scope, c.target_id, c.priority)].append(c)
    found: list[Ambiguity] = []
    for (_scope, _target, priority), group in sorted(buckets.items(), key=lambda kv: str(kv[0])):
        for a, b in itertools.combinations(sorted(group, key=lambda c: c.id), 2):
            if (
                a.outcome != b.outcome
                and _periods_overlap(a, b)
                and _overlap(a.branch_ids, b.branch_ids)
                and _overlap(a.order_kinds, b.order_kinds)
                and _overlap(a.payment_kinds, b.payment_kinds)
            ):
                found.append(
                    Ambiguity(
                        a,
                        b,
                        f"{a.label} and {b.label} cover the same scope with priority {priority} in "
                        f"overlapping contexts and periods but decide differently; only their age "
                        f"separates them (the newer wins)",
                    )
                )
    return found


@dataclass(frozen=True)
class Gap:
    """An item that some sale contexts leave without a condition."""

    item_id: int
    contexts: list[SaleContext]
    everywhere: bool


def coverage_gaps(
    items: Iterable[tuple[int, int | None]],
    index: DistributionIndex,
    on: dt.date,
    branch_ids: Sequence[int],
    order_kinds: Sequence[str] = ORDER_KINDS,
) -> list[Gap]:
    """Items (``(id, group_id)``) that no condition covers on ``on`` in some branch × kind × payment
    (of ``order_kinds`` only: the delivery position is sold with deliveries alone).

    Items without their own conditions share their group's answer, so this costs one
    check per group and context, not per item.
    """
    contexts = [SaleContext(on, b, k, p) for b, k, p in sale_places(branch_ids, order_kinds)]
    by_group: dict[int | None, list[SaleContext]] = {}
    gaps: list[Gap] = []
    for item_id, group_id in items:
        if index.has_own_conditions(item_id):
            missing = [ctx for ctx in contexts if index.resolve(item_id, group_id, ctx) is None]
        else:
            if group_id not in by_group:
                by_group[group_id] = [ctx for ctx in contexts if index.resolve_group(group_id, ctx) is None]
            missing = by_group[group_id]
        if missing:
            gaps.append(Gap(item_id, missing, len(missing) == len(contexts)))
    return gaps


def sale_places(branch_ids: Sequence[int], order_kinds: Sequence[str] = ORDER_KINDS) -> list[Place]:
    """Every branch × order kind × payment kind a sale can happen in (any branch when none)."""
    return list(itertools.product(branch_ids or [None], order_kinds, PAYMENT_KINDS))


@dataclass(frozen=True)
class RateConflict:
    """A line the rules give to a seller that cannot charge its VAT rate."""

    item_id: int | None
    condition: Condition | None  # None: no condition decides, the default organization sells
    seller: OrganizationProfile
    tax_system: TaxSystem
    taking_over_from: OrganizationProfile | None  # set when the seller is a revenue-limit fallback
    vat: VatCharge


def rate_conflicts(
    items: Iterable[tuple[int | None, int | None, VatRate]],
    distributor: Distributor,
    places: Sequence[Place],
    on: dt.date,
    *,
    since: dt.date | None = None,
    deciding: Callable[[Condition], bool] | None = None,
    default_organization_id: int | None = None,
    fallbacks: bool = True,
) -> list[RateConflict]:
    """Every (item, seller) pair where the seller cannot charge the item's VAT rate.

    ``items`` are ``(id, group id, rate)`` (id None: an item not saved yet). A pair counts only
    when the condition really decides the item somewhere in ``places`` on some day from
    ``since`` (:meth:`DistributionIndex.deciders`), so a condition every sale of the item
    overrides raises nothing. ``deciding`` keeps only the conditions it accepts (and drops the
    default organization); with ``fallbacks`` the organizations that take over at an annual
    revenue limit are checked too. The rate each seller charges comes from
    :func:`~nomenclature.taxes.charge_vat`, as when the line is sold.
    """
    index, orgs = distributor.index, distributor.organizations
    by_group: dict[int | None, set[Condition | None]] = {}
    found: list[RateConflict] = []
    for item_id, group_id, rate in items:
        if item_id is not None and index.has_own_conditions(item_id):
            deciders = index.deciders(item_id, group_id, places, since)
        else:
            if group_id not in by_group:
                by_group[group_id] = index.deciders(None, group_id, places, since)
            deciders = by_group[group_id]
        for c in sorted(deciders, key=lambda c: (c is None, c.id if c is not None else 0)):
            if c is None:
                default = orgs.get(default_organization_id) if default_organization_id is not None else None
                if default is None or deciding is not None:
                    continue
                first, tax_system, override = default, default.main_tax_system, None
            elif deciding is not None and not deciding(c):
                continue
            else:
                first, tax_system, override = orgs[c.organization_id], c.tax_system, c.vat_rate
            sellers = [(first, tax_system, None)]
            if fallbacks:
                previous = first
                for org, ts in fallback_sellers(first.id, tax_system, orgs):
                    sellers.append((org, ts, previous))
                    previous = org
            for org, ts, before in sellers:
                vat = charge_vat(ts, org.pays_vat, org.default_vat_rate, rate, override, on)
                if vat.problem is not None:
                    found.append(RateConflict(item_id, c, org, ts, before, vat))
    return found
