"""Who copies SQLite's WAL back into the database: every committing connection (SQLite's default),
or, with the relay off, ``frontoffice worker`` alone (``Database.checkpoint``, at most once a second),
so that the web processes never stall on a checkpoint."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from frontoffice.cli import _every
from frontoffice.db import Database, make_engine
from tests.conftest import _make_app


def _autocheckpoint(db: Database) -> int:
    with db.engine.connect() as conn:
        return conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar_one()


@pytest.mark.parametrize(("relay", "pages"), [("off", 0), ("thread", 1000), ("inline", 1000)])
def test_web_processes_with_the_relay_off_leave_the_checkpoint_to_the_worker(tmp_path, relay, pages):
    app = _make_app(f"sqlite:///{tmp_path / 'app.sqlite3'}", tmp_path, relay=relay)
    db = app.extensions["frontoffice"].db
    try:
        assert _autocheckpoint(db) == pages
    finally:
        db.dispose()


def test_a_checkpoint_copies_what_the_wal_holds(tmp_path):
    path = tmp_path / "wal.sqlite3"
    db = Database(make_engine(f"sqlite:///{path}", wal_autocheckpoint=0))
    with db.unit_of_work() as s:
        s.execute(text("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)"))
    for i in range(50):
        with db.unit_of_work() as s:
            s.execute(text("INSERT INTO notes (body) VALUES (:b)"), {"b": "x" * 2000 + str(i)})
    last = b"x" * 2000 + b"49"
    assert (tmp_path / "wal.sqlite3-wal").stat().st_size > 50 * 2000
    assert last not in path.read_bytes()  # nothing was copied back as the rows were committed
    busy, in_wal, copied = db.checkpoint()
    assert busy == 0 and in_wal > 50 and copied == in_wal
    assert last in path.read_bytes()  # what the WAL held is in the database file itself now
    db.dispose()


def test_the_worker_s_pump_runs_at_most_once_an_interval():
    calls = []
    pump = _every(3600, lambda: calls.append(1) or len(calls))
    assert [pump(), pump(), pump()] == [1, None, None]
    assert calls == [1]
