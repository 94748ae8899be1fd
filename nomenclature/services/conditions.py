"""Distribution conditions: read, check, save and delete."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from frontoffice import audit
from frontoffice.db import utcnow
from frontoffice.errors import FieldError, NotFound, field_error
from nomenclature.distribution import ORDER_KINDS, PAYMENT_KINDS, Scope
from nomenclature.models import DistributionCondition, Item, ItemGroup, Organization
from nomenclature.services.branches import check_branches
from nomenclature.services.checks import refuse
from nomenclature.services.compiled import (
    build_from_rows,
    condition_of,
    mark_changed,
    profile_of,
    proposed_condition,
)
from nomenclature.services.vat import active_items, condition_conflicts_error, find_conflicts, line_of
from nomenclature.taxes import parse_tax_system, parse_vat_rate, target_problems


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


def condition_problems(session: Session, values: Mapping[str, Any]) -> list[FieldError]:
    """Every reason the condition described by ``values`` cannot be saved."""
    errors: list[FieldError] = []
    try:
        scope = Scope(values["scope"])
    except ValueError:
        return [field_error("scope", f"the scope must be one of {', '.join(s.value for s in Scope)}")]
    group_id, item_id = values.get("group_id"), values.get("item_id")
    if scope is Scope.ALL and (group_id is not None or item_id is not None):
        errors.append(field_error("scope", "a condition for all nomenclature names no group or item"))
    if scope is Scope.GROUP:
        if group_id is None:
            errors.append(field_error("group_id", "a group condition needs a group"))
        elif session.get(ItemGroup, group_id) is None:
            errors.append(field_error("group_id", f"unknown group {group_id}"))
        if item_id is not None:
            errors.append(field_error("item_id", "a group condition names no item"))
    if scope is Scope.ITEM:
        if item_id is None:
            errors.append(field_error("item_id", "an item condition needs an item"))
        elif session.get(Item, item_id) is None:
            errors.append(field_error("item_id", f"unknown item {item_id}"))
        if group_id is not None:
            errors.append(field_error("group_id", "an item condition names no group"))
    org = session.get(Organization, values["organization_id"]) if values.get("organization_id") else None
    if org is None:
        errors.append(field_error("organization_id", f"unknown organization {values.get('organization_id')}"))
    elif not org.active:
        errors.append(field_error("organization_id", f"{org.name} is inactive"))
    tax_system = vat = None
    try:
        tax_system = parse_tax_system(values["tax_system"])
    except ValueError as exc:
        errors.append(field_error("tax_system", str(exc)))
    if values.get("vat_rate"):
        try:
            vat = parse_vat_rate(values["vat_rate"])
        except ValueError as exc:
            errors.append(field_error("vat_rate", str(exc)))
    start, end = values.get("valid_from"), values.get("valid_to")
    if start is not None and end is not None and end < start:
        errors.append(
            field_error(
                "valid_to", f"the period ends ({end.isoformat()}) before it starts ({start.isoformat()})"
            )
        )
    if org is not None and org.active and tax_system is not None:
        profile = profile_of(org)
        for p in target_problems(
            profile.tax_systems, profile.pays_vat, profile.default_vat_rate, tax_system, vat, (start, end)
        ):
            errors.append(field_error("vat_rate" if vat is not None and "override" in p else "tax_system", p))
    errors += check_branches(session, values.get("branch_ids") or [], "branch_ids")
    for field, allowed in (("order_kinds", ORDER_KINDS), ("payment_kinds", PAYMENT_KINDS)):
        for v in values.get(field) or []:
            if v not in allowed:
                errors.append(field_error(field, f"unknown value {v!r}; known: {', '.join(allowed)}"))
    priority = values.get("priority", 0)
    if not -1000 <= priority <= 1000:
        errors.append(field_error("priority", "the priority must be from -1000 to 1000"))
    return errors


def condition_vat_problems(
    session: Session,
    condition_id: int | None,
    values: Mapping[str, Any],
    created_at: dt.datetime,
    on: dt.date | None,
) -> list[FieldError]:
    """Why the checked condition ``values`` cannot be saved as to VAT: items on sale it would decide
    (on some day from ``on``, any day when None) whose rate its organization cannot charge."""
    proposed = proposed_condition(condition_id or 0, values, created_at)
    if not proposed.active:
        return []
    others = [condition_of(r) for r in session.scalars(select(DistributionCondition)) if r.id != condition_id]
    dist = build_from_rows(session, conditions=[*others, proposed])
    items = active_items(session)
    if proposed.scope is Scope.ITEM:
        items = [i for i in items if i.id == proposed.target_id]
    elif proposed.scope is Scope.GROUP and proposed.target_id is not None:
        subtree = dist.index.tree.subtree(proposed.target_id)
        items = [i for i in items if i.group_id in subtree]
    conflicts = find_conflicts(
        session,
        dist,
        [line_of(i) for i in items],
        on or utcnow().date(),
        since=on,
        deciding=lambda c: c.id == proposed.id,
    )
    return condition_conflicts_error(conflicts, {i.id: i for i in items})


def save_condition(
    session: Session,
    condition_id: int | None,
    fields: Mapping[str, Any],
    *,
    actor_id: int | None = None,
    on: dt.date | None = None,
) -> DistributionCondition:
    """Create or change a condition after checking the scope, target, filters, period and that its
    organization can charge the VAT of every item on sale it would decide from ``on``."""
    cond = (
        DistributionCondition(
            branch_ids=[], order_kinds=[], payment_kinds=[], priority=0, active=True, name=""
        )
        if condition_id is None
        else get_condition(session, condition_id)
    )
    before = audit.state(cond) if condition_id is not None else None
    values = {k: getattr(cond, k) for k in CONDITION_FIELDS}
    values.update({k: v for k, v in fields.items() if k in CONDITION_FIELDS})
    if fields.get("scope") == "all":
        values["group_id"] = values["item_id"] = None
    elif fields.get("scope") == "group" and "item_id" not in fields:
        values["item_id"] = None
    elif fields.get("scope") == "item" and "group_id" not in fields:
        values["group_id"] = None
    refuse("The condition cannot be saved", condition_problems(session, values))
    created_at = cond.created_at or utcnow()
    refuse(
        "The condition cannot be saved", condition_vat_problems(session, condition_id, values, created_at, on)
    )
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
    action = audit.Action.CREATE if before is None else audit.Action.UPDATE
    audit.record(session, action, "distribution_condition", cond.id, before, audit.state(cond))
    mark_changed(session)
    return cond


def delete_condition(session: Session, condition_id: int) -> None:
    """Delete a condition (order lines it decided keep its id)."""
    cond = get_condition(session, condition_id)
    before = audit.state(cond)
    session.delete(cond)
    session.flush()
    audit.record(session, audit.Action.DELETE, "distribution_condition", condition_id, before, None)
    mark_changed(session)
