"""The /monitor namespace: a snapshot on connect, coalesced updates, rooms per branch, managers only."""

from __future__ import annotations

import datetime as dt
import queue
import time

import pytest
import requests
import socketio

from couriers.events import CourierMoved, CourierShiftChanged
from frontoffice.db import utcnow
from monitor.ports import MONITOR_HUB
from monitor.sockets import ALWAYS_SENT, HEARTBEAT_SHARDS
from orders.events import OrderStatusChanged
from tests.conftest import load_demo_catalogue, make_users, order_body


@pytest.fixture
def staff(sqlite_app):
    load_demo_catalogue(sqlite_app)
    return make_users(sqlite_app)


@pytest.fixture
def hub(sqlite_app):
    hub = sqlite_app.extensions["frontoffice"].extensions.get(MONITOR_HUB)
    yield hub
    hub.stop()


def screen(app, token: str | None, branch: int | None = None):
    kernel = app.extensions["frontoffice"]
    auth = {"token": token} if token else None
    if auth is not None and branch is not None:
        auth["branch"] = branch
    return kernel.socketio.test_client(app, namespace="/monitor", auth=auth)


def received(client, name: str) -> list[dict]:
    """The messages named ``name`` received so far (every other message is dropped)."""
    return [m["args"][0] for m in client.get_received("/monitor") if m["name"] == name]


def wait_for(client, name: str, timeout: float = 3.0) -> list[dict]:
    deadline = time.monotonic() + timeout
    got: list[dict] = []
    while time.monotonic() < deadline and not got:
        got = received(client, name)
        time.sleep(0.05)
    return got


def status_event(order_id: int, branch_id: int, to: str = "confirmed") -> OrderStatusChanged:
    return OrderStatusChanged(
        order_id=order_id,
        branch_id=branch_id,
        number=f"KZ{branch_id}-{order_id:03d}",
        from_status="new",
        to_status=to,
        reason=None,
        at=utcnow(),
        actor_id=None,
    )


def test_a_manager_gets_the_snapshot_on_connect(sqlite_app, staff, hub):
    client = screen(sqlite_app, staff["manager"].token)
    assert client.is_connected("/monitor")
    (snap,) = received(client, "snapshot")
    assert snap["branch_id"] is None and snap["orders_today"] == 0
    assert {b["code"] for b in snap["branches"]} == {"KZ1", "KZ2"}
    assert hub.watchers == 1
    client.disconnect("/monitor")
    assert hub.watchers == 0


@pytest.mark.parametrize("who", [None, "operator", "courier", "backoffice"])
def test_connections_without_a_manager_are_refused(sqlite_app, staff, hub, who):
    client = screen(sqlite_app, staff[who].token if who else None)
    assert not client.is_connected("/monitor")
    assert hub.watchers == 0


def test_a_hundred_events_make_a_bounded_number_of_messages(sqlite_app, staff, hub):
    client = screen(sqlite_app, staff["manager"].token)
    received(client, "snapshot")
    bus = sqlite_app.extensions["frontoffice"].bus
    started = time.monotonic()
    for i in range(100):
        if i % 2:
            bus.dispatch([status_event(1000 + i, 1 + i % 2)])
        else:
            bus.dispatch([CourierMoved(courier_id=i % 7, lat=55.79 + i / 1e4, lon=49.12, at=utcnow())])
        time.sleep(0.01)  # 100 events over about a second
    time.sleep(1.2)
    elapsed = time.monotonic() - started
    messages = client.get_received("/monitor")
    updates = [m["args"][0] for m in messages if m["name"] == "metrics_updated"]
    moves = [m["args"][0] for m in messages if m["name"] == "couriers_moved"]
    # at most one update of each kind per half second (plus the one in flight), never one per event
    bound = int(elapsed / hub.min_interval_s) + 2
    assert 1 <= len(updates) <= bound, (len(updates), bound)
    assert 1 <= len(moves) <= bound, (len(moves), bound)
    assert len(updates) + len(moves) < 20
    changed = {c["order_id"] for u in updates for c in u["changes"]}
    assert changed == {1000 + i for i in range(1, 100, 2)}
    latest = {c["id"]: c["lat"] for m in moves for c in m["couriers"]}
    assert set(latest) == set(range(7)) and latest[0] == pytest.approx(55.79 + 98 / 1e4)
    client.disconnect("/monitor")


def test_a_branch_watcher_hears_only_its_branch(sqlite_app, staff, hub):
    kz2 = screen(sqlite_app, staff["manager"].token, branch=2)
    everyone = screen(sqlite_app, staff["manager"].token)
    (snap,) = received(kz2, "snapshot")
    assert snap["branch_id"] == 2
    received(everyone, "snapshot")
    bus = sqlite_app.extensions["frontoffice"].bus
    bus.dispatch([status_event(501, 1)])
    assert [c["order_id"] for u in wait_for(everyone, "metrics_updated") for c in u["changes"]] == [501]
    time.sleep(hub.min_interval_s + 0.2)
    assert received(kz2, "metrics_updated") == []
    bus.dispatch([status_event(502, 2)])
    updates = wait_for(kz2, "metrics_updated")
    assert [c["order_id"] for u in updates for c in u["changes"]] == [502]
    assert all(u["branch_id"] == 2 for u in updates)
    kz2.disconnect("/monitor")
    everyone.disconnect("/monitor")


def test_a_shift_change_refreshes_the_couriers_of_its_branches(sqlite_app, staff, hub):
    client = screen(sqlite_app, staff["manager"].token, branch=1)
    received(client, "snapshot")
    sqlite_app.extensions["frontoffice"].bus.dispatch(
        [CourierShiftChanged(courier_id=3, on_shift=True, at=utcnow(), branch_ids=(1,))]
    )
    assert wait_for(client, "metrics_updated")
    client.disconnect("/monitor")


def test_a_quiet_screen_still_gets_a_heartbeat(sqlite_app, staff, hub):
    hub.heartbeat_s = 0.4
    client = screen(sqlite_app, staff["manager"].token)
    received(client, "snapshot")
    updates = wait_for(client, "metrics_updated", timeout=3)
    assert updates and updates[0]["changes"] == []
    client.disconnect("/monitor")


def test_the_first_update_after_a_screen_connects_leaves_out_what_its_snapshot_holds(sqlite_app, staff, hub):
    client = screen(sqlite_app, staff["manager"].token)
    received(client, "snapshot")
    hub.flush(heartbeat=True)
    (update,) = received(client, "metrics_updated")
    client.disconnect("/monitor")
    assert set(update) == ALWAYS_SENT


def test_a_heartbeat_carries_only_what_changed_until_every_section_is_due_again(sqlite_app, staff, hub):
    client = screen(sqlite_app, staff["manager"].token)
    (snap,) = received(client, "snapshot")
    hub.flush(heartbeat=True)
    hub.flush(heartbeat=True)
    quiet = received(client, "metrics_updated")[-1]
    hub.full_every_s = 0.0
    hub.flush(heartbeat=True)
    (full,) = received(client, "metrics_updated")
    client.disconnect("/monitor")
    assert set(quiet) == ALWAYS_SENT  # nothing happened: no section is sent again
    assert set(full) == set(snap)


def test_the_business_day_rolls_over_on_a_screen_left_open_overnight(sqlite_app, staff, hub):
    client = screen(sqlite_app, staff["manager"].token)
    (snap,) = received(client, "snapshot")
    tomorrow = utcnow() + dt.timedelta(days=1)
    hub.flush(heartbeat=True, now_fn=lambda: tomorrow)
    (update,) = received(client, "metrics_updated")
    assert dt.date.fromisoformat(update["business_date"]) == dt.date.fromisoformat(
        snap["business_date"]
    ) + dt.timedelta(days=1)
    assert update["hourly"]["last_week_date"] == str(
        dt.date.fromisoformat(update["business_date"]) - dt.timedelta(days=7)
    )
    client.disconnect("/monitor")


def test_a_real_client_hears_an_order_within_a_second(live_server):
    app = live_server.app
    load_demo_catalogue(app)
    users = make_users(app)
    heard: queue.Queue = queue.Queue()
    snapshots: queue.Queue = queue.Queue()
    client = socketio.Client(reconnection=False)
    client.on("snapshot", snapshots.put, namespace="/monitor")
    client.on("metrics_updated", heard.put, namespace="/monitor")
    client.connect(
        live_server.url,
        namespaces=["/monitor"],
        transports=["websocket"],
        auth={"token": users["manager"].token},
        wait_timeout=5,
    )
    try:
        assert snapshots.get(timeout=5)["orders_today"] == 0
        posted = time.monotonic()
        resp = requests.post(
            f"{live_server.url}/api/v1/orders",
            json=order_body(),
            headers=users["operator"].headers,
            timeout=10,
        )
        assert resp.status_code == 201
        update = heard.get(timeout=5)
        assert time.monotonic() - posted < 1.5
        assert update["orders_today"] == 1
        assert [c["number"] for c in update["changes"]] == [resp.json()["number"]]
    finally:
        client.disconnect()
        app.extensions["frontoffice"].extensions.get(MONITOR_HUB).stop()


def first_arrival(
    clients: dict[str, object], name: str, timeout: float = 5.0
) -> dict[str, tuple[float, dict]]:
    """When each client first received ``name`` (monotonic seconds) and what, polling every 10 ms."""
    got: dict[str, tuple[float, dict]] = {}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and len(got) < len(clients):
        for key, client in clients.items():
            if key not in got:
                messages = received(client, name)
                if messages:
                    got[key] = (time.monotonic(), messages[0])
        time.sleep(0.01)
    return got


def test_a_change_right_after_a_heartbeat_is_not_held_for_the_coalescing_interval(sqlite_app, staff, hub):
    hub.min_interval_s = 3.0
    hub.heartbeat_s = 0.3
    client = screen(sqlite_app, staff["manager"].token)
    received(client, "snapshot")
    assert wait_for(client, "metrics_updated")[0]["changes"] == []  # the heartbeat
    dispatched = time.monotonic()
    sqlite_app.extensions["frontoffice"].bus.dispatch([status_event(601, 1)])
    arrived = first_arrival({"screen": client}, "metrics_updated")
    client.disconnect("/monitor")
    assert arrived["screen"][1]["changes"][0]["order_id"] == 601
    assert arrived["screen"][0] - dispatched < 1.0


def test_a_large_rooms_heartbeat_is_spread_over_its_shards_and_a_change_goes_out_between_them(
    sqlite_app, staff, hub, monkeypatch
):
    monkeypatch.setattr("monitor.sockets.PACED_ABOVE", 1)
    hub.heartbeat_s = 1.0
    monkeypatch.setattr("monitor.sockets.HEARTBEAT_SPREAD", 0.6 * HEARTBEAT_SHARDS)  # 0.6 s per shard
    first, second = (screen(sqlite_app, staff["manager"].token, branch=2) for _ in range(2))
    everyone = screen(sqlite_app, staff["manager"].token)
    for client in (first, second, everyone):
        received(client, "snapshot")
    beat = first_arrival({"first": first}, "metrics_updated")
    received(everyone, "metrics_updated")  # its own heartbeat (a small room: all at once)
    sqlite_app.extensions["frontoffice"].bus.dispatch([status_event(602, 1)])
    arrived = first_arrival({"second": second, "everyone": everyone}, "metrics_updated")
    for client in (first, second, everyone):
        client.disconnect("/monitor")
    assert arrived["everyone"][1]["changes"][0]["order_id"] == 602
    assert arrived["everyone"][0] < arrived["second"][0]  # the change did not wait for the heartbeat
    assert arrived["second"][0] - beat["first"][0] > 0.3  # the room's screens heard it in turn


def test_an_update_carries_the_orders_of_the_map_that_changed_not_the_whole_map(sqlite_app, staff, hub):
    client = screen(sqlite_app, staff["manager"].token)
    (snap,) = received(client, "snapshot")
    http = sqlite_app.test_client()
    operator = staff["operator"].headers
    first = http.post("/api/v1/orders", json=order_body(), headers=operator).json
    placed = wait_for(client, "metrics_updated")
    time.sleep(hub.min_interval_s)
    second = http.post("/api/v1/orders", json=order_body(), headers=operator).json
    http.post(f"/api/v1/orders/{first['id']}/cancel", json={"reason": "changed their mind"}, headers=operator)
    time.sleep(2 * hub.min_interval_s + 0.3)
    later = received(client, "metrics_updated")
    client.disconnect("/monitor")
    assert snap["map_orders"] == []
    assert [o["order_id"] for o in placed[-1]["map_orders_changed"]] == [first["id"]]
    assert placed[-1]["map_orders_gone"] == []
    assert all("map_orders" not in u for u in placed + later)
    assert {o["order_id"] for u in later for o in u.get("map_orders_changed", [])} == {second["id"]}
    assert [i for u in later for i in u.get("map_orders_gone", [])] == [first["id"]]


def test_a_new_orders_fact_is_not_held_for_the_coalescing_interval(sqlite_app, staff, hub):
    from tests.integration.test_outbox import placed_event

    hub.min_interval_s = 5.0  # an interval no fact could hide behind
    client = screen(sqlite_app, staff["manager"].token)
    received(client, "snapshot")
    hub.order_event(status_event(701, 1))  # the commit's nudge: its update leaves at once
    assert wait_for(client, "metrics_updated")
    started = time.monotonic()
    hub.order_placed(placed_event(701))  # the fact, through the relay, just after
    facts = wait_for(client, "order_placed", timeout=3.0)
    assert [f["order_id"] for f in facts] == [701] and time.monotonic() - started < 1.0
    client.disconnect("/monitor")
