"""Reads of the business day: the orders, the branches, and the other packages' tiles.

Each function takes an open session and returns plain rows (:mod:`monitor.metrics`); the
:class:`~monitor.services.monitor.Monitor` decides which tiles are available and caches.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from backoffice.models import Ticket
from backoffice.sla import OPEN_STATES
from couriers.models import Courier, CourierBranch, CourierPosition, CourierShift
from fiscal.models import FiscalReceipt, ReceiptState
from monitor import metrics
from monitor.schemas import BranchOut
from monitor.tiles import OrganizationAmount
from orders.models import REAL_ORDER, Branch, Order, OrderReceipt

#: The order columns every metric and report reads (see :func:`order_row`).
ORDER_COLUMNS = (
    Order.id,
    Order.number,
    Order.branch_id,
    Order.status,
    Order.total,
    Order.created_at,
    Order.promised_at,
    Order.delivered_at,
    Order.kind,
    Order.courier_id,
    Order.lat,
    Order.lon,
    Order.address_text,
    Order.client_name,
)
#: Ticket states counted as open on the tickets tile.
OPEN_TICKET_STATUSES = tuple(sorted(str(s) for s in OPEN_STATES))


def order_row(r: Any) -> metrics.OrderRow:
    """The metrics' view of a row selected with :data:`ORDER_COLUMNS`."""
    return metrics.OrderRow(
        id=r.id,
        number=r.number,
        branch_id=r.branch_id,
        status=r.status,
        total=r.total,
        created_at=r.created_at,
        promised_at=r.promised_at,
        delivered_at=r.delivered_at,
        kind=r.kind,
        courier_id=r.courier_id,
        lat=r.lat,
        lon=r.lon,
        address=r.address_text,
        client_name=r.client_name,
    )


def orders_of_day(
    session: Session, day: dt.date
) -> tuple[list[metrics.OrderRow], list[metrics.OrderRow], list[tuple[int, dt.datetime]]]:
    """The orders of a business day, the orders of earlier days still open, and (branch, created)
    of the orders of the same day a week before."""
    today = [
        order_row(r)
        for r in session.execute(select(*ORDER_COLUMNS).where(Order.business_date == day, REAL_ORDER))
    ]
    older_open = [
        order_row(r)
        for r in session.execute(
            select(*ORDER_COLUMNS).where(
                Order.status.in_(sorted(metrics.OPEN_STATUSES)), Order.business_date != day, REAL_ORDER
            )
        )
    ]
    last_week = [
        (r.branch_id, r.created_at)
        for r in session.execute(
            select(Order.branch_id, Order.created_at).where(
                Order.business_date == day - dt.timedelta(days=7), REAL_ORDER
            )
        )
    ]
    return today, older_open, last_week


def active_branches(session: Session) -> list[BranchOut]:
    """The active branches, for the map and the branch selector."""
    return [
        BranchOut(id=b.id, code=b.code, name=b.name, lat=b.lat, lon=b.lon)
        for b in session.scalars(select(Branch).where(Branch.active.is_(True)).order_by(Branch.id))
    ]


def courier_names(session: Session) -> dict[int, str]:
    """Every courier's name by id."""
    return dict(session.execute(select(Courier.id, Courier.name)).all())


def couriers_on_shift(session: Session) -> tuple[list[metrics.CourierRow], dict[int, str]]:
    """The couriers with an open shift (latest position, active orders, branches), and every
    courier's name by id."""
    names = courier_names(session)
    rows = session.execute(
        select(
            Courier.id, Courier.name, CourierPosition.lat, CourierPosition.lon, CourierPosition.recorded_at
        )
        .select_from(Courier)
        .join(CourierShift, and_(CourierShift.courier_id == Courier.id, CourierShift.ended_at.is_(None)))
        .outerjoin(CourierPosition, CourierPosition.courier_id == Courier.id)
    ).all()
    ids = [r.id for r in rows]
    active: dict[int, int] = {}
    branches: dict[int, list[int]] = defaultdict(list)
    if ids:
        active = dict(
            session.execute(
                select(Order.courier_id, func.count())
                .where(
                    Order.courier_id.in_(ids),
                    Order.status.in_(sorted(metrics.COURIER_BUSY_STATUSES)),
                )
                .group_by(Order.courier_id)
            ).all()
        )
        for courier_id, branch in session.execute(
            select(CourierBranch.courier_id, CourierBranch.branch_id).where(CourierBranch.courier_id.in_(ids))
        ):
            branches[courier_id].append(branch)
    couriers = [
        metrics.CourierRow(
            id=r.id,
            name=r.name,
            active_orders=active.get(r.id, 0),
            last_seen=r.recorded_at,
            lat=r.lat,
            lon=r.lon,
            branch_ids=tuple(sorted(branches.get(r.id, ()))),
        )
        for r in rows
    ]
    return couriers, names


def open_tickets(session: Session, now: dt.datetime) -> tuple[int, int]:
    """How many tickets are open, and how many of them are past their deadline."""
    row = session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(case((Ticket.due_at < now, 1), else_=0)), 0),
        ).where(Ticket.status.in_(OPEN_TICKET_STATUSES))
    ).one()
    return int(row[0]), int(row[1])


def fiscal_queue(session: Session) -> tuple[int, int]:
    """Receipts not fiscalized yet: how many wait (to be sent, or for the register's answer), and
    how many failed (a manager resends them from the fiscal queue)."""
    row = session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(case((FiscalReceipt.state == ReceiptState.FAILED, 1), else_=0)), 0),
        ).where(FiscalReceipt.state != ReceiptState.DONE)
    ).one()
    return int(row[0]) - int(row[1]), int(row[1])


def organization_revenue(session: Session, day: dt.date) -> list[OrganizationAmount]:
    """Delivered revenue of a business day per (branch, organization), from the order receipts."""
    r = OrderReceipt
    stmt = (
        select(
            Order.branch_id,
            r.organization_id,
            func.max(r.organization_name).label("name"),
            func.sum(r.total).label("amount"),
        )
        .select_from(r)
        .join(Order, Order.id == r.order_id)
        .where(Order.business_date == day, Order.status == "delivered", REAL_ORDER)
        .group_by(Order.branch_id, r.organization_id)
    )
    return [
        (row.branch_id, row.organization_id, row.name or f"#{row.organization_id}", int(row.amount or 0))
        for row in session.execute(stmt)
    ]
