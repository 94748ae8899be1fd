"""Each organization's revenue: read for the distribution's limits and the backtest, kept up to date
as orders are placed and end unsold."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from frontoffice.db import dialect_of, execute_fast, upsert
from orders.models import REAL_ORDER, Order, OrderReceipt, OrganizationRevenue
from orders.states import OrderStatus

#: Orders that end in these states sold nothing: their receipts leave the revenue.
UNSOLD = frozenset({OrderStatus.CANCELLED, OrderStatus.REJECTED, OrderStatus.FAILED})


# Read for every order taken: built once.
_REVENUE_OF_YEAR = select(OrganizationRevenue.organization_id, OrganizationRevenue.total).where(
    OrganizationRevenue.organization_id.in_(bindparam("ids", expanding=True)),
    OrganizationRevenue.year == bindparam("year"),
)


def revenue_this_year(session: Session, organization_ids: Sequence[int], on: dt.date) -> dict[int, int]:
    """Each organization's sales in ``on``'s calendar year (orders that ended unsold left out)."""
    ids = list(organization_ids)
    if not ids:
        return {}
    rows = execute_fast(session, _REVENUE_OF_YEAR, {"ids": ids, "year": on.year}).all()
    return {org: int(total) for org, total in rows}


def revenue_from_receipts(
    session: Session, organization_ids: Sequence[int], start: dt.date, end: dt.date
) -> dict[int, int]:
    """Each organization's receipts total over business days ``start``..``end`` (unsold left out)."""
    ids = list(organization_ids)
    if not ids:
        return {}
    rows = session.execute(
        select(OrderReceipt.organization_id, func.sum(OrderReceipt.total))
        .join(Order, Order.id == OrderReceipt.order_id)
        .where(
            OrderReceipt.organization_id.in_(ids),
            OrderReceipt.business_date >= start,
            OrderReceipt.business_date <= end,
            Order.status.not_in([s.value for s in UNSOLD]),
            REAL_ORDER,
        )
        .group_by(OrderReceipt.organization_id)
    ).all()
    return {org: int(total or 0) for org, total in rows}


@functools.cache
def _add_revenue_statement(dialect: str) -> Any:
    """The revenue upsert, built once per dialect (it runs for every order taken)."""
    table = OrganizationRevenue.__table__
    return upsert(
        dialect,
        table,
        {
            "organization_id": bindparam("revenue_org"),
            "year": bindparam("revenue_year"),
            "total": bindparam("revenue_amount"),
        },
        ["organization_id", "year"],
        update={"total": lambda st: table.c.total + st.excluded.total},
    )


def add_revenue(session: Session, year: int, amounts: Mapping[int, int]) -> None:
    """Add (or with negative amounts take back) sales to the organizations' yearly revenue."""
    if not amounts:
        return
    stmt = _add_revenue_statement(dialect_of(session))
    for org, amount in sorted(amounts.items()):
        execute_fast(session, stmt, {"revenue_org": org, "revenue_year": year, "revenue_amount": amount})
