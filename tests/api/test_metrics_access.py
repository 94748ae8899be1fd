"""Who may scrape ``/metrics``: by default only a scraper on this host that no proxy forwarded;
with a token configured, whoever sends it; with ``metrics_public``, everyone."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import _make_app

OUTSIDER = {"REMOTE_ADDR": "203.0.113.7"}


@pytest.fixture
def configured(tmp_path, _sqlite_template) -> Iterator:
    """A maker of apps on a fresh SQLite database with the given settings; each disposed after."""
    made = []

    def make(**settings):
        made.append(_make_app(_sqlite_template.fresh(tmp_path), tmp_path, **settings))
        return made[-1].test_client()

    yield make
    for app in made:
        app.extensions["frontoffice"].db.dispose()


def test_by_default_a_scraper_on_this_host_reads_the_metrics(configured):
    client = configured()
    for address in ("127.0.0.1", "::1", "::ffff:127.0.0.1"):
        resp = client.get("/metrics", environ_base={"REMOTE_ADDR": address})
        assert resp.status_code == 200 and resp.headers["Content-Type"].startswith(
            "text/plain; version=0.0.4"
        )


def test_by_default_anyone_else_is_refused(configured):
    client = configured()
    resp = client.get("/metrics", environ_base=OUTSIDER)
    assert resp.status_code == 403 and resp.mimetype == "application/problem+json"
    assert "FRONTOFFICE_METRICS_TOKEN" in resp.json["detail"]


def test_a_request_forwarded_by_a_proxy_on_this_host_is_an_outsiders(configured):
    client = configured()
    for header in ("X-Forwarded-For", "X-Real-IP", "Forwarded"):
        assert client.get("/metrics", headers={header: "203.0.113.7"}).status_code == 403


def test_with_a_token_configured_every_scraper_must_send_it(configured):
    client = configured(metrics_token="s3cret")
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    ok = client.get("/metrics", headers={"Authorization": "Bearer s3cret"}, environ_base=OUTSIDER)
    assert ok.status_code == 200 and "frontoffice_http_requests_total" in ok.get_data(as_text=True)


def test_public_metrics_are_served_to_anyone(configured):
    client = configured(metrics_public=True)
    assert client.get("/metrics", environ_base=OUTSIDER).status_code == 200
