"""Every declared endpoint states its roles; without a token it answers 401, with a wrong role 403."""

from __future__ import annotations

import re

import pytest

from frontoffice.apidocs import iter_endpoints
from frontoffice.auth import issue_token
from frontoffice.models import User
from tests.conftest import ROLES


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def test_every_protected_endpoint_refuses_strangers_and_wrong_roles(app, client, users):
    checked = 0
    for path, _rule, spec in iter_endpoints(app):
        if spec.public:
            continue
        url = _concrete(path)
        resp = client.open(url, method=spec.method, json={})
        assert resp.status_code == 401, (spec.method, url)
        assert resp.mimetype == "application/problem+json"
        for role in ROLES:
            if role == "admin" or role in spec.roles:
                continue
            resp = client.open(url, method=spec.method, json={}, headers=users[role].headers)
            assert resp.status_code == 403, (spec.method, url, role)
            checked += 1
    assert checked > 0


def test_admin_may_call_everything_but_a_couriers_own_endpoints(app, client, users):
    # DELETE calls last, and those that may revoke a token (the one in use, or token 1 of user 1:
    # the admin's) last of all, each with a token of its own.
    for path, _rule, spec in sorted(
        iter_endpoints(app), key=lambda e: (e[2].method == "DELETE", "/tokens/" in e[0])
    ):
        if spec.public or spec.roles == {"courier"}:
            # A courier's own endpoints act for the token's courier: an admin has none (403 by design).
            continue
        headers = users["admin"].headers
        if "/tokens/" in path:
            with app.extensions["frontoffice"].db.unit_of_work() as s:
                headers = {"Authorization": f"Bearer {issue_token(s, s.get(User, users['admin'].id), 'own')}"}
        resp = client.open(_concrete(path), method=spec.method, json={}, headers=headers)
        assert resp.status_code not in (401, 403), (spec.method, path)


def test_openapi_document_lists_the_order_api(client):
    doc = client.get("/api/openapi.json").json
    assert doc["openapi"].startswith("3.1")
    post = doc["paths"]["/api/v1/orders"]["post"]
    assert post["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/OrderCreate")
    assert "operator" in post["x-roles"]
    assert "OrderOut" in doc["components"]["schemas"]
    page = client.get("/api/docs")
    assert page.status_code == 200 and b"/api/v1/orders/{order_id}/status" in page.data


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_health_check_reports_the_database(client, path):
    resp = client.get(path)
    assert resp.status_code == 200 and resp.json["status"] == "ok"


def test_a_staff_login_becomes_a_token_that_can_be_revoked(client, users):
    resp = client.post("/api/v1/tokens", json={"username": "test-manager", "password": "pw-manager"})
    assert resp.status_code == 201
    headers = {"Authorization": f"Bearer {resp.json['token']}"}
    assert client.get("/api/v1/orders", headers=headers).status_code == 200
    assert client.delete("/api/v1/tokens/current", headers=headers).status_code == 204
    assert client.get("/api/v1/orders", headers=headers).status_code == 401
    bad = client.post("/api/v1/tokens", json={"username": "test-manager", "password": "nope"})
    assert bad.status_code == 401 and bad.mimetype == "application/problem+json"


def test_the_favicon_is_served_and_linked_from_every_page(client):
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.mimetype == "image/svg+xml"
    assert icon.data.lstrip().startswith(b"<svg")
    login = client.get("/login")
    assert b'rel="icon"' in login.data
    linked = client.get("/static/favicon.svg")
    assert linked.status_code == 200
