"""Socket.IO: the server instance, authenticated namespaces, room helpers, connection guard.

The serving model (docs/architecture.md, "Realtime serving"): ``frontoffice run`` serves with
gunicorn's gevent worker, the standard library monkey-patched before anything is imported
(:mod:`frontoffice.launch`), so a websocket costs a few greenlets, not a thread. The async mode
follows from that: ``gevent`` when the process is patched, ``threading`` otherwise (the test
suite, gunicorn's gthread worker). With ``FRONTOFFICE_REDIS_URL`` set, Redis is the message queue
so several processes broadcast to each other's clients.

Every connection is guarded (:class:`frontoffice.connections.ConnectionLedger`): refused beyond
the limits per address and in all, closed if it has not joined an authorised namespace within
the grace, and closed for good (the TCP socket too) when Engine.IO's ping timeout gives it up.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import socket
import typing
from typing import Any

from flask import Flask, current_app, request
from flask_login import current_user
from flask_socketio import Namespace, SocketIO, join_room

from frontoffice.auth import branch_scope, in_scope, scoped_branch, token_owner
from frontoffice.connections import ConnectionLedger, ConnectionLimits
from frontoffice.models import User
from frontoffice.money import MINOR_UNITS, from_minor
from frontoffice.settings import Settings

log = logging.getLogger(__name__)


def gevent_patched() -> bool:
    """True when this process runs on gevent (the standard library's sockets are patched)."""
    import sys

    monkey = sys.modules.get("gevent.monkey")
    return bool(monkey and monkey.is_module_patched("socket"))


class GuardedSocketIO(SocketIO):
    """Flask-SocketIO with the process's :class:`ConnectionLedger` as ``guard``."""

    guard: ConnectionLedger | None = None


def make_socketio(
    app: Flask,
    redis_url: str | None,
    channel: str = "frontoffice-socketio",
    settings: Settings | None = None,
    write_only: bool = False,
) -> GuardedSocketIO:
    """Create the app's Socket.IO server, guarded by ``settings`` (the defaults if None).

    ``write_only`` (``frontoffice worker``): the process serves no sockets and only emits into the
    Redis queue (a write-only ``RedisManager``/``KombuManager`` that never subscribes), whence every
    web process delivers to its own clients."""
    settings = settings or Settings()
    kwargs: dict[str, Any] = {
        "async_mode": "gevent" if gevent_patched() else "threading",
        "cors_allowed_origins": [],
        "ping_interval": settings.socket_ping_interval_s,
        "ping_timeout": settings.socket_ping_timeout_s,
    }
    if redis_url and write_only:
        import socketio as python_socketio

        manager = (
            python_socketio.RedisManager
            if redis_url.startswith(("redis://", "rediss://"))
            else python_socketio.KombuManager
        )
        kwargs["client_manager"] = manager(redis_url, channel=channel, write_only=True)
    elif redis_url:
        kwargs["message_queue"] = redis_url
        kwargs["channel"] = channel
    socketio = GuardedSocketIO(app, **kwargs)
    limits = ConnectionLimits(
        per_address=settings.socket_per_address,
        total=settings.socket_max_connections,
        join_grace_s=settings.socket_join_grace_s,
    )
    socketio.guard = _install_guard(socketio, limits, settings.socket_address_header)
    return socketio


def client_address(environ: dict[str, Any], header: str | None) -> str:
    """The client's address: ``header``'s value (set by a trusted proxy) or the peer's address."""
    if header:
        value = environ.get("HTTP_" + header.upper().replace("-", "_"), "")
        first = value.split(",")[0].strip()
        if first:
            return first
    return environ.get("REMOTE_ADDR", "")


def _install_guard(socketio: SocketIO, limits: ConnectionLimits, header: str | None) -> ConnectionLedger:
    """Put the ledger between Engine.IO and Socket.IO, and sweep out connections past their grace."""
    server = socketio.server
    eio = server.eio
    ledger = ConnectionLedger(limits)
    on_connect = eio.handlers["connect"]
    on_disconnect = eio.handlers["disconnect"]
    sweeping = {"on": False}

    def connect(eio_sid: str, environ: dict[str, Any]) -> Any:
        refused = ledger.open(eio_sid, client_address(environ, header))
        if refused is not None:
            return False  # Engine.IO answers the handshake with 401
        if not sweeping["on"]:
            sweeping["on"] = True
            eio.start_background_task(sweep)
        try:
            accepted = on_connect(eio_sid, environ)
        except BaseException:
            ledger.close(eio_sid)
            raise
        if accepted is False:
            ledger.close(eio_sid)
        return accepted

    def disconnect(eio_sid: str, reason: Any = None) -> Any:
        ledger.close(eio_sid)
        return on_disconnect(eio_sid, reason)

    def sweep() -> None:
        period = max(0.05, min(1.0, limits.join_grace_s / 4))
        while True:
            eio.sleep(period)
            for eio_sid in ledger.overdue():
                eio.start_background_task(_close_quietly, eio, eio_sid)

    eio.on("connect", connect)
    eio.on("disconnect", disconnect)
    # The drivers' table is shared by every server of the mode: give this one its own copy.
    eio._async = {**eio._async, "websocket": _closing_for_good(eio._async["websocket"])}
    return ledger


def _close_quietly(eio: Any, eio_sid: str) -> None:
    try:
        eio.disconnect(eio_sid)
    except Exception:  # already gone
        log.debug("closing socket %s failed", eio_sid, exc_info=True)


def _closing_for_good(websocket_class: type) -> type:
    """The driver's websocket wrapper, whose ``close`` also shuts the TCP socket down.

    simple-websocket's ``close`` sends the close frame and leaves its reader blocked in ``recv``
    until the peer answers; a peer that went silent never does, so a socket Engine.IO gave up on
    kept its reader, its file descriptor and (gthread) its worker thread forever.
    """

    class ClosingForGood(websocket_class):  # type: ignore[misc, valid-type]
        def close(self) -> None:
            ws = getattr(self, "ws", None)
            was_open = bool(getattr(ws, "connected", False))
            try:
                super().close()
            finally:
                sock = getattr(ws, "sock", None)
                if was_open and sock is not None:
                    try:
                        sock.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass

    ClosingForGood.__name__ = f"ClosingForGood{websocket_class.__name__}"
    return ClosingForGood


def admit_connection() -> None:
    """The connection of the current Socket.IO event joined an authorised namespace: it may stay."""
    socketio = current_app.extensions["frontoffice"].socketio
    guard = getattr(socketio, "guard", None)
    if guard is None:
        return
    eio_sid = socketio.server.manager.eio_sid_from_sid(request.sid, request.namespace)
    if eio_sid is not None:
        guard.admit(eio_sid)


def socket_principal(auth: Any) -> User | None:
    """The user of a connecting socket: ``auth={"token": …}`` or the browser session cookie."""
    token = None
    if isinstance(auth, dict):
        token = auth.get("token")
    if not token:
        header = request.headers.get("Authorization", "")
        if header.lower().startswith("bearer "):
            token = header[7:].strip()
    if token:
        db = current_app.extensions["frontoffice"].db
        with db.reading() as s:
            found = token_owner(s, str(token))
        return found[0] if found else None
    if current_user.is_authenticated:
        return current_user._get_current_object()  # type: ignore[attr-defined]
    return None


class StaffNamespace(Namespace):
    """A namespace that admits only users with one of ``roles``, within their branches.

    A client joins the room ``all`` and, with ``?branch=<id>`` or ``auth.branch``, the room
    ``branch:<id>`` instead, to hear only that branch. Staff who work for some branches only
    (:func:`frontoffice.auth.branch_scope`) are refused another branch, and instead of ``all``
    join the rooms of their branches — or, on a namespace that shows ``one_branch`` at a time
    (the monitor's snapshots), the first of them.
    """

    roles: frozenset[str] = frozenset()
    #: Each screen watches one room (its snapshots are of one branch, or of all).
    one_branch: bool = False

    def on_connect(self, auth: Any = None) -> None:
        """Authenticate, then join the rooms."""
        user = socket_principal(auth)
        if user is None:
            raise ConnectionRefusedError("unauthorized")
        if not user.has_role(*self.roles):
            raise ConnectionRefusedError("forbidden")
        branch = (auth or {}).get("branch") if isinstance(auth, dict) else None
        branch = branch or request.args.get("branch")
        try:
            requested = int(branch) if branch else None
        except (TypeError, ValueError):
            raise ConnectionRefusedError("branch must be a branch id") from None
        scope = branch_scope(user)
        if requested is not None and not in_scope(scope, requested):
            raise ConnectionRefusedError("branch out of scope")
        if requested is None and scope is not None and not self.one_branch:
            for branch_id in sorted(scope):
                join_room(branch_room(branch_id))
        else:
            watched = scoped_branch(scope, requested)
            join_room(ALL_ROOM if watched is None else branch_room(watched))
            requested = watched
        admit_connection()
        self.on_joined(user, auth, requested)

    def on_joined(self, user: User, auth: Any, branch: int | None) -> None:
        """Hook for subclasses: send the first snapshot of ``branch`` (None: every branch, or the
        branches of a user of some)."""


ALL_ROOM = "all"


def branch_room(branch_id: int) -> str:
    """Room of the clients that watch one branch."""
    return f"branch:{branch_id}"


def emit_to_branch(socketio: SocketIO, namespace: str, event: str, data: Any, branch_id: int | None) -> None:
    """Emit to the watchers of every branch and, if known, to the watchers of ``branch_id``."""
    socketio.emit(event, data, namespace=namespace, to=ALL_ROOM)
    if branch_id is not None:
        socketio.emit(event, data, namespace=namespace, to=branch_room(branch_id))


def money_fields(cls: type) -> frozenset[str]:
    """The fields of an event dataclass typed :data:`frontoffice.money.Minor` (or ``Minor | None``)."""
    found = _MONEY_FIELDS.get(cls)
    if found is None:
        hints = typing.get_type_hints(cls, include_extras=True)
        found = frozenset(name for name, hint in hints.items() if _is_minor(hint))
        _MONEY_FIELDS[cls] = found
    return found


_MONEY_FIELDS: dict[type, frozenset[str]] = {}


def _is_minor(hint: Any) -> bool:
    if typing.get_origin(hint) is typing.Annotated:
        return MINOR_UNITS in hint.__metadata__
    return any(_is_minor(arg) for arg in typing.get_args(hint))


def event_payload(event: Any) -> dict[str, Any]:
    """A frozen event dataclass as a JSON-ready dict: times in ISO 8601, money (fields typed
    :data:`frontoffice.money.Minor`) as decimal strings in major units, as the REST API writes it."""
    money = money_fields(type(event))
    out: dict[str, Any] = {}
    for f in dataclasses.fields(event):
        value = getattr(event, f.name)
        if isinstance(value, dt.datetime | dt.date):
            value = value.isoformat()
        elif f.name in money and value is not None:
            value = str(from_minor(value))
        out[f.name] = value
    return out
