"""The :class:`Monitor` of one app: reads the day, keeps the loyalty projection current, answers reports.

It orchestrates: the reads are in :mod:`monitor.services.day`, the projection in
:mod:`monitor.services.projection`, the reports in :mod:`monitor.services.reports`, and the
tiles are built by the pure :mod:`monitor.tiles`. It keeps what is worth caching per process
(the RFM scale of the population, the snapshot's top clients) and which of the other
packages' tables answer; when one is missing the tile that needs it is reported as not
available instead of failing the whole snapshot.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from typing import TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from frontoffice.db import Database, utcnow
from frontoffice.settings import Settings
from monitor import loyalty, metrics, queries, tiles
from monitor.models import LoyaltyFact
from monitor.schemas import (
    PERIODS,
    BranchOut,
    ClientReport,
    LoyalOut,
    OrderChange,
    PerformanceReport,
    SegmentCount,
    SegmentsOut,
    Snapshot,
)
from monitor.services import day as day_reads
from monitor.services import reports
from monitor.services.directory import client_directory
from monitor.services.projection import (
    all_time_of,
    iter_bucket,
    rebuild_loyalty,
    record_delivery,
    top_clients,
)
from monitor.services.zones import ZoneShape, compile_zones, read_zones
from monitor.tiles import DayData, OrganizationAmount
from orders.models import Order

log = logging.getLogger(__name__)

#: How many loyal clients each period of the snapshot lists.
SNAPSHOT_TOP = 10
#: How long the population's RFM scale is reused before they are computed again.
EDGES_TTL_S = 600.0
#: Below this many clients the RFM scale is computed again after every delivery counted here.
SMALL_POPULATION = 1000
#: How long the snapshot's top clients are reused when no delivery was counted in this process.
LOYAL_TTL_S = 60.0

T = TypeVar("T")


class Monitor:
    """The monitor of one app: reads the day, keeps the loyalty projection, answers reports."""

    def __init__(self, db: Database, settings: Settings):
        self.db = db
        self.settings = settings
        self.zone = ZoneInfo(settings.timezone)
        self.place = tiles.Place(
            timezone=settings.timezone,
            currency=settings.currency,
            signal_timeout_s=settings.courier_signal_timeout_s,
        )
        self.probe = queries.TableProbe(db.engine)
        self._scale: tuple[float, loyalty.RfmScale, dict[str, int]] | None = None
        self._scale_lock = threading.Lock()
        self._warned: set[str] = set()
        self._projection_checked = False
        self._loyal: tuple[float, dt.date, dict[str, LoyalOut]] | None = None

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
        with self.db.reading() as s:
            today, older_open, last_week = day_reads.orders_of_day(s, day)
            branches = self.snapshot_branches(s)
            loyal = self.snapshot_loyal(s, now)
        open_orders = [o for o in today if o.status in metrics.OPEN_STATUSES] + older_open
        couriers, names = self._couriers()
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
            fiscal=self._fiscal(),
            organizations=self._organization_revenue(day),
            loyal=loyal,
        )

    def build(self, data: DayData, branch_id: int | None, changes: Sequence[OrderChange] = ()) -> Snapshot:
        """The snapshot of one room (every branch when ``branch_id`` is None) from data already read."""
        return tiles.build_snapshot(data, branch_id, self.place, changes)

    @staticmethod
    def snapshot_branches(session: Session) -> list[BranchOut]:
        """The active branches, for the map and the branch selector."""
        return day_reads.active_branches(session)

    # --- other packages' tables ----------------------------------------------------------------

    def _optional(self, what: str, fn: Callable[[Session], T]) -> T | None:
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

    def _couriers(self) -> tuple[list[metrics.CourierRow] | None, dict[int, str]]:
        if not self.probe.has(*queries.COURIER_TABLES):
            return None, {}
        found = self._optional("couriers", day_reads.couriers_on_shift)
        return found if found is not None else (None, {})

    def _tickets(self, now: dt.datetime) -> tuple[int, int] | None:
        if not self.probe.has(*queries.TICKET_TABLES):
            return None
        return self._optional("tickets", lambda s: day_reads.open_tickets(s, now))

    def _fiscal(self) -> tuple[int, int] | None:
        if not self.probe.has(*queries.FISCAL_TABLES):
            return None
        return self._optional("fiscal receipts", day_reads.fiscal_queue)

    def _organization_revenue(self, day: dt.date) -> list[OrganizationAmount] | None:
        """Delivered revenue of the day per (branch, organization), from the order receipts."""
        if not self.probe.has(*queries.RECEIPT_TABLES):
            return None
        return self._optional("organization revenue", lambda s: day_reads.organization_revenue(s, day))

    def courier_names(self) -> dict[int, str]:
        """Every courier's name by id (none when the couriers cannot be read)."""
        if not self.probe.has(*queries.COURIER_NAME_TABLES):
            return {}
        return self._optional("couriers", day_reads.courier_names) or {}

    def zones(self) -> list[ZoneShape] | None:
        """The delivery zones ready for point-in-polygon tests; None when they cannot be read."""
        if not self.probe.has(*queries.ZONE_TABLES):
            return None
        found = self._optional("zones", read_zones)
        return None if found is None else compile_zones(found)

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
        """Count a delivered order in the loyalty projection (once), in a transaction of its own."""
        with self.db.unit_of_work() as s:
            counted = self.project_delivery(s, order_id)
        if counted:
            self.delivery_counted()
        return counted

    def project_delivery(self, session: Session, order_id: int) -> bool:
        """Count a delivered order in the loyalty projection (once), through ``session`` (the
        relay's transaction)."""
        return record_delivery(session, order_id, self.zone)

    def delivery_counted(self) -> None:
        """A delivery was counted: this process's loyalty snapshot and (young) RFM scale are stale."""
        self._loyal = None
        if self._scale is not None and self._scale[1].population < SMALL_POPULATION:
            # A young population's quintiles move with every delivery; a large one's hardly do.
            self._scale = None

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
        phones = [c.phone for c in found]
        return tiles.loyal_list(
            period,
            date_from,
            date_to,
            by,
            found,
            lifetime={c.phone: c for c in all_time_of(session, phones)},
            scale=scale,
            known=client_directory(session, phones, self.probe),
            now=now,
        )

    # --- reports ------------------------------------------------------------------------------

    def report_period(self, date_from: dt.date | None, date_to: dt.date | None) -> tuple[dt.date, dt.date]:
        """The period of a report: the given dates, by default the last 30 business days."""
        return reports.report_period(date_from, date_to, self.today())

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
        return reports.deliveries_by_client(
            session,
            date_from,
            date_to,
            branch_id=branch_id,
            sort=sort,
            order=order,
            page=page,
            per_page=per_page,
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
        return reports.delivery_performance(
            session,
            date_from,
            date_to,
            branch_id=branch_id,
            group=group,
            courier_names=self.courier_names,
            zones=self.zones,
        )
