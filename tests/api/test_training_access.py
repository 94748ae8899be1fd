"""Who may call what among the training routes, role by role, for the API and the pages; a trainer
puts operators (only) in training mode from the trainer's page."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from frontoffice.apidocs import iter_endpoints
from frontoffice.models import AuditEntry, User
from tests.conftest import ROLES
from tests.helpers import AuthActions, assert_api_admits, assert_page_admits

STAFF_ROLES = ("admin", "manager", "operator", "backoffice")
TRAINERS = frozenset({"admin", "manager"})
CALLERS = frozenset({"admin", "manager", "operator"})

API_ROUTES: dict[tuple[str, str], frozenset[str]] = {
    ("POST", "/api/v1/training/calls"): CALLERS,
    ("GET", "/api/v1/training/assignment"): CALLERS,
    ("POST", "/api/v1/training/scenarios"): TRAINERS,
    ("POST", "/api/v1/training/scenarios/{scenario_id}/assignments"): TRAINERS,
}
PAGES: dict[tuple[str, str], frozenset[str]] = {
    ("GET", "/training"): TRAINERS,
    ("POST", "/training/scenarios"): TRAINERS,
    ("POST", "/training/scenarios/999/assign"): TRAINERS,
    ("POST", "/training/trainees"): TRAINERS,
}


@pytest.fixture
def app(sqlite_app):
    """Access rules and the API's answers do not depend on the database: SQLite only."""
    return sqlite_app


def test_the_matrix_names_every_training_route(app):
    declared = {
        (spec.method, path): spec.roles | {"admin"}
        for path, _rule, spec in iter_endpoints(app)
        if path.startswith("/api/v1/training")
    }
    assert declared == API_ROUTES
    rules = {r.rule for r in app.url_map.iter_rules() if r.rule.startswith("/training")}
    covered = {re.sub(r"/999(?=/|$)", "/<>", path) for _m, path in PAGES}
    assert {re.sub(r"<[^>]+>", "<>", r) for r in rules} == covered


@pytest.mark.parametrize(("method", "path"), sorted(API_ROUTES), ids=lambda v: v)
def test_each_training_api_route_admits_its_roles_and_refuses_the_others(client, users, method, path):
    callers = {role: users[role].headers for role in ROLES}
    assert_api_admits(client, method, re.sub(r"\{[^}]+\}", "999", path), callers, API_ROUTES[(method, path)])


@pytest.mark.parametrize(("method", "url"), sorted(PAGES), ids=lambda v: v)
def test_each_training_page_admits_its_roles_and_refuses_the_others(app, users, method, url):
    assert_page_admits(app, method, url, STAFF_ROLES, PAGES[(method, url)])


def test_a_trainer_puts_an_operator_in_training_mode_and_nobody_else(app, kernel, users):
    pages = app.test_client()
    auth = AuthActions(pages)
    auth.login("manager")
    token = auth.csrf(pages.get("/training").data)
    for who, expected in ((users["operator"].id, True), (users["admin"].id, False)):
        pages.post("/training/trainees", data={"csrf_token": token, "user_id": str(who), "trainee": "1"})
        with kernel.db.reading() as s:
            assert s.get(User, who).trainee is expected
    with kernel.db.reading() as s:
        assert s.scalars(select(AuditEntry).where(AuditEntry.entity_id == str(users["operator"].id))).first()
