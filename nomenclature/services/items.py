"""Catalogue items: read, list and save (items are never deleted, orders refer to them), and the
delivery position ensured."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from frontoffice import audit
from frontoffice.db import utcnow
from frontoffice.errors import Conflict, FieldError, NotFound, field_error
from nomenclature.distribution import GroupTree
from nomenclature.models import Item, ItemGroup, ItemModifierGroup, ModifierGroup
from nomenclature.services.checks import MAX_PRICE, refuse
from nomenclature.services.compiled import distributor, group_parents, mark_changed
from nomenclature.services.delivery import DELIVERY_ITEM, DELIVERY_SKU, delivery_item
from nomenclature.services.vat import conflict_error, find_conflicts
from nomenclature.taxes import VatRate, parse_vat_rate


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


def save_item(
    session: Session, item_id: int | None, fields: Mapping[str, Any], *, on: dt.date | None = None
) -> Item:
    """Create or change an item; ``modifier_group_ids`` replaces the groups it offers.

    A new rate, group or return to sale is refused when a condition that would decide the item
    (on some day from ``on``) gives it to a seller that cannot charge its VAT rate."""
    item = (
        Item(sku="", name="", price=0, vat_rate="vat22", unit="pcs", description="", active=True)
        if item_id is None
        else get_item(session, item_id)
    )
    before = audit.state(item) if item_id is not None else None
    errors: list[FieldError] = []
    sku = str(fields.get("sku", item.sku) or "").strip()
    name = str(fields.get("name", item.name) or "").strip()
    if not sku:
        errors.append(field_error("sku", "An item needs a SKU"))
    elif sku != item.sku and session.scalar(select(Item.id).where(Item.sku == sku)) is not None:
        raise Conflict(f"Another item already has the SKU {sku}.")
    if not name:
        errors.append(field_error("name", "An item needs a name"))
    if item.sku == DELIVERY_SKU and sku != DELIVERY_SKU:
        errors.append(
            field_error("sku", f"The delivery position keeps its SKU {DELIVERY_SKU}: orders find it by it")
        )
    if item.sku == DELIVERY_SKU and fields.get("active", True) is False:
        errors.append(
            field_error("active", "The delivery position stays on sale: delivery fees are sold as it")
        )
    price = fields.get("price", item.price)
    if price is None or not 0 <= price <= MAX_PRICE:
        errors.append(field_error("price", "The price must be from 0 to 1 000 000.00"))
    vat = fields.get("vat_rate", item.vat_rate)
    try:
        vat = parse_vat_rate(vat).value
    except ValueError as exc:
        errors.append(field_error("vat_rate", str(exc)))
    group_id = fields.get("group_id", item.group_id)
    if group_id is not None and session.get(ItemGroup, group_id) is None:
        errors.append(field_error("group_id", f"unknown group {group_id}"))
    modifier_ids = fields.get("modifier_group_ids")
    if modifier_ids is not None:
        known = set(session.scalars(select(ModifierGroup.id).where(ModifierGroup.id.in_(modifier_ids))))
        errors += [
            field_error("modifier_group_ids", f"unknown modifier group {m}")
            for m in modifier_ids
            if m not in known
        ]
        if len(set(modifier_ids)) != len(modifier_ids):
            errors.append(field_error("modifier_group_ids", "a modifier group is listed twice"))
    active = bool(fields.get("active", item.active))
    if not errors and active:
        errors += _vat_errors(session, item, sku, name, VatRate(vat), group_id, on)
    refuse("The item cannot be saved", errors)
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
    after = audit.state(item)
    if modifier_ids is not None:
        after["modifier_group_ids"] = list(modifier_ids)
    audit.record(
        session,
        audit.Action.CREATE if before is None else audit.Action.UPDATE,
        "item",
        item.id,
        before,
        after,
    )
    if modifier_ids is not None or item.sku == DELIVERY_SKU:  # the compiled rules keep both
        mark_changed(session)
    return item


def ensure_delivery_item(session: Session) -> Item:
    """The delivery position, created as the migrations seed it when it is missing."""
    item = delivery_item(session)
    if item is None:
        item = Item(**DELIVERY_ITEM, active=True)
        session.add(item)
        session.flush()
        mark_changed(session)
    return item


def _vat_errors(
    session: Session, item: Item, sku: str, name: str, rate: VatRate, group_id: int | None, on: dt.date | None
) -> list[FieldError]:
    """Why the item cannot take this rate, group or return to sale: a condition that would decide
    it gives it to a seller that cannot charge the rate."""
    if item.id is not None and item.active and rate.value == item.vat_rate and group_id == item.group_id:
        return []
    field = (
        "vat_rate"
        if item.id is None or rate.value != item.vat_rate
        else "group_id"
        if group_id != item.group_id
        else "active"
    )
    conflicts = find_conflicts(
        session, distributor(session), [(item.id, group_id, rate)], on or utcnow().date(), since=on
    )
    lead = (
        f"{rate.label} cannot be charged where the conditions send this item (change the rate, or set "
        "a VAT override in the condition)"
    )
    return conflict_error(field, lead, conflicts, {item.id: f"{name} ({sku})"})
