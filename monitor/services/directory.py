"""The call centre's client directory as the monitor sees it: a dossier's id and name per phone."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from callcentre.models import Client
from monitor.queries import CLIENT_TABLES, TableProbe


def client_directory(
    session: Session, phones: Sequence[str], probe: TableProbe
) -> dict[str, tuple[int | None, str]]:
    """Client id and name of the call centre's dossier per phone (merged clients followed), if any."""
    if not phones or not probe.has(*CLIENT_TABLES):
        return {}
    c = Client
    try:
        with session.begin_nested():
            rows = session.execute(
                select(c.id, c.phone, c.name, c.merged_into_id).where(c.phone.in_(list(phones)))
            ).all()
            survivors = {r.merged_into_id for r in rows if r.merged_into_id is not None}
            into = {}
            if survivors:
                into = {
                    r.id: (r.id, r.name)
                    for r in session.execute(select(c.id, c.name).where(c.id.in_(survivors)))
                }
    except SQLAlchemyError:
        probe.forget()
        return {}
    out: dict[str, tuple[int | None, str]] = {}
    for r in rows:
        if r.merged_into_id is not None and r.merged_into_id in into:
            out[r.phone] = into[r.merged_into_id]
        else:
            out[r.phone] = (r.id, r.name or "")
    return out
