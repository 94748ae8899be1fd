"""Registers the tracking package: the public page ``/t/<token>``, the ``/track`` namespace, the
projectors that issue and end links, the handlers that keep open pages live, and the travel-time
function the ETA uses (chosen by ``FRONTOFFICE_TRAVEL_TIME``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from flask import Flask, url_for
from flask_babel import gettext
from sqlalchemy.orm import Session

from couriers.events import CourierMoved
from frontoffice.db import utcnow
from frontoffice.kernel import Kernel, current_kernel
from frontoffice.packages import DomainPackage
from frontoffice.settings import Settings
from notifications.ports import TRACKING_LINK
from orders.events import OrderEdited, OrderPlaced, OrderStatusChanged
from orders.ports import ORDER_SECTIONS, OrderSection
from tracking import services, views
from tracking.adapters.osrm import OsrmTable
from tracking.eta import StraightLine, TravelTime
from tracking.ports import TRACKING_FEED, TRAVEL_TIME
from tracking.sockets import NAMESPACE, TrackingFeed, TrackNamespace

#: The ways the ETA can measure travel (``FRONTOFFICE_TRAVEL_TIME``).
TRAVEL_TIMES = ("straight_line", "osrm")


def make_travel_time(settings: Settings) -> TravelTime:
    """The travel-time function the settings choose (a setting that cannot work fails at start-up)."""
    if settings.travel_time not in TRAVEL_TIMES:
        raise ValueError(
            f"FRONTOFFICE_TRAVEL_TIME must be one of {', '.join(TRAVEL_TIMES)}, not {settings.travel_time!r}"
        )
    if not settings.route_detour_factor >= 1:
        raise ValueError("FRONTOFFICE_ROUTE_DETOUR_FACTOR must be a number of at least 1")
    straight = StraightLine(settings.route_detour_factor)
    if settings.travel_time == "straight_line":
        return straight
    if not settings.osrm_url:
        raise ValueError("FRONTOFFICE_TRAVEL_TIME=osrm needs FRONTOFFICE_OSRM_URL")
    return OsrmTable(
        settings.osrm_url, straight, profile=settings.osrm_profile, timeout_s=settings.osrm_timeout_s
    )


@dataclass(frozen=True)
class PublicTrackingLinks:
    """``links(session, order_id)``: the absolute address of an order's tracking page on
    ``base_url`` (``FRONTOFFICE_PUBLIC_URL``), None without a working link or a public address — for
    the packages that send it to the customer (notifications' ``TRACKING_LINK``). A delivery order
    asked for before its link's projector ran gets its link then — the one write it may make, an
    idempotent insert in the caller's transaction (see :func:`tracking.services.tracking_url`):
    notifications write "order taken" in a projector of the same ``OrderPlaced`` that runs before
    the link's own."""

    base_url: str | None

    def __call__(self, session: Session, order_id: int) -> str | None:
        """The address of ``order_id``'s tracking page, or None."""
        return services.tracking_url(session, order_id, base_url=self.base_url, issue=True)


def tracking_url_for(kernel: Kernel) -> PublicTrackingLinks:
    """``tracking_url(session, order_id)`` on the kernel's ``FRONTOFFICE_PUBLIC_URL``."""
    return PublicTrackingLinks(kernel.settings.public_url)


def register(app: Flask, kernel: Kernel) -> None:
    """Page, namespace, projectors, handlers and the travel-time function."""
    settings = kernel.settings
    travel = make_travel_time(settings)
    kernel.extensions.provide(TRAVEL_TIME, travel)
    app.register_blueprint(views.bp)

    feed = TrackingFeed(kernel.socketio, kernel.db, travel, settings.tracking_push_interval_s)
    kernel.extensions.provide(TRACKING_FEED, feed)
    kernel.socketio.on_namespace(TrackNamespace(NAMESPACE, feed))

    ttl = dt.timedelta(hours=settings.tracking_link_ttl_h)

    def end_link(session: Session, event: OrderStatusChanged) -> None:
        services.end_link(session, event, ttl)

    kernel.bus.project(OrderPlaced, services.on_order_placed)
    kernel.bus.project(OrderStatusChanged, end_link)
    kernel.bus.subscribe(OrderStatusChanged, feed.on_status)
    kernel.bus.subscribe(OrderEdited, feed.on_edited)
    kernel.bus.subscribe(CourierMoved, feed.on_moved)
    # The messages to the client carry the link ("order taken", "courier on the way").
    kernel.extensions.provide(TRACKING_LINK, tracking_url_for(kernel))
    kernel.extensions.add(ORDER_SECTIONS, "tracking_link", tracking_section, order=40)


def tracking_section(session: Session, order_id: int) -> OrderSection | None:
    """The order's tracking link, for its page: what an operator reads out or sends the client."""
    link = services.link_of(session, order_id)
    if link is None:
        return None
    settings = current_kernel().settings
    url = services.tracking_url(session, order_id, base_url=settings.public_url) or url_for(
        "tracking_pages.track", token=link.token, _external=True
    )
    if link.expires_at is None:
        summary = gettext(
            "The client follows the order at this link; it works until %(hours)s h after the order ends.",
            hours=f"{settings.tracking_link_ttl_h:g}",
        )
        facts = ((gettext("Link"), url),)
    elif link.expires_at > utcnow():
        until = link.expires_at.astimezone(ZoneInfo(settings.timezone)).strftime("%d.%m.%Y %H:%M")
        summary = gettext("The order has ended; its link works until %(time)s.", time=until)
        facts = ((gettext("Link"), url),)
    else:
        summary = gettext("The order has ended: its link no longer works.")
        facts = ()
    return OrderSection(title=gettext("Tracking page"), summary=summary, facts=facts)


PACKAGE = DomainPackage("tracking", register)
