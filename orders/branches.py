"""A branch's facts as plain values: its code, its place on the map, its time zone and hours (pure).

:func:`branch_problems` checks what an admin typed and answers every problem at once, each as
``(field, message, code, params)``; the services turn them into a 422.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from orders.hours import HoursError, WeeklyHours, check_timezone, hours_from_intervals

CODE = re.compile(r"[A-Za-z0-9_-]{1,10}")
MAX_NAME = 200
MAX_ADDRESS = 500


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a branch: where, what (English), a code, values for the message."""

    field: str
    message: str
    code: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class BranchFacts:
    """What an admin states about a branch; None is "not given" (unchanged on an update)."""

    code: str | None = None
    name: str | None = None
    address: str | None = None
    lat: float | None = None
    lon: float | None = None
    timezone: str | None = None
    opening_hours: Mapping[str, Any] | None = None


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _latitude(lat: Any) -> list[Problem]:
    if _number(lat) and -90 <= lat <= 90:
        return []
    return [Problem("lat", "The latitude is a number from -90 to 90.", "latitude_range")]


def _longitude(lon: Any) -> list[Problem]:
    if _number(lon) and -180 <= lon <= 180:
        return []
    return [Problem("lon", "The longitude is a number from -180 to 180.", "longitude_range")]


def place_problems(lat: Any, lon: Any) -> list[Problem]:
    """Problems of a WGS84 point: both finite numbers, latitude in [-90, 90], longitude in [-180, 180]."""
    out = _latitude(lat) + _longitude(lon)
    if not out and lat == 0 and lon == 0:
        out.append(Problem("lat", "0, 0 is in the ocean: pick the branch on the map.", "null_island"))
    return out


def branch_problems(facts: BranchFacts, *, creating: bool) -> tuple[list[Problem], WeeklyHours | None]:
    """Every problem of ``facts`` (a new branch needs code, name and place), and the parsed hours
    when they were given and are fine."""
    out: list[Problem] = []
    if facts.code is not None and not CODE.fullmatch(facts.code.strip()):
        out.append(
            Problem(
                "code",
                "A code is 1 to 10 letters, digits, - or _ (KZ1).",
                "code_format",
                {"code": facts.code[:20]},
            )
        )
    if facts.name is not None and not facts.name.strip():
        out.append(Problem("name", "A branch needs a name.", "name_empty"))
    if facts.name is not None and len(facts.name.strip()) > MAX_NAME:
        out.append(Problem("name", f"A name has at most {MAX_NAME} characters.", "name_too_long"))
    if facts.address is not None and len(facts.address.strip()) > MAX_ADDRESS:
        out.append(
            Problem("address", f"An address has at most {MAX_ADDRESS} characters.", "address_too_long")
        )
    if creating:
        for name in ("code", "name"):
            if getattr(facts, name) is None:
                out.append(Problem(name, f"A new branch needs a {name}.", f"{name}_missing"))
    if facts.lat is not None and facts.lon is not None:
        out += place_problems(facts.lat, facts.lon)
    elif facts.lat is not None or facts.lon is not None:
        out += _latitude(facts.lat) if facts.lat is not None else _longitude(facts.lon)
        missing = "lon" if facts.lat is not None else "lat"
        out.append(Problem(missing, "Give the latitude and the longitude together.", "place_half"))
    elif creating:
        out.append(Problem("lat", "Pick the branch on the map or type its coordinates.", "place_missing"))
    if facts.timezone is not None:
        try:
            check_timezone(facts.timezone)
        except HoursError as exc:
            out.append(Problem(exc.field, exc.message, exc.code, exc.params))
    hours = None
    if facts.opening_hours is not None:
        try:
            hours = hours_from_intervals(facts.opening_hours)
        except HoursError as exc:
            out.append(Problem(exc.field, exc.message, exc.code, exc.params))
    return out, hours
