"""Who may call the outbox's routes (issue 15): the dead-letter API and the "Event deliveries" page
are for admins; every other role is refused, strangers too. The OpenAPI document lists the API."""

from __future__ import annotations

import re

import pytest

from frontoffice.apidocs import iter_endpoints
from tests.api import test_staff_access as staff_access
from tests.api.test_staff_access import check_api_route, check_page

ADMIN = frozenset({"admin"})
#: The Authorization header of each role (the staff access test's fixture).
callers = staff_access.callers

API_ROUTES: dict[tuple[str, str], frozenset[str]] = {
    ("GET", "/api/v1/outbox/parked"): ADMIN,
    ("POST", "/api/v1/outbox/parked/{event_id}/retry"): ADMIN,
}
PAGES: dict[tuple[str, str], frozenset[str]] = {
    ("GET", "/admin/outbox"): ADMIN,
    ("POST", "/admin/outbox/999/retry"): ADMIN,
}


def test_the_matrix_names_every_outbox_route(app, client):
    declared = {
        (spec.method, path) for path, _rule, spec in iter_endpoints(app) if path.startswith("/api/v1/outbox")
    }
    assert declared == set(API_ROUTES)
    pages = {
        re.sub(r"<[^>]+>", "<>", r.rule)
        for r in app.url_map.iter_rules()
        if r.rule.startswith("/admin/outbox")
    }
    assert pages == {re.sub(r"/999(?=/|$)", "/<>", path) for _m, path in PAGES}
    paths = client.get("/api/openapi.json").get_json()["paths"]
    assert (
        "get" in paths["/api/v1/outbox/parked"] and "post" in paths["/api/v1/outbox/parked/{event_id}/retry"]
    )


@pytest.mark.parametrize(("method", "path"), sorted(API_ROUTES), ids=lambda v: v)
def test_each_outbox_api_route_admits_admins_only(client, callers, method, path):
    check_api_route(client, callers, method, path, API_ROUTES[(method, path)])


@pytest.mark.parametrize(("method", "url"), sorted(PAGES), ids=lambda v: v)
def test_each_outbox_page_admits_admins_only(app, users, method, url):
    check_page(app, method, url, PAGES[(method, url)])
