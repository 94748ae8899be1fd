"""The offline address directory: importing streets and houses, and searching them as the operator
types (prefix and typo-tolerant, Cyrillic and Latin)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from callcentre.address_sources import AddressRow
from callcentre.addressing import house_key, house_order, parse_query, rank_streets, street_key, trigrams
from callcentre.models import AddressHouse, AddressStreet, AddressStreetGram

SUGGESTIONS = 10
CANDIDATE_STREETS = 60
BATCH = 2000


@dataclass(frozen=True)
class DirectoryHouse:
    """A house the directory answers with: display text, street and number, coordinates, how well it
    matched (0…1)."""

    street: str
    house: str
    city: str
    lat: float
    lon: float
    score: float

    @property
    def text(self) -> str:
        """The address as shown to the operator."""
        return f"{self.street}, {self.house}"


@dataclass(frozen=True)
class DirectoryImport:
    """What an import did."""

    rows: int
    streets_added: int
    houses_added: int
    houses_updated: int


@dataclass(frozen=True)
class DirectoryStats:
    """How big the directory is."""

    streets: int
    houses: int


def directory_stats(session: Session) -> DirectoryStats:
    """The number of streets and houses in the directory."""
    return DirectoryStats(
        streets=session.scalar(select(func.count()).select_from(AddressStreet)) or 0,
        houses=session.scalar(select(func.count()).select_from(AddressHouse)) or 0,
    )


def import_directory(
    session: Session, rows: Sequence[AddressRow], progress: Callable[[int], None] | None = None
) -> DirectoryImport:
    """Add the rows' streets and houses (a house already known gets the new coordinates).

    Writes in the caller's transaction: a failure leaves nothing behind. ``progress(n)`` is called
    with the number of rows written so far.
    """
    streets: dict[tuple[str, str], int] = {
        (city, key): sid
        for sid, city, key in session.execute(select(AddressStreet.id, AddressStreet.city, AddressStreet.key))
    }
    streets_added = 0
    for row in rows:
        key = street_key(row.street)
        if not key or (row.city, key) in streets:
            continue
        sid = session.execute(
            insert(AddressStreet).values(city=row.city, name=row.street, key=key).returning(AddressStreet.id)
        ).scalar_one()
        streets[(row.city, key)] = sid
        streets_added += 1
        session.execute(
            insert(AddressStreetGram), [{"gram": g, "street_id": sid} for g in sorted(trigrams(key))]
        )
    known = {
        (sid, key): hid
        for hid, sid, key in session.execute(
            select(AddressHouse.id, AddressHouse.street_id, AddressHouse.key)
        )
    }
    added = updated = done = 0
    new: dict[tuple[int, str], dict] = {}
    changed: list[dict] = []
    for row in rows:
        key = street_key(row.street)
        hkey = house_key(row.house)
        done += 1
        if key and hkey:
            sid = streets[(row.city, key)]
            values = {"street_id": sid, "number": row.house, "key": hkey, "lat": row.lat, "lon": row.lon}
            if (sid, hkey) in known:
                changed.append(
                    {"hid": known[(sid, hkey)], "lat": row.lat, "lon": row.lon, "number": row.house}
                )
            else:
                new[(sid, hkey)] = values
        if progress is not None and done % BATCH == 0:
            progress(done)
    new_rows = list(new.values())
    for i in range(0, len(new_rows), BATCH):
        session.execute(insert(AddressHouse), new_rows[i : i + BATCH])
    added = len(new_rows)
    if changed:
        from sqlalchemy import bindparam

        session.connection().execute(
            update(AddressHouse.__table__)
            .where(AddressHouse.__table__.c.id == bindparam("hid"))
            .values(lat=bindparam("lat"), lon=bindparam("lon"), number=bindparam("number")),
            changed,
        )
        updated = len(changed)
    if progress is not None:
        progress(done)
    return DirectoryImport(len(rows), streets_added, added, updated)


def search_directory(session: Session, text: str, *, limit: int = SUGGESTIONS) -> list[DirectoryHouse]:
    """Houses that answer what the operator typed, best first: the street by trigrams of its key (so
    prefixes, typos and either script match), the house by its number's prefix."""
    query = parse_query(text)
    grams = trigrams(query.street, prefix=not query.house)
    if not grams:
        return []
    shared = func.count().label("shared")
    candidates = session.execute(
        select(AddressStreetGram.street_id, shared)
        .where(AddressStreetGram.gram.in_(sorted(grams)))
        .group_by(AddressStreetGram.street_id)
        .order_by(shared.desc())
        .limit(CANDIDATE_STREETS)
    ).all()
    if not candidates:
        return []
    rows = session.execute(
        select(AddressStreet.id, AddressStreet.key, AddressStreet.name, AddressStreet.city).where(
            AddressStreet.id.in_([c.street_id for c in candidates])
        )
    ).all()
    by_id = {r.id: r for r in rows}
    ranked = rank_streets(query.street, ((r.id, r.key) for r in rows), limit=limit)
    if not ranked:
        return []
    scores = dict(ranked)
    houses = select(
        AddressHouse.street_id, AddressHouse.number, AddressHouse.key, AddressHouse.lat, AddressHouse.lon
    ).where(AddressHouse.street_id.in_(list(scores)))
    if query.house:
        houses = houses.where(AddressHouse.key.like(f"{query.house}%"))
    found = session.execute(houses.limit(limit * 40)).all()
    found.sort(
        key=lambda h: (
            -scores[h.street_id],
            h.key != query.house,
            house_order(h.key),
        )
    )
    out = []
    for h in found[:limit]:
        street = by_id[h.street_id]
        exact = 1.0 if query.house and h.key == query.house else 0.9
        out.append(
            DirectoryHouse(
                street.name, h.number, street.city, h.lat, h.lon, round(scores[h.street_id] * exact, 3)
            )
        )
    return out


#: A directory answer this good is taken as the address without asking the geocoder.
SURE = 0.6


def directory_geocode(session: Session, text: str) -> list[DirectoryHouse]:
    """The first link of the geocoding chain: directory houses that answer a typed address with its
    house number (empty when the directory does not know it, so the geocoder is asked next)."""
    if not parse_query(text).house:
        return []
    return [h for h in search_directory(session, text, limit=5) if h.score >= SURE]
