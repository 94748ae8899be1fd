"""A property-based fuzz of the whole JSON API from its own OpenAPI document (schemathesis).

Schemathesis reads ``/api/openapi.json`` from the app and, for every operation in it, generates
requests — valid ones and, as deliberately, invalid ones (bad types, missing or extra fields, out of
range values) — and sends them to the WSGI app in-process. Each call carries a bearer token of a
role the operation admits (drawn per call among its ``x-roles`` and ``admin``), on the demo data,
with the geocoder pointed at a local Nominatim look-alike so that a 503 from it would mean ours.
Every answer must hold to the document: no 5xx, a status code it lists, the content type it
gives for that code, a body matching its schema (problem+json for errors too).

The budget is bounded for CI: ``FRONTOFFICE_FUZZ_EXAMPLES`` generated calls per operation
(default 8), valid and invalid ones mixed, seeded by ``FRONTOFFICE_FUZZ_SEED`` so that a run is
reproducible; raise the first (or change the seed) for a longer hunt, see docs/api.md.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import select

from frontoffice.auth import issue_token
from frontoffice.cli import load_demo
from frontoffice.models import User
from tests.callcentre_fixtures import FakeNominatim
from tests.conftest import _make_app

MAX_EXAMPLES = int(os.environ.get("FRONTOFFICE_FUZZ_EXAMPLES", "8"))
SEED = int(os.environ.get("FRONTOFFICE_FUZZ_SEED", "13"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
STAFF = ("admin", "manager", "operator", "backoffice")
#: Operations that revoke the very token they are called with, or may (a user's token by id, a password
#: reset, switching a user off): each call gets a token of its own, so that the rest of the run keeps
#: its credentials.
REVOKING = {
    ("DELETE", "/api/v1/tokens/current"),
    ("DELETE", "/api/courier/v1/session"),
    ("POST", "/api/courier/v1/session/refresh"),
    ("DELETE", "/api/v1/staff/users/{user_id}/tokens/{token_id}"),
    ("POST", "/api/v1/staff/users/{user_id}/password-reset"),
    ("POST", "/api/v1/staff/password-resets"),
    ("PATCH", "/api/v1/staff/users/{user_id}"),
}


class Credentials:
    """Bearer tokens of the demo users, one per role; fresh ones for the calls that revoke theirs."""

    def __init__(self, app) -> None:
        self.db = app.extensions["frontoffice"].db
        self.tokens = {role: self.issue(role) for role in (*STAFF, "courier")}

    def issue(self, role: str) -> str:
        """A new token of the demo user named after ``role``."""
        with self.db.unit_of_work() as s:
            return issue_token(s, s.scalar(select(User).where(User.username == role)), "fuzz")

    def headers(self, case, role: str | None) -> dict[str, str]:
        """The Authorization header of ``role`` for ``case`` (none for a public operation)."""
        if role is None:
            return {}
        revoking = (case.method.upper(), case.path) in REVOKING
        return {"Authorization": f"Bearer {self.issue(role) if revoking else self.tokens[role]}"}


def admitted_roles(case) -> tuple[str, ...]:
    """The roles that may call ``case``'s operation: its ``x-roles`` and admin; none when public."""
    roles = case.operation.definition.raw.get("x-roles")
    return tuple(sorted({*roles, "admin"})) if roles else ()


@pytest.fixture
def fuzzed_app(database_url, tmp_path) -> Iterator:
    """The app on the demo data, its geocoder a Nominatim look-alike on 127.0.0.1."""
    nominatim = FakeNominatim()
    app = _make_app(
        database_url,
        tmp_path,
        geocoder="nominatim",
        geocoder_domain=nominatim.domain,
        geocoder_scheme="http",
        geocoder_timeout_s=2,
    )
    load_demo(app)
    yield app
    app.extensions["frontoffice"].db.dispose()
    nominatim.stop()


@pytest.fixture
def credentials(fuzzed_app) -> Credentials:
    """Tokens of the demo users."""
    return Credentials(fuzzed_app)


@pytest.fixture
def api_schema(fuzzed_app):
    """The app's own OpenAPI document, loaded by schemathesis, bound to the app (WSGI, in-process)."""
    config = schemathesis.Config.from_dict(
        {
            "seed": SEED,
            # Timing-dependent: a loaded CI machine must not fail the run for generating slowly.
            "suppress-health-check": ["too_slow"],
            "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True, "database": "none"},
        }
    )
    return schemathesis.openapi.from_wsgi("/api/openapi.json", fuzzed_app, config=config)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.given(data=st.data())
@schema.parametrize()
def test_every_operation_answers_as_the_document_says(case, data, credentials):
    roles = admitted_roles(case)
    role = data.draw(st.sampled_from(roles), label="role") if roles else None
    response = case.call_and_validate(headers=credentials.headers(case, role), checks=CHECKS)
    # The fuzz must reach past the auth wall, or every answer would be a documented 401.
    assert role is None or response.status_code != 401, response.text
