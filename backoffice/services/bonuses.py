"""Operator bonus use cases: rules per operation, the ledger written from events, totals and reports.

Every ledger line is keyed by (operation, order or ticket, person) and written with
``INSERT … ON CONFLICT DO NOTHING``, so an event heard twice — a retry, a replay, two
processes — pays once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backoffice import bonuses
from backoffice.bonuses import BonusRuleSpec, Operation
from backoffice.models import BonusEntry, BonusRule
from frontoffice import audit
from frontoffice.db import dialect_of, execute_fast, insert_or_skip, utcnow
from frontoffice.errors import Conflict, InvalidInput, field_error
from frontoffice.models import Role, User
from frontoffice.money import from_minor
from orders.events import OrderPlaced, OrderStatusChanged
from orders.models import Order, OrderLine
from orders.states import OrderStatus

#: Who earns bonuses: the people paid per operation (managers and admins are not).
EARNER_ROLES = frozenset({Role.OPERATOR, Role.BACKOFFICE})
MAX_REPORT_DAYS = 366


# --- rules ----------------------------------------------------------------------------------


def list_bonus_rules(session: Session) -> dict[str, BonusRule]:
    """The rule of each operation that has one."""
    return {r.operation: r for r in session.scalars(select(BonusRule).order_by(BonusRule.id))}


#: What the audit log keeps of a bonus rule.
BONUS_RULE_FIELDS = ("operation", "method", "amount", "percent_bp", "params", "active")


def save_bonus_rule(
    session: Session,
    operation: str,
    *,
    method: str,
    amount: int = 0,
    percent_bp: int = 0,
    params: Mapping[str, Any] | None = None,
    active: bool = True,
    actor_id: int | None = None,
    now: dt.datetime | None = None,
) -> BonusRule:
    """Create or replace the rule of an operation (entries already written keep their amounts)."""
    errors = bonuses.check_rule(operation, method, amount, percent_bp)
    normalized: dict[str, Any] = {}
    if not errors:
        try:
            normalized = bonuses.normalize_params(operation, params)
        except bonuses.BonusRuleError as exc:
            errors += [{**e, "type": "value_error"} for e in exc.errors]
    if errors:
        raise InvalidInput(
            "The bonus rule cannot be saved: " + "; ".join(f"{e['field']}: {e['message']}" for e in errors),
            errors=errors,
        )
    rule = session.scalar(select(BonusRule).where(BonusRule.operation == operation))
    before = audit.state(rule, BONUS_RULE_FIELDS) if rule is not None else None
    if rule is None:
        rule = BonusRule(operation=operation)
        session.add(rule)
    rule.method = method
    rule.amount = amount if method == "fixed" else 0
    rule.percent_bp = percent_bp if method == "percent" else 0
    rule.params = normalized
    rule.active = active
    rule.updated_at = now or utcnow()
    rule.updated_by = actor_id
    try:
        session.flush()
    except IntegrityError:
        raise Conflict(f"The rule of {operation} was saved by someone else at the same moment.") from None
    action = audit.Action.CREATE if before is None else audit.Action.UPDATE
    audit.record(session, action, "bonus_rule", operation, before, audit.state(rule, BONUS_RULE_FIELDS))
    return rule


# Built once: they run after every placed order.
# The columns of a rule's spec, not the mapped rule: read for every order placed and every status.
_ACTIVE_RULES = select(
    BonusRule.id,
    BonusRule.operation,
    BonusRule.method,
    BonusRule.amount,
    BonusRule.percent_bp,
    BonusRule.params,
).where(BonusRule.operation.in_(bindparam("operations", expanding=True)), BonusRule.active.is_(True))
_USER_ROLE = select(User.role).where(User.id == bindparam("user_id"))
_ORDER_LINES = select(OrderLine.sku, OrderLine.total).where(OrderLine.order_id == bindparam("order_id"))
_PLACED_OPERATIONS = [Operation.ORDER_TAKEN, Operation.PREORDER_TAKEN, Operation.UPSELL]


def _active_rules(session: Session, operations: list[Operation]) -> dict[str, BonusRuleSpec]:
    """The active rule of each of ``operations`` that has one, read in one query."""
    rows = execute_fast(session, _ACTIVE_RULES, {"operations": [str(op) for op in operations]})
    return {
        str(operation): BonusRuleSpec(rule_id, operation, method, amount, percent_bp, params or {})
        for rule_id, operation, method, amount, percent_bp, params in rows
    }


def _active_rule(session: Session, operation: Operation) -> BonusRuleSpec | None:
    return _active_rules(session, [operation]).get(str(operation))


# --- the ledger -----------------------------------------------------------------------------

_ledger = BonusEntry.__table__
_UNKNOWN: Any = object()


def award(
    session: Session,
    rule: BonusRuleSpec,
    *,
    subject_id: int,
    user_id: int | None,
    base: int,
    earned_at: dt.datetime,
    order_id: int | None = None,
    ticket_id: int | None = None,
    note: str = "",
    role: Any = _UNKNOWN,
) -> int | None:
    """Write one ledger line unless it exists; the new line's id, or None when nothing was written.

    ``role`` is the earner's role when the caller has already read it.
    """
    if user_id is None:
        return None
    if role is _UNKNOWN:
        role = execute_fast(session, _USER_ROLE, {"user_id": user_id}).scalar()
    if role not in EARNER_ROLES:
        return None
    amount = bonuses.amount_for(rule, base)
    if amount == 0:
        return None
    stmt = insert_or_skip(dialect_of(session), _ledger, ("operation", "subject_id", "user_id"), ("id",))
    values = {
        "user_id": user_id,
        "operation": rule.operation,
        "subject_id": subject_id,
        "order_id": order_id,
        "ticket_id": ticket_id,
        "amount": amount,
        "base": base,
        "rule_id": rule.rule_id,
        "note": note[:200],
        "earned_at": earned_at,
        "created_at": utcnow(),
    }
    # RETURNING, not rowcount: psycopg reports -1 for INSERT … ON CONFLICT.
    row = execute_fast(session, stmt, values).first()
    return row[0] if row is not None else None


def on_order_placed(session: Session, event: OrderPlaced) -> list[int]:
    """Pay for taking an order (unless it waits on hold), a pre-order, an upsell."""
    written: list[int] = []
    if event.actor_id is None:
        return written

    rules = _active_rules(session, _PLACED_OPERATIONS)
    if not rules:
        return written
    role = execute_fast(session, _USER_ROLE, {"user_id": event.actor_id}).scalar()
    if role not in EARNER_ROLES:
        return written

    def pay(operation: Operation, base: int, note: str = "") -> None:
        rule = rules.get(str(operation))
        if rule is None:
            return
        if operation is Operation.PREORDER_TAKEN and not bonuses.is_preorder(
            event.created_at, event.promised_at, int((rule.params or {}).get("min_lead_minutes", 120))
        ):
            return
        if operation is Operation.UPSELL:
            lines = execute_fast(session, _ORDER_LINES, {"order_id": event.order_id}).all()
            upsell = bonuses.upsell_base(
                ((sku, total) for sku, total in lines), (rule.params or {}).get("skus", [])
            )
            if upsell is None:
                return
            base = upsell
        entry = award(
            session,
            rule,
            subject_id=event.order_id,
            user_id=event.actor_id,
            base=base,
            earned_at=event.created_at,
            order_id=event.order_id,
            note=note or event.number,
            role=role,
        )
        if entry is not None:
            written.append(entry)

    if event.status != OrderStatus.ON_HOLD:
        pay(Operation.ORDER_TAKEN, event.total)
    pay(Operation.PREORDER_TAKEN, event.total)
    pay(Operation.UPSELL, event.total)
    return written


def on_status_changed(session: Session, event: OrderStatusChanged) -> list[int]:
    """Pay for a delivered order, for a held order let through; dock a cancel for operator error."""
    operation: Operation | None = None
    if event.to_status == OrderStatus.DELIVERED:
        operation = Operation.ORDER_DELIVERED
    elif event.from_status == OrderStatus.ON_HOLD and event.to_status == OrderStatus.CONFIRMED:
        operation = Operation.ORDER_TAKEN
    elif event.to_status == OrderStatus.CANCELLED:
        operation = Operation.PENALTY_CANCELLED
    if operation is None:
        return []
    rule = _active_rule(session, operation)
    if rule is None:
        return []
    if operation is Operation.PENALTY_CANCELLED and not bonuses.is_penalized(
        event.reason, (rule.params or {}).get("reason_codes", [])
    ):
        return []
    row = session.execute(select(Order.created_by, Order.total).where(Order.id == event.order_id)).first()
    if row is None:
        return []
    taker, total = row
    note = event.number if operation is not Operation.PENALTY_CANCELLED else f"{event.number}: {event.reason}"
    entry = award(
        session,
        rule,
        subject_id=event.order_id,
        user_id=taker,
        base=total,
        earned_at=event.at,
        order_id=event.order_id,
        note=note,
    )
    return [entry] if entry is not None else []


def on_ticket_resolved(session: Session, event: Any) -> list[int]:
    """Pay the person who resolved a ticket."""
    rule = _active_rule(session, Operation.TICKET_RESOLVED)
    if rule is None:
        return []
    entry = award(
        session,
        rule,
        subject_id=event.ticket_id,
        user_id=event.actor_id,
        base=0,
        earned_at=event.at,
        ticket_id=event.ticket_id,
        note=f"ticket #{event.ticket_id}",
    )
    return [entry] if entry is not None else []


# --- totals and reports ---------------------------------------------------------------------


def day_start(day: dt.date, timezone: str) -> dt.datetime:
    """Midnight of a business day in ``timezone``, as aware UTC."""
    return dt.datetime.combine(day, dt.time(), ZoneInfo(timezone)).astimezone(dt.UTC)


def totals_for(
    session: Session, user_id: int, timezone: str, now: dt.datetime | None = None
) -> dict[str, int]:
    """A person's bonus today and this month (business time zone), in minor units."""
    now = now or utcnow()
    today = now.astimezone(ZoneInfo(timezone)).date()
    month_from = day_start(today.replace(day=1), timezone)
    today_from = day_start(today, timezone)
    base = select(func.coalesce(func.sum(BonusEntry.amount), 0)).where(
        BonusEntry.user_id == user_id, BonusEntry.earned_at <= now
    )
    return {
        "today": int(session.scalar(base.where(BonusEntry.earned_at >= today_from)) or 0),
        "month": int(session.scalar(base.where(BonusEntry.earned_at >= month_from)) or 0),
    }


def entries_for(session: Session, user_id: int, limit: int = 50) -> list[BonusEntry]:
    """A person's latest ledger lines."""
    return list(
        session.scalars(
            select(BonusEntry)
            .where(BonusEntry.user_id == user_id)
            .order_by(BonusEntry.earned_at.desc(), BonusEntry.id.desc())
            .limit(limit)
        )
    )


@dataclass
class ReportRow:
    """One person's bonus over a period: count and sum per operation, and the total."""

    user_id: int
    username: str
    full_name: str
    counts: dict[str, int] = field(default_factory=dict)
    amounts: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        """The sum over all operations, in minor units."""
        return sum(self.amounts.values())


def check_period(date_from: dt.date, date_to: dt.date) -> None:
    """Refuse a period that ends before it starts or is longer than a year."""
    if date_to < date_from:
        raise InvalidInput("The period ends before it starts.", errors=[field_error("to", "before from")])
    if (date_to - date_from).days >= MAX_REPORT_DAYS:
        raise InvalidInput(
            f"A report covers at most {MAX_REPORT_DAYS} days.", errors=[field_error("to", "period too long")]
        )


def report(session: Session, date_from: dt.date, date_to: dt.date, timezone: str) -> list[ReportRow]:
    """Bonuses per person for the business days ``date_from`` … ``date_to`` (inclusive)."""
    check_period(date_from, date_to)
    start = day_start(date_from, timezone)
    end = day_start(date_to + dt.timedelta(days=1), timezone)
    rows = session.execute(
        select(
            User.id,
            User.username,
            User.full_name,
            BonusEntry.operation,
            func.count(BonusEntry.id),
            func.sum(BonusEntry.amount),
        )
        .join(User, User.id == BonusEntry.user_id)
        .where(BonusEntry.earned_at >= start, BonusEntry.earned_at < end)
        .group_by(User.id, User.username, User.full_name, BonusEntry.operation)
    )
    out: dict[int, ReportRow] = {}
    for user_id, username, full_name, operation, count, amount in rows:
        row = out.setdefault(user_id, ReportRow(user_id, username, full_name))
        row.counts[operation] = int(count)
        row.amounts[operation] = int(amount or 0)
    return sorted(out.values(), key=lambda r: (-r.total, r.full_name))


def report_table(
    rows: list[ReportRow], date_from: dt.date, date_to: dt.date
) -> tuple[list[str], list[list[Any]]]:
    """The report as a table for CSV: header, then one line per person (count and amount per operation, total)."""
    operations = [o.value for o in Operation]
    header = ["from", "to", "user_id", "username", "full_name"]
    for op in operations:
        header += [f"{op}_count", f"{op}_amount"]
    lines: list[list[Any]] = []
    for r in rows:
        line: list[Any] = [date_from.isoformat(), date_to.isoformat(), r.user_id, r.username, r.full_name]
        for op in operations:
            line += [r.counts.get(op, 0), str(from_minor(r.amounts.get(op, 0)))]
        lines.append([*line, str(from_minor(r.total))])
    return [*header, "total"], lines
