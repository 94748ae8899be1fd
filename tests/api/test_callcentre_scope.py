"""Branch scope of the call centre's quote and order entry (docs/api.md "Branch scope"): an operator
linked to some branches can neither quote nor take an order that would go to another branch — the
zone of the address names that branch — and is told so on the field (422, ``branch_out_of_scope``),
with nothing written. Staff linked to no branch keep every branch."""

from __future__ import annotations

import json
import re

import pytest

from tests.callcentre_fixtures import (
    CENTRE,
    SOVETSKY,
    address,
    counts,
    load_zones,
    open_around_the_clock,
    take_order_body,
)
from tests.couriers_fixtures import link_to_branch
from tests.helpers import AuthActions


@pytest.fixture
def operator_of_2(app, client, users):
    """The demo branches and zones, open all day; the operator works for KZ2 (branch 2) only."""
    load_zones(app)
    open_around_the_clock(app)
    link_to_branch(client, users, "operator", 2)
    return users["operator"].headers


def quote_body(point: tuple[float, float], **extra) -> dict:
    return {
        "phone": "+79123456789",
        "kind": "delivery",
        "address": address(point),
        "lines": [{"sku": "PZ-MARG", "quantity": 1}],
        **extra,
    }


def test_a_quote_for_an_address_of_another_branchs_zone_is_refused_on_the_address(client, operator_of_2):
    resp = client.post("/api/v1/callcentre/quote", json=quote_body(CENTRE), headers=operator_of_2)
    assert resp.status_code == 422 and resp.mimetype == "application/problem+json"
    (error,) = resp.json["errors"]
    assert error["field"] == "address" and error["type"] == "branch_out_of_scope"
    assert "KZ1" in error["message"] and "delivery_fee" not in resp.json


def test_a_quote_in_the_operators_own_branch_is_answered(client, operator_of_2):
    resp = client.post("/api/v1/callcentre/quote", json=quote_body(SOVETSKY), headers=operator_of_2)
    assert resp.status_code == 200, resp.json
    assert resp.json["branch_id"] == 2


def test_an_order_for_another_branchs_zone_is_refused_and_nothing_is_written(app, client, operator_of_2):
    before = counts(app)
    resp = client.post("/api/v1/callcentre/orders", json=take_order_body(), headers=operator_of_2)
    assert resp.status_code == 422, resp.json
    assert [(e["field"], e["type"]) for e in resp.json["errors"]] == [("address", "branch_out_of_scope")]
    assert counts(app) == before


def test_an_order_in_the_operators_own_branch_is_taken(client, operator_of_2):
    body = take_order_body(address=address(SOVETSKY, "Kazan, Pobedy Ave, 100"))
    resp = client.post("/api/v1/callcentre/orders", json=body, headers=operator_of_2)
    assert resp.status_code == 201, resp.json
    assert resp.json["branch_id"] == 2


def test_pickup_from_another_branch_is_refused_on_the_branch(app, client, operator_of_2):
    before = counts(app)
    pickup = {"kind": "pickup", "branch_id": 1, "address": None}
    quoted = client.post("/api/v1/callcentre/quote", json=quote_body(CENTRE, **pickup), headers=operator_of_2)
    assert quoted.status_code == 422
    assert [(e["field"], e["type"]) for e in quoted.json["errors"]] == [("branch_id", "branch_out_of_scope")]
    taken = client.post("/api/v1/callcentre/orders", json=take_order_body(**pickup), headers=operator_of_2)
    assert taken.status_code == 422
    assert ("branch_id", "branch_out_of_scope") in [(e["field"], e["type"]) for e in taken.json["errors"]]
    assert counts(app) == before


def test_an_operator_linked_to_no_branch_and_a_manager_of_that_branch_take_it(app, client, users):
    load_zones(app)
    open_around_the_clock(app)
    link_to_branch(client, users, "manager", 1)
    for role in ("operator", "manager"):
        resp = client.post("/api/v1/callcentre/quote", json=quote_body(CENTRE), headers=users[role].headers)
        assert resp.status_code == 200 and resp.json["branch_id"] == 1, (role, resp.json)


@pytest.mark.parametrize("language", ["en", "ru"])
def test_the_workspace_explains_the_refusal_in_the_operators_language(app, client, users, language):
    auth = AuthActions(client)
    auth.choose_language(language)
    auth.login("operator")
    html = client.get("/callcentre").get_data(as_text=True)
    config = json.loads(re.search(r'id="page-config">(.*?)</script>', html, re.S)[1])
    expected = "a branch you do not work for" if language == "en" else "не работаете"
    assert expected in config["strings"]["problem_branch_out_of_scope"]
