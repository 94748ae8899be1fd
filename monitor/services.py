"""The monitor's use cases: snapshots of the day, the loyalty projection and its top lists, reports.

Everything here reads; the only writes are the loyalty projection's (``record_delivery``,
``rebuild_loyalty``), which the order events keep current. Other packages' tables are read
through :mod:`monitor.queries`; when one is missing the part that needs it is reported as
not available instead of failing the whole snapshot.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, delete, func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from frontoffice.db import Database, upsert, utcnow
from frontoffice.money import from_minor
from frontoffice.settings import Settings
from monitor import loyalty, metrics, queries
from monitor.models import ClientTotals, LoyaltyFact
from monitor.schemas import (
    PERIODS,
    BranchOut,
    ClientReport,
    ClientReportRow,
    CourierOut,
    CouriersOut,
    DeliveryTimesOut,
    HourlyOut,
    LateOrderOut,
    LoyalClientOut,
    LoyalOut,
    MapOrderOut,
    OnTimeOut,
    OrderChange,
    OrganizationRevenue,
    PerformanceReport,
    PerformanceRow,
    RevenueOut,
    SegmentCount,
    SegmentsOut,
    Snapshot,
    TicketsOut,
)
from orders.models import Branch, Order, OrderEvent

log = logging.getLogger(__name__)

#: How many loyal clients each period of the snapshot lists.
SNAPSHOT_TOP = 10
#: How long the population's RFM scale is reused before they are computed again.
EDGES_TTL_S = 600.0
DEFAULT_REPORT_DAYS = 30
SMALL_POPULATION = 1000
#: How long the snapshot's top clients are reused when no delivery was counted in this process.
LOYAL_TTL_S = 60.0

_ORDER_COLUMNS = (
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


def _order_row(r: Any) -> metrics.OrderRow:
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


@dataclass(frozen=True)
class DayData:
    """What one read of the database gives every room's snapshot."""

    now: dt.datetime
    day: dt.date
    today: list[metrics.OrderRow]
    open_orders: list[metrics.OrderRow]
    last_week: list[tuple[int, dt.datetime]]
    branches: list[BranchOut]
    couriers: list[metrics.CourierRow] | None
    courier_names: dict[int, str]
    tickets: tuple[int, int] | None
    organizations: list[tuple[int, int | None, str, int]] | None
    loyal: dict[str, LoyalOut]


class Monitor:
    """The monitor of one app: reads the day, keeps the loyalty projection, answers reports."""

    def __init__(self, db: Database, settings: Settings):
        self.db = db
        self.settings = settings
        self.zone = ZoneInfo(settings.timezone)
        self.probe = queries.TableProbe(db.engine)
        self._scale: tuple[float, loyalty.RfmScale, dict[str, int]] | None = None
        self._scale_lock = threading.Lock()
        self._warned: set[str] = set()
        self._projection_checked = False
        self._loyal: tuple[float, dt.date, dict[str, LoyalOut]] | None = None

    # --- time ---------------------------------------------------------------------------------

    def today(self, now: dt.datetime | None = None) -> dt.date:
        """The current business date."""
        return metrics.business_day(now or utcnow(), self.zone)

    # --- snapshots ----------------------------------------------------------------------------

    def snapshot(self, branch_id: int | None = None, now: dt.datetime | None = None) -> Snapshot:
        """The monitor of every branch (``None``) or of one."""
        return self.snapshots([branch_id], now)[branch_id]

    def snapshots(
        self,
        branch_ids: Iterable[int | None],
        now: dt.datetime | None = None,
        changes: Sequence[OrderChange] = (),
    ) -> dict[int | None, Snapshot]:
        """Snapshots for several rooms from one read of the database."""
        data = self.read_day(now or utcnow())
        return {b: self.build(data, b, changes) for b in set(branch_ids)}

    def read_day(self, now: dt.datetime) -> DayData:
        """Read everything the snapshots of the business day containing ``now`` need."""
        self.ensure_projection()
        day = metrics.business_day(now, self.zone)
        open_statuses = sorted(metrics.OPEN_STATUSES)
        with self.db.reading() as s:
            today = [
                _order_row(r) for r in s.execute(select(*_ORDER_COLUMNS).where(Order.business_date == day))
            ]
            older_open = [
                _order_row(r)
                for r in s.execute(
                    select(*_ORDER_COLUMNS).where(Order.status.in_(open_statuses), Order.business_date != day)
                )
            ]
            last_week = [
                (r.branch_id, r.created_at)
                for r in s.execute(
                    select(Order.branch_id, Order.created_at).where(
                        Order.business_date == day - dt.timedelta(days=7)
                    )
                )
            ]
            branches = self.snapshot_branches(s)
            loyal = self.snapshot_loyal(s, now)
        open_orders = [o for o in today if o.status in metrics.OPEN_STATUSES] + older_open
        couriers, names = self._couriers(now)
        return DayData(
            now=now,
            day=day,
            today=today,
            open_orders=open_orders,
            last_week=last_week,
            branches=branches,
            couriers=couriers,
            courier_names=names,
            tickets=self._tickets(now),
            organizations=self._organization_revenue(day),
            loyal=loyal,
        )

    def build(self, data: DayData, branch_id: int | None, changes: Sequence[OrderChange] = ()) -> Snapshot:
        """The snapshot of one room (every branch when ``branch_id`` is None) from data already read."""

        def mine(branch: int) -> bool:
            return branch_id is None or branch == branch_id

        today = [o for o in data.today if mine(o.branch_id)]
        open_orders = [o for o in data.open_orders if mine(o.branch_id)]
        now = data.now
        money = metrics.revenue(today)
        times = metrics.delivery_times(today)
        punctual = metrics.on_time(today)
        late = metrics.late_orders(open_orders, now)
        late_level = {item.order.id: item.level for item in late}
        hourly = metrics.hourly_comparison(
            (o.created_at for o in today),
            (at for b, at in data.last_week if mine(b)),
            now,
            self.zone,
        )
        return Snapshot(
            generated_at=now,
            business_date=data.day,
            timezone=self.settings.timezone,
            currency=self.settings.currency,
            branch_id=branch_id,
            orders_today=len(today),
            orders_by_status=metrics.orders_by_status(today),
            held=sum(1 for o in open_orders if o.status == "on_hold"),
            revenue=RevenueOut(
                total=from_minor(money.total),
                pending=from_minor(money.pending),
                delivered_orders=money.delivered,
                average_check=from_minor(money.average_check),
                by_organization=self._organizations_of(data, branch_id),
            ),
            delivery_time=DeliveryTimesOut(
                count=times.count, average_min=times.average, median_min=times.median, p90_min=times.p90
            ),
            on_time=OnTimeOut(judged=punctual.count, on_time=punctual.on_time, rate=_rate(punctual.rate)),
            late=[
                LateOrderOut(
                    order_id=item.order.id,
                    number=item.order.number,
                    branch_id=item.order.branch_id,
                    status=item.order.status,
                    promised_at=item.order.promised_at,
                    minutes_late=item.minutes_late,
                    level=item.level,
                    courier_id=item.order.courier_id,
                    courier_name=data.courier_names.get(item.order.courier_id)
                    if item.order.courier_id is not None
                    else None,
                    address=item.order.address,
                    client_name=item.order.client_name,
                )
                for item in late
            ],
            couriers=self._couriers_of(data, branch_id),
            tickets=TicketsOut(available=False)
            if data.tickets is None
            else TicketsOut(available=True, open=data.tickets[0], overdue=data.tickets[1]),
            hourly=HourlyOut(
                today=list(hourly.today),
                last_week=list(hourly.last_week),
                last_week_date=data.day - dt.timedelta(days=7),
                today_so_far=hourly.today_so_far,
                last_week_same_time=hourly.last_week_same_time,
            ),
            map_orders=[
                MapOrderOut(
                    order_id=o.id,
                    number=o.number,
                    branch_id=o.branch_id,
                    status=o.status,
                    lat=o.lat,
                    lon=o.lon,
                    late_level=late_level.get(o.id),
                )
                for o in open_orders
                if o.kind == "delivery" and o.lat is not None and o.lon is not None
            ],
            branches=data.branches,
            loyal=data.loyal,
            changes=[c for c in changes if mine(c.branch_id)],
        )

    def _couriers_of(self, data: DayData, branch_id: int | None) -> CouriersOut:
        if data.couriers is None:
            return CouriersOut(available=False)
        mine = [
            c for c in data.couriers if branch_id is None or not c.branch_ids or branch_id in c.branch_ids
        ]
        summary = metrics.courier_summary(mine, data.now, self.settings.courier_signal_timeout_s)
        return CouriersOut(
            available=True,
            on_shift=summary.on_shift,
            free=summary.free,
            busy=summary.busy,
            no_signal=summary.no_signal,
            couriers=[
                CourierOut(
                    id=item.courier.id,
                    name=item.courier.name,
                    state=item.state,
                    active_orders=item.courier.active_orders,
                    lat=item.courier.lat,
                    lon=item.courier.lon,
                    last_seen=item.courier.last_seen,
                )
                for item in summary.couriers
            ],
        )

    @staticmethod
    def _organizations_of(data: DayData, branch_id: int | None) -> list[OrganizationRevenue] | None:
        if data.organizations is None:
            return None
        sums: dict[int | None, int] = defaultdict(int)
        names: dict[int | None, str] = {}
        for branch, org_id, name, amount in data.organizations:
            if branch_id is None or branch == branch_id:
                sums[org_id] += amount
                names[org_id] = name
        return [
            OrganizationRevenue(organization_id=org_id, name=names[org_id], amount=from_minor(amount))
            for org_id, amount in sorted(sums.items(), key=lambda kv: (-kv[1], names[kv[0]]))
        ]

    @staticmethod
    def snapshot_branches(session: Session) -> list[BranchOut]:
        """The active branches, for the map and the branch selector."""
        return [
            BranchOut(id=b.id, code=b.code, name=b.name, lat=b.lat, lon=b.lon)
            for b in session.scalars(select(Branch).where(Branch.active.is_(True)).order_by(Branch.id))
        ]

    # --- other packages' tables ----------------------------------------------------------------

    def _optional(self, what: str, fn: Any) -> Any:
        """Run a read of another package's tables; None (n/a) when it fails."""
        try:
            with self.db.reading() as s:
                return fn(s)
        except SQLAlchemyError as exc:
            if what not in self._warned:
                self._warned.add(what)
                log.warning("monitor: %s not available: %s", what, exc.__class__.__name__)
            self.probe.forget()
            return None

    def _couriers(self, now: dt.datetime) -> tuple[list[metrics.CourierRow] | None, dict[int, str]]:
        if not self.probe.has("couriers", "courier_shifts", "courier_positions", "courier_branches"):
            return None, {}

        def read(s: Session) -> tuple[list[metrics.CourierRow], dict[int, str]]:
            c, sh, p = queries.couriers, queries.courier_shifts, queries.courier_positions
            names = {r.id: r.name for r in s.execute(select(c.c.id, c.c.name))}
            rows = s.execute(
                select(c.c.id, c.c.name, p.c.lat, p.c.lon, p.c.recorded_at)
                .select_from(c)
                .join(sh, and_(sh.c.courier_id == c.c.id, sh.c.ended_at.is_(None)))
                .outerjoin(p, p.c.courier_id == c.c.id)
            ).all()
            ids = [r.id for r in rows]
            active: dict[int, int] = {}
            branches: dict[int, list[int]] = defaultdict(list)
            if ids:
                active = dict(
                    s.execute(
                        select(Order.courier_id, func.count())
                        .where(
                            Order.courier_id.in_(ids),
                            Order.status.in_(sorted(metrics.COURIER_BUSY_STATUSES)),
                        )
                        .group_by(Order.courier_id)
                    ).all()
                )
                cb = queries.courier_branches
                for courier_id, branch in s.execute(
                    select(cb.c.courier_id, cb.c.branch_id).where(cb.c.courier_id.in_(ids))
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

        found = self._optional("couriers", read)
        return found if found is not None else (None, {})

    def _tickets(self, now: dt.datetime) -> tuple[int, int] | None:
        if not self.probe.has("tickets"):
            return None
        t = queries.tickets
        is_open = t.c.status.in_(queries.OPEN_TICKET_STATUSES)

        def read(s: Session) -> tuple[int, int]:
            row = s.execute(
                select(
                    func.count(),
                    func.coalesce(func.sum(case((t.c.due_at < now, 1), else_=0)), 0),
                ).where(is_open)
            ).one()
            return int(row[0]), int(row[1])

        return self._optional("tickets", read)

    def _organization_revenue(self, day: dt.date) -> list[tuple[int, int | None, str, int]] | None:
        """Delivered revenue of the day per (branch, organization), from the order receipts."""
        if not self.probe.has(*queries.RECEIPT_TABLES):
            return None

        def read(s: Session) -> list[tuple[int, int | None, str, int]]:
            return [
                (r.branch_id, r.organization_id, r.name or f"#{r.organization_id}", int(r.amount or 0))
                for r in s.execute(queries.organization_revenue(day))
            ]

        return self._optional("organization revenue", read)

    # --- loyalty ------------------------------------------------------------------------------

    def ensure_projection(self) -> None:
        """Build the loyalty projection once if it is empty while delivered orders exist."""
        if self._projection_checked:
            return
        self._projection_checked = True
        with self.db.reading() as s:
            counted = s.scalar(select(LoyaltyFact.order_id).limit(1)) is not None
            delivered = s.scalar(select(Order.id).where(Order.status == "delivered").limit(1)) is not None
        if delivered and not counted:
            with self.db.unit_of_work() as s:
                if s.scalar(select(LoyaltyFact.order_id).limit(1)) is None:
                    rebuild_loyalty(s, self.zone)
            self._loyal = None

    def snapshot_loyal(self, session: Session, now: dt.datetime) -> dict[str, LoyalOut]:
        """The snapshot's top clients per period, reused until a delivery here or for a minute
        (deliveries counted by another process show within that minute)."""
        day = self.today(now)
        cached = self._loyal
        if cached is not None and cached[1] == day and time.monotonic() - cached[0] < LOYAL_TTL_S:
            return cached[2]
        loyal = {p: self.loyal(session, p, SNAPSHOT_TOP, now=now) for p in PERIODS}
        self._loyal = (time.monotonic(), day, loyal)
        return loyal

    def record_delivery(self, order_id: int) -> bool:
        """Count a delivered order in the loyalty projection (once)."""
        with self.db.unit_of_work() as s:
            counted = record_delivery(s, order_id, self.zone)
        if counted:
            self._loyal = None
        if counted and self._scale is not None and self._scale[1].population < SMALL_POPULATION:
            # A young population's quintiles move with every delivery; a large one's hardly do.
            self._scale = None
        return counted

    def scale(self, session: Session, now: dt.datetime) -> tuple[loyalty.RfmScale, dict[str, int]]:
        """The population's RFM scale and segment sizes (computed at most every ten minutes)."""
        cached = self._scale
        if cached is not None and time.monotonic() - cached[0] < EDGES_TTL_S:
            return cached[1], cached[2]
        with self._scale_lock:
            cached = self._scale
            if cached is not None and time.monotonic() - cached[0] < EDGES_TTL_S:
                return cached[1], cached[2]
            population = list(iter_bucket(session, loyalty.ALL_TIME))
            scale = loyalty.scale_of(population, now)
            sizes = dict.fromkeys(loyalty.SEGMENTS, 0)
            for client in population:
                sizes[loyalty.rfm(client, scale, now).segment] += 1
            self._scale = (time.monotonic(), scale, sizes)
            return scale, sizes

    def forget_scale(self) -> None:
        """Recompute the RFM scale on next use."""
        self._scale = None

    def segments(self, session: Session, now: dt.datetime | None = None) -> SegmentsOut:
        """How many clients fall in each RFM segment."""
        scale, sizes = self.scale(session, now or utcnow())
        return SegmentsOut(
            population=scale.population,
            segments=[SegmentCount(segment=name, clients=sizes[name]) for name in loyalty.SEGMENTS],
        )

    def loyal(
        self,
        session: Session,
        period: str = "month",
        limit: int = 50,
        *,
        by: str = "deliveries",
        date_from: dt.date | None = None,
        date_to: dt.date | None = None,
        now: dt.datetime | None = None,
    ) -> LoyalOut:
        """The top clients of a named period (``month``, ``year``, ``all``) or of a custom range."""
        now = now or utcnow()
        if period != "custom":
            date_from, date_to = loyalty.period_range(period, self.today(now))
        found = top_clients(session, date_from, date_to, limit, by)
        scale, _ = self.scale(session, now)
        lifetime = {c.phone: c for c in all_time_of(session, [c.phone for c in found])}
        known = client_directory(session, [c.phone for c in found], self.probe)
        out = []
        for rank, client in enumerate(found, start=1):
            whole = lifetime.get(client.phone)
            scores = loyalty.rfm(whole, scale, now) if whole is not None else None
            client_id, name = known.get(client.phone, (None, ""))
            out.append(
                LoyalClientOut(
                    rank=rank,
                    phone=client.phone,
                    name=name or client.name,
                    client_id=client_id,
                    deliveries=client.deliveries,
                    revenue=from_minor(client.revenue),
                    average_check=from_minor(_avg(client.revenue, client.deliveries)),
                    first_at=client.first_at,
                    last_at=client.last_at,
                    recency=scores.recency if scores else None,
                    frequency=scores.frequency if scores else None,
                    monetary=scores.monetary if scores else None,
                    segment=scores.segment if scores else None,
                )
            )
        return LoyalOut(period=period, date_from=date_from, date_to=date_to, by=by, clients=out)

    # --- reports ------------------------------------------------------------------------------

    def report_period(self, date_from: dt.date | None, date_to: dt.date | None) -> tuple[dt.date, dt.date]:
        """The period of a report: the given dates, by default the last 30 business days."""
        date_to = date_to or (date_from + dt.timedelta(days=DEFAULT_REPORT_DAYS - 1) if date_from else None)
        date_to = date_to or self.today()
        date_from = date_from or date_to - dt.timedelta(days=DEFAULT_REPORT_DAYS - 1)
        return date_from, date_to

    def deliveries_by_client(
        self,
        session: Session,
        date_from: dt.date | None = None,
        date_to: dt.date | None = None,
        *,
        branch_id: int | None = None,
        sort: str = "deliveries",
        order: str = "desc",
        page: int | None = 1,
        per_page: int = 50,
    ) -> ClientReport:
        """Deliveries by client: per client deliveries, sum, average check, first, last, share."""
        date_from, date_to = self.report_period(date_from, date_to)
        where = [
            Order.status == "delivered",
            Order.business_date >= date_from,
            Order.business_date <= date_to,
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
                average_check=from_minor(_avg(int(r.revenue), r.deliveries)),
                first_at=_aware(r.first_at),
                last_at=_aware(r.last_at),
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
        self,
        session: Session,
        date_from: dt.date | None = None,
        date_to: dt.date | None = None,
        *,
        branch_id: int | None = None,
        group: str = "day",
    ) -> PerformanceReport:
        """Delivered and failed orders of a period, their times and punctuality, per group."""
        date_from, date_to = self.report_period(date_from, date_to)
        where = [
            Order.status.in_(("delivered", "failed")),
            Order.business_date >= date_from,
            Order.business_date <= date_to,
        ]
        if branch_id is not None:
            where.append(Order.branch_id == branch_id)
        rows = session.execute(
            select(*_ORDER_COLUMNS, Order.business_date).where(*where).order_by(Order.id)
        ).all()
        labeller = self._grouping(session, group, rows, date_from, date_to)
        if labeller is None:
            empty = _performance_row("total", "Total", [])
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
            row = _order_row(r)
            everything.append(row)
            grouped.setdefault(key_of(r), []).append(row)
        keys = list(order_keys) + sorted(k for k in grouped if k not in set(order_keys))
        return PerformanceReport(
            date_from=date_from,
            date_to=date_to,
            branch_id=branch_id,
            group=group,
            available=True,
            rows=[_performance_row(k, labels.get(k, k), grouped[k]) for k in keys],
            total=_performance_row("total", "Total", everything),
        )

    def _grouping(
        self, session: Session, group: str, rows: Sequence[Any], date_from: dt.date, date_to: dt.date
    ) -> tuple[Any, dict[str, str], list[str]] | None:
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
            names: dict[int, str] = {}
            if self.probe.has("couriers"):
                found = self._optional(
                    "couriers",
                    lambda s: dict(s.execute(select(queries.couriers.c.id, queries.couriers.c.name)).all()),
                )
                names = found or {}
            labels = {str(i): n for i, n in names.items()}
            labels["none"] = "(no courier)"
            return (lambda r: str(r.courier_id) if r.courier_id is not None else "none"), labels, []
        if group == "zone":
            zones = self._zones()
            if zones is None:
                return None
            labels = {str(z.id): z.name for z in zones}
            labels["none"] = "(outside every zone)"
            recorded = recorded_zones(session, [r.id for r in rows])

            def zone_key(r: Any) -> str:
                # The zone the order was taken in, as recorded then; else where its point lies now.
                found = recorded.get(r.id)
                return (
                    str(found)
                    if found is not None and str(found) in labels
                    else zone_of(zones, r.lat, r.lon, r.branch_id)
                )

            return zone_key, labels, []
        raise ValueError(f"unknown grouping {group!r}")

    def _zones(self) -> list[Any] | None:
        if not self.probe.has("delivery_zones"):
            return None
        z = queries.delivery_zones

        def read(s: Session) -> list[Any]:
            return s.execute(select(z.c.id, z.c.branch_id, z.c.name, z.c.geometry).order_by(z.c.id)).all()

        found = self._optional("zones", read)
        return None if found is None else compile_zones(found)


# --- zones (point in polygon with shapely) ------------------------------------------------------


def recorded_zones(session: Session, order_ids: Sequence[int], chunk: int = 5_000) -> dict[int, int]:
    """The zone each order was taken in, where placement recorded one (``zone_id`` in the payload
    of the order's ``created`` audit event)."""
    found: dict[int, int] = {}
    for start in range(0, len(order_ids), chunk):
        part = order_ids[start : start + chunk]
        rows = session.execute(
            select(OrderEvent.order_id, OrderEvent.payload).where(
                OrderEvent.kind == "created", OrderEvent.order_id.in_(part)
            )
        )
        for order_id, payload in rows:
            zone = (payload or {}).get("zone_id") if isinstance(payload, dict) else None
            if isinstance(zone, int):
                found[order_id] = zone
    return found


@dataclass(frozen=True)
class _Zone:
    id: int
    branch_id: int
    name: str
    shape: Any


def compile_zones(rows: Iterable[Any]) -> list[_Zone]:
    """Zones with their GeoJSON geometry prepared for point-in-polygon tests."""
    import json

    from shapely.geometry import shape
    from shapely.prepared import prep

    out = []
    for r in rows:
        geometry = json.loads(r.geometry) if isinstance(r.geometry, str) else r.geometry
        try:
            out.append(_Zone(r.id, r.branch_id, r.name, prep(shape(geometry))))
        except (ValueError, TypeError, KeyError, AttributeError):
            log.warning("monitor: zone %s has an unreadable geometry", r.id)
    return out


def zone_of(zones: Sequence[_Zone], lat: float | None, lon: float | None, branch_id: int) -> str:
    """The id (as text) of the zone holding a point, the order's own branch first; ``none`` otherwise."""
    if lat is None or lon is None:
        return "none"
    from shapely.geometry import Point

    point = Point(lon, lat)
    for z in sorted(zones, key=lambda z: z.branch_id != branch_id):
        if z.shape.contains(point):
            return str(z.id)
    return "none"


# --- report helpers -----------------------------------------------------------------------------


def _performance_row(key: str, label: str, orders: Sequence[metrics.OrderRow]) -> PerformanceRow:
    delivered = [o for o in orders if o.status == "delivered"]
    times = metrics.delivery_times(delivered)
    punctual = metrics.on_time(delivered)
    late = sum(
        1
        for o in delivered
        if o.promised_at is not None and o.delivered_at is not None and o.delivered_at > o.promised_at
    )
    return PerformanceRow(
        key=key,
        label=label,
        delivered=len(delivered),
        failed=sum(1 for o in orders if o.status == "failed"),
        revenue=from_minor(sum(o.total for o in delivered)),
        average_min=times.average,
        median_min=times.median,
        p90_min=times.p90,
        on_time_rate=_rate(punctual.rate),
        late=late,
    )


def _rate(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _avg(total: int, count: int) -> int:
    return metrics.div_half_up(total, count) if count else 0


def _aware(value: Any) -> dt.datetime:
    """Aggregates (min/max) of a UTC column come back naive on SQLite, sometimes as text."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


# --- the loyalty projection ---------------------------------------------------------------------

_facts = LoyaltyFact.__table__
_totals = ClientTotals.__table__


def record_delivery(session: Session, order_id: int, zone: ZoneInfo) -> bool:
    """Count one delivered order in the projection; False if it is not delivered or already counted."""
    row = session.execute(
        select(Order.client_phone, Order.client_name, Order.total, Order.delivered_at, Order.status).where(
            Order.id == order_id
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
        .where(Order.status == "delivered", Order.delivered_at.is_not(None))
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
        first_at=_aware(r.first_at),
        last_at=_aware(r.last_at),
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


def client_directory(
    session: Session, phones: Sequence[str], probe: queries.TableProbe
) -> dict[str, tuple[int | None, str]]:
    """Client id and name of the call centre's dossier per phone (merged clients followed), if any."""
    if not phones or not probe.has("clients"):
        return {}
    c = queries.clients
    try:
        with session.begin_nested():
            rows = session.execute(
                select(c.c.id, c.c.phone, c.c.name, c.c.merged_into_id).where(c.c.phone.in_(list(phones)))
            ).all()
            survivors = {r.merged_into_id for r in rows if r.merged_into_id is not None}
            into = {}
            if survivors:
                into = {
                    r.id: (r.id, r.name)
                    for r in session.execute(select(c.c.id, c.c.name).where(c.c.id.in_(survivors)))
                }
    except SQLAlchemyError:
        probe.forget()
        return {}
    out: dict[str, tuple[int | None, str]] = {}
    for r in rows:
        if r.merged_into_id is not None and r.merged_into_id in into:
            out[r.phone] = into[r.merged_into_id]
        else:
            out[r.phone] = (r.id, r.name or "")
    return out
