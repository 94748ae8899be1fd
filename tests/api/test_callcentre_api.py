"""The call-centre API on both databases: lookup, clients, zones GeoJSON, quotes, order entry, repeat, zone policy."""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, update

from callcentre.models import DeliveryZone
from nomenclature import services as catalogue_services
from nomenclature.models import Item, ModifierOption
from tests.callcentre_fixtures import (
    CENTRE,
    GREATER_ONLY,
    OUTSIDE,
    SOVETSKY,
    address,
    counts,
    load_zones,
    open_around_the_clock,
    take_order_body,
)
from tests.conftest import order_body


@pytest.fixture
def zones(app):
    """Demo menu, branches and zones, open at all hours."""
    load_zones(app)
    open_around_the_clock(app)


@pytest.fixture
def op(users):
    """The operator's headers."""
    return users["operator"].headers


def quote(client, headers, point=CENTRE, lines=(("PZ-MARG", 1),), **extra):
    """POST a quote for a delivery to ``point``."""
    body = {
        "phone": "+79123456789",
        "kind": "delivery",
        "address": {"text": "somewhere", "lat": point[0], "lon": point[1]},
        "lines": [{"sku": sku, "quantity": q} for sku, q in lines],
        **extra,
    }
    resp = client.post("/api/v1/callcentre/quote", json=body, headers=headers)
    assert resp.status_code == 200, resp.json
    return resp.json


# --- lookup -----------------------------------------------------------------------------------


def test_lookup_finds_the_caller_whatever_the_format_of_the_number(client, users, zones, op):
    created = client.post(
        "/api/v1/clients", json={"phone": "+7 912 345-67-89", "name": "Ivan", "tags": ["VIP"]}, headers=op
    )
    assert created.status_code == 201
    for typed in ("+79123456789", "8 (912) 345-67-89", "912 345 67 89", "+7-912-345-6789"):
        resp = client.get("/api/v1/callcentre/lookup", query_string={"phone": typed}, headers=op)
        assert resp.status_code == 200
        dossier = resp.json
        assert dossier["phone"] == "+79123456789" and dossier["display_phone"] == "+7 912 345-67-89"
        assert dossier["client"]["id"] == created.json["id"] and dossier["client"]["tags"] == ["VIP"]
    backoffice = client.get(
        "/api/v1/callcentre/lookup?phone=89123456789", headers=users["backoffice"].headers
    )
    assert backoffice.status_code == 200


def test_lookup_of_an_unknown_number_is_an_empty_dossier_and_garbage_is_a_422_naming_the_field(
    client, zones, op
):
    resp = client.get("/api/v1/callcentre/lookup?phone=8 917 000 00 01", headers=op)
    assert resp.status_code == 200
    assert resp.json["client"] is None and resp.json["orders"] == [] and resp.json["stats"] is None
    assert isinstance(resp.json["sections"], dict) and resp.json["last_order_id"] is None
    bad = client.get("/api/v1/callcentre/lookup?phone=hello", headers=op)
    assert bad.status_code == 422 and bad.mimetype == "application/problem+json"
    assert bad.json["errors"][0]["field"] == "phone"


def test_lookup_shows_the_orders_with_lines_the_statistics_and_the_last_order(client, zones, op):
    first = client.post("/api/v1/callcentre/orders", json=take_order_body(), headers=op)
    assert first.status_code == 201, first.json
    second = client.post(
        "/api/v1/callcentre/orders",
        json=take_order_body(lines=[{"sku": "SU-SET1", "quantity": 1}]),
        headers=op,
    )
    dossier = client.get("/api/v1/callcentre/lookup?phone=89123456789", headers=op).json
    assert [o["id"] for o in dossier["orders"]] == [second.json["id"], first.json["id"]]
    assert dossier["last_order_id"] == second.json["id"]
    assert {k: v for k, v in dossier["orders"][1]["lines"][0].items() if k != "item_id"} == {
        "sku": "PZ-MARG",
        "name": "Pizza Margherita 30 cm",
        "quantity": 1,
        "unit_price": "549.00",
        "total": "549.00",
        "comment": "",
        "modifiers": [],
    }
    assert dossier["stats"]["orders_count"] == 2 and dossier["stats"]["total_spent"] == "0.00"
    assert dossier["client"]["name"] == "Ivan"
    assert len(dossier["addresses"]) == 1 and dossier["addresses"][0]["apartment"] == "5"


# --- clients ----------------------------------------------------------------------------------


def test_clients_are_created_edited_given_addresses_and_merged(client, zones, op):
    a = client.post("/api/v1/clients", json={"phone": "89123456789", "name": "Ivan"}, headers=op)
    b = client.post(
        "/api/v1/clients",
        json={"phone": "+79170001122", "notes": "Rings twice", "phones": [{"phone": "8 903 555 00 00"}]},
        headers=op,
    )
    assert a.status_code == b.status_code == 201
    assert [p["phone"] for p in b.json["phones"]] == ["+79170001122", "+79035550000"]
    twin = client.post("/api/v1/clients", json={"phone": "+7 912 345 67 89"}, headers=op)
    assert twin.status_code == 409 and twin.json["client_id"] == a.json["id"]

    patched = client.patch(
        f"/api/v1/clients/{a.json['id']}", json={"notes": "Dog", "marketing_consent": True}, headers=op
    )
    assert patched.status_code == 200
    assert patched.json["notes"] == "Dog" and patched.json["marketing_consent"] is True
    assert patched.json["name"] == "Ivan"

    addr = client.post(
        f"/api/v1/clients/{a.json['id']}/addresses", json=address(CENTRE, apartment="12"), headers=op
    )
    assert addr.status_code == 201 and addr.json["zone_id"] is not None
    moved = client.patch(
        f"/api/v1/clients/{a.json['id']}/addresses/{addr.json['id']}",
        json={"lat": OUTSIDE[0], "lon": OUTSIDE[1], "intercom": "12#"},
        headers=op,
    )
    assert moved.status_code == 200
    assert (
        moved.json["zone_id"] is None and moved.json["intercom"] == "12#" and moved.json["apartment"] == "12"
    )
    foreign = client.patch(f"/api/v1/clients/{b.json['id']}/addresses/{addr.json['id']}", json={}, headers=op)
    assert foreign.status_code == 404

    merged = client.post(
        "/api/v1/clients/merge", json={"keep_id": a.json["id"], "merge_id": b.json["id"]}, headers=op
    )
    assert merged.status_code == 200
    assert {p["phone"] for p in merged.json["phones"]} == {"+79123456789", "+79170001122", "+79035550000"}
    assert merged.json["notes"] == "Dog\nRings twice"
    via_old = client.get("/api/v1/callcentre/lookup?phone=89035550000", headers=op).json
    assert via_old["client"]["id"] == a.json["id"]
    assert client.get(f"/api/v1/clients/{b.json['id']}", headers=op).json["merged_into_id"] == a.json["id"]


def test_bad_client_input_is_refused_field_by_field(client, zones, op):
    resp = client.post("/api/v1/clients", json={"phone": "12", "tags": "VIP"}, headers=op)
    assert resp.status_code == 422
    assert {e["field"] for e in resp.json["errors"]} == {"tags"}
    resp = client.post("/api/v1/clients", json={"phone": "12"}, headers=op)
    assert resp.status_code == 422 and resp.json["errors"][0]["field"] == "phone"
    c = client.post("/api/v1/clients", json={"phone": "+79123456789"}, headers=op).json
    half = client.post(f"/api/v1/clients/{c['id']}/addresses", json={"text": "x", "lat": 55.7}, headers=op)
    assert half.status_code == 422
    assert client.patch("/api/v1/clients/999", json={"name": "x"}, headers=op).status_code == 404
    assert client.patch(f"/api/v1/clients/{c['id']}", json={"phone": None}, headers=op).status_code == 422


# --- zones ------------------------------------------------------------------------------------


def feature(name: str, ring: list, **props) -> dict:
    """A zone feature."""
    return {
        "type": "Feature",
        "geometry": {"type": "Polygon", "coordinates": [ring]},
        "properties": {"name": name, "branch_id": 1, **props},
    }


SQUARE = [[49.0, 55.0], [49.2, 55.0], [49.2, 55.2], [49.0, 55.2], [49.0, 55.0]]


def test_zones_export_and_import_back_as_geojson(client, users, zones, op):
    manager = users["manager"].headers
    exported = client.get("/api/v1/zones/geojson", headers=manager)
    assert exported.status_code == 200
    doc = exported.json
    assert doc["type"] == "FeatureCollection" and len(doc["features"]) == 4
    centre = next(f for f in doc["features"] if f["properties"]["name"] == "Centre")
    assert centre["properties"]["delivery_fee"] == "99.00" and centre["properties"]["branch"] == "KZ1"
    centre["properties"]["delivery_fee"] = "129.00"
    back = client.post("/api/v1/zones/geojson", json=doc, headers=manager)
    assert back.status_code == 200, back.json
    assert (back.json["created"], back.json["updated"], back.json["deleted"]) == (0, 4, 0)
    assert quote(client, op, lines=(("PZ-MARG", 1),))["delivery_fee"] == "129.00"
    listed = client.get("/api/v1/zones?branch_id=2", headers=op)
    assert listed.status_code == 200 and {z["name"] for z in listed.json} == {
        "Sovetsky & Privolzhsky",
        "Greater Kazan",
    }


def test_an_imported_zone_is_used_at_once_and_replace_deletes_the_rest(client, users, zones, op):
    manager = users["manager"].headers
    ring = [[48.40, 55.80], [48.60, 55.80], [48.60, 55.90], [48.40, 55.90], [48.40, 55.80]]
    resp = client.post(
        "/api/v1/zones/geojson",
        json={
            "type": "FeatureCollection",
            "features": [
                feature("Zelenodolsk", ring, delivery_fee=300, min_order="700", delivery_minutes=90)
            ],
        },
        headers=manager,
    )
    assert resp.status_code == 200 and resp.json["created"] == 1
    q = quote(client, op, point=OUTSIDE, lines=(("PZ-PEPP", 2),))
    assert q["zone"]["name"] == "Zelenodolsk" and q["delivery_fee"] == "300.00" and q["eta_minutes"] == 90
    replaced = client.post(
        "/api/v1/zones/geojson?replace=true",
        json={"type": "FeatureCollection", "features": [feature("Zelenodolsk", ring)]},
        headers=manager,
    )
    assert replaced.json["deleted"] == 4 and len(replaced.json["zones"]) == 1
    assert quote(client, op)["problems"][0]["code"] == "outside_zones"


def test_bad_geojson_is_refused_with_every_problem_and_nothing_changes(client, users, zones):
    manager = users["manager"].headers
    bowtie = [[49.0, 55.0], [49.2, 55.2], [49.2, 55.0], [49.0, 55.2], [49.0, 55.0]]
    doc = {
        "type": "FeatureCollection",
        "features": [
            feature("Bowtie", bowtie),
            feature("Nowhere", SQUARE, branch_id=99),
            feature("Late", SQUARE, opening_hours={"mon": [["25:00", "26:00"]]}),
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [49, 55]},
                "properties": {"name": "P", "branch": "KZ2"},
            },
            feature("Twice", SQUARE),
            feature("Twice", SQUARE),
            feature("Unknown id", SQUARE, id=999),
        ],
    }
    resp = client.post("/api/v1/zones/geojson", json=doc, headers=manager)
    assert resp.status_code == 422
    by_field = {e["field"]: e for e in resp.json["errors"]}
    assert "Self-intersection" in by_field["features.0.geometry"]["message"]
    assert by_field["features.1.properties.branch_id"]["message"] == "Unknown branch 99."
    assert by_field["features.2.properties.opening_hours.mon.0.0"]["type"] == "invalid_hours"
    assert by_field["features.3.geometry.type"]["type"] == "invalid_geometry"
    assert by_field["features.5.properties.name"]["type"] == "duplicate_zone"
    assert by_field["features.6.properties.id"]["type"] == "unknown_zone"
    schema = client.post(
        "/api/v1/zones/geojson",
        json={
            "type": "FeatureCollection",
            "features": [{"type": "Feature", "geometry": {}, "properties": {}}],
        },
        headers=manager,
    )
    assert schema.status_code == 422 and schema.json["errors"][0]["field"] == "features.0.properties.name"
    assert client.post("/api/v1/zones/geojson", json={"type": "Feature"}, headers=manager).status_code == 422
    with client.application.extensions["frontoffice"].db.reading() as s:
        assert s.scalar(select(func.count(DeliveryZone.id))) == 4


# --- quotes -----------------------------------------------------------------------------------


def test_a_quote_inside_a_zone_gives_its_branch_fee_minimum_and_promise(client, zones, op):
    q = quote(client, op, lines=(("PZ-MARG", 1),))
    assert q["zone"]["name"] == "Centre" and q["branch_id"] == 1 and q["problems"] == []
    assert (q["items_total"], q["delivery_fee"], q["total"]) == ("549.00", "99.00", "648.00")
    assert (q["min_order"], q["free_delivery_from"], q["meets_minimum"]) == ("500.00", "1000.00", True)
    assert q["eta_minutes"] == 45
    asap = dt.datetime.fromisoformat(q["asap_at"])
    assert dt.timedelta(minutes=44) < asap - dt.datetime.now(dt.UTC) <= dt.timedelta(minutes=46)
    slots = [dt.datetime.fromisoformat(s) for s in q["slots"]]
    assert slots and all(s.minute % 15 == 0 for s in slots) and slots[0] >= asap - dt.timedelta(minutes=1)

    free = quote(client, op, lines=(("PZ-MARG", 2),))
    assert free["delivery_fee"] == "0.00" and free["total"] == "1098.00"
    kz2 = quote(client, op, point=SOVETSKY)
    assert kz2["zone"]["name"] == "Sovetsky & Privolzhsky" and kz2["branch_id"] == 2
    outer = quote(client, op, point=GREATER_ONLY, lines=(("PZ-MARG", 2),))
    assert outer["zone"]["name"] == "Greater Kazan" and outer["delivery_fee"] == "249.00"


def test_a_quote_below_the_minimum_says_how_much_is_missing(client, zones, op):
    q = quote(client, op, lines=(("DR-COLA05", 1),))
    assert q["meets_minimum"] is False
    problem = q["problems"][0]
    assert problem["field"] == "lines" and problem["code"] == "below_minimum"
    assert problem["params"] == {"min_order": "500.00", "missing": "371.00"}


def test_a_quote_outside_every_zone_refuses_and_offers_pickup_at_the_nearest_branch(client, zones, op):
    q = quote(client, op, point=OUTSIDE)
    assert q["zone"] is None and q["branch_id"] is None
    assert q["problems"][0]["code"] == "outside_zones"
    assert q["problems"][0]["message"].startswith(
        "Address is outside every delivery zone; offer pickup from Kazan"
    )
    assert q["pickup_offer"]["code"] == "KZ1" and q["pickup_offer"]["distance_km"] > 30


def test_the_branch_load_lengthens_the_promise(client, app, zones, op):
    for _ in range(11):
        assert client.post("/api/v1/callcentre/orders", json=take_order_body(), headers=op).status_code == 201
    assert quote(client, op)["eta_minutes"] == 45 + 10
    assert quote(client, op, point=SOVETSKY)["eta_minutes"] == 50


def test_a_closed_zone_offers_preorder_slots_and_accepts_one(client, app, zones, op):
    now = dt.datetime.now(ZoneInfo("Europe/Moscow"))
    opens, closes = (now + dt.timedelta(hours=3)).hour, (now + dt.timedelta(hours=5)).hour
    hours = {
        d: [[f"{opens:02d}:00", f"{closes:02d}:00"]]
        for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    }
    with app.extensions["frontoffice"].db.unit_of_work() as s:
        s.execute(update(DeliveryZone).values(opening_hours=hours, updated_at=dt.datetime.now(dt.UTC)))
    q = quote(client, op)
    assert q["asap_at"] is None
    assert q["problems"][0]["field"] == "promised_at" and q["problems"][0]["code"] == "closed"
    first = q["slots"][0]
    assert q["problems"][0]["params"]["next_slot"] == dt.datetime.fromisoformat(first).isoformat()
    assert dt.datetime.fromisoformat(first).astimezone(ZoneInfo("Europe/Moscow")).hour == opens
    refused = client.post("/api/v1/callcentre/orders", json=take_order_body(), headers=op)
    assert refused.status_code == 422 and counts(app) == (0, 0, 0)
    taken = client.post("/api/v1/callcentre/orders", json=take_order_body(promised_at=first), headers=op)
    assert taken.status_code == 201 and dt.datetime.fromisoformat(
        taken.json["promised_at"]
    ) == dt.datetime.fromisoformat(first)


def test_pickup_needs_a_branch_and_no_zone(client, zones, op):
    resp = client.post(
        "/api/v1/callcentre/quote",
        json={"kind": "pickup", "lines": [{"sku": "PZ-MARG", "quantity": 1}]},
        headers=op,
    )
    assert resp.json["problems"][0]["field"] == "branch_id"
    ok = client.post(
        "/api/v1/callcentre/quote",
        json={"kind": "pickup", "branch_id": 2, "lines": [{"sku": "DR-COLA05", "quantity": 1}]},
        headers=op,
    ).json
    assert ok["problems"] == [] and ok["delivery_fee"] == "0.00" and ok["eta_minutes"] == 20


def test_unknown_and_stopped_items_are_problems_of_their_line(client, app, zones, op):
    with app.extensions["frontoffice"].db.unit_of_work() as s:
        s.execute(update(Item).where(Item.sku == "DS-TIRAM").values(active=False))
    q = quote(client, op, lines=(("PZ-MARG", 1), ("NOPE", 1), ("DS-TIRAM", 1)))
    assert [(p["field"], p["code"]) for p in q["problems"]] == [
        ("lines.1", "unknown_item"),
        ("lines.2", "item_unavailable"),
    ]


# --- taking orders ----------------------------------------------------------------------------


def test_taking_an_order_creates_the_client_saves_the_address_and_places_it_with_the_zone_fee(
    client, app, zones, op
):
    body = take_order_body(lines=[{"sku": "PZ-MARG", "quantity": 1, "comment": "well done"}])
    resp = client.post("/api/v1/callcentre/orders", json=body, headers={**op, "Idempotency-Key": "call-1"})
    assert resp.status_code == 201, resp.json
    order = resp.json
    assert order["branch_id"] == 1 and order["delivery_fee"] == "99.00" and order["total"] == "648.00"
    assert order["client_phone"] == "+79123456789" and order["client_name"] == "Ivan"
    assert order["address_text"] == "Kazan, Kremlyovskaya St, 21, apt 5, entrance 2, floor 4, intercom 5K"
    assert order["lines"][0]["comment"] == "well done"
    promised = dt.datetime.fromisoformat(order["promised_at"])
    assert (
        dt.timedelta(minutes=44)
        < promised - dt.datetime.fromisoformat(order["created_at"])
        < dt.timedelta(minutes=46)
    )
    assert counts(app) == (1, 1, 1)
    replay = client.post("/api/v1/callcentre/orders", json=body, headers={**op, "Idempotency-Key": "call-1"})
    assert replay.status_code == 201 and replay.json["id"] == order["id"]
    assert replay.headers["Idempotent-Replayed"] == "true" and counts(app) == (1, 1, 1)

    saved = client.get("/api/v1/callcentre/lookup?phone=89123456789", headers=op).json["addresses"][0]
    again = client.post(
        "/api/v1/callcentre/orders",
        json=take_order_body(address={"id": saved["id"]}, payment={"kind": "card_on_delivery"}),
        headers=op,
    )
    assert again.status_code == 201 and again.json["address_text"] == order["address_text"]
    assert counts(app) == (1, 1, 2)


def test_an_order_outside_every_zone_is_refused_and_nothing_is_written(client, app, zones, op):
    body = take_order_body(
        phone="+7 917 000 99 88", name="New caller", address=address(OUTSIDE, "Zelenodolsk")
    )
    resp = client.post("/api/v1/callcentre/orders", json=body, headers=op)
    assert resp.status_code == 422 and resp.mimetype == "application/problem+json"
    assert resp.json["errors"][0]["field"] == "address" and resp.json["errors"][0]["type"] == "outside_zones"
    assert "outside every delivery zone; offer pickup from Kazan" in resp.json["detail"]
    assert resp.json["pickup_offer"]["branch_id"] == 1
    assert counts(app) == (0, 0, 0)


def test_an_order_below_the_minimum_or_with_a_bad_phone_is_refused_and_nothing_is_written(
    client, app, zones, op
):
    small = client.post(
        "/api/v1/callcentre/orders",
        json=take_order_body(lines=[{"sku": "SC-SOY", "quantity": 1}]),
        headers=op,
    )
    assert small.status_code == 422 and small.json["errors"][0]["type"] == "below_minimum"
    bad_phone = client.post("/api/v1/callcentre/orders", json=take_order_body(phone="12"), headers=op)
    assert bad_phone.status_code == 422 and bad_phone.json["errors"][0]["field"] == "phone"
    no_coords = client.post(
        "/api/v1/callcentre/orders", json=take_order_body(address={"text": "Kazan, somewhere"}), headers=op
    )
    assert no_coords.status_code == 422 and no_coords.json["errors"][0]["type"] == "no_coordinates"
    change = client.post(
        "/api/v1/callcentre/orders",
        json=take_order_body(payment={"kind": "cash", "change_from": "100.00"}),
        headers=op,
    )
    assert change.status_code == 422 and change.json["errors"][0]["field"] == "payment.change_from"
    assert counts(app) == (0, 0, 0)


def test_a_known_client_picked_by_id_gains_the_new_number_they_call_from(client, app, zones, op):
    known = client.post("/api/v1/clients", json={"phone": "+79123456789", "name": "Ivan"}, headers=op).json
    resp = client.post(
        "/api/v1/callcentre/orders",
        json=take_order_body(phone="+7 999 111 22 33", client_id=known["id"], name=""),
        headers=op,
    )
    assert resp.status_code == 201 and resp.json["client_name"] == "Ivan"
    dossier = client.get("/api/v1/callcentre/lookup?phone=+79991112233", headers=op).json
    assert dossier["client"]["id"] == known["id"] and dossier["last_order_id"] == resp.json["id"]


# --- repeat -----------------------------------------------------------------------------------


def test_repeat_cart_returns_the_lines_at_todays_prices_and_skips_what_is_not_on_sale(client, app, zones, op):
    order = client.post("/api/v1/callcentre/orders", json=take_order_body(), headers=op).json
    with app.extensions["frontoffice"].db.unit_of_work() as s:
        s.execute(update(Item).where(Item.sku == "SU-PHIL").values(active=False))
        s.execute(update(Item).where(Item.sku == "PZ-MARG").values(price=55900))
    resp = client.post(f"/api/v1/callcentre/orders/{order['id']}/repeat-cart", headers=op)
    assert resp.status_code == 200
    cart = resp.json
    assert [(ln["sku"], ln["quantity"], ln["unit_price"]) for ln in cart["lines"]] == [
        ("PZ-MARG", 1, "559.00"),
        ("DR-COLA05", 2, "129.00"),
    ]
    assert cart["skipped"][0]["sku"] == "SU-PHIL" and "not on sale" in cart["skipped"][0]["reason"]
    assert cart["items_total"] == "817.00" and cart["number"] == order["number"] and cart["branch_id"] == 1
    again = client.post(
        "/api/v1/callcentre/orders",
        json=take_order_body(lines=[{"sku": ln["sku"], "quantity": ln["quantity"]} for ln in cart["lines"]]),
        headers=op,
    )
    assert again.status_code == 201
    assert client.post("/api/v1/callcentre/orders/999/repeat-cart", headers=op).status_code == 404


def option_ids(app, *names: str) -> list[int]:
    """Ids of demo modifier options by name."""
    with app.extensions["frontoffice"].db.reading() as s:
        found = dict(
            s.execute(
                select(ModifierOption.name, ModifierOption.id).where(ModifierOption.name.in_(names))
            ).all()
        )
    return [found[n] for n in names]


def stop(app, sku: str, branch_id: int, reason: str) -> None:
    """Put an item on a branch's stop-list."""
    with app.extensions["frontoffice"].db.unit_of_work() as s:
        item_id = s.scalar(select(Item.id).where(Item.sku == sku))
        catalogue_services.stop_item(s, branch_id, item_id, reason)


@pytest.mark.parametrize(
    ("payment", "expected"),
    [
        ({"kind": "card_on_delivery"}, ("card_on_delivery", None)),
        ({"kind": "cash", "change_from": "5000.00"}, ("cash", "5000.00")),
        ({"kind": "prepaid"}, ("prepaid", None)),
    ],
)
def test_repeat_copies_how_the_client_paid_last_time(client, zones, op, payment, expected):
    order = client.post("/api/v1/callcentre/orders", json=take_order_body(payment=payment), headers=op).json
    assert order["payment_kind"] == expected[0]
    cart = client.post(f"/api/v1/callcentre/orders/{order['id']}/repeat-cart", headers=op).json
    assert (cart["payment_kind"], cart["change_from"]) == expected


def test_modifiers_are_priced_into_the_line_and_kept_through_order_and_repeat(client, app, zones, op):
    big, cheese = option_ids(app, "35 cm", "Extra cheese")
    line = {"sku": "PZ-MARG", "quantity": 2, "modifiers": [big, cheese], "comment": "cut in 8"}
    q = client.post(
        "/api/v1/callcentre/quote",
        json={"kind": "delivery", "address": address(CENTRE), "lines": [line]},
        headers=op,
    ).json
    assert q["problems"] == []
    priced = q["lines"][0]
    assert (
        priced["unit_price"] == "749.00" and priced["total"] == "1498.00" and priced["comment"] == "cut in 8"
    )
    assert [m["name"] for m in priced["modifiers"]] == ["35 cm", "Extra cheese"]
    order = client.post("/api/v1/callcentre/orders", json=take_order_body(lines=[line]), headers=op).json
    assert order["items_total"] == "1498.00" and [m["id"] for m in order["lines"][0]["modifiers"]] == [
        big,
        cheese,
    ]
    history = client.get("/api/v1/callcentre/lookup?phone=89123456789", headers=op).json["orders"][0]
    assert [m["name"] for m in history["lines"][0]["modifiers"]] == ["35 cm", "Extra cheese"]
    cart = client.post(f"/api/v1/callcentre/orders/{order['id']}/repeat-cart", headers=op).json
    assert cart["skipped"] == [] and cart["lines"][0]["unit_price"] == "749.00"
    assert [m["id"] for m in cart["lines"][0]["modifiers"]] == [big, cheese]


def test_an_option_not_offered_with_the_item_is_a_problem_of_its_line(client, app, zones, op):
    (ginger,) = option_ids(app, "Extra ginger")
    body = {
        "kind": "delivery",
        "address": address(CENTRE),
        "lines": [
            {"sku": "DR-COLA05", "quantity": 1},
            {"sku": "PZ-MARG", "quantity": 1, "modifiers": [ginger]},
        ],
    }
    q = client.post("/api/v1/callcentre/quote", json=body, headers=op).json
    assert [(p["field"], p["code"]) for p in q["problems"]] == [
        ("lines.1.modifiers", "modifiers"),
        ("lines", "below_minimum"),  # only the cola is priced
    ]


def test_the_stop_list_of_the_branch_that_delivers_refuses_the_item_and_repeat_skips_it(
    client, app, zones, op
):
    order = client.post("/api/v1/callcentre/orders", json=take_order_body(), headers=op).json
    stop(app, "SU-PHIL", 1, "out of salmon")
    here = quote(client, op, lines=(("PZ-MARG", 1), ("SU-PHIL", 1)))
    assert [(p["field"], p["code"]) for p in here["problems"]] == [("lines.1", "stopped")]
    assert "out of salmon" in here["problems"][0]["message"]
    there = quote(client, op, point=SOVETSKY, lines=(("PZ-MARG", 1), ("SU-PHIL", 1)))
    assert there["problems"] == [] and there["branch_id"] == 2
    refused = client.post("/api/v1/callcentre/orders", json=take_order_body(), headers=op)
    assert refused.status_code == 422 and refused.json["errors"][0]["type"] == "stopped"
    cart = client.post(f"/api/v1/callcentre/orders/{order['id']}/repeat-cart", headers=op).json
    assert [s["sku"] for s in cart["skipped"]] == ["SU-PHIL"] and "stop-list" in cart["skipped"][0]["reason"]


# --- the zone policy on the generic order API -------------------------------------------------


def test_orders_through_the_generic_api_get_the_zone_fee_and_are_refused_outside_zones(
    client, app, zones, op
):
    small = order_body(lines=[{"sku": "PZ-MARG", "quantity": 1}])
    resp = client.post("/api/v1/orders", json=small, headers=op)
    assert resp.status_code == 201 and resp.json["delivery_fee"] == "99.00"
    outside = order_body(address={"text": "Zelenodolsk", "lat": OUTSIDE[0], "lon": OUTSIDE[1]})
    refused = client.post("/api/v1/orders", json=outside, headers=op)
    assert refused.status_code == 422 and refused.json["errors"][0]["type"] == "outside_zones"
    pickup = order_body(kind="pickup", address=None)
    assert client.post("/api/v1/orders", json=pickup, headers=op).status_code == 201


def test_a_fee_other_than_the_zones_is_refused_naming_the_field_and_nothing_is_written(client, zones, op):
    lines = [{"sku": "PZ-MARG", "quantity": 1}]
    refused = client.post("/api/v1/orders", json=order_body(lines=lines, delivery_fee="500.00"), headers=op)
    assert refused.status_code == 422
    assert [(e["field"], e["type"]) for e in refused.json["errors"]] == [("delivery_fee", "read_only")]
    assert "99.00" in refused.json["errors"][0]["message"]
    assert client.get("/api/v1/orders", headers=op).json["total"] == 0
    same = client.post("/api/v1/orders", json=order_body(lines=lines, delivery_fee="99.00"), headers=op)
    assert same.status_code == 201 and same.json["delivery_fee"] == "99.00"


def test_a_pickup_with_a_delivery_fee_is_refused(client, catalogue, op):
    body = order_body(kind="pickup", address=None, delivery_fee="150.00")
    refused = client.post("/api/v1/orders", json=body, headers=op)
    assert refused.status_code == 422 and refused.json["errors"][0]["field"] == "delivery_fee"


def test_openapi_says_when_the_delivery_fee_is_honoured(client):
    prop = client.get("/api/openapi.json").json["components"]["schemas"]["OrderCreate"]["properties"]
    assert "zone" in prop["delivery_fee"]["description"] and "422" in prop["delivery_fee"]["description"]
    assert "honoured" in prop["discount"]["description"].lower()


def test_without_any_zone_the_generic_api_is_unchanged(client, catalogue, op):
    resp = client.post("/api/v1/orders", json=order_body(delivery_fee="150.00"), headers=op)
    assert resp.status_code == 201 and resp.json["delivery_fee"] == "150.00"


def test_openapi_documents_the_call_centre_endpoints(client):
    doc = client.get("/api/openapi.json").json
    assert doc["paths"]["/api/v1/callcentre/lookup"]["get"]["x-roles"] == [
        "backoffice",
        "manager",
        "operator",
    ]
    assert "503" in doc["paths"]["/api/v1/geocode"]["get"]["responses"]
    assert "QuoteOut" in doc["components"]["schemas"] and "DossierOut" in doc["components"]["schemas"]
    assert json.dumps(doc)
