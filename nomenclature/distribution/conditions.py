"""Distribution conditions and the sales they apply to (pure).

A condition covers all nomenclature, a group (with its subgroups) or one item, and names a
target organization, tax system and optionally a VAT rate. It may be limited to branches,
order kinds and payment kinds, and to a validity period. For a line the most specific
scope wins (item > deeper group > shallower group > all), then the higher priority, then
the newer condition.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable
from dataclasses import dataclass

from nomenclature.taxes import TaxSystem, VatRate

ORDER_KINDS = ("delivery", "pickup")
PAYMENT_KINDS = ("cash", "card_on_delivery", "prepaid")
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


class Scope(enum.StrEnum):
    """What a condition covers."""

    ALL = "all"
    GROUP = "group"
    ITEM = "item"


@dataclass(frozen=True, slots=True)
class SaleContext:
    """Where and how a line is sold: the business day, branch, order kind and payment kind.

    ``None`` means "unknown": a condition limited to some branches does not apply to a sale
    whose branch is unknown.
    """

    on: dt.date
    branch_id: int | None = None
    order_kind: str | None = None
    payment_kind: str | None = None


@dataclass(frozen=True, slots=True)
class Condition:
    """One distribution condition as the rules see it."""

    id: int
    scope: Scope
    organization_id: int
    tax_system: TaxSystem
    target_id: int | None = None
    vat_rate: VatRate | None = None
    priority: int = 0
    branch_ids: frozenset[int] = frozenset()
    order_kinds: frozenset[str] = frozenset()
    payment_kinds: frozenset[str] = frozenset()
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    active: bool = True
    created_at: dt.datetime | None = None
    name: str = ""

    @property
    def outcome(self) -> tuple[int, TaxSystem, VatRate | None]:
        """What the condition decides: organization, tax system, VAT override."""
        return self.organization_id, self.tax_system, self.vat_rate

    @property
    def newness(self) -> tuple[float, int]:
        """Sort key of "newer": creation time, then id."""
        at = self.created_at or _EPOCH
        return (at - _EPOCH).total_seconds(), self.id

    @property
    def label(self) -> str:
        """``#12 "Drinks to the IP"`` for messages."""
        return f'#{self.id} "{self.name}"' if self.name else f"#{self.id}"

    def not_applicable(self, ctx: SaleContext) -> str | None:
        """Why this condition does not apply to a sale in ``ctx``, or None when it does."""
        if not self.active:
            return "inactive"
        if self.valid_from is not None and ctx.on < self.valid_from:
            return f"not valid yet on {ctx.on.isoformat()} (from {self.valid_from.isoformat()})"
        if self.valid_to is not None and ctx.on > self.valid_to:
            return f"expired on {ctx.on.isoformat()} (valid until {self.valid_to.isoformat()})"
        if self.branch_ids and ctx.branch_id not in self.branch_ids:
            return f"only for branches {_listed(self.branch_ids)}, not branch {ctx.branch_id}"
        if self.order_kinds and ctx.order_kind not in self.order_kinds:
            return f"only for {_listed(self.order_kinds)} orders, not {ctx.order_kind}"
        if self.payment_kinds and ctx.payment_kind not in self.payment_kinds:
            return f"only for payment by {_listed(self.payment_kinds)}, not {ctx.payment_kind}"
        return None


def _listed(values: Iterable[object]) -> str:
    return ", ".join(str(v) for v in sorted(values, key=str))


def precedence(c: Condition) -> tuple[int, float, int]:
    """Sort key of precedence within one scope: higher priority first, then newer first."""
    seconds, ident = c.newness
    return (-c.priority, -seconds, -ident)
