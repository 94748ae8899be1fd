"""Lint of the distribution conditions: ambiguous pairs and items left uncovered (pure)."""

from __future__ import annotations

import datetime as dt
import itertools
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from nomenclature.distribution.conditions import ORDER_KINDS, PAYMENT_KINDS, Condition, SaleContext, Scope
from nomenclature.distribution.index import DistributionIndex


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
    contexts = [
        SaleContext(on, b, k, p)
        for b, k, p in itertools.product(branch_ids or [None], order_kinds, PAYMENT_KINDS)
    ]
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
