"""Order facts reach staff sockets live; strangers are refused."""

from __future__ import annotations

import queue

import pytest
import requests
import socketio

from tests.conftest import load_demo_catalogue, make_users, order_body


@pytest.fixture
def staff(live_server):
    load_demo_catalogue(live_server.app)
    return make_users(live_server.app)


def connect(url: str, namespace: str, token: str | None) -> tuple[socketio.Client, queue.Queue]:
    received: queue.Queue = queue.Queue()
    client = socketio.Client(reconnection=False)
    client.on("order_placed", lambda data: received.put(data), namespace=namespace)
    client.connect(
        url,
        namespaces=[namespace],
        transports=["websocket"],
        auth={"token": token} if token else None,
        wait_timeout=5,
    )
    return client, received


@pytest.mark.parametrize("namespace", ["/monitor", "/callcentre"])
def test_a_real_socket_client_hears_an_order_posted_through_the_api(live_server, staff, namespace):
    client, received = connect(live_server.url, namespace, staff["manager"].token)
    try:
        resp = requests.post(
            f"{live_server.url}/api/v1/orders",
            json=order_body(),
            headers=staff["operator"].headers,
            timeout=10,
        )
        assert resp.status_code == 201
        event = received.get(timeout=5)
        assert event["order_id"] == resp.json()["id"]
        assert event["number"] == "KZ1-001"
        assert event["total"] == resp.json()["total"]  # money as REST gives it: a decimal string
    finally:
        client.disconnect()


def test_a_branch_watcher_hears_only_its_branch(live_server, staff):
    client = socketio.Client(reconnection=False)
    got: queue.Queue = queue.Queue()
    client.on("order_placed", lambda d: got.put(d["branch_id"]), namespace="/monitor")
    client.connect(
        live_server.url,
        namespaces=["/monitor"],
        transports=["websocket"],
        auth={"token": staff["manager"].token, "branch": 2},
        wait_timeout=5,
    )
    try:
        h = staff["operator"].headers
        requests.post(f"{live_server.url}/api/v1/orders", json=order_body(branch_id=1), headers=h, timeout=10)
        requests.post(f"{live_server.url}/api/v1/orders", json=order_body(branch_id=2), headers=h, timeout=10)
        assert got.get(timeout=5) == 2
        with pytest.raises(queue.Empty):
            got.get(timeout=0.5)
    finally:
        client.disconnect()


def test_a_real_client_without_credentials_is_refused(live_server, staff):
    with pytest.raises(socketio.exceptions.ConnectionError):
        client, _ = connect(live_server.url, "/monitor", None)
        client.disconnect()


@pytest.mark.parametrize(
    ("who", "namespace"),
    [
        (None, "/monitor"),
        ("bogus", "/monitor"),
        ("courier", "/monitor"),
        ("operator", "/monitor"),
        (None, "/callcentre"),
        ("courier", "/callcentre"),
    ],
)
def test_unauthenticated_or_wrong_role_sockets_are_refused(app, users, who, namespace):
    token = None if who is None else users[who].token if who in users else who
    socketio_server = app.extensions["frontoffice"].socketio
    client = socketio_server.test_client(app, namespace=namespace, auth={"token": token} if token else None)
    assert not client.is_connected(namespace)


@pytest.mark.parametrize(("who", "namespace"), [("manager", "/monitor"), ("operator", "/callcentre")])
def test_staff_of_the_right_role_are_admitted(app, users, who, namespace):
    socketio_server = app.extensions["frontoffice"].socketio
    client = socketio_server.test_client(app, namespace=namespace, auth={"token": users[who].token})
    assert client.is_connected(namespace)
    client.disconnect(namespace=namespace)
