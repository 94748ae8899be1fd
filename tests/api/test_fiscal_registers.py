"""Fiscal registers over the API and the pages: bad input refused naming the field, the password
stored encrypted and never shown back, the pages in English and Russian, who may call what, and the
order page and the dossier showing the fiscal data."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from fiscal.models import FiscalRegister
from frontoffice.apidocs import iter_endpoints
from tests.conftest import ROLES
from tests.fiscal_fixtures import DESSERTS_IP, INNS, LLC, PASSWORD, fiscal_world, register_data
from tests.helpers import assert_api_admits, assert_page_admits


@pytest.fixture
def fiscal(app):
    """The demo catalogue, fake ATOL Online and Web Server, a sender to pump."""
    yield from fiscal_world(app)


ADMIN = frozenset({"admin"})
STAFF = frozenset({"admin", "manager"})
API_ROUTES = {
    ("GET", "/api/v1/fiscal/registers"): ADMIN,
    ("POST", "/api/v1/fiscal/registers"): ADMIN,
    ("GET", "/api/v1/fiscal/registers/{register_id}"): ADMIN,
    ("PATCH", "/api/v1/fiscal/registers/{register_id}"): ADMIN,
    ("GET", "/api/v1/fiscal/receipts"): STAFF,
    ("GET", "/api/v1/fiscal/orders/{order_id}/receipts"): STAFF,
    ("POST", "/api/v1/fiscal/receipts/{receipt_id}/resend"): STAFF,
}
PAGES = {
    ("GET", "/admin/fiscal/registers"): ADMIN,
    ("POST", "/admin/fiscal/registers"): ADMIN,
    ("GET", "/admin/fiscal/registers/999"): ADMIN,
    ("POST", "/admin/fiscal/registers/999"): ADMIN,
    ("GET", "/fiscal/receipts"): STAFF,
    ("POST", "/fiscal/receipts/999/resend"): STAFF,
}


def body(fake, org=LLC, **fields):
    data = vars(register_data(org, fake, "atol_online"))
    return {**{k: v for k, v in data.items() if v is not None}, **fields}


def test_the_fiscal_routes_admit_their_roles_and_refuse_the_others(app, client, users):
    declared = {
        (spec.method, path) for path, _rule, spec in iter_endpoints(app) if path.startswith("/api/v1/fiscal")
    }
    assert declared == set(API_ROUTES)
    pages = {
        re.sub(r"<[^>]+>", "<>", r.rule)
        for r in app.url_map.iter_rules()
        if "fiscal" in r.rule and "/api/" not in r.rule
    }
    assert pages == {re.sub(r"/999(?=/|$)", "/<>", p) for _m, p in PAGES}
    callers = {role: users[role].headers for role in ROLES}
    for (method, path), roles in API_ROUTES.items():
        assert_api_admits(client, method, re.sub(r"\{[^}]+\}", "999", path), callers, roles)
    for (method, url), roles in PAGES.items():
        assert_page_admits(app, method, url, ("admin", "manager", "operator", "backoffice"), roles)


def test_a_register_is_refused_naming_each_wrong_field_and_its_password_is_never_shown(
    fiscal, client, auth, users
):
    admin = users["admin"].headers
    bad = client.post(
        "/api/v1/fiscal/registers",
        json=body(
            fiscal.online, inn="7707083893", tax_systems=["psn"], group_code="", base_url="ftp://x", secret=""
        ),
        headers=admin,
    )
    assert bad.status_code == 422 and bad.mimetype == "application/problem+json"
    fields = {e["field"] for e in bad.get_json()["errors"]}
    assert fields == {"inn", "tax_systems", "group_code", "base_url", "secret"}
    assert "1655012344" in next(e["message"] for e in bad.get_json()["errors"] if e["field"] == "inn")

    made = client.post("/api/v1/fiscal/registers", json=body(fiscal.online), headers=admin)
    assert made.status_code == 201, made.get_json()
    assert made.get_json()["secret"] == "stored encrypted" and PASSWORD not in made.get_data(as_text=True)
    with fiscal.kernel.db.reading() as s:
        stored = s.scalar(select(FiscalRegister.secret_encrypted))
    assert stored and PASSWORD not in stored
    reg_id = made.get_json()["id"]
    read = client.get(f"/api/v1/fiscal/registers/{reg_id}", headers=admin)
    assert PASSWORD not in read.get_data(as_text=True)
    env = client.patch(
        f"/api/v1/fiscal/registers/{reg_id}",
        json={"secret_env": "ATOL_PASSWORD", "active": False},
        headers=admin,
    )
    assert env.get_json()["secret"] == "from $ATOL_PASSWORD" and env.get_json()["active"] is False
    listed = client.get("/api/v1/fiscal/registers", headers=admin).get_json()["items"]
    assert [r["id"] for r in listed] == [reg_id]
    audit = client.get("/api/v1/audit", headers=admin).get_data(as_text=True)
    assert "fiscal_register" in audit and PASSWORD not in audit

    # The pages, in English and Russian: the reason next to the field.
    auth.login("admin")
    page = client.get("/admin/fiscal/registers")
    assert page.status_code == 200 and b"Add a register" in page.data
    form = {
        "csrf_token": auth.csrf(page.data),
        "organization_id": str(DESSERTS_IP),
        "kind": "atol_webserver",
        "name": "Till 1",
        "inn": INNS[LLC],
        "tax_systems": ["psn"],
        "payment_address": "Kazan, Baumana 1",
        "base_url": fiscal.webserver.url,
        "login": "Cashier",
    }
    refused = client.post("/admin/fiscal/registers", data=form)
    assert refused.status_code == 422
    assert re.search(rb'data-field="inn">The organization&#39;s INN is 165909876596', refused.data)
    saved = client.post("/admin/fiscal/registers", data={**form, "inn": INNS[DESSERTS_IP]})
    assert saved.status_code == 302
    auth.choose_language("ru", "/admin/fiscal/registers")
    ru = client.get("/admin/fiscal/registers")
    assert "Фискальные регистраторы".encode() in ru.data and b"Till 1" in ru.data
    assert "Чеки, ещё не фискализированные".encode() in client.get("/fiscal/receipts").data
