"""Organizations that sell: their tax systems, VAT regime, annual revenue limit and fallback."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from frontoffice import audit
from frontoffice.db import utcnow
from frontoffice.errors import Conflict, FieldError, NotFound, field_error
from nomenclature.inn import inn_problem, is_sole_proprietor, kpp_problem
from nomenclature.models import DistributionCondition, Organization
from nomenclature.services.checks import refuse
from nomenclature.services.compiled import build_from_rows, mark_changed
from nomenclature.services.vat import active_items, conflict_error, find_conflicts, item_label, line_of
from nomenclature.taxes import (
    TaxSystem,
    VatRate,
    parse_tax_system,
    parse_vat_rate,
    tax_system_problems,
    vat_regime_problems,
)


def get_organization(session: Session, org_id: int) -> Organization:
    """The organization, or :class:`NotFound`."""
    org = session.get(Organization, org_id)
    if org is None:
        raise NotFound(f"There is no organization {org_id}.")
    return org


def list_organizations(session: Session) -> list[Organization]:
    """Every organization, by name."""
    return list(session.scalars(select(Organization).order_by(Organization.name, Organization.id)))


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
    before = audit.state(org) if org_id is not None else None
    errors: list[FieldError] = []
    name = str(fields.get("name", org.name) or "").strip()
    inn = str(fields.get("inn", org.inn) or "").strip()
    kpp = str(fields.get("kpp", org.kpp) or "").strip().upper()
    if not name:
        errors.append(field_error("name", "An organization needs a name"))
    problem = inn_problem(inn)
    if problem:
        errors.append(field_error("inn", problem))
    else:
        problem = kpp_problem(kpp, inn)
        if problem:
            errors.append(field_error("kpp", problem))
    systems: list[TaxSystem] = []
    for raw in fields.get("tax_systems", org.tax_systems) or []:
        try:
            systems.append(parse_tax_system(raw))
        except ValueError as exc:
            errors.append(field_error("tax_systems", str(exc)))
    errors += [field_error("tax_systems", p) for p in tax_system_problems(systems, is_sole_proprietor(inn))]
    pays_vat = bool(fields.get("pays_vat", org.pays_vat))
    default_rate: VatRate | None = None
    try:
        default_rate = parse_vat_rate(fields.get("default_vat_rate", org.default_vat_rate))
    except ValueError as exc:
        errors.append(field_error("default_vat_rate", str(exc)))
    if default_rate is not None and systems:
        errors += [
            field_error("default_vat_rate", p)
            for p in vat_regime_problems(systems, pays_vat, default_rate, on)
        ]
    limit = fields.get("annual_revenue_limit", org.annual_revenue_limit)
    if limit is not None and limit <= 0:
        errors.append(
            field_error("annual_revenue_limit", "The limit must be positive (leave it empty for none)")
        )
    fallback_id = fields.get("fallback_organization_id", org.fallback_organization_id)
    fallback_ts = fields.get("fallback_tax_system", org.fallback_tax_system)
    if fallback_id is not None:
        errors += _fallback_errors(session, org_id, fallback_id, fallback_ts, limit)
    elif fallback_ts:
        errors.append(
            field_error("fallback_tax_system", "A fallback tax system needs a fallback organization")
        )
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
    refuse("The organization cannot be saved", errors)
    regime = (list(org.tax_systems), org.pays_vat, org.default_vat_rate)
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
    if org_id is not None and regime != (list(org.tax_systems), org.pays_vat, org.default_vat_rate):
        field = "default_vat_rate" if regime[2] != org.default_vat_rate else "tax_systems"
        refuse("The organization cannot be saved", _vat_errors(session, org, field, on))
    action = audit.Action.CREATE if before is None else audit.Action.UPDATE
    audit.record(session, action, "organization", org.id, before, audit.state(org))
    mark_changed(session)
    return org


def _vat_errors(session: Session, org: Organization, field: str, on: dt.date) -> list[FieldError]:
    """Why the organization's new VAT regime (flushed, not committed) cannot stand: its
    conditions give it items whose VAT rate it can no longer charge."""
    items = active_items(session)
    conflicts = find_conflicts(
        session,
        build_from_rows(session),
        [line_of(i) for i in items],
        on,
        since=on,
        deciding=lambda c: c.organization_id == org.id,
    )
    lead = f"under this regime {org.name} cannot charge the VAT rate of items its conditions give it"
    return conflict_error(field, lead, conflicts, {i.id: item_label(i) for i in items})


def _fallback_errors(
    session: Session, org_id: int | None, fallback_id: int, fallback_ts: str | None, limit: int | None
) -> list[FieldError]:
    errors = []
    if limit is None:
        errors.append(
            field_error(
                "fallback_organization_id",
                "a fallback takes over at the annual revenue limit: set the limit too",
            )
        )
    if fallback_id == org_id:
        return errors + [
            field_error("fallback_organization_id", "an organization cannot be its own fallback")
        ]
    fallback = session.get(Organization, fallback_id)
    if fallback is None:
        return errors + [field_error("fallback_organization_id", f"unknown organization {fallback_id}")]
    if fallback_ts:
        try:
            ts = parse_tax_system(fallback_ts)
        except ValueError as exc:
            return errors + [field_error("fallback_tax_system", str(exc))]
        if ts.value not in fallback.tax_systems:
            errors.append(field_error("fallback_tax_system", f"{fallback.name} does not apply {ts.label}"))
    # Follow the fallback's own chain: it must not lead back here.
    seen, node = {fallback_id}, fallback
    while node.fallback_organization_id is not None and org_id is not None:
        if node.fallback_organization_id == org_id:
            errors.append(
                field_error(
                    "fallback_organization_id", f"{fallback.name} falls back to this organization: a cycle"
                )
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


def _removed_system_errors(session: Session, org_id: int, systems: Sequence[TaxSystem]) -> list[FieldError]:
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
        field_error(
            "tax_systems", f"conditions {ids} sell under a tax system you are removing; change them first"
        )
    ]
