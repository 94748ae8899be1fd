"""Periodic jobs that run once per deployment, not once per process.

Each job has a row in ``scheduled_jobs``; whoever moves its ``next_run_at`` forward with a
conditional UPDATE (``WHERE next_run_at <= now``) runs that occurrence, and every other process
that looked at the same time gets rowcount 0 and skips it. The relay (thread or worker) calls
:meth:`Jobs.run_due` between deliveries. The same table holds the relay's lease on SQLite
(:func:`take_lease`): one process at a time delivers there.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, update

from frontoffice.db import Database, upsert, utcnow
from frontoffice.outbox.models import ScheduledJob

log = logging.getLogger(__name__)


def process_name() -> str:
    """Who this process is in ``scheduled_jobs.owner``: ``host:pid``."""
    return f"{socket.gethostname()}:{os.getpid()}"[:100]


@dataclass(frozen=True)
class Job:
    """A job run every ``interval_s`` seconds by one process of the deployment."""

    name: str
    interval_s: float
    run: Callable[[], Any]
    description: str = ""


class Jobs:
    """The periodic jobs packages register (``kernel.jobs.every(...)``)."""

    def __init__(self) -> None:
        self._jobs: dict[str, Job] = {}

    def every(self, name: str, interval_s: float, run: Callable[[], Any], description: str = "") -> None:
        """Run ``run()`` every ``interval_s`` seconds, in one process of the deployment."""
        if name in self._jobs:
            raise ValueError(f"a periodic job named {name!r} is already registered")
        self._jobs[name] = Job(name, interval_s, run, description)

    def all(self) -> list[Job]:
        """Every registered job, by name."""
        return sorted(self._jobs.values(), key=lambda j: j.name)

    def claim(self, db: Database, job: Job, now: dt.datetime | None = None) -> bool:
        """Take this occurrence of ``job`` if it is due and nobody took it; True if taken."""
        now = now or utcnow()
        with db.unit_of_work() as s:
            s.execute(
                upsert(s, ScheduledJob.__table__, {"name": job.name, "next_run_at": now, "runs": 0}, ["name"])
            )
            taken = s.execute(
                update(ScheduledJob)
                .where(ScheduledJob.name == job.name, ScheduledJob.next_run_at <= now)
                .values(
                    next_run_at=now + dt.timedelta(seconds=job.interval_s),
                    last_run_at=now,
                    owner=process_name(),
                    runs=ScheduledJob.runs + 1,
                )
                .execution_options(synchronize_session=False)
            ).rowcount
        return taken == 1

    def run_due(
        self, db: Database, now: dt.datetime | None = None, only: set[str] | None = None
    ) -> list[str]:
        """Run every due job (of ``only``, when given) this process wins; the names of those run."""
        ran: list[str] = []
        for job in self.all():
            if only is not None and job.name not in only:
                continue
            try:
                if not self.claim(db, job, now):
                    continue
            except Exception:
                log.exception("could not claim periodic job %s", job.name)
                continue
            ran.append(job.name)
            error = None
            try:
                job.run()
            except Exception as exc:  # a failing job must not stop the relay or the other jobs
                log.exception("periodic job %s failed", job.name)
                error = f"{type(exc).__name__}: {exc}"[:2000]
            try:
                with db.unit_of_work() as s:
                    s.execute(
                        update(ScheduledJob)
                        .where(ScheduledJob.name == job.name)
                        .values(last_error=error)
                        .execution_options(synchronize_session=False)
                    )
            except Exception:
                log.exception("could not record the outcome of periodic job %s", job.name)
        return ran


#: The row of ``scheduled_jobs`` that is the relay's lease on SQLite.
RELAY_LEASE = "outbox-relay-lease"


def take_lease(db: Database, owner: str, seconds: float, name: str = RELAY_LEASE) -> bool:
    """Hold (or renew) the lease ``name`` for ``seconds``; False while another owner holds it."""
    now = utcnow()
    with db.unit_of_work() as s:
        s.execute(upsert(s, ScheduledJob.__table__, {"name": name, "next_run_at": now, "runs": 0}, ["name"]))
        return (
            s.execute(
                update(ScheduledJob)
                .where(
                    ScheduledJob.name == name,
                    or_(
                        ScheduledJob.owner == owner,
                        ScheduledJob.owner.is_(None),
                        ScheduledJob.next_run_at <= now,
                    ),
                )
                .values(owner=owner, next_run_at=now + dt.timedelta(seconds=seconds), last_run_at=now)
                .execution_options(synchronize_session=False)
            ).rowcount
            == 1
        )


def release_lease(db: Database, owner: str, name: str = RELAY_LEASE) -> None:
    """Give the lease up (a stopping worker), so another process takes over at once."""
    with db.unit_of_work() as s:
        s.execute(
            update(ScheduledJob)
            .where(ScheduledJob.name == name, ScheduledJob.owner == owner)
            .values(owner=None, next_run_at=utcnow())
            .execution_options(synchronize_session=False)
        )
