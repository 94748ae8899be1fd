"""The managers' reports: deliveries by client, and delivery performance per day, branch, courier or zone."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from frontoffice.money import from_minor
from monitor import metrics
from monitor.schemas import ClientReport, ClientReportRow, PerformanceReport
from monitor.services.day import ORDER_COLUMNS, order_row
from monitor.services.projection import as_utc
from monitor.services.zones import ZoneShape, recorded_zones, zone_of
from monitor.tiles import average, performance_row
from orders.models import REAL_ORDER, Branch, Order

#: A report's length when no period is given: the last 30 business days.
DEFAULT_REPORT_DAYS = 30

#: How the performance report keys each order, labels each key, and which keys come first.
Grouping = tuple[Callable[[Any], str], dict[str, str], list[str]]


def report_period(
    date_from: dt.date | None, date_to: dt.date | None, today: dt.date
) -> tuple[dt.date, dt.date]:
    """The period of a report: the given dates, by default the last 30 business days up to ``today``."""
    date_to = date_to or (date_from + dt.timedelta(days=DEFAULT_REPORT_DAYS - 1) if date_from else None)
    date_to = date_to or today
    date_from = date_from or date_to - dt.timedelta(days=DEFAULT_REPORT_DAYS - 1)
    return date_from, date_to


def deliveries_by_client(
    session: Session,
    date_from: dt.date,
    date_to: dt.date,
    *,
    branch_id: int | None = None,
    sort: str = "deliveries",
    order: str = "desc",
    page: int | None = 1,
    per_page: int = 50,
) -> ClientReport:
    """Deliveries by client: per client deliveries, sum, average check, first, last, share."""
    where = [
        Order.status == "delivered",
        Order.business_date >= date_from,
        Order.business_date <= date_to,
        REAL_ORDER,
    ]
    if branch_id is not None:
        where.append(Order.branch_id == branch_id)
    totals = session.execute(
        select(
            func.count(func.distinct(Order.client_phone)),
            func.count(),
            func.coalesce(func.sum(Order.total), 0),
        ).where(*where)
    ).one()
    clients, deliveries, revenue = int(totals[0]), int(totals[1]), int(totals[2])
    count = func.count().label("deliveries")
    money = func.sum(Order.total).label("revenue")
    first = func.min(Order.delivered_at).label("first_at")
    last = func.max(Order.delivered_at).label("last_at")
    name = func.max(Order.client_name).label("name")
    keys = {
        "deliveries": count,
        "revenue": money,
        "share": money,
        "average_check": func.sum(Order.total) * 1.0 / func.count(),
        "first_at": first,
        "last_at": last,
        "name": name,
        "phone": Order.client_phone,
    }
    key = keys[sort]
    direction = key.desc() if order == "desc" else key.asc()
    tiebreak = Order.client_phone.asc()
    stmt = (
        select(Order.client_phone, name, count, money, first, last)
        .where(*where)
        .group_by(Order.client_phone)
        .order_by(direction, tiebreak)
    )
    if page is not None:
        stmt = stmt.limit(per_page).offset((page - 1) * per_page)
    rows = [
        ClientReportRow(
            phone=r.client_phone,
            name=r.name or "",
            deliveries=r.deliveries,
            revenue=from_minor(int(r.revenue)),
            average_check=from_minor(average(int(r.revenue), r.deliveries)),
            first_at=as_utc(r.first_at),
            last_at=as_utc(r.last_at),
            share=metrics.share(int(r.revenue), revenue),
        )
        for r in session.execute(stmt)
    ]
    return ClientReport(
        date_from=date_from,
        date_to=date_to,
        branch_id=branch_id,
        clients=clients,
        deliveries=deliveries,
        revenue=from_minor(revenue),
        sort=sort,
        order=order,
        page=page or 1,
        per_page=per_page if page is not None else max(len(rows), 1),
        rows=rows,
    )


def delivery_performance(
    session: Session,
    date_from: dt.date,
    date_to: dt.date,
    *,
    branch_id: int | None = None,
    group: str = "day",
    courier_names: Callable[[], dict[int, str]],
    zones: Callable[[], list[ZoneShape] | None],
) -> PerformanceReport:
    """Delivered and failed orders of a period, their times and punctuality, per group.

    ``courier_names`` and ``zones`` are asked only when the report is grouped by them
    (``zones`` answers None when the zones cannot be read: the report is then not available).
    """
    where = [
        Order.status.in_(("delivered", "failed")),
        Order.business_date >= date_from,
        Order.business_date <= date_to,
        REAL_ORDER,
    ]
    if branch_id is not None:
        where.append(Order.branch_id == branch_id)
    rows = session.execute(select(*ORDER_COLUMNS, Order.business_date).where(*where).order_by(Order.id)).all()
    labeller = grouping(session, group, rows, date_from, date_to, courier_names=courier_names, zones=zones)
    if labeller is None:
        empty = performance_row("total", "Total", [])
        return PerformanceReport(
            date_from=date_from,
            date_to=date_to,
            branch_id=branch_id,
            group=group,
            available=False,
            rows=[],
            total=empty,
        )
    key_of, labels, order_keys = labeller
    grouped: dict[str, list[metrics.OrderRow]] = {k: [] for k in order_keys}
    everything = []
    for r in rows:
        row = order_row(r)
        everything.append(row)
        grouped.setdefault(key_of(r), []).append(row)
    keys = list(order_keys) + sorted(k for k in grouped if k not in set(order_keys))
    return PerformanceReport(
        date_from=date_from,
        date_to=date_to,
        branch_id=branch_id,
        group=group,
        available=True,
        rows=[performance_row(k, labels.get(k, k), grouped[k]) for k in keys],
        total=performance_row("total", "Total", everything),
    )


def grouping(
    session: Session,
    group: str,
    rows: Sequence[Any],
    date_from: dt.date,
    date_to: dt.date,
    *,
    courier_names: Callable[[], dict[int, str]],
    zones: Callable[[], list[ZoneShape] | None],
) -> Grouping | None:
    """How to key and label each order of the performance report, or None when not available."""
    if group == "day":
        days = []
        day = date_from
        while day <= date_to:
            days.append(day.isoformat())
            day += dt.timedelta(days=1)
        return (lambda r: r.business_date.isoformat()), {d: d for d in days}, days
    if group == "branch":
        branches = session.execute(select(Branch.id, Branch.code, Branch.name).order_by(Branch.id)).all()
        labels = {str(b.id): f"{b.code} — {b.name}" for b in branches}
        return (lambda r: str(r.branch_id)), labels, []
    if group == "courier":
        labels = {str(i): n for i, n in courier_names().items()}
        labels["none"] = "(no courier)"
        return (lambda r: str(r.courier_id) if r.courier_id is not None else "none"), labels, []
    if group == "zone":
        shapes = zones()
        if shapes is None:
            return None
        labels = {str(z.id): z.name for z in shapes}
        labels["none"] = "(outside every zone)"
        recorded = recorded_zones(session, [r.id for r in rows])

        def zone_key(r: Any) -> str:
            # The zone the order was taken in, as recorded then; else where its point lies now.
            found = recorded.get(r.id)
            return (
                str(found)
                if found is not None and str(found) in labels
                else zone_of(shapes, r.lat, r.lon, r.branch_id)
            )

        return zone_key, labels, []
    raise ValueError(f"unknown grouping {group!r}")
