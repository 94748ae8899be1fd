"""Folding a duplicate client into the one that stays."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import update
from sqlalchemy.orm import Session

from callcentre.models import (
    Client,
    ClientAddress,
    ClientOrderFact,
    ClientPhone,
    ClientStats,
)
from callcentre.services.clients import clean_tags, get_client
from callcentre.services.stats import stats_row
from frontoffice.db import utcnow
from frontoffice.errors import Conflict, InvalidInput, field_error


def merge_clients(session: Session, keep_id: int, merge_id: int, *, now: dt.datetime | None = None) -> Client:
    """Fold the duplicate ``merge_id`` into ``keep_id``: phones, addresses, notes, tags, history and stats move.

    The duplicate stays as a row marked ``merged_into_id`` (so references and the
    monitor's SQL still resolve); its main number becomes an extra phone of the survivor.
    """
    now = now or utcnow()
    if keep_id == merge_id:
        raise InvalidInput(
            "A client cannot be merged into itself.",
            errors=[field_error("merge_id", "Choose another client.")],
        )
    keep = get_client(session, keep_id)
    other = get_client(session, merge_id)
    for who, c in (("keep_id", keep), ("merge_id", other)):
        if c.merged_into_id is not None:
            raise Conflict(
                f"Client {c.id} was already merged into client {c.merged_into_id}.",
                errors=[field_error(who, "Already merged.", "already_merged")],
            )
    session.execute(update(ClientPhone).where(ClientPhone.client_id == other.id).values(client_id=keep.id))
    session.execute(
        update(ClientAddress).where(ClientAddress.client_id == other.id).values(client_id=keep.id)
    )
    session.execute(
        update(ClientOrderFact).where(ClientOrderFact.client_id == other.id).values(client_id=keep.id)
    )
    session.execute(update(Client).where(Client.merged_into_id == other.id).values(merged_into_id=keep.id))
    session.add(
        ClientPhone(
            client_id=keep.id, phone=other.phone, label=f"merged from client {other.id}", created_at=now
        )
    )

    theirs = session.get(ClientStats, other.id)
    if theirs is not None:
        mine = stats_row(session, keep.id)
        mine.orders_count += theirs.orders_count
        mine.delivered_count += theirs.delivered_count
        mine.cancelled_count += theirs.cancelled_count
        mine.total_spent += theirs.total_spent
        firsts = [t for t in (mine.first_order_at, theirs.first_order_at) if t is not None]
        lasts = [t for t in (mine.last_order_at, theirs.last_order_at) if t is not None]
        mine.first_order_at = min(firsts) if firsts else None
        mine.last_order_at = max(lasts) if lasts else None
        session.delete(theirs)

    keep.created_at = min(keep.created_at, other.created_at)
    if not keep.name and other.name:
        keep.name = other.name
    if other.notes and other.notes not in keep.notes:
        keep.notes = f"{keep.notes}\n{other.notes}".strip()
    keep.tags = clean_tags([*(keep.tags or []), *(other.tags or [])])
    # Consent must have been given on both records: a refusal on either number stands.
    keep.marketing_consent = bool(keep.marketing_consent and other.marketing_consent)
    keep.updated_at = now
    other.merged_into_id = keep.id
    other.merged_at = now
    other.updated_at = now
    session.flush()
    return keep
