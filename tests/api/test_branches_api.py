"""The branch API (issue 16, item 1): a fresh install opens its first branch without SQL and takes
its first order; bad coordinates, time zones and hours are refused by field and write nothing; a
branch with open orders is not switched off."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

import nomenclature.demo
from orders.models import Branch, Order
from tests.conftest import order_body

KAZAN = {
    "code": "KZ1",
    "name": "Kazan — Baumana",
    "address": "Kazan, Baumana St, 44",
    "lat": 55.7887,
    "lon": 49.1221,
}
EVERY_DAY = {
    d: [{"opens": "10:00", "closes": "02:00", "next_day": True}]
    for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
}


def branches(db) -> int:
    with db.reading() as s:
        return s.scalar(select(func.count()).select_from(Branch))


def open_branch(client, users, **fields) -> dict:
    resp = client.post("/api/v1/branches", json=KAZAN | fields, headers=users["admin"].headers)
    assert resp.status_code == 201, resp.json
    return resp.json


@pytest.fixture
def menu(kernel) -> None:
    """The demo menu, and no branch at all: a fresh install."""
    with kernel.db.unit_of_work() as s:
        nomenclature.demo.load(s, kernel)


@pytest.mark.usefixtures("menu")
def test_a_fresh_install_opens_its_first_branch_through_the_api_and_takes_the_first_order(client, users, db):
    refused = client.post("/api/v1/orders", json=order_body(), headers=users["operator"].headers)
    assert refused.status_code == 422 and "Unknown or closed branch 1" in refused.json["detail"]

    branch = open_branch(client, users, opening_hours={})
    assert branch["id"] == 1 and branch["timezone"] == "Europe/Moscow" and branch["opening_hours"] == {}
    taken = client.post("/api/v1/orders", json=order_body(), headers=users["operator"].headers)
    assert taken.status_code == 201, taken.json
    assert taken.json["number"].startswith("KZ1-")


def test_opening_hours_are_stored_as_the_zones_read_them_and_answered_as_typed(client, users, db):
    branch = open_branch(
        client, users, opening_hours=EVERY_DAY, timezone="Europe/Samara", phone="8 843 200-00-00"
    )
    assert branch["opening_hours"]["sat"] == [{"opens": "10:00", "closes": "02:00", "next_day": True}]
    assert branch["phone"] == "+78432000000" and branch["timezone"] == "Europe/Samara"
    with db.reading() as s:
        assert s.get(Branch, branch["id"]).opening_hours["sat"] == [["10:00", "02:00"]]


@pytest.mark.parametrize(
    ("fields", "field", "code"),
    [
        ({"timezone": "Mars/Olympus"}, "timezone", "unknown_timezone"),
        (
            {"opening_hours": {"mon": [{"opens": "23:00", "closes": "09:00"}]}},
            "opening_hours.mon.0.closes",
            "closes_before_opens",
        ),
        (
            {"opening_hours": {"mon": [{"opens": "25:00", "closes": "18:00"}]}},
            "opening_hours.mon.0.opens",
            "time_format",
        ),
        ({"lat": 0, "lon": 0}, "lat", "null_island"),
        ({"code": "KZ 1"}, "code", "code_format"),
        ({"phone": "12"}, "phone", "invalid_phone"),
    ],
)
def test_a_branch_with_a_bad_field_is_refused_naming_it_and_nothing_is_written(
    client, users, db, fields, field, code
):
    resp = client.post("/api/v1/branches", json=KAZAN | fields, headers=users["admin"].headers)
    assert resp.status_code == 422 and resp.mimetype == "application/problem+json"
    assert (field, code) in {(e["field"], e["type"]) for e in resp.json["errors"]}
    assert branches(db) == 0


@pytest.mark.parametrize(
    ("lat", "lon", "field"), [(91, 49.1, "lat"), (55.7, 181, "lon"), ("north", 49.1, "lat")]
)
def test_coordinates_off_the_world_are_a_422_naming_the_field(client, users, db, lat, lon, field):
    resp = client.post(
        "/api/v1/branches", json=KAZAN | {"lat": lat, "lon": lon}, headers=users["admin"].headers
    )
    assert resp.status_code == 422 and [e["field"] for e in resp.json["errors"]] == [field]
    assert branches(db) == 0


def test_a_code_in_use_is_a_conflict_on_the_code(client, users, db):
    open_branch(client, users)
    resp = client.post(
        "/api/v1/branches", json=KAZAN | {"code": "kz1", "name": "Other"}, headers=users["admin"].headers
    )
    assert resp.status_code == 409 and resp.json["errors"][0]["field"] == "code"
    assert branches(db) == 1


def test_a_change_touches_only_the_fields_sent_and_bad_hours_change_nothing(client, users, db):
    branch = open_branch(client, users, opening_hours=EVERY_DAY)
    h = users["admin"].headers
    moved = client.patch(
        f"/api/v1/branches/{branch['id']}",
        json={"lat": 55.79, "lon": 49.13, "address": "Kazan, Kremlin"},
        headers=h,
    )
    assert moved.status_code == 200 and (moved.json["lat"], moved.json["address"]) == (
        55.79,
        "Kazan, Kremlin",
    )
    assert moved.json["opening_hours"] == branch["opening_hours"] and moved.json["name"] == KAZAN["name"]
    bad = client.patch(
        f"/api/v1/branches/{branch['id']}",
        json={"name": "Renamed", "opening_hours": {"fri": [{"opens": "12:00", "closes": "11:00"}]}},
        headers=h,
    )
    assert bad.status_code == 422 and bad.json["errors"][0]["field"] == "opening_hours.fri.0.closes"
    assert client.get(f"/api/v1/branches/{branch['id']}", headers=h).json["name"] == KAZAN["name"]


@pytest.mark.usefixtures("catalogue")
def test_a_branch_with_open_orders_is_not_switched_off_and_the_refusal_names_them(client, users, db, orders):
    order = orders.place()
    h = users["admin"].headers
    refused = client.patch("/api/v1/branches/1", json={"active": False}, headers=h)
    assert refused.status_code == 409
    assert refused.json["errors"][0]["field"] == "active" and order.number in refused.json["detail"]
    assert client.get("/api/v1/branches/1", headers=h).json["active"] is True

    orders.move(order.id, "cancelled")
    done = client.patch("/api/v1/branches/1", json={"active": False}, headers=h)
    assert done.status_code == 200 and done.json["active"] is False
    again = client.post("/api/v1/orders", json=order_body(), headers=users["operator"].headers)
    assert again.status_code == 422 and "closed branch 1" in again.json["detail"]
    with db.reading() as s:
        assert s.scalar(select(func.count()).select_from(Order)) == 1


def test_an_unknown_branch_is_a_404(client, users):
    assert client.get("/api/v1/branches/77", headers=users["manager"].headers).status_code == 404
    assert (
        client.patch("/api/v1/branches/77", json={"name": "x"}, headers=users["admin"].headers).status_code
        == 404
    )
