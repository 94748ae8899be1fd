"""What antifraud rules look at: the stages and actions, the subject being checked and the facts
gathered around it (the phone's recent orders, the recent orders to the same address, blacklist
hits), and how addresses and names are compared. Plain values only."""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import hashlib
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, NamedTuple

from callcentre.matching import address_key
from frontoffice.geo import geodesic_km

#: Actions in order of severity; ``none`` is the verdict of a clean subject.
ACTIONS = ("none", "note", "flag", "hold", "reject")
RULE_ACTIONS = ACTIONS[1:]
SEVERITY = {name: rank for rank, name in enumerate(ACTIONS)}

#: When rules are evaluated: a phone typed by the operator, or an order being placed.
CONTACT = "contact"
ORDER = "order"
STAGES = (CONTACT, ORDER)

BLACKLIST_KINDS = ("phone", "address", "device")
BAD_STATUSES = ("cancelled", "failed", "rejected")
MAX_SCORE = 1000
#: Rules read a phone's orders newest first, at most HISTORY_LIMIT of them: a count over a rule's
#: window is exact up to that many orders (count thresholds stop at MAX_COUNT, below it), and a
#: caller with more orders than that in a long window is judged on the newest ones.
HISTORY_LIMIT = 150
MAX_COUNT = 100


# --- subjects and facts ---------------------------------------------------------------------


@dataclass(frozen=True)
class Subject:
    """What is being checked: a caller (``contact``) or an order (``order``)."""

    stage: str
    phone: str
    client_name: str = ""
    address_text: str = ""
    lat: float | None = None
    lon: float | None = None
    total: int | None = None
    payment_kind: str = ""
    change_from: int | None = None
    comment: str = ""
    device: str = ""

    @cached_property
    def address_key(self) -> str:
        """The normalized address (empty when there is none)."""
        return normalize_address(self.address_text)

    @cached_property
    def address_digest(self) -> str:
        """The digest the address index is keyed by (empty when there is no address)."""
        return address_digest(self.address_text)


class PastOrder(NamedTuple):
    """One earlier order of the same phone, as the rules need it (a tuple: hundreds are read per check)."""

    created_at: dt.datetime
    status: str
    client_name: str = ""
    lat: float | None = None
    lon: float | None = None
    total: int = 0
    payment_kind: str = ""


@dataclass
class Facts:
    """What the database knows around a subject, gathered once for all rules.

    ``phone_history`` is newest first and covers at least :func:`needs` ``.phone_days``;
    ``address_times`` are the creation times of recent orders to the same address.
    ``blacklisted`` maps ``(kind, value)`` to the reason it was listed.

    Rules look at "the phone's orders of the last N days", which is always a prefix of the
    history; the counts the rules need are prefix sums built once per evaluation, so a
    hundred rules cost a hundred lookups, not a hundred passes over the history.
    """

    now: dt.datetime
    phone_history: Sequence[PastOrder] = ()
    address_times: Sequence[dt.datetime] = ()
    blacklisted: Mapping[tuple[str, str], str] = field(default_factory=dict)

    @cached_property
    def _history_keys(self) -> list[float]:
        # Newest first, so the negated timestamps ascend and bisect finds a window's prefix.
        return [-o.created_at.timestamp() for o in self.phone_history]

    @cached_property
    def _address_keys(self) -> list[float]:
        return sorted(-t.timestamp() for t in self.address_times)

    @cached_property
    def _status_prefix(self) -> dict[str, list[int]]:
        prefix: dict[str, list[int]] = {}
        n = len(self.phone_history)
        for i, order in enumerate(self.phone_history):
            counts = prefix.get(order.status)
            if counts is None:
                counts = prefix[order.status] = [0] * (n + 1)
            counts[i + 1] = 1
        for counts in prefix.values():
            for i in range(1, n + 1):
                counts[i] += counts[i - 1]
        return prefix

    @cached_property
    def _names(self) -> tuple[dict[str, tuple[int, str]], list[int]]:
        first_seen: dict[str, tuple[int, str]] = {}
        distinct = [0]
        for i, order in enumerate(self.phone_history):
            key = name_key(order.client_name)
            if key and key not in first_seen:
                first_seen[key] = (i, order.client_name.strip())
            distinct.append(len(first_seen))
        return first_seen, distinct

    def within(self, since: dt.datetime) -> int:
        """How many of the phone's orders were created at or after ``since`` (a prefix of the history)."""
        return bisect.bisect_right(self._history_keys, -since.timestamp())

    def address_orders_since(self, since: dt.datetime) -> int:
        """How many orders to the same address were created at or after ``since``."""
        return bisect.bisect_right(self._address_keys, -since.timestamp())

    def status_count(self, statuses: Iterable[str], n: int) -> int:
        """How many of the newest ``n`` orders of the phone are in one of ``statuses``."""
        prefix = self._status_prefix
        return sum(prefix[s][n] for s in statuses if s in prefix)

    def distinct_names(self, n: int, extra: str = "") -> dict[str, str]:
        """The different client names among the newest ``n`` orders (plus ``extra``), by normalized key."""
        first_seen, _ = self._names
        names = {key: shown for key, (i, shown) in first_seen.items() if i < n}
        if name_key(extra):
            names.setdefault(name_key(extra), extra.strip())
        return names

    def distinct_name_count(self, n: int, extra: str = "") -> int:
        """How many different names the newest ``n`` orders (plus ``extra``) were placed under."""
        first_seen, distinct = self._names
        key = name_key(extra)
        seen = first_seen.get(key)
        return distinct[n] + (1 if key and (seen is None or seen[0] >= n) else 0)

    @cached_property
    def _point_prefix(self) -> dict[tuple, Any]:
        # Per subject point: prefix counts of located orders and prefix argmin of the distance;
        # per (point, nearest order): the geodesic km, measured once.
        return {}

    def nearest(self, lat: float, lon: float, n: int) -> tuple[int, float | None]:
        """Among the newest ``n`` orders: how many have a location, and the geodesic km to the nearest.

        The nearest is picked by the equirectangular approximation (built once per subject point)
        and measured by geodesic distance.
        """
        cache = self._point_prefix
        built = cache.get((lat, lon))
        if built is None:
            located, best, best_km = [0], [-1], [math.inf]
            for i, order in enumerate(self.phone_history):
                km = math.inf
                if order.lat is not None and order.lon is not None:
                    km = _approx_km(lat, lon, order.lat, order.lon)
                    located.append(located[-1] + 1)
                else:
                    located.append(located[-1])
                if km < best_km[-1]:
                    best.append(i)
                    best_km.append(km)
                else:
                    best.append(best[-1])
                    best_km.append(best_km[-1])
            built = cache[(lat, lon)] = (located, best, best_km)
        located, best, _ = built
        if located[n] == 0:
            return 0, None
        key = (lat, lon, best[n])
        km = cache.get(key)
        if km is None:
            order = self.phone_history[best[n]]
            km = cache[key] = geodesic_km(lat, lon, order.lat, order.lon)
        return located[n], km


@dataclass(frozen=True)
class Needs:
    """The facts a set of rules needs: how far back to read, which lists to check."""

    phone_days: float = 0.0
    address_minutes: float = 0.0
    blacklist_kinds: frozenset[str] = frozenset()


# --- distances and names ---------------------------------------------------------------------


def _approx_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Equirectangular distance: exact enough to pick the few candidates geopy then measures."""
    x = math.radians(lon2 - lon1) * math.cos(math.radians((lat1 + lat2) / 2))
    y = math.radians(lat2 - lat1)
    return 6371.0088 * math.hypot(x, y)


def nearest_km(lat: float, lon: float, points: Iterable[tuple[float, float]]) -> float | None:
    """Geodesic distance in km from a point to the nearest of ``points`` (None without points)."""
    distinct = {(round(a, 5), round(b, 5)) for a, b in points}
    if not distinct:
        return None
    candidates = sorted(distinct, key=lambda q: _approx_km(lat, lon, q[0], q[1]))[:3]
    return min(geodesic_km(lat, lon, q[0], q[1]) for q in candidates)


def name_key(name: str) -> str:
    """A client name compared loosely: case, ё/е and extra spaces do not make another name."""
    return " ".join(name.casefold().replace("ё", "е").split())


# --- addresses ------------------------------------------------------------------------------


@functools.lru_cache(maxsize=8192)  # pure, and the same doors come back
def normalize_address(text: str) -> str:
    """An address reduced to its significant words, the call centre's folding (``callcentre.matching``):
    case, ё/е, punctuation, street-type and filler words and the script (Cyrillic or Latin) do not
    matter."""
    return address_key(text)


# Every order screened digests its address, and the same doors come back: a pure function, cached.
@functools.lru_cache(maxsize=8192)
def address_digest(text: str) -> str:
    """SHA-1 of the normalized address (the key of the address index), empty without an address."""
    key = normalize_address(text)
    return hashlib.sha1(key.encode()).hexdigest() if key else ""
