"""Who sells a line: the organizations, their revenue-limit fallbacks and the VAT rate (pure)."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field

from nomenclature.distribution.conditions import Condition, SaleContext
from nomenclature.distribution.groups import GroupTree
from nomenclature.distribution.index import DistributionIndex
from nomenclature.taxes import TaxSystem, VatCharge, VatRate, charge_vat


@dataclass(frozen=True)
class OrganizationProfile:
    """What distribution needs to know about an organization."""

    id: int
    name: str
    tax_systems: tuple[TaxSystem, ...]
    pays_vat: bool
    default_vat_rate: VatRate
    annual_revenue_limit: int | None = None
    fallback_organization_id: int | None = None
    fallback_tax_system: TaxSystem | None = None
    active: bool = True
    inn: str = ""
    kpp: str = ""

    @property
    def main_tax_system(self) -> TaxSystem:
        """The first tax system listed: used when nothing else names one."""
        return self.tax_systems[0]


@dataclass(frozen=True)
class Assignment:
    """Who sells a line: organization, tax system, the VAT charged, and what decided it."""

    organization_id: int
    tax_system: TaxSystem
    vat: VatCharge
    condition_id: int | None
    decided_by: str  # "condition" or "default organization"
    fallback_from: tuple[int, ...] = ()
    notes: tuple[str, ...] = field(default=())

    @property
    def vat_rate(self) -> VatRate:
        """The rate the line is charged; ``ValueError`` when the seller cannot charge it
        (:attr:`vat_problem` says why: such a line must be refused, never re-rated)."""
        if self.vat.rate is None:
            raise ValueError(self.vat.problem)
        return self.vat.rate

    @property
    def vat_problem(self) -> str | None:
        """Why the seller cannot charge the line's VAT rate (None when it can)."""
        return self.vat.problem


def _fallback(
    org: OrganizationProfile,
    tax_system: TaxSystem,
    organizations: Mapping[int, OrganizationProfile],
    passed: Collection[int],
) -> tuple[OrganizationProfile, TaxSystem] | None:
    """Who takes over from ``org`` at its annual limit, under which tax system (None: nobody can)."""
    if org.annual_revenue_limit is None or org.fallback_organization_id is None:
        return None
    nxt = organizations.get(org.fallback_organization_id)
    if nxt is None or not nxt.active or nxt.id in passed:
        return None
    ts = org.fallback_tax_system
    return nxt, ts if ts is not None and ts in nxt.tax_systems else nxt.main_tax_system


def take_over(
    organization_id: int,
    tax_system: TaxSystem,
    organizations: Mapping[int, OrganizationProfile],
    revenue: Mapping[int, int],
) -> tuple[int, TaxSystem, tuple[int, ...], tuple[str, ...]]:
    """Follow fallbacks while an organization's revenue this year has reached its limit.

    Returns the organization and tax system that sell, the organizations passed over and
    why. An organization at its limit with no (usable) fallback keeps selling.
    """
    passed: list[int] = []
    notes: list[str] = []
    org = organizations[organization_id]
    while (
        org.annual_revenue_limit is not None
        and revenue.get(org.id, 0) >= org.annual_revenue_limit
        and org.fallback_organization_id is not None
    ):
        step = _fallback(org, tax_system, organizations, {*passed, org.id})
        if step is None:
            notes.append(f"{org.name} reached its annual limit but its fallback cannot take over")
            break
        nxt, tax_system = step
        notes.append(
            f"{org.name} reached its annual revenue limit ({revenue.get(org.id, 0)} ≥ "
            f"{org.annual_revenue_limit} kopecks): {nxt.name} takes over"
        )
        passed.append(org.id)
        org = nxt
    return org.id, tax_system, tuple(passed), tuple(notes)


def fallback_sellers(
    organization_id: int, tax_system: TaxSystem, organizations: Mapping[int, OrganizationProfile]
) -> list[tuple[OrganizationProfile, TaxSystem]]:
    """Who sells in turn, with the tax system, as each seller before reaches its annual limit."""
    found: list[tuple[OrganizationProfile, TaxSystem]] = []
    org, seen = organizations[organization_id], {organization_id}
    while (step := _fallback(org, tax_system, organizations, seen)) is not None:
        org, tax_system = step
        seen.add(org.id)
        found.append(step)
    return found


@dataclass
class Distributor:
    """The compiled index plus the organizations: assigns every line of a sale."""

    index: DistributionIndex
    organizations: Mapping[int, OrganizationProfile]

    def assign(
        self,
        item_id: int,
        group_id: int | None,
        item_vat_rate: VatRate,
        ctx: SaleContext,
        *,
        revenue: Mapping[int, int] | None = None,
        default_organization_id: int | None = None,
    ) -> Assignment | None:
        """The assignment of one line, or None when nothing covers it and no default is set."""
        cond = self.index.resolve(item_id, group_id, ctx)
        if cond is not None:
            org_id, tax_system, override, decided = (
                cond.organization_id,
                cond.tax_system,
                cond.vat_rate,
                "condition",
            )
        elif default_organization_id is not None and default_organization_id in self.organizations:
            default = self.organizations[default_organization_id]
            org_id, tax_system, override, decided = (
                default.id,
                default.main_tax_system,
                None,
                "default organization",
            )
        else:
            return None
        final_id, final_ts, passed, notes = take_over(org_id, tax_system, self.organizations, revenue or {})
        org = self.organizations[final_id]
        return Assignment(
            organization_id=final_id,
            tax_system=final_ts,
            vat=charge_vat(final_ts, org.pays_vat, org.default_vat_rate, item_vat_rate, override, ctx.on),
            condition_id=cond.id if cond is not None else None,
            decided_by=decided,
            fallback_from=passed,
            notes=notes,
        )

    def unusable(self, c: Condition) -> str | None:
        """Why a condition cannot win whatever the sale (its organization is gone or inactive)."""
        return condition_unusable(c, self.organizations)


def condition_unusable(c: Condition, organizations: Mapping[int, OrganizationProfile]) -> str | None:
    """Why a condition cannot win whatever the sale: its organization is gone, inactive or
    no longer applies the tax system."""
    org = organizations.get(c.organization_id)
    if org is None:
        return f"organization {c.organization_id} does not exist"
    if not org.active:
        return f"organization {org.name} is inactive"
    if c.tax_system not in org.tax_systems:
        return f"organization {org.name} no longer applies {c.tax_system.label}"
    return None


def build_distributor(
    conditions: Iterable[Condition], tree: GroupTree, organizations: Mapping[int, OrganizationProfile]
) -> Distributor:
    """Compile the conditions, leaving out those whose organization cannot sell."""
    orgs = dict(organizations)
    index = DistributionIndex(conditions, tree, usable=lambda c: condition_unusable(c, orgs) is None)
    return Distributor(index, orgs)
