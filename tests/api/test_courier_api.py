"""The courier mobile API: sessions, shifts and cash, the pool, claim → pickup → deliver/fail,
isolation between couriers, idempotent retries."""

from __future__ import annotations

import base64
import datetime as dt

import pytest
from sqlalchemy import func, select

from couriers.models import CourierDelivery, CourierShift, DeliveryProof
from frontoffice.db import utcnow
from orders.models import Order, OrderEvent
from tests.couriers_fixtures import BRANCH_1, KAZAN_CENTRE, make_courier, pool_order, set_status

pytestmark = pytest.mark.usefixtures("catalogue")

API = "/api/courier/v1"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def count(db, model, *where) -> int:
    with db.reading() as s:
        return s.scalar(select(func.count()).select_from(model).where(*where))


def test_a_courier_logs_in_with_login_and_password_and_logs_out(app, client):
    kirill = make_courier(app, "Kirill")
    resp = client.post(
        f"{API}/session",
        json={"login": kirill.username, "password": kirill.password, "device_name": "Pixel 7"},
    )
    assert resp.status_code == 201, resp.json
    assert resp.json["courier"]["id"] == kirill.id
    headers = {"Authorization": f"Bearer {resp.json['token']}"}
    assert client.get(f"{API}/me", headers=headers).json["courier"]["name"] == "Kirill"
    assert client.delete(f"{API}/session", headers=headers).status_code == 204
    assert client.get(f"{API}/me", headers=headers).status_code == 401


def test_wrong_passwords_staff_and_couriers_without_a_profile_get_no_token(app, client, users):
    kirill = make_courier(app, "Kirill")
    assert (
        client.post(f"{API}/session", json={"login": kirill.username, "password": "nope"}).status_code == 401
    )
    staff = client.post(f"{API}/session", json={"login": "test-manager", "password": "pw-manager"})
    assert staff.status_code == 403 and staff.mimetype == "application/problem+json"
    # test-courier has the courier role but no courier profile
    bare = client.post(f"{API}/session", json={"login": "test-courier", "password": "pw-courier"})
    assert bare.status_code == 403 and "no courier profile" in bare.json["detail"]


def test_staff_tokens_and_an_admin_without_a_courier_profile_are_refused_with_403(client, users):
    assert client.get(f"{API}/orders/available", headers=users["manager"].headers).status_code == 403
    admin = client.get(f"{API}/orders/available", headers=users["admin"].headers)
    assert admin.status_code == 403 and "no courier profile" in admin.json["detail"]
    assert client.get(f"{API}/orders/available").status_code == 401
    assert client.delete(f"{API}/session", headers=users["admin"].headers).status_code == 403
    assert (
        client.get("/api/v1/orders", headers=users["admin"].headers).status_code == 200
    )  # token still alive


def test_a_shift_carries_the_cash_collected_until_it_is_handed_in(app, client, db):
    kirill = make_courier(app, "Kirill", shift=False, position=BRANCH_1)
    h = kirill.headers
    assert client.post(f"{API}/orders/1/claim", headers=h).status_code in (404, 409)
    started = client.post(f"{API}/shift/start", json={"opening_cash": "1000.00"}, headers=h)
    assert started.status_code == 201 and started.json["cash_on_hand"] == "1000.00"
    assert client.post(f"{API}/shift/start", json={}, headers=h).status_code == 409

    order_id = pool_order(app, status="ready", change_from=500000)
    claimed = client.post(f"{API}/orders/{order_id}/claim", headers=h).json
    assert claimed["courier_id"] == kirill.id and claimed["change_due"] == "4193.00"
    assert client.post(f"{API}/shift/end", json={}, headers=h).status_code == 409  # still carries an order
    assert client.post(f"{API}/orders/{order_id}/pickup", headers=h).json["status"] == "in_delivery"
    no_cash = client.post(f"{API}/orders/{order_id}/deliver", json={}, headers=h)
    assert no_cash.status_code == 422 and no_cash.json["errors"][0]["field"] == "cash_collected"
    done = client.post(f"{API}/orders/{order_id}/deliver", json={"cash_collected": "807.00"}, headers=h)
    assert done.status_code == 200 and done.json["status"] == "delivered"
    assert client.get(f"{API}/me", headers=h).json["shift"]["cash_on_hand"] == "1807.00"

    report = client.post(f"{API}/shift/end", json={"cash_handed_in": "1800.00"}, headers=h)
    assert report.status_code == 200, report.json
    body = report.json
    assert body["delivered"] == 1 and body["failed"] == 0
    assert body["cash_expected"] == "1807.00" and body["discrepancy"] == "-7.00"
    assert body["shift"]["cash_on_hand"] == "0.00" and body["shift"]["ended_at"]
    assert body["deliveries"][0]["cash_collected"] == "807.00"
    again = client.get(f"{API}/shifts/{body['shift']['id']}", headers=h).json
    assert again["discrepancy"] == "-7.00"
    assert client.get(f"{API}/me", headers=h).json["state"] == "offline"


def test_the_pool_shows_only_unclaimed_delivery_orders_of_my_branches_with_distances(app, client):
    kirill = make_courier(app, "Kirill", branch_ids=(1,), position=BRANCH_1)
    mine = [pool_order(app, 1, status=s) for s in ("confirmed", "cooking", "ready")]
    pool_order(app, 1, status="new")  # not confirmed yet
    pool_order(app, 1, kind="pickup", status="ready")  # the client collects it
    pool_order(app, 2, status="ready")  # another branch
    taken = pool_order(app, 1, status="ready")
    other = make_courier(app, "Other", branch_ids=(1,))
    assert client.post(f"{API}/orders/{taken}/claim", headers=other.headers).status_code == 200

    items = client.get(f"{API}/orders/available", headers=kirill.headers).json["items"]
    assert sorted(i["id"] for i in items) == sorted(mine)
    first = items[0]
    # Baumana branch to the Kremlin client: about 1.2 km; the courier stands at the branch.
    assert 1000 < first["distance_from_branch_m"] < 1500
    assert first["distance_from_courier_m"] == pytest.approx(first["distance_from_branch_m"], abs=1)
    assert first["lines"][0]["name"] and first["total"] == "807.00" and first["payment_kind"] == "cash"


def test_a_second_courier_cannot_claim_a_claimed_order(app, client):
    a = make_courier(app, "Anna")
    b = make_courier(app, "Boris")
    order_id = pool_order(app, status="cooking")
    assert client.post(f"{API}/orders/{order_id}/claim", headers=a.headers).status_code == 200
    lost = client.post(f"{API}/orders/{order_id}/claim", headers=b.headers)
    assert lost.status_code == 409 and "already taken" in lost.json["detail"]
    assert lost.json["code"] == "taken"  # a lost race, told apart from the other 409s


def test_claims_respect_the_maximum_and_the_shift(app, client):
    a = make_courier(app, "Anna", max_active=2)
    orders = [pool_order(app, status="confirmed") for _ in range(3)]
    assert [client.post(f"{API}/orders/{o}/claim", headers=a.headers).status_code for o in orders] == [
        200,
        200,
        409,
    ]
    off = make_courier(app, "Offshift", shift=False)
    refused = client.post(f"{API}/orders/{orders[2]}/claim", headers=off.headers)
    assert refused.status_code == 409 and "shift" in refused.json["detail"]


def test_courier_a_cannot_see_or_touch_courier_b_orders(app, client):
    a = make_courier(app, "Anna")
    b = make_courier(app, "Boris")
    order_id = pool_order(app, status="ready")
    assert client.post(f"{API}/orders/{order_id}/claim", headers=b.headers).status_code == 200
    assert client.get(f"{API}/orders/{order_id}", headers=a.headers).status_code == 404
    for action, body in (
        ("release", {}),
        ("pickup", None),
        ("deliver", {"cash_collected": "1"}),
        ("fail", {"reason_code": "client_absent"}),
    ):
        resp = client.post(f"{API}/orders/{order_id}/{action}", json=body, headers=a.headers)
        assert resp.status_code == 404, (action, resp.json)
    assert client.get(f"{API}/orders/active", headers=a.headers).json["items"] == []
    assert [o["id"] for o in client.get(f"{API}/orders/active", headers=b.headers).json["items"]] == [
        order_id
    ]
    assert client.get(f"{API}/orders/{order_id}", headers=b.headers).status_code == 200
    # An order of a branch I do not serve does not exist for me.
    far = pool_order(app, 2, status="ready")
    assert client.post(f"{API}/orders/{far}/claim", headers=a.headers).status_code == 404
    assert client.get(f"{API}/orders/{far}", headers=a.headers).status_code == 404


def test_release_puts_the_order_back_in_the_pool_only_before_pickup(app, client, db):
    a = make_courier(app, "Anna")
    order_id = pool_order(app, status="ready")
    client.post(f"{API}/orders/{order_id}/claim", headers=a.headers)
    back = client.post(f"{API}/orders/{order_id}/release", json={"reason": "flat tyre"}, headers=a.headers)
    assert back.status_code == 200 and back.json["courier_id"] is None
    assert order_id in [
        o["id"] for o in client.get(f"{API}/orders/available", headers=a.headers).json["items"]
    ]
    client.post(f"{API}/orders/{order_id}/claim", headers=a.headers)
    client.post(f"{API}/orders/{order_id}/pickup", headers=a.headers)
    late = client.post(f"{API}/orders/{order_id}/release", json={}, headers=a.headers)
    assert late.status_code == 409
    with db.reading() as s:
        kinds = [
            e.kind
            for e in s.scalars(
                select(OrderEvent).where(OrderEvent.order_id == order_id).order_by(OrderEvent.id)
            )
        ]
    assert kinds.count("courier_assigned") == 2 and "courier_released" in kinds


def test_pickup_waits_for_the_kitchen(app, client):
    a = make_courier(app, "Anna")
    order_id = pool_order(app, status="cooking")
    client.post(f"{API}/orders/{order_id}/claim", headers=a.headers)
    early = client.post(f"{API}/orders/{order_id}/pickup", headers=a.headers)
    assert early.status_code == 409 and early.json["current_status"] == "cooking"
    set_status(app, order_id, "ready")
    assert client.post(f"{API}/orders/{order_id}/pickup", headers=a.headers).json["status"] == "in_delivery"


def test_delivery_of_a_prepaid_order_keeps_a_photo_a_signature_and_the_position(app, client, db):
    a = make_courier(app, "Anna", position=KAZAN_CENTRE)
    order_id = pool_order(app, status="ready", payment="prepaid")
    client.post(f"{API}/orders/{order_id}/claim", headers=a.headers)
    client.post(f"{API}/orders/{order_id}/pickup", headers=a.headers)
    png = base64.b64encode(PNG).decode()
    refused = client.post(
        f"{API}/orders/{order_id}/deliver", json={"cash_collected": "807.00"}, headers=a.headers
    )
    assert refused.status_code == 422  # no cash on a prepaid order
    fake = client.post(
        f"{API}/orders/{order_id}/deliver",
        json={"proofs": [{"kind": "photo", "content_type": "image/jpeg", "data_base64": png}]},
        headers=a.headers,
    )
    assert fake.status_code == 422 and fake.json["errors"][0]["field"] == "proofs.0.data_base64"
    big = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\x00" * (600 * 1024)).decode()
    too_big = client.post(
        f"{API}/orders/{order_id}/deliver",
        json={"proofs": [{"kind": "photo", "content_type": "image/png", "data_base64": big}]},
        headers=a.headers,
    )
    assert too_big.status_code in (413, 422)
    ok = client.post(
        f"{API}/orders/{order_id}/deliver",
        json={
            "proofs": [
                {"kind": "photo", "content_type": "image/png", "data_base64": png},
                {"kind": "signature", "content_type": "image/png", "data_base64": png},
            ],
            "comment": "left with the concierge",
        },
        headers=a.headers,
    )
    assert ok.status_code == 200, ok.json
    assert count(db, DeliveryProof, DeliveryProof.order_id == order_id) == 2
    with db.reading() as s:
        stamp = s.get(CourierDelivery, order_id)
        assert (stamp.lat, stamp.lon) == KAZAN_CENTRE and stamp.cash_collected == 0


def test_a_failed_delivery_needs_a_known_reason_code(app, client, db):
    a = make_courier(app, "Anna")
    order_id = pool_order(app, status="ready")
    client.post(f"{API}/orders/{order_id}/claim", headers=a.headers)
    client.post(f"{API}/orders/{order_id}/pickup", headers=a.headers)
    assert (
        client.post(
            f"{API}/orders/{order_id}/fail", json={"reason_code": "bored"}, headers=a.headers
        ).status_code
        == 422
    )
    assert (
        client.post(
            f"{API}/orders/{order_id}/fail", json={"reason_code": "other"}, headers=a.headers
        ).status_code
        == 422
    )
    failed = client.post(
        f"{API}/orders/{order_id}/fail",
        json={"reason_code": "client_absent", "lat": 55.8, "lon": 49.1},
        headers=a.headers,
    )
    assert failed.status_code == 200 and failed.json["status"] == "failed"
    history = client.get(f"{API}/orders/history", headers=a.headers).json
    assert history["total"] == 1 and history["items"][0]["id"] == order_id
    with db.reading() as s:
        order = s.get(Order, order_id)
        assert order.events[-1].reason == "client_absent"
        assert s.get(CourierDelivery, order_id).reason_code == "client_absent"
    report = client.get(f"{API}/shift", headers=a.headers).json
    assert report["failed"] == 1 and report["deliveries"][0]["reason_code"] == "client_absent"


def test_a_retried_claim_returns_the_first_answer_and_changes_nothing(app, client, db):
    a = make_courier(app, "Anna")
    order_id = pool_order(app, status="ready")
    h = {**a.headers, "Idempotency-Key": "claim-1"}
    first = client.post(f"{API}/orders/{order_id}/claim", headers=h)
    with db.reading() as s:
        version = s.get(Order, order_id).version
    events = count(db, OrderEvent, OrderEvent.order_id == order_id)
    second = client.post(f"{API}/orders/{order_id}/claim", headers=h)
    assert second.status_code == first.status_code == 200
    assert second.json == first.json and second.headers["Idempotent-Replayed"] == "true"
    with db.reading() as s:
        assert s.get(Order, order_id).version == version
    assert count(db, OrderEvent, OrderEvent.order_id == order_id) == events
    # Without a key, claiming my own order again answers it again and writes nothing either.
    third = client.post(f"{API}/orders/{order_id}/claim", headers=a.headers)
    assert third.status_code == 200 and third.json["version"] == version
    assert count(db, OrderEvent, OrderEvent.order_id == order_id) == events


def test_a_retried_delivery_does_not_count_the_cash_twice(app, client, db):
    a = make_courier(app, "Anna")
    order_id = pool_order(app, status="ready")
    client.post(f"{API}/orders/{order_id}/claim", headers=a.headers)
    client.post(f"{API}/orders/{order_id}/pickup", headers=a.headers)
    h = {**a.headers, "Idempotency-Key": "deliver-1"}
    first = client.post(f"{API}/orders/{order_id}/deliver", json={"cash_collected": "807.00"}, headers=h)
    second = client.post(f"{API}/orders/{order_id}/deliver", json={"cash_collected": "807.00"}, headers=h)
    assert first.status_code == second.status_code == 200 and first.json == second.json
    with db.reading() as s:
        assert s.scalar(select(CourierShift.cash_collected).where(CourierShift.courier_id == a.id)) == 80700


def test_the_same_key_with_another_body_is_refused(app, client):
    a = make_courier(app, "Anna", shift=False)
    h = {**a.headers, "Idempotency-Key": "shift-1"}
    assert client.post(f"{API}/shift/start", json={"opening_cash": "10"}, headers=h).status_code == 201
    again = client.post(f"{API}/shift/start", json={"opening_cash": "20"}, headers=h)
    assert again.status_code == 422


def test_history_is_paginated_newest_first(app, client):
    a = make_courier(app, "Anna", max_active=5)
    ids = [pool_order(app, status="ready", payment="prepaid") for _ in range(3)]
    for o in ids:
        client.post(f"{API}/orders/{o}/claim", headers=a.headers)
        client.post(f"{API}/orders/{o}/pickup", headers=a.headers)
        client.post(f"{API}/orders/{o}/deliver", json={}, headers=a.headers)
    page = client.get(f"{API}/orders/history?per_page=2", headers=a.headers).json
    assert page["total"] == 3 and [o["id"] for o in page["items"]] == [ids[2], ids[1]]
    assert client.get(f"{API}/orders/history?per_page=0", headers=a.headers).status_code == 422


def test_the_courier_api_is_in_the_openapi_document(client):
    doc = client.get("/api/openapi.json").json
    claim = doc["paths"]["/api/courier/v1/orders/{order_id}/claim"]["post"]
    assert claim["x-roles"] == ["courier"] and "409" in claim["responses"]
    assert "Idempotency-Key" in [p["name"] for p in claim["parameters"]]
    assert "/api/osmand" in doc["paths"] and "/api/v1/dispatch/orders/{order_id}/candidates" in doc["paths"]


def test_me_tells_the_state_free_busy_or_no_signal(app, client):
    fresh = make_courier(app, "Fresh", position=BRANCH_1)
    stale = make_courier(app, "Stale", position=BRANCH_1, position_age_s=3600)
    assert client.get(f"{API}/me", headers=fresh.headers).json["state"] == "free"
    assert client.get(f"{API}/me", headers=stale.headers).json["state"] == "no_signal"
    order_id = pool_order(app, status="ready")
    client.post(f"{API}/orders/{order_id}/claim", headers=fresh.headers)
    me = client.get(f"{API}/me", headers=fresh.headers).json
    assert me["state"] == "busy" and me["carried"] == 1
    assert me["position"]["recorded_at"] < (utcnow() + dt.timedelta(seconds=1)).isoformat()
