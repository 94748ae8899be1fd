"""The outbox's tables: the journal of committed events, what each projector has already applied,
and the periodic jobs with their next run (claimed atomically, so one process runs each)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from frontoffice.db import Base, utcnow

#: A row id that is a 64-bit integer on PostgreSQL and SQLite's rowid on SQLite.
BigId = BigInteger().with_variant(Integer, "sqlite")


class OutboxState:
    """Where an outbox row stands."""

    PENDING = "pending"
    DONE = "done"
    PARKED = "parked"


class OutboxEvent(Base):
    """One domain event, written in the transaction of the change that caused it.

    The relay delivers pending rows in id order to the projectors (in one transaction with marking
    them done) and then to the handlers. A failed delivery is retried at ``next_attempt_at``; after
    the configured number of ``attempts`` the row is ``parked`` (a dead letter).
    """

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_state_next", "state", "next_attempt_at", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    #: The event's class, ``module.QualName``.
    topic: Mapped[str] = mapped_column(String(200))
    #: The event's fields as JSON (datetimes ISO 8601, decimals as strings).
    payload: Mapped[dict] = mapped_column()
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    state: Mapped[str] = mapped_column(String(10), default=OutboxState.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[dt.datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)


class OutboxProcessed(Base):
    """An event a projector has applied: a replay finds it here and skips it."""

    __tablename__ = "outbox_processed"

    consumer: Mapped[str] = mapped_column(String(200), primary_key=True)
    event_id: Mapped[int] = mapped_column(BigId, primary_key=True)


class ScheduledJob(Base):
    """A periodic job of the deployment (or the relay's lease on SQLite): whoever moves
    ``next_run_at`` forward with a conditional UPDATE runs it; everyone else skips it."""

    __tablename__ = "scheduled_jobs"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    next_run_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    #: Who runs it (or holds the lease): ``host:pid``.
    owner: Mapped[str | None] = mapped_column(String(100))
    last_run_at: Mapped[dt.datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    runs: Mapped[int] = mapped_column(default=0)
