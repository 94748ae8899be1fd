"""Where couriers are and what they are doing: the OsmAnd device directory, positions and
tracks (batched history, a current position that only moves forward), and derived states.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, and_, bindparam, func, or_, select
from sqlalchemy.orm import Session

from couriers.events import CourierMoved
from couriers.models import Courier, CourierBranch, CourierDevice, CourierPosition, CourierShift
from couriers.tracking import TIME_FLAGS, TrackPoint, point_flags, point_problems
from frontoffice.db import publish, upsert, utcnow
from orders.models import Order
from orders.states import OrderStatus

#: Orders in these states count against a courier's maximum.
CARRIED_STATES = (OrderStatus.CONFIRMED, OrderStatus.COOKING, OrderStatus.READY, OrderStatus.IN_DELIVERY)
DEFAULT_SIGNAL_TIMEOUT_S = 300


class CourierState(enum.StrEnum):
    """What a courier is doing now, derived from the shift, the orders carried and the last position."""

    OFFLINE = "offline"
    FREE = "free"
    BUSY = "busy"
    NO_SIGNAL = "no_signal"


# --- device directory (OsmAnd) ----------------------------------------------------------------


@dataclass(frozen=True)
class DeviceEntry:
    """What an OsmAnd device id stands for."""

    courier_id: int
    branch_ids: tuple[int, ...]


class CourierDirectory:
    """A small in-process cache of device id → courier, so location pings skip a lookup.

    Entries live ``ttl_s`` seconds (unknown devices ``miss_ttl_s``), and the whole cache is
    dropped whenever this process changes a courier; other processes see changes after the TTL.
    """

    def __init__(self, ttl_s: float = 60.0, miss_ttl_s: float = 5.0):
        self.ttl_s = ttl_s
        self.miss_ttl_s = miss_ttl_s
        self._entries: dict[str, tuple[float, DeviceEntry | None]] = {}
        self._lock = threading.Lock()

    def device(self, device_id: str, load: Callable[[], DeviceEntry | None]) -> DeviceEntry | None:
        """The entry of a device id, loading it with ``load()`` when not cached."""
        now = time.monotonic()
        cached = self._entries.get(device_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        entry = load()
        with self._lock:
            if len(self._entries) > 50_000:
                self._entries.clear()
            self._entries[device_id] = (now + (self.ttl_s if entry else self.miss_ttl_s), entry)
        return entry

    def invalidate(self) -> None:
        """Forget everything (after a courier was created or changed)."""
        with self._lock:
            self._entries.clear()


def load_device(session: Session, device_id: str) -> DeviceEntry | None:
    """The active courier registered with a device id, with the branches it serves."""
    courier_id = session.scalar(
        select(Courier.id)
        .join(CourierDevice, CourierDevice.courier_id == Courier.id)
        .where(CourierDevice.device_id == device_id, Courier.active.is_(True))
    )
    if courier_id is None:
        return None
    branches = session.scalars(select(CourierBranch.branch_id).where(CourierBranch.courier_id == courier_id))
    return DeviceEntry(courier_id, tuple(sorted(branches)))


# --- positions ------------------------------------------------------------------------------


@dataclass
class TrackResult:
    """What became of a batch of points."""

    accepted: int = 0
    duplicates: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)
    flagged: list[dict[str, Any]] = field(default_factory=list)
    current: TrackPoint | None = None
    moved: bool = False
    event: CourierMoved | None = None


def record_track(
    session: Session,
    courier_id: int,
    points: Sequence[TrackPoint],
    *,
    now: dt.datetime | None = None,
    source: str = "api",
    branch_ids: Iterable[int] = (),
    read_current: bool = True,
) -> TrackResult:
    """Store a batch of points: malformed ones are refused one by one, implausible ones are stored
    with their flags (a time flag keeps a point out of the current position), repeats are stored
    once, history goes in with one ``executemany``, and the current position moves only forward in
    time. The latest fix by ``recorded_at`` wins; on a tie the one received last wins (in the
    history row of that time as in the current position), as Traccar's server decides.
    A move is published (``CourierMoved``) when the session commits. ``read_current=False`` skips
    reading the stored position back when the batch did not move it (callers that answer nothing).
    """
    result = _store_points(
        session.connection(), courier_id, points, now=now or utcnow(), source=source, branch_ids=branch_ids
    )
    if result.event is not None:
        publish(session, result.event)
    if read_current and result.current is None and result.accepted + result.duplicates:
        result.current = current_position(session, courier_id)
    return result


def _store_points(
    conn: Connection,
    courier_id: int,
    points: Sequence[TrackPoint],
    *,
    now: dt.datetime,
    source: str,
    branch_ids: Iterable[int] = (),
) -> TrackResult:
    """The Core work of :func:`record_track` on the connection of its write transaction; the
    move (``result.event``) is left for the caller to publish in that transaction."""
    result = TrackResult()
    valid: dict[dt.datetime, tuple[TrackPoint, tuple[str, ...]]] = {}
    for i, point in enumerate(points):
        problems = point_problems(point)
        if problems:
            result.rejected.append({"index": i, "errors": problems})
            continue
        flags = point_flags(point, now)
        if flags:
            result.flagged.append({"index": i, "flags": list(flags)})
        if point.recorded_at in valid:
            result.duplicates += 1  # the later point of the batch wins the tie
        valid[point.recorded_at] = (point, flags)
    if not valid:
        return result
    stored = list(valid.values())
    written = _insert_history(conn, courier_id, stored, now, source)
    result.accepted = written
    result.duplicates += len(valid) - written

    current = [p for p, flags in stored if TIME_FLAGS.isdisjoint(flags)]
    if not current:
        return result
    newest = max(current, key=lambda p: p.recorded_at)
    moved = conn.execute(
        _move_statement(conn.dialect.name),
        {
            "courier_id": courier_id,
            "recorded_at": newest.recorded_at,
            "received_at": now,
            "lat": newest.lat,
            "lon": newest.lon,
            "accuracy": newest.accuracy,
            "speed": newest.speed,
            "bearing": newest.bearing,
            "altitude": newest.altitude,
            "battery": newest.battery,
        },
    ).first()
    if moved is not None:
        result.moved = True
        result.current = newest
        result.event = CourierMoved(
            courier_id=courier_id,
            lat=newest.lat,
            lon=newest.lon,
            at=newest.recorded_at,
            branch_ids=tuple(branch_ids),
        )
    return result


_POSITION_COLUMNS = (
    "recorded_at",
    "received_at",
    "lat",
    "lon",
    "accuracy",
    "speed",
    "bearing",
    "altitude",
    "battery",
)
_HISTORY_COLUMNS = ("courier_id", *_POSITION_COLUMNS, "source", "flags")
#: What a fix says; a fix with the same time that differs in one of these replaces the stored one.
_FIX_COLUMNS = ("lat", "lon", "accuracy", "speed", "bearing", "altitude", "battery")


@functools.cache
def _history_sql(dialect: str) -> str:
    """The driver-level insert of history rows for one dialect (built once)."""
    mark, differs = ("?", "IS NOT") if dialect == "sqlite" else ("%s", "IS DISTINCT FROM")
    table = "courier_track_points"
    replaced = [c for c in _HISTORY_COLUMNS if c not in ("courier_id", "recorded_at")]
    return (
        f"INSERT INTO {table} ({', '.join(_HISTORY_COLUMNS)}) "
        f"VALUES ({', '.join(mark for _ in _HISTORY_COLUMNS)}) "
        "ON CONFLICT (courier_id, recorded_at) DO UPDATE SET "
        + ", ".join(f"{c} = excluded.{c}" for c in replaced)
        + " WHERE "
        + " OR ".join(f"{table}.{c} {differs} excluded.{c}" for c in _FIX_COLUMNS)
    )


def _insert_history(
    conn: Connection,
    courier_id: int,
    points: list[tuple[TrackPoint, tuple[str, ...]]],
    now: dt.datetime,
    source: str,
) -> int:
    """Write flagged points to the history with one driver-level ``executemany``; returns how many
    rows were inserted or replaced.

    ``ON CONFLICT (courier_id, recorded_at) DO UPDATE … WHERE`` the fix differs: an exact repeat
    changes nothing, a new fix with the same time replaces the stored one (received last wins).
    The driver's rowcount (summed over the batch by sqlite3 and psycopg alike) counts the rows
    really written. The
    statement bypasses SQLAlchemy's per-row parameter processing (it dominated big batches), so
    timestamps are given in each backend's own form: aware datetimes to PostgreSQL, and to SQLite
    the naive-UTC text SQLAlchemy itself stores (the ORM reads both back as aware UTC).
    """
    sqlite_backend = conn.dialect.name == "sqlite"
    sql = _history_sql(conn.dialect.name)
    if sqlite_backend:

        def stamp(t: dt.datetime) -> Any:
            return t.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")

    else:

        def stamp(t: dt.datetime) -> Any:
            return t

    received = stamp(now)
    rows = [
        (
            courier_id,
            stamp(p.recorded_at),
            received,
            p.lat,
            p.lon,
            p.accuracy,
            p.speed,
            p.bearing,
            p.altitude,
            p.battery,
            source,
            ",".join(flags),
        )
        for p, flags in points
    ]
    cursor = conn.connection.cursor()
    try:
        cursor.executemany(sql, rows)
        return cursor.rowcount
    finally:
        cursor.close()


@functools.cache
def _move_statement(dialect: str) -> Any:
    """The upsert of the current position that only moves forward in time, or to a different fix
    with the same time (received last wins the tie); built once per dialect."""
    table = CourierPosition.__table__
    return upsert(
        dialect,
        table,
        {c: bindparam(c, type_=table.c[c].type) for c in ("courier_id", *_POSITION_COLUMNS)},
        ["courier_id"],
        update={c: (lambda st, c=c: st.excluded[c]) for c in _POSITION_COLUMNS},
        where=lambda st: or_(
            table.c.recorded_at < st.excluded.recorded_at,
            and_(
                table.c.recorded_at == st.excluded.recorded_at,
                or_(*(table.c[c].is_distinct_from(st.excluded[c]) for c in _FIX_COLUMNS)),
            ),
        ),
    ).returning(table.c.courier_id)


def current_position(session: Session, courier_id: int) -> TrackPoint | None:
    """The latest known position of a courier."""
    pos = session.get(CourierPosition, courier_id, populate_existing=True)
    if pos is None:
        return None
    return TrackPoint(
        recorded_at=pos.recorded_at,
        lat=pos.lat,
        lon=pos.lon,
        accuracy=pos.accuracy,
        speed=pos.speed,
        bearing=pos.bearing,
        altitude=pos.altitude,
        battery=pos.battery,
    )


# --- states ---------------------------------------------------------------------------------


def derive_state(
    on_shift: bool, carried: int, last_fix: dt.datetime | None, now: dt.datetime, timeout_s: int
) -> CourierState:
    """The state of one courier: off shift → offline; stale or no position → no signal; orders → busy."""
    if not on_shift:
        return CourierState.OFFLINE
    if last_fix is None or (now - last_fix).total_seconds() > timeout_s:
        return CourierState.NO_SIGNAL
    return CourierState.BUSY if carried else CourierState.FREE


def courier_states(
    session: Session,
    now: dt.datetime | None = None,
    *,
    signal_timeout_s: int = DEFAULT_SIGNAL_TIMEOUT_S,
    courier_ids: Iterable[int] | None = None,
) -> dict[int, CourierState]:
    """The state of every active courier (or of the given ones), keyed by courier id."""
    now = now or utcnow()
    ids_q = select(Courier.id).where(Courier.active.is_(True))
    if courier_ids is not None:
        ids_q = ids_q.where(Courier.id.in_(list(courier_ids)))
    ids = list(session.scalars(ids_q))
    if not ids:
        return {}
    on_shift = set(
        session.scalars(
            select(CourierShift.courier_id).where(
                CourierShift.ended_at.is_(None), CourierShift.courier_id.in_(ids)
            )
        )
    )
    carried = dict(
        session.execute(
            select(Order.courier_id, func.count())
            .where(Order.courier_id.in_(ids), Order.status.in_(CARRIED_STATES))
            .group_by(Order.courier_id)
        ).all()
    )
    fixes = dict(
        session.execute(
            select(CourierPosition.courier_id, CourierPosition.recorded_at).where(
                CourierPosition.courier_id.in_(ids)
            )
        ).all()
    )
    return {
        cid: derive_state(cid in on_shift, carried.get(cid, 0), fixes.get(cid), now, signal_timeout_s)
        for cid in ids
    }


def carried_count(session: Session, courier_id: int) -> int:
    """How many orders a courier has taken and not finished."""
    return (
        session.scalar(
            select(func.count())
            .select_from(Order)
            .where(Order.courier_id == courier_id, Order.status.in_(CARRIED_STATES))
        )
        or 0
    )
