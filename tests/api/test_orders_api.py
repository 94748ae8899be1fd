"""The order API: create, read, list, move, cancel; bad input never writes."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from orders.models import Order, OrderEvent, OrderLine
from tests.conftest import order_body

pytestmark = pytest.mark.usefixtures("catalogue")


def counts(db) -> tuple[int, int, int]:
    with db.reading() as s:
        return tuple(s.scalar(select(func.count()).select_from(m)) for m in (Order, OrderLine, OrderEvent))


def test_operator_takes_an_order_priced_from_the_catalogue(client, users):
    resp = client.post("/api/v1/orders", json=order_body(), headers=users["operator"].headers)
    assert resp.status_code == 201, resp.json
    order = resp.json
    assert order["number"] == "KZ1-001"
    assert order["status"] == "new"
    assert order["client_phone"] == "+79123456789"
    assert order["items_total"] == "1406.00"  # 549 + 2 * 129 + 599
    assert order["total"] == "1406.00"
    assert [ln["unit_price"] for ln in order["lines"]] == ["549.00", "129.00", "599.00"]
    assert order["events"][0]["kind"] == "created"


def test_numbers_run_per_branch_per_day(client, users):
    h = users["operator"].headers
    numbers = [
        client.post("/api/v1/orders", json=order_body(branch_id=b), headers=h).json["number"]
        for b in (1, 1, 2)
    ]
    assert numbers == ["KZ1-001", "KZ1-002", "KZ2-001"]


def test_get_and_list_filter_by_status_and_phone(client, users):
    h = users["operator"].headers
    first = client.post("/api/v1/orders", json=order_body(), headers=h).json
    client.post("/api/v1/orders", json=order_body(client={"phone": "89031112233", "name": "Petr"}), headers=h)
    assert client.get(f"/api/v1/orders/{first['id']}", headers=h).json["id"] == first["id"]
    listed = client.get("/api/v1/orders?phone=8 (912) 345 67 89", headers=h).json
    assert listed["total"] == 1 and listed["items"][0]["id"] == first["id"]
    assert client.get("/api/v1/orders?status=new&per_page=1", headers=h).json["total"] == 2
    assert client.get("/api/v1/orders?status=delivered", headers=h).json["total"] == 0


def test_an_order_moves_through_its_life_with_an_audit_trail(client, users):
    h = users["manager"].headers
    order = client.post("/api/v1/orders", json=order_body(), headers=h).json
    for status in ("confirmed", "cooking", "ready", "in_delivery", "delivered"):
        resp = client.post(f"/api/v1/orders/{order['id']}/status", json={"status": status}, headers=h)
        assert resp.status_code == 200, resp.json
    final = client.get(f"/api/v1/orders/{order['id']}", headers=h).json
    assert final["status"] == "delivered" and final["delivered_at"]
    assert [e["to_status"] for e in final["events"]] == [
        "new",
        "confirmed",
        "cooking",
        "ready",
        "in_delivery",
        "delivered",
    ]


def test_an_illegal_transition_answers_409_naming_the_allowed_ones(client, users):
    h = users["manager"].headers
    order = client.post("/api/v1/orders", json=order_body(), headers=h).json
    resp = client.post(f"/api/v1/orders/{order['id']}/status", json={"status": "delivered"}, headers=h)
    assert resp.status_code == 409
    assert resp.mimetype == "application/problem+json"
    assert resp.json["allowed"] == ["cancelled", "confirmed", "on_hold"]


def test_cancel_needs_a_reason_and_is_refused_once_in_delivery(client, users):
    h = users["manager"].headers
    order = client.post("/api/v1/orders", json=order_body(), headers=h).json
    assert (
        client.post(f"/api/v1/orders/{order['id']}/cancel", json={"reason": ""}, headers=h).status_code == 422
    )
    ok = client.post(
        f"/api/v1/orders/{order['id']}/cancel", json={"reason": "client changed mind"}, headers=h
    )
    assert ok.status_code == 200 and ok.json["status"] == "cancelled"
    other = client.post("/api/v1/orders", json=order_body(), headers=h).json
    for status in ("confirmed", "cooking", "ready", "in_delivery"):
        client.post(f"/api/v1/orders/{other['id']}/status", json={"status": status}, headers=h)
    late = client.post(f"/api/v1/orders/{other['id']}/cancel", json={"reason": "too late"}, headers=h)
    assert late.status_code == 409


def test_a_stale_version_is_refused(client, users):
    h = users["manager"].headers
    order = client.post("/api/v1/orders", json=order_body(), headers=h).json
    client.post(f"/api/v1/orders/{order['id']}/status", json={"status": "confirmed"}, headers=h)
    resp = client.post(
        f"/api/v1/orders/{order['id']}/status",
        json={"status": "cooking", "expected_version": order["version"]},
        headers=h,
    )
    assert resp.status_code == 409 and "changed by someone else" in resp.json["detail"]


def test_a_retry_with_the_same_idempotency_key_returns_the_first_answer(client, db, users):
    h = {**users["operator"].headers, "Idempotency-Key": "call-42-submit"}
    first = client.post("/api/v1/orders", json=order_body(), headers=h)
    again = client.post("/api/v1/orders", json=order_body(), headers=h)
    assert first.status_code == again.status_code == 201, (first.json, again.json)
    assert again.json["id"] == first.json["id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert counts(db)[0] == 1
    other = client.post("/api/v1/orders", json=order_body(comment="different"), headers=h)
    assert other.status_code == 422 and "different request" in other.json["detail"]


BAD_BODIES = {
    "unknown item": (order_body(lines=[{"sku": "NOPE", "quantity": 1}]), 422, "Unknown item"),
    "unknown branch": (order_body(branch_id=99), 422, "branch"),
    "quantity zero": (order_body(lines=[{"sku": "PZ-MARG", "quantity": 0}]), 422, "quantity"),
    "negative quantity": (order_body(lines=[{"sku": "PZ-MARG", "quantity": -3}]), 422, "quantity"),
    "absurd quantity": (order_body(lines=[{"sku": "PZ-MARG", "quantity": 10**9}]), 422, "quantity"),
    "no lines": (order_body(lines=[]), 422, "lines"),
    "bad phone": (order_body(client={"phone": "12"}), 422, "phone"),
    "unknown field": (order_body(colour="red"), 422, "colour"),
    "lat out of range": (order_body(address={"text": "x", "lat": 95, "lon": 49}), 422, "lat"),
    "fractional kopeck": (order_body(delivery_fee="10.001"), 422, "delivery_fee"),
    "change from too small": (order_body(payment={"kind": "cash", "change_from": "100"}), 422, "change"),
    "delivery without address": (order_body(address=None), 422, "address"),
    "unknown payment": (order_body(payment={"kind": "barter"}), 422, "payment"),
}


@pytest.mark.parametrize("case", list(BAD_BODIES))
def test_bad_orders_are_refused_with_problem_json_and_nothing_written(client, db, users, case):
    body, status, mention = BAD_BODIES[case]
    before = counts(db)
    resp = client.post("/api/v1/orders", json=body, headers=users["operator"].headers)
    assert resp.status_code == status, resp.json
    assert resp.mimetype == "application/problem+json"
    assert mention.lower() in str(resp.json).lower()
    assert counts(db) == before


def test_malformed_json_wrong_type_and_huge_bodies_get_problems(client, db, users):
    h = users["operator"].headers
    before = counts(db)
    bad = client.post("/api/v1/orders", data=b"{not json", headers={**h, "Content-Type": "application/json"})
    assert bad.status_code == 400 and "not valid JSON" in bad.json["detail"]
    wrong = client.post("/api/v1/orders", data=b"a=b", headers={**h, "Content-Type": "text/plain"})
    assert wrong.status_code == 415 and wrong.mimetype == "application/problem+json"
    huge = client.post(
        "/api/v1/orders",
        data=b"[" + b"1," * 2_000_000 + b"1]",
        headers={**h, "Content-Type": "application/json"},
    )
    assert huge.status_code == 413 and huge.mimetype == "application/problem+json"
    assert counts(db) == before


def test_unknown_status_and_unknown_order_and_wrong_method(client, users):
    h = users["manager"].headers
    order = client.post("/api/v1/orders", json=order_body(), headers=h).json
    resp = client.post(f"/api/v1/orders/{order['id']}/status", json={"status": "teleported"}, headers=h)
    assert resp.status_code == 422 and resp.json["errors"][0]["field"] == "status"
    assert client.get("/api/v1/orders/999999", headers=h).status_code == 404
    put = client.put("/api/v1/orders", headers=h)
    assert put.status_code == 405 and put.mimetype == "application/problem+json"
    assert client.get("/api/v1/nothing-here", headers=h).json["status"] == 404


def test_a_missing_or_revoked_token_gets_401_and_a_courier_gets_403(client, users):
    assert client.get("/api/v1/orders").status_code == 401
    assert client.get("/api/v1/orders", headers={"Authorization": "Bearer nonsense"}).status_code == 401
    resp = client.post("/api/v1/orders", json=order_body(), headers=users["courier"].headers)
    assert resp.status_code == 403 and resp.mimetype == "application/problem+json"


def test_an_unexpected_error_is_a_500_problem_without_a_stack_trace(app, client, users, monkeypatch):
    import orders.services

    def boom(*a, **k):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(orders.services, "list_orders", boom)
    resp = client.get("/api/v1/orders", headers=users["operator"].headers)
    assert resp.status_code == 500 and resp.mimetype == "application/problem+json"
    assert "secret internals" not in resp.get_data(as_text=True)
    assert "Traceback" not in resp.get_data(as_text=True)
