"""Explain who sells each line of a cart and why, and lint the distribution conditions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from nomenclature.distribution import (
    Assignment,
    Condition,
    Gap,
    SaleContext,
    ambiguities,
    condition_unusable,
    coverage_gaps,
)
from nomenclature.models import Item, ItemGroup, Organization
from nomenclature.services.branches import active_branch_ids, branch_names
from nomenclature.services.compiled import distributor
from nomenclature.services.delivery import DELIVERY_SKU
from nomenclature.services.vat import describe_conflict, find_conflicts, item_label, line_of, vat_refusal
from nomenclature.taxes import VatRate, target_problems


def organization_names(session: Session) -> dict[int, str]:
    """``{id: name}`` of every organization."""
    return dict(session.execute(select(Organization.id, Organization.name)).all())


def describe_assignment(a: Assignment | None, names: Mapping[int, str]) -> dict[str, Any] | None:
    """An assignment as JSON for people: the VAT asked for, the VAT charged and why they differ."""
    if a is None:
        return None
    charged = a.vat.rate
    return {
        "organization_id": a.organization_id,
        "organization": names.get(a.organization_id, str(a.organization_id)),
        "tax_system": a.tax_system.value,
        "tax_system_code": a.tax_system.ffd_code,
        "asked_vat_rate": a.vat.asked.value,
        "vat_by_override": a.vat.by_override,
        "vat_rate": charged.value if charged is not None else None,
        "vat_code": charged.ffd_code if charged is not None else None,
        "vat_note": a.vat.note,
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
                "item_vat_rate": item.vat_rate,
                "assignment": describe_assignment(assignment, names),
                "problem": _line_problem(item, assignment, exp.winner, names),
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


def delivery_uncovered(gap: Gap) -> str:
    """What the lint says when the delivery position is left uncovered."""
    where = "in any delivery context" if gap.everywhere else f"in {len(gap.contexts)} delivery contexts"
    return (
        f"Delivery is not covered {where}: no distribution condition says which organization sells "
        f"the delivery position ({DELIVERY_SKU}), so orders with a delivery fee are refused there "
        "unless a default organization is configured"
    )


def _line_problem(
    item: Item, a: Assignment | None, winner: Condition | None, names: Mapping[int, str]
) -> str | None:
    """Why the line cannot be sold in this context: nothing covers it, or its seller cannot
    charge its VAT rate (None when it can be sold)."""
    if a is None:
        return f"No distribution condition covers {item_label(item)} in this context"
    condition = winner.label if winner is not None and a.condition_id is not None else None
    return vat_refusal(a, item_label(item), names.get(a.organization_id, str(a.organization_id)), condition)


def lint(session: Session, on: dt.date, *, default_organization_id: int | None = None) -> dict[str, Any]:
    """Ambiguous conditions, items some sale contexts leave uncovered, conditions that cannot win,
    and lines (from ``on`` on) given to a seller that cannot charge their VAT rate."""
    dist = distributor(session)
    conditions = dist.index.conditions
    names = organization_names(session)
    branches = branch_names(session)
    branch_ids = active_branch_ids(session)
    items = list(session.scalars(select(Item).where(Item.active.is_(True)).order_by(Item.name)))
    by_id = {i.id: i for i in items}
    gaps = coverage_gaps(
        [(i.id, i.group_id) for i in items if i.sku != DELIVERY_SKU], dist.index, on, branch_ids
    )
    delivery = next((i for i in items if i.sku == DELIVERY_SKU), None)
    if delivery is not None:  # only deliveries charge it: pickups need no condition for it
        gaps += coverage_gaps([(delivery.id, delivery.group_id)], dist.index, on, branch_ids, ("delivery",))
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
                "message": delivery_uncovered(g)
                if delivery is not None and g.item_id == delivery.id
                else None,
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
        "vat": [
            {
                "condition_id": c.condition.id if c.condition is not None else None,
                "item_id": c.item_id,
                "sku": by_id[c.item_id].sku,
                "name": by_id[c.item_id].name,
                "organization_id": c.seller.id,
                "organization": c.seller.name,
                "tax_system": c.tax_system.value,
                "vat_rate": c.vat.asked.value,
                "by_override": c.vat.by_override,
                "message": describe_conflict(c, item_label(by_id[c.item_id])),
            }
            for c in find_conflicts(
                session,
                dist,
                [line_of(i) for i in items],
                on,
                since=on,
                default_organization_id=default_organization_id,
                fallbacks=True,
            )
            if c.item_id is not None
        ],
    }
