"""The zones editor page (issue 16, item 3): admins open it from the top bar or from a branch's
zones section; its script gets the API addresses, the branches and its texts in the reader's
language through the JSON blob; nobody else opens it."""

from __future__ import annotations

import json
import re

import pytest

from tests.callcentre_fixtures import load_zones
from tests.conftest import make_users
from tests.helpers import AuthActions


def page_config(page: bytes) -> dict:
    return json.loads(re.search(rb'id="page-config">(.*?)</script>', page, re.S)[1])


@pytest.fixture
def browser(sqlite_app):
    load_zones(sqlite_app)
    make_users(sqlite_app)

    def login(role: str):
        client = sqlite_app.test_client()
        AuthActions(client).login(role)
        return client

    return login


def test_a_branch_page_links_its_zones_to_the_editor(browser):
    client = browser("admin")
    page = client.get("/admin/branches/1").data.decode()
    assert 'href="/callcentre/zones?branch_id=1"' in page
    editor = client.get("/callcentre/zones?branch_id=1")
    assert editor.status_code == 200
    config = page_config(editor.data)
    assert config["branch_id"] == 1 and [b["code"] for b in config["branches"]] == ["KZ1", "KZ2"]
    assert config["zone_api"]["overlaps"] == "/api/v1/zones/overlaps"
    assert "vendor/geoman/leaflet-geoman.min.js" in editor.data.decode()


def test_the_editor_speaks_russian_and_sits_in_the_admins_top_bar(browser):
    client = browser("admin")
    client.post(
        "/lang/ru", data={"csrf_token": AuthActions(client).csrf(client.get("/login").data), "next": "/"}
    )
    page = client.get("/callcentre/zones")
    config = page_config(page.data)
    assert "Зоны доставки" in page.data.decode()
    assert config["strings"]["problem_self_intersection"].startswith("Контур пересекает сам себя")
    assert config["strings"]["overlap"].endswith("там доставляет {winner}")
    assert 'href="/callcentre/zones"' in page.data.decode()
    operator = browser("operator")
    assert 'href="/callcentre/zones"' not in operator.get("/callcentre").data.decode()
    assert operator.get("/callcentre/zones").status_code == 403
