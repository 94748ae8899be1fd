"""Changing an order after it is taken: re-quoted through the intake pipeline, receipts split again,
the version bumped, the change in the trail; who may change it when; stale versions; bad edits
refused with the field named and the order left as it was (SQLite and PostgreSQL)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from backoffice.models import AntifraudVerdict
from nomenclature import services as catalogue_services
from nomenclature.models import Item
from orders.models import Order
from tests.callcentre_fixtures import OUTSIDE, SOVETSKY, address, load_zones, open_around_the_clock
from tests.callcentre_fixtures import take_order_body as base_body
from tests.couriers_fixtures import make_courier, pool_order

#: In Novo-Savinovsky, KZ1's second zone (fee 149.00, free from 1500.00, minimum 700.00, 60 min).
NOVO_SAVINOVSKY = (55.835, 49.130)
EDIT = "/api/v1/callcentre/orders/{}"


@pytest.fixture
def zones(app):
    load_zones(app)
    open_around_the_clock(app)


@pytest.fixture
def op(users):
    return users["operator"].headers


def take(client, headers, **overrides):
    body = base_body(payment={"kind": "cash"}, **overrides)
    resp = client.post("/api/v1/callcentre/orders", json=body, headers=headers)
    assert resp.status_code == 201, resp.json
    return resp.json


def edit(client, order, headers, **fields):
    return client.patch(
        EDIT.format(order["id"]), json={"version": order["version"], **fields}, headers=headers
    )


def stored(app, order_id):
    """What the database holds of an order: fields, lines, receipts, trail length."""
    with app.extensions["frontoffice"].db.reading() as s:
        o = s.get(Order, order_id)
        return (
            o.version,
            o.total,
            o.delivery_fee,
            o.address_text,
            [(ln.sku, ln.quantity) for ln in o.lines],
            [(r.organization_id, r.total) for r in o.receipts],
            len(o.events),
        )


def test_adding_a_drink_re_splits_the_receipts_bumps_the_version_and_keeps_the_change(client, app, zones, op):
    order = take(client, op)
    lines = [*base_body()["lines"], {"sku": "DR-JUICE1", "quantity": 1}]
    resp = edit(client, order, op, lines=lines, comment="Ring twice")
    assert resp.status_code == 200, resp.json
    changed = resp.json
    assert changed["version"] == order["version"] + 1
    assert Decimal(changed["total"]) == Decimal(order["total"]) + Decimal("219.00")
    assert sum(Decimal(r["total"]) for r in changed["receipts"]) == Decimal(changed["total"])
    assert changed["comment"] == "Ring twice"
    entry = changed["events"][-1]
    assert entry["kind"] == "edited" and entry["actor_id"] is not None
    assert {"lines", "total", "receipts", "comment"} <= set(entry["changes"])
    assert entry["changes"]["comment"] == ["", "Ring twice"]
    assert changed["edits"] == [entry]
    listed = client.get("/api/v1/orders", headers=op).json["items"][0]
    assert listed["edits"][0]["changes"] == entry["changes"] and listed["receipts"] == changed["receipts"]
    receipts = client.get(f"/api/v1/orders/{order['id']}/receipts", headers=op).json
    assert sum(Decimal(r["total"]) for r in receipts["receipts"]) == Decimal(changed["total"])


def test_a_new_address_is_re_quoted_for_zone_fee_and_promise_and_lines_keep_their_price(
    client, app, zones, op
):
    order = take(client, op, lines=[{"sku": "PZ-MARG", "quantity": 1}, {"sku": "DR-COLA05", "quantity": 2}])
    assert order["delivery_fee"] == "99.00"  # Centre, 807.00 of items
    with app.extensions["frontoffice"].db.unit_of_work() as s:
        s.scalars(select(Item).where(Item.sku == "PZ-MARG")).one().price = 59900
    resp = edit(client, order, op, address=address(NOVO_SAVINOVSKY, text="Kazan, Yamasheva Ave, 10"))
    assert resp.status_code == 200, resp.json
    moved = resp.json
    assert moved["delivery_fee"] == "149.00" and moved["items_total"] == order["items_total"]
    assert moved["address_text"].startswith("Kazan, Yamasheva Ave, 10")
    assert (moved["lat"], moved["lon"]) == NOVO_SAVINOVSKY
    assert set(moved["events"][-1]["changes"]) >= {"address", "delivery_fee", "total"}


def test_a_stale_version_is_refused_naming_what_changed(client, app, zones, op, users):
    order = take(client, op)
    assert edit(client, order, users["manager"].headers, comment="Leave at the door").status_code == 200
    resp = edit(client, order, op, payment={"kind": "card_on_delivery"})
    assert resp.status_code == 409 and resp.mimetype == "application/problem+json"
    assert resp.json["changed_fields"] == ["comment"]
    assert resp.json["current_version"] == order["version"] + 1
    assert stored(app, order["id"])[0] == order["version"] + 1


def test_an_operator_edits_until_the_kitchen_starts_then_a_manager_with_a_reason(
    client, app, zones, op, users, orders
):
    order = take(client, op)
    orders.move(order["id"], "confirmed", "cooking")
    current = client.get(f"/api/v1/orders/{order['id']}", headers=op).json
    assert edit(client, current, op, comment="x").status_code == 403
    manager = users["manager"].headers
    refused = edit(client, current, manager, comment="x")
    assert refused.status_code == 422 and refused.json["errors"][0]["field"] == "reason"
    done = edit(client, current, manager, comment="Call on arrival", reason="The client called back")
    assert done.status_code == 200 and done.json["events"][-1]["reason"] == "The client called back"
    orders.move(order["id"], "ready", "in_delivery", "delivered")
    closed = client.get(f"/api/v1/orders/{order['id']}", headers=op).json
    assert edit(client, closed, manager, comment="y", reason="late").status_code == 409


def stop(app, sku: str, branch_id: int) -> None:
    with app.extensions["frontoffice"].db.unit_of_work() as s:
        item_id = s.scalar(select(Item.id).where(Item.sku == sku))
        catalogue_services.stop_item(s, branch_id, item_id, "ran out")


#: Edits that must be refused: (the change, the field named, the problem's type).
BAD_EDITS = [
    ({"lines": []}, "lines", "empty_cart"),
    ({"lines": [{"sku": "DR-COLA05", "quantity": 1}]}, "lines", "below_minimum"),
    ({"address": address(OUTSIDE, text="Zelenodolsk, Lenina St, 1")}, "address", "outside_zones"),
    ({"address": address(SOVETSKY, text="Kazan, Pobedy Ave, 100")}, "address", "other_branch"),
    ({"lines": [*base_body()["lines"], {"sku": "DR-MORS", "quantity": 1}]}, "lines.3", "stopped"),
]


def test_a_bad_edit_is_refused_naming_the_field_and_changes_nothing(client, app, zones, op):
    order = take(client, op)
    stop(app, "DR-MORS", order["branch_id"])
    before = stored(app, order["id"])
    for change, field, kind in BAD_EDITS:
        resp = edit(client, order, op, **change)
        assert resp.status_code == 422 and resp.mimetype == "application/problem+json", resp.json
        assert (field, kind) in {(e["field"], e["type"]) for e in resp.json["errors"]}, resp.json
        assert stored(app, order["id"]) == before, change


def test_a_line_the_kitchen_already_took_survives_a_stop_and_antifraud_screens_the_edit_again(
    client, app, zones, op, users
):
    order = take(client, op)
    stop(app, "PZ-MARG", order["branch_id"])
    resp = edit(client, order, op, lines=[*base_body()["lines"], {"sku": "DR-WATER", "quantity": 1}])
    assert resp.status_code == 200, resp.json
    assert [ln["sku"] for ln in resp.json["lines"]][0] == "PZ-MARG"
    rule = {
        "name": "Big cash orders",
        "kind": "large_cash_new_client",
        "params": {"min_total": "1700.00"},
        "action": "hold",
        "score": 10,
    }
    created = client.post("/api/v1/antifraud/rules", json=rule, headers=users["admin"].headers)
    assert created.status_code == 201, created.json
    held = edit(client, resp.json, op, lines=[*base_body()["lines"], {"sku": "PZ-BBQ", "quantity": 1}])
    assert held.status_code == 200, held.json
    assert held.json["status"] == "on_hold"
    with app.extensions["frontoffice"].db.reading() as s:
        verdict = s.scalar(select(AntifraudVerdict).where(AntifraudVerdict.order_id == order["id"]))
    assert verdict is not None and verdict.action == "hold"


def test_the_courier_carrying_a_changed_order_hears_what_changed(app, client, catalogue, users):
    anna = make_courier(app, "Anna", branch_ids=(1,))
    order_id = pool_order(app, 1, status="cooking")
    manager = users["manager"].headers
    given = client.post(
        f"/api/v1/dispatch/orders/{order_id}/assign", json={"courier_id": anna.id}, headers=manager
    )
    assert given.status_code == 200, given.json
    phone = app.extensions["frontoffice"].socketio.test_client(
        app, namespace="/courier", auth={"token": anna.token}
    )
    try:
        phone.get_received("/courier")
        changed = client.patch(
            EDIT.format(order_id),
            json={
                "version": given.json["version"],
                "comment": "Entrance from the yard",
                "reason": "Client called",
            },
            headers=manager,
        )
        assert changed.status_code == 200, changed.json
        heard = [m["args"][0] for m in phone.get_received("/courier") if m["name"] == "order_changed"]
        assert [(d["order_id"], d["changed"], d["reason"]) for d in heard] == [
            (order_id, ["comment"], "changed")
        ]
    finally:
        phone.disconnect("/courier")
