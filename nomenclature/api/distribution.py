"""The distribution JSON API: organizations, distribution conditions, explain and lint."""

from __future__ import annotations

import datetime as dt
from typing import Any

from frontoffice.api import endpoint
from frontoffice.errors import InvalidInput, field_error
from frontoffice.kernel import current_kernel
from frontoffice.models import User
from nomenclature import services
from nomenclature.api.common import ADMIN, DIST_TAGS, READ, bp, not_null, service_fields, today
from nomenclature.distribution import SaleContext
from nomenclature.ports import ORGANIZATION_REVENUE
from nomenclature.schemas import (
    ConditionIn,
    ConditionOut,
    ConditionPatch,
    ExplainIn,
    ExplainOut,
    LintOut,
    LintQuery,
    OrganizationIn,
    OrganizationOut,
    OrganizationPatch,
)

# --- organizations ------------------------------------------------------------------------------


@endpoint(
    bp, "/organizations", roles=READ, response=list[OrganizationOut], summary="Organizations", tags=DIST_TAGS
)
def list_organizations() -> list[OrganizationOut]:
    """Every organization."""
    with current_kernel().db.reading() as s:
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
    with current_kernel().db.reading() as s:
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
    with current_kernel().db.unit_of_work() as s:
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
    description="Checked as when it is created; a new VAT regime is also refused (422) when its "
    "conditions give it items whose VAT rate it could no longer charge.",
)
def update_organization(org_id: int, body: OrganizationPatch) -> OrganizationOut:
    """Change the tax systems, VAT, revenue limit, fallback, …"""
    data = not_null(
        service_fields(body, partial=True),
        "name",
        "inn",
        "kpp",
        "tax_systems",
        "pays_vat",
        "default_vat_rate",
        "active",
    )
    with current_kernel().db.unit_of_work() as s:
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
    with current_kernel().db.reading() as s:
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
    with current_kernel().db.reading() as s:
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
    "organization does not apply, a VAT override its regime forbids, a period that ends before it starts, "
    "or (field `vat_rate`) items on sale it would decide whose VAT rate the organization cannot charge "
    "(5 % or 7 % under the general rates), named with the law.",
)
def create_condition(body: ConditionIn, actor: User) -> ConditionOut:
    """Add a condition."""
    with current_kernel().db.unit_of_work() as s:
        return ConditionOut.of(
            services.save_condition(
                s, None, service_fields(body, partial=False), actor_id=actor.id, on=today()
            )
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
    description="The whole condition is checked again, as when it is created.",
)
def update_condition(condition_id: int, body: ConditionPatch, actor: User) -> ConditionOut:
    """Change any field; the whole condition is checked again."""
    data = not_null(
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
    with current_kernel().db.unit_of_work() as s:
        return ConditionOut.of(services.save_condition(s, condition_id, data, actor_id=actor.id, on=today()))


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
    with current_kernel().db.unit_of_work() as s:
        services.delete_condition(s, condition_id)


# --- explain and lint ---------------------------------------------------------------------------


def explain_cart(s: Any, body: ExplainIn) -> ExplainOut:
    """Explain a cart inside an open session (shared by the API and the admin page)."""
    k = current_kernel()
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
            errors.append(field_error(f"lines.{n}", f"unknown item {ln.sku or ln.item_id!r}"))
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
    "covers the item, with why each lost or did not apply; the item's VAT rate, the rate charged and why "
    "they differ, or the problem when the seller cannot charge it.",
)
def explain(body: ExplainIn) -> ExplainOut:
    """Explain a cart."""
    with current_kernel().db.reading() as s:
        return explain_cart(s, body)


def lint_report(s: Any, on: dt.date) -> LintOut:
    """The lint inside an open session (shared by the API and the admin page)."""
    data = services.lint(s, on, default_organization_id=current_kernel().settings.default_organization_id)
    ok = not (data["ambiguous"] or data["uncovered"] or data["problems"] or data["vat"])
    return LintOut.model_validate({**data, "ok": ok})


@endpoint(
    bp,
    "/distribution/lint",
    roles=READ,
    query=LintQuery,
    response=LintOut,
    summary="Ambiguous conditions, uncovered items, VAT rates a seller cannot charge",
    tags=DIST_TAGS,
)
def lint(query: LintQuery) -> LintOut:
    """Lint the conditions for a day."""
    with current_kernel().db.reading() as s:
        return lint_report(s, query.on or today())
