"""The kinds of antifraud rule: what each checks, its parameters with their bounds and defaults,
and how stored parameters are validated and compiled for evaluation."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from backoffice.antifraud.facts import (
    BAD_STATUSES,
    BLACKLIST_KINDS,
    MAX_COUNT,
    MAX_SCORE,
    ORDER,
    RULE_ACTIONS,
    STAGES,
    Facts,
    Subject,
)
from frontoffice.money import format_money, from_minor, to_minor


class ParamError(ValueError):
    """Rule parameters that do not fit the kind; ``errors`` names each bad field."""

    def __init__(self, errors: list[dict[str, str]]):
        super().__init__("; ".join(f"{e['field']}: {e['message']}" for e in errors))
        self.errors = errors


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
    #: The label family (frontoffice.labels) that names the choices in words.
    vocabulary: str = ""


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
    """A kind of rule: its parameters, the stages it applies to, and its check (its name is a label,
    ``antifraud_kind`` in backoffice/labels.py)."""

    code: str
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
            "The phone, the delivery address or the device is on the blacklist.",
            (
                ParamSpec(
                    "lists",
                    "choices",
                    "Lists to check",
                    list(BLACKLIST_KINDS),
                    choices=BLACKLIST_KINDS,
                    vocabulary="blacklist_kind",
                ),
            ),
            BOTH,
            _check_blacklist,
        ),
        RuleKind(
            "velocity",
            "Too many orders from one phone or to one address within a time window.",
            (
                ParamSpec(
                    "by",
                    "choice",
                    "Count by",
                    "phone",
                    choices=("phone", "address"),
                    vocabulary="blacklist_kind",
                ),
                ParamSpec("count", "int", "Orders allowed in the window", 3, minimum=1, maximum=MAX_COUNT),
                ParamSpec("minutes", "int", "Window, minutes", 60, minimum=1, maximum=43200),
            ),
            BOTH,
            _check_velocity,
        ),
        RuleKind(
            "large_cash_new_client",
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
            "The phone has cancelled, failed or rejected orders.",
            (
                ParamSpec(
                    "statuses",
                    "choices",
                    "Statuses that count",
                    ["cancelled", "failed"],
                    choices=BAD_STATUSES,
                    vocabulary="order_status",
                ),
                ParamSpec("min_count", "int", "From this many orders", 2, minimum=1, maximum=MAX_COUNT),
                ParamSpec("days", default=180, **_DAYS),
            ),
            BOTH,
            _check_bad_history,
        ),
        RuleKind(
            "far_address",
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
