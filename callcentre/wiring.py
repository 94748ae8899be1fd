"""Registers the call-centre package with the app."""

from __future__ import annotations

from typing import Any

from flask import Flask

from callcentre.sockets import NAMESPACE, CallcentreNamespace
from frontoffice.realtime import emit_to_branch, event_payload
from orders.events import CourierAssigned, OrderPlaced, OrderStatusChanged

EVENT_NAMES = {
    OrderPlaced: "order_placed",
    OrderStatusChanged: "order_status_changed",
    CourierAssigned: "courier_assigned",
}


def register(app: Flask, kernel: Any) -> None:
    """The operators' live board namespace and its subscribers."""
    kernel.socketio.on_namespace(CallcentreNamespace(NAMESPACE))

    def relay(event: Any) -> None:
        emit_to_branch(
            kernel.socketio, NAMESPACE, EVENT_NAMES[type(event)], event_payload(event), event.branch_id
        )

    for event_type in EVENT_NAMES:
        kernel.bus.subscribe(event_type, relay)
