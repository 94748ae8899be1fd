"""The catalogue JSON API: menu, item groups, items, modifiers and the stop-list."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from frontoffice.api import endpoint
from frontoffice.errors import InvalidInput, NotFound, field_error
from frontoffice.kernel import current_kernel
from frontoffice.models import User
from frontoffice.money import from_minor
from nomenclature import services
from nomenclature.api.common import (
    ADMIN,
    READ,
    SELL,
    STOP,
    TAGS,
    bp,
    not_null,
    options_in_minor_units,
    service_fields,
    today,
)
from nomenclature.models import Item
from nomenclature.schemas import (
    GroupIn,
    GroupOut,
    GroupPatch,
    ItemIn,
    ItemOut,
    ItemPatch,
    ItemQuery,
    MenuOut,
    MenuQuery,
    ModifierGroupIn,
    ModifierGroupOut,
    ModifierGroupPatch,
    OptionIn,
    OptionOut,
    OptionPatch,
    StopIn,
    StopListQuery,
    StopOut,
)

# --- menu ---------------------------------------------------------------------------------------


@endpoint(
    bp,
    "/menu",
    roles=SELL,
    query=MenuQuery,
    response=MenuOut,
    summary="The active menu",
    tags=TAGS,
    errors=(404,),
)
def get_menu(query: MenuQuery) -> MenuOut:
    """Groups and items with modifiers; ``stopped`` flags the branch's stop-list."""
    with current_kernel().db.reading() as s:
        return MenuOut.of(services.menu(s, query.branch_id, query.q))


# --- groups -------------------------------------------------------------------------------------


@endpoint(bp, "/item-groups", roles=READ, response=list[GroupOut], summary="Item groups", tags=TAGS)
def list_groups() -> list[GroupOut]:
    """Every group of the tree."""
    with current_kernel().db.reading() as s:
        return [GroupOut.of(g) for g in services.list_groups(s)]


@endpoint(
    bp,
    "/item-groups",
    method="POST",
    roles=ADMIN,
    body=GroupIn,
    response=GroupOut,
    status=201,
    summary="Create an item group",
    tags=TAGS,
)
def create_group(body: GroupIn) -> GroupOut:
    """Add a group under a parent (or at the top)."""
    with current_kernel().db.unit_of_work() as s:
        return GroupOut.of(services.save_group(s, None, service_fields(body, partial=False), on=today()))


@endpoint(
    bp,
    "/item-groups/<int:group_id>",
    method="PATCH",
    roles=ADMIN,
    body=GroupPatch,
    response=GroupOut,
    summary="Change an item group",
    tags=TAGS,
    errors=(404,),
    description="Moving a group under one of its own subgroups is refused (422), and so is a move that "
    "would give its items to an organization that cannot charge their VAT rate.",
)
def update_group(group_id: int, body: GroupPatch) -> GroupOut:
    """Rename, move, reorder, switch off."""
    data = not_null(service_fields(body, partial=True), "name", "position", "active")
    with current_kernel().db.unit_of_work() as s:
        return GroupOut.of(services.save_group(s, group_id, data, on=today()))


@endpoint(
    bp,
    "/item-groups/<int:group_id>",
    method="DELETE",
    roles=ADMIN,
    status=204,
    summary="Delete an empty item group",
    tags=TAGS,
    errors=(404, 409),
)
def delete_group(group_id: int) -> None:
    """Only a group without subgroups, items and conditions."""
    with current_kernel().db.unit_of_work() as s:
        services.delete_group(s, group_id)


# --- items --------------------------------------------------------------------------------------


@endpoint(
    bp, "/items", roles=READ, query=ItemQuery, response=list[ItemOut], summary="Catalogue items", tags=TAGS
)
def list_items(query: ItemQuery) -> list[ItemOut]:
    """Every item, or those of a group (with subgroups) or matching a text."""
    with current_kernel().db.reading() as s:
        return [ItemOut.of(i) for i in services.list_items(s, group_id=query.group_id, q=query.q)]


@endpoint(
    bp, "/items/<int:item_id>", roles=READ, response=ItemOut, summary="One item", tags=TAGS, errors=(404,)
)
def get_item(item_id: int) -> ItemOut:
    """Read one item."""
    with current_kernel().db.reading() as s:
        return ItemOut.of(services.get_item(s, item_id))


@endpoint(
    bp,
    "/items",
    method="POST",
    roles=ADMIN,
    body=ItemIn,
    response=ItemOut,
    status=201,
    summary="Create an item",
    tags=TAGS,
    errors=(409,),
    description="Refused (422) when a condition that would decide the item gives it to an organization "
    "that cannot charge its VAT rate (e.g. 5 % under ОСН); the message names the condition and the law.",
)
def create_item(body: ItemIn) -> ItemOut:
    """Add an item; the SKU must be new."""
    with current_kernel().db.unit_of_work() as s:
        return ItemOut.of(services.save_item(s, None, service_fields(body, partial=False), on=today()))


@endpoint(
    bp,
    "/items/<int:item_id>",
    method="PATCH",
    roles=ADMIN,
    body=ItemPatch,
    response=ItemOut,
    summary="Change an item",
    tags=TAGS,
    errors=(404, 409),
    description="`active: false` takes an item off sale; items are never deleted (orders refer to them). "
    "A new VAT rate, group or return to sale is refused (422) when a condition that would decide the "
    "item gives it to an organization that cannot charge its rate; the message names the condition.",
)
def update_item(item_id: int, body: ItemPatch) -> ItemOut:
    """Change price, group, modifiers, …"""
    data = not_null(
        service_fields(body, partial=True),
        "sku",
        "name",
        "price",
        "vat_rate",
        "unit",
        "description",
        "active",
    )
    with current_kernel().db.unit_of_work() as s:
        return ItemOut.of(services.save_item(s, item_id, data, on=today()))


# --- modifiers ----------------------------------------------------------------------------------


@endpoint(
    bp, "/modifier-groups", roles=READ, response=list[ModifierGroupOut], summary="Modifier groups", tags=TAGS
)
def list_modifier_groups() -> list[ModifierGroupOut]:
    """Every modifier group with its options."""
    with current_kernel().db.reading() as s:
        return [ModifierGroupOut.of(g) for g in services.list_modifier_groups(s)]


@endpoint(
    bp,
    "/modifier-groups",
    method="POST",
    roles=ADMIN,
    body=ModifierGroupIn,
    response=ModifierGroupOut,
    status=201,
    summary="Create a modifier group with its options",
    tags=TAGS,
)
def create_modifier_group(body: ModifierGroupIn) -> ModifierGroupOut:
    """E.g. Size (min 0, max 1): 25 cm −100.00, 35 cm +150.00."""
    with current_kernel().db.unit_of_work() as s:
        return ModifierGroupOut.of(
            services.save_modifier_group(s, None, options_in_minor_units(service_fields(body, partial=False)))
        )


@endpoint(
    bp,
    "/modifier-groups/<int:group_id>",
    method="PATCH",
    roles=ADMIN,
    body=ModifierGroupPatch,
    response=ModifierGroupOut,
    summary="Change a modifier group",
    tags=TAGS,
    errors=(404,),
)
def update_modifier_group(group_id: int, body: ModifierGroupPatch) -> ModifierGroupOut:
    """Rename, change min/max, switch off."""
    data = not_null(service_fields(body, partial=True), "name", "active")
    with current_kernel().db.unit_of_work() as s:
        return ModifierGroupOut.of(services.save_modifier_group(s, group_id, data))


@endpoint(
    bp,
    "/modifier-groups/<int:group_id>",
    method="DELETE",
    roles=ADMIN,
    status=204,
    summary="Delete a modifier group",
    tags=TAGS,
    errors=(404,),
)
def delete_modifier_group(group_id: int) -> None:
    """Past order lines keep their copy of the options."""
    with current_kernel().db.unit_of_work() as s:
        services.delete_modifier_group(s, group_id)


@endpoint(
    bp,
    "/modifier-groups/<int:group_id>/options",
    method="POST",
    roles=ADMIN,
    body=OptionIn,
    response=OptionOut,
    status=201,
    summary="Add an option to a modifier group",
    tags=TAGS,
    errors=(404,),
)
def create_option(group_id: int, body: OptionIn) -> OptionOut:
    """Add one option."""
    with current_kernel().db.unit_of_work() as s:
        return _option_out(services.save_option(s, group_id, None, service_fields(body, partial=False)))


def _option_out(o: Any) -> OptionOut:
    return OptionOut(
        id=o.id, name=o.name, price_delta=from_minor(o.price_delta), position=o.position, active=o.active
    )


@endpoint(
    bp,
    "/modifier-groups/<int:group_id>/options/<int:option_id>",
    method="PATCH",
    roles=ADMIN,
    body=OptionPatch,
    response=OptionOut,
    summary="Change an option",
    tags=TAGS,
    errors=(404,),
)
def update_option(group_id: int, option_id: int, body: OptionPatch) -> OptionOut:
    """Rename, reprice, reorder, switch off."""
    data = not_null(service_fields(body, partial=True), "name", "price_delta", "position", "active")
    with current_kernel().db.unit_of_work() as s:
        return _option_out(services.save_option(s, group_id, option_id, data))


# --- stop-list ----------------------------------------------------------------------------------


def _stop_out(entry: Any, item: Item) -> StopOut:
    return StopOut(
        branch_id=entry.branch_id,
        item_id=item.id,
        sku=item.sku,
        name=item.name,
        reason=entry.reason,
        stopped_by=entry.stopped_by,
        stopped_at=entry.stopped_at,
    )


@endpoint(
    bp, "/stop-list", roles=SELL, query=StopListQuery, response=list[StopOut], summary="Stop-list", tags=TAGS
)
def get_stop_list(query: StopListQuery) -> list[StopOut]:
    """Items unavailable now, in one branch or all."""
    with current_kernel().db.reading() as s:
        return [_stop_out(e, i) for e, i in services.stop_list(s, query.branch_id)]


@endpoint(
    bp,
    "/stop-list",
    method="POST",
    roles=STOP,
    body=StopIn,
    response=StopOut,
    status=201,
    summary="Put an item on a branch's stop-list",
    tags=TAGS,
    errors=(404,),
)
def stop_item(body: StopIn, actor: User) -> StopOut:
    """Orders for the item in that branch are refused until it is taken off."""
    with current_kernel().db.unit_of_work() as s:
        item_id = body.item_id
        if body.sku is not None:
            item_id = s.scalar(select(Item.id).where(Item.sku == body.sku))
            if item_id is None:
                raise InvalidInput(
                    f"Unknown item {body.sku!r}.",
                    errors=[field_error("sku", "unknown SKU")],
                )
        assert item_id is not None
        entry = services.stop_item(s, body.branch_id, item_id, body.reason, actor_id=actor.id)
        return _stop_out(entry, services.get_item(s, item_id))


@endpoint(
    bp,
    "/stop-list/<int:branch_id>/<int:item_id>",
    method="DELETE",
    roles=STOP,
    status=204,
    summary="Take an item off a branch's stop-list",
    tags=TAGS,
    errors=(404,),
)
def resume_item(branch_id: int, item_id: int, actor: User) -> None:
    """The item is on sale again in that branch."""
    with current_kernel().db.unit_of_work() as s:
        if not services.resume_item(s, branch_id, item_id, actor_id=actor.id):
            raise NotFound(f"Item {item_id} is not on the stop-list of branch {branch_id}.")
