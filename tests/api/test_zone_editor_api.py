"""The zone editor's API (issue 16, item 3): zones drawn, read, changed and deleted one by one; the
overlaps with the zone that wins; the zone that delivers to a point. Bad input — a polygon that
crosses itself, latitude 91, hours that close before they open, an unknown branch — is refused by
field and writes nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from callcentre.models import DeliveryZone
from tests.callcentre_fixtures import load_zones


def square(x0: float, y0: float, x1: float, y1: float) -> dict:
    """A GeoJSON polygon over [lon0, lon1] × [lat0, lat1]."""
    return {"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}


#: A bow tie: its edges cross at (49.1, 55.1).
BOW_TIE = {
    "type": "Polygon",
    "coordinates": [[[49.0, 55.0], [49.2, 55.2], [49.2, 55.0], [49.0, 55.2], [49.0, 55.0]]],
}
WEEKDAYS_10_22 = {d: [{"opens": "10:00", "closes": "22:00"}] for d in ("mon", "tue", "wed", "thu", "fri")}


def body(**fields) -> dict:
    return {
        "name": "North",
        "branch_id": 1,
        "geometry": square(49.0, 55.0, 49.2, 55.2),
        "delivery_fee": "150.00",
        "free_delivery_from": "1500.00",
        "min_order": "600.00",
        "delivery_minutes": 50,
        "opening_hours": WEEKDAYS_10_22,
        "priority": 2,
        "active": True,
    } | fields


def zones(db) -> int:
    with db.reading() as s:
        return s.scalar(select(func.count()).select_from(DeliveryZone))


@pytest.fixture
def admin(users) -> dict:
    return users["admin"].headers


def create(client, admin, **fields) -> dict:
    resp = client.post("/api/v1/zones", json=body(**fields), headers=admin)
    assert resp.status_code == 201, resp.json
    return resp.json


@pytest.mark.usefixtures("catalogue")
def test_an_admin_draws_a_zone_and_it_delivers_at_once(client, admin, users, db):
    zone = create(client, admin)
    assert zone["delivery_fee"] == "150.00" and zone["free_delivery_from"] == "1500.00"
    assert zone["min_order"] == "600.00" and zone["delivery_minutes"] == 50 and zone["priority"] == 2
    assert zone["opening_hours"]["mon"] == [["10:00", "22:00"]]
    assert zone["hours"]["fri"] == [{"opens": "10:00", "closes": "22:00", "next_day": False}]
    assert "sat" not in zone["hours"]
    read = client.get(f"/api/v1/zones/{zone['id']}", headers=users["manager"].headers)
    assert read.status_code == 200 and read.json["name"] == "North"
    at = client.get("/api/v1/zones/at?lat=55.1&lon=49.1", headers=users["operator"].headers).json
    assert at["winner"]["id"] == zone["id"] and at["others"] == []
    listed = client.get("/api/v1/zones", headers=users["manager"].headers).json
    assert [z["name"] for z in listed] == ["North"]


@pytest.mark.usefixtures("catalogue")
def test_a_zone_is_changed_field_by_field_and_deleted(client, admin, db):
    zone = create(client, admin)
    resp = client.patch(
        f"/api/v1/zones/{zone['id']}",
        json={
            "delivery_fee": "99.00",
            "free_delivery_from": None,
            "geometry": square(49.0, 55.0, 49.1, 55.1),
        },
        headers=admin,
    )
    assert resp.status_code == 200, resp.json
    assert resp.json["delivery_fee"] == "99.00" and resp.json["free_delivery_from"] is None
    assert resp.json["min_order"] == "600.00" and resp.json["name"] == "North"
    assert resp.json["geometry"]["coordinates"][0][2] == [49.1, 55.1]
    assert client.get("/api/v1/zones/at?lat=55.15&lon=49.15", headers=admin).json["winner"] is None
    assert client.delete(f"/api/v1/zones/{zone['id']}", headers=admin).status_code == 204
    assert zones(db) == 0
    assert client.get(f"/api/v1/zones/{zone['id']}", headers=admin).status_code == 404


@pytest.mark.usefixtures("catalogue")
def test_overlapping_zones_are_listed_with_the_one_that_wins(client, admin):
    big = create(client, admin, name="Big", priority=0, geometry=square(49.0, 55.0, 49.4, 55.4))
    small = create(client, admin, name="Small", priority=0, geometry=square(49.1, 55.1, 49.2, 55.2))
    urgent = create(client, admin, name="Urgent", priority=5, geometry=square(49.3, 55.3, 49.6, 55.6))
    create(client, admin, name="Beside", priority=9, geometry=square(49.6, 55.0, 49.8, 55.2))  # touches none
    items = client.get("/api/v1/zones/overlaps", headers=admin).json["items"]
    pairs = {tuple(z["id"] for z in o["zones"]): (o["winner"]["id"], o["reason"]) for o in items}
    assert pairs == {
        (big["id"], small["id"]): (small["id"], "smaller_area"),
        (big["id"], urgent["id"]): (urgent["id"], "priority"),
    }
    assert all(o["area_km2"] > 0 for o in items)
    at = client.get("/api/v1/zones/at?lat=55.35&lon=49.35", headers=admin).json
    assert at["winner"]["name"] == "Urgent" and [z["name"] for z in at["others"]] == ["Big"]


@pytest.mark.usefixtures("catalogue")
def test_a_polygon_that_crosses_itself_is_refused_with_the_crossing_point(client, admin, db):
    resp = client.post("/api/v1/zones", json=body(geometry=BOW_TIE), headers=admin)
    assert resp.status_code == 422 and resp.mimetype == "application/problem+json"
    (error,) = resp.json["errors"]
    assert error["field"] == "geometry" and error["type"] == "self_intersection"
    assert error["params"] == {"lat": 55.1, "lon": 49.1}
    assert zones(db) == 0


@pytest.mark.usefixtures("catalogue")
def test_every_bad_field_is_named_at_once_and_nothing_is_written(client, admin, db):
    bad = body(
        geometry={
            "type": "Polygon",
            "coordinates": [[[49.0, 55.0], [49.2, 55.0], [49.2, 91.0], [49.0, 55.0]]],
        },
        opening_hours={"mon": [{"opens": "22:00", "closes": "10:00"}]},
        branch_id=77,
        free_delivery_from="100.00",
    )
    resp = client.post("/api/v1/zones", json=bad, headers=admin)
    assert resp.status_code == 422, resp.json
    by_field = {e["field"]: e["type"] for e in resp.json["errors"]}
    assert by_field == {
        "geometry.coordinates.0.2": "coordinates_range",
        "opening_hours.mon.0.closes": "closes_before_opens",
        "branch_id": "unknown_branch",
        "free_delivery_from": "free_below_minimum",
    }
    assert zones(db) == 0


@pytest.mark.usefixtures("catalogue")
def test_bad_changes_to_a_zone_leave_it_as_it_was(client, admin, db):
    zone = create(client, admin)
    for change, field in (
        ({"geometry": BOW_TIE, "name": "Renamed"}, "geometry"),
        ({"opening_hours": {"tue": [{"opens": "18:00", "closes": "09:00"}]}}, "opening_hours.tue.0.closes"),
        ({"branch_id": 404}, "branch_id"),
        ({"min_order": "2000.00"}, "free_delivery_from"),
        ({"delivery_minutes": 0}, "delivery_minutes"),
        ({"delivery_fee": "-1"}, "delivery_fee"),
    ):
        resp = client.patch(f"/api/v1/zones/{zone['id']}", json=change, headers=admin)
        assert resp.status_code == 422, (change, resp.json)
        assert field in {e["field"] for e in resp.json["errors"]}, resp.json
    assert client.get(f"/api/v1/zones/{zone['id']}", headers=admin).json == zone


@pytest.mark.usefixtures("catalogue")
def test_a_closed_branch_gets_no_new_zone_and_a_name_is_unique_per_branch(client, admin, db):
    closed = client.patch("/api/v1/branches/2", json={"active": False}, headers=admin)
    assert closed.status_code == 200, closed.json
    resp = client.post("/api/v1/zones", json=body(branch_id=2), headers=admin)
    assert resp.status_code == 422 and resp.json["errors"][0]["type"] == "closed_branch"
    create(client, admin)
    twin = client.post("/api/v1/zones", json=body(), headers=admin)
    assert twin.status_code == 409 and twin.json["errors"][0]["field"] == "name"
    assert zones(db) == 1


def test_staff_of_one_branch_read_only_its_zones(app, client, admin, users):
    load_zones(app)
    resp = client.patch(f"/api/v1/staff/users/{users['manager'].id}", json={"branch_ids": [2]}, headers=admin)
    assert resp.status_code == 200
    h = users["manager"].headers
    mine = client.get("/api/v1/zones", headers=h).json
    assert mine and {z["branch_id"] for z in mine} == {2}
    other = client.get("/api/v1/zones?branch_id=1", headers=admin).json[0]
    assert client.get(f"/api/v1/zones/{other['id']}", headers=h).status_code == 404
    overlaps = client.get("/api/v1/zones/overlaps", headers=h).json["items"]
    assert all(2 in {z["branch_id"] for z in o["zones"]} for o in overlaps)


def test_the_new_zone_routes_are_in_the_openapi_document(client):
    paths = client.get("/api/openapi.json").json["paths"]
    assert {"post", "get"} <= set(paths["/api/v1/zones"])
    assert {"get", "patch", "delete"} <= set(paths["/api/v1/zones/{zone_id}"])
    assert "get" in paths["/api/v1/zones/overlaps"] and "get" in paths["/api/v1/zones/at"]
    schema = paths["/api/v1/zones"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert schema["$ref"].endswith("/ZoneIn")
