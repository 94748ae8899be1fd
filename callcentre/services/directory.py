"""The offline address directory: importing streets and houses, and searching them as the operator
types (prefix and typo-tolerant, Cyrillic and Latin)."""

from __future__ import annotations

import bisect
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from callcentre.address_sources import AddressRow
from callcentre.addressing import house_key, house_order, parse_query, rank_streets, street_key, trigrams
from callcentre.models import AddressHouse, AddressStreet

SUGGESTIONS = 10
CANDIDATE_STREETS = 30
PREFIX_STREETS = 200
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


@dataclass(frozen=True)
class StreetIndex:
    """The directory's streets in memory: each trigram of a street key → the streets that have it.

    Built from the ``address_streets`` table and rebuilt when its signature (count, highest id, total
    key length) changes, so every process of a deployment sees an import on its next search.
    """

    signature: tuple[int, int, int]
    grams: dict[str, tuple[int, ...]]
    streets: dict[int, tuple[str, str, str]]
    words: list[tuple[str, int]]

    @classmethod
    def build(cls, session: Session, signature: tuple[int, int, int]) -> StreetIndex:
        """Read every street and index its key."""
        grams: dict[str, list[int]] = {}
        streets: dict[int, tuple[str, str, str]] = {}
        words: list[tuple[str, int]] = []
        for sid, key, name, city in session.execute(
            select(AddressStreet.id, AddressStreet.key, AddressStreet.name, AddressStreet.city)
        ):
            streets[sid] = (key, name, city)
            words.extend((w, sid) for w in key.split())
            for g in trigrams(key):
                grams.setdefault(g, []).append(sid)
        return cls(signature, {g: tuple(ids) for g, ids in grams.items()}, streets, sorted(words))

    def candidates(self, grams: set[str], n: int) -> list[int]:
        """The ``n`` streets sharing the most trigrams with a query."""
        counts: Counter[int] = Counter()
        for g in grams:
            counts.update(self.grams.get(g, ()))
        return [sid for sid, _ in counts.most_common(n)]

    def starting_with(self, prefix: str, n: int) -> list[int]:
        """Up to ``n`` streets with a word that starts with ``prefix`` (the word being typed)."""
        i = bisect.bisect_left(self.words, (prefix, -1))
        out: list[int] = []
        while i < len(self.words) and len(out) < n and self.words[i][0].startswith(prefix):
            out.append(self.words[i][1])
            i += 1
        return out


_INDEXES: dict[str, StreetIndex] = {}
_SIGNATURE = select(
    func.count(AddressStreet.id),
    func.coalesce(func.max(AddressStreet.id), 0),
    func.coalesce(func.sum(func.length(AddressStreet.key)), 0),
)
_INDEX_LOCK = threading.Lock()


def street_index(session: Session) -> StreetIndex:
    """The current in-memory street index of the session's database."""
    signature = session.execute(_SIGNATURE).one()
    signature = (int(signature[0]), int(signature[1]), int(signature[2]))
    where = session.get_bind().url.render_as_string(hide_password=True)
    index = _INDEXES.get(where)
    if index is None or index.signature != signature:
        with _INDEX_LOCK:
            index = _INDEXES.get(where)
            if index is None or index.signature != signature:
                index = _INDEXES[where] = StreetIndex.build(session, signature)
    return index


def search_directory(session: Session, text: str, *, limit: int = SUGGESTIONS) -> list[DirectoryHouse]:
    """Houses that answer what the operator typed, best first: the street by trigrams of its key (so
    prefixes, typos and either script match), the house by its number's prefix."""
    query = parse_query(text)
    grams = trigrams(query.street, prefix=not query.house)
    if not grams:
        return []
    index = street_index(session)
    ids = index.candidates(grams, CANDIDATE_STREETS)
    if not query.house:
        ids = list(dict.fromkeys([*index.starting_with(query.street_words[-1], PREFIX_STREETS), *ids]))
    ranked = rank_streets(
        query.street, ((sid, index.streets[sid][0]) for sid in ids), limit=limit, prefix=not query.house
    )
    if not ranked:
        return []
    scores = dict(ranked)
    nth = (
        func.row_number()
        .over(partition_by=AddressHouse.street_id, order_by=(func.length(AddressHouse.key), AddressHouse.key))
        .label("nth")
    )
    houses = select(
        AddressHouse.street_id, AddressHouse.number, AddressHouse.key, AddressHouse.lat, AddressHouse.lon, nth
    ).where(AddressHouse.street_id.in_(list(scores)))
    if query.house:
        houses = houses.where(AddressHouse.key.like(f"{query.house}%"))
    per_street = houses.subquery()
    found = session.execute(select(per_street).where(per_street.c.nth <= limit)).all()
    # The best street's matching houses first when a house is typed; else one house of each street in
    # turn, so that the streets the typed prefix may mean are all offered.
    found.sort(
        key=lambda h: (
            (h.key != query.house, -scores[h.street_id], house_order(h.key))
            if query.house
            else (h.nth, -scores[h.street_id], house_order(h.key))
        )
    )
    out = []
    for h in found[:limit]:
        _key, name, city = index.streets[h.street_id]
        exact = 1.0 if query.house and h.key == query.house else 0.9
        out.append(DirectoryHouse(name, h.number, city, h.lat, h.lon, round(scores[h.street_id] * exact, 3)))
    return out


#: A directory answer this good is taken as the address without asking the geocoder.
SURE = 0.6


def directory_geocode(session: Session, text: str) -> list[DirectoryHouse]:
    """The first link of the geocoding chain: directory houses that answer a typed address with its
    house number (empty when the directory does not know it, so the geocoder is asked next)."""
    if not parse_query(text).house:
        return []
    return [h for h in search_directory(session, text, limit=5) if h.score >= SURE]
