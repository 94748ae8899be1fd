"""Several relays on one database: on PostgreSQL they share the rows (``FOR UPDATE SKIP LOCKED``)
and never deliver one row twice, at the same time or at all; on SQLite one holds the lease."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import pytest

from frontoffice.db import publish
from frontoffice.outbox.jobs import release_lease
from tests.conftest import POSTGRES_URL, _make_app


@dataclass(frozen=True)
class Pinged:
    """A test event."""

    n: int


class Recorder:
    """A projector shared by every relay: notes who applied which event, and any overlap."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.in_flight: set[int] = set()
        self.overlaps: list[int] = []
        self.applied: list[tuple[int, str]] = []

    def projector(self, name: str):
        def apply(session, event: Pinged) -> None:
            with self.lock:
                if event.n in self.in_flight:
                    self.overlaps.append(event.n)
                self.in_flight.add(event.n)
            time.sleep(0.002)  # hold the row a moment, as real bookkeeping does
            with self.lock:
                self.in_flight.discard(event.n)
                self.applied.append((event.n, name))

        apply.__qualname__ = "Recorder.apply"  # one consumer, whichever process runs it
        return apply


def two_relays(url: str, tmp_path, recorder: Recorder):
    apps = [_make_app(url, tmp_path / f"p{i}", relay="off") for i in (1, 2)]
    for i, app in enumerate(apps, 1):
        app.extensions["frontoffice"].bus.project(Pinged, recorder.projector(f"relay-{i}"))
    return apps


@pytest.mark.skipif(
    not POSTGRES_URL, reason="FRONTOFFICE_TEST_POSTGRES_URL is not set: no PostgreSQL to test on"
)
def test_two_workers_on_postgresql_never_deliver_one_row_twice(_postgres, tmp_path):
    recorder = Recorder()
    apps = two_relays(_postgres.fresh(), tmp_path, recorder)
    kernels = [a.extensions["frontoffice"] for a in apps]
    for relay in (k.relay for k in kernels):
        relay.batch_size = 7  # small batches: the workers interleave
    total = 600
    for start in range(0, total, 20):
        with kernels[0].db.unit_of_work() as s:
            for n in range(start, start + 20):
                publish(s, Pinged(n))
    barrier = threading.Barrier(2)

    def work(relay) -> None:
        barrier.wait()
        relay.drain()

    threads = [threading.Thread(target=work, args=(k.relay,)) for k in kernels]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert recorder.overlaps == []
        delivered = sorted(n for n, _who in recorder.applied)
        assert delivered == list(range(total))  # every row once, none twice
        assert {who for _n, who in recorder.applied} == {"relay-1", "relay-2"}  # both did work
        assert kernels[0].relay.status().done == total
    finally:
        for k in kernels:
            k.db.dispose()


def test_on_sqlite_one_relay_holds_the_lease_and_the_other_waits(database_url, backend, tmp_path):
    if backend != "sqlite":
        pytest.skip("the lease is SQLite's way; PostgreSQL shares the rows")
    recorder = Recorder()
    apps = two_relays(database_url, tmp_path, recorder)
    first, second = (a.extensions["frontoffice"].relay for a in apps)
    try:
        assert first._may_deliver()
        assert not second._may_deliver()
        with apps[0].extensions["frontoffice"].db.unit_of_work() as s:
            publish(s, Pinged(1))
        assert second.run_round() == 0  # not the owner: delivers nothing
        assert first.run_round() == 1
        # A stopping worker gives the lease up: the other may take over at once.
        release_lease(first.db, first.owner)
        assert second._may_deliver()
        assert recorder.applied == [(1, "relay-1")]
    finally:
        for a in apps:
            a.extensions["frontoffice"].db.dispose()
