"""Registers the monitor package with the app."""

from __future__ import annotations

from typing import Any

from flask import Flask

from frontoffice.realtime import emit_to_branch, event_payload
from monitor.sockets import NAMESPACE, MonitorNamespace
from orders.events import OrderPlaced, OrderStatusChanged

EVENT_NAMES = {OrderPlaced: "order_placed", OrderStatusChanged: "order_status_changed"}


def register(app: Flask, kernel: Any) -> None:
    """The monitor namespace; order facts are relayed to the managers watching."""
    kernel.socketio.on_namespace(MonitorNamespace(NAMESPACE))

    def relay(event: Any) -> None:
        emit_to_branch(
            kernel.socketio, NAMESPACE, EVENT_NAMES[type(event)], event_payload(event), event.branch_id
        )

    for event_type in EVENT_NAMES:
        kernel.bus.subscribe(event_type, relay)
