"""The README's first command: ``frontoffice demo`` brings a working service up on an empty folder."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator

import pytest
import requests

from frontoffice.cli import DEMO_USERS
from tests.server_processes import ServerProcess, clean_env, free_port, listen, place_order, staff_token

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Iterator[ServerProcess]:
    """``frontoffice demo`` on an empty instance folder (SQLite) and a free port."""
    folder = tmp_path_factory.mktemp("demo")
    port = free_port()
    env = clean_env(instance_path=str(folder / "instance"))
    server = ServerProcess(["demo", "--port", str(port)], port, env, folder, name="demo")
    try:
        server.wait_ready(60)
        yield server
    finally:
        server.stop()


def test_demo_prints_its_url_and_the_demo_logins(demo):
    deadline = time.monotonic() + 5
    while "Demo logins" not in demo.output() and time.monotonic() < deadline:
        time.sleep(0.1)
    out = demo.output()
    assert f"http://127.0.0.1:{demo.port}/" in out
    for username, password, role, _name in DEMO_USERS:
        assert re.search(rf"{username}\s+/\s+{password}\s+{role}", out), out


def test_demo_answers_health_and_login(demo):
    health = requests.get(f"{demo.url}/healthz", timeout=10)
    assert health.status_code == 200
    assert health.json()["database"] == "sqlite"
    login = requests.get(f"{demo.url}/login", timeout=10)
    assert login.status_code == 200
    assert 'name="password"' in login.text


def test_an_order_placed_through_the_api_reaches_a_connected_socket(demo):
    client, heard = listen(demo.url, "/callcentre", staff_token(demo.url, "manager", "manager"))
    try:
        order = place_order(demo.url, staff_token(demo.url, "operator", "operator"))
        event = heard.get(timeout=10)
    finally:
        client.disconnect()
    assert event["order_id"] == order["id"]
    assert event["number"] == order["number"]


def test_the_served_process_writes_json_access_and_app_logs_with_the_request_id(demo):
    resp = requests.get(f"{demo.url}/api/v1/orders", headers={"X-Request-ID": "demo-trace-1"}, timeout=10)
    assert resp.status_code == 401 and resp.headers["X-Request-ID"] == "demo-trace-1"
    assert resp.json()["request_id"] == "demo-trace-1"
    deadline = time.monotonic() + 5
    while "demo-trace-1" not in demo.output() and time.monotonic() < deadline:
        time.sleep(0.1)
    lines = [json.loads(line) for line in demo.output().splitlines() if "demo-trace-1" in line]
    access = [line for line in lines if line.get("logger") == "gunicorn.access"]
    assert access and access[0]["path"] == "/api/v1/orders" and access[0]["status"] == 401
    # the app's own lines are JSON too (the migration's, written at start-up)
    assert any(line.startswith('{"time"') and '"alembic' in line for line in demo.output().splitlines())


def test_the_demo_starts_without_a_traceback(demo):
    # e.g. a thread of the parent's app (the rate limiter's expiry timer) ending in the forked worker
    requests.get(f"{demo.url}/healthz", timeout=10)
    time.sleep(0.5)
    assert "Traceback" not in demo.output(), demo.output()[-3000:]
