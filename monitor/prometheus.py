"""The monitor's gauges for ``/metrics``: orders by status, late orders, the monitor's screens."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from sqlalchemy import func, select

from frontoffice.db import utcnow
from monitor import metrics
from orders.models import REAL_ORDER, Order


def collector(monitor: Any, hub: Any) -> Callable[[], Iterable[Any]]:
    """A collector reading today's orders by status and the open ones, on each scrape."""

    def collect() -> Iterable[Any]:
        now = utcnow()
        day = monitor.today(now)
        today = GaugeMetricFamily(
            "frontoffice_orders_today",
            "Orders of the current business day, by status.",
            labels=["status"],
        )
        open_orders = GaugeMetricFamily(
            "frontoffice_orders_open",
            "Open orders of any day, by status.",
            labels=["status"],
        )
        late = GaugeMetricFamily("frontoffice_orders_late", "Open orders past their promised time.")
        with monitor.db.reading() as s:
            counts = dict(
                s.execute(
                    select(Order.status, func.count())
                    .where(Order.business_date == day, REAL_ORDER)
                    .group_by(Order.status)
                ).all()
            )
            opened = dict(
                s.execute(
                    select(Order.status, func.count())
                    .where(Order.status.in_(sorted(metrics.OPEN_STATUSES)), REAL_ORDER)
                    .group_by(Order.status)
                ).all()
            )
            overdue = s.scalar(
                select(func.count()).where(
                    Order.status.in_(sorted(metrics.OPEN_STATUSES)), Order.promised_at < now, REAL_ORDER
                )
            )
        for status in metrics.STATUSES:
            today.add_metric([status], counts.get(status, 0))
            if status in metrics.OPEN_STATUSES:
                open_orders.add_metric([status], opened.get(status, 0))
        late.add_metric([], overdue or 0)
        screens = GaugeMetricFamily(
            "frontoffice_monitor_screens", "Monitor screens connected to this process."
        )
        screens.add_metric([], hub.watchers)
        updates = CounterMetricFamily(
            "frontoffice_monitor_updates", "Coalesced monitor updates sent by this process."
        )
        updates.add_metric([], hub.updates_sent)
        return [today, open_orders, late, screens, updates]

    return collect
