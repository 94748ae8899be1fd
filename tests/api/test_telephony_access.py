"""Who may call what among telephony's routes, role by role, for the API and the pages."""

from __future__ import annotations

import re

from frontoffice.apidocs import iter_endpoints
from tests.conftest import ROLES
from tests.helpers import AuthActions, assert_api_admits

ADMIN = frozenset({"admin"})
#: Operators, managers and the back office call clients and read the log (admins have every role).
CALLERS = frozenset({"admin", "manager", "operator", "backoffice"})

API_ROUTES: dict[tuple[str, str], frozenset[str]] = {
    ("POST", "/api/v1/telephony/dial"): CALLERS,
    ("GET", "/api/v1/telephony/calls"): CALLERS,
    ("GET", "/api/v1/telephony/callbacks"): CALLERS,
    ("GET", "/api/v1/telephony/extensions"): ADMIN,
    ("PUT", "/api/v1/telephony/extensions/{user_id}"): ADMIN,
    ("GET", "/api/v1/telephony/lines"): ADMIN,
    ("POST", "/api/v1/telephony/lines"): ADMIN,
    ("DELETE", "/api/v1/telephony/lines/{line_id}"): ADMIN,
}
#: Mango authenticates by its signature, not by a user.
PUBLIC = {("POST", "/api/v1/telephony/mango/events/{kind}")}

PAGES: dict[tuple[str, str], frozenset[str]] = {
    ("GET", "/telephony/calls"): CALLERS,
    ("GET", "/telephony/callbacks"): CALLERS,
    ("POST", "/telephony/dial"): CALLERS,
    ("GET", "/telephony/settings"): ADMIN,
    ("POST", "/telephony/settings"): ADMIN,
}


def test_every_telephony_route_admits_its_roles_and_refuses_the_others(app, users):
    declared = {
        (spec.method, path)
        for path, _rule, spec in iter_endpoints(app)
        if path.startswith("/api/v1/telephony")
    }
    assert declared == set(API_ROUTES) | PUBLIC
    pages = {
        (m, r.rule)
        for r in app.url_map.iter_rules()
        if r.rule.startswith("/telephony/") and "static" not in r.rule
        for m in r.methods - {"HEAD", "OPTIONS"}
    }
    assert pages == set(PAGES)
    client = app.test_client()
    callers = {role: users[role].headers for role in ROLES}
    for (method, path), admitted in API_ROUTES.items():
        assert_api_admits(client, method, re.sub(r"\{[^}]+\}", "999", path), callers, admitted)
    # pages: one login per staff role (couriers cannot log in to pages at all)
    sessions = {}
    for role in sorted(CALLERS):
        sessions[role] = app.test_client()
        auth = AuthActions(sessions[role])
        auth.login(role)
        sessions[role].csrf = auth.csrf(sessions[role].get("/login").data)
    for (method, path), admitted in PAGES.items():
        assert app.test_client().open(path, method=method).status_code in (302, 400)
        for role, session in sessions.items():
            data = {"csrf_token": session.csrf} if method == "POST" else None
            status = session.open(path, method=method, data=data).status_code
            assert (status == 403) is (role not in admitted), (method, path, role, status)
    # the staff admin links the extensions page; a bad extension is refused next to its field
    assert b'href="/telephony/settings"' in sessions["admin"].get("/admin/staff").data
    refused = sessions["admin"].post(
        "/telephony/settings",
        data={
            "csrf_token": sessions["admin"].csrf,
            "action": "extension",
            "user_id": users["operator"].id,
            "extension": "1",
        },
    )
    assert refused.status_code == 422 and b"An extension is 2 to 10 digits." in refused.data
    assert client.get("/api/v1/telephony/extensions", headers=users["admin"].headers).get_json()["items"]
    assert all(
        e["extension"] is None
        for e in client.get("/api/v1/telephony/extensions", headers=users["admin"].headers).get_json()[
            "items"
        ]
    )
    # without Mango configured its notifications are not found (and never need a login)
    assert client.post("/api/v1/telephony/mango/events/call", data={}).status_code == 404
