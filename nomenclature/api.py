"""The nomenclature JSON API: menu, groups, items, modifiers, stop-list, organizations,
distribution conditions, explain and lint."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app
from sqlalchemy import select

from frontoffice.api import endpoint
from frontoffice.errors import InvalidInput, NotFound
from frontoffice.models import Role, User
from frontoffice.money import from_minor, to_minor
from nomenclature import services
from nomenclature.distribution import SaleContext
from nomenclature.models import Item
from nomenclature.ports import ORGANIZATION_REVENUE
from nomenclature.schemas import (
    ConditionIn,
    ConditionOut,
    ConditionPatch,
    ExplainIn,
    ExplainOut,
    GroupIn,
    GroupOut,
    GroupPatch,
    ItemIn,
    ItemOut,
    ItemPatch,
    ItemQuery,
    LintOut,
    LintQuery,
    MenuOut,
    MenuQuery,
    ModifierGroupIn,
    ModifierGroupOut,
    ModifierGroupPatch,
    OptionIn,
    OptionOut,
    OptionPatch,
    OrganizationIn,
    OrganizationOut,
    OrganizationPatch,
    StopIn,
    StopListQuery,
    StopOut,
)

bp = Blueprint("nomenclature_api", __name__, url_prefix="/api/v1")

ADMIN = {Role.ADMIN}
READ = {Role.MANAGER}
SELL = {Role.OPERATOR, Role.MANAGER, Role.BACKOFFICE}
STOP = {Role.OPERATOR, Role.MANAGER}
TAGS = ["nomenclature"]
DIST_TAGS = ["distribution"]
MONEY_FIELDS = ("price", "price_delta", "annual_revenue_limit")


def _kernel():
    return current_app.extensions["frontoffice"]


def today() -> dt.date:
    """The business day now in the configured time zone."""
    return dt.datetime.now(ZoneInfo(_kernel().settings.timezone)).date()


def service_fields(model: Any, *, partial: bool) -> dict[str, Any]:
    """A request model as service fields: money in minor units, enums as values."""
    data = model.model_dump(exclude_unset=partial)
    for key in MONEY_FIELDS:
        if data.get(key) is not None:
            data[key] = to_minor(data[key])
    for key in ("min", "max"):
        if key in data and data[key] is None:
            del data[key]
    return data


def _options(data: dict[str, Any]) -> dict[str, Any]:
    if "options" in data:
        data["options"] = [{**o, "price_delta": to_minor(o["price_delta"])} for o in data["options"]]
    return data


def _not_null(data: dict[str, Any], *keys: str) -> dict[str, Any]:
    """Refuse an explicit null for fields that cannot be empty."""
    nulls = [k for k in keys if k in data and data[k] is None]
    if nulls:
        raise InvalidInput(
            "These fields cannot be null: " + ", ".join(nulls) + ".",
            errors=[{"field": k, "message": "cannot be null", "type": "value_error"} for k in nulls],
        )
    return data


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
    with _kernel().db.reading() as s:
        return MenuOut.of(services.menu(s, query.branch_id, query.q))


# --- groups -------------------------------------------------------------------------------------


@endpoint(bp, "/item-groups", roles=READ, response=list[GroupOut], summary="Item groups", tags=TAGS)
def list_groups() -> list[GroupOut]:
    """Every group of the tree."""
    with _kernel().db.reading() as s:
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
    with _kernel().db.unit_of_work() as s:
        return GroupOut.of(services.save_group(s, None, service_fields(body, partial=False)))


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
    description="Moving a group under one of its own subgroups is refused (422).",
)
def update_group(group_id: int, body: GroupPatch) -> GroupOut:
    """Rename, move, reorder, switch off."""
    data = _not_null(service_fields(body, partial=True), "name", "position", "active")
    with _kernel().db.unit_of_work() as s:
        return GroupOut.of(services.save_group(s, group_id, data))


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
    with _kernel().db.unit_of_work() as s:
        services.delete_group(s, group_id)


# --- items --------------------------------------------------------------------------------------


@endpoint(
    bp, "/items", roles=READ, query=ItemQuery, response=list[ItemOut], summary="Catalogue items", tags=TAGS
)
def list_items(query: ItemQuery) -> list[ItemOut]:
    """Every item, or those of a group (with subgroups) or matching a text."""
    with _kernel().db.reading() as s:
        return [ItemOut.of(i) for i in services.list_items(s, group_id=query.group_id, q=query.q)]


@endpoint(
    bp, "/items/<int:item_id>", roles=READ, response=ItemOut, summary="One item", tags=TAGS, errors=(404,)
)
def get_item(item_id: int) -> ItemOut:
    """Read one item."""
    with _kernel().db.reading() as s:
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
)
def create_item(body: ItemIn) -> ItemOut:
    """Add an item; the SKU must be new."""
    with _kernel().db.unit_of_work() as s:
        return ItemOut.of(services.save_item(s, None, service_fields(body, partial=False)))


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
    description="`active: false` takes an item off sale; items are never deleted (orders refer to them).",
)
def update_item(item_id: int, body: ItemPatch) -> ItemOut:
    """Change price, group, modifiers, …"""
    data = _not_null(
        service_fields(body, partial=True),
        "sku",
        "name",
        "price",
        "vat_rate",
        "unit",
        "description",
        "active",
    )
    with _kernel().db.unit_of_work() as s:
        return ItemOut.of(services.save_item(s, item_id, data))


# --- modifiers ----------------------------------------------------------------------------------


@endpoint(
    bp, "/modifier-groups", roles=READ, response=list[ModifierGroupOut], summary="Modifier groups", tags=TAGS
)
def list_modifier_groups() -> list[ModifierGroupOut]:
    """Every modifier group with its options."""
    with _kernel().db.reading() as s:
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
    with _kernel().db.unit_of_work() as s:
        return ModifierGroupOut.of(
            services.save_modifier_group(s, None, _options(service_fields(body, partial=False)))
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
    data = _not_null(service_fields(body, partial=True), "name", "active")
    with _kernel().db.unit_of_work() as s:
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
    with _kernel().db.unit_of_work() as s:
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
    with _kernel().db.unit_of_work() as s:
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
    data = _not_null(service_fields(body, partial=True), "name", "price_delta", "position", "active")
    with _kernel().db.unit_of_work() as s:
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
    with _kernel().db.reading() as s:
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
    with _kernel().db.unit_of_work() as s:
        item_id = body.item_id
        if body.sku is not None:
            item_id = s.scalar(select(Item.id).where(Item.sku == body.sku))
            if item_id is None:
                raise InvalidInput(
                    f"Unknown item {body.sku!r}.",
                    errors=[{"field": "sku", "message": "unknown SKU", "type": "value_error"}],
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
    with _kernel().db.unit_of_work() as s:
        if not services.resume_item(s, branch_id, item_id, actor_id=actor.id):
            raise NotFound(f"Item {item_id} is not on the stop-list of branch {branch_id}.")


# --- organizations ------------------------------------------------------------------------------


@endpoint(
    bp, "/organizations", roles=READ, response=list[OrganizationOut], summary="Organizations", tags=DIST_TAGS
)
def list_organizations() -> list[OrganizationOut]:
    """Every organization."""
    with _kernel().db.reading() as s:
        return [OrganizationOut.of(o) for o in services.list_organizations(s)]


@endpoint(
    bp,
    "/organizations/<int:org_id>",
    roles=READ,
    response=OrganizationOut,
    summary="One organization",
    tags=DIST_TAGS,
    errors=(404,),
)
def get_organization(org_id: int) -> OrganizationOut:
    """Read one organization."""
    with _kernel().db.reading() as s:
        return OrganizationOut.of(services.get_organization(s, org_id))


@endpoint(
    bp,
    "/organizations",
    method="POST",
    roles=ADMIN,
    body=OrganizationIn,
    response=OrganizationOut,
    status=201,
    summary="Create an organization",
    tags=DIST_TAGS,
    errors=(409,),
    description="The INN's check digits, the KPP, the tax systems and the VAT regime are validated; "
    "a refusal (422) says why the combination is not allowed.",
)
def create_organization(body: OrganizationIn) -> OrganizationOut:
    """Add a seller."""
    with _kernel().db.unit_of_work() as s:
        return OrganizationOut.of(
            services.save_organization(s, None, service_fields(body, partial=False), on=today())
        )


@endpoint(
    bp,
    "/organizations/<int:org_id>",
    method="PATCH",
    roles=ADMIN,
    body=OrganizationPatch,
    response=OrganizationOut,
    summary="Change an organization",
    tags=DIST_TAGS,
    errors=(404, 409),
)
def update_organization(org_id: int, body: OrganizationPatch) -> OrganizationOut:
    """Change the tax systems, VAT, revenue limit, fallback, …"""
    data = _not_null(
        service_fields(body, partial=True),
        "name",
        "inn",
        "kpp",
        "tax_systems",
        "pays_vat",
        "default_vat_rate",
        "active",
    )
    with _kernel().db.unit_of_work() as s:
        return OrganizationOut.of(services.save_organization(s, org_id, data, on=today()))


# --- conditions ---------------------------------------------------------------------------------


@endpoint(
    bp,
    "/distribution/conditions",
    roles=READ,
    response=list[ConditionOut],
    summary="Distribution conditions",
    tags=DIST_TAGS,
)
def list_conditions() -> list[ConditionOut]:
    """Every condition."""
    with _kernel().db.reading() as s:
        return [ConditionOut.of(c) for c in services.list_conditions(s)]


@endpoint(
    bp,
    "/distribution/conditions/<int:condition_id>",
    roles=READ,
    response=ConditionOut,
    summary="One distribution condition",
    tags=DIST_TAGS,
    errors=(404,),
)
def get_condition(condition_id: int) -> ConditionOut:
    """Read one condition."""
    with _kernel().db.reading() as s:
        return ConditionOut.of(services.get_condition(s, condition_id))


@endpoint(
    bp,
    "/distribution/conditions",
    method="POST",
    roles=ADMIN,
    body=ConditionIn,
    response=ConditionOut,
    status=201,
    summary="Create a distribution condition",
    tags=DIST_TAGS,
    description="Refused (422) for an unknown group, item, organization or branch, a tax system the "
    "organization does not apply, a VAT override its regime forbids, or a period that ends before it starts.",
)
def create_condition(body: ConditionIn, actor: User) -> ConditionOut:
    """Add a condition."""
    with _kernel().db.unit_of_work() as s:
        return ConditionOut.of(
            services.save_condition(s, None, service_fields(body, partial=False), actor_id=actor.id)
        )


@endpoint(
    bp,
    "/distribution/conditions/<int:condition_id>",
    method="PATCH",
    roles=ADMIN,
    body=ConditionPatch,
    response=ConditionOut,
    summary="Change a distribution condition",
    tags=DIST_TAGS,
    errors=(404,),
)
def update_condition(condition_id: int, body: ConditionPatch, actor: User) -> ConditionOut:
    """Change any field; the whole condition is checked again."""
    data = _not_null(
        service_fields(body, partial=True),
        "scope",
        "organization_id",
        "tax_system",
        "priority",
        "active",
        "branch_ids",
        "order_kinds",
        "payment_kinds",
    )
    with _kernel().db.unit_of_work() as s:
        return ConditionOut.of(services.save_condition(s, condition_id, data, actor_id=actor.id))


@endpoint(
    bp,
    "/distribution/conditions/<int:condition_id>",
    method="DELETE",
    roles=ADMIN,
    status=204,
    summary="Delete a distribution condition",
    tags=DIST_TAGS,
    errors=(404,),
)
def delete_condition(condition_id: int) -> None:
    """Order lines it decided keep its id."""
    with _kernel().db.unit_of_work() as s:
        services.delete_condition(s, condition_id)


# --- explain and lint ---------------------------------------------------------------------------


def explain_cart(s: Any, body: ExplainIn) -> ExplainOut:
    """Explain a cart inside an open session (shared by the API and the admin page)."""
    k = _kernel()
    on = body.on or today()
    by_sku, by_id = services.items_for_lines(
        s,
        (ln.sku for ln in body.lines if ln.sku),
        (ln.item_id for ln in body.lines if ln.item_id is not None),
    )
    items, errors = [], []
    for n, ln in enumerate(body.lines):
        item = by_sku.get(ln.sku) if ln.sku else by_id.get(ln.item_id) if ln.item_id is not None else None
        if item is None:
            errors.append(
                {
                    "field": f"lines.{n}",
                    "message": f"unknown item {ln.sku or ln.item_id!r}",
                    "type": "value_error",
                }
            )
        else:
            items.append(item)
    if errors:
        raise InvalidInput("The cart names unknown items.", errors=errors)
    lookup = k.extensions.find(ORGANIZATION_REVENUE)
    dist = services.distributor(s)
    limited = [o.id for o in dist.organizations.values() if o.annual_revenue_limit is not None]
    revenue = lookup(s, limited, on) if lookup is not None and limited else {}
    ctx = SaleContext(on, body.branch_id, body.kind, body.payment_kind)
    lines = services.explain_lines(
        s, items, ctx, revenue=revenue, default_organization_id=k.settings.default_organization_id
    )
    return ExplainOut.model_validate(
        {
            "on": on,
            "branch_id": body.branch_id,
            "kind": body.kind,
            "payment_kind": body.payment_kind,
            "lines": lines,
        }
    )


@endpoint(
    bp,
    "/distribution/explain",
    method="POST",
    roles=READ,
    body=ExplainIn,
    response=ExplainOut,
    summary="Explain who sells each line of a cart",
    tags=DIST_TAGS,
    idempotent=False,
    description="For every line: the assignment, the winning condition and every condition whose scope "
    "covers the item, with why each lost or did not apply.",
)
def explain(body: ExplainIn) -> ExplainOut:
    """Explain a cart."""
    with _kernel().db.reading() as s:
        return explain_cart(s, body)


def lint_report(s: Any, on: dt.date) -> LintOut:
    """The lint inside an open session (shared by the API and the admin page)."""
    data = services.lint(s, on)
    ok = not (data["ambiguous"] or data["uncovered"] or data["problems"])
    return LintOut.model_validate({**data, "ok": ok})


@endpoint(
    bp,
    "/distribution/lint",
    roles=READ,
    query=LintQuery,
    response=LintOut,
    summary="Ambiguous conditions and uncovered items",
    tags=DIST_TAGS,
)
def lint(query: LintQuery) -> LintOut:
    """Lint the conditions for a day."""
    with _kernel().db.reading() as s:
        return lint_report(s, query.on or today())
