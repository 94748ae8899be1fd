"""Nomenclature use cases: the catalogue and menu, modifiers, the stop-list, organizations,
distribution conditions with explain and lint, and pricing of order lines.

Every write that changes what selling compiles (groups, organizations, conditions, modifiers)
calls :func:`mark_changed`, so each process rebuilds its compiled rules on the next sale.
"""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import column, func, or_, select, table
from sqlalchemy.orm import Session, selectinload

from frontoffice.db import publish, upsert, utcnow
from frontoffice.errors import Conflict, InvalidInput, NotFound
from nomenclature.distribution import (
    MAX_GROUP_DEPTH,
    ORDER_KINDS,
    PAYMENT_KINDS,
    Assignment,
    Condition,
    Distributor,
    GroupTree,
    OrganizationProfile,
    SaleContext,
    Scope,
    ambiguities,
    build_distributor,
    condition_unusable,
    coverage_gaps,
    would_make_cycle,
)
from nomenclature.events import StopListChanged
from nomenclature.inn import inn_problem, is_sole_proprietor, kpp_problem
from nomenclature.models import (
    DistributionCondition,
    DistributionState,
    Item,
    ItemGroup,
    ItemModifierGroup,
    ModifierGroup,
    ModifierOption,
    Organization,
    StopListEntry,
)
from nomenclature.modifiers import ChosenModifier, ModifierGroupView, OptionView, choose
from nomenclature.taxes import (
    TaxSystem,
    VatRate,
    parse_tax_system,
    parse_vat_rate,
    target_problems,
    tax_system_problems,
    vat_regime_problems,
)

# The branches table belongs to the orders package; nomenclature only reads ids and names.
BRANCHES = table("branches", column("id"), column("code"), column("name"), column("active"))
MAX_PRICE = 1_000_000_00


def _err(field: str, message: str) -> dict[str, str]:
    return {"field": field, "message": message, "type": "value_error"}


def _refuse(what: str, errors: list[dict[str, str]]) -> None:
    if errors:
        raise InvalidInput(f"{what}: " + "; ".join(e["message"] for e in errors) + ".", errors=errors)


# --- branches ----------------------------------------------------------------------------------


def branch_names(session: Session) -> dict[int, str]:
    """``{id: "KZ1 Kazan — Baumana"}`` of every branch."""
    rows = session.execute(select(BRANCHES.c.id, BRANCHES.c.code, BRANCHES.c.name).order_by(BRANCHES.c.id))
    return {r.id: f"{r.code} {r.name}" for r in rows}


def active_branch_ids(session: Session) -> list[int]:
    """Ids of the branches that take orders."""
    return list(
        session.scalars(select(BRANCHES.c.id).where(BRANCHES.c.active.is_(True)).order_by(BRANCHES.c.id))
    )


def _check_branches(session: Session, ids: Iterable[int], field: str) -> list[dict[str, str]]:
    wanted = set(ids)
    if not wanted:
        return []
    known = set(session.scalars(select(BRANCHES.c.id).where(BRANCHES.c.id.in_(wanted))))
    return [_err(field, f"unknown branch {b}") for b in sorted(wanted - known)]


# --- the catalogue as order lines see it ---------------------------------------------------------


def items_for_lines(
    session: Session, skus: Iterable[str], ids: Iterable[int]
) -> tuple[dict[str, Item], dict[int, Item]]:
    """Load the items named by SKU or id in one query: ``(by_sku, by_id)``."""
    skus, ids = set(skus), set(ids)
    if not skus and not ids:
        return {}, {}
    rows = session.scalars(select(Item).where(or_(Item.sku.in_(skus), Item.id.in_(ids)))).all()
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


def group_view(group: ModifierGroup) -> ModifierGroupView:
    """A modifier group as the pure rules see it."""
    return ModifierGroupView(
        id=group.id,
        name=group.name,
        min_choices=group.min_choices,
        max_choices=group.max_choices,
        options=tuple(OptionView(o.id, o.name, o.price_delta, o.active) for o in group.options),
    )


def stopped_items(
    session: Session, branch_id: int, item_ids: Iterable[int] | None = None
) -> dict[int, StopListEntry]:
    """The stop-list of a branch (optionally only for some items): ``{item_id: entry}``."""
    stmt = select(StopListEntry).where(StopListEntry.branch_id == branch_id)
    if item_ids is not None:
        ids = set(item_ids)
        if not ids:
            return {}
        stmt = stmt.where(StopListEntry.item_id.in_(ids))
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
) -> tuple[list[PricedItem | None], list[dict[str, str]]]:
    """Price every requested line (None where it fails) and list every problem by line.

    Refuses unknown and inactive items, items on the branch's stop-list, options not
    offered with the item, choices outside a group's min/max, and negative prices.
    """
    by_sku, by_id = items_for_lines(
        session, (r.sku for r in requests if r.sku), (r.item_id for r in requests if r.item_id is not None)
    )
    found = list(by_id.values())
    views = (compiled or rules(session)).modifiers
    stopped = stopped_items(session, branch_id, (i.id for i in found)) if branch_id is not None else {}
    errors: list[dict[str, str]] = []
    priced: list[PricedItem | None] = []
    for i, req in enumerate(requests):
        where = f"lines.{i}"
        priced.append(None)
        if not 1 <= req.quantity <= max_quantity:
            errors.append(_err(f"{where}.quantity", f"The quantity must be from 1 to {max_quantity}."))
            continue
        item = by_sku.get(req.sku) if req.sku else by_id.get(req.item_id) if req.item_id is not None else None
        if item is None:
            errors.append(_err(where, f"Unknown item {req.sku if req.sku else req.item_id!r}."))
            continue
        if not item.active:
            errors.append(_err(where, f"{item.name} ({item.sku}) is not on sale."))
            continue
        stop = stopped.get(item.id)
        if stop is not None:
            why = f": {stop.reason}" if stop.reason else ""
            errors.append(_err(where, f"{item.name} ({item.sku}) is on the stop-list of this branch{why}."))
            continue
        chosen, problems = choose(item.name, views.get(item.id, ()), req.modifiers)
        if problems:
            errors.extend(_err(f"{where}.modifiers", p[0].upper() + p[1:] + ".") for p in problems)
            continue
        unit_price = item.price + sum(c.price_delta for c in chosen)
        if unit_price < 0:
            errors.append(_err(f"{where}.modifiers", f"The options make {item.name} cost less than nothing."))
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


# --- the menu -----------------------------------------------------------------------------------


def menu(session: Session, branch_id: int | None = None, q: str | None = None) -> dict[str, Any]:
    """The active menu: groups and items with modifiers, stop-list flags for ``branch_id``.

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
        for i in session.scalars(select(Item).where(Item.active.is_(True)))
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


# --- groups -------------------------------------------------------------------------------------


def group_parents(session: Session) -> dict[int, int | None]:
    """``{group id: parent id}`` of every group."""
    return dict(session.execute(select(ItemGroup.id, ItemGroup.parent_id)).all())


def get_group(session: Session, group_id: int) -> ItemGroup:
    """The group, or :class:`NotFound`."""
    group = session.get(ItemGroup, group_id)
    if group is None:
        raise NotFound(f"There is no item group {group_id}.")
    return group


def list_groups(session: Session) -> list[ItemGroup]:
    """Every group, ordered for display."""
    return list(session.scalars(select(ItemGroup).order_by(ItemGroup.position, ItemGroup.name, ItemGroup.id)))


def save_group(session: Session, group_id: int | None, fields: Mapping[str, Any]) -> ItemGroup:
    """Create (``group_id`` None) or change a group; refuses unknown parents and cycles."""
    group = ItemGroup(name="", position=0, active=True) if group_id is None else get_group(session, group_id)
    errors: list[dict[str, str]] = []
    name = fields.get("name", group.name)
    if not name or not str(name).strip():
        errors.append(_err("name", "A group needs a name"))
    parent_id = fields.get("parent_id", group.parent_id)
    parents = group_parents(session)
    if parent_id is not None:
        if parent_id not in parents:
            errors.append(_err("parent_id", f"unknown parent group {parent_id}"))
        elif group_id is not None and would_make_cycle(parents, group_id, parent_id):
            errors.append(
                _err("parent_id", f"group {parent_id} is inside group {group_id}: that would make a cycle")
            )
        else:
            depth = len(GroupTree(parents).chain(parent_id)) + 1
            if depth > MAX_GROUP_DEPTH:
                errors.append(_err("parent_id", f"groups nest at most {MAX_GROUP_DEPTH} levels deep"))
    _refuse("The group cannot be saved", errors)
    group.name = str(name).strip()
    group.parent_id = parent_id
    if "position" in fields:
        group.position = fields["position"]
    if "active" in fields:
        group.active = fields["active"]
    session.add(group)
    session.flush()
    mark_changed(session)
    return group


def delete_group(session: Session, group_id: int) -> None:
    """Delete an empty group: no subgroups, items or conditions may point at it."""
    group = get_group(session, group_id)
    blockers = []
    if session.scalar(select(func.count()).where(ItemGroup.parent_id == group_id)):
        blockers.append("it has subgroups")
    if session.scalar(select(func.count()).where(Item.group_id == group_id)):
        blockers.append("it has items")
    if session.scalar(select(func.count()).where(DistributionCondition.group_id == group_id)):
        blockers.append("distribution conditions name it")
    if blockers:
        raise Conflict(f"Group {group.name} cannot be deleted: {', '.join(blockers)}.")
    session.delete(group)
    session.flush()
    mark_changed(session)


# --- items --------------------------------------------------------------------------------------


def get_item(session: Session, item_id: int) -> Item:
    """The item, or :class:`NotFound`."""
    item = session.get(Item, item_id)
    if item is None:
        raise NotFound(f"There is no item {item_id}.")
    return item


def list_items(
    session: Session, *, group_id: int | None = None, q: str | None = None, include_inactive: bool = True
) -> list[Item]:
    """Items, optionally of a group (with its subgroups) or matching ``q`` by name or SKU."""
    items = list(session.scalars(select(Item).order_by(Item.name, Item.id)))
    if group_id is not None:
        subtree = GroupTree(group_parents(session)).subtree(group_id)
        items = [i for i in items if i.group_id in subtree]
    if q:
        needle = q.casefold().strip()
        items = [i for i in items if needle in i.name.casefold() or needle in i.sku.casefold()]
    if not include_inactive:
        items = [i for i in items if i.active]
    return items


def save_item(session: Session, item_id: int | None, fields: Mapping[str, Any]) -> Item:
    """Create or change an item; ``modifier_group_ids`` replaces the groups it offers."""
    item = (
        Item(sku="", name="", price=0, vat_rate="vat22", unit="pcs", description="", active=True)
        if item_id is None
        else get_item(session, item_id)
    )
    errors: list[dict[str, str]] = []
    sku = str(fields.get("sku", item.sku) or "").strip()
    name = str(fields.get("name", item.name) or "").strip()
    if not sku:
        errors.append(_err("sku", "An item needs a SKU"))
    elif sku != item.sku and session.scalar(select(Item.id).where(Item.sku == sku)) is not None:
        raise Conflict(f"Another item already has the SKU {sku}.")
    if not name:
        errors.append(_err("name", "An item needs a name"))
    price = fields.get("price", item.price)
    if price is None or not 0 <= price <= MAX_PRICE:
        errors.append(_err("price", "The price must be from 0 to 1 000 000.00"))
    vat = fields.get("vat_rate", item.vat_rate)
    try:
        vat = parse_vat_rate(vat).value
    except ValueError as exc:
        errors.append(_err("vat_rate", str(exc)))
    group_id = fields.get("group_id", item.group_id)
    if group_id is not None and session.get(ItemGroup, group_id) is None:
        errors.append(_err("group_id", f"unknown group {group_id}"))
    modifier_ids = fields.get("modifier_group_ids")
    if modifier_ids is not None:
        known = set(session.scalars(select(ModifierGroup.id).where(ModifierGroup.id.in_(modifier_ids))))
        errors += [
            _err("modifier_group_ids", f"unknown modifier group {m}") for m in modifier_ids if m not in known
        ]
        if len(set(modifier_ids)) != len(modifier_ids):
            errors.append(_err("modifier_group_ids", "a modifier group is listed twice"))
    _refuse("The item cannot be saved", errors)
    item.sku, item.name, item.price, item.vat_rate, item.group_id = sku, name, price, vat, group_id
    for key in ("unit", "description", "active"):
        if key in fields:
            setattr(item, key, fields[key])
    if modifier_ids is not None:
        item.modifier_links = [
            ItemModifierGroup(modifier_group_id=m, position=n) for n, m in enumerate(modifier_ids)
        ]
    session.add(item)
    session.flush()
    if modifier_ids is not None:
        mark_changed(session)
    return item


# --- modifiers ----------------------------------------------------------------------------------


def get_modifier_group(session: Session, group_id: int) -> ModifierGroup:
    """The modifier group, or :class:`NotFound`."""
    group = session.get(ModifierGroup, group_id)
    if group is None:
        raise NotFound(f"There is no modifier group {group_id}.")
    return group


def list_modifier_groups(session: Session) -> list[ModifierGroup]:
    """Every modifier group with its options."""
    return list(
        session.scalars(
            select(ModifierGroup).options(selectinload(ModifierGroup.options)).order_by(ModifierGroup.name)
        )
    )


def _option_errors(options: Sequence[Mapping[str, Any]], prefix: str) -> list[dict[str, str]]:
    errors = []
    for n, o in enumerate(options):
        if not str(o.get("name", "")).strip():
            errors.append(_err(f"{prefix}.{n}.name", "An option needs a name"))
        delta = o.get("price_delta", 0)
        if not -MAX_PRICE <= delta <= MAX_PRICE:
            errors.append(_err(f"{prefix}.{n}.price_delta", "The price change is out of range"))
    return errors


def save_modifier_group(session: Session, group_id: int | None, fields: Mapping[str, Any]) -> ModifierGroup:
    """Create or change a modifier group; on creation ``options`` may list its options."""
    group = (
        ModifierGroup(name="", min_choices=0, max_choices=1, active=True)
        if group_id is None
        else get_modifier_group(session, group_id)
    )
    errors: list[dict[str, str]] = []
    name = str(fields.get("name", group.name) or "").strip()
    lo = fields.get("min", group.min_choices)
    hi = fields.get("max", group.max_choices)
    if not name:
        errors.append(_err("name", "A modifier group needs a name"))
    if lo < 0:
        errors.append(_err("min", "The minimum cannot be negative"))
    if hi < 1:
        errors.append(_err("max", "The maximum must be at least 1"))
    elif hi < lo:
        errors.append(_err("max", f"The maximum ({hi}) is smaller than the minimum ({lo})"))
    options = fields.get("options") or []
    errors += _option_errors(options, "options")
    _refuse("The modifier group cannot be saved", errors)
    group.name, group.min_choices, group.max_choices = name, lo, hi
    if "active" in fields:
        group.active = fields["active"]
    for n, o in enumerate(options, start=len(group.options)):
        group.options.append(
            ModifierOption(
                name=str(o["name"]).strip(),
                price_delta=o.get("price_delta", 0),
                position=n,
                active=o.get("active", True),
            )
        )
    session.add(group)
    session.flush()
    mark_changed(session)
    return group


def save_option(
    session: Session, group_id: int, option_id: int | None, fields: Mapping[str, Any]
) -> ModifierOption:
    """Add an option to a modifier group, or change one of its options."""
    group = get_modifier_group(session, group_id)
    if option_id is None:
        option = ModifierOption(name="", price_delta=0, position=len(group.options), active=True)
    else:
        found = session.get(ModifierOption, option_id)
        if found is None or found.group_id != group_id:
            raise NotFound(f"Modifier group {group_id} has no option {option_id}.")
        option = found
    merged = {"name": option.name, "price_delta": option.price_delta, **fields}
    _refuse(
        "The option cannot be saved",
        [{**e, "field": e["field"].split(".")[-1]} for e in _option_errors([merged], "o")],
    )
    option.name = str(merged["name"]).strip()
    option.price_delta = merged["price_delta"]
    for key in ("position", "active"):
        if key in fields:
            setattr(option, key, fields[key])
    if option_id is None:
        group.options.append(option)
    session.flush()
    mark_changed(session)
    return option


def delete_modifier_group(session: Session, group_id: int) -> None:
    """Delete a modifier group and its options (past order lines keep their copy)."""
    session.delete(get_modifier_group(session, group_id))
    session.flush()
    mark_changed(session)


# --- stop-list ----------------------------------------------------------------------------------


def stop_item(
    session: Session,
    branch_id: int,
    item_id: int,
    reason: str = "",
    *,
    actor_id: int | None = None,
    now: dt.datetime | None = None,
) -> StopListEntry:
    """Put an item on a branch's stop-list (again: the reason and time are updated)."""
    _refuse("The item cannot be stopped", _check_branches(session, [branch_id], "branch_id"))
    item = get_item(session, item_id)
    now = now or utcnow()
    reason = reason.strip()
    table_ = StopListEntry.__table__
    session.execute(
        upsert(
            session,
            table_,
            {
                "branch_id": branch_id,
                "item_id": item_id,
                "reason": reason,
                "stopped_by": actor_id,
                "stopped_at": now,
            },
            ["branch_id", "item_id"],
            update={"reason": reason, "stopped_by": actor_id, "stopped_at": now},
        )
    )
    publish(session, StopListChanged(branch_id, item_id, item.sku, item.name, True, reason, actor_id, now))
    entry = session.get(StopListEntry, (branch_id, item_id), populate_existing=True)
    assert entry is not None
    return entry


def resume_item(session: Session, branch_id: int, item_id: int, *, actor_id: int | None = None) -> bool:
    """Take an item off a branch's stop-list; False if it was not on it."""
    item = get_item(session, item_id)
    entry = session.get(StopListEntry, (branch_id, item_id))
    if entry is None:
        return False
    session.delete(entry)
    session.flush()
    publish(session, StopListChanged(branch_id, item_id, item.sku, item.name, False, "", actor_id, utcnow()))
    return True


def stop_list(session: Session, branch_id: int | None = None) -> list[tuple[StopListEntry, Item]]:
    """The stop-list entries (of one branch or all) with their items, newest first."""
    stmt = select(StopListEntry, Item).join(Item, Item.id == StopListEntry.item_id)
    if branch_id is not None:
        stmt = stmt.where(StopListEntry.branch_id == branch_id)
    return [(e, i) for e, i in session.execute(stmt.order_by(StopListEntry.stopped_at.desc(), Item.name))]


# --- organizations ------------------------------------------------------------------------------


def get_organization(session: Session, org_id: int) -> Organization:
    """The organization, or :class:`NotFound`."""
    org = session.get(Organization, org_id)
    if org is None:
        raise NotFound(f"There is no organization {org_id}.")
    return org


def list_organizations(session: Session) -> list[Organization]:
    """Every organization, by name."""
    return list(session.scalars(select(Organization).order_by(Organization.name, Organization.id)))


def profile_of(org: Organization) -> OrganizationProfile:
    """An organization as the distribution rules see it."""
    return OrganizationProfile(
        id=org.id,
        name=org.name,
        tax_systems=tuple(TaxSystem(t) for t in org.tax_systems),
        pays_vat=org.pays_vat,
        default_vat_rate=VatRate(org.default_vat_rate),
        annual_revenue_limit=org.annual_revenue_limit,
        fallback_organization_id=org.fallback_organization_id,
        fallback_tax_system=TaxSystem(org.fallback_tax_system) if org.fallback_tax_system else None,
        active=org.active,
        inn=org.inn,
        kpp=org.kpp,
    )


def save_organization(
    session: Session, org_id: int | None, fields: Mapping[str, Any], *, on: dt.date
) -> Organization:
    """Create or change an organization, refusing what the tax rules do not allow, with reasons."""
    org = (
        Organization(
            name="", inn="", kpp="", tax_systems=[], pays_vat=False, default_vat_rate="none", active=True
        )
        if org_id is None
        else get_organization(session, org_id)
    )
    errors: list[dict[str, str]] = []
    name = str(fields.get("name", org.name) or "").strip()
    inn = str(fields.get("inn", org.inn) or "").strip()
    kpp = str(fields.get("kpp", org.kpp) or "").strip().upper()
    if not name:
        errors.append(_err("name", "An organization needs a name"))
    problem = inn_problem(inn)
    if problem:
        errors.append(_err("inn", problem))
    else:
        problem = kpp_problem(kpp, inn)
        if problem:
            errors.append(_err("kpp", problem))
    systems: list[TaxSystem] = []
    for raw in fields.get("tax_systems", org.tax_systems) or []:
        try:
            systems.append(parse_tax_system(raw))
        except ValueError as exc:
            errors.append(_err("tax_systems", str(exc)))
    errors += [_err("tax_systems", p) for p in tax_system_problems(systems, is_sole_proprietor(inn))]
    pays_vat = bool(fields.get("pays_vat", org.pays_vat))
    default_rate: VatRate | None = None
    try:
        default_rate = parse_vat_rate(fields.get("default_vat_rate", org.default_vat_rate))
    except ValueError as exc:
        errors.append(_err("default_vat_rate", str(exc)))
    if default_rate is not None and systems:
        errors += [
            _err("default_vat_rate", p) for p in vat_regime_problems(systems, pays_vat, default_rate, on)
        ]
    limit = fields.get("annual_revenue_limit", org.annual_revenue_limit)
    if limit is not None and limit <= 0:
        errors.append(_err("annual_revenue_limit", "The limit must be positive (leave it empty for none)"))
    fallback_id = fields.get("fallback_organization_id", org.fallback_organization_id)
    fallback_ts = fields.get("fallback_tax_system", org.fallback_tax_system)
    if fallback_id is not None:
        errors += _fallback_errors(session, org_id, fallback_id, fallback_ts, limit)
    elif fallback_ts:
        errors.append(_err("fallback_tax_system", "A fallback tax system needs a fallback organization"))
    if inn and kpp is not None and not errors:
        clash = session.scalar(
            select(Organization.id).where(
                Organization.inn == inn, Organization.kpp == kpp, Organization.id != (org_id or 0)
            )
        )
        if clash is not None:
            raise Conflict(f"Organization {clash} already has INN {inn} and KPP {kpp or '(none)'}.")
    if org_id is not None and not errors:
        errors += _removed_system_errors(session, org_id, systems)
    _refuse("The organization cannot be saved", errors)
    org.name, org.inn, org.kpp = name, inn, kpp
    org.tax_systems = [t.value for t in systems]
    org.pays_vat = pays_vat
    org.default_vat_rate = default_rate.value if default_rate else "none"
    org.annual_revenue_limit = limit
    org.fallback_organization_id = fallback_id
    org.fallback_tax_system = parse_tax_system(fallback_ts).value if fallback_ts else None
    if "active" in fields:
        org.active = bool(fields["active"])
    org.updated_at = utcnow()
    session.add(org)
    session.flush()
    mark_changed(session)
    return org


def _fallback_errors(
    session: Session, org_id: int | None, fallback_id: int, fallback_ts: str | None, limit: int | None
) -> list[dict[str, str]]:
    errors = []
    if limit is None:
        errors.append(
            _err(
                "fallback_organization_id",
                "a fallback takes over at the annual revenue limit: set the limit too",
            )
        )
    if fallback_id == org_id:
        return errors + [_err("fallback_organization_id", "an organization cannot be its own fallback")]
    fallback = session.get(Organization, fallback_id)
    if fallback is None:
        return errors + [_err("fallback_organization_id", f"unknown organization {fallback_id}")]
    if fallback_ts:
        try:
            ts = parse_tax_system(fallback_ts)
        except ValueError as exc:
            return errors + [_err("fallback_tax_system", str(exc))]
        if ts.value not in fallback.tax_systems:
            errors.append(_err("fallback_tax_system", f"{fallback.name} does not apply {ts.label}"))
    # Follow the fallback's own chain: it must not lead back here.
    seen, node = {fallback_id}, fallback
    while node.fallback_organization_id is not None and org_id is not None:
        if node.fallback_organization_id == org_id:
            errors.append(
                _err("fallback_organization_id", f"{fallback.name} falls back to this organization: a cycle")
            )
            break
        if node.fallback_organization_id in seen:
            break
        seen.add(node.fallback_organization_id)
        nxt = session.get(Organization, node.fallback_organization_id)
        if nxt is None:
            break
        node = nxt
    return errors


def _removed_system_errors(
    session: Session, org_id: int, systems: Sequence[TaxSystem]
) -> list[dict[str, str]]:
    rows = session.execute(
        select(DistributionCondition.id, DistributionCondition.tax_system).where(
            DistributionCondition.organization_id == org_id,
            DistributionCondition.tax_system.not_in([t.value for t in systems]),
        )
    ).all()
    if not rows:
        return []
    ids = ", ".join(f"#{r.id}" for r in rows)
    return [
        _err("tax_systems", f"conditions {ids} sell under a tax system you are removing; change them first")
    ]


# --- distribution conditions -------------------------------------------------------------------


def get_condition(session: Session, condition_id: int) -> DistributionCondition:
    """The condition, or :class:`NotFound`."""
    cond = session.get(DistributionCondition, condition_id)
    if cond is None:
        raise NotFound(f"There is no distribution condition {condition_id}.")
    return cond


def list_conditions(session: Session) -> list[DistributionCondition]:
    """Every condition: the most general scope first, then by priority, newest first."""
    rank = {"all": 0, "group": 1, "item": 2}
    rows = list(session.scalars(select(DistributionCondition)))
    rows.sort(key=lambda c: (rank.get(c.scope, 3), -c.priority, -c.id))
    return rows


CONDITION_FIELDS = (
    "name",
    "scope",
    "group_id",
    "item_id",
    "organization_id",
    "tax_system",
    "vat_rate",
    "branch_ids",
    "order_kinds",
    "payment_kinds",
    "valid_from",
    "valid_to",
    "priority",
    "active",
)


def condition_problems(session: Session, values: Mapping[str, Any]) -> list[dict[str, str]]:
    """Every reason the condition described by ``values`` cannot be saved."""
    errors: list[dict[str, str]] = []
    try:
        scope = Scope(values["scope"])
    except ValueError:
        return [_err("scope", f"the scope must be one of {', '.join(s.value for s in Scope)}")]
    group_id, item_id = values.get("group_id"), values.get("item_id")
    if scope is Scope.ALL and (group_id is not None or item_id is not None):
        errors.append(_err("scope", "a condition for all nomenclature names no group or item"))
    if scope is Scope.GROUP:
        if group_id is None:
            errors.append(_err("group_id", "a group condition needs a group"))
        elif session.get(ItemGroup, group_id) is None:
            errors.append(_err("group_id", f"unknown group {group_id}"))
        if item_id is not None:
            errors.append(_err("item_id", "a group condition names no item"))
    if scope is Scope.ITEM:
        if item_id is None:
            errors.append(_err("item_id", "an item condition needs an item"))
        elif session.get(Item, item_id) is None:
            errors.append(_err("item_id", f"unknown item {item_id}"))
        if group_id is not None:
            errors.append(_err("group_id", "an item condition names no group"))
    org = session.get(Organization, values["organization_id"]) if values.get("organization_id") else None
    if org is None:
        errors.append(_err("organization_id", f"unknown organization {values.get('organization_id')}"))
    elif not org.active:
        errors.append(_err("organization_id", f"{org.name} is inactive"))
    tax_system = vat = None
    try:
        tax_system = parse_tax_system(values["tax_system"])
    except ValueError as exc:
        errors.append(_err("tax_system", str(exc)))
    if values.get("vat_rate"):
        try:
            vat = parse_vat_rate(values["vat_rate"])
        except ValueError as exc:
            errors.append(_err("vat_rate", str(exc)))
    start, end = values.get("valid_from"), values.get("valid_to")
    if start is not None and end is not None and end < start:
        errors.append(
            _err("valid_to", f"the period ends ({end.isoformat()}) before it starts ({start.isoformat()})")
        )
    if org is not None and org.active and tax_system is not None:
        profile = profile_of(org)
        for p in target_problems(
            profile.tax_systems, profile.pays_vat, profile.default_vat_rate, tax_system, vat, (start, end)
        ):
            errors.append(_err("vat_rate" if vat is not None and "override" in p else "tax_system", p))
    errors += _check_branches(session, values.get("branch_ids") or [], "branch_ids")
    for field, allowed in (("order_kinds", ORDER_KINDS), ("payment_kinds", PAYMENT_KINDS)):
        for v in values.get(field) or []:
            if v not in allowed:
                errors.append(_err(field, f"unknown value {v!r}; known: {', '.join(allowed)}"))
    priority = values.get("priority", 0)
    if not -1000 <= priority <= 1000:
        errors.append(_err("priority", "the priority must be from -1000 to 1000"))
    return errors


def save_condition(
    session: Session, condition_id: int | None, fields: Mapping[str, Any], *, actor_id: int | None = None
) -> DistributionCondition:
    """Create or change a condition after checking the scope, target, filters and period."""
    cond = (
        DistributionCondition(
            branch_ids=[], order_kinds=[], payment_kinds=[], priority=0, active=True, name=""
        )
        if condition_id is None
        else get_condition(session, condition_id)
    )
    values = {k: getattr(cond, k) for k in CONDITION_FIELDS}
    values.update({k: v for k, v in fields.items() if k in CONDITION_FIELDS})
    if fields.get("scope") == "all":
        values["group_id"] = values["item_id"] = None
    elif fields.get("scope") == "group" and "item_id" not in fields:
        values["item_id"] = None
    elif fields.get("scope") == "item" and "group_id" not in fields:
        values["group_id"] = None
    _refuse("The condition cannot be saved", condition_problems(session, values))
    values["name"] = str(values.get("name") or "").strip()
    values["vat_rate"] = values.get("vat_rate") or None
    values["branch_ids"] = sorted(set(values.get("branch_ids") or []))
    values["order_kinds"] = sorted(set(values.get("order_kinds") or []))
    values["payment_kinds"] = sorted(set(values.get("payment_kinds") or []))
    for k, v in values.items():
        setattr(cond, k, v)
    cond.updated_at = utcnow()
    if condition_id is None:
        cond.created_by = actor_id
        cond.created_at = cond.updated_at
    session.add(cond)
    session.flush()
    mark_changed(session)
    return cond


def delete_condition(session: Session, condition_id: int) -> None:
    """Delete a condition (order lines it decided keep its id)."""
    session.delete(get_condition(session, condition_id))
    session.flush()
    mark_changed(session)


def condition_of(row: DistributionCondition) -> Condition:
    """A stored condition as the distribution rules see it."""
    scope = Scope(row.scope)
    return Condition(
        id=row.id,
        scope=scope,
        target_id=row.group_id if scope is Scope.GROUP else row.item_id if scope is Scope.ITEM else None,
        organization_id=row.organization_id,
        tax_system=TaxSystem(row.tax_system),
        vat_rate=VatRate(row.vat_rate) if row.vat_rate else None,
        priority=row.priority,
        branch_ids=frozenset(row.branch_ids or ()),
        order_kinds=frozenset(row.order_kinds or ()),
        payment_kinds=frozenset(row.payment_kinds or ()),
        valid_from=row.valid_from,
        valid_to=row.valid_to,
        active=row.active,
        created_at=row.created_at,
        name=row.name,
    )


def proposed_condition(condition_id: int, values: Mapping[str, Any], created_at: dt.datetime) -> Condition:
    """A condition that is not stored (a backtest proposal), from checked ``values``."""
    scope = Scope(values["scope"])
    vat = values.get("vat_rate")
    return Condition(
        id=condition_id,
        scope=scope,
        target_id=values.get("group_id")
        if scope is Scope.GROUP
        else values.get("item_id")
        if scope is Scope.ITEM
        else None,
        organization_id=values["organization_id"],
        tax_system=TaxSystem(values["tax_system"]),
        vat_rate=VatRate(vat) if vat else None,
        priority=values.get("priority", 0),
        branch_ids=frozenset(values.get("branch_ids") or ()),
        order_kinds=frozenset(values.get("order_kinds") or ()),
        payment_kinds=frozenset(values.get("payment_kinds") or ()),
        valid_from=values.get("valid_from"),
        valid_to=values.get("valid_to"),
        active=values.get("active", True),
        created_at=created_at,
        name=values.get("name") or "proposed",
    )


# --- the compiled index, shared by the process and rebuilt when the token changes ---------------


@dataclass(frozen=True)
class CatalogueRules:
    """What selling needs beyond prices, compiled once per change: the distribution and the
    modifier groups each item offers."""

    distributor: Distributor
    modifiers: Mapping[int, tuple[ModifierGroupView, ...]]


_CACHE: OrderedDict[str, CatalogueRules] = OrderedDict()
_CACHE_LOCK = threading.Lock()
_CACHE_SIZE = 8


def mark_changed(session: Session) -> None:
    """Record, in the current transaction, that groups, organizations or conditions changed."""
    state = DistributionState.__table__
    token = uuid.uuid4().hex
    now = utcnow()
    session.execute(
        upsert(
            session,
            state,
            {"id": 1, "token": token, "changed_at": now},
            ["id"],
            update={"token": token, "changed_at": now},
        )
    )


def build_from_rows(session: Session, conditions: Iterable[Condition] | None = None) -> Distributor:
    """Compile the stored groups, organizations and conditions (or ``conditions`` instead)."""
    tree = GroupTree(group_parents(session))
    orgs = {o.id: profile_of(o) for o in session.scalars(select(Organization))}
    if conditions is None:
        conditions = [condition_of(r) for r in session.scalars(select(DistributionCondition))]
    return build_distributor(conditions, tree, orgs)


def all_modifier_views(session: Session) -> dict[int, tuple[ModifierGroupView, ...]]:
    """The active modifier groups of every item that offers any."""
    rows = session.execute(
        select(ItemModifierGroup.item_id, ModifierGroup)
        .join(ModifierGroup, ModifierGroup.id == ItemModifierGroup.modifier_group_id)
        .where(ModifierGroup.active.is_(True))
        .order_by(ItemModifierGroup.item_id, ItemModifierGroup.position, ModifierGroup.id)
        .options(selectinload(ModifierGroup.options))
    ).all()
    views: dict[int, ModifierGroupView] = {}
    out: dict[int, list[ModifierGroupView]] = defaultdict(list)
    for item_id, group in rows:
        if group.id not in views:
            views[group.id] = group_view(group)
        out[item_id].append(views[group.id])
    return {k: tuple(v) for k, v in out.items()}


def rules(session: Session) -> CatalogueRules:
    """The compiled distribution and modifiers of the database, reused while nothing changed.

    One primary-key read per call; the rules are rebuilt when the token differs.
    """
    token = session.scalar(select(DistributionState.token).where(DistributionState.id == 1))
    if token is not None:
        with _CACHE_LOCK:
            found = _CACHE.get(token)
            if found is not None:
                _CACHE.move_to_end(token)
                return found
    built = CatalogueRules(build_from_rows(session), all_modifier_views(session))
    if token is not None:
        with _CACHE_LOCK:
            _CACHE[token] = built
            while len(_CACHE) > _CACHE_SIZE:
                _CACHE.popitem(last=False)
    return built


def distributor(session: Session) -> Distributor:
    """The compiled distribution of the database (see :func:`rules`)."""
    return rules(session).distributor


# --- explain and lint ---------------------------------------------------------------------------

RevenueLookup = Callable[[Session, Sequence[int], dt.date], Mapping[int, int]]


def organization_names(session: Session) -> dict[int, str]:
    """``{id: name}`` of every organization."""
    return dict(session.execute(select(Organization.id, Organization.name)).all())


def describe_assignment(a: Assignment | None, names: Mapping[int, str]) -> dict[str, Any] | None:
    """An assignment as JSON for people."""
    if a is None:
        return None
    return {
        "organization_id": a.organization_id,
        "organization": names.get(a.organization_id, str(a.organization_id)),
        "tax_system": a.tax_system.value,
        "tax_system_code": a.tax_system.ffd_code,
        "vat_rate": a.vat_rate.value,
        "vat_code": a.vat_rate.ffd_code,
        "condition_id": a.condition_id,
        "decided_by": a.decided_by,
        "fallback_from": list(a.fallback_from),
        "notes": list(a.notes),
    }


def explain_lines(
    session: Session,
    items: Sequence[Item],
    ctx: SaleContext,
    *,
    revenue: Mapping[int, int] | None = None,
    default_organization_id: int | None = None,
) -> list[dict[str, Any]]:
    """For each item of a cart: the assignment, the winning condition and every condition
    whose scope covers it, with why each lost."""
    dist = distributor(session)
    names = organization_names(session)
    groups = {g.id: g.name for g in session.scalars(select(ItemGroup))}

    def level_name(label: str) -> str:
        if label.startswith("group "):
            gid = int(label.split()[1])
            return f"group {groups.get(gid, gid)}"
        return label

    out = []
    for position, item in enumerate(items):
        exp = dist.index.explain(item.id, item.group_id, ctx, usable=dist.unusable, level_name=level_name)
        assignment = dist.assign(
            item.id,
            item.group_id,
            VatRate(item.vat_rate),
            ctx,
            revenue=revenue,
            default_organization_id=default_organization_id,
        )
        out.append(
            {
                "position": position,
                "item_id": item.id,
                "sku": item.sku,
                "name": item.name,
                "group_path": [groups.get(g, str(g)) for g in reversed(dist.index.tree.chain(item.group_id))],
                "winner": exp.winner.id if exp.winner else None,
                "assignment": describe_assignment(assignment, names),
                "problem": None
                if assignment is not None
                else f"No distribution condition covers {item.name} ({item.sku}) in this context",
                "considered": [
                    {
                        "condition_id": c.condition.id,
                        "name": c.condition.name,
                        "level": c.level,
                        "priority": c.condition.priority,
                        "organization": names.get(
                            c.condition.organization_id, str(c.condition.organization_id)
                        ),
                        "tax_system": c.condition.tax_system.value,
                        "vat_rate": c.condition.vat_rate.value if c.condition.vat_rate else None,
                        "verdict": c.verdict,
                        "reason": c.reason,
                    }
                    for c in exp.considered
                ],
            }
        )
    return out


def lint(session: Session, on: dt.date) -> dict[str, Any]:
    """Ambiguous conditions, items some sale contexts leave uncovered, and conditions that cannot win."""
    dist = distributor(session)
    conditions = dist.index.conditions
    names = organization_names(session)
    branches = branch_names(session)
    branch_ids = active_branch_ids(session)
    items = list(session.scalars(select(Item).where(Item.active.is_(True)).order_by(Item.name)))
    by_id = {i.id: i for i in items}
    gaps = coverage_gaps([(i.id, i.group_id) for i in items], dist.index, on, branch_ids)
    problems = []
    for c in conditions:
        if not c.active:
            continue
        reason = condition_unusable(c, dist.organizations)
        if reason is None and c.vat_rate is not None:
            org = dist.organizations[c.organization_id]
            found = target_problems(
                org.tax_systems,
                org.pays_vat,
                org.default_vat_rate,
                c.tax_system,
                c.vat_rate,
                (c.valid_from, c.valid_to),
            )
            reason = found[0] if found else None
        if reason is None and c.valid_to is not None and c.valid_to < on:
            reason = f"expired on {c.valid_to.isoformat()}: it no longer decides anything"
        if reason is not None:
            problems.append({"condition_id": c.id, "name": c.name, "message": f"{c.label}: {reason}"})
    return {
        "on": on.isoformat(),
        "ambiguous": [
            {
                "conditions": [a.first.id, a.second.id],
                "organizations": [names.get(a.first.organization_id), names.get(a.second.organization_id)],
                "message": a.message,
            }
            for a in ambiguities(conditions)
        ],
        "uncovered": [
            {
                "item_id": g.item_id,
                "sku": by_id[g.item_id].sku,
                "name": by_id[g.item_id].name,
                "everywhere": g.everywhere,
                "contexts": [
                    {
                        "branch_id": ctx.branch_id,
                        "branch": branches.get(ctx.branch_id) if ctx.branch_id is not None else None,
                        "order_kind": ctx.order_kind,
                        "payment_kind": ctx.payment_kind,
                    }
                    for ctx in g.contexts
                ],
            }
            for g in gaps
        ],
        "problems": problems,
    }
