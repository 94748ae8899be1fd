"""The monitor's JSON API: the snapshot, loyalty, reports (managers and admins)."""

from __future__ import annotations

from flask import Blueprint

from frontoffice.api import endpoint
from frontoffice.auth import branch_scope, scoped_branch
from frontoffice.kernel import current_kernel
from frontoffice.models import Role
from monitor.ports import MONITOR
from monitor.schemas import (
    ClientReport,
    ClientReportQuery,
    LoyalOut,
    LoyaltyQuery,
    PerformanceQuery,
    PerformanceReport,
    SegmentsOut,
    Snapshot,
    SnapshotQuery,
)
from monitor.services import Monitor

bp = Blueprint("monitor_api", __name__, url_prefix="/api/v1")

MANAGERS = {Role.MANAGER}


def _monitor() -> Monitor:
    return current_kernel().extensions.get(MONITOR)


@endpoint(
    bp,
    "/monitor/snapshot",
    roles=MANAGERS,
    query=SnapshotQuery,
    response=Snapshot,
    summary="Everything the live monitor shows, now",
    tags=["monitor"],
    errors=(404,),
    description="The same document the `/monitor` Socket.IO namespace sends as `snapshot` on connect "
    "and as `metrics_updated` afterwards.",
)
def snapshot(query: SnapshotQuery) -> Snapshot:
    """The monitor of every branch, or of one."""
    return _monitor().snapshot(scoped_branch(branch_scope(), query.branch_id))


@endpoint(
    bp,
    "/monitor/loyalty",
    roles=MANAGERS,
    query=LoyaltyQuery,
    response=LoyalOut,
    summary="The most loyal clients of a period, with RFM scores and segments",
    tags=["monitor"],
    description="`period` is `month`, `year` or `all` (to date) or `custom` with `date_from`/`date_to` "
    "(business dates). Ranked by deliveries then money, or by money then deliveries (`by`).",
)
def loyalty(query: LoyaltyQuery) -> LoyalOut:
    """The top clients."""
    m = _monitor()
    with m.db.reading() as s:
        return m.loyal(
            s, query.period, query.limit, by=query.by, date_from=query.date_from, date_to=query.date_to
        )


@endpoint(
    bp,
    "/monitor/loyalty/segments",
    roles=MANAGERS,
    response=SegmentsOut,
    summary="How many clients are in each RFM segment",
    tags=["monitor"],
)
def segments() -> SegmentsOut:
    """Segment sizes (recomputed at most every ten minutes)."""
    m = _monitor()
    with m.db.reading() as s:
        return m.segments(s)


@endpoint(
    bp,
    "/reports/deliveries-by-client",
    roles=MANAGERS,
    query=ClientReportQuery,
    response=ClientReport,
    summary="Deliveries by client: deliveries, sum, average check, first and last, share of revenue",
    tags=["reports"],
    errors=(404,),
    description="Delivered orders of the period (business dates, default the last 30 days), per client "
    "phone. Sort by any column; CSV at `/monitor/reports/clients.csv` with the same parameters.",
)
def deliveries_by_client(query: ClientReportQuery) -> ClientReport:
    """The report, one page."""
    m = _monitor()
    with m.db.reading() as s:
        return m.deliveries_by_client(
            s,
            query.date_from,
            query.date_to,
            branch_id=scoped_branch(branch_scope(), query.branch_id),
            sort=query.sort,
            order=query.order,
            page=query.page,
            per_page=query.per_page,
        )


@endpoint(
    bp,
    "/reports/delivery-performance",
    roles=MANAGERS,
    query=PerformanceQuery,
    response=PerformanceReport,
    summary="Delivery performance per courier, zone, branch or day",
    tags=["reports"],
    errors=(404,),
    description="Delivered and failed orders of the period: counts, revenue, delivery time "
    "(average, median, 90th percentile), on-time rate and late deliveries. Zones are found by "
    "the order's coordinates in the delivery zones' polygons.",
)
def delivery_performance(query: PerformanceQuery) -> PerformanceReport:
    """The report."""
    m = _monitor()
    with m.db.reading() as s:
        return m.delivery_performance(
            s,
            query.date_from,
            query.date_to,
            branch_id=scoped_branch(branch_scope(), query.branch_id),
            group=query.group,
        )
