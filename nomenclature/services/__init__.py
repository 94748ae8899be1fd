"""Nomenclature use cases: the catalogue and menu, modifiers, the stop-list, organizations,
distribution conditions with explain and lint, and pricing of order lines.

One module per use-case family; this package is their public face, so callers write
``services.save_item(...)`` (or ``from nomenclature import services as catalogue``).
Every write that changes what selling compiles calls :func:`mark_changed`, so each process
rebuilds its compiled rules (:func:`rules`) on the next sale.
"""

from __future__ import annotations

from nomenclature.services.branches import BRANCHES, active_branch_ids, branch_names, check_branches
from nomenclature.services.catalogue import (
    LineChoice,
    PricedItem,
    items_for_lines,
    menu,
    modifier_views,
    price_items,
    stopped_items,
)
from nomenclature.services.checks import MAX_PRICE, refuse
from nomenclature.services.compiled import (
    CatalogueRules,
    all_modifier_views,
    build_from_rows,
    condition_of,
    distributor,
    group_parents,
    group_view,
    mark_changed,
    profile_of,
    proposed_condition,
    rules,
)
from nomenclature.services.conditions import (
    CONDITION_FIELDS,
    condition_problems,
    delete_condition,
    get_condition,
    list_conditions,
    save_condition,
)
from nomenclature.services.delivery import (
    DELIVERY_ITEM,
    DELIVERY_SKU,
    DeliveryPosition,
    delivery_item,
    delivery_position,
)
from nomenclature.services.explain import describe_assignment, explain_lines, lint, organization_names
from nomenclature.services.groups import delete_group, get_group, list_groups, save_group
from nomenclature.services.items import ensure_delivery_item, get_item, list_items, save_item
from nomenclature.services.modifiers import (
    delete_modifier_group,
    get_modifier_group,
    list_modifier_groups,
    save_modifier_group,
    save_option,
)
from nomenclature.services.organizations import get_organization, list_organizations, save_organization
from nomenclature.services.stoplist import resume_item, stop_item, stop_list
from nomenclature.services.vat import vat_refusal

__all__ = [
    "BRANCHES",
    "CONDITION_FIELDS",
    "DELIVERY_ITEM",
    "DELIVERY_SKU",
    "MAX_PRICE",
    "CatalogueRules",
    "DeliveryPosition",
    "LineChoice",
    "PricedItem",
    "active_branch_ids",
    "all_modifier_views",
    "branch_names",
    "build_from_rows",
    "check_branches",
    "condition_of",
    "condition_problems",
    "delete_condition",
    "delete_group",
    "delete_modifier_group",
    "delivery_item",
    "delivery_position",
    "describe_assignment",
    "distributor",
    "ensure_delivery_item",
    "explain_lines",
    "get_condition",
    "get_group",
    "get_item",
    "get_modifier_group",
    "get_organization",
    "group_parents",
    "group_view",
    "items_for_lines",
    "lint",
    "list_conditions",
    "list_groups",
    "list_items",
    "list_modifier_groups",
    "list_organizations",
    "mark_changed",
    "menu",
    "modifier_views",
    "organization_names",
    "price_items",
    "profile_of",
    "proposed_condition",
    "refuse",
    "resume_item",
    "rules",
    "save_condition",
    "save_group",
    "save_item",
    "save_modifier_group",
    "save_option",
    "save_organization",
    "stop_item",
    "stop_list",
    "stopped_items",
    "vat_refusal",
]
