"""Registers the monitor package with the app: pages, API, the ``/monitor`` namespace, subscribers."""

from __future__ import annotations

import logging

from flask import Flask
from sqlalchemy.orm import Session

from couriers.events import CourierMoved, CourierShiftChanged
from frontoffice.kernel import Kernel
from frontoffice.packages import DomainPackage
from frontoffice.ports import LIVE_DAY
from monitor import api, demo, labels, views
from monitor.cli import play_in_background, simulate
from monitor.ports import MONITOR, MONITOR_HUB
from monitor.services import Monitor
from monitor.sockets import NAMESPACE, MonitorHub, MonitorNamespace
from orders.events import CourierAssigned, OrderEdited, OrderPlaced, OrderStatusChanged

log = logging.getLogger(__name__)


def register(app: Flask, kernel: Kernel) -> None:
    """The monitor's pages and API, its namespace and hub, the loyalty projection's subscriber."""
    kernel.labels.declare(*labels.VOCABULARIES)
    monitor = Monitor(kernel.db, kernel.settings)
    hub = MonitorHub(
        kernel.socketio,
        monitor,
        min_interval_s=float(app.config.get("MONITOR_MIN_INTERVAL_S", 0.5)),
        heartbeat_s=float(app.config.get("MONITOR_HEARTBEAT_S", 30.0)),
        broadcast=bool(kernel.settings.redis_url),
    )
    kernel.extensions.provide(MONITOR, monitor)
    kernel.extensions.provide(MONITOR_HUB, hub)
    kernel.extensions.provide(LIVE_DAY, play_in_background)
    kernel.socketio.on_namespace(MonitorNamespace(NAMESPACE, hub))

    app.register_blueprint(api.bp)
    app.register_blueprint(views.bp)
    kernel.add_nav("Monitor", "monitor_pages.board", {"manager"}, order=50)
    kernel.add_nav("Reports", "monitor_pages.clients_report", {"manager"}, order=60)

    def count_delivery(session: Session, event: OrderStatusChanged) -> None:
        if event.to_status == "delivered":
            monitor.project_delivery(session, event.order_id)

    def delivery_counted(event: OrderStatusChanged) -> None:
        if event.to_status == "delivered":
            monitor.delivery_counted()
            hub.order_event(event)  # the top clients changed: the screens' next update reads them

    kernel.bus.project(OrderStatusChanged, count_delivery)
    kernel.bus.subscribe(OrderStatusChanged, delivery_counted)
    # The screens hear of an order at once (a nudge: the hub re-reads the day; a nudge lost in a crash
    # is healed by the next heartbeat), the ``order_placed`` fact through the relay, at least once.
    kernel.bus.nudge(OrderPlaced, hub.order_event)
    kernel.bus.nudge(OrderStatusChanged, hub.order_event)
    kernel.bus.nudge(OrderEdited, hub.order_event)
    kernel.bus.subscribe(OrderPlaced, hub.order_placed)
    kernel.bus.subscribe(CourierAssigned, hub.courier_event)
    kernel.bus.subscribe(CourierShiftChanged, hub.courier_event)
    kernel.bus.subscribe(CourierMoved, hub.courier_moved)

    if kernel.metrics is not None:
        from monitor.prometheus import collector

        kernel.metrics.add_collector(collector(monitor, hub))


PACKAGE = DomainPackage("monitor", register, demo=demo.load, commands=(simulate,))
