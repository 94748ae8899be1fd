"""The nomenclature JSON API: menu, groups, items, modifiers, stop-list, organizations,
distribution conditions, explain and lint.

One blueprint, :data:`bp` (``nomenclature_api``), declared in :mod:`~nomenclature.api.common`;
the catalogue's endpoints live in :mod:`~nomenclature.api.catalogue`, distribution's in
:mod:`~nomenclature.api.distribution`. Importing this package registers them all.
"""

from __future__ import annotations

from nomenclature.api import catalogue, distribution
from nomenclature.api.common import bp, service_fields, today
from nomenclature.api.distribution import explain_cart, lint_report

__all__ = ["bp", "catalogue", "distribution", "explain_cart", "lint_report", "service_fields", "today"]
