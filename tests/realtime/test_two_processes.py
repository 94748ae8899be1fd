"""Scale-out (DESIGN.md "Serving"): two ``frontoffice run`` processes share PostgreSQL and a Redis
message queue, so a manager connected to one hears an order taken through the other."""

from __future__ import annotations

import os
import queue
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import requests
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from frontoffice.app import create_app
from frontoffice.migrate import upgrade
from tests.conftest import Actor, load_demo_catalogue, make_users
from tests.server_processes import ServerProcess, clean_env, free_port, listen, place_order, stop_all

POSTGRES_URL = os.environ.get("FRONTOFFICE_TEST_POSTGRES_URL")
REDIS_URL = os.environ.get("FRONTOFFICE_TEST_REDIS_URL")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (POSTGRES_URL and REDIS_URL),
        reason="needs FRONTOFFICE_TEST_POSTGRES_URL and FRONTOFFICE_TEST_REDIS_URL (PostgreSQL and Redis)",
    ),
]


@pytest.fixture(scope="module")
def postgres_database() -> Iterator[str]:
    """A new, empty PostgreSQL database of this test's own, dropped afterwards."""
    yield from new_postgres_database()


def new_postgres_database() -> Iterator[str]:
    """Create a database, yield its URL, drop it."""
    assert POSTGRES_URL is not None
    url = make_url(POSTGRES_URL)
    name = f"fo_scaleout_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@dataclass
class Cluster:
    """Two server processes on one database and one message queue, and staff with tokens."""

    a: ServerProcess
    b: ServerProcess
    staff: dict[str, Actor]


def process_env(database_url: str, tmp_path) -> dict[str, str]:
    """The environment of a server process of these tests: the database, Redis on a channel of
    its own (parallel runs on the same Redis do not hear each other), one secret."""
    return clean_env(
        database_url=database_url,
        redis_url=REDIS_URL or "",
        socketio_channel=f"frontoffice-test-{uuid.uuid4().hex}",
        secret_key="scale-out-test",
        instance_path=str(tmp_path / "instance"),
    )


@pytest.fixture(scope="module")
def cluster(postgres_database, tmp_path_factory) -> Iterator[Cluster]:
    """The demo catalogue and a user of every role in the database, then two ``frontoffice run``
    processes on it."""
    tmp_path = tmp_path_factory.mktemp("two-processes")
    upgrade(postgres_database)
    setup = create_app({"database_url": postgres_database, "instance_path": tmp_path / "setup"})
    load_demo_catalogue(setup)
    staff = make_users(setup)
    setup.extensions["frontoffice"].db.dispose()
    env = process_env(postgres_database, tmp_path)
    servers: list[ServerProcess] = []
    try:
        for _ in range(2):
            port = free_port()
            servers.append(
                ServerProcess(["run", "--port", str(port), "--threads", "20"], port, env, tmp_path)
            )
        for server in servers:
            server.wait_ready()
        yield Cluster(servers[0], servers[1], staff)
    finally:
        stop_all(servers)


def test_a_manager_on_one_process_hears_an_order_taken_through_the_other(cluster):
    client, heard = listen(cluster.a.url, "/monitor", cluster.staff["manager"].token)
    try:
        order = place_order(cluster.b.url, cluster.staff["operator"].token)
        event = heard.get(timeout=10)
    finally:
        client.disconnect()
    assert event["order_id"] == order["id"]
    assert event["number"] == order["number"]
    assert event["branch_id"] == 1


def test_both_processes_serve_one_database(cluster):
    token = cluster.staff["operator"].token
    first = place_order(cluster.a.url, token)
    second = place_order(cluster.b.url, token)
    # One counter behind both: the second process numbers right after the first.
    assert int(second["number"].split("-")[1]) == int(first["number"].split("-")[1]) + 1
    resp = requests.get(
        f"{cluster.b.url}/api/v1/orders/{first['id']}", headers=cluster.staff["operator"].headers
    )
    assert resp.status_code == 200
    assert resp.json()["number"] == first["number"]


@pytest.fixture(scope="module")
def web_and_worker(tmp_path_factory) -> Iterator[tuple[ServerProcess, ServerProcess, dict[str, Actor]]]:
    """A web process that only journals (``FRONTOFFICE_RELAY=off``) and ``frontoffice worker`` beside
    it, on a database and a queue of their own (no other relay may take their rows)."""
    tmp_path = tmp_path_factory.mktemp("web-and-worker")
    for database in new_postgres_database():
        upgrade(database)
        setup = create_app({"database_url": database, "instance_path": tmp_path / "setup"})
        load_demo_catalogue(setup)
        staff = make_users(setup)
        setup.extensions["frontoffice"].db.dispose()
        env = process_env(database, tmp_path)
        port = free_port()
        web = ServerProcess(
            ["run", "--port", str(port), "--threads", "20"],
            port,
            {**env, "FRONTOFFICE_RELAY": "off"},
            tmp_path,
        )
        worker = ServerProcess(["worker"], 0, env, tmp_path, name="worker")
        try:
            web.wait_ready()
            yield web, worker, staff
        finally:
            stop_all([web, worker])


def test_the_worker_relays_an_order_to_a_manager_on_a_web_process_through_redis(web_and_worker):
    web, worker, staff = web_and_worker
    client, heard = listen(web.url, "/monitor", staff["manager"].token)
    try:
        order = place_order(web.url, staff["operator"].token)
        try:
            event = heard.get(timeout=15)
        except queue.Empty:
            pytest.fail(f"no order_placed heard; the worker said:\n{worker.output()[-3000:]}")
    finally:
        client.disconnect()
    assert event["order_id"] == order["id"] and event["number"] == order["number"]
    assert worker.proc.poll() is None, worker.output()
