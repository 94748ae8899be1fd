"""A write transaction waiting for another process's SQLite writer never freezes a gevent worker.

SQLite's busy handler sleeps inside the C call, up to 100 ms a step; in the one-threaded gevent
worker that stops every request, socket and read of the process for as long as the relay worker
(another process) holds the lock. ``frontoffice.db`` waits in Python instead, with cooperative
sleeps. The check runs in a child interpreter patched by gevent, as ``frontoffice run`` is."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

CHILD = textwrap.dedent(
    """
    from gevent import monkey
    monkey.patch_all()

    import json, sqlite3, subprocess, sys, time
    import gevent
    from sqlalchemy import text
    from frontoffice.db import make_engine

    url = "sqlite:///" + sys.argv[1]
    engine = make_engine(url)
    with engine.begin() as c:
        c.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)"))
    # Another process takes the writer's lock and keeps it 0.6 s (the relay worker's batch).
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sqlite3, sys, time\\n"
        "c = sqlite3.connect(sys.argv[1], isolation_level=None)\\n"
        "c.execute('BEGIN IMMEDIATE'); print('held', flush=True); time.sleep(0.6); c.execute('COMMIT')\\n"
    ), sys.argv[1]], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"

    ticks = []
    def ticker():
        start = time.monotonic()
        while time.monotonic() - start < 0.5:
            ticks.append(time.monotonic())
            gevent.sleep(0.01)

    def write():
        start = time.monotonic()
        with engine.execution_options(sqlite_immediate=True).begin() as c:
            c.execute(text("INSERT INTO t (v) VALUES ('after the other writer')"))
        return time.monotonic() - start

    t = gevent.spawn(ticker)
    w = gevent.spawn(write)
    gevent.joinall([t, w])
    holder.wait()
    with engine.connect() as c:
        rows = c.execute(text("SELECT count(*) FROM t")).scalar_one()
    print(json.dumps({"ticks": len(ticks), "waited": w.value, "rows": rows}))
    """
)


def test_waiting_for_another_process_s_writer_lets_the_rest_of_a_gevent_worker_run(tmp_path):
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(tmp_path / "db.sqlite3")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout.strip().splitlines()[-1])
    assert got["rows"] == 1  # the write went through once the lock was free
    assert got["waited"] >= 0.3  # it did wait for the other process
    # A ticker asking for 10 ms sleeps over 0.5 s ran on while the write waited (about 50 ticks;
    # frozen in the busy handler it gets one or two).
    assert got["ticks"] >= 20, got
