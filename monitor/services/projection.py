"""The loyalty projection: per-order facts and per-client totals by period, and the top lists.

The order events keep it current (:func:`record_delivery`); :func:`rebuild_loyalty` rebuilds it
from the delivered orders. The top clients of a whole month, year or all time are one walk
down an index of the totals; any other range sums the per-order facts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, delete, func, select
from sqlalchemy.orm import Session

from frontoffice.db import upsert
from monitor import loyalty, metrics
from monitor.models import ClientTotals, LoyaltyFact
from orders.models import REAL_ORDER, Order


def as_utc(value: Any) -> dt.datetime:
    """An aggregate (min/max) of a UTC column as an aware datetime: it comes back naive on
    SQLite, sometimes as text."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


_facts = LoyaltyFact.__table__
_totals = ClientTotals.__table__


def record_delivery(session: Session, order_id: int, zone: ZoneInfo) -> bool:
    """Count one delivered order in the projection; False if it is not delivered or already counted."""
    row = session.execute(
        select(Order.client_phone, Order.client_name, Order.total, Order.delivered_at, Order.status).where(
            Order.id == order_id, REAL_ORDER
        )
    ).one_or_none()
    if row is None or row.status != "delivered" or row.delivered_at is None:
        return False
    day = metrics.business_day(row.delivered_at, zone)
    inserted = session.execute(
        upsert(
            session,
            _facts,
            {
                "order_id": order_id,
                "client_phone": row.client_phone,
                "client_name": row.client_name,
                "total": row.total,
                "delivered_at": row.delivered_at,
                "business_date": day,
            },
            ["order_id"],
        ).returning(_facts.c.order_id)
    ).first()
    if inserted is None:
        return False
    for period in loyalty.period_keys(day):
        session.execute(
            upsert(
                session,
                _totals,
                {
                    "period": period,
                    "client_phone": row.client_phone,
                    "client_name": row.client_name,
                    "deliveries": 1,
                    "revenue": row.total,
                    "first_at": row.delivered_at,
                    "last_at": row.delivered_at,
                },
                ["period", "client_phone"],
                update={
                    "deliveries": _totals.c.deliveries + 1,
                    "revenue": lambda st: _totals.c.revenue + st.excluded.revenue,
                    "first_at": lambda st: case(
                        (st.excluded.first_at < _totals.c.first_at, st.excluded.first_at),
                        else_=_totals.c.first_at,
                    ),
                    "last_at": lambda st: case(
                        (st.excluded.last_at > _totals.c.last_at, st.excluded.last_at),
                        else_=_totals.c.last_at,
                    ),
                    "client_name": lambda st: case(
                        (
                            and_(st.excluded.client_name != "", st.excluded.last_at >= _totals.c.last_at),
                            st.excluded.client_name,
                        ),
                        else_=_totals.c.client_name,
                    ),
                },
            )
        )
    return True


def rebuild_loyalty(session: Session, zone: ZoneInfo, chunk: int = 20_000) -> int:
    """Rebuild the projection from the delivered orders (backfill, repair); returns the orders counted."""
    if session.get_bind().dialect.name == "postgresql":
        session.connection().exec_driver_sql(
            "LOCK TABLE monitor_loyalty_facts, monitor_client_totals IN EXCLUSIVE MODE"
        )
    session.execute(delete(_totals))
    session.execute(delete(_facts))
    sums: dict[tuple[str, str], list[Any]] = {}
    facts: list[dict[str, Any]] = []
    counted = 0
    stmt = (
        select(Order.id, Order.client_phone, Order.client_name, Order.total, Order.delivered_at)
        .where(Order.status == "delivered", Order.delivered_at.is_not(None), REAL_ORDER)
        .order_by(Order.delivered_at, Order.id)
        .execution_options(yield_per=chunk)
    )
    for r in session.execute(stmt):
        day = r.delivered_at.astimezone(zone).date()
        facts.append(
            {
                "order_id": r.id,
                "client_phone": r.client_phone,
                "client_name": r.client_name,
                "total": r.total,
                "delivered_at": r.delivered_at,
                "business_date": day,
            }
        )
        for period in loyalty.period_keys(day):
            acc = sums.get((period, r.client_phone))
            if acc is None:
                sums[(period, r.client_phone)] = [r.client_name, 1, r.total, r.delivered_at, r.delivered_at]
            else:
                acc[1] += 1
                acc[2] += r.total
                acc[4] = r.delivered_at  # rows come in delivery order
                if r.client_name:
                    acc[0] = r.client_name
        counted += 1
        if len(facts) >= chunk:
            session.execute(_facts.insert(), facts)
            facts = []
    if facts:
        session.execute(_facts.insert(), facts)
    batch: list[dict[str, Any]] = []
    for (period, phone), (name, n, revenue, first, last) in sums.items():
        batch.append(
            {
                "period": period,
                "client_phone": phone,
                "client_name": name,
                "deliveries": n,
                "revenue": revenue,
                "first_at": first,
                "last_at": last,
            }
        )
        if len(batch) >= chunk:
            session.execute(_totals.insert(), batch)
            batch = []
    if batch:
        session.execute(_totals.insert(), batch)
    return counted


def _totals_row(r: Any) -> loyalty.ClientTotals:
    return loyalty.ClientTotals(
        phone=r.client_phone,
        name=r.client_name or "",
        deliveries=int(r.deliveries),
        revenue=int(r.revenue),
        first_at=as_utc(r.first_at),
        last_at=as_utc(r.last_at),
    )


def _rank_order(columns: Any, by: str) -> tuple[Any, ...]:
    if by == "revenue":
        return (columns.revenue.desc(), columns.deliveries.desc(), columns.client_phone.desc())
    if by == "deliveries":
        return (columns.deliveries.desc(), columns.revenue.desc(), columns.client_phone.desc())
    raise ValueError(f"unknown ranking {by!r}")


def top_clients(
    session: Session, date_from: dt.date | None, date_to: dt.date | None, n: int, by: str = "deliveries"
) -> list[loyalty.ClientTotals]:
    """The ``n`` best clients of a period: one index walk for a whole month, year or all time,
    otherwise a sum over the per-order ledger of the period."""
    bucket = loyalty.bucket_of_range(date_from, date_to)
    t = _totals.c
    if bucket is not None:
        stmt = (
            select(t.client_phone, t.client_name, t.deliveries, t.revenue, t.first_at, t.last_at)
            .where(t.period == bucket)
            .order_by(*_rank_order(t, by))
            .limit(n)
        )
        return [_totals_row(r) for r in session.execute(stmt)]
    f = _facts.c
    where = []
    if date_from is not None:
        where.append(f.business_date >= date_from)
    if date_to is not None:
        where.append(f.business_date <= date_to)
    summed = (
        select(
            f.client_phone.label("client_phone"),
            func.max(f.client_name).label("client_name"),
            func.count().label("deliveries"),
            func.sum(f.total).label("revenue"),
            func.min(f.delivered_at).label("first_at"),
            func.max(f.delivered_at).label("last_at"),
        )
        .where(*where)
        .group_by(f.client_phone)
        .subquery()
    )
    stmt = select(summed).order_by(*_rank_order(summed.c, by)).limit(n)
    return [_totals_row(r) for r in session.execute(stmt)]


def iter_bucket(session: Session, period: str) -> Iterator[loyalty.ClientTotals]:
    """Every client of one projection bucket."""
    t = _totals.c
    stmt = (
        select(t.client_phone, t.client_name, t.deliveries, t.revenue, t.first_at, t.last_at)
        .where(t.period == period)
        .execution_options(yield_per=20_000)
    )
    for r in session.execute(stmt):
        yield _totals_row(r)


def all_time_of(session: Session, phones: Sequence[str]) -> list[loyalty.ClientTotals]:
    """The all-time totals of the given clients."""
    if not phones:
        return []
    t = _totals.c
    stmt = select(t.client_phone, t.client_name, t.deliveries, t.revenue, t.first_at, t.last_at).where(
        t.period == loyalty.ALL_TIME, t.client_phone.in_(list(phones))
    )
    return [_totals_row(r) for r in session.execute(stmt)]
