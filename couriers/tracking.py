"""Reported positions: the point, the rules that refuse impossible ones, and the OsmAnd/Traccar formats (pure).

Units stored everywhere: speed in metres per second, bearing in degrees, accuracy and
altitude in metres, battery in percent. OsmAnd query parameters give the speed in knots
(as Traccar reads them); the JSON of newer Traccar Client versions gives metres per second
and a battery level from 0 to 1.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from couriers.spatial import valid_coordinates
from frontoffice.dates import FIRST_DAY, LAST_DAY, within_calendar

KNOT_MPS = 1852 / 3600
#: A phone clock may run a little fast; beyond this a point is flagged "ahead".
MAX_CLOCK_AHEAD = dt.timedelta(minutes=5)
#: Older points are flagged "old" (kept in the history, never the current position).
MAX_POINT_AGE = dt.timedelta(days=7)
#: 100 m/s = 360 km/h: faster than any courier; a faster point is flagged "fast".
MAX_SPEED_MPS = 100.0
#: Flags of an implausible point: taken more than MAX_POINT_AGE ago, more than MAX_CLOCK_AHEAD
#: ahead of the server's clock, faster than MAX_SPEED_MPS.
FLAG_OLD, FLAG_AHEAD, FLAG_FAST = "old", "ahead", "fast"
#: Flags that keep a point out of the current position (it goes to the history only).
TIME_FLAGS = frozenset({FLAG_OLD, FLAG_AHEAD})
NO_OFFSET = "The timestamp needs a time zone offset (or Z), or must be a Unix time."
OUT_OF_CALENDAR = f"The timestamp must lie between {FIRST_DAY} and {LAST_DAY}."
#: Timestamps below this many are seconds since the epoch, above milliseconds (as Traccar decides).
SECONDS_LIMIT = 2**31 - 1


@dataclass(frozen=True, slots=True)
class TrackPoint:
    """One reported position of a courier."""

    recorded_at: dt.datetime
    lat: float
    lon: float
    accuracy: float | None = None
    speed: float | None = None
    bearing: float | None = None
    altitude: float | None = None
    battery: float | None = None


def point_problems(point: TrackPoint) -> list[dict[str, str]]:
    """Why a point is malformed, as ``{field, message}`` items; empty when it is well formed.

    Malformed is what no phone can mean: coordinates out of range, a number that is not finite or
    outside its domain, a time without an offset or outside the calendar (``frontoffice.dates``).
    Such a point is refused. A well-formed point with an unlikely time or speed is not refused but
    flagged (:func:`point_flags`).
    """
    # The common case in one expression (batches of thousands); NaN fails every comparison.
    if (
        -90 <= point.lat <= 90
        and -180 <= point.lon <= 180
        and point.recorded_at.tzinfo is not None
        and within_calendar(point.recorded_at)
        and (point.accuracy is None or 0 <= point.accuracy <= 100_000)
        and (point.speed is None or 0 <= point.speed < math.inf)
        and (point.bearing is None or 0 <= point.bearing <= 360)
        and (point.altitude is None or -1_000 <= point.altitude <= 20_000)
        and (point.battery is None or 0 <= point.battery <= 100)
    ):
        return []
    problems: list[dict[str, str]] = []

    def bad(field: str, message: str) -> None:
        problems.append({"field": field, "message": message, "type": "value_error"})

    if not valid_coordinates(point.lat, point.lon):
        bad("lat", "Coordinates must be finite, lat in [-90, 90] and lon in [-180, 180].")
    if point.recorded_at.tzinfo is None:
        bad("recorded_at", NO_OFFSET)
    elif not within_calendar(point.recorded_at):
        bad("recorded_at", OUT_OF_CALENDAR)
    for field, value, low, high in (
        ("accuracy", point.accuracy, 0.0, 100_000.0),
        ("speed", point.speed, 0.0, math.inf),
        ("bearing", point.bearing, 0.0, 360.0),
        ("altitude", point.altitude, -1_000.0, 20_000.0),
        ("battery", point.battery, 0.0, 100.0),
    ):
        if value is not None and (not math.isfinite(value) or not low <= value <= high):
            bad(field, f"{field} must be a finite number between {low:g} and {high:g}.")
    return problems


def point_flags(point: TrackPoint, now: dt.datetime) -> tuple[str, ...]:
    """What is implausible about a well-formed point: ``old``, ``ahead`` (of ``now``), ``fast``.

    Flagged points are stored like any other (a phone resends a refused point forever); a point
    with a time flag (:data:`TIME_FLAGS`) never becomes the current position.
    """
    at = point.recorded_at
    flags: tuple[str, ...] = ()
    if at < now - MAX_POINT_AGE:
        flags = (FLAG_OLD,)
    elif at > now + MAX_CLOCK_AHEAD:
        flags = (FLAG_AHEAD,)
    if point.speed is not None and point.speed > MAX_SPEED_MPS:
        flags = (*flags, FLAG_FAST)
    return flags


class OsmandError(ValueError):
    """The request is not a readable OsmAnd/Traccar report."""


def parse_timestamp(raw: str | int | float) -> dt.datetime:
    """A Unix time (seconds below 2**31 - 1, milliseconds above, as Traccar decides) as aware UTC, or
    an ISO 8601 text (``T`` or a space between date and time) as written.

    A text without an offset is returned naive, and one outside the calendar as written, so that
    :func:`point_problems` refuses them as it refuses them everywhere else: the one rule for such
    times lives there.
    """
    text = str(raw).strip()
    try:
        number = float(text)
    except ValueError:
        number = None
    if number is not None:
        if not math.isfinite(number) or number < 0:
            raise OsmandError(f"timestamp {text!r} is not a time")
        seconds = number if number < SECONDS_LIMIT else number / 1000
        try:
            return dt.datetime.fromtimestamp(seconds, dt.UTC)
        except (OverflowError, OSError, ValueError):
            raise OsmandError(f"timestamp {text!r} is out of range") from None
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        raise OsmandError(f"timestamp {text!r} is neither epoch seconds, milliseconds nor ISO 8601") from None
    if parsed.tzinfo is None or not within_calendar(parsed):
        return parsed
    return parsed.astimezone(dt.UTC)


def _float(params: Mapping[str, str], name: str) -> float | None:
    raw = params.get(name)
    if raw is None or str(raw).strip() == "":
        return None
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise OsmandError(f"{name}={raw!r} is not a number") from None
    if not math.isfinite(value):
        raise OsmandError(f"{name}={raw!r} is not a finite number")
    return value


def parse_osmand_params(params: Mapping[str, str], now: dt.datetime) -> tuple[str, TrackPoint]:
    """The device id and the point of an OsmAnd report given as query or form parameters."""
    device = (params.get("id") or params.get("deviceid") or "").strip()
    if not device:
        raise OsmandError("the report names no device (id or deviceid)")
    lat = _float(params, "lat")
    lon = _float(params, "lon")
    location = params.get("location")
    if location:
        parts = str(location).split(",")
        if len(parts) < 2:
            raise OsmandError(f"location={location!r} is not 'lat,lon'")
        lat = _float({"lat": parts[0]}, "lat")
        lon = _float({"lon": parts[1]}, "lon")
    if lat is None or lon is None:
        raise OsmandError("the report has no position (lat and lon, or location=lat,lon)")
    raw_time = params.get("timestamp")
    recorded_at = parse_timestamp(raw_time) if raw_time not in (None, "") else now
    speed = _float(params, "speed")
    bearing = _float(params, "bearing")
    if bearing is None:
        bearing = _float(params, "heading")
    return device, TrackPoint(
        recorded_at=recorded_at,
        lat=lat,
        lon=lon,
        accuracy=_float(params, "accuracy"),
        speed=speed * KNOT_MPS if speed is not None else None,
        bearing=bearing,
        altitude=_float(params, "altitude"),
        battery=_float(params, "batt"),
    )


def _number(obj: Mapping[str, Any], name: str) -> float | None:
    value = obj.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise OsmandError(f"{name}={value!r} is not a number")
    value = float(value)
    if not math.isfinite(value):
        raise OsmandError(f"{name} is not a finite number")
    return value


def parse_traccar_json(body: Any, now: dt.datetime) -> tuple[str, list[TrackPoint]]:
    """The device id and points of a newer Traccar Client JSON report.

    Shape: ``{"device_id": "…", "location": {"timestamp": ISO, "coords": {"latitude",
    "longitude", "speed" (m/s), "heading", "accuracy", "altitude"}, "battery": {"level"
    (0–1), "is_charging"}, "is_moving": …}}``; ``location`` may also be a list (batch sync).
    Negative speed, heading or battery level mean "unknown".
    """
    if not isinstance(body, dict):
        raise OsmandError("the JSON body must be an object")
    device = body.get("device_id")
    if not isinstance(device, str | int) or isinstance(device, bool) or not str(device).strip():
        raise OsmandError("the JSON report names no device_id")
    raw_locations = body.get("location")
    locations = raw_locations if isinstance(raw_locations, list) else [raw_locations]
    points: list[TrackPoint] = []
    for location in locations:
        if not isinstance(location, dict):
            raise OsmandError("location must be an object")
        coords = location.get("coords")
        if not isinstance(coords, dict):
            raise OsmandError("location.coords is missing")
        lat = _number(coords, "latitude")
        lon = _number(coords, "longitude")
        if lat is None or lon is None:
            raise OsmandError("location.coords needs latitude and longitude")
        raw_time = location.get("timestamp")
        recorded_at = parse_timestamp(raw_time) if raw_time not in (None, "") else now
        speed = _number(coords, "speed")
        heading = _number(coords, "heading")
        battery = location.get("battery")
        level = _number(battery, "level") if isinstance(battery, dict) else None
        points.append(
            TrackPoint(
                recorded_at=recorded_at,
                lat=lat,
                lon=lon,
                accuracy=_number(coords, "accuracy"),
                speed=speed if speed is not None and speed >= 0 else None,
                bearing=heading if heading is not None and heading >= 0 else None,
                altitude=_number(coords, "altitude"),
                battery=round(level * 100, 1) if level is not None and level >= 0 else None,
            )
        )
    return str(device).strip(), points
