"""Courier use cases: the courier register, app sessions, shifts and cash, positions, the order
pool (claim, release, pick up, deliver, fail), dispatch and auto-dispatch.

Taking an order is one conditional ``UPDATE orders … WHERE courier_id IS NULL AND …``
(DESIGN.md): the database decides who wins, on SQLite and PostgreSQL alike. Status moves go
through :func:`orders.services.change_status`, so the audit trail and the events of an order
stay in one place; assignments are audited here with ``OrderEvent`` rows of their own.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import enum
import functools
import hashlib
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, and_, bindparam, exists, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from couriers.models import (
    VEHICLES,
    Courier,
    CourierBranch,
    CourierDelivery,
    CourierPosition,
    CourierShift,
    CourierTrackPoint,
    DeliveryProof,
)
from couriers.spatial import (
    GridIndex,
    distance_m,
    eta_seconds,
    path_length_m,
    rank_by_geodesic,
    valid_coordinates,
)
from couriers.tracking import TrackPoint, point_problems
from frontoffice.auth import authenticate, issue_token
from frontoffice.db import publish, upsert, utcnow
from frontoffice.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthorized
from frontoffice.models import Role, User
from frontoffice.phones import InvalidPhone, normalize_phone
from orders.events import CourierAssigned, CourierMoved, CourierShiftChanged
from orders.models import Branch, Order, OrderEvent
from orders.services import change_status
from orders.states import POOL_STATES, TERMINAL, OrderStatus

S = OrderStatus
#: Orders in these states count against a courier's maximum.
CARRIED_STATES = (S.CONFIRMED, S.COOKING, S.READY, S.IN_DELIVERY)
POOL = tuple(sorted(POOL_STATES))
DEFAULT_SIGNAL_TIMEOUT_S = 300

#: Why a delivery failed; ``other`` needs a comment.
FAIL_REASONS = {
    "client_absent": "Nobody at the door and the client does not answer",
    "client_refused": "The client refused the order",
    "wrong_address": "The address does not exist or is wrong",
    "unreachable": "The place cannot be reached (closed area, road blocked)",
    "damaged": "The order was damaged on the way",
    "other": "Another reason (explain in the comment)",
}

#: Accepted proof images: content type → the first bytes every such file starts with.
PROOF_TYPES = {"image/jpeg": b"\xff\xd8\xff", "image/png": b"\x89PNG\r\n\x1a\n", "image/webp": b"RIFF"}
PROOF_KINDS = ("photo", "signature")
MAX_PROOF_BYTES = 512 * 1024


class CourierState(enum.StrEnum):
    """What a courier is doing now, derived from the shift, the orders carried and the last position."""

    OFFLINE = "offline"
    FREE = "free"
    BUSY = "busy"
    NO_SIGNAL = "no_signal"


def _field_error(name: str, message: str) -> dict[str, str]:
    return {"field": name, "message": message, "type": "value_error"}


# --- the register ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CourierData:
    """The editable facts of a courier (a field left None is not changed on update)."""

    name: str | None = None
    phone: str | None = None
    vehicle: str | None = None
    max_active_orders: int | None = None
    branch_ids: Sequence[int] | None = None
    user_id: int | None = None
    device_id: str | None = None
    active: bool | None = None
    unlink_user: bool = False
    clear_device: bool = False


def get_courier(session: Session, courier_id: int) -> Courier:
    """The courier, or :class:`NotFound`."""
    courier = session.get(Courier, courier_id)
    if courier is None:
        raise NotFound(f"There is no courier {courier_id}.")
    return courier


def courier_for_user(session: Session, user: User) -> Courier:
    """The active courier profile of a logged-in user; 403 when the user has none."""
    courier = session.scalar(select(Courier).where(Courier.user_id == user.id))
    if courier is None:
        raise Forbidden(
            f"User {user.username} has no courier profile: the courier API answers only for couriers "
            "(a manager links a courier to a user in /api/v1/couriers)."
        )
    if not courier.active:
        raise Forbidden(f"Courier {courier.name} is switched off; ask a manager.")
    return courier


def _check_data(session: Session, data: CourierData, region: str, current: Courier | None) -> list[dict]:
    errors: list[dict] = []
    if data.name is not None and not data.name.strip():
        errors.append(_field_error("name", "The name must not be empty."))
    if data.vehicle is not None and data.vehicle not in VEHICLES:
        errors.append(_field_error("vehicle", f"The vehicle must be one of {', '.join(VEHICLES)}."))
    if data.max_active_orders is not None and not 1 <= data.max_active_orders <= 20:
        errors.append(_field_error("max_active_orders", "From 1 to 20 orders at a time."))
    if data.phone:
        try:
            normalize_phone(data.phone, region)
        except InvalidPhone as exc:
            errors.append(_field_error("phone", str(exc)))
    if data.branch_ids is not None:
        known = set(session.scalars(select(Branch.id).where(Branch.id.in_(list(data.branch_ids)))))
        for bid in data.branch_ids:
            if bid not in known:
                errors.append(_field_error("branch_ids", f"There is no branch {bid}."))
        if not data.branch_ids:
            errors.append(_field_error("branch_ids", "A courier serves at least one branch."))
    if data.user_id is not None:
        user = session.get(User, data.user_id)
        if user is None:
            errors.append(_field_error("user_id", f"There is no user {data.user_id}."))
        elif user.role != Role.COURIER:
            errors.append(_field_error("user_id", f"User {user.username} is a {user.role}, not a courier."))
        else:
            other = session.scalar(select(Courier.id).where(Courier.user_id == data.user_id))
            if other is not None and (current is None or other != current.id):
                errors.append(_field_error("user_id", f"User {user.username} is already courier {other}."))
    if data.device_id is not None:
        device = data.device_id.strip()
        if not device or len(device) > 100:
            errors.append(_field_error("device_id", "A device id has 1 to 100 characters."))
        else:
            other = session.scalar(select(Courier.id).where(Courier.device_id == device))
            if other is not None and (current is None or other != current.id):
                errors.append(
                    _field_error("device_id", f"Device {device!r} is registered to courier {other}.")
                )
    return errors


def create_courier(session: Session, data: CourierData, *, region: str = "RU") -> Courier:
    """Register a courier; all problems are reported at once (422)."""
    errors = _check_data(session, data, region, None)
    if data.name is None:
        errors.append(_field_error("name", "A courier needs a name."))
    if data.branch_ids is None:
        errors.append(_field_error("branch_ids", "A courier serves at least one branch."))
    if errors:
        raise InvalidInput(
            "The courier cannot be registered: " + "; ".join(e["message"] for e in errors), errors=errors
        )
    courier = Courier(
        name=(data.name or "").strip(),
        phone=normalize_phone(data.phone, region) if data.phone else "",
        vehicle=data.vehicle or "car",
        max_active_orders=data.max_active_orders or 3,
        active=True if data.active is None else data.active,
        user_id=data.user_id,
        device_id=data.device_id.strip() if data.device_id else None,
    )
    courier.branches = [CourierBranch(branch_id=b) for b in dict.fromkeys(data.branch_ids or ())]
    session.add(courier)
    session.flush()
    return courier


def update_courier(session: Session, courier_id: int, data: CourierData, *, region: str = "RU") -> Courier:
    """Change a courier's facts; fields left None stay as they are."""
    courier = get_courier(session, courier_id)
    errors = _check_data(session, data, region, courier)
    if errors:
        raise InvalidInput(
            "The courier cannot be changed: " + "; ".join(e["message"] for e in errors), errors=errors
        )
    if data.name is not None:
        courier.name = data.name.strip()
    if data.phone is not None:
        courier.phone = normalize_phone(data.phone, region) if data.phone else ""
    if data.vehicle is not None:
        courier.vehicle = data.vehicle
    if data.max_active_orders is not None:
        courier.max_active_orders = data.max_active_orders
    if data.active is not None:
        courier.active = data.active
    if data.unlink_user:
        courier.user_id = None
    elif data.user_id is not None:
        courier.user_id = data.user_id
    if data.clear_device:
        courier.device_id = None
    elif data.device_id is not None:
        courier.device_id = data.device_id.strip()
    if data.branch_ids is not None:
        wanted = list(dict.fromkeys(data.branch_ids))
        courier.branches = [b for b in courier.branches if b.branch_id in wanted]
        have = {b.branch_id for b in courier.branches}
        courier.branches.extend(CourierBranch(branch_id=b) for b in wanted if b not in have)
    session.flush()
    return courier


# --- app sessions ---------------------------------------------------------------------------


def open_app_session(session: Session, login: str, password: str, device_name: str) -> tuple[str, Courier]:
    """Log a courier's phone in: a bearer token for a user with the courier role and an active profile."""
    user = authenticate(session, login, password)
    if user is None:
        raise Unauthorized("Unknown login or wrong password.")
    if user.role != Role.COURIER:
        raise Forbidden("Only couriers sign in here; staff use /api/v1/tokens.")
    courier = courier_for_user(session, user)
    token = issue_token(session, user, f"courier app: {device_name.strip() or 'phone'}")
    return token, courier


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
        select(Courier.id).where(Courier.device_id == device_id, Courier.active.is_(True))
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
) -> TrackResult:
    """Store a batch of points: impossible ones are refused one by one, repeats are stored once,
    history goes in with one ``executemany``, and the current position moves only forward in time.
    A move is published (``CourierMoved``) when the session commits.
    """
    result = store_points(
        session.connection(), courier_id, points, now=now or utcnow(), source=source, branch_ids=branch_ids
    )
    if result.event is not None:
        publish(session, result.event)
    if result.current is None and result.accepted + result.duplicates:
        result.current = current_position(session, courier_id)
    return result


def store_points(
    conn: Connection,
    courier_id: int,
    points: Sequence[TrackPoint],
    *,
    now: dt.datetime,
    source: str,
    branch_ids: Iterable[int] = (),
) -> TrackResult:
    """The Core work of :func:`record_track` on a connection in a write transaction.

    The caller publishes ``result.event`` after its commit (hot paths use this without a Session).
    """
    result = TrackResult()
    valid: dict[dt.datetime, TrackPoint] = {}
    for i, point in enumerate(points):
        problems = point_problems(point, now)
        if problems:
            result.rejected.append({"index": i, "errors": problems})
        elif point.recorded_at in valid:
            result.duplicates += 1
        else:
            valid[point.recorded_at] = point
    if not valid:
        return result
    inserted = _insert_history(conn, courier_id, list(valid.values()), now, source)
    result.accepted = inserted
    result.duplicates += len(valid) - inserted

    newest = max(valid.values(), key=lambda p: p.recorded_at)
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
_HISTORY_COLUMNS = ("courier_id", *_POSITION_COLUMNS, "source")


def _insert_history(
    conn: Connection, courier_id: int, points: list[TrackPoint], now: dt.datetime, source: str
) -> int:
    """Append points to the history with one driver-level ``executemany``; returns how many were new.

    ``ON CONFLICT (courier_id, recorded_at) DO NOTHING`` drops repeats; the driver's rowcount
    (summed over the batch by sqlite3 and psycopg alike) counts the rows really inserted. The
    statement bypasses SQLAlchemy's per-row parameter processing (it dominated big batches), so
    timestamps are given in each backend's own form: aware datetimes to PostgreSQL, and to SQLite
    the naive-UTC text SQLAlchemy itself stores (the ORM reads both back as aware UTC).
    """
    sqlite_backend = conn.dialect.name == "sqlite"
    mark = "?" if sqlite_backend else "%s"
    sql = (
        f"INSERT INTO courier_track_points ({', '.join(_HISTORY_COLUMNS)}) "
        f"VALUES ({', '.join(mark for _ in _HISTORY_COLUMNS)}) "
        "ON CONFLICT (courier_id, recorded_at) DO NOTHING"
    )
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
        )
        for p in points
    ]
    cursor = conn.connection.cursor()
    try:
        cursor.executemany(sql, rows)
        return cursor.rowcount
    finally:
        cursor.close()


@functools.cache
def _move_statement(dialect: str) -> Any:
    """The upsert of the current position that only moves forward in time (built once per dialect)."""
    table = CourierPosition.__table__
    return upsert(
        dialect,
        table,
        {c: bindparam(c, type_=table.c[c].type) for c in ("courier_id", *_POSITION_COLUMNS)},
        ["courier_id"],
        update={c: (lambda st, c=c: st.excluded[c]) for c in _POSITION_COLUMNS},
        where=lambda st: table.c.recorded_at < st.excluded.recorded_at,
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


# --- shifts and cash ------------------------------------------------------------------------


def open_shift(session: Session, courier_id: int) -> CourierShift | None:
    """The courier's open shift, if any."""
    return session.scalar(
        select(CourierShift).where(CourierShift.courier_id == courier_id, CourierShift.ended_at.is_(None))
    )


def _lock_courier(session: Session, courier_id: int) -> None:
    # PostgreSQL: serialize this courier's claims and shift changes (SQLite writers are serial anyway).
    session.execute(select(Courier.id).where(Courier.id == courier_id).with_for_update())


def start_shift(
    session: Session, courier: Courier, *, opening_cash: int = 0, now: dt.datetime | None = None
) -> CourierShift:
    """Open a shift with the change float the courier takes along; 409 if one is already open."""
    now = now or utcnow()
    if opening_cash < 0:
        raise InvalidInput(
            "The opening cash cannot be negative.", errors=[_field_error("opening_cash", "Negative.")]
        )
    _lock_courier(session, courier.id)
    current = open_shift(session, courier.id)
    if current is not None:
        raise Conflict(
            f"A shift is already open since {current.started_at.isoformat()}; end it first.",
            shift_id=current.id,
        )
    shift = CourierShift(courier_id=courier.id, started_at=now, opening_cash=opening_cash, cash_collected=0)
    session.add(shift)
    try:
        session.flush()
    except IntegrityError:
        raise Conflict("A shift was opened at the same moment; reload.") from None
    publish(session, CourierShiftChanged(courier.id, True, now, tuple(courier.branch_ids)))
    return shift


@dataclass
class ShiftReport:
    """What happened in one shift: time, orders, cash, distance."""

    shift: CourierShift
    courier: Courier
    delivered: int
    failed: int
    deliveries: list[tuple[CourierDelivery, str]]
    distance_m: float
    expected_cash: int
    discrepancy: int | None


def shift_report(session: Session, shift: CourierShift, now: dt.datetime | None = None) -> ShiftReport:
    """The report of a shift (open or closed)."""
    now = now or utcnow()
    courier = get_courier(session, shift.courier_id)
    rows = session.execute(
        select(CourierDelivery, Order.number)
        .join(Order, Order.id == CourierDelivery.order_id)
        .where(CourierDelivery.shift_id == shift.id)
        .order_by(CourierDelivery.at)
    ).all()
    deliveries = [(r[0], r[1]) for r in rows]
    end = shift.ended_at or now
    track = session.execute(
        select(CourierTrackPoint.lat, CourierTrackPoint.lon)
        .where(
            CourierTrackPoint.courier_id == shift.courier_id,
            CourierTrackPoint.recorded_at >= shift.started_at,
            CourierTrackPoint.recorded_at <= end,
        )
        .order_by(CourierTrackPoint.recorded_at)
    ).all()
    expected = shift.opening_cash + shift.cash_collected
    return ShiftReport(
        shift=shift,
        courier=courier,
        delivered=sum(1 for d, _ in deliveries if d.outcome == "delivered"),
        failed=sum(1 for d, _ in deliveries if d.outcome == "failed"),
        deliveries=deliveries,
        distance_m=round(path_length_m((r[0], r[1]) for r in track), 1),
        expected_cash=expected,
        discrepancy=None if shift.closing_cash is None else shift.closing_cash - expected,
    )


def end_shift(
    session: Session, courier: Courier, *, closing_cash: int | None = None, now: dt.datetime | None = None
) -> ShiftReport:
    """Close the open shift, recording the cash handed in (default: all cash on hand); 409 while
    the courier still carries orders."""
    now = now or utcnow()
    _lock_courier(session, courier.id)
    shift = open_shift(session, courier.id)
    if shift is None:
        raise Conflict("No shift is open.")
    carried = session.scalars(
        select(Order.number).where(Order.courier_id == courier.id, Order.status.in_(CARRIED_STATES))
    ).all()
    if carried:
        raise Conflict(
            f"Finish or release your orders before ending the shift: {', '.join(carried)}.",
            orders=list(carried),
        )
    if closing_cash is not None and closing_cash < 0:
        raise InvalidInput(
            "The cash handed in cannot be negative.", errors=[_field_error("cash_handed_in", "Negative.")]
        )
    shift.ended_at = now
    shift.closing_cash = shift.opening_cash + shift.cash_collected if closing_cash is None else closing_cash
    session.flush()
    publish(session, CourierShiftChanged(courier.id, False, now, tuple(courier.branch_ids)))
    return shift_report(session, shift, now)


def get_shift(session: Session, courier_id: int, shift_id: int) -> CourierShift:
    """One of the courier's own shifts, or 404."""
    shift = session.get(CourierShift, shift_id)
    if shift is None or shift.courier_id != courier_id:
        raise NotFound(f"You have no shift {shift_id}.")
    return shift


# --- audit ----------------------------------------------------------------------------------


def audit(
    session: Session,
    order_id: int,
    kind: str,
    *,
    actor_id: int | None,
    at: dt.datetime,
    reason: str | None = None,
    payload: dict[str, Any] | None = None,
) -> None:
    """Write one entry of an order's audit trail (assignments; status moves are audited by orders)."""
    session.add(
        OrderEvent(
            order_id=order_id, at=at, actor_id=actor_id, kind=kind, reason=reason, payload=payload or {}
        )
    )


# --- taking and giving back orders -----------------------------------------------------------

_orders = Order.__table__


def _take_statement(order_id: int, courier: Courier, now: dt.datetime):
    """The one conditional UPDATE that gives an unclaimed pool order to a courier who may take it."""
    carried_by = _orders.alias("carried")
    carried = (
        select(func.count())
        .select_from(carried_by)
        .where(carried_by.c.courier_id == courier.id, carried_by.c.status.in_(CARRIED_STATES))
        .scalar_subquery()
    )
    shift_open = exists().where(CourierShift.courier_id == courier.id, CourierShift.ended_at.is_(None))
    serves = exists().where(
        CourierBranch.courier_id == courier.id, CourierBranch.branch_id == _orders.c.branch_id
    )
    return (
        update(_orders)
        .where(
            _orders.c.id == order_id,
            _orders.c.courier_id.is_(None),
            _orders.c.status.in_(POOL),
            _orders.c.kind == "delivery",
            serves,
            shift_open,
            carried < courier.max_active_orders,
        )
        .values(courier_id=courier.id, assigned_at=now, version=_orders.c.version + 1)
        .returning(_orders.c.branch_id)
    )


def _give(session: Session, order_id: int, courier: Courier, now: dt.datetime) -> int | None:
    _lock_courier(session, courier.id)
    row = session.execute(_take_statement(order_id, courier, now)).first()
    return None if row is None else row[0]


def _after_take(
    session: Session,
    order_id: int,
    branch_id: int,
    courier: Courier,
    actor_id: int | None,
    now: dt.datetime,
    by: str,
) -> Order:
    audit(
        session,
        order_id,
        "courier_assigned",
        actor_id=actor_id,
        at=now,
        payload={"courier_id": courier.id, "courier_name": courier.name, "by": by},
    )
    publish(session, CourierAssigned(order_id, branch_id, courier.id, None, now, actor_id))
    session.flush()
    return session.get(Order, order_id, populate_existing=True)


def _why_not(session: Session, order_id: int, courier: Courier, *, as_courier: bool) -> Exception:
    """The most useful refusal after a conditional UPDATE touched nothing."""
    order = session.get(Order, order_id, populate_existing=True)
    serves = set(courier.branch_ids)
    if order is None or (as_courier and (order.kind != "delivery" or order.branch_id not in serves)):
        return NotFound(
            f"There is no order {order_id} in your pool." if as_courier else f"There is no order {order_id}."
        )
    if order.kind != "delivery":
        return Conflict(f"Order {order.number} is a {order.kind} order; it has no courier.")
    if order.courier_id is not None:
        if order.courier_id == courier.id:
            return Conflict(
                f"Order {order.number} is already {'yours' if as_courier else 'theirs'} ({order.status})."
            )
        if as_courier:
            return Conflict(f"Order {order.number} was already taken by another courier.")
        return Conflict(
            f"Order {order.number} already has courier {order.courier_id}; unassign it first.",
            courier_id=order.courier_id,
        )
    if order.status not in POOL_STATES:
        return Conflict(
            f"Order {order.number} is {order.status}; only confirmed, cooking or ready orders can be taken."
        )
    who = "You" if as_courier else f"Courier {courier.name}"
    if not courier.active:
        return Conflict(f"{who} is switched off.")
    if order.branch_id not in serves:
        return Conflict(f"{who} does not deliver for branch {order.branch_id}.")
    if open_shift(session, courier.id) is None:
        return Conflict(
            f"{who} must start a shift before taking orders." if as_courier else f"{who} is not on shift."
        )
    carried = carried_count(session, courier.id)
    if carried >= courier.max_active_orders:
        return Conflict(
            f"{who} already carries {carried} orders, the maximum is {courier.max_active_orders}.",
            carried=carried,
            max_active_orders=courier.max_active_orders,
        )
    return Conflict(f"Order {order.number} changed at the same moment; reload and try again.")


def claim_order(
    session: Session, courier: Courier, order_id: int, *, actor_id: int | None, now: dt.datetime | None = None
) -> Order:
    """A courier takes an order from the pool: exactly one courier wins, the others get 409.

    Claiming an order the courier already has answers it again (a retry), changing nothing.
    """
    now = now or utcnow()
    branch_id = _give(session, order_id, courier, now)
    if branch_id is not None:
        return _after_take(session, order_id, branch_id, courier, actor_id, now, "courier")
    order = session.get(Order, order_id, populate_existing=True)
    if order is not None and order.courier_id == courier.id and order.status in CARRIED_STATES:
        return order
    raise _why_not(session, order_id, courier, as_courier=True)


def _own_order(session: Session, courier: Courier, order_id: int) -> Order:
    order = session.get(Order, order_id, populate_existing=True)
    if order is None or order.courier_id != courier.id:
        raise NotFound(f"You have no order {order_id}.")
    return order


def _drop(
    session: Session,
    order: Order,
    courier_id: int,
    *,
    actor_id: int | None,
    now: dt.datetime,
    by: str,
    reason: str | None,
) -> Order:
    row = session.execute(
        update(_orders)
        .where(_orders.c.id == order.id, _orders.c.courier_id == courier_id, _orders.c.status.in_(POOL))
        .values(courier_id=None, assigned_at=None, version=_orders.c.version + 1)
        .returning(_orders.c.branch_id)
    ).first()
    if row is None:
        current = session.get(Order, order.id, populate_existing=True)
        status = current.status if current else "gone"
        raise Conflict(f"Order {order.number} is {status}; it can be given back only before pickup.")
    audit(
        session,
        order.id,
        "courier_released" if by == "courier" else "courier_unassigned",
        actor_id=actor_id,
        at=now,
        reason=reason,
        payload={"courier_id": courier_id, "by": by},
    )
    publish(session, CourierAssigned(order.id, row[0], None, courier_id, now, actor_id))
    session.flush()
    return session.get(Order, order.id, populate_existing=True)


def release_order(
    session: Session,
    courier: Courier,
    order_id: int,
    *,
    actor_id: int | None,
    reason: str | None = None,
    now: dt.datetime | None = None,
) -> Order:
    """A courier gives an order back to the pool (only before pickup)."""
    order = _own_order(session, courier, order_id)
    return _drop(
        session, order, courier.id, actor_id=actor_id, now=now or utcnow(), by="courier", reason=reason
    )


def _require_shift(session: Session, courier: Courier) -> CourierShift:
    shift = open_shift(session, courier.id)
    if shift is None:
        raise Conflict("Start a shift first.")
    return shift


def pickup_order(
    session: Session, courier: Courier, order_id: int, *, actor_id: int | None, now: dt.datetime | None = None
) -> Order:
    """The courier leaves the branch with a ready order (ready → in_delivery)."""
    order = _own_order(session, courier, order_id)
    _require_shift(session, courier)
    return change_status(
        session, order.id, S.IN_DELIVERY, actor_id=actor_id, now=now, payload={"courier_id": courier.id}
    )


@dataclass(frozen=True)
class ProofUpload:
    """A photo or signature image sent with a delivery, base64 encoded."""

    kind: str
    content_type: str
    data_base64: str


def decode_proofs(proofs: Sequence[ProofUpload]) -> list[tuple[str, str, bytes]]:
    """Decode and check proof images (kind, type, size, magic bytes); 422 naming each bad one."""
    errors: list[dict] = []
    out: list[tuple[str, str, bytes]] = []
    if len(proofs) > len(PROOF_KINDS):
        errors.append(
            _field_error("proofs", f"At most {len(PROOF_KINDS)} proofs (one photo, one signature).")
        )
    seen: set[str] = set()
    for i, proof in enumerate(proofs):
        where = f"proofs.{i}"
        if proof.kind not in PROOF_KINDS:
            errors.append(_field_error(f"{where}.kind", f"The kind must be one of {', '.join(PROOF_KINDS)}."))
            continue
        if proof.kind in seen:
            errors.append(_field_error(f"{where}.kind", f"Only one {proof.kind}."))
            continue
        seen.add(proof.kind)
        magic = PROOF_TYPES.get(proof.content_type)
        if magic is None:
            errors.append(_field_error(f"{where}.content_type", f"Accepted types: {', '.join(PROOF_TYPES)}."))
            continue
        try:
            data = base64.b64decode(proof.data_base64, validate=True)
        except (binascii.Error, ValueError):
            errors.append(_field_error(f"{where}.data_base64", "Not valid base64."))
            continue
        if not data:
            errors.append(_field_error(f"{where}.data_base64", "The image is empty."))
        elif len(data) > MAX_PROOF_BYTES:
            errors.append(
                _field_error(
                    f"{where}.data_base64",
                    f"The image has {len(data)} bytes; the limit is {MAX_PROOF_BYTES}.",
                )
            )
        elif not data.startswith(magic) or (proof.content_type == "image/webp" and data[8:12] != b"WEBP"):
            errors.append(
                _field_error(f"{where}.data_base64", f"The bytes are not a {proof.content_type} image.")
            )
        else:
            out.append((proof.kind, proof.content_type, data))
    if errors:
        raise InvalidInput("The proof of delivery is not acceptable.", errors=errors)
    return out


def _stamp(
    session: Session, courier_id: int, lat: float | None, lon: float | None
) -> tuple[float | None, float | None]:
    if lat is not None or lon is not None:
        if not valid_coordinates(lat, lon):
            raise InvalidInput(
                "The position stamp needs a valid lat and lon.",
                errors=[_field_error("lat", "Invalid coordinates.")],
            )
        return lat, lon
    pos = current_position(session, courier_id)
    return (pos.lat, pos.lon) if pos else (None, None)


def deliver_order(
    session: Session,
    courier: Courier,
    order_id: int,
    *,
    actor_id: int | None,
    cash_collected: int | None = None,
    lat: float | None = None,
    lon: float | None = None,
    proofs: Sequence[ProofUpload] = (),
    comment: str = "",
    now: dt.datetime | None = None,
) -> Order:
    """Hand the order over: cash orders record the cash taken (it joins the shift's cash on hand),
    with optional photo/signature and the position where it happened."""
    now = now or utcnow()
    order = _own_order(session, courier, order_id)
    shift = _require_shift(session, courier)
    if order.payment_kind == "cash":
        if cash_collected is None:
            raise InvalidInput(
                f"Order {order.number} is paid in cash: say how much cash you took.",
                errors=[_field_error("cash_collected", "Required for cash orders.")],
                total=str(order.total / 100),
            )
    elif cash_collected:
        raise InvalidInput(
            f"Order {order.number} is paid by {order.payment_kind}; no cash is taken.",
            errors=[_field_error("cash_collected", "Only cash orders collect cash.")],
        )
    cash = cash_collected or 0
    if cash < 0:
        raise InvalidInput("Cash cannot be negative.", errors=[_field_error("cash_collected", "Negative.")])
    decoded = decode_proofs(proofs)
    stamp_lat, stamp_lon = _stamp(session, courier.id, lat, lon)
    payload: dict[str, Any] = {"courier_id": courier.id, "lat": stamp_lat, "lon": stamp_lon}
    if order.payment_kind == "cash":
        payload["cash_collected"] = cash
        payload["cash_expected"] = order.total
    order = change_status(session, order.id, S.DELIVERED, actor_id=actor_id, now=now, payload=payload)
    session.add(
        CourierDelivery(
            order_id=order.id,
            courier_id=courier.id,
            shift_id=shift.id,
            outcome="delivered",
            comment=comment.strip(),
            cash_collected=cash,
            lat=stamp_lat,
            lon=stamp_lon,
            at=now,
        )
    )
    for kind, content_type, data in decoded:
        session.add(
            DeliveryProof(
                order_id=order.id,
                courier_id=courier.id,
                kind=kind,
                content_type=content_type,
                size=len(data),
                sha256=hashlib.sha256(data).hexdigest(),
                data=data,
                created_at=now,
            )
        )
    if cash:
        session.execute(
            update(CourierShift)
            .where(CourierShift.id == shift.id)
            .values(cash_collected=CourierShift.cash_collected + cash)
        )
    session.flush()
    return order


def fail_order(
    session: Session,
    courier: Courier,
    order_id: int,
    *,
    actor_id: int | None,
    reason_code: str,
    comment: str = "",
    lat: float | None = None,
    lon: float | None = None,
    now: dt.datetime | None = None,
) -> Order:
    """The delivery could not be made: a reason code (and a comment for ``other``)."""
    now = now or utcnow()
    if reason_code not in FAIL_REASONS:
        raise InvalidInput(
            f"Unknown reason {reason_code!r}; known: {', '.join(FAIL_REASONS)}.",
            errors=[_field_error("reason_code", "Unknown reason.")],
        )
    comment = comment.strip()
    if reason_code == "other" and not comment:
        raise InvalidInput(
            "Explain the reason in the comment.", errors=[_field_error("comment", "Required for other.")]
        )
    order = _own_order(session, courier, order_id)
    shift = _require_shift(session, courier)
    stamp_lat, stamp_lon = _stamp(session, courier.id, lat, lon)
    reason = f"{reason_code}: {comment}" if comment else reason_code
    order = change_status(
        session,
        order.id,
        S.FAILED,
        actor_id=actor_id,
        reason=reason,
        now=now,
        payload={"courier_id": courier.id, "reason_code": reason_code, "lat": stamp_lat, "lon": stamp_lon},
    )
    session.add(
        CourierDelivery(
            order_id=order.id,
            courier_id=courier.id,
            shift_id=shift.id,
            outcome="failed",
            reason_code=reason_code,
            comment=comment,
            cash_collected=0,
            lat=stamp_lat,
            lon=stamp_lon,
            at=now,
        )
    )
    session.flush()
    return order


# --- what a courier sees ---------------------------------------------------------------------


@dataclass(frozen=True)
class PoolEntry:
    """An order as a courier sees it, with distances (metres; None when a position is unknown)."""

    order: Order
    from_courier_m: float | None
    from_branch_m: float | None


def _entry(order: Order, pos: TrackPoint | None) -> PoolEntry:
    has_target = order.lat is not None and order.lon is not None
    from_courier = distance_m(pos.lat, pos.lon, order.lat, order.lon) if has_target and pos else None
    branch = order.branch
    from_branch = distance_m(branch.lat, branch.lon, order.lat, order.lon) if has_target else None
    return PoolEntry(order, from_courier, from_branch)


def describe(session: Session, courier_id: int | None, order: Order) -> PoolEntry:
    """An order with its distances from a courier's last position and from its branch."""
    return _entry(order, current_position(session, courier_id) if courier_id is not None else None)


def available_orders(session: Session, courier: Courier) -> list[PoolEntry]:
    """Unclaimed delivery orders of the courier's branches that can be taken, soonest promised first."""
    branches = courier.branch_ids
    if not branches:
        return []
    orders = session.scalars(
        select(Order)
        .where(
            Order.kind == "delivery",
            Order.courier_id.is_(None),
            Order.status.in_(POOL),
            Order.branch_id.in_(branches),
        )
        .order_by(Order.promised_at.asc(), Order.id.asc())
        .limit(200)
    ).all()
    pos = current_position(session, courier.id)
    return [_entry(o, pos) for o in orders]


def active_orders(session: Session, courier: Courier) -> list[PoolEntry]:
    """The orders the courier has taken and not finished."""
    orders = session.scalars(
        select(Order)
        .where(Order.courier_id == courier.id, Order.status.in_(CARRIED_STATES))
        .order_by(Order.promised_at.asc(), Order.id.asc())
    ).all()
    pos = current_position(session, courier.id)
    return [_entry(o, pos) for o in orders]


def order_history(
    session: Session, courier: Courier, *, page: int = 1, per_page: int = 50
) -> tuple[list[Order], int]:
    """Finished orders the courier carried, newest first, and their number."""
    where = (Order.courier_id == courier.id, Order.status.in_(list(TERMINAL)))
    total = session.scalar(select(func.count()).select_from(Order).where(*where)) or 0
    rows = session.scalars(
        select(Order)
        .where(*where)
        .order_by(Order.status_changed_at.desc(), Order.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return list(rows), total


def visible_order(session: Session, courier: Courier, order_id: int) -> PoolEntry:
    """An order the courier may see: one it carried, or one in its pool; 404 otherwise."""
    order = session.get(Order, order_id)
    if order is None:
        raise NotFound(f"You have no order {order_id}.")
    mine = order.courier_id == courier.id
    in_pool = (
        order.courier_id is None
        and order.kind == "delivery"
        and order.status in POOL_STATES
        and order.branch_id in courier.branch_ids
    )
    if not (mine or in_pool):
        raise NotFound(f"You have no order {order_id}.")
    return _entry(order, current_position(session, courier.id))


def delivery_of(session: Session, order_id: int) -> CourierDelivery | None:
    """How a courier's trip with an order ended, if it did."""
    return session.get(CourierDelivery, order_id)


# --- dispatch -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    """A free courier who could take an order, with the way to the branch and on to the client."""

    courier: Courier
    lat: float
    lon: float
    recorded_at: dt.datetime
    battery: float | None
    distance_m: float
    eta_s: int
    eta_to_client_s: int | None


def _free_couriers(
    session: Session, branch_id: int, now: dt.datetime, timeout_s: int, exclude: set[int] = frozenset()
) -> list[tuple[Courier, CourierPosition]]:
    rows = session.execute(
        select(Courier, CourierPosition)
        .join(CourierPosition, CourierPosition.courier_id == Courier.id)
        .join(
            CourierBranch, and_(CourierBranch.courier_id == Courier.id, CourierBranch.branch_id == branch_id)
        )
        .where(Courier.active.is_(True))
    ).all()
    if not rows:
        return []
    states = courier_states(session, now, signal_timeout_s=timeout_s, courier_ids=[c.id for c, _ in rows])
    return [(c, p) for c, p in rows if states.get(c.id) is CourierState.FREE and c.id not in exclude]


def dispatch_candidates(
    session: Session,
    order_id: int,
    *,
    now: dt.datetime | None = None,
    signal_timeout_s: int = DEFAULT_SIGNAL_TIMEOUT_S,
    limit: int = 5,
    exclude: set[int] = frozenset(),
) -> list[Candidate]:
    """Free couriers of the order's branch, nearest to the branch first, ranked by estimated arrival.

    A grid index finds the nearest few by straight distance; geopy measures those few exactly.
    """
    now = now or utcnow()
    order = session.get(Order, order_id)
    if order is None:
        raise NotFound(f"There is no order {order_id}.")
    if order.kind != "delivery":
        raise Conflict(f"Order {order.number} is a {order.kind} order; it needs no courier.")
    branch = order.branch
    free = _free_couriers(session, branch.id, now, signal_timeout_s, exclude)
    if not free:
        return []
    by_id = {c.id: (c, p) for c, p in free}
    index = GridIndex(cell_m=1000.0, ref_lat=branch.lat)
    for c, p in free:
        index.add(c.id, p.lat, p.lon)
    nearest = rank_by_geodesic(branch.lat, branch.lon, index.nearest(branch.lat, branch.lon, limit * 2))
    leg = (
        distance_m(branch.lat, branch.lon, order.lat, order.lon)
        if order.lat is not None and order.lon is not None
        else None
    )
    out = []
    for n in nearest:
        courier, pos = by_id[n.key]
        eta = eta_seconds(n.distance_m, courier.vehicle)
        out.append(
            Candidate(
                courier=courier,
                lat=pos.lat,
                lon=pos.lon,
                recorded_at=pos.recorded_at,
                battery=pos.battery,
                distance_m=round(n.distance_m, 1),
                eta_s=eta,
                eta_to_client_s=eta + eta_seconds(leg, courier.vehicle) if leg is not None else None,
            )
        )
    out.sort(key=lambda c: (c.eta_s, c.distance_m, c.courier.id))
    return out[:limit]


def assign_courier(
    session: Session,
    order_id: int,
    courier_id: int,
    *,
    actor_id: int | None,
    by: str = "dispatcher",
    now: dt.datetime | None = None,
) -> Order:
    """A dispatcher gives an unclaimed order to a courier (same guard as a claim), with audit."""
    now = now or utcnow()
    courier = session.get(Courier, courier_id)
    if courier is None:
        raise InvalidInput(
            f"There is no courier {courier_id}.", errors=[_field_error("courier_id", "Unknown courier.")]
        )
    branch_id = _give(session, order_id, courier, now) if courier.active else None
    if branch_id is not None:
        return _after_take(session, order_id, branch_id, courier, actor_id, now, by)
    raise _why_not(session, order_id, courier, as_courier=False)


def unassign_courier(
    session: Session,
    order_id: int,
    *,
    actor_id: int | None,
    reason: str | None = None,
    now: dt.datetime | None = None,
) -> Order:
    """A dispatcher takes an order back from its courier (before pickup) into the pool."""
    order = session.get(Order, order_id)
    if order is None:
        raise NotFound(f"There is no order {order_id}.")
    if order.courier_id is None:
        raise Conflict(f"Order {order.number} has no courier.")
    return _drop(
        session,
        order,
        order.courier_id,
        actor_id=actor_id,
        now=now or utcnow(),
        by="dispatcher",
        reason=reason,
    )


def auto_dispatch(
    session: Session,
    *,
    after_minutes: float,
    now: dt.datetime | None = None,
    signal_timeout_s: int = DEFAULT_SIGNAL_TIMEOUT_S,
    actor_id: int | None = None,
) -> list[tuple[int, int]]:
    """Give every delivery order ready and unclaimed for ``after_minutes`` to the nearest free courier.

    Returns ``(order_id, courier_id)`` of each assignment; each is audited as ``by: auto``.
    """
    now = now or utcnow()
    cutoff = now - dt.timedelta(minutes=after_minutes)
    waiting = session.scalars(
        select(Order.id)
        .where(
            Order.kind == "delivery",
            Order.status == S.READY,
            Order.courier_id.is_(None),
            Order.status_changed_at <= cutoff,
        )
        .order_by(Order.promised_at.asc(), Order.id.asc())
    ).all()
    done: list[tuple[int, int]] = []
    used: set[int] = set()
    for order_id in waiting:
        for candidate in dispatch_candidates(
            session, order_id, now=now, signal_timeout_s=signal_timeout_s, limit=3, exclude=used
        ):
            savepoint = session.begin_nested()
            try:
                assign_courier(session, order_id, candidate.courier.id, actor_id=actor_id, by="auto", now=now)
            except Conflict:
                savepoint.rollback()
                continue
            savepoint.commit()
            done.append((order_id, candidate.courier.id))
            used.add(candidate.courier.id)
            break
    return done


# --- manager's view -------------------------------------------------------------------------


@dataclass(frozen=True)
class CourierOverview:
    """A courier as a manager sees it: facts, state, position, load, cash."""

    courier: Courier
    state: CourierState
    position: CourierPosition | None
    carried: int
    shift: CourierShift | None


def overview(
    session: Session,
    *,
    now: dt.datetime | None = None,
    signal_timeout_s: int = DEFAULT_SIGNAL_TIMEOUT_S,
    include_inactive: bool = False,
) -> list[CourierOverview]:
    """Every courier with its derived state."""
    now = now or utcnow()
    q = select(Courier).order_by(Courier.name, Courier.id)
    if not include_inactive:
        q = q.where(Courier.active.is_(True))
    couriers = session.scalars(q).all()
    ids = [c.id for c in couriers]
    states = courier_states(session, now, signal_timeout_s=signal_timeout_s, courier_ids=ids)
    positions = {
        p.courier_id: p
        for p in session.scalars(select(CourierPosition).where(CourierPosition.courier_id.in_(ids)))
    }
    shifts = {
        s.courier_id: s
        for s in session.scalars(
            select(CourierShift).where(CourierShift.ended_at.is_(None), CourierShift.courier_id.in_(ids))
        )
    }
    carried = dict(
        session.execute(
            select(Order.courier_id, func.count())
            .where(Order.courier_id.in_(ids), Order.status.in_(CARRIED_STATES))
            .group_by(Order.courier_id)
        ).all()
    )
    return [
        CourierOverview(
            courier=c,
            state=states.get(c.id, CourierState.OFFLINE),
            position=positions.get(c.id),
            carried=carried.get(c.id, 0),
            shift=shifts.get(c.id),
        )
        for c in couriers
    ]
