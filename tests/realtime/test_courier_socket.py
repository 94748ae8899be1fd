"""The /courier namespace: a courier's phone hears its pool change; strangers, staff and couriers
without a profile are refused."""

from __future__ import annotations

import queue

import pytest
import requests
import socketio

from tests.conftest import load_demo_catalogue, make_users
from tests.couriers_fixtures import make_courier, pool_order, set_status

EVENTS = ("order_available", "order_taken", "order_withdrawn", "order_assigned", "order_ready")


@pytest.fixture
def world(live_server):
    load_demo_catalogue(live_server.app)
    staff = make_users(live_server.app)
    kazan1 = make_courier(live_server.app, "Anna", branch_ids=(1,))
    kazan2 = make_courier(live_server.app, "Boris", branch_ids=(2,))
    return staff, kazan1, kazan2


def connect(url: str, token: str | None) -> tuple[socketio.Client, queue.Queue]:
    heard: queue.Queue = queue.Queue()
    client = socketio.Client(reconnection=False)
    for name in EVENTS:
        client.on(name, lambda data, name=name: heard.put((name, data)), namespace="/courier")
    client.connect(
        url,
        namespaces=["/courier"],
        transports=["websocket"],
        auth={"token": token} if token else None,
        wait_timeout=5,
    )
    return client, heard


def test_a_courier_hears_orders_entering_and_leaving_its_pool(live_server, world):
    staff, anna, boris = world
    app = live_server.app
    phone, heard = connect(live_server.url, anna.token)
    other, other_heard = connect(live_server.url, boris.token)
    try:
        order_id = pool_order(app, 1, status="new")
        set_status(app, order_id, "confirmed")
        name, data = heard.get(timeout=5)
        assert (name, data["order_id"], data["reason"]) == ("order_available", order_id, "confirmed")
        assert data["total"] == "807.00"

        rival = make_courier(app, "Rival", branch_ids=(1,))
        resp = requests.post(
            f"{live_server.url}/api/courier/v1/orders/{order_id}/claim", headers=rival.headers, timeout=10
        )
        assert resp.status_code == 200
        assert heard.get(timeout=5) == ("order_taken", {"order_id": order_id, "branch_id": 1})
        with pytest.raises(queue.Empty):
            other_heard.get(timeout=0.3)  # Boris serves the other branch
    finally:
        phone.disconnect()
        other.disconnect()


def test_a_courier_hears_when_a_dispatcher_gives_it_an_order(live_server, world):
    staff, anna, _ = world
    app = live_server.app
    order_id = pool_order(app, 1, status="cooking")
    phone, heard = connect(live_server.url, anna.token)
    try:
        resp = requests.post(
            f"{live_server.url}/api/v1/dispatch/orders/{order_id}/assign",
            json={"courier_id": anna.id},
            headers=staff["manager"].headers,
            timeout=10,
        )
        assert resp.status_code == 200, resp.text
        got = dict(heard.get(timeout=5) for _ in range(2))
        assert got["order_assigned"] == {"order_id": order_id}
        set_status(app, order_id, "ready")
        assert heard.get(timeout=5)[0] == "order_ready"
    finally:
        phone.disconnect()


def test_staff_and_couriers_without_a_profile_are_refused_and_couriers_admitted(app, catalogue, users):
    socketio_server = app.extensions["frontoffice"].socketio
    anna = make_courier(app, "Anna")

    def admitted(token: str | None) -> bool:
        client = socketio_server.test_client(
            app, namespace="/courier", auth={"token": token} if token else None
        )
        try:
            return client.is_connected("/courier")
        finally:
            if client.is_connected("/courier"):
                client.disconnect("/courier")

    assert admitted(anna.token)
    assert not admitted(None)
    assert not admitted("bogus")
    assert not admitted(users["manager"].token)
    assert not admitted(users["admin"].token)  # no courier profile
    assert not admitted(users["courier"].token)  # the courier role, but no profile
