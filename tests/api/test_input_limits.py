"""What the kernel refuses before a service sees it: JSON nested deeper than the documented limit
(400), a NUL character in any string of a JSON body, a query string or a page's form (422, nothing
stored), on SQLite and PostgreSQL alike."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from frontoffice.inputs import MAX_JSON_DEPTH
from nomenclature.models import StopListEntry
from orders.models import Order
from tests.conftest import order_body

pytestmark = pytest.mark.usefixtures("catalogue")


def orders_stored(db) -> int:
    with db.reading() as s:
        return s.scalar(select(func.count()).select_from(Order))


def stop_list_entries(db) -> int:
    with db.reading() as s:
        return s.scalar(select(func.count()).select_from(StopListEntry))


def nested(depth: int) -> str:
    """A JSON array nested ``depth`` levels deep."""
    return "[" * depth + "]" * depth


def test_json_nested_a_hundred_thousand_deep_is_a_bad_request_not_a_crash(client, users):
    resp = client.post(
        "/api/v1/orders",
        data=nested(100_000),
        content_type="application/json",
        headers=users["operator"].headers,
    )
    assert resp.status_code == 400 and resp.mimetype == "application/problem+json"
    assert f"deeper than {MAX_JSON_DEPTH}" in resp.json["detail"]


def test_json_one_level_past_the_limit_is_refused_and_at_the_limit_reaches_validation(client, users):
    h = users["operator"].headers
    body = order_body()
    deep_comment: object = "x"
    for _ in range(MAX_JSON_DEPTH - 1):  # the order object itself is the first level
        deep_comment = [deep_comment]
    body["comment"] = deep_comment
    at_limit = client.post(
        "/api/v1/orders", data=json.dumps(body), content_type="application/json", headers=h
    )
    assert at_limit.status_code == 422 and at_limit.json["errors"][0]["field"] == "comment"
    body["comment"] = [deep_comment]
    past = client.post("/api/v1/orders", data=json.dumps(body), content_type="application/json", headers=h)
    assert past.status_code == 400 and f"deeper than {MAX_JSON_DEPTH}" in past.json["detail"]


def test_a_nul_character_in_a_json_string_is_refused_naming_the_field_and_nothing_is_stored(
    client, users, db
):
    body = order_body(client={"phone": "+7 912 345-67-89", "name": "Iv\x00an"}, comment="ring\x00twice")
    resp = client.post("/api/v1/orders", json=body, headers=users["operator"].headers)
    assert resp.status_code == 422 and resp.mimetype == "application/problem+json"
    assert {(e["field"], e["type"]) for e in resp.json["errors"]} == {
        ("client.name", "nul_character"),
        ("comment", "nul_character"),
    }
    assert orders_stored(db) == 0


def test_a_nul_character_in_a_json_key_is_refused_too(client, users, db):
    body = order_body()
    body["lines"][0]["s\x00ku"] = "PZ-MARG"
    resp = client.post("/api/v1/orders", json=body, headers=users["operator"].headers)
    assert resp.status_code == 422
    assert [(e["field"], e["type"]) for e in resp.json["errors"]] == [("lines.0.s\\0ku", "nul_character")]
    assert orders_stored(db) == 0


def test_a_nul_character_in_a_query_string_is_refused_naming_the_parameter(client, users):
    resp = client.get("/api/v1/items?q=Marg%00herita", headers=users["operator"].headers)
    assert resp.status_code == 422 and resp.mimetype == "application/problem+json"
    assert [(e["field"], e["type"]) for e in resp.json["errors"]] == [("query.q", "nul_character")]


def test_a_nul_character_in_a_page_form_is_refused_with_a_readable_page_and_nothing_is_stored(
    client, users, auth, db
):
    auth.login("manager")
    token = auth.csrf(client.get("/nomenclature/catalogue?branch_id=1").data)
    stopped = stop_list_entries(db)
    resp = client.post(
        "/nomenclature/catalogue",
        data={
            "csrf_token": token,
            "branch_id": "1",
            "item_id": "1",
            "action": "stop",
            "reason": "no\x00dough",
        },
        headers={"Accept": "text/html"},
    )
    assert resp.status_code == 422 and resp.mimetype == "text/html"
    page = resp.get_data(as_text=True)
    assert "reason" in page and "NUL" in page
    assert stop_list_entries(db) == stopped


def test_a_nul_character_in_the_login_form_is_refused_with_a_readable_page(client, users, auth):
    token = auth.csrf(client.get("/login").data)
    resp = client.post(
        "/login", data={"csrf_token": token, "username": "test-\x00manager", "password": "pw-manager"}
    )
    assert resp.status_code == 422 and "username" in resp.get_data(as_text=True)


def test_the_osmand_fast_path_refuses_a_nul_character_as_an_unreadable_report(client):
    by_query = client.get("/api/osmand?id=dev%00ice&lat=55.79&lon=49.11&timestamp=1700000000")
    by_form = client.post("/api/osmand", data={"id": "phone", "lat": "55.79\x00", "lon": "49.11"})
    by_json = client.post(
        "/api/osmand",
        json={"device_id": "dev\x00ice", "location": {"timestamp": "2026-01-01T00:00:00Z", "coords": {}}},
    )
    for resp, field in ((by_query, "id"), (by_form, "lat"), (by_json, "device_id")):
        assert resp.status_code == 400 and resp.json["title"] == "Unreadable location report"
        assert f"null character is in {field}" in resp.json["detail"]


def test_the_osmand_fast_path_refuses_json_nested_too_deep(client):
    resp = client.post("/api/osmand", data=nested(100_000), content_type="application/json")
    assert resp.status_code == 400 and f"deeper than {MAX_JSON_DEPTH}" in resp.json["detail"]
