"""Who may call the routes of issue 15: the outbox's dead-letter API and "Event deliveries" page, the
webhooks' API and pages are for admins; every other role is refused, strangers too. The OpenAPI
document lists the API."""

from __future__ import annotations

import re

import pytest

from frontoffice.apidocs import iter_endpoints
from tests.api import test_staff_access as staff_access
from tests.api.test_staff_access import STAFF_ROLES, concrete
from tests.conftest import ROLES
from tests.helpers import assert_api_admits, assert_page_admits

ADMIN = frozenset({"admin"})
#: The Authorization header of each role (the staff access test's fixture).
callers = staff_access.callers

API_ROUTES: dict[tuple[str, str], frozenset[str]] = {
    ("GET", "/api/v1/outbox/parked"): ADMIN,
    ("POST", "/api/v1/outbox/parked/{event_id}/retry"): ADMIN,
    ("GET", "/api/v1/webhooks"): ADMIN,
    ("POST", "/api/v1/webhooks"): ADMIN,
    ("GET", "/api/v1/webhooks/{endpoint_id}"): ADMIN,
    ("PATCH", "/api/v1/webhooks/{endpoint_id}"): ADMIN,
    ("GET", "/api/v1/webhooks/{endpoint_id}/deliveries"): ADMIN,
    ("POST", "/api/v1/webhooks/deliveries/{delivery_id}/retry"): ADMIN,
}
PAGES: dict[tuple[str, str], frozenset[str]] = {
    ("GET", "/admin/outbox"): ADMIN,
    ("POST", "/admin/outbox/999/retry"): ADMIN,
    ("GET", "/admin/webhooks"): ADMIN,
    ("POST", "/admin/webhooks"): ADMIN,
    ("GET", "/admin/webhooks/999"): ADMIN,
    ("POST", "/admin/webhooks/999"): ADMIN,
    ("POST", "/admin/webhooks/deliveries/999/retry"): ADMIN,
}


def test_the_matrix_names_every_outbox_and_webhook_route(app, client):
    prefixes = ("/api/v1/outbox", "/api/v1/webhooks")
    declared = {(spec.method, path) for path, _rule, spec in iter_endpoints(app) if path.startswith(prefixes)}
    assert declared == set(API_ROUTES)
    pages = {
        re.sub(r"<[^>]+>", "<>", r.rule)
        for r in app.url_map.iter_rules()
        if r.rule.startswith(("/admin/outbox", "/admin/webhooks"))
    }
    assert pages == {re.sub(r"/999(?=/|$)", "/<>", path) for _m, path in PAGES}
    paths = client.get("/api/openapi.json").get_json()["paths"]
    assert (
        "get" in paths["/api/v1/outbox/parked"] and "post" in paths["/api/v1/outbox/parked/{event_id}/retry"]
    )
    assert {"get", "post"} <= set(paths["/api/v1/webhooks"]) and "patch" in paths[
        "/api/v1/webhooks/{endpoint_id}"
    ]


@pytest.mark.parametrize(("method", "path"), sorted(API_ROUTES), ids=lambda v: v)
def test_each_outbox_api_route_admits_admins_only(client, callers, method, path):
    assert_api_admits(
        client, method, concrete(path), {r: callers[r] for r in ROLES}, API_ROUTES[(method, path)]
    )


@pytest.mark.parametrize(("method", "url"), sorted(PAGES), ids=lambda v: v)
def test_each_outbox_page_admits_admins_only(app, users, method, url):
    assert_page_admits(app, method, url, STAFF_ROLES, PAGES[(method, url)])
