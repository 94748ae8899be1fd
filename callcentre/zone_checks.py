"""What an admin states about a delivery zone, checked (pure): the polygon, the money, the minutes,
the hours, the priority and the branch.

:func:`zone_problems` answers every problem at once, each a :class:`~orders.branches.Problem`
(field, English message, code, params for the page's translation), so the services can refuse
with one 422 naming each field and the editor can put each message next to its field. The
geometry rules are those of :mod:`callcentre.zones` (the import's), the hours those of the
branches (:mod:`orders.hours`, admin format: ``{"mon": [{"opens", "closes", "next_day"}]}``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from callcentre.zones import ZoneError, normalized_geojson
from orders.branches import Problem
from orders.hours import HoursError, WeeklyHours, hours_from_intervals

MAX_NAME = 200
MAX_MINUTES = 600
MAX_PRIORITY = 1000
MAX_COLOR = 20
MONEY_FIELDS = ("delivery_fee", "free_delivery_from", "min_order")


@dataclass(frozen=True)
class ZoneFacts:
    """What an admin states about a zone; None is "not given" (unchanged on an update).
    Money is in major units (``Decimal("150.00")``), hours in the admin format."""

    name: str | None = None
    branch_id: int | None = None
    geometry: Any = None
    delivery_fee: Any = None
    free_delivery_from: Any = None
    min_order: Any = None
    delivery_minutes: Any = None
    opening_hours: Mapping[str, Any] | None = None
    priority: Any = None
    active: bool | None = None
    color: str | None = None


@dataclass(frozen=True)
class CheckedZone:
    """The parts of a zone :func:`zone_problems` normalized: the geometry with its rings closed, and
    the schedule in the stored format (None for what was not given)."""

    geometry: dict[str, Any] | None = None
    hours: WeeklyHours | None = None


def _problem(exc: ZoneError | HoursError, default_code: str) -> Problem:
    code = exc.code if exc.code != "value_error" else default_code
    return Problem(exc.field, exc.message, code, dict(exc.params))


def geometry_problems(geometry: Any) -> tuple[list[Problem], dict[str, Any] | None]:
    """The polygon's problem (a malformed GeoJSON, a coordinate out of the world or not finite,
    fewer than three points, an outline that crosses itself — with the crossing point), or the
    normalized geometry."""
    try:
        return [], normalized_geojson(geometry)
    except ZoneError as exc:
        return [_problem(exc, "invalid_geometry")], None


def money_problem(field: str, value: Any) -> Problem | None:
    """A sum that is not a finite decimal of at least zero with at most two decimal places."""
    if isinstance(value, bool) or not isinstance(value, Decimal | int | float | str):
        return Problem(field, "A sum is a decimal number such as 150.00.", "not_a_number")
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return Problem(field, "A sum is a decimal number such as 150.00.", "not_a_number")
    if not amount.is_finite():
        return Problem(field, "A sum is a decimal number such as 150.00.", "not_a_number")
    if amount < 0:
        return Problem(field, "A sum cannot be negative.", "negative")
    if amount != amount.quantize(Decimal("0.01")):
        return Problem(field, "A sum has at most two decimal places.", "too_precise")
    return None


def _whole(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, float):
        return math.isfinite(value) and value.is_integer()
    return isinstance(value, int)


def zone_problems(
    facts: ZoneFacts, *, creating: bool, branches: Mapping[int, bool]
) -> tuple[list[Problem], CheckedZone]:
    """Every problem of ``facts`` and what was normalized. ``branches`` maps each branch id to
    whether it is open (a zone may be given only to an existing, open branch); a new zone needs
    a name, a branch and a polygon."""
    out: list[Problem] = []
    if creating:
        for name, code in (
            ("name", "name_missing"),
            ("branch_id", "branch_missing"),
            ("geometry", "geometry_missing"),
        ):
            if getattr(facts, name) is None:
                out.append(Problem(name, f"A new zone needs its {name.replace('_id', '')}.", code))
    if facts.name is not None:
        name = facts.name.strip()
        if not name:
            out.append(Problem("name", "A zone needs a name.", "name_missing"))
        elif len(name) > MAX_NAME:
            out.append(Problem("name", f"A name has at most {MAX_NAME} characters.", "name_too_long"))
    if facts.branch_id is not None:
        if not _whole(facts.branch_id) or facts.branch_id not in branches:
            out.append(
                Problem(
                    "branch_id",
                    f"There is no branch {facts.branch_id}.",
                    "unknown_branch",
                    {"branch": facts.branch_id},
                )
            )
        elif not branches[facts.branch_id]:
            out.append(
                Problem(
                    "branch_id",
                    f"Branch {facts.branch_id} is closed: open it first, or choose another.",
                    "closed_branch",
                    {"branch": facts.branch_id},
                )
            )
    geometry = None
    if facts.geometry is not None:
        problems, geometry = geometry_problems(facts.geometry)
        out += problems
    for field in MONEY_FIELDS:
        value = getattr(facts, field)
        if value is not None:
            problem = money_problem(field, value)
            if problem:
                out.append(problem)
    if (
        facts.free_delivery_from is not None
        and facts.min_order is not None
        and not any(p.field in MONEY_FIELDS for p in out)
        and Decimal(str(facts.free_delivery_from)) < Decimal(str(facts.min_order))
    ):
        out.append(
            Problem(
                "free_delivery_from",
                "Free delivery cannot start below the minimum order.",
                "free_below_minimum",
            )
        )
    if facts.delivery_minutes is not None and (
        not _whole(facts.delivery_minutes) or not 0 < facts.delivery_minutes <= MAX_MINUTES
    ):
        out.append(
            Problem(
                "delivery_minutes",
                f"Delivery takes a whole number of minutes, from 1 to {MAX_MINUTES}.",
                "minutes_range",
            )
        )
    if facts.priority is not None and (not _whole(facts.priority) or abs(facts.priority) > MAX_PRIORITY):
        out.append(
            Problem(
                "priority",
                f"The priority is a whole number from -{MAX_PRIORITY} to {MAX_PRIORITY}.",
                "priority_range",
            )
        )
    if facts.color is not None and len(facts.color) > MAX_COLOR:
        out.append(Problem("color", f"A colour has at most {MAX_COLOR} characters.", "color_too_long"))
    hours = None
    if facts.opening_hours is not None:
        try:
            hours = hours_from_intervals(facts.opening_hours)
        except HoursError as exc:
            out.append(_problem(exc, "invalid_hours"))
    return out, CheckedZone(geometry=geometry, hours=hours)
