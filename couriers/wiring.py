"""Registers the couriers package with the app: the courier, register, dispatch and OsmAnd APIs,
the courier's web app (``/courier/``), the ``/courier`` namespace and its subscribers, and (when
enabled) the auto-dispatch loop."""

from __future__ import annotations

import logging
import os
import threading
from zoneinfo import ZoneInfo

from flask import Flask, url_for
from flask_babel import gettext
from sqlalchemy.orm import Session

from couriers import demo, labels, services, views
from couriers.api import courier_bp, couriers_bp, dispatch_bp
from couriers.app_views import bp as courier_app_bp
from couriers.osmand import bp as osmand_bp
from couriers.ports import AUTO_DISPATCHER, COURIER_DIRECTORY
from couriers.sockets import NAMESPACE, CourierNamespace, PoolRelay
from frontoffice.kernel import Kernel, current_kernel
from frontoffice.money import format_money
from frontoffice.packages import DomainPackage
from frontoffice.ports import USER_DEVICES
from orders.events import CourierAssigned, OrderPlaced, OrderStatusChanged
from orders.ports import BRANCH_SECTIONS, ORDER_SECTIONS, BranchSection, OrderSection, SectionImage

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
    kernel.extensions.add(ORDER_SECTIONS, "proof_of_delivery", proof_section, order=30)
    for bp in (courier_bp, couriers_bp, dispatch_bp, osmand_bp, views.bp, courier_app_bp):
        app.register_blueprint(bp)
    # The titles stay English here; the top bar translates them when it renders.
    kernel.add_nav("Dispatch", "courier_pages.dispatch", views.PAGE_ROLES, order=20)
    kernel.add_nav("Couriers", "courier_pages.register", views.PAGE_ROLES, order=21)

    kernel.socketio.on_namespace(CourierNamespace(NAMESPACE))
    relay = PoolRelay(kernel.socketio, kernel.db)
    kernel.bus.subscribe(OrderPlaced, relay.on_placed)
    kernel.bus.subscribe(OrderStatusChanged, relay.on_status)
    kernel.bus.subscribe(CourierAssigned, relay.on_assigned)

    minutes = _setting(app, AUTO_DISPATCH_KEY)
    interval = _setting(app, AUTO_DISPATCH_INTERVAL_KEY) or 30.0
    loop = AutoDispatcher(kernel, minutes if minutes and minutes > 0 else None, interval)
    kernel.extensions.provide(AUTO_DISPATCHER, loop)
    if loop.default_minutes is not None:
        loop.start()


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


def proof_section(session: Session, order_id: int) -> OrderSection | None:
    """The proof of delivery of an order, for its page: where and when the trip ended, the cash
    taken, the photo and the signature (served by the dispatch API to the staff of the branch)."""
    proof = services.proof_of_delivery(session, order_id, within=None)
    if proof is None:
        return None
    zone = current_kernel().settings.timezone
    labels_ = current_kernel().labels
    facts = [
        (gettext("Courier"), proof.courier_name),
        (gettext("Outcome"), labels_.text("delivery_outcome", proof.outcome)),
        (gettext("At"), proof.at.astimezone(ZoneInfo(zone)).strftime("%d.%m.%Y %H:%M")),
        (gettext("Cash taken"), format_money(proof.cash_collected, current_kernel().settings.currency)),
        (
            gettext("Position"),
            f"{proof.lat:.5f}, {proof.lon:.5f}" if proof.lat is not None and proof.lon is not None else "—",
        ),
    ]
    if proof.reason_code:
        facts.append((gettext("Reason"), labels_.text("fail_reason", proof.reason_code)))
    if proof.comment:
        facts.append((gettext("Comment"), proof.comment))
    return OrderSection(
        title=gettext("Proof of delivery"),
        summary=gettext("%(n)s image(s) taken at the door.", n=len(proof.images))
        if proof.images
        else gettext("No photo or signature was taken."),
        facts=tuple(facts),
        images=tuple(
            SectionImage(
                url_for("dispatch_api.proof_image", proof_id=i.id), labels_.text("proof_kind", i.kind)
            )
            for i in proof.images
        ),
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
    """A daemon thread that runs :func:`couriers.services.auto_dispatch` every ``interval_s`` seconds
    while the stored rule (the dispatch screen's switch) says on, with the rule's minutes.

    The thread starts with the process when COURIER_AUTO_DISPATCH_MINUTES is set (that number is the
    rule until a manager changes it), else the first time this process sees the rule switched on
    (:meth:`ensure_running`). Several processes may each run one: the conditional UPDATE lets only
    one assignment win.
    """

    def __init__(self, kernel: Kernel, default_minutes: float | None, interval_s: float):
        self.kernel = kernel
        self.default_minutes = default_minutes
        self.interval_s = interval_s
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="courier-auto-dispatch", daemon=True)
        self._lock = threading.Lock()

    @property
    def after_minutes(self) -> float | None:
        """The configured default wait (None: auto-dispatch is off until a manager switches it on)."""
        return self.default_minutes

    @property
    def running(self) -> bool:
        """True while the loop thread runs."""
        return self.thread.is_alive()

    def start(self) -> AutoDispatcher:
        """Start the loop."""
        with self._lock:
            if not self.thread.is_alive() and not self.stopped.is_set():
                self.thread.start()
                log.info("auto-dispatch loop started: the stored rule is checked every %s s", self.interval_s)
        return self

    def ensure_running(self, rule: services.AutoDispatchRule) -> None:
        """Start the loop if ``rule`` is on and it does not run yet."""
        if rule.enabled and not self.running:
            self.start()

    def stop(self) -> None:
        """Stop the loop (waits for the current round)."""
        self.stopped.set()
        if self.thread.is_alive():
            self.thread.join(self.interval_s + 5)

    def run_once(self) -> list[tuple[int, int]]:
        """One round of auto-dispatch under the stored rule (nothing when it is off)."""
        with self.kernel.db.unit_of_work() as s:
            rule = services.auto_dispatch_rule(s, default_minutes=self.default_minutes)
            if not rule.enabled:
                return []
            return services.auto_dispatch(
                s,
                after_minutes=rule.after_minutes,
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
