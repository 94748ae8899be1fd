"""Tax systems and VAT rates with their FFD 1.2 codes, and which combinations the law allows (pure).

Russian rules as of 2026: the standard VAT rate is 22 % from 1 January 2026 (20 % before);
a patent (ПСН) replaces VAT on the patented activity; the reduced 5 % and 7 % rates exist
only under the simplified system (УСН) and replace the general 22 %/10 % rates there;
ОСН, УСН and ЕСХН exclude each other, and only a sole proprietor may add a patent.
:func:`charge_vat` is the one place that decides the rate a line is charged; docs/taxes.md gives
the decision case by case with the law.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

STANDARD_RATE_CHANGE = dt.date(2026, 1, 1)


class VatRate(enum.StrEnum):
    """A VAT rate as stored on items and lines."""

    VAT22 = "vat22"
    VAT20 = "vat20"
    VAT10 = "vat10"
    VAT7 = "vat7"
    VAT5 = "vat5"
    VAT0 = "vat0"
    NONE = "none"

    @property
    def percent(self) -> Decimal | None:
        """The rate in percent, or None for "without VAT"."""
        return None if self is VatRate.NONE else Decimal(self.value[3:])

    @property
    def ffd_code(self) -> int:
        """FFD tag 1199 code of the rate."""
        return FFD_1199[self]

    @property
    def label(self) -> str:
        """Human name: ``22 %`` or ``without VAT``."""
        return "without VAT" if self is VatRate.NONE else f"{self.value[3:]} %"


FFD_1199: dict[VatRate, int] = {
    VatRate.VAT20: 1,
    VatRate.VAT10: 2,
    VatRate.VAT0: 5,
    VatRate.NONE: 6,
    VatRate.VAT5: 7,
    VatRate.VAT7: 8,
    VatRate.VAT22: 11,
}

STANDARD_RATES = frozenset({VatRate.VAT22, VatRate.VAT20})
SPECIAL_USN_RATES = frozenset({VatRate.VAT5, VatRate.VAT7})


class TaxSystem(enum.StrEnum):
    """A tax system an organization applies (FFD tag 1055)."""

    OSN = "osn"
    USN_INCOME = "usn_income"
    USN_INCOME_EXPENSE = "usn_income_expense"
    ESHN = "eshn"
    PSN = "psn"

    @property
    def ffd_code(self) -> int:
        """FFD tag 1055 code (a bit of the mask the cash register knows)."""
        return FFD_1055[self]

    @property
    def label(self) -> str:
        """Short Russian name with an English gloss."""
        return TAX_SYSTEM_LABELS[self]


FFD_1055: dict[TaxSystem, int] = {
    TaxSystem.OSN: 1,
    TaxSystem.USN_INCOME: 2,
    TaxSystem.USN_INCOME_EXPENSE: 4,
    TaxSystem.ESHN: 16,
    TaxSystem.PSN: 32,
}

TAX_SYSTEM_LABELS: dict[TaxSystem, str] = {
    TaxSystem.OSN: "ОСН (general)",
    TaxSystem.USN_INCOME: "УСН доход (simplified, income)",
    TaxSystem.USN_INCOME_EXPENSE: "УСН доход − расход (simplified, income minus expenses)",
    TaxSystem.ESHN: "ЕСХН (agricultural)",
    TaxSystem.PSN: "ПСН (patent)",
}

USN = frozenset({TaxSystem.USN_INCOME, TaxSystem.USN_INCOME_EXPENSE})
# At most one of these per organization; a sole proprietor may add a patent to any of them.
EXCLUSIVE = frozenset({TaxSystem.OSN, TaxSystem.USN_INCOME, TaxSystem.USN_INCOME_EXPENSE, TaxSystem.ESHN})


def parse_vat_rate(value: str | VatRate) -> VatRate:
    """The rate named by ``value``; ``ValueError`` naming the known ones otherwise."""
    try:
        return VatRate(value)
    except ValueError:
        raise ValueError(
            f"unknown VAT rate {value!r}; known: {', '.join(r.value for r in VatRate)}"
        ) from None


def parse_tax_system(value: str | TaxSystem) -> TaxSystem:
    """The tax system named by ``value``; ``ValueError`` naming the known ones otherwise."""
    try:
        return TaxSystem(value)
    except ValueError:
        raise ValueError(
            f"unknown tax system {value!r}; known: {', '.join(t.value for t in TaxSystem)}"
        ) from None


def standard_rate(on: dt.date) -> VatRate:
    """The standard VAT rate in force on a day: 22 % from 2026, 20 % before."""
    return VatRate.VAT22 if on >= STANDARD_RATE_CHANGE else VatRate.VAT20


def not_in_force(rate: VatRate, on: dt.date) -> str | None:
    """Why ``rate`` cannot be charged on ``on``, or None when it can."""
    if rate is VatRate.VAT20 and on >= STANDARD_RATE_CHANGE:
        return "20 % was the standard rate until 31 December 2025; from 1 January 2026 it is 22 %"
    if rate is VatRate.VAT22 and on < STANDARD_RATE_CHANGE:
        return "22 % is the standard rate only from 1 January 2026; before that it was 20 %"
    return None


def regime_rates(tax_system: TaxSystem, pays_vat: bool, default_rate: VatRate) -> frozenset[VatRate]:
    """Every rate a sale under ``tax_system`` may carry, ignoring the date.

    A patent and an organization exempt from VAT sell "without VAT"; a УСН payer on a
    special 5 %/7 % rate charges that rate (0 % for exports, none for exempt goods); a
    payer on the general rates charges 22 % (20 % before 2026), 10 %, 0 % or none.
    """
    if tax_system is TaxSystem.PSN or not pays_vat:
        return frozenset({VatRate.NONE})
    if tax_system in USN and default_rate in SPECIAL_USN_RATES:
        return frozenset({default_rate, VatRate.VAT0, VatRate.NONE})
    return frozenset({VatRate.VAT22, VatRate.VAT20, VatRate.VAT10, VatRate.VAT0, VatRate.NONE})


def allowed_rates(
    tax_system: TaxSystem, pays_vat: bool, default_rate: VatRate, on: dt.date
) -> frozenset[VatRate]:
    """The rates a sale under ``tax_system`` may carry on ``on``."""
    return frozenset(
        r for r in regime_rates(tax_system, pays_vat, default_rate) if not_in_force(r, on) is None
    )


@dataclass(frozen=True)
class VatCharge:
    """The VAT rate a line asks for, the rate it is charged, and why they differ.

    ``rate`` is None when the seller cannot charge the asked rate at all: ``problem`` says why,
    and the line must not be sold that way. ``note`` states a change the law makes (a legacy
    rate, a special УСН rate, a seller without VAT); a rate is never changed without one.
    """

    asked: VatRate
    by_override: bool
    rate: VatRate | None
    note: str | None = None
    problem: str | None = None

    @property
    def source(self) -> str:
        """``the condition's VAT override`` or ``the item's rate``, for messages."""
        return "the condition's VAT override" if self.by_override else "the item's rate"


def charge_vat(
    tax_system: TaxSystem,
    pays_vat: bool,
    default_rate: VatRate,
    item_rate: VatRate,
    override: VatRate | None,
    on: dt.date,
) -> VatCharge:
    """The VAT a line is charged when ``tax_system`` sells it on ``on``: the one place that decides.

    The line asks for the condition's override, else the item's rate. Then, by the law
    (docs/taxes.md gives the citations):

    - a patent (НК РФ ст. 346.43 п. 11) and a seller that does not pay VAT (exempt under
      ст. 145, or a УСН payer under the threshold) sell without VAT, whatever the rate asked;
    - a УСН payer on a special rate (ст. 164 п. 8) charges it instead of 22 %, 20 %, 10 % and
      the other special rate; 0 % and "without VAT" stand;
    - on the general rates the standard rate follows the day (20 % until 2025, 22 % from 2026,
      ст. 164 п. 3), 10 %, 0 % and "without VAT" stand, and 5 % or 7 % cannot be charged: they
      exist only for a УСН payer who chose them, and do not say whether the goods are at 10 % or
      at the standard rate — a problem, never a guess.
    """
    asked = override if override is not None else item_rate
    charge = functools.partial(VatCharge, asked, override is not None)
    if tax_system is TaxSystem.PSN or not pays_vat:
        if asked is VatRate.NONE:
            return charge(VatRate.NONE)
        why = (
            "a patent (ПСН) replaces VAT on the patented activity (НК РФ ст. 346.43 п. 11)"
            if tax_system is TaxSystem.PSN
            else "the organization does not pay VAT (exempt, НК РФ ст. 145)"
        )
        return charge(VatRate.NONE, f"{asked.label} is sold without VAT: {why}")
    if tax_system in USN and default_rate in SPECIAL_USN_RATES:
        if asked in (VatRate.VAT0, VatRate.NONE, default_rate):
            return charge(asked)
        return charge(
            default_rate,
            f"{asked.label} is charged as {default_rate.label}: a УСН payer on the special "
            f"{default_rate.label} rate charges it instead of 10 % and the standard rate "
            f"(НК РФ ст. 164 п. 8)",
        )
    if asked in SPECIAL_USN_RATES:
        return charge(
            None,
            problem=f"{asked.label} exists only for a УСН payer who chose that special rate "
            f"(НК РФ ст. 164 п. 8); under {tax_system.label} a sale is at {standard_rate(on).label}, "
            f"10 %, 0 % or without VAT",
        )
    note = standard_rate_note(asked, on)
    return charge(standard_rate(on), note) if note else charge(asked)


def standard_rate_note(rate: VatRate, on: dt.date) -> str | None:
    """How a standard rate not in force on ``on`` is charged (None when ``rate`` is charged as it is).

    The catalogue's 20 % and 22 % both mean "the standard rate": 20 % until 31 December 2025
    and 22 % from 1 January 2026 (НК РФ ст. 164 п. 3 as amended by Federal Law No. 425-FZ).
    """
    if rate is VatRate.VAT20 and on >= STANDARD_RATE_CHANGE:
        return (
            "20 % (legacy): charged as 22 % from 1 January 2026 "
            "(НК РФ ст. 164 п. 3 as amended by Federal Law No. 425-FZ)"
        )
    if rate is VatRate.VAT22 and on < STANDARD_RATE_CHANGE:
        return "22 % is in force from 1 January 2026: charged as 20 % until then"
    return None


def tax_system_problems(tax_systems: Sequence[TaxSystem], sole_proprietor: bool) -> list[str]:
    """Why a set of tax systems cannot be applied together by one organization (empty: fine)."""
    problems: list[str] = []
    if not tax_systems:
        return ["choose at least one tax system"]
    if len(set(tax_systems)) != len(tax_systems):
        problems.append("a tax system is listed twice")
    if TaxSystem.PSN in tax_systems and not sole_proprietor:
        problems.append("only a sole proprietor (12-digit INN) can work on a patent (ПСН)")
    exclusive = [t for t in dict.fromkeys(tax_systems) if t in EXCLUSIVE]
    if len(exclusive) > 1:
        names = ", ".join(t.label for t in exclusive)
        problems.append(
            f"{names} exclude each other: choose one of them (a sole proprietor may add ПСН to it)"
        )
    return problems


def vat_regime_problems(
    tax_systems: Iterable[TaxSystem], pays_vat: bool, default_rate: VatRate, on: dt.date
) -> list[str]:
    """Why an organization's VAT settings do not fit its tax systems on ``on`` (empty: fine)."""
    systems = set(tax_systems)
    problems: list[str] = []
    if not pays_vat:
        if default_rate is not VatRate.NONE:
            problems.append(
                f"an organization that does not pay VAT sells without VAT; "
                f"its default rate cannot be {default_rate.label}"
            )
        return problems
    if systems and systems <= {TaxSystem.PSN}:
        problems.append("a patent (ПСН) replaces VAT: an organization only on ПСН does not charge VAT")
        return problems
    if default_rate is VatRate.NONE:
        problems.append("an organization that pays VAT needs a default rate other than 'without VAT'")
    elif default_rate in SPECIAL_USN_RATES and not systems & USN:
        problems.append(
            f"the reduced {default_rate.label} rate exists only under УСН; "
            f"under {', '.join(sorted(t.label for t in systems))} use 22 %, 10 % or 0 %"
        )
    else:
        reason = not_in_force(default_rate, on)
        if reason:
            problems.append(reason)
    return problems


def target_problems(
    org_tax_systems: Sequence[TaxSystem],
    pays_vat: bool,
    default_rate: VatRate,
    tax_system: TaxSystem,
    override: VatRate | None,
    period: tuple[dt.date | None, dt.date | None] = (None, None),
) -> list[str]:
    """Why a distribution target (organization, tax system, VAT override) is refused (empty: fine)."""
    if tax_system not in org_tax_systems:
        applied = ", ".join(t.label for t in org_tax_systems) or "none"
        return [f"the organization does not apply {tax_system.label}; it applies {applied}"]
    if override is None:
        return []
    allowed = regime_rates(tax_system, pays_vat, default_rate)
    if override not in allowed:
        if allowed == {VatRate.NONE}:
            why = "ПСН sales are without VAT" if tax_system is TaxSystem.PSN else "it does not pay VAT"
            return [f"a {override.label} override is impossible: {why}"]
        return [
            f"a {override.label} override is not allowed under {tax_system.label}; "
            f"allowed: {', '.join(sorted(r.label for r in allowed))}"
        ]
    start, end = period
    if override is VatRate.VAT20 and start is not None and start >= STANDARD_RATE_CHANGE:
        return [not_in_force(override, start) or ""]
    if override is VatRate.VAT22 and end is not None and end < STANDARD_RATE_CHANGE:
        return [not_in_force(override, end) or ""]
    return []
