"""The /track namespace: a tracking page hears its own order — status and courier moves — and
nothing of any other; a token that does not work is refused."""

from __future__ import annotations

import datetime as dt
import queue
import time
from collections.abc import Iterator

import pytest
import requests
import socketio
from sqlalchemy import select, update

from couriers import services as couriers_services
from couriers.tracking import TrackPoint
from frontoffice.db import utcnow
from tests.conftest import LiveServer, _make_app, load_demo_catalogue
from tests.couriers_fixtures import BRANCH_1, make_courier, pool_order, set_status
from tracking.models import TrackingLink


def token_of(app, order_id: int) -> str:
    with app.extensions["frontoffice"].db.reading() as s:
        return s.scalar(select(TrackingLink.token).where(TrackingLink.order_id == order_id))


def connect(url: str, token: str) -> tuple[socketio.Client, queue.Queue]:
    heard: queue.Queue = queue.Queue()
    # Long-polling: websocket-client's close waits up to 3 s for the development server's close
    # frame; the browser test (tests/e2e/test_tracking_e2e.py) runs the page over the websocket.
    client = socketio.Client(reconnection=False)
    client.on("tracking_updated", heard.put, namespace="/track")
    client.connect(url, namespaces=["/track"], transports=["polling"], auth={"token": token}, wait_timeout=5)
    return client, heard


def next_view(heard: queue.Queue, status: str) -> dict:
    """The first view heard in ``status`` (earlier ones — the first snapshot — are passed over)."""
    while True:
        view = heard.get(timeout=5)
        if view["status"] == status:
            return view


@pytest.fixture
def live_server(tmp_path, _sqlite_template) -> Iterator[LiveServer]:
    """A live server whose courier moves reach the pages within 0.05 s, and whose connections that
    joined no namespace are closed after 0.3 s."""
    app = _make_app(
        _sqlite_template.fresh(tmp_path), tmp_path, tracking_push_interval_s=0.05, socket_join_grace_s=0.3
    )
    server = LiveServer(app)
    yield server
    server.stop()
    app.extensions["frontoffice"].db.dispose()


def test_a_page_hears_its_own_order_move_and_nothing_of_another(live_server):
    app = live_server.app
    load_demo_catalogue(app)
    anna = make_courier(app, "Anna Petrova", device_id="anna-phone", position=BRANCH_1)
    mine = pool_order(app, status="ready", payment="prepaid")
    other = pool_order(app, status="cooking")
    page, heard = connect(live_server.url, token_of(app, mine))
    stranger, stranger_heard = connect(live_server.url, token_of(app, other))
    try:
        first = heard.get(timeout=5)
        assert (first["order_id"], first["status"], first["courier"]) == (mine, "ready", None)
        assert stranger_heard.get(timeout=5)["order_id"] == other
        for step in ("claim", "pickup"):
            resp = requests.post(
                f"{live_server.url}/api/courier/v1/orders/{mine}/{step}", headers=anna.headers, timeout=10
            )
            assert resp.status_code == 200, resp.text
        on_the_way = next_view(heard, "in_delivery")
        assert on_the_way["courier"]["first_name"] == "Anna" and on_the_way["eta"]["seconds"] > 0
        stamp = int(utcnow().timestamp())
        ping = requests.get(
            f"{live_server.url}/api/osmand?id=anna-phone&timestamp={stamp}&lat=55.7930&lon=49.1150",
            timeout=10,
        )
        assert ping.status_code == 200
        moved = heard.get(timeout=5)
        assert (moved["courier"]["lat"], moved["courier"]["lon"]) == (55.7930, 49.1150)
        assert moved["eta"]["seconds"] < on_the_way["eta"]["seconds"]
        with pytest.raises(queue.Empty):
            stranger_heard.get(timeout=0.2)  # another order's page heard none of it

        # A wrong token is refused and leaves no connection behind (the kernel's guard would close one
        # that stayed without joining a namespace after its grace).
        guard = app.extensions["frontoffice"].socketio.guard
        with pytest.raises(socketio.exceptions.ConnectionError):
            connect(live_server.url, "C" * 22)
        deadline = time.monotonic() + 3
        while guard.count > 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert guard.count == 2  # the two admitted pages
    finally:
        page.disconnect()
        stranger.disconnect()


def test_only_a_working_link_is_admitted(sqlite_app):
    app = sqlite_app
    load_demo_catalogue(app)
    ended = pool_order(app, status="cooking")
    set_status(app, ended, "cancelled", reason="client called")
    working = pool_order(app, status="cooking")
    socketio_ = app.extensions["frontoffice"].socketio
    for auth in (None, {}, {"token": 42}, {"token": "short"}, {"token": "A" * 22}):
        refused = socketio_.test_client(app, namespace="/track", auth=auth)
        assert not refused.is_connected("/track"), auth
    admitted = socketio_.test_client(app, namespace="/track", auth={"token": token_of(app, working)})
    assert admitted.is_connected("/track")
    [message] = admitted.get_received("/track")
    assert message["name"] == "tracking_updated" and message["args"][0]["order_id"] == working
    still = socketio_.test_client(app, namespace="/track", auth={"token": token_of(app, ended)})
    assert still.is_connected("/track")  # a cancelled order's link works for a day more
    with app.extensions["frontoffice"].db.unit_of_work() as s:
        s.execute(
            update(TrackingLink)
            .where(TrackingLink.order_id == ended)
            .values(expires_at=utcnow() - dt.timedelta(seconds=1))
        )
    late = socketio_.test_client(app, namespace="/track", auth={"token": token_of(app, ended)})
    assert not late.is_connected("/track")
    admitted.disconnect("/track")
    still.disconnect("/track")


def test_a_burst_of_moves_reaches_the_page_at_most_twice_the_last_position_last(tmp_path, _sqlite_template):
    app = _make_app(_sqlite_template.fresh(tmp_path), tmp_path, tracking_push_interval_s=0.15)
    try:
        load_demo_catalogue(app)
        kernel = app.extensions["frontoffice"]
        anna = make_courier(app, "Anna", position=BRANCH_1)
        order_id = pool_order(app, status="ready", payment="prepaid")
        client = app.test_client()
        for step in ("claim", "pickup"):
            assert (
                client.post(f"/api/courier/v1/orders/{order_id}/{step}", headers=anna.headers).status_code
                == 200
            )
        page = kernel.socketio.test_client(app, namespace="/track", auth={"token": token_of(app, order_id)})
        page.get_received("/track")  # the first view
        start = utcnow()
        burst = [(55.7900 + i / 1000, 49.1200) for i in range(4)]
        for i, (lat, lon) in enumerate(burst):
            with kernel.db.unit_of_work() as s:
                couriers_services.record_track(
                    s, anna.id, [TrackPoint(recorded_at=start + dt.timedelta(seconds=i), lat=lat, lon=lon)]
                )
        heard: list[dict] = []
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline and (not heard or heard[-1]["courier"]["lat"] != burst[-1][0]):
            heard += [m["args"][0] for m in page.get_received("/track")]
            time.sleep(0.02)
        time.sleep(0.2)  # nothing more comes after the last position
        heard += [m["args"][0] for m in page.get_received("/track")]
        assert 1 <= len(heard) <= 2, [v["courier"]["lat"] for v in heard]
        assert (heard[-1]["courier"]["lat"], heard[-1]["courier"]["lon"]) == burst[-1]
        page.disconnect("/track")
    finally:
        app.extensions["frontoffice"].db.dispose()
