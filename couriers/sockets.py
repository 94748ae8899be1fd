"""The ``/courier`` namespace: couriers' phones hear their pool change without polling.

A phone connects with ``auth={"token": "<bearer token>"}``; only a courier with a profile is
admitted. It joins one room per branch it serves (the pool) and a room of its own.

Events sent (snake_case facts):

- ``order_available`` — an order entered your pool (``reason``: placed, confirmed, cooking,
  ready, released); data: the order summary.
- ``order_taken`` — an order left the pool (claimed or assigned); data: ``order_id``, ``branch_id``.
- ``order_withdrawn`` — a pool order was cancelled or rejected; data: ``order_id``, ``branch_id``.
- ``order_assigned`` / ``order_unassigned`` — a dispatcher gave you / took from you an order.
- ``order_ready`` — an order you carry is ready at the branch.
- ``order_cancelled`` — an order you carry was cancelled.
- ``order_changed`` — an order you carry, or one in your pool, was changed after it was taken
  (lines, address, time, payment or comment); data: the order summary with ``changed``, the fields.
"""

from __future__ import annotations

from typing import Any

from flask_socketio import Namespace, join_room
from sqlalchemy import select

from couriers.models import Courier
from frontoffice.kernel import current_kernel
from frontoffice.models import Role
from frontoffice.money import from_minor
from frontoffice.realtime import admit_connection, socket_principal
from orders.events import CourierAssigned, OrderEdited, OrderPlaced, OrderStatusChanged
from orders.models import Order
from orders.states import POOL_STATES

NAMESPACE = "/courier"


def pool_room(branch_id: int) -> str:
    """Room of the couriers serving one branch."""
    return f"pool:{branch_id}"


def courier_room(courier_id: int) -> str:
    """Room of one courier's phones."""
    return f"courier:{courier_id}"


class CourierNamespace(Namespace):
    """Admits couriers with a profile; they join their pool rooms and their own room."""

    def on_connect(self, auth: Any = None) -> None:
        """Authenticate with the bearer token, then join the rooms."""
        user = socket_principal(auth)
        if user is None:
            raise ConnectionRefusedError("unauthorized")
        if user.role != Role.COURIER:
            raise ConnectionRefusedError("forbidden: couriers only")
        db = current_kernel().db
        with db.reading() as s:
            courier = s.scalar(select(Courier).where(Courier.user_id == user.id, Courier.active.is_(True)))
            if courier is None:
                raise ConnectionRefusedError("forbidden: no courier profile")
            branches = courier.branch_ids
            courier_id = courier.id
        join_room(courier_room(courier_id))
        for branch_id in branches:
            join_room(pool_room(branch_id))
        admit_connection()


def _summary(order: Order, reason: str) -> dict[str, Any]:
    return {
        "order_id": order.id,
        "number": order.number,
        "branch_id": order.branch_id,
        "status": order.status,
        "reason": reason,
        "address_text": order.address_text,
        "lat": order.lat,
        "lon": order.lon,
        "total": str(from_minor(order.total)),
        "payment_kind": order.payment_kind,
        "promised_at": order.promised_at.isoformat() if order.promised_at else None,
    }


class PoolRelay:
    """Turns committed order facts into messages for couriers' phones."""

    def __init__(self, socketio: Any, db: Any):
        self.socketio = socketio
        self.db = db

    def _emit(self, event: str, data: dict[str, Any], room: str) -> None:
        self.socketio.emit(event, data, namespace=NAMESPACE, to=room)

    def _order(self, order_id: int) -> Order | None:
        with self.db.reading() as s:
            order = s.get(Order, order_id)
            if order is not None:
                _ = order.branch  # loaded while the session is open
            return order

    def on_placed(self, ev: OrderPlaced) -> None:
        """A delivery order placed straight into a pool state is announced to its branch."""
        if ev.kind != "delivery" or ev.status not in POOL_STATES:
            return
        order = self._order(ev.order_id)
        if order is not None and order.courier_id is None:
            self._emit("order_available", _summary(order, "placed"), pool_room(ev.branch_id))

    def on_status(self, ev: OrderStatusChanged) -> None:
        """Pool entries, withdrawals, and news about an order a courier carries."""
        if ev.courier_id is not None:
            room = courier_room(ev.courier_id)
            if ev.to_status == "ready":
                self._emit("order_ready", {"order_id": ev.order_id, "number": ev.number}, room)
            elif ev.to_status in ("cancelled", "rejected"):
                self._emit(
                    "order_cancelled",
                    {"order_id": ev.order_id, "number": ev.number, "reason": ev.reason},
                    room,
                )
            return
        if ev.to_status in ("cancelled", "rejected") and ev.from_status in POOL_STATES:
            self._emit(
                "order_withdrawn",
                {"order_id": ev.order_id, "branch_id": ev.branch_id},
                pool_room(ev.branch_id),
            )
            return
        if ev.to_status in POOL_STATES:
            order = self._order(ev.order_id)
            if order is not None and order.kind == "delivery" and order.courier_id is None:
                self._emit("order_available", _summary(order, ev.to_status), pool_room(ev.branch_id))

    def on_assigned(self, ev: CourierAssigned) -> None:
        """A claim or assignment takes the order out of the pool; a release puts it back."""
        if ev.courier_id is not None:
            self._emit(
                "order_taken", {"order_id": ev.order_id, "branch_id": ev.branch_id}, pool_room(ev.branch_id)
            )
            if ev.actor_id is None or self._assigned_by_other(ev):
                self._emit("order_assigned", {"order_id": ev.order_id}, courier_room(ev.courier_id))
            return
        order = self._order(ev.order_id)
        if order is not None and order.courier_id is None and order.status in POOL_STATES:
            self._emit("order_available", _summary(order, "released"), pool_room(ev.branch_id))
        if ev.previous_courier_id is not None:
            self._emit("order_unassigned", {"order_id": ev.order_id}, courier_room(ev.previous_courier_id))

    def on_edited(self, ev: OrderEdited) -> None:
        """A changed order: its courier hears what changed; a pool order is announced again."""
        order = self._order(ev.order_id)
        if order is None or order.kind != "delivery":
            return
        data = {**_summary(order, "changed"), "changed": list(ev.changed)}
        if order.courier_id is not None:
            self._emit("order_changed", data, courier_room(order.courier_id))
        elif order.status in POOL_STATES:
            self._emit("order_changed", data, pool_room(ev.branch_id))

    def _assigned_by_other(self, ev: CourierAssigned) -> bool:
        with self.db.reading() as s:
            user_id = s.scalar(select(Courier.user_id).where(Courier.id == ev.courier_id))
        return user_id != ev.actor_id
