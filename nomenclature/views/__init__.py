"""Admin pages: organizations and distribution conditions (list, create, edit), the lint, the
explanation of a cart, and the catalogue with its stop-list.

Plain server-rendered forms: every submission goes through the same pydantic models and
services as the JSON API, and a refusal re-renders the form with the reasons next to it.
One blueprint, :data:`bp` (``nomenclature_pages``); distribution's pages live in
:mod:`~nomenclature.views.distribution`, the catalogue's in :mod:`~nomenclature.views.catalogue`.
Importing this package registers them all.
"""

from __future__ import annotations

from nomenclature.views import catalogue, distribution
from nomenclature.views.common import EDIT_ROLES, STOP_ROLES, VIEW_ROLES, bp

__all__ = ["EDIT_ROLES", "STOP_ROLES", "VIEW_ROLES", "bp", "catalogue", "distribution"]
