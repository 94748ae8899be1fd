"""The relay: delivers the outbox's rows, in id order, to the projectors and then the handlers.

For each batch of due rows it opens ONE write transaction that claims the rows (``FOR UPDATE SKIP
LOCKED`` on PostgreSQL, so several workers share the work and never hold the same row; on SQLite
the writer lock and a lease make one process the owner), runs every projector that has not yet
applied the event (``outbox_processed`` remembers who applied what, so a replay changes nothing),
and marks the rows done. Handlers (socket relays) hear the events after that commit. If the batch
fails, its rows are delivered one by one, so one bad row does not hold up the others; a row that
fails is retried with exponential backoff and, after ``relay_max_attempts`` tries, parked.

Modes (``FRONTOFFICE_RELAY``): ``thread`` runs :meth:`Relay.run_forever` in a daemon thread of the
process, woken right after each commit that journaled events; ``inline`` delivers in the committing
thread right after the commit (tests); ``off`` only journals (``frontoffice worker`` delivers).
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import logging
import threading
import time
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session

from frontoffice.db import Database, execute_fast, insert_rows, utcnow
from frontoffice.events import EventBus, subscriber_name
from frontoffice.outbox.codec import decode, encode, resolve, topic_of
from frontoffice.outbox.jobs import Jobs, process_name, release_lease, take_lease
from frontoffice.outbox.models import OutboxEvent, OutboxProcessed, OutboxState, ScheduledJob
from frontoffice.settings import Settings

log = logging.getLogger(__name__)

_OUTBOX = OutboxEvent.__table__
_PROCESSED = OutboxProcessed.__table__
_PENDING = select(_OUTBOX.c.id, _OUTBOX.c.topic, _OUTBOX.c.payload).where(
    _OUTBOX.c.state == OutboxState.PENDING
)


@functools.cache
def _claim_due(dialect: str) -> Any:
    """The due pending rows, oldest first, a batch of them (skipping rows another worker holds)."""
    q = _PENDING.where(_OUTBOX.c.next_attempt_at <= bindparam("now")).order_by(_OUTBOX.c.id)
    q = q.limit(bindparam("batch"))
    return q.with_for_update(skip_locked=True) if dialect == "postgresql" else q


@functools.cache
def _claim_one(dialect: str) -> Any:
    q = _PENDING.where(_OUTBOX.c.id == bindparam("row_id"))
    return q.with_for_update(skip_locked=True) if dialect == "postgresql" else q


_MARK_DONE = (
    update(_OUTBOX)
    .where(_OUTBOX.c.id.in_(bindparam("ids", expanding=True)))
    .values(
        state=OutboxState.DONE,
        delivered_at=bindparam("now"),
        attempts=_OUTBOX.c.attempts + 1,
        last_error=None,
    )
)
#: How long the relay's lease on SQLite lasts; it is renewed when less than half is left.
LEASE_S = 10.0
#: How often an idle relay reads the periodic jobs' next runs.
JOBS_EVERY_S = 5.0
_COUNTER = itertools.count(1)
#: The outbox id of the event a projector is applying (see :func:`current_event_id`).
_CURRENT_EVENT: ContextVar[int | None] = ContextVar("frontoffice_outbox_event", default=None)


def current_event_id() -> int | None:
    """Inside a projector the relay runs: the outbox id of its event (stable across retries and
    replays: what a webhook carries for the receiver's dedupe). None elsewhere."""
    return _CURRENT_EVENT.get()


@dataclass(frozen=True)
class RelayPolicy:
    """How the relay retries: the n-th failed try waits ``backoff_s * 2**(n-1)`` (at most
    ``backoff_max_s``); the ``max_attempts``-th parks the row."""

    max_attempts: int = 8
    backoff_s: float = 2.0
    backoff_max_s: float = 600.0

    def delay(self, attempts: int) -> float:
        """Seconds to wait after the ``attempts``-th failed try."""
        return min(self.backoff_s * 2 ** max(attempts - 1, 0), self.backoff_max_s)


@dataclass(frozen=True)
class OutboxStatus:
    """How the outbox stands."""

    pending: int
    due: int
    done: int
    parked: int
    oldest_pending_s: float | None
    jobs: list[dict[str, Any]]


class Relay:
    """Journals a commit's events and delivers the journal (see the module's docstring)."""

    def __init__(self, db: Database, bus: EventBus, settings: Settings, jobs: Jobs | None = None):
        self.db = db
        self.bus = bus
        self.jobs = jobs or Jobs()
        self.mode = settings.relay
        self.policy = RelayPolicy(
            settings.relay_max_attempts, settings.relay_backoff_s, settings.relay_backoff_max_s
        )
        self.poll_s = settings.relay_poll_s
        # On SQLite a batch holds the one writer's lock while its projectors run: keep it short so
        # intake requests wait little (4 rows, ~1.5 ms: intake's p99 was lower and its rate no lower
        # than with 8 or 32); PostgreSQL locks only the batch's rows.
        self.batch_size = 4 if db.dialect == "sqlite" else 100
        # … and between two batches let the others in: a writer of another process (the web, when
        # the relay is the worker) waits for SQLite's lock in short sleeps (frontoffice.db), and a
        # relay that took the lock again at once would win it every time while intake waited.
        self.yield_s = 0.005 if db.dialect == "sqlite" and self.mode != "inline" else 0.0
        self.owner = f"{process_name()}:{next(_COUNTER)}"[:100]
        self._wake = threading.Event()
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None
        self._local = threading.local()
        self._lease_until = 0.0
        self._jobs_at = 0.0
        self._thread_lock = threading.Lock()
        #: Called after each round's deliveries in the relay's loop (thread or worker), never inline:
        #: work that leaves the process (webhook sends) and must not run in a request.
        self.pumps: list[Callable[[], object]] = []
        db.before_commit(self.journal)
        db.on_commit(self.after_commit)

    # --- the request side: one INSERT in the transaction, a wake-up after it ------------------

    def journal(self, session: Session, events: list[Any]) -> None:
        """Write the journaled events of a commit to the outbox, in its transaction: one INSERT."""
        now = utcnow()
        rows = [
            {
                "topic": topic_of(type(ev)),
                "payload": encode(ev),
                "created_at": now,
                "state": OutboxState.PENDING,
                "attempts": 0,
                "next_attempt_at": now,
            }
            for ev in events
            if not self.bus.is_live(ev)
        ]
        if rows:
            insert_rows(session, _OUTBOX, rows, returning=False)

    def after_commit(self, events: list[Any]) -> None:
        """After a commit: the nudges and the live-only events' handlers now; the journal's relay woken."""
        self.bus.nudge_all(events)
        live = [ev for ev in events if self.bus.is_live(ev)]
        if live:
            self.bus.handle(live)
        if len(live) < len(events):
            self.notify()

    def notify(self) -> None:
        """There is something to deliver: deliver it now (inline) or wake the thread."""
        if self.mode == "inline":
            self.drain()
        else:
            if self.mode == "thread":
                self.start()
            self._wake.set()  # a worker's loop (mode off) waits on it too

    # --- delivery ------------------------------------------------------------------------------

    def drain(self) -> int:
        """Deliver every due row now, in this thread; how many rows were handled."""
        if getattr(self._local, "draining", False):
            return 0  # a projector's own events: the running drain picks them up
        self._local.draining = True
        try:
            total = 0
            while True:
                started = time.monotonic()
                handled = self.deliver_batch()
                total += handled
                if handled < self.batch_size:  # none left (what commits meanwhile notifies again)
                    return total
                if self.yield_s:
                    # As long as the batch held the lock (at least yield_s, at most 10 of it): under
                    # load the relay keeps about half the writer's time and intake the other half.
                    held = time.monotonic() - started
                    time.sleep(min(max(held, self.yield_s), 10 * self.yield_s))
        finally:
            self._local.draining = False

    def deliver_batch(self, now: dt.datetime | None = None) -> int:
        """Deliver one batch of due rows; how many rows it handled (0: nothing due)."""
        now = now or utcnow()
        claimed: list[int] = []
        try:
            with self.db.unit_of_work() as s:
                rows = self._claim(s, now)
                claimed = [r.id for r in rows]
                if not rows:
                    return 0
                events = self._apply(s, rows)
                self._mark_done(s, claimed, now)
        except Exception as exc:
            if not claimed:
                raise
            if len(claimed) == 1:
                log.exception("outbox row %s failed", claimed[0])
                self._failed(claimed[0], exc)
                return 1
            log.warning("outbox batch %s..%s failed; delivering its rows one by one", claimed[0], claimed[-1])
            return sum(self._deliver_one(row_id, now) for row_id in claimed)
        self.bus.handle(events)
        return len(claimed)

    def _deliver_one(self, row_id: int, now: dt.datetime) -> int:
        try:
            with self.db.unit_of_work() as s:
                rows = self._claim(s, now, row_id)
                if not rows:
                    return 0
                events = self._apply(s, rows)
                self._mark_done(s, [row_id], now)
        except Exception as exc:
            log.exception("outbox row %s failed", row_id)
            self._failed(row_id, exc)
            return 1
        self.bus.handle(events)
        return 1

    def _claim(self, s: Session, now: dt.datetime, row_id: int | None = None) -> list[Any]:
        if row_id is None:
            params = {"now": now, "batch": self.batch_size}
            return execute_fast(s, _claim_due(self.db.dialect), params).all()
        return execute_fast(s, _claim_one(self.db.dialect), {"row_id": row_id}).all()

    def _apply(self, s: Session, rows: list[Any], replaying: bool = False) -> list[Any]:
        """Run the projectors that have not applied these rows yet; the rows' events.

        Marks are written with the row's "done", in one transaction, so a pending row has none: only
        a replay (of done rows) needs to read them."""
        ids = [r.id for r in rows]
        applied: set[tuple[str, int]] = set()
        if replaying:
            marks = select(_PROCESSED.c.consumer, _PROCESSED.c.event_id).where(_PROCESSED.c.event_id.in_(ids))
            applied = {(consumer, event_id) for consumer, event_id in s.execute(marks).all()}
        known = self.bus.known_types()
        markers: list[dict[str, Any]] = []
        events: list[Any] = []
        for row in rows:
            event = decode(resolve(row.topic, known), row.payload)
            for projector in self.bus.projectors_of(event):
                consumer = subscriber_name(projector)[:200]
                if (consumer, row.id) in applied:
                    continue
                token = _CURRENT_EVENT.set(row.id)
                try:
                    projector(s, event)
                finally:
                    _CURRENT_EVENT.reset(token)
                applied.add((consumer, row.id))
                markers.append({"consumer": consumer, "event_id": row.id})
            events.append(event)
        if markers:
            insert_rows(s, _PROCESSED, markers, returning=False)
        return events

    def _mark_done(self, s: Session, ids: list[int], now: dt.datetime) -> None:
        execute_fast(s, _MARK_DONE, {"ids": ids, "now": now})

    def _failed(self, row_id: int, exc: BaseException) -> None:
        """Count a failed try: retry later with backoff, or park after the last try."""
        try:
            with self.db.unit_of_work() as s:
                attempts = (s.scalar(select(_OUTBOX.c.attempts).where(_OUTBOX.c.id == row_id)) or 0) + 1
                parked = attempts >= self.policy.max_attempts
                s.execute(
                    update(_OUTBOX)
                    .where(_OUTBOX.c.id == row_id, _OUTBOX.c.state == OutboxState.PENDING)
                    .values(
                        attempts=attempts,
                        state=OutboxState.PARKED if parked else OutboxState.PENDING,
                        next_attempt_at=utcnow() + dt.timedelta(seconds=self.policy.delay(attempts)),
                        last_error=f"{type(exc).__name__}: {exc}"[:2000],
                    )
                )
            if parked:
                log.error("outbox row %s parked after %s tries", row_id, attempts)
        except Exception:
            log.exception("could not record the failure of outbox row %s", row_id)

    # --- replay, retry, status -----------------------------------------------------------------

    def replay(self, from_id: int = 0, to_id: int | None = None) -> int:
        """Run the delivered rows from ``from_id`` (to ``to_id``) through the projectors again; those
        that applied an event already skip it, so only projectors that missed it change anything.
        Handlers do not hear a replay. How many rows were replayed."""
        done = 0
        last = from_id - 1
        while True:
            with self.db.unit_of_work() as s:
                q = (
                    select(_OUTBOX.c.id, _OUTBOX.c.topic, _OUTBOX.c.payload)
                    .where(_OUTBOX.c.state == OutboxState.DONE, _OUTBOX.c.id > last)
                    .order_by(_OUTBOX.c.id)
                    .limit(self.batch_size)
                )
                if to_id is not None:
                    q = q.where(_OUTBOX.c.id <= to_id)
                rows = list(s.execute(q).all())
                if not rows:
                    return done
                self._apply(s, rows, replaying=True)
            done += len(rows)
            last = rows[-1].id

    def retry(self, row_id: int) -> bool:
        """Put a parked row back in line now, its tries counted afresh; False if it is not parked."""
        with self.db.unit_of_work() as s:
            moved = s.execute(
                update(_OUTBOX)
                .where(_OUTBOX.c.id == row_id, _OUTBOX.c.state == OutboxState.PARKED)
                .values(state=OutboxState.PENDING, attempts=0, next_attempt_at=utcnow())
            ).rowcount
        if moved:
            self.notify()
        return moved == 1

    def parked(self, limit: int = 200) -> list[OutboxEvent]:
        """The parked rows, newest first."""
        with self.db.reading() as s:
            return list(
                s.scalars(
                    select(OutboxEvent)
                    .where(OutboxEvent.state == OutboxState.PARKED)
                    .order_by(OutboxEvent.id.desc())
                    .limit(limit)
                )
            )

    def status(self) -> OutboxStatus:
        """Counts by state, how old the oldest pending row is, the periodic jobs."""
        now = utcnow()
        with self.db.reading() as s:
            counts = dict(s.execute(select(_OUTBOX.c.state, func.count()).group_by(_OUTBOX.c.state)).all())
            due = s.scalar(
                select(func.count()).where(
                    _OUTBOX.c.state == OutboxState.PENDING, _OUTBOX.c.next_attempt_at <= now
                )
            )
            oldest = s.scalar(
                select(func.min(_OUTBOX.c.created_at)).where(_OUTBOX.c.state == OutboxState.PENDING)
            )
            jobs = [
                {
                    "name": j.name,
                    "next_run_at": j.next_run_at,
                    "last_run_at": j.last_run_at,
                    "owner": j.owner,
                    "runs": j.runs,
                    "last_error": j.last_error,
                }
                for j in s.scalars(select(ScheduledJob).order_by(ScheduledJob.name))
            ]
        if oldest is not None and oldest.tzinfo is None:
            oldest = oldest.replace(tzinfo=dt.UTC)
        return OutboxStatus(
            pending=counts.get(OutboxState.PENDING, 0),
            due=due or 0,
            done=counts.get(OutboxState.DONE, 0),
            parked=counts.get(OutboxState.PARKED, 0),
            oldest_pending_s=(now - oldest).total_seconds() if oldest is not None else None,
            jobs=jobs,
        )

    # --- the loop (a thread of the process, or the worker) ---------------------------------------

    def start(self) -> None:
        """Start the relay's daemon thread if it is not running."""
        if self._thread is not None and self._thread.is_alive():
            return
        with self._thread_lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._stopped.clear()
            self._thread = threading.Thread(target=self.run_forever, name="outbox-relay", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the loop (the thread finishes its batch) and give the lease up."""
        self._stopped.set()
        self._wake.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def run_forever(self) -> None:
        """Deliver and run periodic jobs until :meth:`stop`; woken by commits, else every poll."""
        try:
            while not self._stopped.is_set():
                self._wake.clear()
                try:
                    self.run_round()
                except Exception:  # the database may be away: keep trying
                    log.exception("outbox relay round failed")
                    self._stopped.wait(self.poll_s)
                    continue
                self._wake.wait(self.poll_s)
        finally:
            if self.db.dialect == "sqlite" and self._lease_until:
                try:
                    release_lease(self.db, self.owner)
                except Exception:
                    log.warning("could not release the relay lease", exc_info=True)

    def run_round(self) -> int:
        """One round: deliver everything due (if this process may), then the due periodic jobs."""
        if not self._may_deliver():
            return 0
        handled = self.drain() if self._anything_due() else 0
        for pump in self.pumps:
            try:
                pump()
            except Exception:
                log.exception("relay pump %r failed", pump)
        if time.monotonic() >= self._jobs_at:
            self._jobs_at = time.monotonic() + JOBS_EVERY_S
            self.run_jobs()
        return handled

    def _anything_due(self) -> bool:
        """A read (no writer's lock on SQLite): is any row due? Spares an idle poll a write transaction."""
        with self.db.reading() as s:
            q = select(_OUTBOX.c.id).where(
                _OUTBOX.c.state == OutboxState.PENDING, _OUTBOX.c.next_attempt_at <= utcnow()
            )
            return s.execute(q.limit(1)).first() is not None

    def run_jobs(self) -> list[str]:
        """Run the periodic jobs that are due and that this process wins."""
        now = utcnow()
        with self.db.reading() as s:
            next_runs = dict(s.execute(select(ScheduledJob.name, ScheduledJob.next_run_at)).all())
        due = [j for j in self.jobs.all() if j.name not in next_runs or _aware(next_runs[j.name]) <= now]
        if not due:
            return []
        return self.jobs.run_due(self.db, now, only={j.name for j in due})

    def _may_deliver(self) -> bool:
        """PostgreSQL: always (rows are locked one by one). SQLite: while this relay holds the lease."""
        if self.db.dialect != "sqlite":
            return True
        now = time.monotonic()
        if now < self._lease_until - LEASE_S / 2:
            return True
        if take_lease(self.db, self.owner, LEASE_S):
            self._lease_until = now + LEASE_S
            return True
        self._lease_until = 0.0
        return False


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
