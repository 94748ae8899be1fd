"""Dispatch for managers: the courier register, candidates ranked by distance and arrival, assign
and unassign with audit, auto-dispatch of ready orders nobody took."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from sqlalchemy import select

from couriers import services
from couriers.models import Courier
from couriers.ports import AUTO_DISPATCHER
from frontoffice.db import utcnow
from orders.events import CourierAssigned
from orders.models import Order, OrderEvent
from tests.couriers_fixtures import BRANCH_1, make_courier, pool_order

pytestmark = pytest.mark.usefixtures("catalogue")

D = "/api/v1/dispatch/orders"


def north_of_branch_1(metres: float) -> tuple[float, float]:
    return BRANCH_1[0] + metres / 111_320, BRANCH_1[1]


def test_candidates_are_free_couriers_of_the_branch_ranked_by_arrival(app, client, users):
    walker = make_courier(app, "Walker", vehicle="foot", position=north_of_branch_1(400))
    driver = make_courier(app, "Driver", vehicle="car", position=north_of_branch_1(1200))
    cyclist = make_courier(app, "Cyclist", vehicle="bike", position=north_of_branch_1(800))
    make_courier(app, "Stale", position=north_of_branch_1(100), position_age_s=3600)
    make_courier(app, "Off", shift=False, position=north_of_branch_1(100))
    make_courier(app, "Elsewhere", branch_ids=(2,), position=north_of_branch_1(100))
    busy = make_courier(app, "Busy", position=north_of_branch_1(50))
    client.post(f"/api/courier/v1/orders/{pool_order(app, status='ready')}/claim", headers=busy.headers)

    order_id = pool_order(app, status="ready")
    resp = client.get(f"{D}/{order_id}/candidates", headers=users["manager"].headers)
    assert resp.status_code == 200, resp.json
    items = resp.json["items"]
    assert [c["courier_id"] for c in items] == [driver.id, cyclist.id, walker.id]
    assert [round(c["distance_m"], -2) for c in items] == [1200, 800, 400]
    assert items[0]["eta_s"] < items[1]["eta_s"] < items[2]["eta_s"]
    assert all(c["eta_to_client_s"] > c["eta_s"] for c in items)


def test_a_manager_assigns_and_unassigns_with_an_audit_trail(app, client, users, kernel):
    heard: list[CourierAssigned] = []
    kernel.bus.subscribe(CourierAssigned, heard.append)
    kirill = make_courier(app, "Kirill", position=BRANCH_1)
    order_id = pool_order(app, status="cooking")
    h = users["manager"].headers
    assigned = client.post(f"{D}/{order_id}/assign", json={"courier_id": kirill.id}, headers=h)
    assert assigned.status_code == 200 and assigned.json["courier_id"] == kirill.id
    other = make_courier(app, "Other")
    again = client.post(f"{D}/{order_id}/assign", json={"courier_id": other.id}, headers=h)
    assert again.status_code == 409 and again.json["courier_id"] == kirill.id
    # The courier sees it as its own.
    active = client.get("/api/courier/v1/orders/active", headers=kirill.headers).json["items"]
    assert [o["id"] for o in active] == [order_id]
    back = client.post(f"{D}/{order_id}/unassign", json={"reason": "courier stuck in traffic"}, headers=h)
    assert back.status_code == 200 and back.json["courier_id"] is None
    assert client.post(f"{D}/{order_id}/unassign", json={}, headers=h).status_code == 409
    with app.extensions["frontoffice"].db.reading() as s:
        trail = s.scalars(
            select(OrderEvent).where(OrderEvent.order_id == order_id).order_by(OrderEvent.id)
        ).all()
        audit = [(e.kind, e.actor_id, e.payload.get("by")) for e in trail if e.kind.startswith("courier")]
    manager = users["manager"].id
    assert audit == [
        ("courier_assigned", manager, "dispatcher"),
        ("courier_unassigned", manager, "dispatcher"),
    ]
    assert [(e.courier_id, e.previous_courier_id) for e in heard] == [(kirill.id, None), (None, kirill.id)]


def test_assigning_respects_the_courier_shift_branch_and_maximum(app, client, users):
    h = users["manager"].headers
    off = make_courier(app, "Off", shift=False)
    elsewhere = make_courier(app, "Elsewhere", branch_ids=(2,))
    full = make_courier(app, "Full", max_active=1)
    client.post(f"{D}/{pool_order(app, status='ready')}/assign", json={"courier_id": full.id}, headers=h)
    order_id = pool_order(app, status="ready")
    for courier, words in ((off, "not on shift"), (elsewhere, "branch"), (full, "maximum")):
        resp = client.post(f"{D}/{order_id}/assign", json={"courier_id": courier.id}, headers=h)
        assert resp.status_code == 409 and words in resp.json["detail"], resp.json
    assert client.post(f"{D}/{order_id}/assign", json={"courier_id": 9999}, headers=h).status_code == 422
    assert client.post(f"{D}/9999/assign", json={"courier_id": full.id}, headers=h).status_code == 404
    pickup = pool_order(app, kind="pickup", status="ready")
    assert client.post(f"{D}/{pickup}/assign", json={"courier_id": off.id}, headers=h).status_code == 409


def test_auto_dispatch_gives_long_waiting_ready_orders_to_the_nearest_free_courier(app, db):
    near = make_courier(app, "Near", position=north_of_branch_1(300))
    far = make_courier(app, "Far", position=north_of_branch_1(3000))
    waiting = pool_order(app, status="ready")
    fresh = pool_order(app, status="ready")
    cooking = pool_order(app, status="cooking")
    later = utcnow() + dt.timedelta(minutes=10)
    with db.unit_of_work() as s:
        s.get(Order, fresh).status_changed_at = later - dt.timedelta(minutes=1)
    with db.unit_of_work() as s:
        done = services.auto_dispatch(s, after_minutes=5, now=later, signal_timeout_s=3600)
    assert done == [(waiting, near.id)]
    with db.unit_of_work() as s:
        second = services.auto_dispatch(s, after_minutes=0, now=later, signal_timeout_s=3600)
    assert second == [(fresh, far.id)]  # the near one is busy now
    with db.reading() as s:
        assert s.get(Order, cooking).courier_id is None
        audit = s.scalars(
            select(OrderEvent).where(OrderEvent.order_id == waiting, OrderEvent.kind == "courier_assigned")
        ).one()
        assert audit.payload["by"] == "auto" and audit.actor_id is None


def test_auto_dispatch_can_be_run_by_a_manager(app, client, users):
    near = make_courier(app, "Near", position=north_of_branch_1(300))
    order_id = pool_order(app, status="ready")
    resp = client.post("/api/v1/dispatch/auto", json={"after_minutes": 0}, headers=users["manager"].headers)
    assert resp.status_code == 200 and resp.json["assigned"] == [
        {"order_id": order_id, "courier_id": near.id}
    ]


def test_managers_register_couriers_and_list_their_states(app, client, users):
    h = users["manager"].headers
    created = client.post(
        "/api/v1/couriers",
        json={
            "name": "Rustam",
            "phone": "8 917 200-01-99",
            "vehicle": "bike",
            "branch_ids": [1, 2],
            "user_id": users["courier"].id,
            "device_id": "rustam-phone",
        },
        headers=h,
    )
    assert created.status_code == 201, created.json
    courier = created.json
    assert courier["phone"] == "+79172000199" and courier["branch_ids"] == [1, 2]
    dup = client.post(
        "/api/v1/couriers", json={"name": "X", "branch_ids": [1], "device_id": "rustam-phone"}, headers=h
    )
    assert dup.status_code == 422 and dup.json["errors"][0]["field"] == "device_id"
    not_courier = client.post(
        "/api/v1/couriers", json={"name": "X", "branch_ids": [7], "user_id": users["operator"].id}, headers=h
    )
    assert {e["field"] for e in not_courier.json["errors"]} == {"branch_ids", "user_id"}
    patched = client.patch(
        f"/api/v1/couriers/{courier['id']}",
        json={"branch_ids": [2], "device_id": None, "max_active_orders": 5},
        headers=h,
    )
    assert (
        patched.json["branch_ids"] == [2]
        and patched.json["device_id"] is None
        and patched.json["max_active_orders"] == 5
    )
    # The linked user can now use the courier app.
    token = client.post("/api/courier/v1/session", json={"login": "test-courier", "password": "pw-courier"})
    assert token.status_code == 201
    listed = client.get("/api/v1/couriers", headers=users["operator"].headers).json["items"]
    assert [(c["courier"]["name"], c["state"]) for c in listed] == [("Rustam", "offline")]
    assert (
        client.post(
            "/api/v1/couriers", json={"name": "X", "branch_ids": [1]}, headers=users["operator"].headers
        ).status_code
        == 403
    )


def test_courier_states_are_derived_from_shift_orders_and_signal(app, db):
    free = make_courier(app, "Free", position=BRANCH_1)
    busy = make_courier(app, "Busy", position=BRANCH_1)
    silent = make_courier(app, "Silent", position=BRANCH_1, position_age_s=900)
    never = make_courier(app, "Never")
    off = make_courier(app, "Off", shift=False, position=BRANCH_1)
    order_id = pool_order(app, status="ready")
    with db.unit_of_work() as s:
        services.claim_order(s, s.get(Courier, busy.id), order_id, actor_id=None)
    with db.reading() as s:
        states = services.courier_states(s, utcnow(), signal_timeout_s=300)
    assert states == {
        free.id: "free",
        busy.id: "busy",
        silent.id: "no_signal",
        never.id: "no_signal",
        off.id: "offline",
    }


def test_auto_dispatch_is_a_periodic_job_that_follows_the_stored_rule(app, database_url, tmp_path):
    from frontoffice.app import create_app

    idle = app.extensions["frontoffice"].extensions.get(AUTO_DISPATCHER)
    assert idle.default_minutes is None and idle.run_once() == []  # off until configured or switched on
    configured = create_app(
        {
            "database_url": database_url,
            "secret_key": "test",
            "instance_path": tmp_path / "other",
            "courier_auto_dispatch_minutes": 0.001,
            "courier_auto_dispatch_interval_s": 3600,
        }
    )
    kernel = configured.extensions["frontoffice"]
    loop = kernel.extensions.get(AUTO_DISPATCHER)
    # the job runs everywhere; each round reads the rule (off by default: the switch turns it on)
    assert "courier-auto-dispatch" in {j.name for j in app.extensions["frontoffice"].jobs.all()}
    try:
        assert loop.after_minutes == 0.001
        assert {j.name: j.interval_s for j in kernel.jobs.all()}["courier-auto-dispatch"] == 3600
        near = make_courier(configured, "Near", position=north_of_branch_1(300))
        order_id = pool_order(configured, status="ready")
        time.sleep(0.1)  # ready for longer than the configured 0.06 s
        assert "courier-auto-dispatch" in kernel.relay.run_jobs()  # due at once, then every hour
        assert loop.run_once() == []  # the job gave the order away already
        with kernel.db.reading() as s:
            assert s.get(Order, order_id).courier_id == near.id
    finally:
        kernel.relay.stop()
        kernel.db.dispose()
