"""VAT rates with their FFD 1.2 tag 1199 codes (pure)."""

from __future__ import annotations

import enum
from decimal import Decimal


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


FFD_1199: dict[VatRate, int] = {
    VatRate.VAT20: 1,
    VatRate.VAT10: 2,
    VatRate.VAT0: 5,
    VatRate.NONE: 6,
    VatRate.VAT5: 7,
    VatRate.VAT7: 8,
    VatRate.VAT22: 11,
}
