"""Operator bonuses as plain rules: operations, how an amount is computed, when an operation counts."""

from __future__ import annotations

import datetime as dt
import enum
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from frontoffice.money import round_half_up


class Operation(enum.StrEnum):
    """What an operator is paid (or docked) for; one ledger entry per operation, order and person."""

    ORDER_TAKEN = "order_taken"
    ORDER_DELIVERED = "order_delivered"
    PREORDER_TAKEN = "preorder_taken"
    UPSELL = "upsell"
    TICKET_RESOLVED = "ticket_resolved"
    PENALTY_CANCELLED = "penalty_cancelled"


#: Operations whose amount is taken off, not paid.
PENALTIES = frozenset({Operation.PENALTY_CANCELLED})
#: Operations about a ticket rather than an order (percentages make no sense there).
TICKET_OPERATIONS = frozenset({Operation.TICKET_RESOLVED})
METHODS = ("fixed", "percent")
MAX_PERCENT = Decimal("100")
MAX_FIXED = 10_000_000  # minor units


DEFAULT_PARAMS: dict[str, dict[str, Any]] = {
    Operation.PREORDER_TAKEN: {"min_lead_minutes": 120},
    Operation.UPSELL: {"skus": []},
    Operation.PENALTY_CANCELLED: {"reason_codes": ["operator_error"]},
}


class BonusRuleError(ValueError):
    """A bonus rule that cannot be applied; ``errors`` names each bad field."""

    def __init__(self, errors: list[dict[str, str]]):
        super().__init__("; ".join(f"{e['field']}: {e['message']}" for e in errors))
        self.errors = errors


@dataclass(frozen=True)
class BonusRuleSpec:
    """A rule as the ledger applies it: fixed minor units or a percentage in basis points."""

    rule_id: int
    operation: str
    method: str
    amount: int = 0
    percent_bp: int = 0
    params: Mapping[str, Any] | None = None


def percent_to_bp(text: Any) -> int:
    """``"1.5"`` (percent) → 150 basis points; refuses more than two decimals or more than 100 %."""
    try:
        value = Decimal(str(text).strip())
    except (InvalidOperation, ValueError):
        raise ValueError("must be a percentage such as 1.5") from None
    if not value.is_finite() or value < 0 or value > MAX_PERCENT:
        raise ValueError("must be from 0 to 100")
    bp = value * 100
    if bp != bp.to_integral_value():
        raise ValueError("at most two decimals")
    return int(bp)


def bp_to_percent(bp: int) -> str:
    """150 → ``"1.50"``."""
    return str((Decimal(bp) / 100).quantize(Decimal("0.01")))


def amount_for(rule: BonusRuleSpec, base: int) -> int:
    """The signed ledger amount of one operation on a ``base`` (order total or upsell lines)."""
    if rule.method == "fixed":
        value = rule.amount
    else:
        value = round_half_up(Decimal(base) * rule.percent_bp / 10000)
    return -value if rule.operation in PENALTIES else value


def is_preorder(created_at: dt.datetime, promised_at: dt.datetime | None, min_lead_minutes: int) -> bool:
    """True when the client asked for a time at least ``min_lead_minutes`` ahead."""
    if promised_at is None:
        return False
    return promised_at - created_at >= dt.timedelta(minutes=min_lead_minutes)


def upsell_base(lines: Iterable[tuple[str, int]], skus: Iterable[str]) -> int | None:
    """The total of the lines whose SKU is on the upsell list, None when there is none."""
    wanted = {s.strip().upper() for s in skus}
    hits = [total for sku, total in lines if sku.upper() in wanted]
    return sum(hits) if hits else None


_CODE = re.compile(r"^\s*([\w-]+)")


def reason_code(reason: str | None) -> str:
    """The code a cancel reason starts with: ``"operator_error: wrong street"`` → ``operator_error``."""
    match = _CODE.match(reason or "")
    return match.group(1).casefold() if match else ""


def is_penalized(reason: str | None, codes: Iterable[str]) -> bool:
    """True when a cancel reason starts with one of the penalized codes."""
    return reason_code(reason) in {c.strip().casefold() for c in codes}


def normalize_params(operation: str, raw: Mapping[str, Any] | None) -> dict[str, Any]:
    """Validated parameters of an operation's rule (missing ones take their default)."""
    raw = dict(raw or {})
    defaults = DEFAULT_PARAMS.get(operation, {})
    errors = [
        {"field": f"params.{k}", "message": f"not a parameter of {operation}"}
        for k in raw
        if k not in defaults
    ]
    out: dict[str, Any] = {}
    for name, default in defaults.items():
        value = raw.get(name, default)
        if name == "min_lead_minutes":
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 60 * 24 * 30:
                errors.append({"field": f"params.{name}", "message": "must be whole minutes from 1 to 43200"})
                continue
        else:
            items = re.split(r"[\s,;]+", value) if isinstance(value, str) else list(value or [])
            value = list(dict.fromkeys(str(v).strip() for v in items if str(v).strip()))
            if name == "skus":
                value = [v.upper() for v in value]
            if any(len(v) > 64 for v in value) or len(value) > 500:
                errors.append({"field": f"params.{name}", "message": "at most 500 entries of 64 characters"})
                continue
        out[name] = value
    if errors:
        raise BonusRuleError(errors)
    return out


def check_rule(operation: str, method: str, amount: int, percent_bp: int) -> list[dict[str, str]]:
    """Problems with a rule's method and amounts, as per-field errors."""
    errors = []
    if operation not in {o.value for o in Operation}:
        errors.append({"field": "operation", "message": "unknown operation"})
    if method not in METHODS:
        errors.append({"field": "method", "message": f"must be one of {', '.join(METHODS)}"})
    if method == "percent" and operation in TICKET_OPERATIONS:
        errors.append({"field": "method", "message": "a ticket has no amount to take a percentage of"})
    if not 0 <= amount <= MAX_FIXED:
        errors.append({"field": "amount", "message": "must be from 0 to 100000.00"})
    if not 0 <= percent_bp <= 10000:
        errors.append({"field": "percent", "message": "must be from 0 to 100"})
    return errors
