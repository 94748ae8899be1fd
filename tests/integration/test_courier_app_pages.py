"""The courier's web app (/courier/): the routes, who may open them (everyone: the shell holds no
data, the API decides), the manifest, the service worker and its shell, the texts in EN and RU,
and that the app names only the public courier API and loads nothing from elsewhere."""

from __future__ import annotations

import json
import re

import pytest

from couriers.app_views import API, SHELL_FILES
from tests.conftest import ROLES
from tests.helpers import AuthActions

#: Every route of the app, and what it answers.
ROUTES = {
    "/courier/": "text/html",
    "/courier/manifest.webmanifest": "application/manifest+json",
    "/courier/sw.js": "text/javascript",
    **{f"/courier/static/{name}": None for name in SHELL_FILES},
}


def page_config(html: str) -> dict:
    blob = re.search(r'<script type="application/json" id="page-config">(.*?)</script>', html, re.S)
    return json.loads(blob[1])


def test_the_routes_listed_here_are_every_route_of_the_app(app):
    rules = {r.rule for r in app.url_map.iter_rules() if r.rule.startswith("/courier/")}
    assert rules == {
        "/courier/",
        "/courier/manifest.webmanifest",
        "/courier/sw.js",
        "/courier/static/<path:filename>",
    }


@pytest.mark.parametrize("path", sorted(ROUTES))
def test_every_route_is_open_to_strangers_and_to_every_role(app, users, path):
    anonymous = app.test_client().get(path)
    assert anonymous.status_code == 200
    if ROUTES[path]:
        assert anonymous.mimetype == ROUTES[path]
    for role in ROLES:
        client = app.test_client()
        if role != "courier":
            AuthActions(client).login(role)
        assert client.get(path).status_code == 200, role


def test_courier_redirects_to_the_app(client):
    resp = client.get("/courier")
    assert resp.status_code in (301, 308) and resp.headers["Location"].endswith("/courier/")


def test_the_shell_holds_no_data_and_runs_under_the_content_security_policy(client):
    resp = client.get("/courier/")
    html = resp.get_data(as_text=True)
    assert "script-src 'self' 'sha256-" in resp.headers["Content-Security-Policy"]
    assert "style=" not in html and "<style" not in html
    # the only inline scripts: the config blob (data) and the hashed import map
    assert re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", html) == [
        ' type="importmap"',
        ' type="application/json" id="page-config"',
    ]
    assert not re.search(r"""(?:src|href)=["']?(?:https?:)?//""", html), "loads something from elsewhere"
    config = page_config(html)
    assert config["scope"] == "/courier/" and config["service_worker"] == "/courier/sw.js"
    assert config["max_proof_bytes"] == 512 * 1024
    assert "token" not in json.dumps(config).lower().replace("session_expired", "")


def test_the_app_calls_only_the_public_api_and_every_call_is_documented(client):
    spec = client.get("/api/openapi.json").get_json()
    config = page_config(client.get("/courier/").get_data(as_text=True))
    assert config["api"] == API
    for name, path in API.items():
        # the one call outside the courier API: choosing a new password after an admin's reset
        assert path.startswith("/api/courier/v1/") or (name, path) == ("password", "/api/v1/account/password")
        assert path.replace("{id}", "{order_id}") in spec["paths"], path


def test_texts_and_fail_reasons_come_in_english_and_russian(client):
    en = page_config(client.get("/courier/", headers={"Accept-Language": "en"}).get_data(as_text=True))
    ru = page_config(client.get("/courier/", headers={"Accept-Language": "ru"}).get_data(as_text=True))
    # the fail screen reads the one label table of the codes (couriers/labels.py), as the dispatch screen does
    assert en["labels"]["fail_reason"]["client_absent"] == "Nobody at the door and the client does not answer"
    assert ru["labels"]["fail_reason"]["client_absent"] not in (
        "",
        en["labels"]["fail_reason"]["client_absent"],
    )
    assert set(en["strings"]) == set(ru["strings"])
    untranslated = [k for k in en["strings"] if en["strings"][k] == ru["strings"][k]]
    assert untranslated == []
    assert ru["locale"] == "ru" and en["locale"] == "en"


def test_the_manifest_makes_the_app_installable(client):
    manifest = json.loads(client.get("/courier/manifest.webmanifest").get_data(as_text=True))
    assert manifest["start_url"] == manifest["scope"] == "/courier/"
    assert manifest["display"] == "standalone" and manifest["short_name"]
    sizes = {icon["sizes"] for icon in manifest["icons"]}
    assert {"192x192", "512x512"} <= sizes
    for icon in manifest["icons"]:
        resp = client.get(icon["src"])
        assert resp.status_code == 200 and resp.mimetype == icon["type"]
    png = client.get("/courier/static/icon-512.png").data
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and int.from_bytes(png[16:20], "big") == 512


def test_the_service_worker_is_scoped_to_the_app_and_lists_a_shell_that_exists(client):
    resp = client.get("/courier/sw.js")
    assert resp.headers["Service-Worker-Allowed"] == "/courier/"
    assert resp.headers["Cache-Control"] == "no-cache"
    text = resp.get_data(as_text=True)
    shell = json.loads(re.match(r"const SHELL = (\[.*?\]);", text)[1])
    assert shell[0] == "/courier/"
    assert "/static/js/shared.js" in shell and "/static/vendor/socket.io/socket.io.min.js" in shell
    for url in shell:
        assert client.get(url).status_code == 200, url
    assert re.search(r'const VERSION = "[0-9a-f]{16}";', text)
