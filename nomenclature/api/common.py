"""What the nomenclature API and its admin pages share: the blueprint, the roles, the business
day, and request models turned into service fields."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint

from frontoffice.errors import InvalidInput, field_error
from frontoffice.kernel import current_kernel
from frontoffice.models import Role
from frontoffice.money import to_minor

bp = Blueprint("nomenclature_api", __name__, url_prefix="/api/v1")

ADMIN = {Role.ADMIN}
READ = {Role.MANAGER}
SELL = {Role.OPERATOR, Role.MANAGER, Role.BACKOFFICE}
STOP = {Role.OPERATOR, Role.MANAGER}
TAGS = ["nomenclature"]
DIST_TAGS = ["distribution"]
MONEY_FIELDS = ("price", "price_delta", "annual_revenue_limit")


def today() -> dt.date:
    """The business day now in the configured time zone."""
    return dt.datetime.now(ZoneInfo(current_kernel().settings.timezone)).date()


def service_fields(model: Any, *, partial: bool) -> dict[str, Any]:
    """A request model as service fields: money in minor units, enums as values."""
    data = model.model_dump(exclude_unset=partial)
    for key in MONEY_FIELDS:
        if data.get(key) is not None:
            data[key] = to_minor(data[key])
    for key in ("min", "max"):
        if key in data and data[key] is None:
            del data[key]
    return data


def options_in_minor_units(data: dict[str, Any]) -> dict[str, Any]:
    """Service fields of a new modifier group with its options' price changes in minor units."""
    if "options" in data:
        data["options"] = [{**o, "price_delta": to_minor(o["price_delta"])} for o in data["options"]]
    return data


def not_null(data: dict[str, Any], *keys: str) -> dict[str, Any]:
    """Refuse an explicit null for fields that cannot be empty."""
    nulls = [k for k in keys if k in data and data[k] is None]
    if nulls:
        raise InvalidInput(
            "These fields cannot be null: " + ", ".join(nulls) + ".",
            errors=[field_error(k, "cannot be null") for k in nulls],
        )
    return data
