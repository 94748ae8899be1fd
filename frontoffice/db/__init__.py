"""Database plumbing: declarative base, engines, sessions, units of work.

SQLite (the embedded default) gets foreign keys, WAL and a busy timeout on every
connection, and write transactions start with ``BEGIN IMMEDIATE`` so two writers
queue on the busy timeout instead of failing on a lock upgrade. Within one process, the
writers also queue on a lock (``_WriterQueue``), so they hand over at once instead of
sleeping in SQLite's busy-handler back-off; a writer of another process (the relay worker) is
waited for in Python with short cooperative sleeps (:func:`_begin_immediate_yielding`), never in
the busy handler, which would freeze a gevent worker whole.
"""

from __future__ import annotations

import datetime as dt
import functools
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from sqlalchemy import JSON, Connection, DateTime, Engine, MetaData, create_engine, event, inspect
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import StaticPool
from sqlalchemy.types import TypeDecorator

from frontoffice.db.forks import reset_in_forked_child
from frontoffice.db.grouped import GroupCommit
from frontoffice.dbhealth import DatabaseTimeouts, guard_stalls, postgres_connect_args

T = TypeVar("T")

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC timestamp on every backend (SQLite stores naive text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where an aware UTC one is required")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    """Declarative base of every mapped class in every package."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dt.datetime: UTCDateTime(), dict: JSON, list: JSON}


def utcnow() -> dt.datetime:
    """The current time, timezone-aware UTC."""
    return dt.datetime.now(dt.UTC)


_HOLDS_WRITER = "frontoffice_holds_writer_queue"


class _WriterQueue:
    """The writers of one SQLite database in this process, waiting in line.

    SQLite lets one transaction write at a time; a second ``BEGIN IMMEDIATE`` polls the lock
    with growing sleeps (the busy handler), which under load leaves the database idle while
    writers sleep. Writers of this process instead queue here and take over the moment the
    previous one's connection is back in the pool. Writers of other processes (a CLI command
    next to the server) still meet the busy timeout. A thread that already holds the queue,
    or waited as long as the busy timeout, goes on to SQLite's own lock as before.
    """

    def __init__(self, timeout_s: float):
        self._lock = threading.Lock()
        self._owner: int | None = None
        self._timeout_s = timeout_s
        reset_in_forked_child(self)

    def _reset(self) -> None:
        # In a forked child (gunicorn's worker) the thread that held the turn does not exist.
        self._lock = threading.Lock()
        self._owner = None

    def enter(self) -> bool:
        """Wait for the turn of this thread; False if it already has it or gave up waiting."""
        me = threading.get_ident()
        if self._owner == me or not self._lock.acquire(timeout=self._timeout_s):
            return False
        self._owner = me
        return True

    def leave(self) -> None:
        """Let the next writer in (from any thread: the pool may check a connection in elsewhere)."""
        self._owner = None
        try:
            self._lock.release()
        except RuntimeError:  # a turn taken before a fork, given back in the child
            pass


#: Sleeps between tries of ``BEGIN IMMEDIATE`` while another process writes: short at first (a
#: writer's transaction lasts a millisecond or two), then at most _YIELD_MAX_S.
_YIELD_FIRST_S = 0.0005
_YIELD_MAX_S = 0.004


def _begin_immediate_yielding(dbapi_conn: Any, busy_timeout_ms: int) -> bool:
    """``BEGIN IMMEDIATE`` on a raw SQLite connection, waiting for another process's writer in
    Python (``time.sleep``, which gevent makes cooperative) instead of in SQLite's busy handler.

    SQLite's busy handler sleeps inside the C call — up to 100 ms a step — and under the gevent
    worker that freezes the whole process: every other request, socket and read waits while one
    request waits for the relay worker's lock. Here the busy timeout is 0 while trying, and the
    waiting is cooperative: reads and other requests go on. True once the transaction began; False
    after the busy timeout's worth of tries (the caller then makes SQLAlchemy's own last try, which
    raises its usual "database is locked" error after the timeout)."""
    deadline = time.monotonic() + busy_timeout_ms / 1000
    delay = _YIELD_FIRST_S
    dbapi_conn.execute("PRAGMA busy_timeout=0")
    try:
        while True:
            try:
                dbapi_conn.execute("BEGIN IMMEDIATE")
                return True
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise
            if time.monotonic() + delay >= deadline:
                return False
            time.sleep(delay)
            delay = min(delay * 2, _YIELD_MAX_S)
    finally:
        dbapi_conn.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")


def make_engine(
    url: str,
    *,
    busy_timeout_ms: int = 10_000,
    echo: bool = False,
    timeouts: DatabaseTimeouts | None = None,
    pool_size: int = 20,
    max_overflow: int = 80,
    wal_autocheckpoint: int = 1000,
) -> Engine:
    """Create an engine; SQLite connections get the pragmas DESIGN.md asks for, PostgreSQL ones
    the connect and statement timeouts, and both pools the checkout timeout (``timeouts``, see
    :mod:`frontoffice.dbhealth`) and ``pool_size`` connections kept, ``max_overflow`` more at peaks.

    ``wal_autocheckpoint``: after how many WAL pages a committing SQLite connection copies the WAL
    back into the database (SQLite's default, 1000); 0 leaves it to :meth:`Database.checkpoint`, which
    ``frontoffice worker`` runs so that web processes never pay for it."""
    timeouts = timeouts or DatabaseTimeouts()
    pool_timeout = {"pool_timeout": timeouts.pool_s} if timeouts.pool_s > 0 else {}
    if url.startswith("sqlite"):
        memory = url in {"sqlite://", "sqlite:///:memory:"}
        kwargs: dict[str, Any] = {
            "connect_args": {"check_same_thread": False, "timeout": busy_timeout_ms / 1000},
        }
        if memory:
            kwargs["poolclass"] = StaticPool
        else:
            kwargs["pool_size"] = pool_size
            kwargs["max_overflow"] = max_overflow
            kwargs.update(pool_timeout)
        engine = create_engine(url, echo=echo, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            # Let SQLAlchemy's "begin" event emit BEGIN itself (pysqlite's own is broken).
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            if not memory:
                cur.execute("PRAGMA journal_mode=WAL")
            cur.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
            cur.execute("PRAGMA synchronous=NORMAL")
            if not memory:
                cur.execute(f"PRAGMA wal_autocheckpoint={int(wal_autocheckpoint)}")
            cur.close()

        writers = _WriterQueue(busy_timeout_ms / 1000)

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            if not conn.get_execution_options().get("sqlite_immediate", False):
                conn.connection.dbapi_connection.execute("BEGIN")  # every read: no SQLAlchemy round
                return
            info = conn.connection.info
            if not info.get(_HOLDS_WRITER) and writers.enter():
                info[_HOLDS_WRITER] = True
            try:
                if not _begin_immediate_yielding(conn.connection.dbapi_connection, busy_timeout_ms):
                    conn.exec_driver_sql("BEGIN IMMEDIATE")  # the last try waits in SQLite, as always
            except BaseException:
                if info.pop(_HOLDS_WRITER, False):
                    writers.leave()
                raise

        def _writer_done(_dbapi_conn: Any, record: Any, *_args: Any) -> None:
            # The connection went back to the pool (after its COMMIT or ROLLBACK) or died.
            if record is not None and record.info.pop(_HOLDS_WRITER, False):
                writers.leave()

        for name in ("checkin", "invalidate", "soft_invalidate"):
            event.listen(engine.pool, name, _writer_done)

        return engine
    engine = create_engine(
        url,
        echo=echo,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_pre_ping=True,
        connect_args=postgres_connect_args(url, timeouts),
        **pool_timeout,
    )
    guard_stalls(engine, timeouts.stalled_after_s)
    return engine


class Database:
    """Engine plus the two session factories: ``read`` (deferred) and ``write`` (immediate)."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self.write_engine = engine.execution_options(sqlite_immediate=True)
        self.read_sessions = sessionmaker(engine, expire_on_commit=False)
        self.write_sessions = sessionmaker(self.write_engine, expire_on_commit=False)
        self._after_commit: list[Callable[[list[Any]], None]] = []
        self._before_commit: list[Callable[[Session, list[Any]], None]] = []
        #: The write transactions shared by callers ready at the same moment (:meth:`grouped`).
        self.group_commit = GroupCommit(self.unit_of_work)
        for factory in (self.read_sessions, self.write_sessions):
            event.listen(factory, "before_commit", self._journal)
            event.listen(factory, "after_commit", self._dispatch)
            event.listen(factory, "after_rollback", _discard_events)
            event.listen(factory, "after_soft_rollback", _discard_after_soft_rollback)
            event.listen(factory, "after_transaction_create", _mark_savepoint)
            event.listen(factory, "after_transaction_end", _forget_savepoint)

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    def on_commit(self, callback: Callable[[list[Any]], None]) -> None:
        """Call ``callback(events)`` after every commit that published events."""
        self._after_commit.append(callback)

    def before_commit(self, callback: Callable[[Session, list[Any]], None]) -> None:
        """Call ``callback(session, events)`` just before a transaction that published events commits,
        inside it (the outbox writes the events there, so they commit or roll back with the change)."""
        self._before_commit.append(callback)

    def _journal(self, session: Session) -> None:
        if session.in_nested_transaction():
            return  # a SAVEPOINT is being released; the enclosing transaction journals
        events = session.info.get("pending_events")
        if events:
            for callback in self._before_commit:
                callback(session, events)

    def _dispatch(self, session: Session) -> None:
        if session.in_nested_transaction():
            return  # a SAVEPOINT was released; the enclosing transaction has not committed yet
        events = session.info.pop("pending_events", None)
        if not events:
            return
        held = session.info.get(_COMMITTED)
        if held is not None:  # a unit of work delivers them once its connection is back in the pool
            held.extend(events)
            return
        self._deliver(events)

    def _deliver(self, events: list[Any]) -> None:
        for callback in self._after_commit:
            callback(events)

    @contextmanager
    def unit_of_work(self) -> Iterator[Session]:
        """One write transaction: commit on success, roll back on error.

        The committed events are delivered after the session is closed, so subscribers (and the
        projectors' own write transaction) run once this transaction's connection, and on SQLite
        the writer's turn, are given back: the next writer does not wait for them.

        Inside :meth:`one_transaction` it is a savepoint of that transaction instead: an error
        rolls back what this block wrote, and what it wrote commits with the enclosing transaction.
        """
        shared = self._shared()
        if shared is not None:
            with shared.begin_nested():
                yield shared
            return
        session = self.write_sessions()
        committed: list[Any] = []
        session.info[_COMMITTED] = committed
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()
        if committed:
            self._deliver(committed)

    def grouped(self, work: Callable[[Session], T]) -> T:
        """Run ``work(session)`` in a write transaction that the writes of other callers ready at
        the same moment may share (group commit, :mod:`frontoffice.db.grouped`), and give back its
        result once that transaction has committed; its error, if it raises, reaches only this
        caller. ``work`` must leave nothing behind but its rows and its published events (it may
        run twice: once in a batch that another caller's error rolls back, once alone), and its
        result must stay readable after the session closes (build the answer inside it).

        Inside :meth:`one_transaction` it is a savepoint of that transaction, as :meth:`unit_of_work`.
        """
        if self._shared() is not None:
            with self.unit_of_work() as session:
                return work(session)
        return self.group_commit.run(work)

    @contextmanager
    def one_transaction(self) -> Iterator[Session]:
        """Everything the current thread does with this database inside the block, as ONE write
        transaction, committed at the end (rolled back on error), its events delivered after.

        Units of work opened inside become savepoints of it, and reads opened after the first write
        share it (they see what the block wrote). The idempotent endpoint runs a call this way so
        the call's writes and its recorded answer commit together or not at all.
        """
        if self._shared() is not None:
            raise RuntimeError("one_transaction does not nest")
        with self.unit_of_work() as session:
            token = _SHARED.set((self, session))
            try:
                yield session
            finally:
                _SHARED.reset(token)

    def _shared(self) -> Session | None:
        shared = _SHARED.get()
        return shared[1] if shared is not None and shared[0] is self else None

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A read-only session, closed at the end (inside :meth:`one_transaction`, once it has
        begun, that transaction's session)."""
        shared = self._shared()
        if shared is not None and shared.in_transaction():
            yield shared
            return
        session = self.read_sessions()
        try:
            yield session
        finally:
            # close() ends the transaction without expiring what was loaded, so the
            # objects stay readable after the block.
            session.close()

    @contextmanager
    def read_connection(self) -> Iterator[Connection]:
        """A Core connection for plain reads (:func:`execute_fast`), closed at the end: a read
        session without the ORM's unit of work around it, for the reads every request makes (inside
        :meth:`one_transaction`, once it has begun, that transaction's connection)."""
        shared = self._shared()
        if shared is not None and shared.in_transaction():
            yield shared.connection()
            return
        with self.engine.connect() as conn:
            yield conn

    def checkpoint(self) -> tuple[int, int, int] | None:
        """Copy what SQLite's WAL holds back into the database without waiting for readers or
        writers (``PRAGMA wal_checkpoint(PASSIVE)``): ``(busy, WAL pages, pages copied)``; None on
        another database."""
        if self.dialect != "sqlite":
            return None
        with self.engine.connect() as conn:
            row = conn.connection.dbapi_connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        return int(row[0]), int(row[1]), int(row[2])

    def table_names(self) -> list[str]:
        """Names of the tables present in the database."""
        return inspect(self.engine).get_table_names()

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


#: ``session.info`` key of the events a unit of work committed and delivers after closing.
_COMMITTED = "committed_events"
#: The database and session of the :meth:`Database.one_transaction` the current thread is in.
_SHARED: ContextVar[tuple[Database, Session] | None] = ContextVar("frontoffice_one_transaction", default=None)


def _discard_events(session: Session) -> None:
    savepoint = session.get_nested_transaction()
    if savepoint is None:
        session.info.pop("pending_events", None)
        return
    # A SAVEPOINT rolled back: forget what was published inside it, keep what came before.
    mark = session.info.get("event_marks", {}).get(savepoint)
    pending = session.info.get("pending_events")
    if pending is not None and mark is not None:
        del pending[mark:]


def _discard_after_soft_rollback(session: Session, previous: Any) -> None:
    if not previous.nested:  # a SAVEPOINT's own rollback was handled by _discard_events
        session.info.pop("pending_events", None)


def _mark_savepoint(session: Session, transaction: Any) -> None:
    if transaction.nested:
        marks = session.info.setdefault("event_marks", {})
        marks[transaction] = len(session.info.get("pending_events") or ())


def _forget_savepoint(session: Session, transaction: Any) -> None:
    if transaction.nested:
        session.info.get("event_marks", {}).pop(transaction, None)


def publish(session: Session, event_obj: Any) -> None:
    """Queue a domain event; it is dispatched only if and after the session commits."""
    session.info.setdefault("pending_events", []).append(event_obj)


def dialect_of(bind: Session | Connection | str) -> str:
    """The dialect name (``sqlite``, ``postgresql``) of a session, a connection, or a name itself."""
    if isinstance(bind, str):
        return bind
    if isinstance(bind, Session):
        return bind.get_bind().dialect.name
    return bind.dialect.name


def upsert(
    bind: Session | Connection | str,
    table: Any,
    values: dict[str, Any] | list[dict[str, Any]],
    index_elements: list[str],
    update: dict[str, Any] | None = None,
    where: Any = None,
):
    """Dialect-portable ``INSERT … ON CONFLICT`` (SQLite and PostgreSQL); returns the statement.

    ``bind`` names the dialect (a session, a connection or the dialect's name, so hot paths can
    build the statement once per dialect with ``functools.cache``). ``update`` maps columns to
    new values, or is None for DO NOTHING; a value (and ``where``) may be a callable receiving
    the statement, to use ``stmt.excluded``.
    """
    insert = postgresql.insert if dialect_of(bind) == "postgresql" else sqlite.insert
    stmt = insert(table).values(values)
    if update is None:
        return stmt.on_conflict_do_nothing(index_elements=index_elements)
    resolved = {k: (v(stmt) if callable(v) else v) for k, v in update.items()}
    condition = where(stmt) if callable(where) else where
    return stmt.on_conflict_do_update(index_elements=index_elements, set_=resolved, where=condition)


@functools.cache
def insert_or_skip(
    dialect: str, table: Any, index_elements: tuple[str, ...], returning: tuple[str, ...] = ()
):
    """``INSERT … ON CONFLICT (index_elements) DO NOTHING [RETURNING …]`` on ``table``, built once
    per dialect: execute it with a dict of column values (its keys name the columns written), as
    the projectors do for every event, instead of building and hashing a statement each time."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(table).on_conflict_do_nothing(index_elements=list(index_elements))
    return stmt.returning(*(table.c[name] for name in returning)) if returning else stmt


# The fast insert of a new aggregate lives in its own module; it is part of this one's API.
from frontoffice.db.inserts import insert_new as insert_new  # noqa: E402
from frontoffice.db.prepared import detached as detached  # noqa: E402
from frontoffice.db.prepared import execute_fast as execute_fast  # noqa: E402
from frontoffice.db.prepared import get_detached as get_detached  # noqa: E402
from frontoffice.db.prepared import insert_rows as insert_rows  # noqa: E402
