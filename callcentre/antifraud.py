"""Antifraud rules over plain values: the rule kinds, their parameters, and one evaluation.

A rule is a kind (``blacklist``, ``velocity`` …) with parameters, a score and an
action (``note`` < ``flag`` < ``hold`` < ``reject``). :func:`evaluate` checks a
:class:`Subject` (a caller at first contact, or an order being submitted) against
the active rules with the :class:`Facts` gathered for it — the phone's recent
orders, the recent orders to the same address, the blacklist hits — and returns a
:class:`Verdict`: every rule that fired, with the version that decided, the summed
score and the most severe action. Nothing here touches a database or Flask.
"""

from __future__ import annotations

import bisect
import datetime as dt
import hashlib
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cached_property
from typing import Any, NamedTuple

from geopy.distance import geodesic

from frontoffice.money import format_money, from_minor, to_minor

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


class ParamError(ValueError):
    """Rule parameters that do not fit the kind; ``errors`` names each bad field."""

    def __init__(self, errors: list[dict[str, str]]):
        super().__init__("; ".join(f"{e['field']}: {e['message']}" for e in errors))
        self.errors = errors


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
            km = cache[key] = geodesic((lat, lon), (order.lat, order.lon)).km
        return located[n], km


@dataclass(frozen=True)
class Needs:
    """The facts a set of rules needs: how far back to read, which lists to check."""

    phone_days: float = 0.0
    address_minutes: float = 0.0
    blacklist_kinds: frozenset[str] = frozenset()


# --- rules and verdicts ---------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """One version of a rule, ready to evaluate (``params`` already compiled by :func:`compile_params`)."""

    rule_id: int
    version_id: int
    version: int
    name: str
    kind: str
    params: Mapping[str, Any]
    score: int
    action: str


@dataclass(frozen=True)
class Hit:
    """A rule that fired, the version that decided, and why."""

    rule_id: int
    version_id: int
    version: int
    rule: str
    kind: str
    score: int
    action: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        """JSON form (stored with the order and shown to the operator)."""
        return {
            "rule": self.rule,
            "rule_id": self.rule_id,
            "version": self.version,
            "version_id": self.version_id,
            "kind": self.kind,
            "score": self.score,
            "action": self.action,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class Verdict:
    """The outcome of one evaluation: the hits, their summed score and the most severe action."""

    stage: str
    hits: tuple[Hit, ...] = ()

    @property
    def score(self) -> int:
        """The sum of the scores of the rules that fired."""
        return sum(h.score for h in self.hits)

    @property
    def action(self) -> str:
        """The most severe action of the rules that fired, ``none`` when none did."""
        return max((h.action for h in self.hits), key=SEVERITY.__getitem__, default="none")

    def reasons(self, at_least: str = "note") -> list[str]:
        """The reasons of the hits whose action is at least ``at_least``."""
        floor = SEVERITY[at_least]
        return [h.reason for h in self.hits if SEVERITY[h.action] >= floor]

    def to_dict(self) -> dict[str, Any]:
        """JSON form: ``{stage, action, score, hits: [...]}``."""
        return {
            "stage": self.stage,
            "action": self.action,
            "score": self.score,
            "hits": [h.to_dict() for h in self.hits],
        }


# --- parameters -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ParamSpec:
    """One parameter of a rule kind: its type, bounds and the words a form shows for it."""

    name: str
    type: str  # int | number | money | choice | choices | words
    label: str
    default: Any
    help: str = ""
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()


def _check_number(spec: ParamSpec, raw: Any, integer: bool) -> tuple[Any, str | None]:
    if isinstance(raw, bool):
        return None, "must be a number"
    try:
        value: Any = Decimal(str(raw).strip())
    except (InvalidOperation, ValueError):
        return None, "must be a number"
    if not value.is_finite():
        return None, "must be a finite number"
    if integer:
        if value != value.to_integral_value():
            return None, "must be a whole number"
        value = int(value)
    else:
        value = float(value)
    if spec.minimum is not None and value < spec.minimum:
        return None, f"must be at least {spec.minimum:g}"
    if spec.maximum is not None and value > spec.maximum:
        return None, f"must be at most {spec.maximum:g}"
    return value, None


def _check_param(spec: ParamSpec, raw: Any) -> tuple[Any, str | None]:
    """The JSON-safe stored value of one parameter, or an error message."""
    if spec.type == "int":
        return _check_number(spec, raw, integer=True)
    if spec.type == "number":
        return _check_number(spec, raw, integer=False)
    if spec.type == "money":
        try:
            minor = to_minor(str(raw).strip())
        except ValueError:
            return None, "must be an amount of money such as 5000.00"
        if minor < 0:
            return None, "must not be negative"
        if spec.maximum is not None and minor > spec.maximum * 100:
            return None, f"must be at most {spec.maximum:g}"
        return str(from_minor(minor)), None
    if spec.type == "choice":
        value = str(raw).strip()
        if value not in spec.choices:
            return None, f"must be one of {', '.join(spec.choices)}"
        return value, None
    if spec.type == "choices":
        values = _as_list(raw)
        unknown = [v for v in values if v not in spec.choices]
        if unknown:
            return None, f"unknown {', '.join(unknown)}; choose from {', '.join(spec.choices)}"
        if not values:
            return None, "choose at least one"
        return [c for c in spec.choices if c in values], None
    if spec.type == "words":
        values = [w.strip() for w in _as_list(raw) if w.strip()]
        if any(len(w) > 100 for w in values):
            return None, "each entry must have at most 100 characters"
        if len(values) > 100:
            return None, "at most 100 entries"
        return list(dict.fromkeys(values)), None
    raise AssertionError(f"unknown parameter type {spec.type}")


def _as_list(raw: Any) -> list[str]:
    if raw is None:
        return []
    if isinstance(raw, str):
        return [part for part in re.split(r"[\n,;]+", raw) if part.strip()]
    if isinstance(raw, (list, tuple, set, frozenset)):
        return [str(v).strip() for v in raw if str(v).strip()]
    return [str(raw)]


# --- the kinds ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RuleKind:
    """A kind of rule: its parameters, the stages it applies to, and its check."""

    code: str
    title: str
    description: str
    params: tuple[ParamSpec, ...]
    stages: frozenset[str]
    check: Callable[[Mapping[str, Any], Subject, Facts], str | None]

    def defaults(self) -> dict[str, Any]:
        """The parameters of a new rule of this kind."""
        return {p.name: p.default for p in self.params}


def _since(facts: Facts, days: float = 0, minutes: float = 0) -> dt.datetime:
    return facts.now - dt.timedelta(days=days, minutes=minutes)


def _check_blacklist(p: Mapping[str, Any], s: Subject, f: Facts) -> str | None:
    values = {"phone": s.phone, "address": s.address_key, "device": s.device.strip()}
    for kind in p["lists"]:
        value = values[kind]
        if value and (kind, value) in f.blacklisted:
            why = f.blacklisted[(kind, value)]
            shown = s.address_text.strip() if kind == "address" else value
            return f"The {kind} {shown} is on the blacklist" + (f": {why}" if why else ".")
    return None


def _check_velocity(p: Mapping[str, Any], s: Subject, f: Facts) -> str | None:
    since = _since(f, minutes=p["minutes"])
    if p["by"] == "phone":
        n = f.within(since)
        what = "this phone"
    else:
        if not s.address_key:
            return None
        n = f.address_orders_since(since)
        what = "this address"
    if n >= p["count"]:
        return f"{n} orders from {what} in the last {p['minutes']} min (allowed: {p['count']})."
    return None


def _check_large_cash(p: Mapping[str, Any], s: Subject, f: Facts) -> str | None:
    if s.payment_kind != "cash" or s.total is None or s.total < p["min_total"]:
        return None
    delivered = f.status_count(("delivered",), f.within(_since(f, days=p["days"])))
    if delivered > p["max_delivered"]:
        return None
    return (
        f"Cash order of {format_money(s.total)} from a client with {delivered} delivered "
        f"order(s) in {p['days']} days (new client: at most {p['max_delivered']})."
    )


def _check_bad_history(p: Mapping[str, Any], s: Subject, f: Facts) -> str | None:
    statuses = p["statuses"]
    bad = f.status_count(statuses, f.within(_since(f, days=p["days"])))
    if bad >= p["min_count"]:
        return (
            f"{bad} {'/'.join(sorted(statuses))} order(s) from this phone in {p['days']} days "
            f"(threshold {p['min_count']})."
        )
    return None


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
    return min(geodesic((lat, lon), q).km for q in candidates)


def _check_far_address(p: Mapping[str, Any], s: Subject, f: Facts) -> str | None:
    if s.lat is None or s.lon is None:
        return None
    located, km = f.nearest(s.lat, s.lon, f.within(_since(f, days=p["days"])))
    if located < p["min_history"] or km is None:
        return None
    if km > p["km"]:
        return (
            f"The address is {km:.1f} km from the nearest of the client's {located} usual "
            f"delivery points (limit {p['km']:g} km)."
        )
    return None


def _check_change_to_card(p: Mapping[str, Any], s: Subject, f: Facts) -> str | None:
    text = s.comment.casefold()
    for word in p["keywords"]:
        if word and word in text:
            return f"The comment asks for “{word}” — the change-to-card pattern."
    if s.payment_kind == "cash" and s.change_from is not None and s.total is not None:
        change = s.change_from - s.total
        if s.change_from >= p["min_note"] and change >= p["min_change"]:
            return (
                f"Cash with change from {format_money(s.change_from)} on {format_money(s.total)} "
                f"(change {format_money(change)})."
            )
    return None


def name_key(name: str) -> str:
    """A client name compared loosely: case, ё/е and extra spaces do not make another name."""
    return " ".join(name.casefold().replace("ё", "е").split())


def _check_many_names(p: Mapping[str, Any], s: Subject, f: Facts) -> str | None:
    n = f.within(_since(f, days=p["days"]))
    count = f.distinct_name_count(n, s.client_name)
    if count > p["max_names"]:
        shown = ", ".join(sorted(f.distinct_names(n, s.client_name).values())[:6])
        return (
            f"This phone was used under {count} different names in {p['days']} days "
            f"(allowed: {p['max_names']}): {shown}."
        )
    return None


BOTH = frozenset(STAGES)
ORDER_ONLY = frozenset({ORDER})
_DAYS = dict(type="int", label="Days to look back", minimum=1, maximum=730)

KINDS: dict[str, RuleKind] = {
    k.code: k
    for k in (
        RuleKind(
            "blacklist",
            "Blacklist",
            "The phone, the delivery address or the device is on the blacklist.",
            (
                ParamSpec(
                    "lists", "choices", "Lists to check", list(BLACKLIST_KINDS), choices=BLACKLIST_KINDS
                ),
            ),
            BOTH,
            _check_blacklist,
        ),
        RuleKind(
            "velocity",
            "Velocity",
            "Too many orders from one phone or to one address within a time window.",
            (
                ParamSpec("by", "choice", "Count by", "phone", choices=("phone", "address")),
                ParamSpec("count", "int", "Orders allowed in the window", 3, minimum=1, maximum=MAX_COUNT),
                ParamSpec("minutes", "int", "Window, minutes", 60, minimum=1, maximum=43200),
            ),
            BOTH,
            _check_velocity,
        ),
        RuleKind(
            "large_cash_new_client",
            "Large cash order from a new client",
            "A cash order above an amount from a phone with (almost) no delivered orders.",
            (
                ParamSpec("min_total", "money", "Order total from", "5000.00", maximum=10_000_000),
                ParamSpec(
                    "max_delivered",
                    "int",
                    "New client: delivered orders at most",
                    0,
                    minimum=0,
                    maximum=100,
                ),
                ParamSpec("days", default=365, **_DAYS),
            ),
            ORDER_ONLY,
            _check_large_cash,
        ),
        RuleKind(
            "bad_history",
            "History of cancelled or failed deliveries",
            "The phone has cancelled, failed or rejected orders.",
            (
                ParamSpec(
                    "statuses",
                    "choices",
                    "Statuses that count",
                    ["cancelled", "failed"],
                    choices=BAD_STATUSES,
                ),
                ParamSpec("min_count", "int", "From this many orders", 2, minimum=1, maximum=MAX_COUNT),
                ParamSpec("days", default=180, **_DAYS),
            ),
            BOTH,
            _check_bad_history,
        ),
        RuleKind(
            "far_address",
            "Address far from the usual ones",
            "The delivery point is far from every point the client had orders delivered to.",
            (
                ParamSpec("km", "number", "Farther than, km", 15, minimum=0.1, maximum=20000),
                ParamSpec("min_history", "int", "Orders with a location needed", 2, minimum=1, maximum=100),
                ParamSpec("days", default=365, **_DAYS),
            ),
            ORDER_ONLY,
            _check_far_address,
        ),
        RuleKind(
            "change_to_card",
            "“Send the change to my card”",
            "The comment asks to transfer the change, or cash is paid with a large note on a small order.",
            (
                ParamSpec(
                    "keywords",
                    "words",
                    "Keywords in the comment (one per line)",
                    [
                        "change to my card",
                        "change to card",
                        "transfer the change",
                        "сдачу на карту",
                        "сдачу переведите",
                        "перевести сдачу",
                    ],
                ),
                ParamSpec("min_note", "money", "Note from", "5000.00", maximum=1_000_000),
                ParamSpec("min_change", "money", "Change from", "3000.00", maximum=1_000_000),
            ),
            ORDER_ONLY,
            _check_change_to_card,
        ),
        RuleKind(
            "many_names",
            "One phone, many names",
            "The phone was used under more different client names than allowed.",
            (
                ParamSpec("max_names", "int", "Names allowed", 2, minimum=1, maximum=100),
                ParamSpec("days", default=365, **_DAYS),
            ),
            BOTH,
            _check_many_names,
        ),
    )
}


def kind_of(code: str) -> RuleKind:
    """The rule kind named ``code``; :class:`ParamError` for an unknown one."""
    try:
        return KINDS[code]
    except KeyError:
        raise ParamError([{"field": "kind", "message": f"unknown kind; known: {', '.join(KINDS)}"}]) from None


def normalize_params(kind: str, raw: Mapping[str, Any] | None) -> dict[str, Any]:
    """Validated, JSON-safe parameters of a ``kind`` (missing ones take their default)."""
    rule_kind = kind_of(kind)
    raw = dict(raw or {})
    out: dict[str, Any] = {}
    errors: list[dict[str, str]] = []
    known = {p.name for p in rule_kind.params}
    for name in raw:
        if name not in known:
            errors.append({"field": f"params.{name}", "message": f"not a parameter of {kind}"})
    for spec in rule_kind.params:
        value, error = _check_param(spec, raw.get(spec.name, spec.default))
        if error:
            errors.append({"field": f"params.{spec.name}", "message": error})
        else:
            out[spec.name] = value
    if errors:
        raise ParamError(errors)
    return out


def compile_params(kind: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """Stored parameters in the form the checks use: money in minor units, lists as sets, casefolded words."""
    rule_kind = kind_of(kind)
    out: dict[str, Any] = {}
    for spec in rule_kind.params:
        value = params.get(spec.name, spec.default)
        if spec.type == "money":
            value = to_minor(str(value))
        elif spec.type == "choices":
            value = tuple(value)
        elif spec.type == "words":
            value = tuple(w.casefold() for w in value)
        out[spec.name] = value
    return out


def check_rule_fields(score: Any, action: Any) -> list[dict[str, str]]:
    """Problems with a rule's score and action, as per-field errors."""
    errors = []
    if isinstance(score, bool) or not isinstance(score, int) or not 0 <= score <= MAX_SCORE:
        errors.append({"field": "score", "message": f"must be a whole number from 0 to {MAX_SCORE}"})
    if action not in RULE_ACTIONS:
        errors.append({"field": "action", "message": f"must be one of {', '.join(RULE_ACTIONS)}"})
    return errors


# --- evaluation -----------------------------------------------------------------------------


def needs(rules: Iterable[Rule], stage: str) -> Needs:
    """The facts the rules applying at ``stage`` need."""
    phone_days = 0.0
    address_minutes = 0.0
    kinds: set[str] = set()
    for rule in rules:
        if stage not in KINDS[rule.kind].stages:
            continue
        p = rule.params
        if rule.kind == "blacklist":
            kinds.update(p["lists"])
        elif rule.kind == "velocity":
            if p["by"] == "phone":
                phone_days = max(phone_days, p["minutes"] / 1440)
            else:
                address_minutes = max(address_minutes, p["minutes"])
        elif "days" in p:
            phone_days = max(phone_days, float(p["days"]))
    return Needs(phone_days, address_minutes, frozenset(kinds))


def evaluate(rules: Iterable[Rule], subject: Subject, facts: Facts) -> Verdict:
    """Check ``subject`` against every rule that applies at its stage."""
    hits = []
    for rule in rules:
        kind = KINDS[rule.kind]
        if subject.stage not in kind.stages:
            continue
        reason = kind.check(rule.params, subject, facts)
        if reason:
            hits.append(
                Hit(
                    rule_id=rule.rule_id,
                    version_id=rule.version_id,
                    version=rule.version,
                    rule=rule.name,
                    kind=rule.kind,
                    score=rule.score,
                    action=rule.action,
                    reason=reason,
                )
            )
    hits.sort(key=lambda h: (-SEVERITY[h.action], -h.score, h.rule_id))
    return Verdict(stage=subject.stage, hits=tuple(hits))


# --- addresses ------------------------------------------------------------------------------

#: Words that say what kind of street or building follows; dropped so "ул. Баумана, д. 5" and
#: "Baumana 5" style variants of one address written by the same caller compare equal.
_FILLER = frozenset(
    "ул улица пр проспект пр-т пер переулок д дом корп корпус стр строение кв квартира г город "
    "st str street ave avenue av rd road bld bldg building apt apartment flat h house city".split()
)
_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)


def normalize_address(text: str) -> str:
    """An address reduced to its significant words: lower case, ё→е, no punctuation or filler words."""
    words = _TOKEN.findall((text or "").casefold().replace("ё", "е"))
    return " ".join(w for w in words if w not in _FILLER)[:500]


def address_digest(text: str) -> str:
    """SHA-1 of the normalized address (the key of the address index), empty without an address."""
    key = normalize_address(text)
    return hashlib.sha1(key.encode()).hexdigest() if key else ""
