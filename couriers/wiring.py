"""Registers the couriers package with the app: the courier, register, dispatch and OsmAnd APIs,
the courier's web app (``/courier/``), the ``/courier`` namespace and its subscribers, the
track-point retention job and the auto-dispatch job."""

from __future__ import annotations

import logging
from zoneinfo import ZoneInfo

from flask import Flask, url_for
from flask_babel import gettext
from sqlalchemy.orm import Session

from couriers import demo, labels, services, views
from couriers.api import courier_bp, couriers_bp, dispatch_bp
from couriers.app_views import bp as courier_app_bp
from couriers.events import CourierMoved
from couriers.osmand import bp as osmand_bp
from couriers.ports import AUTO_DISPATCHER, COURIER_DIRECTORY
from couriers.sockets import NAMESPACE, CourierNamespace, PoolRelay
from frontoffice.kernel import Kernel, current_kernel
from frontoffice.money import format_money
from frontoffice.packages import DomainPackage
from frontoffice.ports import USER_DEVICES
from orders.events import CourierAssigned, OrderEdited, OrderPlaced, OrderStatusChanged
from orders.ports import BRANCH_SECTIONS, ORDER_SECTIONS, BranchSection, OrderSection, SectionImage

log = logging.getLogger(__name__)


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
    kernel.extensions.add(ORDER_SECTIONS, "proof_of_delivery", proof_section, order=30)
    for bp in (courier_bp, couriers_bp, dispatch_bp, osmand_bp, views.bp, courier_app_bp):
        app.register_blueprint(bp)
    # The titles stay English here; the top bar translates them when it renders.
    kernel.add_nav("Dispatch", "courier_pages.dispatch", views.PAGE_ROLES, order=20)
    kernel.add_nav("Couriers", "courier_pages.register", views.PAGE_ROLES, order=21)

    kernel.socketio.on_namespace(CourierNamespace(NAMESPACE))
    # Positions are too many to journal and useless late: handlers hear them right after the commit.
    kernel.bus.live_only(CourierMoved)
    relay = PoolRelay(kernel.socketio, kernel.db)
    kernel.bus.subscribe(OrderPlaced, relay.on_placed)
    kernel.bus.subscribe(OrderStatusChanged, relay.on_status)
    kernel.bus.subscribe(CourierAssigned, relay.on_assigned)
    kernel.bus.subscribe(OrderEdited, relay.on_edited)

    minutes = kernel.settings.courier_auto_dispatch_minutes
    interval = kernel.settings.courier_auto_dispatch_interval_s
    dispatcher = AutoDispatcher(kernel, minutes if minutes and minutes > 0 else None, interval)
    kernel.extensions.provide(AUTO_DISPATCHER, dispatcher)
    # One round per interval for the deployment; each round follows the stored rule (the dispatch
    # screen's switch), so switching it on or off needs no restart.
    kernel.jobs.every(
        "courier-auto-dispatch",
        interval,
        dispatcher.run_once,
        "Gives long-waiting ready orders to couriers while the stored rule is on.",
    )

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


class AutoDispatcher:
    """Runs :func:`couriers.services.auto_dispatch` under the stored rule (the dispatch screen's switch,
    its minutes): a periodic job of the deployment, so one process runs each round (the conditional
    UPDATE would let only one assignment win anyway). COURIER_AUTO_DISPATCH_MINUTES, when set, is the
    rule until a manager changes it."""

    def __init__(self, kernel: Kernel, default_minutes: float | None, interval_s: float):
        self.kernel = kernel
        self.default_minutes = default_minutes
        self.interval_s = interval_s

    @property
    def after_minutes(self) -> float | None:
        """The configured default wait (None: auto-dispatch is off until a manager switches it on)."""
        return self.default_minutes

    def run_once(self) -> list[tuple[int, int]]:
        """One round of auto-dispatch under the stored rule (nothing when it is off)."""
        with self.kernel.db.unit_of_work() as s:
            rule = services.auto_dispatch_rule(s, default_minutes=self.default_minutes)
            if not rule.enabled:
                return []
            done = services.auto_dispatch(
                s,
                after_minutes=rule.after_minutes,
                signal_timeout_s=self.kernel.settings.courier_signal_timeout_s,
            )
        for order_id, courier_id in done:
            log.info("auto-dispatch: order %s → courier %s", order_id, courier_id)
        return done


PACKAGE = DomainPackage("couriers", register, demo=demo.load)
