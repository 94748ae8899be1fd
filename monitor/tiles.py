"""The monitor's tiles and report rows built from plain values (pure: no Flask, no session).

:class:`DayData` is what one read of the database gives every room; :func:`build_snapshot`
turns it into the :class:`~monitor.schemas.Snapshot` of one room (every branch, or one).
The loyalty list and the rows of the performance report are built here too, from rows the
services read.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from frontoffice.money import from_minor
from monitor import loyalty, metrics
from monitor.schemas import (
    BranchOut,
    CourierOut,
    CouriersOut,
    DeliveryTimesOut,
    FiscalOut,
    HourlyOut,
    LateOrderOut,
    LoyalClientOut,
    LoyalOut,
    MapOrderOut,
    OnTimeOut,
    OrderChange,
    OrganizationRevenue,
    PerformanceRow,
    RevenueOut,
    Snapshot,
    TicketsOut,
)

#: One organization's delivered revenue of the day at one branch: (branch, organization, name, amount).
OrganizationAmount = tuple[int, int | None, str, int]


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
    fiscal: tuple[int, int] | None
    organizations: list[OrganizationAmount] | None
    loyal: dict[str, LoyalOut]


@dataclass(frozen=True)
class Place:
    """Where the snapshot is shown: the business time zone, the currency, the courier signal timeout."""

    timezone: str
    currency: str
    signal_timeout_s: float

    @property
    def zone(self) -> ZoneInfo:
        """The business time zone."""
        return ZoneInfo(self.timezone)


def rate(value: float | None) -> float | None:
    """A share as shown: four decimals, or None when nothing was judged."""
    return None if value is None else round(value, 4)


def average(total: int, count: int) -> int:
    """``total / count`` rounded half up (0 when ``count`` is 0)."""
    return metrics.div_half_up(total, count) if count else 0


def build_snapshot(
    data: DayData, branch_id: int | None, place: Place, changes: Sequence[OrderChange] = ()
) -> Snapshot:
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
        place.zone,
    )
    return Snapshot(
        generated_at=now,
        business_date=data.day,
        timezone=place.timezone,
        currency=place.currency,
        branch_id=branch_id,
        orders_today=len(today),
        orders_by_status=metrics.orders_by_status(today),
        held=sum(1 for o in open_orders if o.status == "on_hold"),
        revenue=RevenueOut(
            total=from_minor(money.total),
            pending=from_minor(money.pending),
            delivered_orders=money.delivered,
            average_check=from_minor(money.average_check),
            by_organization=organizations_tile(data.organizations, branch_id),
        ),
        delivery_time=DeliveryTimesOut(
            count=times.count, average_min=times.average, median_min=times.median, p90_min=times.p90
        ),
        on_time=OnTimeOut(judged=punctual.count, on_time=punctual.on_time, rate=rate(punctual.rate)),
        late=late_tile(late, data.courier_names),
        couriers=couriers_tile(data.couriers, branch_id, now, place.signal_timeout_s),
        tickets=TicketsOut(available=False)
        if data.tickets is None
        else TicketsOut(available=True, open=data.tickets[0], overdue=data.tickets[1]),
        fiscal=FiscalOut(available=False)
        if data.fiscal is None
        else FiscalOut(available=True, waiting=data.fiscal[0], failed=data.fiscal[1]),
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


def late_tile(late: Sequence[metrics.LateOrder], courier_names: Mapping[int, str]) -> list[LateOrderOut]:
    """The late orders, most late first, with their couriers' names."""
    return [
        LateOrderOut(
            order_id=item.order.id,
            number=item.order.number,
            branch_id=item.order.branch_id,
            status=item.order.status,
            promised_at=item.order.promised_at,
            minutes_late=item.minutes_late,
            level=item.level,
            courier_id=item.order.courier_id,
            courier_name=courier_names.get(item.order.courier_id)
            if item.order.courier_id is not None
            else None,
            address=item.order.address,
            client_name=item.order.client_name,
        )
        for item in late
    ]


def couriers_tile(
    couriers: Sequence[metrics.CourierRow] | None,
    branch_id: int | None,
    now: dt.datetime,
    signal_timeout_s: float,
) -> CouriersOut:
    """The couriers on shift serving a room (a courier of no branch serves every room); n/a if unknown."""
    if couriers is None:
        return CouriersOut(available=False)
    mine = [c for c in couriers if branch_id is None or not c.branch_ids or branch_id in c.branch_ids]
    summary = metrics.courier_summary(mine, now, signal_timeout_s)
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


def organizations_tile(
    organizations: Sequence[OrganizationAmount] | None, branch_id: int | None
) -> list[OrganizationRevenue] | None:
    """The day's delivered revenue per organization in a room, largest first; None if unknown."""
    if organizations is None:
        return None
    sums: dict[int | None, int] = defaultdict(int)
    names: dict[int | None, str] = {}
    for branch, org_id, name, amount in organizations:
        if branch_id is None or branch == branch_id:
            sums[org_id] += amount
            names[org_id] = name
    return [
        OrganizationRevenue(organization_id=org_id, name=names[org_id], amount=from_minor(amount))
        for org_id, amount in sorted(sums.items(), key=lambda kv: (-kv[1], names[kv[0]]))
    ]


def loyal_list(
    period: str,
    date_from: dt.date | None,
    date_to: dt.date | None,
    by: str,
    found: Sequence[loyalty.ClientTotals],
    *,
    lifetime: Mapping[str, loyalty.ClientTotals],
    scale: loyalty.RfmScale,
    known: Mapping[str, tuple[int | None, str]],
    now: dt.datetime,
) -> LoyalOut:
    """The ranked top clients of a period, each with the RFM scores of their whole history
    (``lifetime``) and the name and id of the call centre's dossier (``known``) where there is one."""
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
                average_check=from_minor(average(client.revenue, client.deliveries)),
                first_at=client.first_at,
                last_at=client.last_at,
                recency=scores.recency if scores else None,
                frequency=scores.frequency if scores else None,
                monetary=scores.monetary if scores else None,
                segment=scores.segment if scores else None,
            )
        )
    return LoyalOut(period=period, date_from=date_from, date_to=date_to, by=by, clients=out)


def performance_row(key: str, label: str, orders: Sequence[metrics.OrderRow]) -> PerformanceRow:
    """One row of the performance report: delivered and failed orders, revenue, times, punctuality."""
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
        on_time_rate=rate(punctual.rate),
        late=late,
    )
