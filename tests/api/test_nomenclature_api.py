"""The nomenclature API: the menu, catalogue administration, organizations, conditions, explain,
lint, receipts and their preview, the backtest; bad input answered with problem+json, nothing written."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from frontoffice.apidocs import iter_endpoints
from nomenclature.models import DistributionCondition, Item, ItemGroup, ModifierGroup, Organization
from orders.models import Order
from tests.conftest import order_body

pytestmark = pytest.mark.usefixtures("catalogue")


def count(db, model) -> int:
    with db.reading() as s:
        return s.scalar(select(func.count()).select_from(model))


def menu(client, users, **params):
    resp = client.get("/api/v1/menu", query_string=params, headers=users["operator"].headers)
    assert resp.status_code == 200, resp.json
    return resp.json


def option_id(client, users, sku: str, name: str) -> int:
    item = next(i for i in menu(client, users)["items"] if i["sku"] == sku)
    return next(o["id"] for g in item["modifier_groups"] for o in g["options"] if o["name"] == name)


# --- menu -----------------------------------------------------------------------------------------


def test_the_menu_lists_groups_and_items_with_modifiers_and_prices_as_decimal_strings(client, users):
    data = menu(client, users, branch_id=1)
    assert {"Pizza", "Sushi & rolls", "Wok", "Salads & sides", "Drinks", "Desserts", "Sauces"} <= {
        g["name"] for g in data["groups"]
    }
    items = {i["sku"]: i for i in data["items"]}
    assert items["PZ-MARG"]["price"] == "549.00" and items["DR-COLA05"]["price"] == "129.00"
    marg = items["PZ-MARG"]
    assert set(marg) == {
        "id",
        "sku",
        "name",
        "group_id",
        "price",
        "vat_rate",
        "unit",
        "description",
        "stopped",
        "modifier_groups",
    }
    size = next(g for g in marg["modifier_groups"] if g["name"] == "Pizza size")
    assert (size["min"], size["max"]) == (0, 1)
    assert {o["name"]: o["price_delta"] for o in size["options"]} == {"25 cm": "-100.00", "35 cm": "150.00"}
    groups = {g["id"]: g for g in data["groups"]}
    assert groups[items["DR-COLA05"]["group_id"]]["name"] == "Soft drinks"
    assert groups[groups[items["DR-COLA05"]["group_id"]]["parent_id"]]["name"] == "Drinks"
    assert marg["stopped"] is False


def test_menu_search_matches_name_or_sku_in_any_case_and_alphabet(client, users):
    h = users["admin"].headers
    resp = client.post(
        "/api/v1/items",
        json={"sku": "ru-pel", "name": "Пельмени домашние", "price": "390.00", "group_id": 5},
        headers=h,
    )
    assert resp.status_code == 201, resp.json
    assert [i["sku"] for i in menu(client, users, q="ПЕЛЬМЕНИ")["items"]] == ["ru-pel"]
    assert [i["sku"] for i in menu(client, users, q="RU-P")["items"]] == ["ru-pel"]
    assert {i["sku"] for i in menu(client, users, q="margherita")["items"]} == {"PZ-MARG"}
    assert menu(client, users, q="nothing like this")["items"] == []


def test_the_menu_of_an_unknown_branch_is_404(client, users):
    resp = client.get("/api/v1/menu?branch_id=99", headers=users["operator"].headers)
    assert resp.status_code == 404 and resp.mimetype == "application/problem+json"


# --- stop-list ------------------------------------------------------------------------------------


def test_an_operator_stops_an_item_and_orders_for_it_are_refused_in_that_branch_only(client, users, db):
    h = users["operator"].headers
    resp = client.post(
        "/api/v1/stop-list", json={"branch_id": 1, "sku": "PZ-MARG", "reason": "no dough"}, headers=h
    )
    assert resp.status_code == 201, resp.json
    assert resp.json["stopped_by"] == users["operator"].id
    assert {i["sku"]: i["stopped"] for i in menu(client, users, branch_id=1)["items"]}["PZ-MARG"] is True
    assert {i["sku"]: i["stopped"] for i in menu(client, users, branch_id=2)["items"]}["PZ-MARG"] is False
    refused = client.post("/api/v1/orders", json=order_body(), headers=h)
    assert refused.status_code == 422
    assert (
        "Pizza Margherita 30 cm (PZ-MARG) is on the stop-list of this branch: no dough"
        in refused.json["detail"]
    )
    assert client.post("/api/v1/orders", json=order_body(branch_id=2), headers=h).status_code == 201
    listed = client.get("/api/v1/stop-list?branch_id=1", headers=users["backoffice"].headers).json
    assert [(e["sku"], e["reason"]) for e in listed] == [("PZ-MARG", "no dough")]
    margherita = listed[0]["item_id"]
    assert client.delete(f"/api/v1/stop-list/1/{margherita}", headers=h).status_code == 204
    assert client.post("/api/v1/orders", json=order_body(), headers=h).status_code == 201
    assert client.delete(f"/api/v1/stop-list/1/{margherita}", headers=h).status_code == 404


def test_the_stop_list_refuses_an_unknown_branch_or_item(client, users):
    h = users["manager"].headers
    assert client.post("/api/v1/stop-list", json={"branch_id": 9, "item_id": 1}, headers=h).status_code == 422
    assert (
        client.post("/api/v1/stop-list", json={"branch_id": 1, "item_id": 999}, headers=h).status_code == 404
    )
    assert (
        client.post("/api/v1/stop-list", json={"branch_id": 1, "sku": "NOPE"}, headers=h).status_code == 422
    )


# --- orders with modifiers and receipts --------------------------------------------------------------


def test_an_order_line_is_priced_with_its_modifiers_and_keeps_them(client, users):
    h = users["operator"].headers
    big, cheese = (
        option_id(client, users, "PZ-MARG", "35 cm"),
        option_id(client, users, "PZ-MARG", "Extra cheese"),
    )
    body = order_body(lines=[{"sku": "PZ-MARG", "quantity": 2, "modifiers": [big, cheese]}])
    order = client.post("/api/v1/orders", json=body, headers=h).json
    line = order["lines"][0]
    assert line["unit_price"] == "749.00" and line["total"] == "1498.00"  # 549 + 150 + 50
    assert [(m["name"], m["price_delta"]) for m in line["modifiers"]] == [
        ("35 cm", "150.00"),
        ("Extra cheese", "50.00"),
    ]
    receipts = client.get(f"/api/v1/orders/{order['id']}/receipts", headers=h).json
    assert receipts["receipts"][0]["items"][0]["name"] == "Pizza Margherita 30 cm (35 cm, Extra cheese)"


def test_modifier_choices_outside_the_rules_are_refused_naming_the_problem(client, users, db):
    h = users["operator"].headers
    small, big = option_id(client, users, "PZ-MARG", "25 cm"), option_id(client, users, "PZ-MARG", "35 cm")
    ginger = option_id(client, users, "SU-PHIL", "Extra ginger")
    before = count(db, Item)
    for mods, message in (([small, big], "at most 1 of Pizza size"), ([ginger], "is not offered with")):
        resp = client.post(
            "/api/v1/orders",
            json=order_body(lines=[{"sku": "PZ-MARG", "quantity": 1, "modifiers": mods}]),
            headers=h,
        )
        assert resp.status_code == 422 and message in resp.json["detail"]
        assert resp.json["errors"][0]["field"] == "lines.0.modifiers"
    assert count(db, Item) == before


def test_the_receipts_of_a_typical_order_are_split_by_organization_with_exact_vat(client, users):
    h = users["operator"].headers
    order = client.post("/api/v1/orders", json=order_body(), headers=h).json
    lines = {ln["sku"]: ln for ln in order["lines"]}
    assert lines["DR-COLA05"]["vat_rate"] == "none" and lines["PZ-MARG"]["vat_rate"] == "vat22"
    assert lines["PZ-MARG"]["condition_id"] is not None and lines["PZ-MARG"]["tax_system"] == "osn"
    data = client.get(f"/api/v1/orders/{order['id']}/receipts", headers=users["backoffice"].headers).json
    assert data["total"] == "1406.00"
    llc, ip = data["receipts"]
    # Margherita 549.00 (VAT 99.00) + Philadelphia 599.00 (VAT 108.02) from the LLC on ОСН.
    assert (llc["organization"]["name"], llc["tax_system_code"], llc["total"]) == (
        'LLC "Kazan Food"',
        1,
        "1148.00",
    )
    assert llc["vat"] == [{"vat_rate": "vat22", "vat_code": 11, "amount": "1148.00", "vat": "207.02"}]
    assert [(p["1030"], p["1199"], p["1200"], p["1212"], p["1214"]) for p in llc["ffd"]["1059"]] == [
        ("Pizza Margherita 30 cm", 11, "99.00", 1, 4),
        ("Philadelphia roll, 8 pcs", 11, "108.02", 1, 4),
    ]
    assert llc["ffd"]["1031"] == "1148.00"  # paid in cash
    assert (ip["organization"]["inn"], ip["tax_system"], ip["tax_system_code"], ip["total"]) == (
        "165601234500",
        "usn_income",
        2,
        "258.00",
    )
    assert ip["items"][0]["vat_code"] == 6 and ip["items"][0]["vat"] == "0.00"


def test_discount_and_fee_are_spread_so_the_receipts_add_up_to_the_order(client, users):
    h = users["operator"].headers
    body = order_body(
        lines=[
            {"sku": "PZ-PEPP", "quantity": 1},
            {"sku": "DR-COLA05", "quantity": 3},
            {"sku": "DS-CHEES", "quantity": 1},
        ],
        discount="77.77",
        delivery_fee="149.00",
        payment={"kind": "prepaid"},
    )
    order = client.post("/api/v1/orders", json=body, headers=h).json
    assert order["total"] == "1406.23"  # 649 + 387 + 299 − 77.77 + 149
    data = client.get(f"/api/v1/orders/{order['id']}/receipts", headers=h).json
    assert [r["organization"]["name"] for r in data["receipts"]] == [
        'LLC "Kazan Food"',
        "IP Galimova A. R. (drinks)",
        "IP Khasanov R. I. (desserts)",
    ]
    assert sum(int(r["total"].replace(".", "")) for r in data["receipts"]) == 140623
    assert {r["payment_method"] for r in data["receipts"]} == {1}  # prepaid: 100 % prepayment
    assert all(r["electronic"] == r["total"] for r in data["receipts"])
    assert data["receipts"][2]["tax_system_code"] == 32


def test_the_delivery_is_a_service_position_on_the_receipt_of_its_seller_and_food_keeps_menu_prices(
    client, users
):
    h = users["operator"].headers
    body = order_body(
        lines=[{"sku": "PZ-MARG", "quantity": 2}, {"sku": "DR-COLA05", "quantity": 1}], delivery_fee="150.00"
    )
    order = client.post("/api/v1/orders", json=body, headers=h).json
    assert order["total"] == "1377.00"  # 2 × 549 + 129 + 150
    assert order["delivery"] == {
        "item_id": order["delivery"]["item_id"],
        "sku": "DELIVERY",
        "name": "Delivery",
        "amount": "150.00",
        "vat_rate": "vat22",
        "vat": "27.05",
        "organization_id": 1,
        "tax_system": "osn",
        "condition_id": order["delivery"]["condition_id"],
    }
    assert [ln["delivery_fee_share"] for ln in order["lines"]] == ["0.00", "0.00"]
    data = client.get(f"/api/v1/orders/{order['id']}/receipts", headers=users["backoffice"].headers).json
    llc, ip = data["receipts"]
    assert llc["organization"]["name"] == 'LLC "Kazan Food"' and llc["total"] == "1248.00"
    assert [
        (i["line"], i["name"], i["quantity"], i["price"], i["vat"], i["subject"]) for i in llc["items"]
    ] == [
        (0, "Pizza Margherita 30 cm", 2, "549.00", "198.00", 1),
        (None, "Delivery", 1, "150.00", "27.05", 4),
    ]
    assert [(p["1030"], p["1079"], p["1212"]) for p in llc["ffd"]["1059"]][-1] == ("Delivery", "150.00", 4)
    assert llc["vat"] == [{"vat_rate": "vat22", "vat_code": 11, "amount": "1248.00", "vat": "225.05"}]
    assert [(i["name"], i["price"], i["subject"]) for i in ip["items"]] == [("Cola 0.5 l", "129.00", 1)]
    assert sum(int(r["total"].replace(".", "")) for r in data["receipts"]) == 137700
    explained = client.get(f"/api/v1/orders/{order['id']}/explain", headers=users["manager"].headers).json
    assert [(r["position"], r["sku"], r["organization_id"]) for r in explained["recorded"]] == [
        (0, "PZ-MARG", 1),
        (1, "DR-COLA05", 2),
        (2, "DELIVERY", 1),
    ]
    assert explained["explanation"]["lines"][2]["winner"] == order["delivery"]["condition_id"]


def test_the_delivery_is_no_dish_hidden_from_the_menu_and_refused_as_a_cart_line(client, users, db):
    h = users["operator"].headers
    assert "DELIVERY" not in {i["sku"] for i in menu(client, users)["items"]}
    assert menu(client, users, q="deliv")["items"] == []
    before = count(db, Order)
    refused = client.post(
        "/api/v1/orders", json=order_body(lines=[{"sku": "DELIVERY", "quantity": 1}]), headers=h
    )
    assert refused.status_code == 422
    assert refused.json["errors"][0]["field"] == "lines.0"
    assert "Delivery (DELIVERY) is the delivery" in refused.json["detail"]
    assert count(db, Order) == before


def test_the_delivery_position_keeps_its_sku_and_stays_on_sale_and_its_name_and_rate_reach_receipts(
    client, users
):
    admin = users["admin"].headers
    (delivery,) = [i for i in client.get("/api/v1/items", query_string={"q": "DELIVERY"}, headers=admin).json]
    assert (delivery["unit"], delivery["vat_rate"]) == ("service", "vat22")
    for change, field in (({"sku": "SHIPPING"}, "sku"), ({"active": False}, "active")):
        resp = client.patch(f"/api/v1/items/{delivery['id']}", json=change, headers=admin)
        assert resp.status_code == 422 and resp.json["errors"][0]["field"] == field
    client.post("/api/v1/orders", json=order_body(delivery_fee="99.00"), headers=users["operator"].headers)
    changed = {"name": "Доставка", "vat_rate": "vat10"}
    renamed = client.patch(f"/api/v1/items/{delivery['id']}", json=changed, headers=admin)
    assert renamed.status_code == 200 and renamed.json["sku"] == "DELIVERY"
    # The next order's receipt prints the new name and rate (99.00 × 10/110 = 9.00).
    order = client.post(
        "/api/v1/orders", json=order_body(delivery_fee="99.00"), headers=users["operator"].headers
    ).json
    assert (order["delivery"]["name"], order["delivery"]["vat_rate"], order["delivery"]["vat"]) == (
        "Доставка",
        "vat10",
        "9.00",
    )


def test_receipts_preview_splits_a_cart_without_writing(client, users, db):
    h = users["operator"].headers
    body = {
        "branch_id": 1,
        "kind": "delivery",
        "payment_kind": "cash",
        "lines": [{"sku": "PZ-MARG", "quantity": 1, "modifiers": []}, {"sku": "DR-COLA05", "quantity": 2}],
        "delivery_fee": "0.00",
        "discount": "0.00",
    }
    resp = client.post("/api/v1/receipts/preview", json=body, headers=h)
    assert resp.status_code == 200, resp.json
    assert resp.json["total"] == "807.00"
    assert [r["total"] for r in resp.json["receipts"]] == ["549.00", "258.00"]
    assert [ln["organization"] for ln in resp.json["lines"]] == [
        'LLC "Kazan Food"',
        "IP Galimova A. R. (drinks)",
    ]
    assert count(db, Order) == 0
    delivered = client.post("/api/v1/receipts/preview", json={**body, "delivery_fee": "150.00"}, headers=h)
    assert delivered.json["total"] == "957.00"
    assert [r["total"] for r in delivered.json["receipts"]] == ["699.00", "258.00"]
    assert [(i["name"], i["price"], i["subject"]) for i in delivered.json["receipts"][0]["items"]] == [
        ("Pizza Margherita 30 cm", "549.00", 1),
        ("Delivery", "150.00", 4),
    ]
    assert [ln["amount"] for ln in delivered.json["lines"]] == ["549.00", "258.00"]
    assert (delivered.json["delivery"]["organization_id"], delivered.json["delivery"]["vat"]) == (1, "27.05")
    pickup = client.post(
        "/api/v1/receipts/preview", json={**body, "kind": "pickup", "delivery_fee": "50.00"}, headers=h
    )
    assert pickup.json["total"] == "807.00"  # no delivery fee on pickup
    assert pickup.json["delivery"] is None
    assert all(i["subject"] == 1 for r in pickup.json["receipts"] for i in r["items"])
    assert (
        client.post("/api/v1/receipts/preview", json=body, headers=users["backoffice"].headers).status_code
        == 403
    )


def test_a_fee_no_condition_sells_is_refused_naming_the_delivery_and_the_lint_says_so(client, users, db):
    admin, h = users["admin"].headers, users["operator"].headers
    for c in client.get("/api/v1/distribution/conditions", headers=admin).json:
        if c["scope"] == "all" or c["item_id"] is not None:
            assert (
                client.delete(f"/api/v1/distribution/conditions/{c['id']}", headers=admin).status_code == 204
            )
    drinks = [{"sku": "DR-COLA05", "quantity": 2}]
    before = count(db, Order)
    for url, body in (
        ("/api/v1/orders", order_body(lines=drinks, delivery_fee="99.00")),
        ("/api/v1/receipts/preview", {"branch_id": 1, "lines": drinks, "delivery_fee": "99.00"}),
    ):
        resp = client.post(url, json=body, headers=h)
        assert resp.status_code == 422, resp.json
        assert resp.json["errors"] == [
            {
                "field": "delivery_fee",
                "message": "No distribution condition says which organization sells the delivery "
                "(Delivery, DELIVERY); an administrator must add one.",
                "type": "value_error",
            }
        ]
    assert count(db, Order) == before
    free = client.post("/api/v1/orders", json=order_body(lines=drinks, delivery_fee="0.00"), headers=h)
    assert free.status_code == 201 and free.json["delivery"] is None
    lint = client.get("/api/v1/distribution/lint", headers=admin).json
    (delivery,) = [u for u in lint["uncovered"] if u["sku"] == "DELIVERY"]
    assert delivery["message"].startswith("Delivery is not covered in any delivery context")
    assert not lint["ok"]


def test_an_uncovered_item_is_refused_at_entry_naming_it(client, users, db):
    admin, h = users["admin"].headers, users["operator"].headers
    everything = next(
        c for c in client.get("/api/v1/distribution/conditions", headers=admin).json if c["scope"] == "all"
    )
    assert (
        client.delete(f"/api/v1/distribution/conditions/{everything['id']}", headers=admin).status_code == 204
    )
    preview = client.post(
        "/api/v1/receipts/preview",
        json={"branch_id": 1, "lines": [{"sku": "PZ-MARG", "quantity": 1}]},
        headers=h,
    )
    assert preview.status_code == 422
    assert "Pizza Margherita 30 cm (PZ-MARG)" in preview.json["detail"]
    from orders.models import Order

    resp = client.post("/api/v1/orders", json=order_body(), headers=h)
    assert resp.status_code == 422 and resp.mimetype == "application/problem+json"
    assert [e["field"] for e in resp.json["errors"]] == ["lines.0", "lines.2"]  # the pizza and the roll
    assert "Philadelphia roll" in resp.json["errors"][1]["message"]
    assert count(db, Order) == 0
    lint = client.get("/api/v1/distribution/lint", headers=users["manager"].headers).json
    assert not lint["ok"] and "PZ-MARG" in {u["sku"] for u in lint["uncovered"]}


# --- organizations and conditions: bad input writes nothing -------------------------------------------


FORBIDDEN_ORGANIZATIONS = (
    ({"inn": "1655012345"}, "inn", "check digit"),
    ({"inn": "1655012344", "kpp": ""}, "kpp", "KPP"),
    ({"tax_systems": ["osn", "psn"]}, "tax_systems", "only a sole proprietor"),
    ({"tax_systems": ["osn", "usn_income"]}, "tax_systems", "exclude each other"),
    ({"default_vat_rate": "vat5"}, "default_vat_rate", "only under УСН"),
    ({"default_vat_rate": "vat20"}, "default_vat_rate", "until 31 December 2025"),
    ({"pays_vat": False}, "default_vat_rate", "does not pay VAT"),
    ({"fallback_organization_id": 1}, "fallback_organization_id", "set the limit too"),
    (
        {"fallback_organization_id": 99, "annual_revenue_limit": "1000.00"},
        "fallback_organization_id",
        "unknown",
    ),
)


def test_every_organization_the_rules_forbid_is_refused_with_the_reason_and_nothing_written(
    client, users, db
):
    good = {
        "name": "LLC Test",
        "inn": "7707083893",
        "kpp": "770701001",
        "tax_systems": ["osn"],
        "pays_vat": True,
        "default_vat_rate": "vat22",
    }
    before = count(db, Organization)
    for body, field, message in FORBIDDEN_ORGANIZATIONS:
        resp = client.post("/api/v1/organizations", json={**good, **body}, headers=users["admin"].headers)
        assert resp.status_code == 422 and resp.mimetype == "application/problem+json"
        assert any(e["field"] == field and message in e["message"] for e in resp.json["errors"]), resp.json
    assert count(db, Organization) == before


def test_organizations_are_created_and_changed_by_an_admin_only(client, users):
    body = {
        "name": "IP Ivanov",
        "inn": "500100732259",
        "tax_systems": ["usn_income", "psn"],
        "pays_vat": True,
        "default_vat_rate": "vat5",
        "annual_revenue_limit": "60000000.00",
        "fallback_organization_id": 1,
        "fallback_tax_system": "osn",
    }
    assert (
        client.post("/api/v1/organizations", json=body, headers=users["manager"].headers).status_code == 403
    )
    resp = client.post("/api/v1/organizations", json=body, headers=users["admin"].headers)
    assert resp.status_code == 201, resp.json
    org = resp.json
    assert org["tax_system_codes"] == [2, 32] and org["annual_revenue_limit"] == "60000000.00"
    again = client.post("/api/v1/organizations", json=body, headers=users["admin"].headers)
    assert again.status_code == 409
    patch = client.patch(
        f"/api/v1/organizations/{org['id']}",
        json={"default_vat_rate": "vat7"},
        headers=users["admin"].headers,
    )
    assert patch.status_code == 200 and patch.json["default_vat_rate"] == "vat7"
    cycle = client.patch(
        "/api/v1/organizations/1",
        json={"annual_revenue_limit": "1.00", "fallback_organization_id": org["id"]},
        headers=users["admin"].headers,
    )
    assert cycle.status_code == 422 and "cycle" in cycle.json["detail"]
    listed = client.get("/api/v1/organizations", headers=users["manager"].headers).json
    assert len(listed) == 4


def test_a_tax_system_still_used_by_conditions_cannot_be_removed(client, users):
    resp = client.patch(
        "/api/v1/organizations/3", json={"tax_systems": ["usn_income"]}, headers=users["admin"].headers
    )
    assert resp.status_code == 422 and "change them first" in resp.json["detail"]


BAD_CONDITIONS = (
    ({"scope": "group", "group_id": 999}, "group_id", "unknown group 999"),
    ({"scope": "item", "item_id": 999}, "item_id", "unknown item 999"),
    ({"scope": "group"}, "group_id", "needs a group"),
    ({"organization_id": 99}, "organization_id", "unknown organization"),
    ({"tax_system": "usn_income"}, "tax_system", "does not apply"),
    ({"organization_id": 3, "tax_system": "psn", "vat_rate": "vat22"}, "vat_rate", "without VAT"),
    (
        {"valid_from": "2026-12-01", "valid_to": "2026-11-30"},
        "valid_to",
        "ends (2026-11-30) before it starts",
    ),
    ({"branch_ids": [1, 42]}, "branch_ids", "unknown branch 42"),
)


def test_every_bad_condition_is_answered_with_problem_json_and_nothing_written(client, users, db):
    good = {"name": "test", "scope": "all", "organization_id": 1, "tax_system": "osn"}
    before = count(db, DistributionCondition)
    for body, field, message in BAD_CONDITIONS:
        resp = client.post(
            "/api/v1/distribution/conditions", json={**good, **body}, headers=users["admin"].headers
        )
        assert resp.status_code == 422 and resp.mimetype == "application/problem+json"
        assert any(e["field"] == field and message in e["message"] for e in resp.json["errors"]), resp.json
    patch = client.patch(
        "/api/v1/distribution/conditions/1",
        json={"valid_from": "2027-01-02", "valid_to": "2027-01-01"},
        headers=users["admin"].headers,
    )
    assert patch.status_code == 422
    assert count(db, DistributionCondition) == before
    with db.reading() as s:
        assert s.get(DistributionCondition, 1).valid_from is None


def test_a_new_condition_takes_effect_for_the_next_order_at_once(client, users):
    admin, h = users["admin"].headers, users["operator"].headers
    juice = next(i for i in menu(client, users)["items"] if i["sku"] == "DR-JUICE1")
    resp = client.post(
        "/api/v1/distribution/conditions",
        json={
            "name": "Fresh juice from the kitchen",
            "scope": "item",
            "item_id": juice["id"],
            "organization_id": 1,
            "tax_system": "osn",
            "vat_rate": "vat10",
        },
        headers=admin,
    )
    assert resp.status_code == 201, resp.json
    order = client.post(
        "/api/v1/orders", json=order_body(lines=[{"sku": "DR-JUICE1", "quantity": 1}]), headers=h
    ).json
    line = order["lines"][0]
    assert (line["organization_id"], line["vat_rate"], line["condition_id"]) == (1, "vat10", resp.json["id"])
    patched = client.patch(
        f"/api/v1/distribution/conditions/{resp.json['id']}", json={"active": False}, headers=admin
    )
    assert patched.status_code == 200
    order = client.post(
        "/api/v1/orders", json=order_body(lines=[{"sku": "DR-JUICE1", "quantity": 1}]), headers=h
    ).json
    assert order["lines"][0]["organization_id"] == 2


# --- groups and items -------------------------------------------------------------------------------


def test_the_group_tree_refuses_unknown_parents_and_cycles_writing_nothing(client, users, db):
    h = users["admin"].headers
    groups = {g["name"]: g for g in client.get("/api/v1/item-groups", headers=users["manager"].headers).json}
    before = count(db, ItemGroup)
    unknown = client.post("/api/v1/item-groups", json={"name": "Orphans", "parent_id": 999}, headers=h)
    assert unknown.status_code == 422 and "unknown parent group 999" in unknown.json["detail"]
    cycle = client.patch(
        f"/api/v1/item-groups/{groups['Sushi & rolls']['id']}",
        json={"parent_id": groups["Rolls"]["id"]},
        headers=h,
    )
    assert cycle.status_code == 422 and "cycle" in cycle.json["detail"]
    itself = client.patch(
        f"/api/v1/item-groups/{groups['Wok']['id']}", json={"parent_id": groups["Wok"]["id"]}, headers=h
    )
    assert itself.status_code == 422
    assert count(db, ItemGroup) == before
    with db.reading() as s:
        assert s.get(ItemGroup, groups["Sushi & rolls"]["id"]).parent_id is None
    busy = client.delete(f"/api/v1/item-groups/{groups['Pizza']['id']}", headers=h)
    assert busy.status_code == 409 and "it has items" in busy.json["detail"]
    new = client.post(
        "/api/v1/item-groups", json={"name": "Hot drinks", "parent_id": groups["Drinks"]["id"]}, headers=h
    )
    assert new.status_code == 201
    assert client.delete(f"/api/v1/item-groups/{new.json['id']}", headers=h).status_code == 204


def test_items_are_created_with_a_group_and_modifiers_and_refused_with_an_unknown_group(client, users, db):
    h = users["admin"].headers
    before = count(db, Item)
    bad = client.post(
        "/api/v1/items", json={"sku": "X-1", "name": "X", "price": "10.00", "group_id": 999}, headers=h
    )
    assert bad.status_code == 422 and bad.json["errors"][0]["field"] == "group_id"
    assert (
        client.post(
            "/api/v1/items", json={"sku": "PZ-MARG", "name": "Dup", "price": "1.00"}, headers=h
        ).status_code
        == 409
    )
    fraction = client.post("/api/v1/items", json={"sku": "X-2", "name": "X", "price": "10.001"}, headers=h)
    assert fraction.status_code == 422
    assert count(db, Item) == before
    sizes = client.get("/api/v1/modifier-groups", headers=users["manager"].headers).json
    size_id = next(g["id"] for g in sizes if g["name"] == "Pizza size")
    made = client.post(
        "/api/v1/items",
        json={
            "sku": "PZ-VEG",
            "name": "Pizza Vegetarian 30 cm",
            "price": "599.00",
            "group_id": 1,
            "modifier_group_ids": [size_id],
        },
        headers=h,
    )
    assert made.status_code == 201 and made.json["modifier_group_ids"] == [size_id]
    assert (
        client.patch(f"/api/v1/items/{made.json['id']}", json={"price": "619.00"}, headers=h).json["price"]
        == "619.00"
    )
    assert client.get("/api/v1/items?group_id=1", headers=users["manager"].headers).json[-1]["sku"] in {
        i["sku"] for i in menu(client, users)["items"]
    }


def test_modifier_groups_and_options_are_kept_by_an_admin(client, users, db):
    h = users["admin"].headers
    bad = client.post("/api/v1/modifier-groups", json={"name": "Broken", "min": 3, "max": 2}, headers=h)
    assert bad.status_code == 422 and "smaller than the minimum" in bad.json["detail"]
    made = client.post(
        "/api/v1/modifier-groups",
        json={
            "name": "Spiciness",
            "min": 1,
            "max": 1,
            "options": [{"name": "Mild"}, {"name": "Hot", "price_delta": "0.00"}],
        },
        headers=h,
    )
    assert made.status_code == 201 and [o["name"] for o in made.json["options"]] == ["Mild", "Hot"]
    extra = client.post(
        f"/api/v1/modifier-groups/{made.json['id']}/options",
        json={"name": "Inferno", "price_delta": "20.00"},
        headers=h,
    )
    assert extra.status_code == 201 and extra.json["price_delta"] == "20.00"
    renamed = client.patch(
        f"/api/v1/modifier-groups/{made.json['id']}/options/{extra.json['id']}",
        json={"active": False},
        headers=h,
    )
    assert renamed.status_code == 200 and renamed.json["active"] is False
    assert (
        client.patch(
            f"/api/v1/modifier-groups/999/options/{extra.json['id']}", json={"name": "x"}, headers=h
        ).status_code
        == 404
    )
    assert client.delete(f"/api/v1/modifier-groups/{made.json['id']}", headers=h).status_code == 204
    assert count(db, ModifierGroup) == 5


# --- explain, lint, backtest -------------------------------------------------------------------------


def test_explain_names_the_winner_and_why_the_others_lost(client, users):
    body = {
        "branch_id": 1,
        "kind": "delivery",
        "payment_kind": "cash",
        "lines": [{"sku": "DR-COLA05"}, {"sku": "PZ-MARG"}],
    }
    data = client.post("/api/v1/distribution/explain", json=body, headers=users["manager"].headers).json
    cola, pizza = data["lines"]
    assert cola["group_path"] == ["Drinks", "Soft drinks"]
    assert cola["assignment"]["organization"] == "IP Galimova A. R. (drinks)"
    assert [c["verdict"] for c in cola["considered"]] == ["won", "lost"]
    assert cola["considered"][1]["reason"].startswith("a more specific scope won")
    assert cola["considered"][0]["level"] == "group Drinks"
    assert pizza["assignment"]["tax_system_code"] == 1 and pizza["assignment"]["vat_code"] == 11
    unknown = client.post(
        "/api/v1/distribution/explain", json={"lines": [{"sku": "NOPE"}]}, headers=users["manager"].headers
    )
    assert unknown.status_code == 422


def test_explain_an_order_shows_what_was_recorded(client, users):
    order = client.post("/api/v1/orders", json=order_body(), headers=users["operator"].headers).json
    data = client.get(f"/api/v1/orders/{order['id']}/explain", headers=users["manager"].headers).json
    assert [r["sku"] for r in data["recorded"]] == ["PZ-MARG", "DR-COLA05", "SU-PHIL"]
    assert [ln["winner"] for ln in data["explanation"]["lines"]] == [
        r["condition_id"] for r in data["recorded"]
    ]


def test_lint_reports_ambiguous_conditions(client, users):
    admin = users["admin"].headers
    assert client.get("/api/v1/distribution/lint", headers=users["manager"].headers).json["ok"] is True
    client.post(
        "/api/v1/distribution/conditions",
        json={
            "name": "Drinks to the LLC",
            "scope": "group",
            "group_id": 7,
            "organization_id": 1,
            "tax_system": "osn",
        },
        headers=admin,
    )
    lint = client.get("/api/v1/distribution/lint", headers=users["manager"].headers).json
    assert not lint["ok"] and len(lint["ambiguous"]) == 1
    assert lint["ambiguous"][0]["organizations"] == ["IP Galimova A. R. (drinks)", 'LLC "Kazan Food"']


def test_a_backtest_shows_revenue_per_organization_before_and_after(client, users):
    h = users["operator"].headers
    for _ in range(2):
        assert client.post("/api/v1/orders", json=order_body(), headers=h).status_code == 201
    proposal = {
        "days": 7,
        "conditions": [
            {
                "name": "Drinks to the LLC",
                "scope": "group",
                "group_id": 7,
                "organization_id": 1,
                "tax_system": "osn",
                "priority": 10,
            }
        ],
    }
    data = client.post("/api/v1/distribution/backtest", json=proposal, headers=users["manager"].headers).json
    by_name = {o["name"]: o for o in data["organizations"]}
    assert (data["orders"], data["lines"], data["moved_lines"], data["moved_amount"]) == (2, 6, 2, "516.00")
    assert by_name["IP Galimova A. R. (drinks)"] == {
        "organization_id": 2,
        "name": "IP Galimova A. R. (drinks)",
        "before": "516.00",
        "after": "0.00",
        "delta": "-516.00",
    }
    assert by_name['LLC "Kazan Food"']["after"] == "2812.00"
    bare = client.post(
        "/api/v1/distribution/backtest",
        json={"mode": "replace", "conditions": []},
        headers=users["manager"].headers,
    ).json
    assert {u["sku"] for u in bare["uncovered"]} == {"PZ-MARG", "DR-COLA05", "SU-PHIL"}
    wrong = client.post(
        "/api/v1/distribution/backtest",
        json={"conditions": [{"scope": "group", "group_id": 999, "organization_id": 1, "tax_system": "osn"}]},
        headers=users["manager"].headers,
    )
    assert wrong.status_code == 422 and wrong.json["errors"][0]["field"] == "conditions.0.group_id"


def test_no_nomenclature_endpoint_fails_on_an_empty_body(client, users):
    for path, _rule, spec in iter_endpoints(client.application):
        if not any(t in spec.tags for t in ("nomenclature", "distribution", "receipts")):
            continue
        url = path.replace("{", "").replace("}", "")
        for name in ("group_id", "item_id", "org_id", "condition_id", "option_id", "branch_id", "order_id"):
            url = url.replace(name, "1")
        resp = client.open(url, method=spec.method, json={}, headers=users["admin"].headers)
        assert resp.status_code < 500, (spec.method, url, resp.json)


def test_switching_a_group_off_hides_its_subgroups_and_items_from_the_menu(client, users):
    drinks = next(g for g in menu(client, users)["groups"] if g["name"] == "Drinks")
    resp = client.patch(
        f"/api/v1/item-groups/{drinks['id']}", json={"active": False}, headers=users["admin"].headers
    )
    assert resp.status_code == 200
    data = menu(client, users)
    assert not {"Drinks", "Soft drinks", "Juices"} & {g["name"] for g in data["groups"]}
    assert not [i for i in data["items"] if i["sku"].startswith("DR-")]
    assert any(i["sku"] == "PZ-MARG" for i in data["items"])
