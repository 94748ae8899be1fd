"""Antifraud backtests: what a rule would have done to the orders of the last days."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backoffice import antifraud
from backoffice.antifraud import ORDER, Facts, PastOrder, Rule, Subject
from backoffice.models import BlacklistEntry
from frontoffice.db import utcnow
from frontoffice.errors import InvalidInput, field_error
from orders.models import REAL_ORDER, Order
from orders.states import OrderStatus

#: Statuses a backtest counts as "the order went wrong in fact".
WENT_WRONG = frozenset({OrderStatus.CANCELLED, OrderStatus.FAILED})
MAX_BACKTEST_DAYS = 365
MAX_BACKTEST_ORDERS = 300_000


@dataclass
class BacktestResult:
    """What a rule would have done to the orders of the last ``days``."""

    days: int
    orders: int = 0
    flagged: int = 0
    flagged_went_wrong: int = 0
    went_wrong: int = 0
    examples: list[dict[str, Any]] = field(default_factory=list)

    @property
    def precision(self) -> float | None:
        """Share of the flagged orders that were in fact cancelled or failed."""
        return self.flagged_went_wrong / self.flagged if self.flagged else None

    @property
    def recall(self) -> float | None:
        """Share of the cancelled or failed orders the rule would have flagged."""
        return self.flagged_went_wrong / self.went_wrong if self.went_wrong else None


_BACKTEST_COLUMNS = (
    Order.id,
    Order.number,
    Order.created_at,
    Order.status,
    Order.status_changed_at,
    Order.client_phone,
    Order.client_name,
    Order.kind,
    Order.address_text,
    Order.lat,
    Order.lon,
    Order.total,
    Order.payment_kind,
    Order.change_from,
    Order.comment,
)


def backtest(
    session: Session,
    *,
    kind: str,
    params: dict[str, Any] | None,
    days: int,
    now: dt.datetime | None = None,
    name: str = "backtest",
    examples: int = 20,
) -> BacktestResult:
    """Run one rule over every order of the last ``days``, each seen as it was when it was placed.

    History is what the database holds now, cut at each order's creation time; an
    earlier order whose status changed after that moment counts as still open. Device
    blacklists cannot be replayed (orders do not keep the device).
    """
    if not 1 <= days <= MAX_BACKTEST_DAYS:
        raise InvalidInput(
            f"Backtest over 1 to {MAX_BACKTEST_DAYS} days.",
            errors=[field_error("days", f"must be from 1 to {MAX_BACKTEST_DAYS}")],
        )
    try:
        normalized = antifraud.normalize_params(kind, params)
    except antifraud.ParamError as exc:
        raise InvalidInput(str(exc), errors=[{**e, "type": "value_error"} for e in exc.errors]) from None
    now = now or utcnow()
    rule = Rule(0, 0, 0, name, kind, antifraud.compile_params(kind, normalized), 0, "flag")
    need = antifraud.needs([rule], ORDER)
    start = now - dt.timedelta(days=days)
    history_from = start - dt.timedelta(days=need.phone_days, minutes=need.address_minutes)
    in_window = (
        session.scalar(select(func.count()).select_from(Order).where(Order.created_at >= start, REAL_ORDER))
        or 0
    )
    if in_window > MAX_BACKTEST_ORDERS:
        raise InvalidInput(
            f"{in_window} orders in {days} days; backtest at most {MAX_BACKTEST_ORDERS} at once — "
            "choose fewer days.",
            errors=[field_error("days", "too many orders in the window")],
        )
    blacklisted: dict[tuple[str, str], str] = {}
    if need.blacklist_kinds:
        blacklisted = {
            (k, v): r
            for k, v, r in session.execute(
                select(BlacklistEntry.kind, BlacklistEntry.value, BlacklistEntry.reason).where(
                    BlacklistEntry.kind.in_(sorted(need.blacklist_kinds))
                )
            )
        }
    rows = session.execute(
        select(*_BACKTEST_COLUMNS)
        .where(Order.created_at >= history_from, Order.created_at <= now, REAL_ORDER)
        .order_by(Order.created_at, Order.id)
    )
    result = BacktestResult(days=days)
    by_phone: dict[str, deque] = defaultdict(deque)
    by_address: dict[str, deque] = defaultdict(deque)
    keep_phone = dt.timedelta(days=need.phone_days)
    keep_address = dt.timedelta(minutes=need.address_minutes)
    for row in rows:
        at = row.created_at
        digest = antifraud.address_digest(row.address_text) if row.kind == "delivery" else ""
        if at >= start:
            phone_hist = by_phone[row.client_phone]
            while phone_hist and phone_hist[0][0].created_at < at - keep_phone:
                phone_hist.popleft()
            addr_hist = by_address[digest] if digest and need.address_minutes else deque()
            while addr_hist and addr_hist[0] < at - keep_address:
                addr_hist.popleft()
            history = [
                p if changed <= at else PastOrder(p.created_at, OrderStatus.NEW, p.client_name, p.lat, p.lon)
                for p, changed in reversed(phone_hist)
            ]
            subject = Subject(
                stage=ORDER,
                phone=row.client_phone,
                client_name=row.client_name,
                address_text=row.address_text if row.kind == "delivery" else "",
                lat=row.lat,
                lon=row.lon,
                total=row.total,
                payment_kind=row.payment_kind,
                change_from=row.change_from,
                comment=row.comment,
            )
            facts = Facts(
                now=at, phone_history=history, address_times=list(addr_hist), blacklisted=blacklisted
            )
            verdict = antifraud.evaluate([rule], subject, facts)
            wrong = row.status in WENT_WRONG
            result.orders += 1
            result.went_wrong += wrong
            if verdict.hits:
                result.flagged += 1
                result.flagged_went_wrong += wrong
                if len(result.examples) < examples:
                    result.examples.append(
                        {
                            "order_id": row.id,
                            "number": row.number,
                            "created_at": at,
                            "status": row.status,
                            "reason": verdict.hits[0].reason,
                        }
                    )
        past = PastOrder(at, row.status, row.client_name, row.lat, row.lon, row.total, row.payment_kind)
        if need.phone_days:
            by_phone[row.client_phone].append((past, row.status_changed_at))
        if digest and need.address_minutes:
            by_address[digest].append(at)
    return result
