"""Registers the call-centre package with the app."""

from __future__ import annotations

from typing import Any

from flask import Flask, url_for
from flask_babel import gettext

from callcentre import demo
from callcentre.ports import GEOCODING, ZONES
from callcentre.sockets import NAMESPACE, CallcentreNamespace
from frontoffice.kernel import Kernel
from frontoffice.models import Role
from frontoffice.packages import DomainPackage
from frontoffice.realtime import emit_to_branch, event_payload
from orders.events import CourierAssigned, OrderEdited, OrderPlaced, OrderStatusChanged
from orders.ports import (
    BRANCH_SECTIONS,
    ORDER_SECTIONS,
    PLACEMENT_POLICIES,
    BranchSection,
    OrderSection,
    PolicyOrder,
)

EVENT_NAMES = {
    OrderPlaced: "order_placed",
    OrderStatusChanged: "order_status_changed",
    CourierAssigned: "courier_assigned",
    OrderEdited: "order_edited",
}


def register(app: Flask, kernel: Kernel) -> None:
    """The operators' live board namespace and its subscribers."""
    kernel.socketio.on_namespace(CallcentreNamespace(NAMESPACE))
    register_clients_and_zones(app, kernel)
    from callcentre.views import register_pages

    register_pages(app, kernel)
    from callcentre.directory_views import register_directory_pages

    register_directory_pages(app, kernel)

    def relay(event: Any) -> None:
        emit_to_branch(
            kernel.socketio, NAMESPACE, EVENT_NAMES[type(event)], event_payload(event), event.branch_id
        )

    for event_type in EVENT_NAMES:
        kernel.bus.subscribe(event_type, relay)
    kernel.extensions.add(ORDER_SECTIONS, "change_order", change_order_section, order=10)


def change_order_section(session: Any, order_id: int) -> OrderSection | None:
    """The way from an order's page to changing it in the workspace, for a reader who may change it now."""
    from flask_login import current_user

    from callcentre.views import WORKSPACE_ROLES
    from orders.models import Order
    from orders.states import MANAGER_EDITABLE, may_edit

    order = session.get(Order, order_id)
    manager = current_user.has_role(Role.MANAGER)
    if order is None or not current_user.has_role(*WORKSPACE_ROLES):
        return None
    if not may_edit(order.status, manager=manager):
        return None
    return OrderSection(
        title=gettext("Change the order"),
        summary=gettext("The kitchen has started: say why you change it.")
        if order.status in MANAGER_EDITABLE
        else gettext("Lines, address, time, payment and comment can be changed until the kitchen starts."),
        link=(gettext("Change in the workspace"), url_for("callcentre_pages.workspace", edit=order_id)),
    )


def register_clients_and_zones(app: Flask, kernel: Kernel) -> None:
    """Clients, dossier, zones, geocoding and order entry: API, caches, the zone policy, the stats
    subscriber, the zones on a branch's admin page."""
    from callcentre import api, services
    from callcentre.geocoding import Geocoding, config_from

    app.register_blueprint(api.bp)
    from callcentre import directory_api

    app.register_blueprint(directory_api.bp)
    zones = services.ZoneCache()
    kernel.extensions.provide(ZONES, zones)
    kernel.extensions.provide(GEOCODING, Geocoding(config_from(kernel.settings, dict(app.config))))
    kernel.extensions.add(
        PLACEMENT_POLICIES,
        "delivery_zone",
        services.ZonePolicy(zones, kernel.settings.currency),
        order=PolicyOrder.LOCATION,
    )

    def count_placed(session: Any, event: OrderPlaced) -> None:
        services.record_order_fact(session, event.order_id, "placed")

    def count_status(session: Any, event: OrderStatusChanged) -> None:
        if event.to_status in services.STATUS_FACTS:
            services.record_order_fact(session, event.order_id, event.to_status)

    kernel.bus.project(OrderPlaced, count_placed)
    kernel.bus.project(OrderStatusChanged, count_status)

    def purge_geocodes() -> int:
        with kernel.db.unit_of_work() as s:
            return services.purge_geocode_cache(s)

    kernel.jobs.every(
        "geocode-cache-purge", 3600.0, purge_geocodes, "Deletes geocoder answers past their 30 days."
    )

    def zones_section(session: Any, branch_id: int) -> BranchSection:
        zones = services.list_zones(session, branch_id=branch_id)
        delivering = sum(1 for z in zones if z.active)
        return BranchSection(
            title=gettext("Delivery zones"),
            summary=gettext("%(active)s of %(n)s zone(s) deliver.", active=delivering, n=len(zones))
            if zones
            else gettext("No delivery zones: deliveries are priced without one."),
            items=tuple(z.name if z.active else f"{z.name} ({gettext('off')})" for z in zones),
            url=url_for("callcentre_pages.zones", branch_id=branch_id),
            map_url=url_for("callcentre_api.export_geojson"),
        )

    kernel.extensions.add(BRANCH_SECTIONS, "delivery_zones", zones_section, order=10)


from callcentre.cli import addresses as _addresses_cli  # noqa: E402

PACKAGE = DomainPackage("callcentre", register, demo=demo.load, commands=(_addresses_cli,))
