"""Group commit: the writes of callers that arrive together share one write transaction.

Taking an order writes about ten rows into some twenty-five B-tree pages (the order, its lines,
receipts and events, their indexes, the counter, the revenue, the outbox) and commits. On SQLite
every commit copies each page it dirtied into the WAL and hands the writer's lock over; with
several orders in one transaction the pages are shared, the lock changes hands once, and the
session, connection and ``BEGIN``/``COMMIT`` are paid once. So the callers queue here and the first
of them (the *leader*) runs its own work and that of every caller waiting behind it in one unit of
work, commits once, and wakes them (the *followers*) with their own result or error. It is the
writer queue of LevelDB (``DBImpl::Write``), and what PostgreSQL does for WAL flushes.

Each caller's work runs in the caller's own context (:mod:`contextvars`: its Flask request, its
log fields), in the leader's thread. No caller's answer is given before the transaction that
holds its rows has committed.

Optimistic, without a ``SAVEPOINT`` per caller (SQLAlchemy's nested transactions cost about what
the shared commit saves): if one caller's work raises, the whole batch rolls back and every
caller's work runs again alone, so an error reaches only its own caller and never refuses another.
If the commit itself fails, every caller of the batch gets that error and nothing is run again: a
commit that failed on a lost connection may still have happened, and only the caller (with its
``Idempotency-Key``) can tell.
"""

from __future__ import annotations

import contextvars
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, Generic, TypeVar

from sqlalchemy.orm import Session

from frontoffice.db.forks import reset_in_forked_child

T = TypeVar("T")

#: The result of a call whose work has not finished.
_PENDING: Any = object()

#: At most this many callers' work in one transaction.
MAX_BATCH = 32


def _let_others_in() -> None:
    """Give callers that are ready a moment to join the batch: under gevent (``time.sleep`` is
    patched) every greenlet that can run gets to, up to its own write; under threads the GIL is
    handed over once."""
    time.sleep(0)


class _Call(Generic[T]):
    """One caller's work, waiting for its turn, its leader or its result."""

    __slots__ = ("context", "done", "error", "result", "wake", "work")

    def __init__(self, work: Callable[[Session], T]):
        self.work = work
        self.context = contextvars.copy_context()
        self.wake = threading.Event()  # set when done, or when this caller is to lead
        self.done = False
        self.result: Any = _PENDING
        self.error: BaseException | None = None

    def run(self, session: Session) -> T:
        return self.context.run(self.work, session)

    def outcome(self) -> T:
        if self.error is not None:
            raise self.error
        if self.result is _PENDING:  # its leader stopped before finishing it
            raise RuntimeError("the transaction that was to carry this write was interrupted")
        return self.result


class GroupCommit:
    """The callers of :meth:`run` that are ready at the same moment share one transaction.

    ``unit_of_work`` opens a write transaction (commit on success, roll back on error);
    ``gather`` is called by a leader before it takes the waiting callers (tests pass one that
    waits for a given number of callers).
    """

    def __init__(
        self,
        unit_of_work: Callable[[], AbstractContextManager[Session]],
        *,
        max_batch: int = MAX_BATCH,
        gather: Callable[[], None] = _let_others_in,
    ):
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self._unit_of_work = unit_of_work
        self.max_batch = max_batch
        self._gather = gather
        self._lock = threading.Lock()
        self._waiting: list[_Call[Any]] = []
        self._leading = False
        #: Transactions committed and calls they carried (for the metrics and the tests).
        self.batches = 0
        self.calls = 0
        reset_in_forked_child(self)

    def _reset(self) -> None:
        # In a forked child (gunicorn's worker) nobody is waiting or leading.
        self._lock = threading.Lock()
        self._waiting = []
        self._leading = False

    def run(self, work: Callable[[Session], T]) -> T:
        """Run ``work(session)`` in a write transaction, perhaps shared with other callers', and
        give back its result once that transaction has committed (or raise its error)."""
        call: _Call[T] = _Call(work)
        with self._lock:
            self._waiting.append(call)
            lead = not self._leading
            self._leading = True
        if not lead:
            try:
                call.wake.wait()
            except BaseException:  # this caller is stopped while waiting (its greenlet killed)
                self._leave(call, leading=call.wake.is_set() and not call.done)
                raise
            if call.done:
                return call.outcome()
        # This caller leads: it is first in line (callers leave the line only in batches from its head).
        try:
            self._gather()
        except BaseException:  # stopped before it took the line: the next one leads instead
            self._leave(call, leading=True)
            raise
        with self._lock:
            batch = self._waiting[: self.max_batch]
            del self._waiting[: len(batch)]
        try:
            self._write(batch)
        except BaseException as exc:  # the leader itself is stopped (e.g. its greenlet killed)
            for waiting in batch:
                if waiting.error is None and waiting.result is _PENDING:
                    waiting.error = exc
            raise
        finally:
            with self._lock:
                following = self._waiting[0] if self._waiting else None
                self._leading = following is not None
            for waiting in batch:
                waiting.done = True
                waiting.wake.set()
            if following is not None:
                following.wake.set()  # not done: it leads the next batch
        return call.outcome()

    def _leave(self, call: _Call[Any], *, leading: bool) -> None:
        """A caller stopped before its work was taken leaves the line; if it was the leader, the
        lead passes to the next in line (a batch already taken is finished by its leader)."""
        with self._lock:
            if call not in self._waiting:
                return
            self._waiting.remove(call)
            if not leading:
                return
            following = self._waiting[0] if self._waiting else None
            self._leading = following is not None
        if following is not None:
            following.wake.set()

    def _write(self, batch: list[_Call[Any]]) -> None:
        if len(batch) > 1:
            ran = False
            try:
                with self._unit_of_work() as session:
                    results = []
                    for waiting in batch:
                        results.append(waiting.run(session))
                        session.flush()  # what a caller's objects break is that caller's error
                    ran = True
            except Exception as exc:
                if ran:  # the commit failed: it may still have happened, so nothing runs again
                    for waiting in batch:
                        waiting.error = exc
                    return
            else:
                for waiting, result in zip(batch, results, strict=True):
                    waiting.result = result
                self._count(len(batch))
                return
        for waiting in batch:  # alone: its error, if any, is its own
            try:
                with self._unit_of_work() as session:
                    waiting.result = waiting.run(session)
                self._count(1)
            except Exception as exc:
                waiting.error = exc

    def _count(self, calls: int) -> None:
        self.batches += 1
        self.calls += calls

    @property
    def waiting(self) -> int:
        """How many callers wait in line now (a leader's batch has left it)."""
        with self._lock:
            return len(self._waiting)
