"""The README's first command: ``frontoffice demo`` brings a working service up on an empty folder."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
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


def test_the_demo_forks_its_worker_only_once_its_services_have_written(tmp_path):
    """``frontoffice demo`` starts its services (the fake ATOL Online and the registers pointed at
    it) in threads of the parent that the fork does not copy. SQLite keeps its lock table in the
    process: a worker forked while such a thread held the write lock would find it held for ever
    ("database is locked" on every write). So the server starts only after each service returned.
    Run under gevent in a child process, a service made slow, the serving replaced by a probe."""
    script = textwrap.dedent(
        """
        from gevent import monkey
        monkey.patch_all()
        import time
        import frontoffice.cli as cli
        from fiscal import demo as fiscal_demo

        returned = []
        real = fiscal_demo.start_fake_atol

        def slow_start(app):
            time.sleep(0.5)  # its thread's own hub: the parent's main thread runs on meanwhile
            out = real(app)
            returned.append(time.monotonic())
            return out

        fiscal_demo.start_fake_atol = slow_start

        def probe(*args, **kwargs):
            print("serving; services returned:", len(returned))

        cli._serve = probe
        cli.main(["demo", "--port", "8999"], standalone_mode=False)
        import os, sys
        sys.stdout.flush()
        os._exit(0)  # the services' thread serves on, as it would beside the server
        """
    )
    env = clean_env(instance_path=str(tmp_path / "instance"), secret_key="fork-test")
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=180
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "serving; services returned: 1" in done.stdout, done.stdout[-2000:]


def test_sqlite_keeps_a_write_lock_held_at_a_fork_in_the_child_for_ever(tmp_path):
    """Why the demo waits (above): the hazard itself, with the standard library's sqlite3."""
    script = textwrap.dedent(
        f"""
        import os, sqlite3, threading, time
        path = "{tmp_path / "fork.sqlite3"}"
        setup = sqlite3.connect(path, isolation_level=None)
        setup.execute("PRAGMA journal_mode=WAL"); setup.execute("CREATE TABLE t (x)"); setup.close()
        def writer():
            w = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            w.execute("BEGIN IMMEDIATE"); w.execute("INSERT INTO t VALUES (1)")
            time.sleep(0.6)
            w.execute("COMMIT"); w.close()
        thread = threading.Thread(target=writer); thread.start(); time.sleep(0.2)
        pid = os.fork()
        if pid == 0:
            time.sleep(1.0)  # the parent committed long ago
            child = sqlite3.connect(path, isolation_level=None, timeout=1)
            try:
                child.execute("BEGIN IMMEDIATE"); child.execute("COMMIT"); print("child wrote")
            except sqlite3.OperationalError as exc:
                print("child:", exc)
            os._exit(0)
        thread.join(); os.waitpid(pid, 0)
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "child: database is locked", done.stdout + done.stderr
