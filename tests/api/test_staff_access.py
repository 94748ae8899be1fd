"""Who may call what among the routes of issue 16 (branches, staff, one's password, the courier
app's refresh), role by role, for the API and the pages; and the branch scope: staff linked to
branches see and act on those branches only, admins on all."""

from __future__ import annotations

import re

import pytest

from frontoffice.apidocs import iter_endpoints
from tests.conftest import ROLES, order_body
from tests.couriers_fixtures import make_courier
from tests.helpers import AuthActions, assert_api_admits, assert_page_admits

STAFF_ROLES = ("admin", "manager", "operator", "backoffice")
EVERYONE = frozenset(ROLES)
ADMIN = frozenset({"admin"})
READERS = frozenset(STAFF_ROLES)

#: Every JSON route the issue added, and the roles it admits.
API_ROUTES: dict[tuple[str, str], frozenset[str]] = {
    ("GET", "/api/v1/branches"): READERS,
    ("POST", "/api/v1/branches"): ADMIN,
    ("GET", "/api/v1/branches/{branch_id}"): READERS,
    ("PATCH", "/api/v1/branches/{branch_id}"): ADMIN,
    ("GET", "/api/v1/staff/users"): ADMIN,
    ("POST", "/api/v1/staff/users"): ADMIN,
    ("GET", "/api/v1/staff/users/{user_id}"): ADMIN,
    ("PATCH", "/api/v1/staff/users/{user_id}"): ADMIN,
    ("POST", "/api/v1/staff/users/{user_id}/password-reset"): ADMIN,
    ("POST", "/api/v1/staff/password-resets"): ADMIN,
    ("GET", "/api/v1/staff/users/{user_id}/tokens"): ADMIN,
    ("DELETE", "/api/v1/staff/users/{user_id}/tokens/{token_id}"): ADMIN,
    ("GET", "/api/v1/staff/users/{user_id}/devices"): ADMIN,
    ("DELETE", "/api/v1/staff/users/{user_id}/devices/{device_key}"): ADMIN,
    ("POST", "/api/v1/account/password"): EVERYONE,
    # A courier's own: an admin has every role but no courier profile (403, as elsewhere).
    ("POST", "/api/courier/v1/session/refresh"): frozenset({"courier"}),
    # The zone editor (item 3): staff read, admins draw; the GeoJSON import stays the managers'.
    ("GET", "/api/v1/zones"): READERS,
    ("POST", "/api/v1/zones"): ADMIN,
    ("GET", "/api/v1/zones/{zone_id}"): READERS,
    ("PATCH", "/api/v1/zones/{zone_id}"): ADMIN,
    ("DELETE", "/api/v1/zones/{zone_id}"): ADMIN,
    ("GET", "/api/v1/zones/overlaps"): READERS,
    ("GET", "/api/v1/zones/at"): READERS,
    ("GET", "/api/v1/zones/geojson"): READERS,
    ("POST", "/api/v1/zones/geojson"): frozenset({"admin", "manager"}),
    ("GET", "/api/v1/audit"): ADMIN,
}
NEW_PREFIXES = (
    "/api/v1/zones",
    "/api/v1/branches",
    "/api/v1/staff",
    "/api/v1/account",
    "/api/courier/v1/session/refresh",
    "/api/v1/audit",
)

#: Every page the issue added (ids that name nothing: an admitted role gets 404, not 403), and its roles.
PAGES: dict[tuple[str, str], frozenset[str]] = {
    ("GET", "/admin/branches"): ADMIN,
    ("GET", "/admin/branches/new"): ADMIN,
    ("POST", "/admin/branches/new"): ADMIN,
    ("GET", "/admin/branches/999"): ADMIN,
    ("POST", "/admin/branches/999"): ADMIN,
    ("GET", "/admin/staff"): ADMIN,
    ("POST", "/admin/staff"): ADMIN,
    ("POST", "/admin/staff/password-reset"): ADMIN,
    ("GET", "/admin/staff/999"): ADMIN,
    ("POST", "/admin/staff/999"): ADMIN,
    ("POST", "/admin/staff/999/active"): ADMIN,
    ("POST", "/admin/staff/999/trainee"): ADMIN,
    ("POST", "/admin/staff/999/password-reset"): ADMIN,
    ("POST", "/admin/staff/999/tokens/999/revoke"): ADMIN,
    ("POST", "/admin/staff/999/devices/traccar/revoke"): ADMIN,
    ("GET", "/account/password"): READERS,
    ("POST", "/account/password"): READERS,
    ("GET", "/callcentre/zones"): ADMIN,
    ("GET", "/admin/audit"): ADMIN,
}


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", lambda m: "traccar" if m[0] == "{device_key}" else "999", path)


def test_the_matrix_names_every_route_the_issue_added(app):
    declared = {
        (spec.method, path): spec.roles
        for path, _rule, spec in iter_endpoints(app)
        if path.startswith(NEW_PREFIXES)
    }
    assert set(declared) == set(API_ROUTES)
    page_rules = {
        r.rule
        for r in app.url_map.iter_rules()
        if r.rule.startswith(
            ("/admin/branches", "/admin/staff", "/account", "/callcentre/zones", "/admin/audit")
        )
    }
    covered = {re.sub(r"/(999|traccar)(?=/|$)", "/<>", path) for _m, path in PAGES}
    assert {re.sub(r"<[^>]+>", "<>", r) for r in page_rules if "static" not in r} == covered


@pytest.fixture
def callers(app, users, catalogue) -> dict[str, dict[str, str]]:
    """The Authorization header of each role; the courier's has a courier profile behind it."""
    return {role: users[role].headers for role in STAFF_ROLES} | {
        "courier": make_courier(app, "Kirill").headers
    }


@pytest.mark.parametrize(("method", "path"), sorted(API_ROUTES), ids=lambda v: v)
def test_each_new_api_route_admits_its_roles_and_refuses_the_others(client, callers, method, path):
    assert_api_admits(
        client, method, concrete(path), {r: callers[r] for r in ROLES}, API_ROUTES[(method, path)]
    )


@pytest.mark.parametrize(("method", "url"), sorted(PAGES), ids=lambda v: v)
def test_each_new_page_admits_its_roles_and_refuses_the_others(app, users, method, url):
    assert_page_admits(app, method, url, STAFF_ROLES, PAGES[(method, url)])


# --- the branch scope ---------------------------------------------------------------------------


@pytest.fixture
def scoped(client, users, orders, catalogue):
    """Manager, operator and back office work for branch 2; an order waits in each branch."""
    for role in ("manager", "operator", "backoffice"):
        resp = client.patch(
            f"/api/v1/staff/users/{users[role].id}", json={"branch_ids": [2]}, headers=users["admin"].headers
        )
        assert resp.json["branch_ids"] == [2]
    return {1: orders.place(branch_id=1), 2: orders.place(branch_id=2)}


@pytest.mark.parametrize("role", ["manager", "operator", "backoffice"])
def test_staff_of_one_branch_list_and_read_only_its_orders_and_its_branch(client, users, scoped, role):
    h = users[role].headers
    listed = client.get("/api/v1/orders", headers=h).json
    assert [o["branch_id"] for o in listed["items"]] == [2] and listed["total"] == 1
    assert client.get("/api/v1/orders?branch_id=1", headers=h).json["total"] == 0
    assert client.get(f"/api/v1/orders/{scoped[1].id}", headers=h).status_code == 404
    assert client.get(f"/api/v1/orders/{scoped[2].id}", headers=h).status_code == 200
    assert client.get(f"/api/v1/orders/{scoped[1].id}/receipts", headers=h).status_code == 404
    assert [b["id"] for b in client.get("/api/v1/branches", headers=h).json["items"]] == [2]
    assert client.get("/api/v1/branches/1", headers=h).status_code == 404


@pytest.mark.parametrize("role", ["manager", "operator"])
def test_staff_of_one_branch_cannot_move_cancel_or_take_orders_of_another(client, users, scoped, role):
    h = users[role].headers
    other = scoped[1].id
    assert (
        client.post(f"/api/v1/orders/{other}/status", json={"status": "confirmed"}, headers=h).status_code
        == 404
    )
    assert (
        client.post(f"/api/v1/orders/{other}/cancel", json={"reason": "test"}, headers=h).status_code == 404
    )
    taken = client.post("/api/v1/orders", json=order_body(branch_id=1), headers=h)
    assert taken.status_code == 422 and taken.json["errors"][0]["type"] == "branch_out_of_scope"
    own = client.post(f"/api/v1/orders/{scoped[2].id}/status", json={"status": "confirmed"}, headers=h)
    assert own.status_code == 200
    assert client.post("/api/v1/orders", json=order_body(branch_id=2), headers=h).status_code == 201


def test_a_manager_of_one_branch_cannot_explain_an_order_of_another(client, users, scoped):
    assert (
        client.get(f"/api/v1/orders/{scoped[1].id}/explain", headers=users["manager"].headers).status_code
        == 404
    )


def test_an_admin_linked_to_one_branch_still_sees_every_branch(client, users, scoped):
    h = users["admin"].headers
    client.patch(f"/api/v1/staff/users/{users['admin'].id}", json={"branch_ids": [1]}, headers=h)
    assert client.get("/api/v1/orders", headers=h).json["total"] == 2
    assert client.get(f"/api/v1/orders/{scoped[2].id}", headers=h).status_code == 200
    assert len(client.get("/api/v1/branches", headers=h).json["items"]) == 2


def test_staff_linked_to_no_branch_work_for_every_branch(client, users, orders, catalogue):
    orders.place(branch_id=1)
    orders.place(branch_id=2)
    assert client.get("/api/v1/orders", headers=users["operator"].headers).json["total"] == 2


@pytest.mark.parametrize("role", ["manager", "operator", "backoffice"])
def test_the_order_board_offers_only_the_branches_of_its_user(app, client, users, scoped, role):
    AuthActions(client).login(role)
    page = client.get("/callcentre/board").data.decode()
    config = re.search(r'id="page-config">(.*?)</script>', page, re.S)[1]
    assert '"code": "KZ2"' in config and '"code": "KZ1"' not in config
