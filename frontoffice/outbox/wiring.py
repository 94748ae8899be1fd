"""How the kernel plugs the outbox in: its own periodic jobs (idempotency-record purge, delivered
outbox rows purge) and the dead letters' API and admin page."""

from __future__ import annotations

import datetime as dt
import logging

from flask import Flask
from sqlalchemy import delete

from frontoffice.db import utcnow
from frontoffice.kernel import Kernel
from frontoffice.models import IdempotencyRecord, Role
from frontoffice.outbox import purge_delivered

log = logging.getLogger(__name__)

#: How often the kernel's purges run (once per deployment).
PURGE_EVERY_S = 600.0


def purge_idempotency_records(kernel: Kernel) -> int:
    """Delete the Idempotency-Key records older than the retention; how many."""
    retention_h = kernel.settings.idempotency_retention_h
    cutoff = utcnow() - dt.timedelta(hours=retention_h)
    with kernel.db.unit_of_work() as s:
        purged = s.execute(delete(IdempotencyRecord).where(IdempotencyRecord.created_at < cutoff)).rowcount
    if purged:
        log.info("purged %d idempotency records older than %g h", purged, retention_h)
    return purged


def register_kernel_jobs(kernel: Kernel) -> None:
    """The kernel's periodic jobs."""
    kernel.jobs.every(
        "idempotency-purge",
        PURGE_EVERY_S,
        lambda: purge_idempotency_records(kernel),
        "Deletes Idempotency-Key records older than FRONTOFFICE_IDEMPOTENCY_RETENTION_H.",
    )
    kernel.jobs.every(
        "outbox-purge",
        PURGE_EVERY_S,
        lambda: purge_delivered(kernel.db, kernel.settings.outbox_retention_days),
        "Deletes delivered outbox rows older than FRONTOFFICE_OUTBOX_RETENTION_DAYS.",
    )


def register_outbox_pages(app: Flask, kernel: Kernel) -> None:
    """The dead letters: ``/api/v1/outbox/parked`` and the admin page "Event deliveries"."""
    from frontoffice.outbox import api, views

    app.register_blueprint(api.bp)
    app.register_blueprint(views.bp)
    # The title stays English here; the top bar translates it when it renders.
    kernel.add_nav("Event deliveries", "outbox_pages.parked", frozenset({Role.ADMIN}), order=94)
