"""The ``/monitor`` namespace: managers' live delivery monitor, with coalesced updates.

A manager's screen gets a full ``snapshot`` when it connects, then:

* ``metrics_updated`` — the sections of the room's snapshot that changed since its previous
  update, with the orders that changed in ``changes`` (of the map, only the orders that changed:
  ``map_orders_changed``, and ``map_orders_gone``, their ids); sent as soon as something happened, then
  at most once per ``min_interval_s`` whatever the event rate (the first change of a quiet spell
  leaves at once; what follows within the interval is coalesced into the next update), and at
  least every ``heartbeat_s`` (late minutes grow and the business day rolls over without any
  event). A screen merges it into the snapshot it holds. Every section is sent again at a
  heartbeat at least every ``full_every_s``: a screen whose first snapshot failed catches up then,
  and a room of thousands of idle screens does not get the whole snapshot every heartbeat;
* ``couriers_moved`` — ``{"couriers": [{id, lat, lon, at}]}``, the latest position of every
  courier that moved since the previous batch, at the same bounded rate;
* ``order_placed`` — the fact itself (``orders.events.OrderPlaced``), one per new order, for
  screens and scripts that alert on new orders. It comes through the outbox's relay (at least
  once), after the update that counts it (the commit's nudge wakes the sender at once, see
  ``monitor.wiring``), and is never held for the coalescing interval. Orders arrive at the pace of
  phone calls; every other fact (status changes, edits of taken orders, couriers, positions) reaches screens only coalesced.

One background task (``socketio.start_background_task``) does all the sending: events only
mark rooms dirty and wake it. Rooms are ``all`` and ``branch:<id>``
(:class:`frontoffice.realtime.StaffNamespace`). With a Redis message queue the task also
sends for dirty rooms it has no local watcher in, so a screen connected to another process
hears of an order placed through this one.

One process writes to its sockets one after another (docs/performance.md, "Thousands of
sockets"): a heartbeat to a room of 5,000 idle screens is 5,000 writes, half a second of the
process's time, and an order committed meanwhile would wait behind them. So a large room's
heartbeat goes out a shard at a time (each screen also joins one of ``HEARTBEAT_SHARDS`` rooms
of its room), spread over ``HEARTBEAT_SPREAD`` of the interval, and an update caused by a change
never waits for a heartbeat: it is sent between two shards.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from typing import Any

from flask import request
from flask_socketio import SocketIO, emit, join_room

from couriers.events import CourierMoved, CourierShiftChanged
from frontoffice.db import utcnow
from frontoffice.models import Role, User
from frontoffice.realtime import ALL_ROOM, StaffNamespace, branch_room, emit_to_branch, event_payload
from monitor.schemas import OrderChange
from monitor.services import Monitor
from orders.events import CourierAssigned, OrderEdited, OrderPlaced, OrderStatusChanged

NAMESPACE = "/monitor"
log = logging.getLogger(__name__)

Room = int | None  # a branch id, or None for the room of every branch
#: Snapshot keys every update carries; the others only when they changed (see ``MonitorHub._delta``).
ALWAYS_SENT = frozenset({"generated_at", "business_date", "timezone", "currency", "branch_id", "changes"})
#: An update carries, instead of the whole ``map_orders`` list, the orders on the map that are new or
#: changed and the ids of those gone: a screen merges them into its map by ``order_id``.
MAP_DELTA = ("map_orders_changed", "map_orders_gone")
#: How stale a cached snapshot may be when a new screen connects to an unchanged room.
CONNECT_CACHE_S = 5.0
#: Each screen also joins one of this many shard rooms of its room, in turn.
HEARTBEAT_SHARDS = 64
#: A room with more screens than this on the process gets its heartbeat a shard at a time.
PACED_ABOVE = 100
#: The part of the heartbeat interval a large room's heartbeat is spread over.
HEARTBEAT_SPREAD = 0.1


def room_name(room: Room) -> str:
    """The Socket.IO room of a branch (or of every branch)."""
    return ALL_ROOM if room is None else branch_room(room)


def shard_name(room: Room, shard: int) -> str:
    """The Socket.IO room of one heartbeat shard of ``room``."""
    return f"{room_name(room)}~{shard}"


class MonitorHub:
    """Coalesces what happens into bounded-rate updates per room (see the module docstring)."""

    def __init__(
        self,
        socketio: SocketIO,
        monitor: Monitor,
        *,
        min_interval_s: float = 0.5,
        heartbeat_s: float = 30.0,
        idle_exit_s: float = 120.0,
        broadcast: bool = False,
        max_changes: int = 200,
        full_every_s: float = 600.0,
    ):
        self.socketio = socketio
        self.monitor = monitor
        self.min_interval_s = min_interval_s
        self.heartbeat_s = heartbeat_s
        self.idle_exit_s = idle_exit_s
        self.broadcast = broadcast
        self.max_changes = max_changes
        self.full_every_s = full_every_s
        self._full_at: dict[Room, float] = {}
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._watchers: dict[str, Room] = {}
        self._joined: Counter[Room] = Counter()
        self._dirty: set[Room] = set()
        self._dirty_everywhere = False
        self._changes: dict[int, OrderChange] = {}
        self._moves: dict[int, CourierMoved] = {}
        self._placed: list[OrderPlaced] = []
        self._sent_at: dict[Room, float] = {}
        self._cache: dict[Room, tuple[float, dict[str, Any]]] = {}
        self._sections: dict[Room, dict[str, Any]] = {}
        self._pins: dict[Room, dict[int, Any]] = {}
        self._change_due = 0.0  # no update caused by a change before this (coalescing)
        self._paced: deque[tuple[Room, str, dict[str, Any]]] = deque()  # heartbeat shards to send
        self._paced_due = 0.0
        self._running = False
        self._stopping = False
        self.updates_sent = 0
        self.move_batches_sent = 0

    # --- who watches -------------------------------------------------------------------------

    def attach(self, sid: str, room: Room) -> str:
        """A screen joined ``room``; make sure the sending task runs. Returns its heartbeat shard."""
        with self._lock:
            self._watchers[sid] = room
            # The snapshot it gets on connect counts as the room's latest update.
            self._sent_at.setdefault(room, time.monotonic())
            shard = self._joined[room] % HEARTBEAT_SHARDS
            self._joined[room] += 1
        self.start()
        return shard_name(room, shard)

    def detach(self, sid: str) -> None:
        """A screen left."""
        with self._lock:
            self._watchers.pop(sid, None)

    @property
    def watchers(self) -> int:
        """Screens connected to this process."""
        return len(self._watchers)

    def watched_rooms(self) -> set[Room]:
        """Rooms with at least one screen on this process."""
        with self._lock:
            return set(self._watchers.values())

    # --- what happens ------------------------------------------------------------------------

    def order_event(self, event: Any) -> None:
        """An order fact: remember the change, dirty its branch's rooms, wake the sender."""
        change = None
        if isinstance(event, OrderPlaced):
            change = OrderChange(
                order_id=event.order_id,
                number=event.number,
                branch_id=event.branch_id,
                status=event.status,
                at=event.created_at,
            )
        elif isinstance(event, OrderStatusChanged | OrderEdited):
            change = OrderChange(
                order_id=event.order_id,
                number=event.number,
                branch_id=event.branch_id,
                status=event.to_status if isinstance(event, OrderStatusChanged) else event.status,
                at=event.at,
            )
        with self._lock:
            if change is not None:
                self._changes.pop(change.order_id, None)
                self._changes[change.order_id] = change
                while len(self._changes) > self.max_changes:
                    self._changes.pop(next(iter(self._changes)))
            self._dirty.update((None, event.branch_id))
        self._poke()

    def order_placed(self, event: OrderPlaced) -> None:
        """Queue the fact of a new order: the sender relays it right after the update it causes."""
        with self._lock:
            if not (self._watchers or self.broadcast):
                return  # nobody here to tell, and no other process listening through Redis
            self._placed.append(event)
        self._poke()

    def courier_event(self, event: CourierShiftChanged | CourierAssigned) -> None:
        """A courier started or ended a shift, or took an order: the courier tiles change."""
        branches = getattr(event, "branch_ids", None)
        if isinstance(event, CourierAssigned):
            branches = (event.branch_id,)
        with self._lock:
            self._dirty.add(None)
            if branches:
                self._dirty.update(branches)
            else:
                self._dirty_everywhere = True
        self._poke()

    def courier_moved(self, event: CourierMoved) -> None:
        """A position: keep only the latest per courier until the next batch."""
        with self._lock:
            self._moves[event.courier_id] = event
        self._poke()

    def _poke(self) -> None:
        if self.broadcast:
            self.start()
        self._wake.set()

    def _pending(self) -> bool:
        return bool(self._dirty or self._dirty_everywhere or self._moves or self._placed)

    # --- snapshots ---------------------------------------------------------------------------

    def snapshot_for(self, room: Room) -> dict[str, Any]:
        """The snapshot a newly connected screen gets (reused for a few seconds if nothing changed)."""
        with self._lock:
            cached = self._cache.get(room)
            dirty = room in self._dirty or self._dirty_everywhere
        if cached is not None and not dirty and time.monotonic() - cached[0] < CONNECT_CACHE_S:
            payload = cached[1]
        else:
            payload = self.monitor.snapshot(room).model_dump(mode="json")
            with self._lock:
                self._cache[room] = (time.monotonic(), payload)
        # The room's first update is a delta from what its screens got here, not the whole snapshot
        # again (a later screen gets a newer snapshot: the delta then repeats what it has, harmlessly).
        self._sections.setdefault(room, _sections_of(payload))
        self._pins.setdefault(room, _pins_of(payload))
        return payload

    # --- the sending task --------------------------------------------------------------------

    def start(self) -> None:
        """Start the background task unless it runs already."""
        with self._lock:
            if self._running or self._stopping:
                return
            self._running = True
        self.socketio.start_background_task(self._run)

    def stop(self) -> None:
        """Stop the background task (tests, shutdown)."""
        self._stopping = True
        self._wake.set()

    def _run(self) -> None:
        idle_since = time.monotonic()
        while not self._stopping:
            self._wake.wait(timeout=self._until_next())
            self._wake.clear()
            if self._stopping:
                break
            try:
                sent = self._step()
            except Exception:  # the loop must survive a failed read (database restart, …)
                log.exception("monitor: sending an update failed")
                sent = False
                self.socketio.sleep(self.min_interval_s)
            now = time.monotonic()
            with self._lock:
                if self._watchers or sent or self.broadcast:
                    idle_since = now
                elif now - idle_since > self.idle_exit_s:
                    self._running = False
                    return
        with self._lock:
            self._running = False

    def _until_next(self) -> float:
        """Seconds until the task has something to do, unless an event wakes it first."""
        now = time.monotonic()
        waits = [self.heartbeat_s]
        if self._pending():
            waits.append(self._change_due - now)
        if self._paced:
            waits.append(self._paced_due - now)
        else:
            with self._lock:
                watched = set(self._watchers.values())
            waits += [self._sent_at.get(r, now) + self.heartbeat_s - now for r in watched]
        return max(0.0, min(waits))

    def _step(self) -> bool:
        """Do the most urgent thing due: an update for what happened, a heartbeat shard, a heartbeat."""
        now = time.monotonic()
        if self._pending() and now >= self._change_due:
            # the first change after a quiet spell leaves at once; the next ones wait out the interval
            self._change_due = now + self.min_interval_s
            return self._send()
        if self._placed:
            # A new order's fact is not coalesced: it comes through the relay, after the update the
            # commit's nudge already sent, and screens alert on it.
            with self._lock:
                placed, self._placed = self._placed, []
            self._send_facts(placed)
            return True
        if self._paced:
            if now >= self._paced_due:
                room, target, update = self._paced.popleft()
                self.socketio.emit("metrics_updated", update, namespace=NAMESPACE, to=target)
                self._paced_due = now + self.heartbeat_s * HEARTBEAT_SPREAD / HEARTBEAT_SHARDS
                return True
            return False
        stale = self._stale(now)
        if not stale:
            return False
        with self._lock:
            sizes = Counter(r for r in self._watchers.values() if r in stale)
        for room in stale:  # due again in an interval, even if this one fails
            self._sent_at[room] = now
        for room, update in self._updates(stale, utcnow(), [], now, stale).items():
            if sizes[room] > PACED_ABOVE:
                self._paced.extend((room, shard_name(room, k), update) for k in range(HEARTBEAT_SHARDS))
            else:
                self.socketio.emit("metrics_updated", update, namespace=NAMESPACE, to=room_name(room))
        self._paced_due = now
        return True

    def _stale(self, clock: float, everything: bool = False) -> set[Room]:
        """Watched rooms due a heartbeat (all of them if ``everything``)."""
        with self._lock:
            watched = set(self._watchers.values())
        return {r for r in watched if everything or clock - self._sent_at.get(r, 0.0) >= self.heartbeat_s}

    def _finish_paced(self, rooms: set[Room] | None = None) -> None:
        """Send the rest of the paced heartbeat of ``rooms`` (all if None) now: an update must not
        overtake the heartbeat it is a delta from."""
        rest = [p for p in self._paced if rooms is None or p[0] in rooms]
        for paced in rest:
            self._paced.remove(paced)
            self.socketio.emit("metrics_updated", paced[2], namespace=NAMESPACE, to=paced[1])

    def flush(self, heartbeat: bool = False, now_fn: Callable[[], Any] = utcnow) -> bool:
        """Send what is pending now: updated snapshots of dirty (or stale, or with ``heartbeat`` all
        watched) rooms, and courier moves; no heartbeat is paced. Returns True if anything was sent.
        The background task does this in steps; callable in tests."""
        self._finish_paced()
        return self._send(self._stale(time.monotonic(), everything=heartbeat), now_fn)

    def _send(
        self, also: frozenset[Room] | set[Room] = frozenset(), now_fn: Callable[[], Any] = utcnow
    ) -> bool:
        """Send the updates of the dirty rooms (and of ``also``), then the new orders' facts and the moves."""
        clock = time.monotonic()
        with self._lock:
            watched = set(self._watchers.values())
            dirty = set(self._dirty)
            everywhere = self._dirty_everywhere
            changes = list(self._changes.values())
            moves = list(self._moves.values())
            placed, self._placed = self._placed, []
            self._dirty.clear()
            self._dirty_everywhere = False
            self._changes.clear()
            self._moves.clear()
        rooms = {r for r in watched if everywhere or r in dirty}
        if self.broadcast:
            rooms |= dirty
        self._finish_paced(rooms)
        sent = False
        if rooms or also:
            updates = self._updates(rooms | set(also), now_fn(), changes, clock, set(also))
            # what changed first: a heartbeat-only room's screens wait behind the others
            for room in sorted(updates, key=lambda r: r not in rooms):
                self.socketio.emit("metrics_updated", updates[room], namespace=NAMESPACE, to=room_name(room))
            sent = True
            if placed:
                # Let every screen's update leave before the facts queue behind it on each socket:
                # one process writes to the screens in turn, and the update is what they show.
                self.socketio.sleep(0)
        if placed:
            self._send_facts(placed)
            sent = True
        if moves:
            self._send_moves(moves, watched)
            sent = True
        return sent

    def _send_facts(self, placed: list[OrderPlaced]) -> None:
        for event in placed:
            emit_to_branch(self.socketio, NAMESPACE, "order_placed", event_payload(event), event.branch_id)

    def _updates(
        self, rooms: set[Room], now: Any, changes: list[OrderChange], clock: float, heartbeat: set[Room]
    ) -> dict[Room, dict[str, Any]]:
        """The update of each room: its snapshot's delta from its previous update (the whole snapshot
        at a heartbeat when ``full_every_s`` has passed)."""
        out = {}
        for room, snapshot in self.monitor.snapshots(rooms, now, changes).items():
            payload = snapshot.model_dump(mode="json")
            # a room's first update after its first screen counts from that screen's snapshot
            full = room in heartbeat and clock - self._full_at.setdefault(room, clock) >= self.full_every_s
            out[room] = self._delta(room, payload, full=full)
            if full:
                self._full_at[room] = clock
            with self._lock:
                self._cache[room] = (time.monotonic(), payload)
            self._sent_at[room] = clock
            self.updates_sent += 1
        return out

    def _delta(self, room: Room, payload: dict[str, Any], *, full: bool) -> dict[str, Any]:
        """The sections of ``payload`` that differ from the room's previous update (all when ``full``);
        of the map, only its orders that changed and the ids of those gone (:data:`MAP_DELTA`)."""
        current = _sections_of(payload)
        previous = self._sections.get(room, {})
        self._sections[room] = current
        pins = _pins_of(payload)
        before = self._pins.get(room)
        self._pins[room] = pins
        if full:
            return payload
        update = {k: v for k, v in payload.items() if k in ALWAYS_SENT or previous.get(k) != current[k]}
        if "map_orders" in update and before is not None:
            del update["map_orders"]
            update[MAP_DELTA[0]] = [
                o for o in payload["map_orders"] if before.get(o["order_id"]) != pins[o["order_id"]]
            ]
            update[MAP_DELTA[1]] = [order_id for order_id in before if order_id not in pins]
        return update

    def _send_moves(self, moves: list[CourierMoved], watched: set[Room]) -> None:
        def item(m: CourierMoved) -> dict[str, Any]:
            return {"id": m.courier_id, "lat": m.lat, "lon": m.lon, "at": m.at.isoformat()}

        targets: dict[Room, list[dict[str, Any]]] = {None: [item(m) for m in moves]}
        branch_rooms = {r for r in watched if r is not None}
        for m in moves:
            for branch in m.branch_ids or branch_rooms:
                targets.setdefault(branch, []).append(item(m))
        for room, batch in targets.items():
            if room in watched or self.broadcast:
                self.socketio.emit(
                    "couriers_moved", {"couriers": batch}, namespace=NAMESPACE, to=room_name(room)
                )
                self.move_batches_sent += 1


def _pins_of(payload: dict[str, Any]) -> dict[int, Any]:
    """The orders on a snapshot's map, by id.

    Sections and pins are compared with ``==`` on the JSON-mode values themselves: a snapshot is
    built anew for every update and never changed afterwards, so keeping references is safe, and
    comparing the structures costs a tenth of dumping both to canonical JSON (docs/performance.md).
    """
    return {o["order_id"]: o for o in payload["map_orders"]}


def _sections_of(payload: dict[str, Any]) -> dict[str, Any]:
    """The sections of a snapshot that updates may leave out."""
    return {key: value for key, value in payload.items() if key not in ALWAYS_SENT}


class MonitorNamespace(StaffNamespace):
    """Managers (and admins) only; a full snapshot on connect, then the hub's coalesced updates."""

    roles = frozenset({Role.MANAGER})
    one_branch = True

    def __init__(self, namespace: str, hub: MonitorHub | None = None):
        super().__init__(namespace)
        self.hub = hub

    def on_joined(self, user: User, auth: Any, branch: int | None) -> None:
        """Register the screen with the hub and send it the snapshot of its room."""
        if self.hub is None:
            return
        room: Room = branch
        join_room(self.hub.attach(request.sid, room))
        try:
            payload = self.hub.snapshot_for(room)
        except Exception:  # the screen still gets the next update; never refuse it for a failed read
            log.exception("monitor: the first snapshot failed")
            return
        emit("snapshot", payload)

    def on_disconnect(self, reason: Any = None) -> None:
        """Forget the screen."""
        if self.hub is not None:
            self.hub.detach(request.sid)
