"""Who may call the notifications' routes: templates and dead letters are for admins, the message
log for admins and managers, a client's Telegram chat and language for the desk (operators too);
every other role is refused, strangers too. The OpenAPI document lists the API."""

from __future__ import annotations

import re

import pytest

from frontoffice.apidocs import iter_endpoints
from tests.api import test_staff_access as staff_access
from tests.api.test_staff_access import STAFF_ROLES, concrete
from tests.conftest import ROLES
from tests.helpers import assert_api_admits, assert_page_admits

ADMIN = frozenset({"admin"})
STAFF = frozenset({"admin", "manager"})
DESK = frozenset({"admin", "manager", "operator"})
#: Who may call a route does not depend on the database: these run on SQLite only (the suite's time limit).
SQLITE_ONLY = pytest.mark.parametrize("backend", ["sqlite"])
#: The Authorization header of each role (the staff access test's fixture).
callers = staff_access.callers

API_ROUTES: dict[tuple[str, str], frozenset[str]] = {
    ("GET", "/api/v1/notifications/templates"): ADMIN,
    ("PUT", "/api/v1/notifications/templates/{event}/{language}"): ADMIN,
    ("DELETE", "/api/v1/notifications/templates/{event}/{language}"): ADMIN,
    ("GET", "/api/v1/notifications/messages"): STAFF,
    ("POST", "/api/v1/notifications/messages/{message_id}/retry"): ADMIN,
    ("PUT", "/api/v1/notifications/recipients"): DESK,
}
PAGES: dict[tuple[str, str], frozenset[str]] = {
    ("GET", "/admin/notifications"): ADMIN,
    ("GET", "/admin/notifications/templates/late/en"): ADMIN,
    ("POST", "/admin/notifications/templates/late/en"): ADMIN,
    ("POST", "/admin/notifications/templates/late/en/reset"): ADMIN,
    ("POST", "/admin/notifications/messages/999/retry"): ADMIN,
}


@SQLITE_ONLY
def test_the_matrix_names_every_notifications_route(app, client):
    declared = {
        (spec.method, path)
        for path, _rule, spec in iter_endpoints(app)
        if path.startswith("/api/v1/notifications")
    }
    assert declared == set(API_ROUTES)
    pages = {
        re.sub(r"<[^>]+>", "<>", r.rule)
        for r in app.url_map.iter_rules()
        if r.rule.startswith("/admin/notifications")
    }
    assert pages == {re.sub(r"/(999|late|en)(?=/|$)", "/<>", path) for _m, path in PAGES}
    paths = client.get("/api/openapi.json").get_json()["paths"]
    assert {"put", "delete"} <= set(paths["/api/v1/notifications/templates/{event}/{language}"])


@SQLITE_ONLY
def test_each_notifications_api_route_admits_its_roles_only(client, callers):
    for method, path in sorted(API_ROUTES):
        assert_api_admits(
            client, method, concrete(path), {r: callers[r] for r in ROLES}, API_ROUTES[(method, path)]
        )


@SQLITE_ONLY
def test_each_notifications_page_admits_admins_only(app, users):
    for method, url in sorted(PAGES):
        assert_page_admits(app, method, url, STAFF_ROLES, PAGES[(method, url)])
