"""Request and response models of distribution: organizations, conditions, explain and lint."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field, model_validator

from frontoffice.schemas import BigMoney, Day, Id, Strict, money
from nomenclature.distribution import ORDER_KINDS, PAYMENT_KINDS
from nomenclature.models import DistributionCondition, Organization
from nomenclature.taxes import TaxSystem, VatRate

OrderKind = Literal["delivery", "pickup"]
PaymentKind = Literal["cash", "card_on_delivery", "prepaid"]
assert set(ORDER_KINDS) == {"delivery", "pickup"} and set(PAYMENT_KINDS) == {
    "cash",
    "card_on_delivery",
    "prepaid",
}


# --- organizations ------------------------------------------------------------------------------


class OrganizationIn(Strict):
    """A new organization."""

    name: str = Field(min_length=1, max_length=200)
    inn: str = Field(min_length=1, max_length=12, description="10 digits (company) or 12 (sole proprietor).")
    kpp: str = Field(default="", max_length=9, description="Companies only: 9 characters.")
    tax_systems: list[TaxSystem] = Field(min_length=1, max_length=3, description="The main one first.")
    pays_vat: bool = False
    default_vat_rate: VatRate = VatRate.NONE
    annual_revenue_limit: BigMoney | None = Field(default=None, description="Sales per calendar year.")
    fallback_organization_id: Id | None = None
    fallback_tax_system: TaxSystem | None = None
    active: bool = True


class OrganizationPatch(Strict):
    """Changes to an organization; fields left out stay as they are (send null to clear the
    limit or the fallback)."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    inn: str | None = Field(default=None, min_length=1, max_length=12)
    kpp: str | None = Field(default=None, max_length=9)
    tax_systems: list[TaxSystem] | None = Field(default=None, min_length=1, max_length=3)
    pays_vat: bool | None = None
    default_vat_rate: VatRate | None = None
    annual_revenue_limit: BigMoney | None = None
    fallback_organization_id: Id | None = None
    fallback_tax_system: TaxSystem | None = None
    active: bool | None = None


class OrganizationOut(BaseModel):
    """An organization."""

    id: int
    name: str
    inn: str
    kpp: str
    tax_systems: list[str]
    tax_system_codes: list[int] = Field(description="FFD tag 1055 code of each tax system.")
    pays_vat: bool
    default_vat_rate: str
    annual_revenue_limit: Decimal | None
    fallback_organization_id: int | None
    fallback_tax_system: str | None
    active: bool

    @classmethod
    def of(cls, o: Organization) -> OrganizationOut:
        """Serialize an organization."""
        return cls(
            id=o.id,
            name=o.name,
            inn=o.inn,
            kpp=o.kpp,
            tax_systems=list(o.tax_systems),
            tax_system_codes=[TaxSystem(t).ffd_code for t in o.tax_systems],
            pays_vat=o.pays_vat,
            default_vat_rate=o.default_vat_rate,
            annual_revenue_limit=money(o.annual_revenue_limit),
            fallback_organization_id=o.fallback_organization_id,
            fallback_tax_system=o.fallback_tax_system,
            active=o.active,
        )


# --- conditions ---------------------------------------------------------------------------------


class ConditionIn(Strict):
    """A new distribution condition."""

    name: str = Field(default="", max_length=200)
    scope: Literal["all", "group", "item"]
    group_id: Id | None = None
    item_id: Id | None = None
    organization_id: Id
    tax_system: TaxSystem
    vat_rate: VatRate | None = Field(default=None, description="Override the item's rate.")
    branch_ids: list[Id] = Field(default_factory=list, max_length=100, description="Empty: every branch.")
    order_kinds: list[OrderKind] = Field(default_factory=list, description="Empty: every kind.")
    payment_kinds: list[PaymentKind] = Field(default_factory=list, description="Empty: every payment.")
    valid_from: Day | None = None
    valid_to: Day | None = Field(default=None, description="Inclusive.")
    priority: int = Field(default=0, ge=-1000, le=1000)
    active: bool = True


class ConditionPatch(Strict):
    """Changes to a condition; fields left out stay as they are."""

    name: str | None = Field(default=None, max_length=200)
    scope: Literal["all", "group", "item"] | None = None
    group_id: Id | None = None
    item_id: Id | None = None
    organization_id: Id | None = None
    tax_system: TaxSystem | None = None
    vat_rate: VatRate | None = None
    branch_ids: list[Id] | None = Field(default=None, max_length=100)
    order_kinds: list[OrderKind] | None = None
    payment_kinds: list[PaymentKind] | None = None
    valid_from: Day | None = None
    valid_to: Day | None = None
    priority: int | None = Field(default=None, ge=-1000, le=1000)
    active: bool | None = None


class ConditionOut(BaseModel):
    """A distribution condition."""

    id: int
    name: str
    scope: str
    group_id: int | None
    item_id: int | None
    organization_id: int
    tax_system: str
    vat_rate: str | None
    branch_ids: list[int]
    order_kinds: list[str]
    payment_kinds: list[str]
    valid_from: dt.date | None
    valid_to: dt.date | None
    priority: int
    active: bool
    created_at: dt.datetime

    @classmethod
    def of(cls, c: DistributionCondition) -> ConditionOut:
        """Serialize a condition."""
        return cls(
            id=c.id,
            name=c.name,
            scope=c.scope,
            group_id=c.group_id,
            item_id=c.item_id,
            organization_id=c.organization_id,
            tax_system=c.tax_system,
            vat_rate=c.vat_rate,
            branch_ids=list(c.branch_ids or []),
            order_kinds=list(c.order_kinds or []),
            payment_kinds=list(c.payment_kinds or []),
            valid_from=c.valid_from,
            valid_to=c.valid_to,
            priority=c.priority,
            active=c.active,
            created_at=c.created_at,
        )


# --- explain, lint, backtest --------------------------------------------------------------------


class CartLineIn(Strict):
    """An item of a cart to explain."""

    sku: str | None = Field(default=None, max_length=64)
    item_id: Id | None = None

    @model_validator(mode="after")
    def _one_reference(self) -> CartLineIn:
        if (self.sku is None) == (self.item_id is None):
            raise ValueError("name the item by exactly one of sku or item_id")
        return self


class ExplainIn(Strict):
    """A cart and where it is sold; a filter left out matches only conditions without that filter."""

    branch_id: Id | None = None
    kind: OrderKind | None = None
    payment_kind: PaymentKind | None = None
    on: Day | None = Field(default=None, description="Business day; default today.")
    lines: list[CartLineIn] = Field(min_length=1, max_length=100)


class ConsideredOut(BaseModel):
    """A condition looked at for a line, and its verdict."""

    condition_id: int
    name: str
    level: str
    priority: int
    organization: str
    tax_system: str
    vat_rate: str | None
    verdict: Literal["won", "lost", "not applicable"]
    reason: str


class AssignmentOut(BaseModel):
    """Who sells a line."""

    organization_id: int
    organization: str
    tax_system: str
    tax_system_code: int
    asked_vat_rate: str = Field(description="The condition's VAT override, else the item's rate.")
    vat_by_override: bool
    vat_rate: str | None = Field(
        description="The rate charged; null when the seller cannot charge the asked rate (see the "
        "line's problem): such a line is refused, never re-rated."
    )
    vat_code: int | None = Field(description="FFD tag 1199 code of the rate charged.")
    vat_note: str | None = Field(
        description="Why the rate charged differs from the one asked (a legacy rate, a special УСН "
        "rate, a seller without VAT), with the law."
    )
    condition_id: int | None
    decided_by: str
    fallback_from: list[int]
    notes: list[str]


class ExplainedLineOut(BaseModel):
    """The decision for one line with every condition considered."""

    position: int
    item_id: int
    sku: str
    name: str
    group_path: list[str]
    winner: int | None
    item_vat_rate: str = Field(description="The item's rate in the catalogue.")
    assignment: AssignmentOut | None
    problem: str | None = Field(
        description="Why the line cannot be sold here: no condition covers it, or its seller cannot "
        "charge its VAT rate."
    )
    considered: list[ConsideredOut]


class ExplainOut(BaseModel):
    """The explanation of a cart or an order."""

    on: dt.date
    branch_id: int | None
    kind: str | None
    payment_kind: str | None
    lines: list[ExplainedLineOut]


class LintQuery(Strict):
    """The day to lint for."""

    on: Day | None = Field(default=None, description="Business day; default today.")


class AmbiguityOut(BaseModel):
    """Two conditions only their age separates."""

    conditions: list[int]
    organizations: list[str | None]
    message: str


class LintContextOut(BaseModel):
    """A sale context."""

    branch_id: int | None
    branch: str | None
    order_kind: str | None
    payment_kind: str | None


class UncoveredOut(BaseModel):
    """An item some sale contexts leave without a condition."""

    item_id: int
    sku: str
    name: str
    everywhere: bool
    message: str | None = Field(
        default=None, description="Set for the delivery position: delivery is not covered, and what follows."
    )
    contexts: list[LintContextOut]


class ConditionProblemOut(BaseModel):
    """A condition that cannot decide anything as it stands."""

    condition_id: int
    name: str
    message: str


class VatConflictOut(BaseModel):
    """An item a condition (or the default organization) gives to a seller that cannot charge its rate."""

    condition_id: int | None = Field(
        description="Null: no condition decides, the default organization sells."
    )
    item_id: int
    sku: str
    name: str
    organization_id: int
    organization: str
    tax_system: str
    vat_rate: str = Field(description="The rate asked: the condition's override, else the item's.")
    by_override: bool
    message: str


class LintOut(BaseModel):
    """Ambiguous conditions, uncovered items, broken conditions, VAT rates a seller cannot charge."""

    on: dt.date
    ok: bool
    ambiguous: list[AmbiguityOut]
    uncovered: list[UncoveredOut]
    problems: list[ConditionProblemOut]
    vat: list[VatConflictOut] = Field(
        description="Every (condition, item) pair from this day on whose seller, or the organization "
        "taking over at its revenue limit, cannot charge the item's VAT rate."
    )
