"""Loyalty: RFM scores and named segments of clients (pure: no Flask, no session).

Each client gets three scores from 1 (worst) to 5 (best), by quintile of the whole
population of clients with at least one delivery:

* **R**ecency — days since the last delivery (fewer is better);
* **F**requency — number of deliveries;
* **M**onetary — money spent on delivered orders.

A score is the client's percentile rank cut into fifths, where a client tied with others
counts as standing in the middle of them (the "mid-rank"): with many clients on one value
(most clients order once) they all get the same, middling score rather than an arbitrary
extreme one.

The segment is read from R and F (M is shown, and breaks ties in rankings), first rule that
matches wins:

=============  =========================================================
champions      R ≥ 4 and F ≥ 4 — order often, ordered lately
loyal          R ≥ 3 and F ≥ 3
new            R ≥ 3 and exactly one delivery
potential      R ≥ 3 — recent, not yet frequent
cannot_lose    R = 1 and F ≥ 4 — were among the best, gone quiet
at_risk        R ≤ 2 and F ≥ 3
hibernating    R = 2
lost           everything else (R = 1, F ≤ 3)
=============  =========================================================

A client with a single delivery is never a champion nor loyal, whatever the scores say.

Period keys name the buckets the loyalty projection keeps per client: ``all``, ``y:2025``
and ``m:2025-05`` (business dates in the business's time zone).
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

SEGMENTS = ("champions", "loyal", "new", "potential", "cannot_lose", "at_risk", "hibernating", "lost")
ALL_TIME = "all"
#: How a top list may be ranked.
RANKINGS = ("deliveries", "revenue")


@dataclass(frozen=True)
class ClientTotals:
    """A client's delivered orders: how many, how much, first and last."""

    phone: str
    name: str
    deliveries: int
    revenue: int
    first_at: dt.datetime
    last_at: dt.datetime


@dataclass(frozen=True)
class RfmScale:
    """The population's values per dimension, sorted, to rank any client against."""

    recency_days: tuple[float, ...]
    frequency: tuple[float, ...]
    monetary: tuple[float, ...]

    @property
    def population(self) -> int:
        """How many clients the scale was built from."""
        return len(self.frequency)


@dataclass(frozen=True)
class Rfm:
    """A client's three scores and segment."""

    recency: int
    frequency: int
    monetary: int
    segment: str

    @property
    def code(self) -> str:
        """The classic three-digit notation, e.g. ``"545"``."""
        return f"{self.recency}{self.frequency}{self.monetary}"


def score(value: float, population: Sequence[float], *, lower_is_better: bool = False) -> int:
    """1..5: the fifth of the sorted ``population`` that ``value`` stands in (ties count as the middle)."""
    n = len(population)
    if n == 0:
        return 3
    below = bisect.bisect_left(population, value)
    equal = bisect.bisect_right(population, value) - below
    above = n - below - equal
    beaten = above if lower_is_better else below
    rank = (beaten + equal / 2) / n
    return min(5, 1 + int(rank * 5))


def recency_days(last_at: dt.datetime, now: dt.datetime) -> float:
    """Days (fractional, never negative) since ``last_at``."""
    return max(0.0, (now - last_at).total_seconds() / 86400)


def scale_of(clients: Iterable[ClientTotals], now: dt.datetime) -> RfmScale:
    """The population's sorted recency, frequency and money."""
    rec: list[float] = []
    freq: list[float] = []
    money: list[float] = []
    for c in clients:
        rec.append(recency_days(c.last_at, now))
        freq.append(c.deliveries)
        money.append(c.revenue)
    return RfmScale(tuple(sorted(rec)), tuple(sorted(freq)), tuple(sorted(money)))


def segment(recency: int, frequency: int, deliveries: int) -> str:
    """The named segment of R and F scores (see the module's table)."""
    repeat = deliveries > 1
    if repeat and recency >= 4 and frequency >= 4:
        return "champions"
    if repeat and recency >= 3 and frequency >= 3:
        return "loyal"
    if recency >= 3 and deliveries == 1:
        return "new"
    if recency >= 3:
        return "potential"
    if recency == 1 and frequency >= 4:
        return "cannot_lose"
    if frequency >= 3:
        return "at_risk"
    if recency == 2:
        return "hibernating"
    return "lost"


def rfm(client: ClientTotals, scale: RfmScale, now: dt.datetime) -> Rfm:
    """A client's scores against the population, and the segment they put them in."""
    r = score(recency_days(client.last_at, now), scale.recency_days, lower_is_better=True)
    f = score(client.deliveries, scale.frequency)
    m = score(client.revenue, scale.monetary)
    return Rfm(recency=r, frequency=f, monetary=m, segment=segment(r, f, client.deliveries))


def rank_key(client: ClientTotals, by: str = "deliveries") -> tuple[int, int]:
    """Sort key of a top list, best first: deliveries then money, or money then deliveries."""
    if by == "revenue":
        return (-client.revenue, -client.deliveries)
    if by == "deliveries":
        return (-client.deliveries, -client.revenue)
    raise ValueError(f"unknown ranking {by!r}; known: {', '.join(RANKINGS)}")


def top(clients: Iterable[ClientTotals], n: int, by: str = "deliveries") -> list[ClientTotals]:
    """The ``n`` best clients; full ties go to the greater phone number, as the database index has it."""
    ordered = sorted(clients, key=lambda c: c.phone, reverse=True)
    ordered.sort(key=lambda c: rank_key(c, by))
    return ordered[:n]


def period_keys(day: dt.date) -> tuple[str, str, str]:
    """The projection buckets a delivery on business date ``day`` counts in."""
    return (ALL_TIME, year_key(day.year), month_key(day.year, day.month))


def year_key(year: int) -> str:
    """Bucket key of a calendar year."""
    return f"y:{year:04d}"


def month_key(year: int, month: int) -> str:
    """Bucket key of a calendar month."""
    return f"m:{year:04d}-{month:02d}"


def bucket_of_range(date_from: dt.date | None, date_to: dt.date | None) -> str | None:
    """The one projection bucket that covers exactly ``[date_from, date_to]``, if there is one.

    No bounds at all is all time; a whole calendar month or year is its bucket; any other
    range has no bucket (it is added up from the per-order ledger instead).
    """
    if date_from is None and date_to is None:
        return ALL_TIME
    if date_from is None or date_to is None or date_from > date_to:
        return None
    if date_from.day == 1 and date_to == _month_end(date_from):
        return month_key(date_from.year, date_from.month)
    if (date_from.month, date_from.day) == (1, 1) and date_to == dt.date(date_from.year, 12, 31):
        return year_key(date_from.year)
    return None


def _month_end(day: dt.date) -> dt.date:
    first_next = dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return first_next - dt.timedelta(days=1)


def period_range(period: str, today: dt.date) -> tuple[dt.date | None, dt.date | None]:
    """The date range of a named period of the monitor: ``month``, ``year`` or ``all`` (to date)."""
    if period == "month":
        start = today.replace(day=1)
        return start, _month_end(start)
    if period == "year":
        return dt.date(today.year, 1, 1), dt.date(today.year, 12, 31)
    if period == "all":
        return None, None
    raise ValueError(f"unknown period {period!r}; known: month, year, all")
