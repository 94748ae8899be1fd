"""Registers the couriers package with the app: the courier, register, dispatch and OsmAnd APIs,
the courier's web app (``/courier/``), the ``/courier`` namespace and its subscribers, and (when
enabled) the auto-dispatch loop."""

from __future__ import annotations

import logging
import os
import threading

from flask import Flask
from flask_babel import gettext
from sqlalchemy.orm import Session

from couriers import demo, labels, services
from couriers.api import courier_bp, couriers_bp, dispatch_bp
from couriers.app_views import bp as courier_app_bp
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
    """APIs, namespace, subscribers; auto-dispatch only when a number of minutes is configured."""
    kernel.labels.declare(*labels.VOCABULARIES)
    directory = services.CourierDirectory()
    kernel.extensions.provide(COURIER_DIRECTORY, directory)
    kernel.extensions.add(
        USER_DEVICES, "courier_devices", services.CourierDevices(directory.invalidate), order=10
    )
    kernel.extensions.add(BRANCH_SECTIONS, "couriers", couriers_section, order=30)
    for bp in (courier_bp, couriers_bp, dispatch_bp, osmand_bp, courier_app_bp):
        app.register_blueprint(bp)

    kernel.socketio.on_namespace(CourierNamespace(NAMESPACE))
    relay = PoolRelay(kernel.socketio, kernel.db)
    kernel.bus.subscribe(OrderPlaced, relay.on_placed)
    kernel.bus.subscribe(OrderStatusChanged, relay.on_status)
    kernel.bus.subscribe(CourierAssigned, relay.on_assigned)

    minutes = _setting(app, AUTO_DISPATCH_KEY)
    if minutes is not None and minutes > 0:
        interval = _setting(app, AUTO_DISPATCH_INTERVAL_KEY) or 30.0
        kernel.extensions.provide(AUTO_DISPATCHER, AutoDispatcher(kernel, minutes, interval).start())


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
    """A daemon thread that runs :func:`couriers.services.auto_dispatch` every ``interval_s`` seconds.

    Several processes may each run one: the conditional UPDATE lets only one assignment win.
    """

    def __init__(self, kernel: Kernel, after_minutes: float, interval_s: float):
        self.kernel = kernel
        self.after_minutes = after_minutes
        self.interval_s = interval_s
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="courier-auto-dispatch", daemon=True)

    def start(self) -> AutoDispatcher:
        """Start the loop."""
        self.thread.start()
        log.info(
            "auto-dispatch on: ready orders unclaimed for %s min, checked every %s s",
            self.after_minutes,
            self.interval_s,
        )
        return self

    def stop(self) -> None:
        """Stop the loop (waits for the current round)."""
        self.stopped.set()
        self.thread.join(self.interval_s + 5)

    def run_once(self) -> list[tuple[int, int]]:
        """One round of auto-dispatch."""
        with self.kernel.db.unit_of_work() as s:
            return services.auto_dispatch(
                s,
                after_minutes=self.after_minutes,
                signal_timeout_s=self.kernel.settings.courier_signal_timeout_s,
            )

    def _loop(self) -> None:
        while not self.stopped.wait(self.interval_s):
            try:
                done = self.run_once()
            except Exception:  # the loop must survive a bad round (database restart, …)
                log.exception("auto-dispatch round failed")
                continue
            for order_id, courier_id in done:
                log.info("auto-dispatch: order %s → courier %s", order_id, courier_id)


PACKAGE = DomainPackage("couriers", register, demo=demo.load)
