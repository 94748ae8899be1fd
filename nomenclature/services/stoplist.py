"""The stop-list: items a branch cannot sell right now."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from frontoffice.db import publish, upsert, utcnow
from nomenclature.events import StopListChanged
from nomenclature.models import Item, StopListEntry
from nomenclature.services.branches import check_branches
from nomenclature.services.checks import refuse
from nomenclature.services.items import get_item


def stop_item(
    session: Session,
    branch_id: int,
    item_id: int,
    reason: str = "",
    *,
    actor_id: int | None = None,
    now: dt.datetime | None = None,
) -> StopListEntry:
    """Put an item on a branch's stop-list (again: the reason and time are updated)."""
    refuse("The item cannot be stopped", check_branches(session, [branch_id], "branch_id"))
    item = get_item(session, item_id)
    now = now or utcnow()
    reason = reason.strip()
    table_ = StopListEntry.__table__
    session.execute(
        upsert(
            session,
            table_,
            {
                "branch_id": branch_id,
                "item_id": item_id,
                "reason": reason,
                "stopped_by": actor_id,
                "stopped_at": now,
            },
            ["branch_id", "item_id"],
            update={"reason": reason, "stopped_by": actor_id, "stopped_at": now},
        )
    )
    publish(session, StopListChanged(branch_id, item_id, item.sku, item.name, True, reason, actor_id, now))
    entry = session.get(StopListEntry, (branch_id, item_id), populate_existing=True)
    assert entry is not None
    return entry


def resume_item(session: Session, branch_id: int, item_id: int, *, actor_id: int | None = None) -> bool:
    """Take an item off a branch's stop-list; False if it was not on it."""
    item = get_item(session, item_id)
    entry = session.get(StopListEntry, (branch_id, item_id))
    if entry is None:
        return False
    session.delete(entry)
    session.flush()
    publish(session, StopListChanged(branch_id, item_id, item.sku, item.name, False, "", actor_id, utcnow()))
    return True


def stop_list(session: Session, branch_id: int | None = None) -> list[tuple[StopListEntry, Item]]:
    """The stop-list entries (of one branch or all) with their items, newest first."""
    stmt = select(StopListEntry, Item).join(Item, Item.id == StopListEntry.item_id)
    if branch_id is not None:
        stmt = stmt.where(StopListEntry.branch_id == branch_id)
    return [(e, i) for e, i in session.execute(stmt.order_by(StopListEntry.stopped_at.desc(), Item.name))]
