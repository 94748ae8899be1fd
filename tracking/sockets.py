"""The ``/track`` namespace: a customer's tracking page hears its order change without reloading.

A page connects with ``auth={"token": "<the link's token>"}`` and is admitted only while the
link works; it joins the room of that one order, and nothing it sends can name another. A
refused connection (unknown, malformed or expired token) is told ``forbidden`` and, having
joined nothing, is closed by the kernel's connection guard after its grace like any other.

Events sent (snake_case facts):

- ``tracking_updated`` — the order's tracking view (:meth:`tracking.services.TrackingView.as_json`):
  on connecting, when the order's status changes, when its courier moves (at most once per
  ``FRONTOFFICE_TRACKING_PUSH_INTERVAL_S`` per courier; the latest position wins), and when the
  courier delivers another order of the bag (the ETA shortens), and when the order is edited
  (``OrderEdited``: a new address or promised time).
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from flask import request
from flask_socketio import Namespace, emit, join_room

from couriers.events import CourierMoved
from frontoffice.db import Database
from frontoffice.kernel import current_kernel
from frontoffice.realtime import admit_connection
from orders.events import OrderEdited, OrderStatusChanged
from tracking import services
from tracking.eta import TravelTime

log = logging.getLogger(__name__)

NAMESPACE = "/track"
EVENT = "tracking_updated"


def order_room(order_id: int) -> str:
    """Room of the tracking pages of one order."""
    return f"order:{order_id}"


class TrackingFeed:
    """Turns committed facts into ``tracking_updated`` messages for the pages of the orders concerned."""

    def __init__(self, socketio: Any, db: Database, travel: TravelTime, push_interval_s: float):
        self.socketio = socketio
        self.db = db
        self.travel = travel
        self.push_interval_s = push_interval_s
        self._lock = threading.Lock()
        self._last_push: dict[int, float] = {}
        self._waiting: set[int] = set()

    def view(self, order_id: int) -> dict[str, Any] | None:
        """The order's tracking view as JSON (None when the order is gone)."""
        with self.db.reading() as s:
            found = services.tracking_view(s, order_id, travel=self.travel)
        return found.as_json() if found is not None else None

    def push(self, *order_ids: int) -> None:
        """Send each order's view to its pages."""
        for order_id in dict.fromkeys(order_ids):
            data = self.view(order_id)
            if data is not None:
                self.socketio.emit(EVENT, data, namespace=NAMESPACE, to=order_room(order_id))

    def push_courier(self, courier_id: int) -> None:
        """Send the view of every order a courier carries to the door."""
        with self.db.reading() as s:
            order_ids = services.orders_on_the_way(s, courier_id)
        self.push(*order_ids)

    def on_status(self, ev: OrderStatusChanged) -> None:
        """The order's pages hear its new status; the other orders of the courier's bag their new ETA."""
        self.push(ev.order_id)
        if ev.courier_id is not None and ev.from_status == "in_delivery":
            self.push_courier(ev.courier_id)

    def on_edited(self, ev: OrderEdited) -> None:
        """An order changed after it was taken (its address, its promised time …): its pages hear the
        new view, and the courier's other orders on their way their ETA (the bag's order may change)."""
        self.push(ev.order_id)
        if ev.courier_id is not None:
            self.push_courier(ev.courier_id)

    def on_moved(self, ev: CourierMoved) -> None:
        """A move reaches the pages at once, or — within the interval of the last push — once the
        interval is over, with the position of that moment. The views are made in a background task:
        a position report (the hottest request there is) never waits for an ETA, nor for a router."""
        now = time.monotonic()
        with self._lock:
            if ev.courier_id in self._waiting:
                return
            self._waiting.add(ev.courier_id)
            wait = max(0.0, self._last_push.get(ev.courier_id, -float("inf")) + self.push_interval_s - now)
        self.socketio.start_background_task(self._push_later, ev.courier_id, wait)

    def _push_later(self, courier_id: int, wait: float) -> None:
        if wait > 0:
            self.socketio.sleep(wait)
        with self._lock:
            self._waiting.discard(courier_id)
            self._last_push[courier_id] = time.monotonic()
        try:
            self.push_courier(courier_id)
        except Exception:  # a background task: nobody else would hear of it
            log.exception("tracking pages of courier %s were not updated", courier_id)


class TrackNamespace(Namespace):
    """Admits a page holding a working link's token into the room of that link's order."""

    def __init__(self, namespace: str, feed: TrackingFeed):
        super().__init__(namespace)
        self.feed = feed

    def on_connect(self, auth: Any = None) -> None:
        """Check the token, join the order's room, send the first view."""
        token = auth.get("token") if isinstance(auth, dict) else None
        if not isinstance(token, str):
            raise ConnectionRefusedError("forbidden")
        with current_kernel().db.reading() as s:
            link = services.valid_link(s, token)
            order_id = link.order_id if link is not None else None
        if order_id is None:
            raise ConnectionRefusedError("forbidden")
        join_room(order_room(order_id))
        admit_connection()
        data = self.feed.view(order_id)
        if data is not None:
            emit(EVENT, data, to=request.sid)
