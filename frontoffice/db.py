"""Database plumbing: declarative base, engines, sessions, units of work.

SQLite (the embedded default) gets foreign keys, WAL and a busy timeout on every
connection, and write transactions start with ``BEGIN IMMEDIATE`` so two writers
queue on the busy timeout instead of failing on a lock upgrade.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import JSON, DateTime, Engine, MetaData, create_engine, event, inspect
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import StaticPool
from sqlalchemy.types import TypeDecorator

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


def make_engine(url: str, *, busy_timeout_ms: int = 10_000, echo: bool = False) -> Engine:
    """Create an engine; SQLite connections get the pragmas DESIGN.md asks for."""
    if url.startswith("sqlite"):
        memory = url in {"sqlite://", "sqlite:///:memory:"}
        kwargs: dict[str, Any] = {
            "connect_args": {"check_same_thread": False, "timeout": busy_timeout_ms / 1000},
        }
        if memory:
            kwargs["poolclass"] = StaticPool
        else:
            kwargs["pool_size"] = 20
            kwargs["max_overflow"] = 80
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
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            immediate = conn.get_execution_options().get("sqlite_immediate", False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine
    return create_engine(url, echo=echo, pool_size=20, max_overflow=80, pool_pre_ping=True)


class Database:
    """Engine plus the two session factories: ``read`` (deferred) and ``write`` (immediate)."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self.write_engine = engine.execution_options(sqlite_immediate=True)
        self.read_sessions = sessionmaker(engine, expire_on_commit=False)
        self.write_sessions = sessionmaker(self.write_engine, expire_on_commit=False)
        self._after_commit: list[Callable[[list[Any]], None]] = []
        for factory in (self.read_sessions, self.write_sessions):
            event.listen(factory, "after_commit", self._dispatch)
            event.listen(factory, "after_rollback", _discard_events)
            event.listen(factory, "after_soft_rollback", lambda s, _t: _discard_events(s))

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    def on_commit(self, callback: Callable[[list[Any]], None]) -> None:
        """Call ``callback(events)`` after every commit that published events."""
        self._after_commit.append(callback)

    def _dispatch(self, session: Session) -> None:
        events = session.info.pop("pending_events", None)
        if events:
            for callback in self._after_commit:
                callback(events)

    @contextmanager
    def unit_of_work(self) -> Iterator[Session]:
        """One write transaction: commit on success (events published after), roll back on error."""
        session = self.write_sessions()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A read-only session, closed at the end."""
        session = self.read_sessions()
        try:
            yield session
        finally:
            # close() ends the transaction without expiring what was loaded, so the
            # objects stay readable after the block.
            session.close()

    def table_names(self) -> list[str]:
        """Names of the tables present in the database."""
        return inspect(self.engine).get_table_names()

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


def _discard_events(session: Session) -> None:
    session.info.pop("pending_events", None)


def publish(session: Session, event_obj: Any) -> None:
    """Queue a domain event; it is dispatched only if and after the session commits."""
    session.info.setdefault("pending_events", []).append(event_obj)


def upsert(
    session: Session,
    table: Any,
    values: dict[str, Any] | list[dict[str, Any]],
    index_elements: list[str],
    update: dict[str, Any] | None = None,
):
    """Dialect-portable ``INSERT … ON CONFLICT`` (SQLite and PostgreSQL); returns the statement.

    ``update`` maps columns to new values (use ``stmt.excluded`` through a callable
    receiving the statement) or None for DO NOTHING.
    """
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(table).values(values)
    if update is None:
        return stmt.on_conflict_do_nothing(index_elements=index_elements)
    resolved = {k: (v(stmt) if callable(v) else v) for k, v in update.items()}
    return stmt.on_conflict_do_update(index_elements=index_elements, set_=resolved)
