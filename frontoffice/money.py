"""Money: integer minor units (kopecks) in storage, ``Decimal`` in code, decimal strings in JSON."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Annotated, Final

MINOR_PER_MAJOR = 100
_CENT = Decimal("0.01")


class _MinorUnits:
    """The marker of an ``int`` holding money in minor units (see :data:`Minor`)."""

    def __repr__(self) -> str:
        return "MINOR_UNITS"


MINOR_UNITS: Final = _MinorUnits()
#: An amount of money in minor units. Fields typed so (e.g. on event dataclasses) are written to
#: JSON as decimal strings in major units, like every REST amount (``frontoffice.realtime.event_payload``).
Minor = Annotated[int, MINOR_UNITS]


def to_minor(amount: Decimal | int | str) -> int:
    """Major units (``Decimal("12.34")``) to minor units (1234); refuses fractions of a kopeck."""
    try:
        value = Decimal(amount)
    except (InvalidOperation, TypeError, ValueError):
        raise ValueError(f"not an amount of money: {amount!r}") from None
    if not value.is_finite():
        raise ValueError(f"not an amount of money: {amount!r}")
    minor = value * MINOR_PER_MAJOR
    if minor != minor.to_integral_value():
        raise ValueError(f"{amount} has fractions of a minor unit")
    return int(minor)


def from_minor(minor: int) -> Decimal:
    """Minor units to a two-place ``Decimal`` in major units."""
    return (Decimal(minor) / MINOR_PER_MAJOR).quantize(_CENT)


def round_half_up(value: Decimal) -> int:
    """Round a (possibly fractional) number of minor units half up to a whole one."""
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def format_money(minor: int, currency: str = "RUB") -> str:
    """Human display, e.g. ``1 234.50 ₽``."""
    sign = "-" if minor < 0 else ""
    major, cents = divmod(abs(minor), MINOR_PER_MAJOR)
    symbol = {"RUB": "₽", "EUR": "€", "USD": "$"}.get(currency, currency)
    return f"{sign}{major:,}.{cents:02d}".replace(",", "\u202f") + f" {symbol}"
