"""Registers the telephony package: the PBX, the live desk, the API and pages, the order link.

It adds ``dial`` to the operator workspace's endpoints (``callcentre.ports.WORKSPACE_ENDPOINTS``:
the workspace and the board show a call button beside a client's number), the AMI listener to the
serving process's background services (``frontoffice.ports.BACKGROUND_SERVICES``: it starts when
the link is the web process's, see :mod:`telephony.listener`) and hears ``OrderPlaced`` to link an
order to the call it was taken during.
"""

from __future__ import annotations

from typing import Any

from flask import Flask

from callcentre.ports import WORKSPACE_ENDPOINTS
from frontoffice.kernel import Kernel
from frontoffice.packages import DomainPackage
from frontoffice.ports import BACKGROUND_SERVICES
from orders.events import OrderPlaced
from telephony import demo, labels, services
from telephony.adapters import make_pbx
from telephony.adapters.mango import mango_config
from telephony.cli import telephony as _telephony_cli
from telephony.listener import listener_mode, start_listener
from telephony.live import LiveDesk
from telephony.ports import TELEPHONY, Telephony


def register(app: Flask, kernel: Kernel) -> None:
    """Wire telephony into the app."""
    from telephony import api, views

    settings = kernel.settings
    pbx = make_pbx(settings)
    listener_mode(settings)  # a wrong FRONTOFFICE_TELEPHONY_LISTENER stops the start, as a wrong PBX does
    mango = mango_config(settings) if pbx is not None and pbx.name == "mango" else None
    kernel.extensions.provide(TELEPHONY, Telephony(pbx=pbx, desk=LiveDesk(kernel), mango=mango))
    kernel.labels.declare(*labels.VOCABULARIES)
    app.register_blueprint(api.bp)
    views.register_pages(app, kernel)
    kernel.extensions.add(WORKSPACE_ENDPOINTS, "dial", "telephony_api.dial", order=30)
    kernel.extensions.add(BACKGROUND_SERVICES, "ami_listener", start_listener, order=10)

    def link_order(session: Any, event: OrderPlaced) -> None:
        services.link_order(session, event.order_id, event.client_phone, event.actor_id, event.created_at)

    kernel.bus.project(OrderPlaced, link_order)


PACKAGE = DomainPackage("telephony", register, demo=demo.load, commands=(_telephony_cli,))
