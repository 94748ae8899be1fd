"""VAT rates a seller cannot charge, through the API: refused when a condition, an item, a group or
an organization is saved, named by the lint and explain, refused at order time; a rate the law
changes (legacy 20 %, a special УСН rate, a seller without VAT) is charged and said.

The demo: "Kitchen sells everything" (#1) gives all nomenclature to LLC "Kazan Food" on ОСН; drinks
go to a УСН payer without VAT, desserts to a patent. The ``farm`` fixture adds a УСН payer on the
special 5 % rate with its own group, Farm, and farm eggs at 5 %.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from nomenclature.models import DistributionCondition, Item, ItemGroup, Organization
from tests.conftest import order_body

pytestmark = pytest.mark.usefixtures("catalogue")

KITCHEN = 1  # LLC "Kazan Food", ОСН, and the condition "Kitchen sells everything"
SPECIAL_RATE_LAW = "НК РФ ст. 164 п. 8"
ON = "2026-06-15"


def count(db, model) -> int:
    with db.reading() as s:
        return s.scalar(select(func.count()).select_from(model))


def group_id(db, name: str) -> int:
    with db.reading() as s:
        return s.scalar(select(ItemGroup.id).where(ItemGroup.name == name))


def item(db, sku: str) -> Item:
    with db.reading() as s:
        return s.scalar(select(Item).where(Item.sku == sku))


def made(resp, status: int = 201) -> dict:
    assert resp.status_code == status, resp.json
    return resp.json


def refused(resp, field: str, *phrases: str) -> str:
    """The message of the 422 error on ``field``, which must contain every phrase."""
    assert resp.status_code == 422 and resp.mimetype == "application/problem+json", resp.json
    messages = [e["message"] for e in resp.json["errors"] if e["field"] == field]
    assert messages, resp.json
    for phrase in phrases:
        assert phrase in messages[0], messages[0]
    return messages[0]


@pytest.fixture
def farm(client, users):
    """A УСН payer on the special 5 % rate selling the group Farm, with eggs at 5 % in it."""
    h = users["admin"].headers
    org = made(
        client.post(
            "/api/v1/organizations",
            json={
                "name": "IP Farm",
                "inn": "500100732259",
                "tax_systems": ["usn_income"],
                "pays_vat": True,
                "default_vat_rate": "vat5",
            },
            headers=h,
        )
    )
    group = made(client.post("/api/v1/item-groups", json={"name": "Farm"}, headers=h))
    condition = made(
        client.post(
            "/api/v1/distribution/conditions",
            json={
                "name": "Farm produce to the farm",
                "scope": "group",
                "group_id": group["id"],
                "organization_id": org["id"],
                "tax_system": "usn_income",
            },
            headers=h,
        )
    )
    eggs = made(
        client.post(
            "/api/v1/items",
            json={
                "sku": "FM-EGGS",
                "name": "Farm eggs, 10 pcs",
                "price": "149.00",
                "vat_rate": "vat5",
                "group_id": group["id"],
            },
            headers=h,
        )
    )
    return SimpleNamespace(org=org, group=group, condition=condition, eggs=eggs, h=h)


# --- saving is refused ---------------------------------------------------------------------------


def test_a_condition_giving_a_5_percent_item_to_the_general_rates_is_refused_naming_it(client, db, farm):
    before = count(db, DistributionCondition)
    to_kitchen = {
        "name": "Eggs from the kitchen",
        "scope": "item",
        "item_id": farm.eggs["id"],
        "organization_id": KITCHEN,
        "tax_system": "osn",
    }
    resp = client.post("/api/v1/distribution/conditions", json=to_kitchen, headers=farm.h)
    refused(
        resp, "vat_rate", 'LLC "Kazan Food" under ОСН', "Farm eggs, 10 pcs (FM-EGGS) at 5 %", SPECIAL_RATE_LAW
    )
    moved = client.patch(
        f"/api/v1/distribution/conditions/{farm.condition['id']}",
        json={"organization_id": KITCHEN, "tax_system": "osn"},
        headers=farm.h,
    )
    refused(moved, "vat_rate", "FM-EGGS")
    assert count(db, DistributionCondition) == before
    with db.reading() as s:
        assert s.get(DistributionCondition, farm.condition["id"]).organization_id == farm.org["id"]
    # an override the kitchen can charge fixes it
    fixed = {**to_kitchen, "vat_rate": "vat10"}
    assert client.post("/api/v1/distribution/conditions", json=fixed, headers=farm.h).status_code == 201


def test_a_condition_that_never_decides_the_item_is_not_refused_for_it(client, farm):
    # The Farm condition always applies to the eggs, so a stronger "all" condition never sells them.
    everything = {
        "name": "Everything to the kitchen, first",
        "scope": "all",
        "organization_id": KITCHEN,
        "tax_system": "osn",
        "priority": 100,
    }
    assert client.post("/api/v1/distribution/conditions", json=everything, headers=farm.h).status_code == 201


def test_an_item_cannot_take_a_rate_or_group_its_seller_cannot_charge(client, db, farm):
    margherita = item(db, "PZ-MARG")
    to_five = client.patch(f"/api/v1/items/{margherita.id}", json={"vat_rate": "vat5"}, headers=farm.h)
    refused(to_five, "vat_rate", '#1 "Kitchen sells everything"', "Pizza Margherita", SPECIAL_RATE_LAW)
    pizza = group_id(db, "Pizza")
    eggs_to_pizza = client.patch(f"/api/v1/items/{farm.eggs['id']}", json={"group_id": pizza}, headers=farm.h)
    refused(eggs_to_pizza, "group_id", "Farm eggs, 10 pcs (FM-EGGS)")
    new = {"sku": "PZ-FARM", "name": "Farm pizza", "price": "500.00", "vat_rate": "vat7", "group_id": pizza}
    refused(client.post("/api/v1/items", json=new, headers=farm.h), "vat_rate", "7 %")
    assert item(db, "PZ-MARG").vat_rate == "vat22" and item(db, "FM-EGGS").group_id == farm.group["id"]
    assert item(db, "PZ-FARM") is None
    # 22 % under the special payer is charged at 5 %, as the law says: allowed
    to_farm = client.patch(
        f"/api/v1/items/{margherita.id}", json={"group_id": farm.group["id"]}, headers=farm.h
    )
    assert to_farm.status_code == 200


def test_a_group_move_or_a_regime_change_that_strands_items_is_refused(client, db, farm):
    nest = made(
        client.post(
            "/api/v1/item-groups", json={"name": "Eggs", "parent_id": farm.group["id"]}, headers=farm.h
        )
    )
    made(client.patch(f"/api/v1/items/{farm.eggs['id']}", json={"group_id": nest["id"]}, headers=farm.h), 200)
    out = client.patch(f"/api/v1/item-groups/{nest['id']}", json={"parent_id": None}, headers=farm.h)
    refused(out, "parent_id", "Eggs", '#1 "Kitchen sells everything"', "FM-EGGS", SPECIAL_RATE_LAW)
    with db.reading() as s:
        assert s.get(ItemGroup, nest["id"]).parent_id == farm.group["id"]
    general = client.patch(
        f"/api/v1/organizations/{farm.org['id']}", json={"default_vat_rate": "vat22"}, headers=farm.h
    )
    refused(general, "default_vat_rate", "IP Farm", "Farm eggs, 10 pcs (FM-EGGS)", SPECIAL_RATE_LAW)
    with db.reading() as s:
        assert s.get(Organization, farm.org["id"]).default_vat_rate == "vat5"


# --- lint, explain and orders name what slipped through --------------------------------------------


def test_lint_explain_and_orders_name_a_seller_that_cannot_charge_the_rate(client, users, farm):
    manager = users["manager"].headers
    # Deleting the Farm condition is allowed: the kitchen now decides the eggs, which it cannot charge.
    assert (
        client.delete(f"/api/v1/distribution/conditions/{farm.condition['id']}", headers=farm.h).status_code
        == 204
    )
    lint = client.get("/api/v1/distribution/lint", query_string={"on": ON}, headers=manager).json
    assert lint["ok"] is False
    [conflict] = lint["vat"]
    assert (conflict["condition_id"], conflict["sku"], conflict["vat_rate"]) == (KITCHEN, "FM-EGGS", "vat5")
    assert conflict["organization"] == 'LLC "Kazan Food"' and SPECIAL_RATE_LAW in conflict["message"]
    explained = client.post(
        "/api/v1/distribution/explain", json={"on": ON, "lines": [{"sku": "FM-EGGS"}]}, headers=manager
    ).json["lines"][0]
    assert explained["item_vat_rate"] == "vat5"
    a = explained["assignment"]
    assert (a["asked_vat_rate"], a["vat_rate"], a["vat_code"]) == ("vat5", None, None)
    assert (
        '#1 "Kitchen sells everything"' in explained["problem"] and SPECIAL_RATE_LAW in explained["problem"]
    )
    lines = [{"sku": "PZ-MARG", "quantity": 1}, {"sku": "FM-EGGS", "quantity": 1}]
    order = client.post("/api/v1/orders", json=order_body(lines=lines), headers=users["operator"].headers)
    message = refused(order, "lines.1", "Farm eggs, 10 pcs (FM-EGGS)", "condition #1", SPECIAL_RATE_LAW)
    assert "must change the item's rate or the condition" in message
    preview = client.post(
        "/api/v1/receipts/preview",
        json={"branch_id": 1, "lines": lines},
        headers=users["operator"].headers,
    )
    refused(preview, "lines.1", "FM-EGGS")


def test_explain_states_every_rate_the_law_changes(client, users, db, farm):
    h, manager = farm.h, users["manager"].headers
    pizza = group_id(db, "Pizza")
    made(
        client.post(
            "/api/v1/items",
            json={
                "sku": "PZ-OLD",
                "name": "Old pizza",
                "price": "400.00",
                "vat_rate": "vat20",
                "group_id": pizza,
            },
            headers=h,
        )
    )
    made(
        client.post(
            "/api/v1/items",
            json={
                "sku": "FM-MILK",
                "name": "Farm milk",
                "price": "99.00",
                "vat_rate": "vat10",
                "group_id": farm.group["id"],
            },
            headers=h,
        )
    )
    skus = ["PZ-OLD", "FM-MILK", "DS-CHEES", "DR-COLA05", "PZ-MARG"]
    body = {
        "on": ON,
        "branch_id": 1,
        "kind": "delivery",
        "payment_kind": "cash",
        "lines": [{"sku": s} for s in skus],
    }
    lines = client.post("/api/v1/distribution/explain", json=body, headers=manager).json["lines"]
    seen = {
        ln["sku"]: (ln["item_vat_rate"], ln["assignment"]["vat_rate"], ln["assignment"]["vat_note"])
        for ln in lines
    }
    assert seen["PZ-OLD"][:2] == ("vat20", "vat22")
    assert "20 % (legacy): charged as 22 % from 1 January 2026" in seen["PZ-OLD"][2]
    assert seen["FM-MILK"][:2] == ("vat10", "vat5") and SPECIAL_RATE_LAW in seen["FM-MILK"][2]
    assert seen["DS-CHEES"][:2] == ("vat22", "none") and "НК РФ ст. 346.43 п. 11" in seen["DS-CHEES"][2]
    assert seen["DR-COLA05"][:2] == ("vat22", "none") and "НК РФ ст. 145" in seen["DR-COLA05"][2]
    assert seen["PZ-MARG"] == ("vat22", "vat22", None)
    assert all(ln["problem"] is None for ln in lines)
    order = client.post(
        "/api/v1/orders",
        json=order_body(lines=[{"sku": "PZ-OLD", "quantity": 1}]),
        headers=users["operator"].headers,
    )
    assert made(order)["lines"][0]["vat_rate"] == "vat22"
