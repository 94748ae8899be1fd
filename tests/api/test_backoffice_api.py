"""The back-office API: antifraud rules and blacklist, held orders, tickets, bonuses; roles and errors."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from backoffice import services
from orders.models import Order
from tests.backoffice_helpers import add_rule, ago, blacklist, bonus_rule, place
from tests.callcentre_fixtures import load_zones, open_around_the_clock, take_order_body
from tests.conftest import order_body

pytestmark = pytest.mark.usefixtures("catalogue")


def orders_count(db) -> int:
    with db.reading() as s:
        return s.scalar(select(func.count()).select_from(Order))


# --- antifraud rules ------------------------------------------------------------------------


def test_a_manager_creates_edits_and_switches_a_rule_and_versions_are_kept(client, users):
    h = users["manager"].headers
    kinds = client.get("/api/v1/antifraud/kinds", headers=h).json
    assert {k["code"] for k in kinds} >= {"blacklist", "velocity", "many_names"}
    created = client.post(
        "/api/v1/antifraud/rules",
        json={
            "kind": "velocity",
            "name": "Fast phone",
            "params": {"count": 3},
            "score": 60,
            "action": "hold",
        },
        headers=h,
    )
    assert created.status_code == 201, created.json
    rule = created.json
    assert rule["current_version"] == 1 and rule["params"] == {"by": "phone", "count": 3, "minutes": 60}
    edited = client.put(
        f"/api/v1/antifraud/rules/{rule['id']}",
        json={
            "name": "Fast phone",
            "params": {"count": 2},
            "score": 70,
            "action": "hold",
            "expected_version": 1,
        },
        headers=h,
    )
    assert edited.status_code == 200 and edited.json["current_version"] == 2
    stale = client.put(
        f"/api/v1/antifraud/rules/{rule['id']}",
        json={"name": "x", "params": {}, "score": 1, "action": "note", "expected_version": 1},
        headers=h,
    )
    assert stale.status_code == 409 and stale.json["current_version"] == 2
    versions = client.get(f"/api/v1/antifraud/rules/{rule['id']}/versions", headers=h).json
    assert [(v["version"], v["params"]["count"], v["score"]) for v in versions] == [(2, 2, 70), (1, 3, 60)]
    off = client.post(f"/api/v1/antifraud/rules/{rule['id']}/active", json={"active": False}, headers=h)
    assert off.json["active"] is False and off.json["current_version"] == 2


def test_bad_rule_parameters_answer_422_naming_each_field(client, users):
    resp = client.post(
        "/api/v1/antifraud/rules",
        json={
            "kind": "velocity",
            "name": "x",
            "params": {"count": 0, "by": "email"},
            "score": 1,
            "action": "flag",
        },
        headers=users["manager"].headers,
    )
    assert resp.status_code == 422 and resp.mimetype == "application/problem+json"
    assert {e["field"] for e in resp.json["errors"]} == {"params.count", "params.by"}
    unknown = client.post(
        "/api/v1/antifraud/rules",
        json={"kind": "astrology", "name": "x", "score": 1, "action": "flag"},
        headers=users["manager"].headers,
    )
    assert unknown.status_code == 422 and unknown.json["errors"][0]["field"] == "kind"
    assert client.get("/api/v1/antifraud/rules/999", headers=users["manager"].headers).status_code == 404


def test_operators_may_screen_callers_but_not_edit_rules(client, users):
    op = users["operator"].headers
    assert client.get("/api/v1/antifraud/rules", headers=op).status_code == 403
    assert client.get("/api/v1/antifraud/check?phone=89123456789", headers=op).status_code == 200
    bad = client.get("/api/v1/antifraud/check?phone=12", headers=op)
    assert bad.status_code == 422 and bad.json["errors"][0]["field"] == "query.phone"


# --- blacklist and placement ----------------------------------------------------------------


def test_a_blacklisted_phone_is_reported_at_first_contact_and_its_order_refused(client, users, db):
    h = users["manager"].headers
    client.post(
        "/api/v1/antifraud/rules",
        json={"kind": "blacklist", "name": "Blacklist", "score": 100, "action": "reject"},
        headers=h,
    )
    added = client.post(
        "/api/v1/antifraud/blacklist",
        json={"kind": "phone", "value": "8 912 345 67 89", "reason": "two no-shows"},
        headers=h,
    )
    assert added.status_code == 201 and added.json["value"] == "+79123456789"
    again = client.post(
        "/api/v1/antifraud/blacklist", json={"kind": "phone", "value": "+79123456789"}, headers=h
    )
    assert again.status_code == 409
    op = users["operator"].headers
    check = client.get("/api/v1/antifraud/check?phone=%2B7 912 345-67-89", headers=op).json
    assert check["action"] == "reject" and "two no-shows" in check["hits"][0]["reason"]
    refused = client.post("/api/v1/orders", json=order_body(), headers=op)
    assert refused.status_code == 422 and refused.mimetype == "application/problem+json"
    assert refused.json["title"] == "Refused by antifraud"
    assert refused.json["antifraud"]["hits"][0]["version"] == 1
    assert orders_count(db) == 0
    entry_id = added.json["id"]
    assert client.delete(f"/api/v1/antifraud/blacklist/{entry_id}", headers=h).status_code == 204
    assert client.post("/api/v1/orders", json=order_body(), headers=op).status_code == 201


def test_a_blacklisted_device_is_refused_through_the_device_header(client, users, kernel):
    add_rule(kernel, "blacklist", "reject", lists=["device"])
    blacklist(kernel, "device", "app-7f3a")
    op = users["operator"].headers
    refused = client.post("/api/v1/orders", json=order_body(), headers={**op, "X-Device-Id": "app-7f3a"})
    assert refused.status_code == 422
    assert (
        client.post(
            "/api/v1/orders", json=order_body(), headers={**op, "X-Device-Id": "app-0000"}
        ).status_code
        == 201
    )


def test_the_call_centre_order_endpoint_is_screened_too(app, client, users, kernel):
    load_zones(app)
    open_around_the_clock(app)
    add_rule(kernel, "change_to_card", "hold", min_note="1000.00", min_change="500.00")
    taken = client.post(
        "/api/v1/callcentre/orders", json=take_order_body(), headers=users["operator"].headers
    )
    assert taken.status_code == 201, taken.json
    order = taken.json.get("order", taken.json)
    assert order["status"] == "on_hold"


def test_the_dossier_shows_warnings_and_tickets(client, users, kernel):
    add_rule(kernel, "blacklist", "reject", 100, name="Blacklist", lists=["phone"])
    blacklist(kernel, "phone", "+79123456789", "fraud")
    op = users["operator"].headers
    client.post(
        "/api/v1/tickets",
        json={"kind": "complaint", "subject": "Rude courier", "client_phone": "89123456789"},
        headers=op,
    )
    sections = client.get("/api/v1/callcentre/lookup?phone=89123456789", headers=op).json["sections"]
    assert sections["warnings"]["action"] == "reject" and sections["warnings"]["score"] == 100
    warning = sections["warnings"]["items"][0]
    assert warning["level"] == "reject" and warning["rule"] == "Blacklist" and warning["version"] == 1
    assert "fraud" in warning["message"]
    assert [t["subject"] for t in sections["tickets"]] == ["Rude courier"]
    assert sections["tickets"][0]["overdue"] is False
    clean = client.get("/api/v1/callcentre/lookup?phone=89031234567", headers=op).json["sections"]
    assert clean["warnings"] == {"action": "none", "score": 0, "items": []}


# --- held orders ----------------------------------------------------------------------------


def test_a_manager_releases_one_held_order_and_rejects_another(client, users, kernel):
    add_rule(kernel, "change_to_card", "hold")
    first = place(kernel, comment="change to card")
    second = place(kernel, comment="change to card")
    h = users["manager"].headers
    queue = client.get("/api/v1/antifraud/held", headers=h).json
    assert [q["order"]["id"] for q in queue] == [first.id, second.id]
    assert queue[0]["verdict"]["hits"][0]["kind"] == "change_to_card"
    assert client.get("/api/v1/antifraud/held", headers=users["operator"].headers).status_code == 403
    released = client.post(f"/api/v1/antifraud/held/{first.id}/release", json={}, headers=h)
    assert released.status_code == 200 and released.json["status"] == "confirmed"
    assert released.json["events"][-1]["from_status"] == "on_hold"
    rejected = client.post(f"/api/v1/antifraud/held/{second.id}/reject", json={"reason": "fake"}, headers=h)
    assert rejected.json["status"] == "rejected" and rejected.json["events"][-1]["reason"] == "fake"
    again = client.post(f"/api/v1/antifraud/held/{first.id}/release", json={}, headers=h)
    assert again.status_code == 409
    assert client.get("/api/v1/antifraud/held", headers=h).json == []


def test_a_backtest_of_a_stored_rule_over_past_orders(client, users, kernel):
    rule_id = add_rule(kernel, "velocity", "flag", by="phone", count=1, minutes=120)
    place(kernel, now=ago(days=2, minutes=30))
    place(kernel, now=ago(days=2))
    place(kernel, now=ago(days=1))
    resp = client.post(
        "/api/v1/antifraud/backtest", json={"rule_id": rule_id, "days": 7}, headers=users["manager"].headers
    )
    assert resp.status_code == 200, resp.json
    assert resp.json["orders"] == 3 and resp.json["flagged"] == 1 and resp.json["went_wrong"] == 0
    assert resp.json["precision"] == 0.0
    nothing = client.post("/api/v1/antifraud/backtest", json={"days": 7}, headers=users["manager"].headers)
    assert nothing.status_code == 422


# --- tickets --------------------------------------------------------------------------------


def test_an_operator_opens_a_ticket_and_the_back_office_works_it(client, users, kernel):
    order = place(kernel)
    op, bo = users["operator"].headers, users["backoffice"].headers
    opened = client.post(
        "/api/v1/tickets",
        json={
            "kind": "quality",
            "subject": "Burnt crust",
            "body": "Photo sent",
            "order_number": order.number,
            "order_date": order.business_date.isoformat(),
        },
        headers=op,
    )
    assert opened.status_code == 201, opened.json
    ticket = opened.json
    assert ticket["order_number"] == order.number and ticket["order_date"] == order.business_date.isoformat()
    assert "order_id" not in ticket
    assert ticket["client_phone"] == "+79123456789" and ticket["overdue"] is False
    assert 470 <= ticket["minutes_left"] <= 480
    tid = ticket["id"]
    assert (
        client.post(f"/api/v1/tickets/{tid}/status", json={"status": "in_progress"}, headers=op).status_code
        == 403
    )
    taken = client.post(f"/api/v1/tickets/{tid}/status", json={"status": "in_progress"}, headers=bo).json
    assert taken["status"] == "in_progress" and taken["assignee"] == "Test Backoffice"
    comment = client.post(f"/api/v1/tickets/{tid}/comments", json={"body": "Asked the kitchen"}, headers=op)
    assert comment.status_code == 201 and comment.json["actor"] == "Test Operator"
    no_note = client.post(f"/api/v1/tickets/{tid}/status", json={"status": "resolved"}, headers=bo)
    assert no_note.status_code == 422 and no_note.json["errors"][0]["field"] == "note"
    done = client.post(
        f"/api/v1/tickets/{tid}/status", json={"status": "resolved", "note": "Refund 300.00"}, headers=bo
    ).json
    assert done["status"] == "resolved" and [e["kind"] for e in done["events"]] == [
        "created",
        "status",
        "comment",
        "status",
    ]
    closed = client.post(f"/api/v1/tickets/{tid}/status", json={"status": "open"}, headers=bo)
    assert closed.status_code == 409 and closed.json["current_status"] == "resolved"


def test_the_queue_filters_overdue_tickets_and_mine(client, users, kernel, db):
    with db.unit_of_work() as s:
        late = services.open_ticket(
            s, kind="complaint", subject="Late", client_phone="+79123456789", now=ago(hours=5)
        )
        services.open_ticket(s, kind="refund", subject="Fresh", client_phone="+79123456789")
        late_id = late.id
    bo = users["backoffice"].headers
    overdue = client.get("/api/v1/tickets?overdue=true", headers=bo).json
    assert [t["id"] for t in overdue["items"]] == [late_id] and overdue["items"][0]["overdue"] is True
    assert overdue["items"][0]["minutes_left"] < -170
    assert client.get("/api/v1/tickets?mine=true", headers=bo).json["total"] == 0
    client.post(f"/api/v1/tickets/{late_id}/assign", json={"assignee_id": users["backoffice"].id}, headers=bo)
    assert client.get("/api/v1/tickets?mine=true", headers=bo).json["total"] == 1
    wrong = client.post(
        f"/api/v1/tickets/{late_id}/assign", json={"assignee_id": users["operator"].id}, headers=bo
    )
    assert wrong.status_code == 422
    assert client.get("/api/v1/tickets?kind=refund&status=open", headers=bo).json["total"] == 1
    assert client.get("/api/v1/tickets/999", headers=bo).status_code == 404


# --- bonuses --------------------------------------------------------------------------------


def test_an_operator_sees_todays_and_this_months_bonus(client, users, kernel):
    bonus_rule(kernel, "order_taken", amount=1000)
    op = users["operator"].headers
    assert client.get("/api/v1/bonuses/me", headers=op).json == {"today": "0.00", "month": "0.00"}
    client.post("/api/v1/orders", json=order_body(), headers=op)
    client.post("/api/v1/orders", json=order_body(), headers=op)
    assert client.get("/api/v1/bonuses/me", headers=op).json == {"today": "20.00", "month": "20.00"}
    entries = client.get("/api/v1/bonuses/me/entries", headers=op).json
    assert [e["amount"] for e in entries] == ["10.00", "10.00"]


def test_a_manager_sets_rules_and_downloads_the_report(client, users):
    h = users["manager"].headers
    saved = client.put(
        "/api/v1/bonuses/rules/order_delivered",
        json={"method": "percent", "percent": "1.5", "active": True},
        headers=h,
    )
    assert saved.status_code == 200 and saved.json["percent"] == "1.50" and saved.json["amount"] == "0.00"
    upsell = client.put(
        "/api/v1/bonuses/rules/upsell",
        json={"method": "fixed", "amount": "15.00", "params": {"skus": ["dr-cola05"]}},
        headers=h,
    )
    assert upsell.json["params"] == {"skus": ["DR-COLA05"]}
    rules = {r["operation"]: r for r in client.get("/api/v1/bonuses/rules", headers=h).json}
    assert rules["order_delivered"]["active"] and not rules["order_taken"]["active"]
    bad = client.put(
        "/api/v1/bonuses/rules/ticket_resolved", json={"method": "percent", "percent": "2"}, headers=h
    )
    assert bad.status_code == 422
    assert client.put("/api/v1/bonuses/rules/tips", json={"method": "fixed"}, headers=h).status_code == 404
    op = users["operator"].headers
    client.post("/api/v1/orders", json=order_body(), headers=op)
    today = dt.date.today()
    period = f"from={today - dt.timedelta(days=1)}&to={today + dt.timedelta(days=1)}"
    report = client.get(f"/api/v1/bonuses/report?{period}", headers=h).json
    assert report["rows"][0]["username"] == "test-operator"
    assert report["rows"][0]["amounts"] == {"upsell": "15.00"} and report["rows"][0]["total"] == "15.00"
    csv_resp = client.get(f"/api/v1/bonuses/report.csv?{period}", headers=h)
    assert csv_resp.status_code == 200 and csv_resp.mimetype == "text/csv"
    assert "attachment" in csv_resp.headers["Content-Disposition"]
    assert csv_resp.data.startswith("\ufeff".encode())  # UTF-8 with BOM, for Excel
    assert csv_resp.data.decode().splitlines()[1].endswith(",15.00")
    assert client.get(f"/api/v1/bonuses/report?{period}", headers=op).status_code == 403
    wrong = client.get("/api/v1/bonuses/report?from=2026-02-01&to=2026-01-01", headers=h)
    assert wrong.status_code == 422
