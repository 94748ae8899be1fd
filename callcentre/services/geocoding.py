"""The geocoder's answers cached in the database."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from callcentre.geocoding import Candidate
from callcentre.models import (
    GeocodeCacheEntry,
)
from frontoffice.db import upsert, utcnow

GEOCODE_CACHE_DAYS = 30


def cached_geocode(
    session: Session, provider: str, key: str, *, now: dt.datetime | None = None
) -> list[Candidate] | None:
    """The cached answer to a normalized query (younger than 30 days), or None."""
    now = now or utcnow()
    row = session.scalars(
        select(GeocodeCacheEntry).where(
            GeocodeCacheEntry.provider == provider, GeocodeCacheEntry.query == key
        )
    ).first()
    if row is None or row.created_at < now - dt.timedelta(days=GEOCODE_CACHE_DAYS):
        return None
    return [Candidate(text=c["text"], lat=c["lat"], lon=c["lon"]) for c in row.results]


def store_geocode(
    session: Session,
    provider: str,
    key: str,
    candidates: Sequence[Candidate],
    *,
    now: dt.datetime | None = None,
) -> None:
    """Remember the geocoder's answer to a normalized query (replacing an older one)."""
    now = now or utcnow()
    session.execute(
        upsert(
            session,
            GeocodeCacheEntry.__table__,
            {
                "provider": provider,
                "query": key,
                "results": [c.to_json() for c in candidates],
                "created_at": now,
            },
            ["provider", "query"],
            update={
                "results": lambda st: st.excluded.results,
                "created_at": lambda st: st.excluded.created_at,
            },
        )
    )


def purge_geocode_cache(session: Session, *, now: dt.datetime | None = None) -> int:
    """Delete cached answers older than ``GEOCODE_CACHE_DAYS`` (never read again); how many."""
    cutoff = (now or utcnow()) - dt.timedelta(days=GEOCODE_CACHE_DAYS)
    return session.execute(delete(GeocodeCacheEntry).where(GeocodeCacheEntry.created_at < cutoff)).rowcount
