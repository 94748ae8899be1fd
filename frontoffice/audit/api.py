"""The audit log API for admins: ``GET /api/v1/audit``."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from flask import Blueprint
from sqlalchemy.orm import Session

from frontoffice.api import endpoint
from frontoffice.audit import schemas as sc
from frontoffice.audit import services
from frontoffice.kernel import current_kernel
from frontoffice.models import Role

bp = Blueprint("audit_api", __name__, url_prefix="/api/v1/audit")
ADMIN = {Role.ADMIN}


def day_range(
    date_from: dt.date | None, date_to: dt.date | None, timezone: str
) -> tuple[dt.datetime | None, dt.datetime | None]:
    """The UTC instants from the start of ``date_from`` to the end of ``date_to`` in ``timezone``."""
    zone = ZoneInfo(timezone)

    def start(day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(), zone).astimezone(dt.UTC)

    since = start(date_from) if date_from else None
    until = start(date_to + dt.timedelta(days=1)) if date_to else None
    return since, until


@endpoint(
    bp,
    "",
    roles=ADMIN,
    query=sc.AuditQuery,
    response=sc.AuditList,
    summary="The audit log of admin actions, newest first, with before → after of each changed field",
    tags=["audit"],
    description="Who changed prices, items, organizations, distribution conditions, antifraud and "
    "bonus rules, branches, zones, users and tokens, when, from which address, and each changed "
    "field's value before and after. Filters: `actor` (username), `entity`, `entity_id`, "
    "`date_from`/`date_to` (days in the business time zone, both included).",
)
def list_entries(query: sc.AuditQuery) -> sc.AuditList:
    """A page of the log."""
    k = current_kernel()
    with k.db.reading() as s:
        page = matching(s, query, k.settings.timezone)
        return sc.AuditList(items=[sc.AuditEntryOut.of(e) for e in page.items], total=page.total)


def matching(session: Session, query: sc.AuditQuery, timezone: str) -> services.AuditPage:
    """The page of entries ``query`` asks for, its days taken in ``timezone``."""
    since, until = day_range(query.date_from, query.date_to, timezone)
    return services.entries(
        session,
        actor=query.actor,
        entity=query.entity,
        entity_id=query.entity_id,
        since=since,
        until=until,
        limit=query.limit,
        offset=query.offset,
    )
