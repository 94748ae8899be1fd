"""Distribution conditions: which organization and tax system sells each line, and why (pure).

A condition covers all nomenclature, a group (with its subgroups) or one item, and names a
target organization, tax system and optionally a VAT rate. It may be limited to branches,
order kinds and payment kinds, and to a validity period. For a line the most specific
scope wins (item > deeper group > shallower group > all), then the higher priority, then
the newer condition.

The plain values live in :mod:`~nomenclature.distribution.conditions` and
:mod:`~nomenclature.distribution.groups`, the compiled index and explanations in
:mod:`~nomenclature.distribution.index`, who sells a line (organizations, revenue-limit
fallback, VAT) in :mod:`~nomenclature.distribution.assignment`, and the lint (with the VAT
rates a seller cannot charge) in :mod:`~nomenclature.distribution.lint`. This package re-exports
their public names.
"""

from __future__ import annotations

from nomenclature.distribution.assignment import (
    Assignment,
    Distributor,
    OrganizationProfile,
    build_distributor,
    condition_unusable,
    fallback_sellers,
    take_over,
)
from nomenclature.distribution.conditions import (
    ORDER_KINDS,
    PAYMENT_KINDS,
    Condition,
    SaleContext,
    Scope,
    precedence,
)
from nomenclature.distribution.groups import (
    MAX_GROUP_DEPTH,
    GroupCycle,
    GroupTree,
    find_cycle,
    would_make_cycle,
)
from nomenclature.distribution.index import Considered, DistributionIndex, Explanation
from nomenclature.distribution.lint import (
    Ambiguity,
    Gap,
    Place,
    RateConflict,
    ambiguities,
    coverage_gaps,
    rate_conflicts,
    sale_places,
)

__all__ = [
    "MAX_GROUP_DEPTH",
    "ORDER_KINDS",
    "PAYMENT_KINDS",
    "Ambiguity",
    "Assignment",
    "Condition",
    "Considered",
    "DistributionIndex",
    "Distributor",
    "Explanation",
    "Gap",
    "GroupCycle",
    "GroupTree",
    "OrganizationProfile",
    "Place",
    "RateConflict",
    "SaleContext",
    "Scope",
    "ambiguities",
    "build_distributor",
    "condition_unusable",
    "coverage_gaps",
    "fallback_sellers",
    "find_cycle",
    "precedence",
    "rate_conflicts",
    "sale_places",
    "take_over",
    "would_make_cycle",
]
