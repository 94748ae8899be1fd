"""Who may call what among the routes of issue 16 item 4 (the dispatch screen, the courier register
page, proofs of delivery, the order page), role by role, for the API and the pages; and the branch
scope: staff linked to branches see those branches' orders, couriers and proofs only."""

from __future__ import annotations

import re

import pytest

from couriers.models import Courier
from frontoffice.apidocs import iter_endpoints
from tests.conftest import ROLES
from tests.couriers_fixtures import delivered_with_photo, link_to_branch, make_courier
from tests.helpers import AuthActions, assert_api_admits, assert_page_admits

STAFF_ROLES = ("admin", "manager", "operator", "backoffice")
DISPATCHERS = frozenset({"admin", "manager"})
ORDER_READERS = frozenset(STAFF_ROLES)

#: Every JSON route the item added, and the roles it admits.
API_ROUTES: dict[tuple[str, str], frozenset[str]] = {
    ("GET", "/api/v1/dispatch/board"): DISPATCHERS,
    ("GET", "/api/v1/dispatch/auto-rule"): DISPATCHERS,
    ("PUT", "/api/v1/dispatch/auto-rule"): DISPATCHERS,
    ("GET", "/api/v1/dispatch/orders/{order_id}/proof"): ORDER_READERS,
    ("GET", "/api/v1/dispatch/proofs/{proof_id}"): ORDER_READERS,
    ("POST", "/api/v1/couriers/{courier_id}/devices"): DISPATCHERS,
    ("DELETE", "/api/v1/couriers/{courier_id}/devices/{device_id}"): DISPATCHERS,
}
NEW_API = tuple(path for _m, path in API_ROUTES)

#: Every page the item added (ids that name nothing: an admitted role gets 404, not 403), and its roles.
PAGES: dict[tuple[str, str], frozenset[str]] = {
    ("GET", "/couriers/dispatch"): DISPATCHERS,
    ("GET", "/couriers/register"): DISPATCHERS,
    ("POST", "/couriers/register"): DISPATCHERS,
    ("GET", "/couriers/register/999"): DISPATCHERS,
    ("POST", "/couriers/register/999"): DISPATCHERS,
    ("POST", "/couriers/register/999/devices"): DISPATCHERS,
    ("POST", "/couriers/register/999/devices/remove"): DISPATCHERS,
    ("GET", "/orders/999"): ORDER_READERS,
}


def test_the_matrix_names_every_route_the_item_added(app):
    declared = {
        (spec.method, path): spec.roles | {"admin"}
        for path, _rule, spec in iter_endpoints(app)
        if path in NEW_API
        or path.startswith(
            (
                "/api/v1/dispatch/board",
                "/api/v1/dispatch/auto-rule",
                "/api/v1/dispatch/proofs",
                "/api/v1/couriers/{courier_id}/devices",
            )
        )
    }
    assert declared == API_ROUTES
    page_rules = {
        r.rule
        for r in app.url_map.iter_rules()
        if r.rule.startswith(("/couriers/", "/orders/")) and "static" not in r.rule
    }
    covered = {re.sub(r"/999(?=/|$)", "/<>", path) for _m, path in PAGES}
    assert {re.sub(r"<[^>]+>", "<>", r) for r in page_rules} == covered


@pytest.fixture
def callers(app, users, catalogue) -> dict[str, dict[str, str]]:
    """The Authorization header of each role; the courier's has a courier profile behind it."""
    return {role: users[role].headers for role in STAFF_ROLES} | {
        "courier": make_courier(app, "Kirill").headers
    }


@pytest.mark.parametrize(("method", "path"), sorted(API_ROUTES), ids=lambda v: v)
def test_each_new_api_route_admits_its_roles_and_refuses_the_others(client, callers, method, path):
    assert_api_admits(
        client,
        method,
        re.sub(r"\{[^}]+\}", "999", path),
        {r: callers[r] for r in ROLES},
        API_ROUTES[(method, path)],
    )


@pytest.mark.parametrize(("method", "url"), sorted(PAGES), ids=lambda v: v)
def test_each_new_page_admits_its_roles_and_refuses_the_others(app, users, catalogue, method, url):
    assert_page_admits(app, method, url, STAFF_ROLES, PAGES[(method, url)])


# --- the branch scope ---------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["manager", "operator", "backoffice"])
def test_staff_of_another_branch_get_404_for_an_order_its_proof_and_page(app, client, users, catalogue, role):
    order_id, _photo = delivered_with_photo(app, client, branch_id=1)
    h = users[role].headers
    proof = client.get(f"/api/v1/dispatch/orders/{order_id}/proof", headers=h)
    assert proof.status_code == 200
    image_url = proof.json["images"][0]["url"]
    link_to_branch(client, users, role, 2)
    assert client.get(f"/api/v1/dispatch/orders/{order_id}/proof", headers=h).status_code == 404
    assert client.get(image_url, headers=h).status_code == 404
    pages = app.test_client()
    AuthActions(pages).login(role)
    assert pages.get(f"/orders/{order_id}").status_code == 404
    link_to_branch(client, users, role, 1)
    assert pages.get(f"/orders/{order_id}").status_code == 200
    assert pages.get(image_url).status_code == 200


def test_an_admin_sees_every_branch_whatever_it_is_linked_to(app, client, users, catalogue):
    order_id, _photo = delivered_with_photo(app, client, branch_id=1)
    board = client.get("/api/v1/dispatch/board", headers=users["admin"].headers).json
    assert order_id in [o["id"] for o in board["finished"]]
    assert (
        client.get(f"/api/v1/dispatch/orders/{order_id}/proof", headers=users["admin"].headers).status_code
        == 200
    )


def test_the_courier_register_api_keeps_a_manager_to_the_couriers_of_its_branches(
    app, client, users, catalogue
):
    here = make_courier(app, "Here", branch_ids=(2,))
    there = make_courier(app, "There", branch_ids=(1,))
    link_to_branch(client, users, "manager", 2)
    h = users["manager"].headers
    listed = client.get("/api/v1/couriers", headers=h).json["items"]
    assert [c["courier"]["id"] for c in listed] == [here.id]
    assert client.patch(f"/api/v1/couriers/{there.id}", json={"name": "Mine"}, headers=h).status_code == 404
    moved = client.patch(f"/api/v1/couriers/{here.id}", json={"branch_ids": [1, 2]}, headers=h)
    assert moved.status_code == 422 and {e["field"] for e in moved.json["errors"]} == {"branch_ids"}
    made = client.post("/api/v1/couriers", json={"name": "New", "branch_ids": [1]}, headers=h)
    assert made.status_code == 422 and made.json["errors"][0]["field"] == "branch_ids"
    assert client.patch(f"/api/v1/couriers/{here.id}", json={"vehicle": "bike"}, headers=h).status_code == 200
    everything = client.get("/api/v1/couriers", headers=users["admin"].headers).json["items"]
    assert {c["courier"]["name"] for c in everything} == {"Here", "There"}


@pytest.mark.parametrize("through", ["api", "page"])
def test_a_manager_of_one_branch_keeps_a_couriers_other_branches_when_changing_it(
    app, client, users, catalogue, auth, through
):
    shared = make_courier(app, "Shared", branch_ids=(1, 2))
    link_to_branch(client, users, "manager", 2)
    if through == "api":
        resp = client.patch(
            f"/api/v1/couriers/{shared.id}",
            json={"branch_ids": [2], "name": "Shared G."},
            headers=users["manager"].headers,
        )
        assert resp.status_code == 200 and resp.json["branch_ids"] == [1, 2]
    else:
        auth.login(users["manager"])
        csrf = auth.csrf(client.get(f"/couriers/register/{shared.id}").data)
        form = {
            "csrf_token": csrf,
            "name": "Shared G.",
            "phone": "",
            "vehicle": "car",
            "max_active_orders": "3",
        }
        assert (
            client.post(f"/couriers/register/{shared.id}", data=form | {"branch_ids": ["2"]}).status_code
            == 302
        )
    with app.extensions["frontoffice"].db.reading() as s:
        again = s.get(Courier, shared.id)
        assert (again.name, again.branch_ids) == ("Shared G.", [1, 2])
