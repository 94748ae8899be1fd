"""Rows that leave the process one by one (webhook deliveries, client notifications): each has a
``status``, a ``next_attempt_at``, ``attempts`` and a ``claimed_until``. A sender claims the due ones
with a conditional UPDATE each (one sender wins a row; one that died lets it go when the claim runs
out), and an admin puts a parked one back in line."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from typing import Any

from sqlalchemy import or_, select, update

from frontoffice.db import Database, utcnow


def claim_due(
    db: Database,
    model: Any,
    *,
    pending: str | Collection[str],
    hold_s: float,
    limit: int = 50,
    skip: Collection[int] = (),
    now: dt.datetime | None = None,
    state: str = "status",
) -> list[int]:
    """Claim for ``hold_s`` seconds the due rows of ``model`` in state ``pending`` (one state or
    several, in its column ``state``) nobody works on (but those in ``skip``), oldest first; the ids
    this sender won."""
    now = now or utcnow()
    states = [pending] if isinstance(pending, str) else list(pending)
    waiting = getattr(model, state).in_(states)
    free = or_(model.claimed_until.is_(None), model.claimed_until < now)
    with db.reading() as s:
        due = list(
            s.scalars(
                select(model.id)
                .where(waiting, model.next_attempt_at <= now, free)
                .order_by(model.id)
                .limit(limit)
            )
        )
    due = [row_id for row_id in due if row_id not in skip]
    if not due:
        return []
    until = now + dt.timedelta(seconds=hold_s)
    taken = []
    with db.unit_of_work() as s:
        for row_id in due:
            won = s.execute(
                update(model)
                .where(model.id == row_id, waiting, free)
                .values(claimed_until=until)
                .execution_options(synchronize_session=False)
            ).rowcount
            if won:
                taken.append(row_id)
    return taken


def back_in_line(row: Any, pending: str) -> None:
    """Put a parked row back in line, its tries counted afresh."""
    row.status = pending
    row.attempts = 0
    row.next_attempt_at = utcnow()
    row.claimed_until = None
