"""Building blocks shared by every package's request and response models."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from frontoffice.dates import FIRST_DAY, LAST_DAY
from frontoffice.ids import MAX_ID
from frontoffice.money import from_minor, to_minor

MAX_MONEY = Decimal("10000000")


def _whole_minor_units(value: Decimal) -> Decimal:
    try:
        to_minor(value)
    except ValueError as exc:
        raise ValueError(str(exc)) from None
    return value


Money = Annotated[
    Decimal,
    Field(ge=0, le=MAX_MONEY, description='Decimal string in major units, e.g. "549.00"'),
    AfterValidator(_whole_minor_units),
]
SignedMoney = Annotated[
    Decimal,
    Field(ge=-MAX_MONEY, le=MAX_MONEY, description='Decimal string, may be negative, e.g. "-100.00"'),
    AfterValidator(_whole_minor_units),
]
BigMoney = Annotated[
    Decimal,
    Field(gt=0, le=Decimal("100000000000"), description='Decimal string in major units, e.g. "20000000.00"'),
    AfterValidator(_whole_minor_units),
]


def money(minor: int | None) -> Decimal | None:
    """Minor units to a two-place Decimal (None stays None)."""
    return None if minor is None else from_minor(minor)


def finite(value: float | None) -> float | None:
    """Refuse NaN and infinities (for coordinates and other floats)."""
    if value is not None and not math.isfinite(value):
        raise ValueError("must be a finite number")
    return value


Id = Annotated[int, Field(ge=1, le=MAX_ID, description="Id of a stored record (1 to 2^31-1)")]

#: A day a request names; the document states its span as ``formatMinimum``/``formatMaximum``.
Day = Annotated[
    dt.date,
    Field(
        ge=FIRST_DAY,
        le=LAST_DAY,
        description=f"Calendar day, YYYY-MM-DD, from {FIRST_DAY} to {LAST_DAY}",
        json_schema_extra={"formatMinimum": FIRST_DAY.isoformat(), "formatMaximum": LAST_DAY.isoformat()},
    ),
]

Latitude = Annotated[
    float, Field(ge=-90, le=90, description="WGS84 latitude in degrees"), AfterValidator(finite)
]
Longitude = Annotated[
    float, Field(ge=-180, le=180, description="WGS84 longitude in degrees"), AfterValidator(finite)
]


class Strict(BaseModel):
    """Base of request models: unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
