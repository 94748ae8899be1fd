"""Helpers of the courier tests: couriers with logins, shifts and positions; orders in the pool."""

from __future__ import annotations

import base64
import datetime as dt
import struct
import zlib
from dataclasses import dataclass

from couriers import services
from couriers.ports import COURIER_DIRECTORY
from couriers.tracking import TrackPoint
from frontoffice.auth import create_user, issue_token
from frontoffice.db import utcnow
from tests.helpers import OrderActions

KAZAN_CENTRE = (55.7963, 49.1088)
BRANCH_1 = (55.7887, 49.1221)
BRANCH_2 = (55.7570, 49.2070)


@dataclass
class CourierActor:
    """A courier with a login and a bearer token."""

    id: int
    user_id: int | None
    username: str | None
    password: str | None
    token: str | None
    device_id: str | None

    @property
    def headers(self) -> dict[str, str]:
        """Authorization header of this courier's phone."""
        return {"Authorization": f"Bearer {self.token}"}


def make_courier(
    app,
    name: str,
    branch_ids=(1,),
    *,
    login: bool = True,
    device_id: str | None = None,
    max_active: int = 3,
    vehicle: str = "car",
    shift: bool = True,
    position: tuple[float, float] | None = None,
    position_age_s: float = 5,
    opening_cash: int = 0,
) -> CourierActor:
    """A courier (with a user and token unless ``login=False``), optionally on shift and placed."""
    db = app.extensions["frontoffice"].db
    with db.unit_of_work() as s:
        user = None
        token = None
        username = password = None
        if login:
            username = "c-" + name.lower().replace(" ", "-")
            password = "pw-" + username
            user = create_user(
                s,
                username,
                password,
                "courier",
                name,
                hash_method="pbkdf2:sha256:1000",
                strength_checked=False,
            )
            token = issue_token(s, user, "tests")
        courier = services.create_courier(
            s,
            services.CourierData(
                name=name,
                vehicle=vehicle,
                max_active_orders=max_active,
                branch_ids=list(branch_ids),
                user_id=user.id if user else None,
                device_id=device_id,
            ),
        )
        if shift:
            services.start_shift(s, courier, opening_cash=opening_cash)
        if position is not None:
            now = utcnow()
            services.record_track(
                s,
                courier.id,
                [
                    TrackPoint(
                        recorded_at=now - dt.timedelta(seconds=position_age_s),
                        lat=position[0],
                        lon=position[1],
                    )
                ],
                now=now,
            )
        out = CourierActor(courier.id, user.id if user else None, username, password, token, device_id)
    directory = app.extensions["frontoffice"].extensions.find(COURIER_DIRECTORY)
    if directory is not None:
        directory.invalidate()
    return out


def pool_order(
    app,
    branch_id: int = 1,
    *,
    status: str = "confirmed",
    kind: str = "delivery",
    at: tuple[float, float] | None = KAZAN_CENTRE,
    payment: str = "cash",
    change_from: int | None = None,
) -> int:
    """An order moved to ``status`` (confirmed, cooking, ready …) through the order services."""
    orders = OrderActions(app.extensions["frontoffice"])
    order_id = orders.place(
        ("PZ-MARG", 1),
        ("DR-COLA05", 2),
        branch_id=branch_id,
        client_name="Ivan",
        kind=kind,
        address_text="Kazan, Kremlyovskaya St, 21" if kind == "delivery" else "",
        lat=at[0] if at and kind == "delivery" else None,
        lon=at[1] if at and kind == "delivery" else None,
        payment_kind=payment,
        change_from=change_from,
        policies=False,
    ).id
    path = ["confirmed", "cooking", "ready", "in_delivery", "delivered"]
    if status in path:
        orders.move(order_id, *path[: path.index(status) + 1])
    elif status != "new":
        orders.move(order_id, status, reason="test")
    return order_id


def set_status(app, order_id: int, status: str, reason: str | None = None) -> None:
    """Move an order as the kitchen or the call centre would."""
    OrderActions(app.extensions["frontoffice"]).move(order_id, status, reason=reason)


def tiny_png(rgb: tuple[int, int, int] = (200, 30, 30), size: int = 48) -> bytes:
    """A real PNG image of one colour (browsers decode it)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + bytes(rgb) * size for _ in range(size))
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def delivered_with_photo(app, client, branch_id: int = 1) -> tuple[int, bytes]:
    """An order a courier delivered with a photo; its id and the photo's bytes."""
    photo = tiny_png()
    anna = make_courier(app, f"Anna {branch_id}", branch_ids=(branch_id,), position=KAZAN_CENTRE)
    order_id = pool_order(app, branch_id, status="ready", payment="prepaid")
    assert client.post(f"/api/courier/v1/orders/{order_id}/claim", headers=anna.headers).status_code == 200
    assert client.post(f"/api/courier/v1/orders/{order_id}/pickup", headers=anna.headers).status_code == 200
    done = client.post(
        f"/api/courier/v1/orders/{order_id}/deliver",
        json={
            "proofs": [
                {
                    "kind": "photo",
                    "content_type": "image/png",
                    "data_base64": base64.b64encode(photo).decode(),
                }
            ]
        },
        headers=anna.headers,
    )
    assert done.status_code == 200, done.json
    return order_id, photo


def link_to_branch(client, users, role: str, branch_id: int) -> None:
    resp = client.patch(
        f"/api/v1/staff/users/{users[role].id}",
        json={"branch_ids": [branch_id]},
        headers=users["admin"].headers,
    )
    assert resp.json["branch_ids"] == [branch_id]
