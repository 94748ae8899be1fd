"""Durable events: the transactional outbox, its relay, and the deployment's periodic jobs.

Every journaled domain event is written to the ``outbox`` table in the transaction of the change
(:meth:`Relay.journal`); the relay delivers the rows to projectors and handlers at least once,
projectors exactly once per event (``outbox_processed``). See docs/architecture.md, "Durable events".
The kernel's own periodic jobs are registered here; packages add theirs with ``kernel.jobs.every``.
"""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import delete, select

from frontoffice.db import Database, utcnow
from frontoffice.outbox.jobs import Job, Jobs
from frontoffice.outbox.models import OutboxEvent, OutboxProcessed, OutboxState, ScheduledJob
from frontoffice.outbox.relay import OutboxStatus, Relay, RelayPolicy, current_event_id

__all__ = [
    "Job",
    "Jobs",
    "OutboxEvent",
    "OutboxProcessed",
    "OutboxState",
    "OutboxStatus",
    "Relay",
    "RelayPolicy",
    "ScheduledJob",
    "current_event_id",
    "purge_delivered",
]

log = logging.getLogger(__name__)


def purge_delivered(db: Database, retention_days: float) -> int:
    """Delete delivered rows (and their projectors' marks) older than the retention; how many rows."""
    cutoff = utcnow() - dt.timedelta(days=retention_days)
    with db.unit_of_work() as s:
        old = select(OutboxEvent.id).where(
            OutboxEvent.state == OutboxState.DONE, OutboxEvent.created_at < cutoff
        )
        s.execute(delete(OutboxProcessed).where(OutboxProcessed.event_id.in_(old)))
        purged = s.execute(
            delete(OutboxEvent).where(OutboxEvent.state == OutboxState.DONE, OutboxEvent.created_at < cutoff)
        ).rowcount
    if purged:
        log.info("purged %d delivered outbox rows older than %g days", purged, retention_days)
    return purged
