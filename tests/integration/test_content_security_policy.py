"""Every HTML page carries the Content-Security-Policy: scripts only from our files and the page's
own import map (by its hash), images from us and the configured tile server."""

from __future__ import annotations

import re

import pytest

from frontoffice.csp import script_hash
from tests.conftest import _make_app, load_demo_catalogue, make_users
from tests.helpers import AuthActions

TILES = "https://{s}.tiles.example.org/{z}/{x}/{y}.png"


@pytest.fixture
def tiled_app(tmp_path, _sqlite_template):
    """The app with a map tile server configured, on the demo catalogue, with users."""
    application = _make_app(_sqlite_template.fresh(tmp_path), tmp_path, map_tiles_url=TILES)
    load_demo_catalogue(application)
    make_users(application)
    yield application
    application.extensions["frontoffice"].db.dispose()


def inline_scripts(page: str) -> list[tuple[str, str]]:
    """(type, text) of every script element without a src."""
    found = []
    for attrs, text in re.findall(r"<script([^>]*)>(.*?)</script>", page, re.S):
        if "src=" not in attrs:
            kind = re.search(r'type="([^"]+)"', attrs)
            found.append((kind.group(1) if kind else "", text))
    return found


@pytest.mark.parametrize(
    ("role", "path"),
    [
        (None, "/login"),
        (None, "/no-such-page"),
        ("operator", "/callcentre"),
        ("manager", "/monitor"),
        ("admin", "/admin/nomenclature/catalogue"),
    ],
)
def test_a_page_runs_only_our_scripts_and_its_hashed_import_map(tiled_app, role, path):
    client = tiled_app.test_client()
    if role:
        AuthActions(client).login(role)
    resp = client.get(path, headers={"Accept": "text/html"})
    policy = resp.headers["Content-Security-Policy"]
    page = resp.get_data(as_text=True)
    executable = [(kind, text) for kind, text in inline_scripts(page) if kind != "application/json"]
    assert [kind for kind, _ in executable] == ["importmap"]
    assert f"script-src 'self' {script_hash(executable[0][1])};" in policy
    assert "img-src 'self' data: https://*.tiles.example.org;" in policy
    assert "unsafe-inline" not in policy


def test_json_answers_carry_no_page_policy(tiled_app):
    resp = tiled_app.test_client().get("/healthz")
    assert resp.mimetype == "application/json"
    assert "Content-Security-Policy" not in resp.headers
