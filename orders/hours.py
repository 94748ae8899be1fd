"""Opening hours and time zones of branches (and of delivery zones, which use the same format) (pure).

**Stored format** — ``{"mon": [["10:00", "02:00"]], …}``. An interval whose closing time is not
after its opening time runs past midnight into the next day; ``"24:00"`` closes at the end of
the day. A day that is missing is closed; an empty mapping means "no schedule" (always open).
:meth:`WeeklyHours.parse` reads it.

**Admin format** — what the branch pages and ``/api/v1/branches`` take and give: per weekday a
list of ``{"opens": "10:00", "closes": "02:00", "next_day": true}``. Closing past midnight must be
said (``next_day``), so an interval that ends before it starts is a typing mistake, refused with
the day and the interval (:func:`hours_from_intervals`), not a night shift nobody meant.
"""

from __future__ import annotations

import datetime as dt
import functools
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY = 24 * 60
#: Intervals a weekday may have in the admin format (a lunch break makes two).
MAX_INTERVALS = 4


class HoursError(ValueError):
    """Opening hours, a time zone or a place are not acceptable; ``field`` says where (relative
    path), ``code`` what kind of mistake it is (pages translate by it)."""

    def __init__(self, message: str, field: str = "", code: str = "value_error", **params: Any):
        super().__init__(message)
        self.message = message
        self.field = field
        self.code = code
        self.params = params


def _minutes(text: Any, where: str) -> int:
    if not isinstance(text, str) or len(text) != 5 or text[2] != ":":
        raise HoursError(f"{text!r} is not a time; write HH:MM, e.g. 09:30.", where, "time_format")
    hh, mm = text[:2], text[3:]
    if not (hh.isdigit() and mm.isdigit()):
        raise HoursError(f"{text!r} is not a time; write HH:MM, e.g. 09:30.", where, "time_format")
    h, m = int(hh), int(mm)
    if m > 59 or h > 24 or (h == 24 and m != 0):
        raise HoursError(f"{text!r} is not a time of day (00:00 to 24:00).", where, "time_format")
    return h * 60 + m


@dataclass(frozen=True)
class WeeklyHours:
    """Opening intervals per weekday, in minutes since midnight; ``always`` when there is no schedule."""

    days: tuple[tuple[tuple[int, int], ...], ...] = ((),) * 7
    always: bool = False

    @classmethod
    def parse(cls, raw: Mapping[str, Any] | None) -> WeeklyHours:
        """Validate the ``{"mon": [["10:00", "23:00"]], …}`` format; empty or None means always open."""
        if not raw:
            return cls(always=True)
        if not isinstance(raw, Mapping):
            raise HoursError("Opening hours must be an object keyed by weekday (mon … sun).", "opening_hours")
        unknown = [k for k in raw if k not in WEEKDAYS]
        if unknown:
            raise HoursError(
                f"Unknown weekday {unknown[0]!r}; use {', '.join(WEEKDAYS)}.", f"opening_hours.{unknown[0]}"
            )
        days: list[tuple[tuple[int, int], ...]] = []
        for day in WEEKDAYS:
            intervals = raw.get(day) or []
            where = f"opening_hours.{day}"
            if not isinstance(intervals, list | tuple):
                raise HoursError("A day's hours must be a list of [opens, closes] pairs.", where)
            parsed = []
            for i, pair in enumerate(intervals):
                if not isinstance(pair, list | tuple) or len(pair) != 2:
                    raise HoursError("Each interval is a pair [opens, closes].", f"{where}.{i}")
                opens, closes = _minutes(pair[0], f"{where}.{i}.0"), _minutes(pair[1], f"{where}.{i}.1")
                if opens == closes:
                    raise HoursError("An interval opens and closes at the same time.", f"{where}.{i}")
                if opens == DAY:
                    raise HoursError(
                        "An interval cannot open at 24:00; use 00:00 of the next day.", f"{where}.{i}"
                    )
                parsed.append((opens, closes))
            days.append(tuple(parsed))
        return cls(days=tuple(days))

    def is_open(self, local: dt.datetime) -> bool:
        """True if ``local`` (a time in the schedule's own time zone) falls in an opening interval."""
        if self.always:
            return True
        minute = local.hour * 60 + local.minute
        today = local.weekday()
        for opens, closes in self.days[today]:
            if closes > opens:
                if opens <= minute < closes:
                    return True
            elif minute >= opens:  # runs past midnight
                return True
        for opens, closes in self.days[(today - 1) % 7]:
            if closes < opens and minute < closes:
                return True
        return False

    def to_json(self) -> dict[str, list[list[str]]]:
        """Back to the ``{"mon": [["10:00", "23:00"]]}`` format ({} when always open)."""
        if self.always:
            return {}
        return {
            day: [[hhmm(o), hhmm(c)] for o, c in intervals]
            for day, intervals in zip(WEEKDAYS, self.days, strict=True)
            if intervals
        }


def hhmm(minutes: int) -> str:
    """Minutes since midnight as ``HH:MM`` (1440 is ``24:00``)."""
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def open_at(hours: WeeklyHours, at: dt.datetime, timezone: dt.tzinfo) -> bool:
    """Whether ``hours`` (in ``timezone``) are open at the aware moment ``at``."""
    return hours.is_open(at.astimezone(timezone))


# --- the admin format -------------------------------------------------------------------------


@dataclass(frozen=True)
class Interval:
    """One opening interval as an admin types it: closing past midnight is said with ``next_day``."""

    opens: str
    closes: str
    next_day: bool = False


def _interval(raw: Any, where: str) -> tuple[int, int]:
    """``(opens, closes)`` in minutes of one admin-format interval; closes past midnight is > 1440."""
    if isinstance(raw, Interval):
        opens_text, closes_text, next_day = raw.opens, raw.closes, raw.next_day
    elif isinstance(raw, Mapping):
        opens_text, closes_text, next_day = raw.get("opens"), raw.get("closes"), raw.get("next_day", False)
    else:
        raise HoursError("Each interval is an object {opens, closes, next_day}.", where)
    opens, closes = _minutes(opens_text, f"{where}.opens"), _minutes(closes_text, f"{where}.closes")
    if opens == DAY:
        raise HoursError("An interval cannot open at 24:00; use 00:00 of the next day.", f"{where}.opens")
    if next_day is True:
        if closes == DAY or closes >= opens:
            raise HoursError(
                f"Closing at {closes_text} the next day is more than a day after opening at {opens_text}.",
                f"{where}.closes",
                "over_a_day",
                opens=opens_text,
                closes=closes_text,
            )
        return opens, closes + DAY
    if next_day is not False:
        raise HoursError("next_day is true or false.", f"{where}.next_day")
    if closes <= opens:
        raise HoursError(
            f"It closes at {closes_text}, before it opens at {opens_text}; "
            "if it closes after midnight, say so (next_day).",
            f"{where}.closes",
            "closes_before_opens",
            opens=opens_text,
            closes=closes_text,
        )
    return opens, closes


def hours_from_intervals(raw: Any, *, field: str = "opening_hours") -> WeeklyHours:
    """The schedule of admin-format intervals per weekday; :class:`HoursError` naming the day and
    interval when one is malformed, ends before it starts, lasts over a day or overlaps another.

    An empty mapping is "no schedule, always open"; a schedule closed on every day is refused.
    """
    if not isinstance(raw, Mapping):
        raise HoursError("Opening hours must be an object keyed by weekday (mon … sun).", field)
    unknown = [k for k in raw if k not in WEEKDAYS]
    if unknown:
        raise HoursError(
            f"Unknown weekday {unknown[0]!r}; use {', '.join(WEEKDAYS)}.", f"{field}.{unknown[0]}"
        )
    if not raw:
        return WeeklyHours(always=True)
    spans: list[tuple[int, int, str]] = []  # minutes since Monday 00:00, and where
    days: list[tuple[tuple[int, int], ...]] = []
    for index, day in enumerate(WEEKDAYS):
        intervals = raw.get(day) or []
        where = f"{field}.{day}"
        if not isinstance(intervals, list | tuple):
            raise HoursError("A day's hours must be a list of intervals.", where)
        if len(intervals) > MAX_INTERVALS:
            raise HoursError(f"A day may have at most {MAX_INTERVALS} intervals.", where)
        parsed = []
        for i, item in enumerate(intervals):
            opens, closes = _interval(item, f"{where}.{i}")
            spans.append((index * DAY + opens, index * DAY + closes, f"{where}.{i}"))
            parsed.append((opens, closes % DAY if closes > DAY else closes))
        days.append(tuple(parsed))
    if not spans:
        raise HoursError(
            "The branch would be closed every day: give the hours of at least one day, "
            "or no schedule at all for around the clock.",
            field,
            "closed_every_day",
        )
    _check_overlaps(spans)
    return WeeklyHours(days=tuple(days))


def _check_overlaps(spans: list[tuple[int, int, str]]) -> None:
    """Refuse two intervals that share a minute (Sunday night runs into Monday)."""
    week = 7 * DAY
    ordered = sorted(spans)
    for (_s1, end1, _w1), (start2, _e2, where2) in zip(ordered, ordered[1:], strict=False):
        if start2 < end1:
            raise HoursError("This interval overlaps the one before it.", where2, "overlap")
    first_start, _e, first_where = ordered[0]
    last_end = max(end for _s, end, _w in spans)
    if last_end - week > first_start:
        raise HoursError("This interval overlaps Sunday night's.", first_where, "overlap")


def intervals_of(hours: WeeklyHours) -> dict[str, list[dict[str, Any]]]:
    """A schedule in the admin format ({} when always open)."""
    if hours.always:
        return {}
    return {
        day: [{"opens": hhmm(o), "closes": hhmm(c), "next_day": c <= o} for o, c in intervals]
        for day, intervals in zip(WEEKDAYS, hours.days, strict=True)
        if intervals
    }


# --- time zones -------------------------------------------------------------------------------


@functools.cache
def time_zones() -> tuple[str, ...]:
    """The IANA time zone names this machine knows, sorted."""
    return tuple(sorted(zoneinfo.available_timezones()))


def check_timezone(name: Any, *, field: str = "timezone") -> str:
    """``name`` if it is an IANA time zone this machine knows (``Europe/Moscow``); :class:`HoursError`
    otherwise (a name is looked up in the list, never opened as a path)."""
    if not isinstance(name, str) or name not in time_zones():
        raise HoursError(
            f"{name!r} is not a time zone; use an IANA name such as Europe/Moscow.",
            field,
            "unknown_timezone",
            timezone=str(name)[:64],
        )
    return name


def day_groups(hours: WeeklyHours) -> list[tuple[str, str, tuple[tuple[str, str], ...]]]:
    """Runs of weekdays with the same intervals, for a one-line summary: ``[("mon", "fri",
    (("10:00", "23:00"),)), ("sat", "sun", …)]``; closed days are left out, [] when always open."""
    if hours.always:
        return []
    out: list[tuple[str, str, tuple[tuple[str, str], ...]]] = []
    previous: tuple[tuple[int, int], ...] | None = None
    for day, intervals in zip(WEEKDAYS, hours.days, strict=True):
        if intervals and intervals == previous:
            first, _last, text = out[-1]
            out[-1] = (first, day, text)
        elif intervals:
            out.append((day, day, tuple((hhmm(o), hhmm(c)) for o, c in intervals)))
        previous = intervals
    return out
