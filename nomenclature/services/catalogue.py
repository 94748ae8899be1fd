"""The catalogue as selling sees it: the active menu of a branch, items by SKU or id, the
modifiers they offer, the stop-list of a branch, and pricing of requested lines."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import bindparam, or_, select
from sqlalchemy.orm import Session, selectinload

from frontoffice.db import execute_fast
from frontoffice.errors import FieldError, NotFound, field_error
from nomenclature.distribution import GroupTree
from nomenclature.models import Item, ItemGroup, ItemModifierGroup, ModifierGroup, StopListEntry
from nomenclature.modifiers import ChosenModifier, ModifierGroupView, choose
from nomenclature.services.branches import BRANCHES
from nomenclature.services.compiled import CatalogueRules, group_view, rules
from nomenclature.services.delivery import DELIVERY_SKU

# The items of an order's lines and their stop-list entries, read for every order taken: built once.
# Pricing reads only the columns it needs, as plain rows (frontoffice.db.execute_fast).
_NAMED_ITEMS = or_(
    Item.sku.in_(bindparam("skus", expanding=True)), Item.id.in_(bindparam("ids", expanding=True))
)
_STOPS_OF_ITEMS = (
    StopListEntry.branch_id == bindparam("branch_id"),
    StopListEntry.item_id.in_(bindparam("item_ids", expanding=True)),
)
_ITEMS_BY_SKU_OR_ID = select(Item).where(_NAMED_ITEMS)
_STOPPED_OF_ITEMS = select(StopListEntry).where(*_STOPS_OF_ITEMS)
_PRICING_ITEMS = select(
    Item.id, Item.sku, Item.name, Item.active, Item.price, Item.group_id, Item.vat_rate
).where(_NAMED_ITEMS)
_STOP_REASONS = select(StopListEntry.item_id, StopListEntry.reason).where(*_STOPS_OF_ITEMS)


class _Sellable(NamedTuple):
    """What pricing needs of an item."""

    id: int
    sku: str
    name: str
    active: bool
    price: int
    group_id: int | None
    vat_rate: str


def _pricing_rows(
    session: Session, requests: Sequence[LineChoice], branch_id: int | None
) -> tuple[dict[str, _Sellable], dict[int, _Sellable], dict[int, str]]:
    """The items the lines name, by SKU and by id, and the stop-list reasons of those stopped."""
    skus = sorted({r.sku for r in requests if r.sku})
    ids = sorted({r.item_id for r in requests if r.item_id is not None})
    if not skus and not ids:
        return {}, {}, {}
    rows = [_Sellable(*r) for r in execute_fast(session, _PRICING_ITEMS, {"skus": skus, "ids": ids})]
    stopped: dict[int, str] = {}
    if branch_id is not None and rows:
        params = {"branch_id": branch_id, "item_ids": sorted({i.id for i in rows})}
        stopped = {item_id: reason for item_id, reason in execute_fast(session, _STOP_REASONS, params)}
    return {i.sku: i for i in rows}, {i.id: i for i in rows}, stopped


def items_for_lines(
    session: Session, skus: Iterable[str], ids: Iterable[int]
) -> tuple[dict[str, Item], dict[int, Item]]:
    """Load the items named by SKU or id in one query: ``(by_sku, by_id)``."""
    skus, ids = set(skus), set(ids)
    if not skus and not ids:
        return {}, {}
    rows = session.scalars(_ITEMS_BY_SKU_OR_ID, {"skus": sorted(skus), "ids": sorted(ids)}).all()
    return {i.sku: i for i in rows}, {i.id: i for i in rows}


def modifier_views(session: Session, item_ids: Iterable[int]) -> dict[int, list[ModifierGroupView]]:
    """The active modifier groups each item offers, with their active and inactive options."""
    ids = set(item_ids)
    if not ids:
        return {}
    rows = session.execute(
        select(ItemModifierGroup.item_id, ModifierGroup)
        .join(ModifierGroup, ModifierGroup.id == ItemModifierGroup.modifier_group_id)
        .where(ItemModifierGroup.item_id.in_(ids), ModifierGroup.active.is_(True))
        .order_by(ItemModifierGroup.item_id, ItemModifierGroup.position, ModifierGroup.id)
        .options(selectinload(ModifierGroup.options))
    ).all()
    out: dict[int, list[ModifierGroupView]] = defaultdict(list)
    for item_id, group in rows:
        out[item_id].append(group_view(group))
    return out


def stopped_items(
    session: Session, branch_id: int, item_ids: Iterable[int] | None = None
) -> dict[int, StopListEntry]:
    """The stop-list of a branch (optionally only for some items): ``{item_id: entry}``."""
    if item_ids is not None:
        ids = set(item_ids)
        if not ids:
            return {}
        found = session.scalars(_STOPPED_OF_ITEMS, {"branch_id": branch_id, "item_ids": sorted(ids)})
        return {e.item_id: e for e in found}
    stmt = select(StopListEntry).where(StopListEntry.branch_id == branch_id)
    return {e.item_id: e for e in session.scalars(stmt)}


@dataclass(frozen=True)
class LineChoice:
    """A line as asked for: an item by SKU or id, a quantity, chosen modifier option ids."""

    quantity: int
    sku: str | None = None
    item_id: int | None = None
    modifiers: tuple[int, ...] = ()


@dataclass(frozen=True)
class PricedItem:
    """A line priced from the catalogue: item price plus the chosen options' deltas."""

    item_id: int
    sku: str
    name: str
    group_id: int | None
    catalogue_vat_rate: str
    unit_price: int
    modifiers: tuple[ChosenModifier, ...]


def price_items(
    session: Session,
    requests: Sequence[LineChoice],
    branch_id: int | None,
    max_quantity: int = 999,
    *,
    compiled: CatalogueRules | None = None,
) -> tuple[list[PricedItem | None], list[FieldError]]:
    """Price every requested line (None where it fails) and list every problem by line.

    Refuses unknown and inactive items, items on the branch's stop-list, options not
    offered with the item, choices outside a group's min/max, and negative prices.
    """
    by_sku, by_id, stopped = _pricing_rows(session, requests, branch_id)
    views = (compiled or rules(session)).modifiers
    errors: list[FieldError] = []
    priced: list[PricedItem | None] = []
    for i, req in enumerate(requests):
        where = f"lines.{i}"
        priced.append(None)
        if not 1 <= req.quantity <= max_quantity:
            errors.append(field_error(f"{where}.quantity", f"The quantity must be from 1 to {max_quantity}."))
            continue
        item = by_sku.get(req.sku) if req.sku else by_id.get(req.item_id) if req.item_id is not None else None
        if item is None:
            errors.append(field_error(where, f"Unknown item {req.sku if req.sku else req.item_id!r}."))
            continue
        if not item.active:
            errors.append(field_error(where, f"{item.name} ({item.sku}) is not on sale."))
            continue
        if item.sku == DELIVERY_SKU:
            errors.append(
                field_error(
                    where,
                    f"{item.name} ({item.sku}) is the delivery: the order's delivery fee charges it, "
                    "not a cart line.",
                )
            )
            continue
        if item.id in stopped:
            why = f": {stopped[item.id]}" if stopped[item.id] else ""
            errors.append(
                field_error(where, f"{item.name} ({item.sku}) is on the stop-list of this branch{why}.")
            )
            continue
        chosen, problems = choose(item.name, views.get(item.id, ()), req.modifiers)
        if problems:
            errors.extend(field_error(f"{where}.modifiers", p[0].upper() + p[1:] + ".") for p in problems)
            continue
        unit_price = item.price + sum(c.price_delta for c in chosen)
        if unit_price < 0:
            errors.append(
                field_error(f"{where}.modifiers", f"The options make {item.name} cost less than nothing.")
            )
            continue
        priced[-1] = PricedItem(
            item_id=item.id,
            sku=item.sku,
            name=item.name,
            group_id=item.group_id,
            catalogue_vat_rate=item.vat_rate,
            unit_price=unit_price,
            modifiers=tuple(chosen),
        )
    return priced, errors


def menu(session: Session, branch_id: int | None = None, q: str | None = None) -> dict[str, Any]:
    """The active menu: groups and items with modifiers, stop-list flags for ``branch_id``; the
    delivery position is no dish and is left out.

    ``q`` matches the name or SKU, case-insensitively in any alphabet.
    """
    if (
        branch_id is not None
        and session.scalar(select(BRANCHES.c.id).where(BRANCHES.c.id == branch_id)) is None
    ):
        raise NotFound(f"There is no branch {branch_id}.")
    every = session.scalars(select(ItemGroup).order_by(ItemGroup.position, ItemGroup.name)).all()
    # A switched-off group hides its subgroups and their items too.
    off = {g.id for g in every if not g.active}
    tree = GroupTree({g.id: g.parent_id for g in every})
    groups = [g for g in every if not off.intersection(tree.chain(g.id))]
    group_order = {g.id: n for n, g in enumerate(groups)}
    items = [
        i
        for i in session.scalars(select(Item).where(Item.active.is_(True), Item.sku != DELIVERY_SKU))
        if i.group_id is None or i.group_id in group_order
    ]
    if q:
        needle = q.casefold().strip()
        items = [i for i in items if needle in i.name.casefold() or needle in i.sku.casefold()]
    items.sort(key=lambda i: (group_order.get(i.group_id, len(group_order)), i.name.casefold()))
    views = modifier_views(session, (i.id for i in items))
    stopped = stopped_items(session, branch_id) if branch_id is not None else {}
    return {
        "groups": [{"id": g.id, "name": g.name, "parent_id": g.parent_id} for g in groups],
        "items": [
            {
                "id": i.id,
                "sku": i.sku,
                "name": i.name,
                "group_id": i.group_id,
                "price": i.price,
                "vat_rate": i.vat_rate,
                "unit": i.unit,
                "description": i.description,
                "stopped": i.id in stopped,
                "modifier_groups": [
                    {
                        "id": g.id,
                        "name": g.name,
                        "min": g.min_choices,
                        "max": g.max_choices,
                        "options": [
                            {"id": o.id, "name": o.name, "price_delta": o.price_delta}
                            for o in g.options
                            if o.active
                        ],
                    }
                    for g in views.get(i.id, [])
                ],
            }
            for i in items
        ],
    }
