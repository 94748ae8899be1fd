"""Geocoding through geopy against a real local HTTP server that answers like Nominatim's /search."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from callcentre.models import GeocodeCacheEntry
from frontoffice.app import create_app
from tests.callcentre_fixtures import KREMLYOVSKAYA, FakeNominatim, load_zones
from tests.conftest import make_users


@pytest.fixture
def nominatim() -> Iterator[FakeNominatim]:
    """A running fake Nominatim."""
    fake = FakeNominatim()
    yield fake
    fake.stop()


def _app(database_url, tmp_path, **settings):
    app = create_app(
        {
            "database_url": database_url,
            "secret_key": "test-secret",
            "testing": True,
            "instance_path": tmp_path / "instance",
            **settings,
        }
    )
    load_zones(app)
    return app


@pytest.fixture
def geo_app(database_url, tmp_path, nominatim):
    """The app with geopy's Nominatim pointed at the fake server (0.5 s timeout)."""
    app = _app(
        database_url,
        tmp_path,
        geocoder="nominatim",
        geocoder_domain=nominatim.domain,
        geocoder_scheme="http",
        geocoder_timeout_s=0.5,
    )
    yield app
    app.extensions["frontoffice"].db.dispose()


def test_candidates_come_from_the_geocoder_with_their_zone_and_the_answer_is_cached(geo_app, nominatim):
    client = geo_app.test_client()
    op = make_users(geo_app)["operator"].headers
    resp = client.get("/api/v1/geocode", query_string={"q": "Kremlyovskaya 21"}, headers=op)
    assert resp.status_code == 200, resp.json
    out = resp.json
    assert out["cached"] is False and out["provider"] == f"nominatim:{nominatim.domain}"
    assert [c["text"] for c in out["candidates"]] == [k["display_name"] for k in KREMLYOVSKAYA]
    assert out["candidates"][0]["lat"] == 55.7963 and out["candidates"][0]["lon"] == 49.1088
    assert out["candidates"][0]["zone_id"] is not None and out["candidates"][1]["zone_id"] is None
    sent = nominatim.requests[0]
    assert sent["path"] == ["/search"] and sent["q"] == ["Kremlyovskaya 21"] and sent["format"] == ["json"]
    assert sent["countrycodes"] == ["ru"] and "viewbox" in sent

    again = client.get("/api/v1/geocode", query_string={"q": "  kremlyovskaya, 21 "}, headers=op)
    assert again.status_code == 200 and again.json["cached"] is True
    assert again.json["candidates"] == out["candidates"]
    assert len(nominatim.requests) == 1
    with geo_app.extensions["frontoffice"].db.reading() as s:
        assert s.scalar(select(func.count(GeocodeCacheEntry.id))) == 1


def test_a_failing_or_slow_geocoder_answers_503_and_caches_nothing(geo_app, nominatim):
    client = geo_app.test_client()
    op = make_users(geo_app)["operator"].headers
    nominatim.mode = "error"
    failed = client.get("/api/v1/geocode?q=Baumana 44", headers=op)
    assert failed.status_code == 503 and failed.mimetype == "application/problem+json"
    assert failed.json["title"] == "Geocoder unavailable" and "pin on the map" in failed.json["detail"]
    nominatim.mode = "slow"
    started = time.monotonic()
    slow = client.get("/api/v1/geocode?q=Pushkina 10", headers=op)
    assert slow.status_code == 503 and "GeocoderTimedOut" in slow.json["detail"]
    assert time.monotonic() - started < 1.4
    with geo_app.extensions["frontoffice"].db.reading() as s:
        assert s.scalar(select(func.count(GeocodeCacheEntry.id))) == 0


def test_without_a_configured_geocoder_the_operator_is_told_to_use_a_known_address_or_a_pin(
    database_url, tmp_path
):
    app = _app(database_url, tmp_path)
    try:
        client = app.test_client()
        op = make_users(app)["operator"].headers
        resp = client.get("/api/v1/geocode?q=Baumana 44", headers=op)
        assert resp.status_code == 503
        assert "No geocoder is configured" in resp.json["detail"] and resp.json["reason"]
        assert client.get("/api/v1/geocode?q=x", headers=op).status_code == 422
    finally:
        app.extensions["frontoffice"].db.dispose()
