"""Registers the couriers package with the app: the courier, register, dispatch and OsmAnd APIs,
the ``/courier`` namespace and its subscribers, the track-point retention job and (when enabled)
the auto-dispatch job."""

from __future__ import annotations

import logging
import os

from flask import Flask
from flask_babel import gettext
from sqlalchemy.orm import Session

from couriers import demo, labels, services
from couriers.api import courier_bp, couriers_bp, dispatch_bp
from couriers.events import CourierMoved
from couriers.osmand import bp as osmand_bp
from couriers.ports import AUTO_DISPATCHER, COURIER_DIRECTORY
from couriers.sockets import NAMESPACE, CourierNamespace, PoolRelay
from frontoffice.kernel import Kernel
from frontoffice.packages import DomainPackage
from frontoffice.ports import USER_DEVICES
from orders.events import CourierAssigned, OrderPlaced, OrderStatusChanged
from orders.ports import BRANCH_SECTIONS, BranchSection

log = logging.getLogger(__name__)

AUTO_DISPATCH_KEY = "COURIER_AUTO_DISPATCH_MINUTES"
AUTO_DISPATCH_INTERVAL_KEY = "COURIER_AUTO_DISPATCH_INTERVAL_S"


def register(app: Flask, kernel: Kernel) -> None:
    """APIs, namespace, subscribers, periodic jobs; auto-dispatch only when a number of minutes is
    configured."""
    kernel.labels.declare(*labels.VOCABULARIES)
    directory = services.CourierDirectory()
    kernel.extensions.provide(COURIER_DIRECTORY, directory)
    kernel.extensions.add(
        USER_DEVICES, "courier_devices", services.CourierDevices(directory.invalidate), order=10
    )
    kernel.extensions.add(BRANCH_SECTIONS, "couriers", couriers_section, order=30)
    for bp in (courier_bp, couriers_bp, dispatch_bp, osmand_bp):
        app.register_blueprint(bp)

    kernel.socketio.on_namespace(CourierNamespace(NAMESPACE))
    # Positions are too many to journal and useless late: handlers hear them right after the commit.
    kernel.bus.live_only(CourierMoved)
    relay = PoolRelay(kernel.socketio, kernel.db)
    kernel.bus.subscribe(OrderPlaced, relay.on_placed)
    kernel.bus.subscribe(OrderStatusChanged, relay.on_status)
    kernel.bus.subscribe(CourierAssigned, relay.on_assigned)

    minutes = _setting(app, AUTO_DISPATCH_KEY)
    if minutes is not None and minutes > 0:
        interval = _setting(app, AUTO_DISPATCH_INTERVAL_KEY) or 30.0
        dispatcher = AutoDispatcher(kernel, minutes, interval)
        kernel.jobs.every(
            "courier-auto-dispatch",
            interval,
            dispatcher.run_once,
            "Gives long-waiting ready orders to couriers.",
        )
        kernel.extensions.provide(AUTO_DISPATCHER, dispatcher)
        log.info("auto-dispatch on: ready orders unclaimed for %s min, checked every %s s", minutes, interval)

    retention_days = kernel.settings.track_retention_days
    if retention_days > 0:

        def purge_tracks() -> int:
            with kernel.db.unit_of_work() as s:
                return services.purge_track_points(s, retention_days)

        kernel.jobs.every(
            "track-point-retention",
            3600.0,
            purge_tracks,
            "Deletes track points older than FRONTOFFICE_TRACK_RETENTION_DAYS.",
        )


def couriers_section(session: Session, branch_id: int) -> BranchSection:
    """The couriers who take the branch's orders, for its admin page."""
    couriers = services.branch_couriers(session, branch_id)
    return BranchSection(
        title=gettext("Couriers"),
        summary=gettext("%(n)s courier(s) take its orders.", n=len(couriers))
        if couriers
        else gettext("No courier takes its orders yet."),
        items=tuple(c.name for c in couriers),
    )


def _setting(app: Flask, key: str) -> float | None:
    raw = app.config.get(key)
    if raw is None:
        raw = os.environ.get(f"FRONTOFFICE_{key}")
    if raw is None or str(raw).strip() == "":
        return None
    try:
        return float(raw)
    except ValueError:
        log.warning("ignoring %s=%r: not a number", key, raw)
        return None


class AutoDispatcher:
    """Runs :func:`couriers.services.auto_dispatch`: a periodic job of the deployment (one process
    runs each round; the conditional UPDATE would let only one assignment win anyway)."""

    def __init__(self, kernel: Kernel, after_minutes: float, interval_s: float):
        self.kernel = kernel
        self.after_minutes = after_minutes
        self.interval_s = interval_s

    def run_once(self) -> list[tuple[int, int]]:
        """One round of auto-dispatch."""
        with self.kernel.db.unit_of_work() as s:
            done = services.auto_dispatch(
                s,
                after_minutes=self.after_minutes,
                signal_timeout_s=self.kernel.settings.courier_signal_timeout_s,
            )
        for order_id, courier_id in done:
            log.info("auto-dispatch: order %s → courier %s", order_id, courier_id)
        return done


PACKAGE = DomainPackage("couriers", register, demo=demo.load)
