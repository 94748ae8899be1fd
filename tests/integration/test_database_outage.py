"""A database that stalls, refuses or is locked (issue 14, item 4): requests, ``/healthz`` included,
answer 503 problem+json with ``Retry-After`` within a few seconds instead of hanging or failing with
500, and the service recovers without a restart once the database is back. PostgreSQL is reached
through a switchable TCP proxy (tests/db_proxy.py); the real server is never touched."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import requests
from sqlalchemy.engine import make_url

from frontoffice.errors import PROBLEM_MIME
from tests.conftest import (
    Actor,
    LiveServer,
    _make_app,
    load_demo_catalogue,
    make_users,
    order_body,
)
from tests.db_proxy import SwitchableProxy

#: How fast a failing database must be answered in these tests (their timeouts are short).
BOUND_S = 5.0
RETRY_AFTER_S = 3
SHORT_TIMEOUTS = {
    "db_connect_timeout_s": 2,
    "db_statement_timeout_s": 0.5,
    "db_pool_timeout_s": 1,
    "health_timeout_s": 1,
    "db_retry_after_s": RETRY_AFTER_S,
}


@dataclass
class Service:
    """A live server of the app, and its operator."""

    url: str
    operator: Actor

    def timed(self, method: str, path: str, **kwargs) -> tuple[requests.Response, float]:
        headers = {**self.operator.headers, **kwargs.pop("headers", {})}
        started = time.monotonic()
        resp = requests.request(method, f"{self.url}{path}", headers=headers, timeout=30, **kwargs)
        return resp, time.monotonic() - started

    def place(self, key: str, comment: str) -> tuple[requests.Response, float]:
        return self.timed(
            "POST", "/api/v1/orders", json=order_body(comment=comment), headers={"Idempotency-Key": key}
        )


def assert_unavailable_quickly(resp: requests.Response, elapsed: float) -> None:
    assert resp.status_code == 503, resp.text
    assert resp.headers["Content-Type"] == PROBLEM_MIME
    assert resp.headers["Retry-After"] == str(RETRY_AFTER_S)
    assert elapsed < BOUND_S, f"answered after {elapsed:.1f} s"


def wait_healthy(service: Service, within_s: float = 15) -> None:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if requests.get(f"{service.url}/healthz", timeout=10).status_code == 200:
            return
        time.sleep(0.2)
    raise AssertionError("the service did not recover")


@pytest.fixture
def proxy(_postgres) -> Iterator[tuple[SwitchableProxy, str]]:
    """A proxy in front of this session's PostgreSQL database, and the URL through it."""
    if _postgres is None:
        pytest.skip("needs FRONTOFFICE_TEST_POSTGRES_URL (PostgreSQL)")
    url = make_url(_postgres.fresh())
    proxy = SwitchableProxy((url.host or "127.0.0.1", url.port or 5432))
    yield proxy, url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    proxy.close()


@pytest.fixture
def service(proxy, tmp_path) -> Iterator[Service]:
    """The app on the proxied database with short timeouts, served on a free port."""
    app = _make_app(proxy[1], tmp_path, **SHORT_TIMEOUTS)
    load_demo_catalogue(app)
    server = LiveServer(app)
    yield Service(server.url, make_users(app)["operator"])
    server.stop()
    app.extensions["frontoffice"].db.dispose()


@pytest.mark.parametrize("failure", ["stall", "refuse"])
def test_a_failing_postgresql_answers_503_quickly_and_recovers_without_a_restart(proxy, service, failure):
    switch, _url = proxy
    assert service.place("before", "before")[0].status_code == 201  # the pool holds live connections
    getattr(switch, failure)()

    health = requests.get(f"{service.url}/healthz", timeout=30)
    assert health.status_code == 503 and health.headers["Retry-After"] == str(RETRY_AFTER_S)
    assert_unavailable_quickly(*service.timed("GET", "/api/v1/orders"))
    assert_unavailable_quickly(*service.place("during", "during"))

    switch.pass_through()
    wait_healthy(service)
    listed, _ = service.timed("GET", "/api/v1/orders")
    assert listed.status_code == 200
    retried, _ = service.place("during", "during")
    assert retried.status_code == 201, retried.text
    comments = [o["comment"] for o in service.timed("GET", "/api/v1/orders")[0].json()["items"]]
    assert sorted(comments) == ["before", "during"]


def test_healthz_answers_within_its_own_timeout_while_postgresql_stalls(proxy, service):
    switch, _url = proxy
    switch.stall()
    started = time.monotonic()
    health = requests.get(f"{service.url}/healthz", timeout=30)
    elapsed = time.monotonic() - started
    assert health.status_code == 503 and "did not answer within 1 s" in health.json()["detail"]
    assert elapsed < SHORT_TIMEOUTS["health_timeout_s"] + 0.5
    switch.pass_through()
    wait_healthy(service)


@pytest.fixture
def sqlite_service(tmp_path, _sqlite_template) -> Iterator[tuple[Service, str]]:
    """The app on a fresh SQLite file whose writers wait 300 ms for each other."""
    url = _sqlite_template.fresh(tmp_path)
    app = _make_app(url, tmp_path, sqlite_busy_timeout_ms=300, db_retry_after_s=RETRY_AFTER_S)
    load_demo_catalogue(app)
    server = LiveServer(app)
    yield Service(server.url, make_users(app)["operator"]), make_url(url).database
    server.stop()
    app.extensions["frontoffice"].db.dispose()


def test_a_sqlite_file_locked_by_another_process_answers_503_and_then_serves(sqlite_service):
    service, path = sqlite_service
    other = sqlite3.connect(path, isolation_level=None)  # another program writing to the file
    other.execute("BEGIN IMMEDIATE")
    try:
        assert_unavailable_quickly(*service.place("locked", "locked"))
    finally:
        other.execute("ROLLBACK")
        other.close()
    resp, _ = service.place("locked", "locked")
    assert resp.status_code == 201, resp.text
    assert json.loads(resp.text)["comment"] == "locked"


def test_readyz_answers_503_problem_json_while_postgresql_is_down_and_200_once_it_is_back(proxy, service):
    switch, _url = proxy
    assert requests.get(f"{service.url}/readyz", timeout=10).status_code == 200
    switch.refuse()
    ready = requests.get(f"{service.url}/readyz", timeout=30)
    assert ready.status_code == 503 and ready.headers["Content-Type"] == PROBLEM_MIME
    assert ready.headers["Retry-After"] == str(RETRY_AFTER_S)
    body = ready.json()
    assert body["checks"] == {"database": "failing"}
    assert body["request_id"] == ready.headers["X-Request-ID"]
    switch.pass_through()
    wait_healthy(service)
    assert requests.get(f"{service.url}/readyz", timeout=10).status_code == 200
