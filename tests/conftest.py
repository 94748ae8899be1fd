"""Shared fixtures: an app on SQLite and (when FRONTOFFICE_TEST_POSTGRES_URL is set) on PostgreSQL,
users of every role with tokens, the demo catalogue, a live server for socket and browser tests,
and the helpers of tests/helpers.py (``auth``, ``orders``)."""

from __future__ import annotations

import os
import shutil
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from frontoffice.app import create_app, load_all_models
from frontoffice.db import Base
from frontoffice.migrate import upgrade
from tests.helpers import AuthActions, OrderActions

# Apps the tests build deliver events in the committing thread (server processes get a clean env).
os.environ.setdefault("FRONTOFFICE_RELAY", "inline")
POSTGRES_URL = os.environ.get("FRONTOFFICE_TEST_POSTGRES_URL")
REDIS_URL = os.environ.get("FRONTOFFICE_TEST_REDIS_URL")
BACKENDS = ["sqlite"] + (["postgresql"] if POSTGRES_URL else [])
ROLES = ("admin", "manager", "operator", "backoffice", "courier")
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


def pytest_report_header(config):
    """Say which databases the integration tests run against."""
    pg = (
        f"PostgreSQL at {make_url(POSTGRES_URL).render_as_string()}"
        if POSTGRES_URL
        else "PostgreSQL: not set"
    )
    return [f"database backends: {', '.join(BACKENDS)} ({pg})", f"redis: {REDIS_URL or 'not set'}"]


class _SqliteTemplate:
    """A migrated SQLite file, copied for each test (much faster than migrating each time)."""

    def __init__(self, root: Path):
        self.template = root / "template.sqlite3"
        upgrade(f"sqlite:///{self.template}")

    def fresh(self, tmp: Path) -> str:
        target = tmp / "db.sqlite3"
        shutil.copyfile(self.template, target)
        return f"sqlite:///{target}"


class _PostgresDatabase:
    """A database of this test session's own on the PostgreSQL server, truncated between tests."""

    def __init__(self, base_url: str):
        url = make_url(base_url)
        self.name = f"fo_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        self.admin = create_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
        with self.admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{self.name}"'))
        self.url = url.set(database=self.name).render_as_string(hide_password=False)
        upgrade(self.url)
        load_all_models()
        self.engine = create_engine(self.url, poolclass=NullPool)
        # What the migrations seed (the catalogue's delivery position), put back after every
        # truncation so each test starts from the database SQLite's migrated template holds.
        with self.engine.connect() as c:
            self.seeded = [
                (t, [dict(r) for r in rows])
                for t in Base.metadata.sorted_tables
                if (rows := c.execute(t.select()).mappings().all())
            ]

    def fresh(self) -> str:
        tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        with self.engine.begin() as c:
            c.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
            for table, rows in self.seeded:
                c.execute(table.insert(), rows)
                if "id" in table.c:
                    c.execute(
                        text(
                            f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), max(id)) FROM \"{table.name}\""
                        )
                    )
        return self.url

    def drop(self) -> None:
        self.engine.dispose()
        with self.admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
        self.admin.dispose()


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory) -> _SqliteTemplate:
    return _SqliteTemplate(tmp_path_factory.mktemp("sqlite-template"))


@pytest.fixture(scope="session")
def _postgres() -> Iterator[_PostgresDatabase | None]:
    if not POSTGRES_URL:
        yield None
        return
    pg = _PostgresDatabase(POSTGRES_URL)
    yield pg
    pg.drop()


def _make_app(url: str, tmp_path: Path, **extra):
    config = {
        "database_url": url,
        "secret_key": "test-secret",
        "testing": True,
        "instance_path": tmp_path / "instance",
        # Events are delivered in the committing thread right after the commit, as the tests expect.
        "relay": "inline",
        # No background service (the AMI listener …): a test starts what it needs itself.
        "background_services": False,
        **extra,
    }
    return create_app(config)


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    """The database backend of this test run: ``sqlite`` or ``postgresql``."""
    return request.param


@pytest.fixture
def database_url(backend, tmp_path, _sqlite_template, _postgres) -> str:
    """A fresh, migrated, empty database on the chosen backend."""
    if backend == "sqlite":
        return _sqlite_template.fresh(tmp_path)
    assert _postgres is not None
    return _postgres.fresh()


@pytest.fixture
def app(database_url, tmp_path):
    """The app on a fresh database (SQLite, and PostgreSQL when configured)."""
    application = _make_app(database_url, tmp_path)
    yield application
    application.extensions["frontoffice"].db.dispose()


@pytest.fixture
def sqlite_app(tmp_path, _sqlite_template):
    """The app on a fresh SQLite database only (browser and socket tests)."""
    application = _make_app(_sqlite_template.fresh(tmp_path), tmp_path)
    yield application
    application.extensions["frontoffice"].db.dispose()


@pytest.fixture
def kernel(app):
    """The app's kernel (settings, db, bus, socketio)."""
    return app.extensions["frontoffice"]


@pytest.fixture
def db(kernel):
    """The app's database."""
    return kernel.db


@pytest.fixture
def client(app):
    """A Flask test client."""
    return app.test_client()


@pytest.fixture
def auth(client) -> AuthActions:
    """Log the test client in and out through the pages: ``auth.login("manager")``, ``auth.csrf(page)``."""
    return AuthActions(client)


@pytest.fixture
def orders(kernel) -> OrderActions:
    """Place and move orders through the orders service: ``orders.place(...)``, ``orders.move(id, ...)``."""
    return OrderActions(kernel)


@dataclass
class Actor:
    """A test user with a bearer token."""

    id: int
    username: str
    password: str
    role: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        """Authorization header of this user."""
        return {"Authorization": f"Bearer {self.token}"}


def make_users(app) -> dict[str, Actor]:
    """One user of every role, each with a live token."""
    from frontoffice.auth import create_user, issue_token

    db = app.extensions["frontoffice"].db
    out = {}
    with db.unit_of_work() as s:
        for role in ROLES:
            user = create_user(
                s,
                f"test-{role}",
                f"pw-{role}",
                role,
                f"Test {role.title()}",
                hash_method="pbkdf2:sha256:1000",
                strength_checked=False,  # the test users keep short passwords (pw-<role>)
            )
            out[role] = Actor(user.id, user.username, f"pw-{role}", role, issue_token(s, user, "tests"))
    return out


@pytest.fixture
def users(app) -> dict[str, Actor]:
    """One user of every role, with tokens."""
    return make_users(app)


def load_demo_catalogue(app) -> None:
    """The demo menu and branches."""
    import nomenclature.demo
    import orders.demo

    kernel = app.extensions["frontoffice"]
    with kernel.db.unit_of_work() as s:
        nomenclature.demo.load(s, kernel)
    with kernel.db.unit_of_work() as s:
        orders.demo.load(s, kernel)


@pytest.fixture
def catalogue(app) -> None:
    """The demo menu and the demo branches (ids 1 and 2)."""
    load_demo_catalogue(app)


def order_body(**overrides) -> dict:
    """A valid order request for the demo catalogue."""
    body = {
        "branch_id": 1,
        "kind": "delivery",
        "client": {"phone": "+7 912 345-67-89", "name": "Ivan"},
        "address": {"text": "Kazan, Kremlyovskaya St, 21, apt 5", "lat": 55.7963, "lon": 49.1088},
        "payment": {"kind": "cash", "change_from": "5000.00"},
        "lines": [
            {"sku": "PZ-MARG", "quantity": 1},
            {"sku": "DR-COLA05", "quantity": 2},
            {"sku": "SU-PHIL", "quantity": 1},
        ],
    }
    body.update(overrides)
    return body


class LiveServer:
    """The app served by Werkzeug in a daemon thread on 127.0.0.1 and a free port."""

    def __init__(self, app):
        from werkzeug.serving import make_server

        self.app = app
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.port = self.server.port
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(5)


@pytest.fixture
def live_server(sqlite_app) -> Iterator[LiveServer]:
    """A live server of a fresh SQLite app."""
    server = LiveServer(sqlite_app)
    yield server
    server.stop()


@pytest.fixture
def artifacts(request) -> Path:
    """A folder for this test's screenshots (test-artifacts/<test name>/)."""
    folder = ARTIFACTS / request.node.name.replace("/", "_").replace("[", "-").replace("]", "")
    folder.mkdir(parents=True, exist_ok=True)
    return folder
