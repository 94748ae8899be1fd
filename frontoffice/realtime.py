"""Socket.IO: the server instance, authenticated namespaces, room helpers.

``async_mode="threading"`` (DESIGN.md): served by gunicorn's gthread worker with
simple-websocket. With ``FRONTOFFICE_REDIS_URL`` set, Redis is the message queue so
several processes broadcast to each other's clients.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import typing
from typing import Any

from flask import Flask, current_app, request
from flask_login import current_user
from flask_socketio import Namespace, SocketIO, join_room

from frontoffice.auth import token_owner
from frontoffice.models import User
from frontoffice.money import MINOR_UNITS, from_minor


def make_socketio(app: Flask, redis_url: str | None, channel: str = "frontoffice-socketio") -> SocketIO:
    """Create the app's Socket.IO server."""
    kwargs: dict[str, Any] = {"async_mode": "threading", "cors_allowed_origins": []}
    if redis_url:
        kwargs["message_queue"] = redis_url
        kwargs["channel"] = channel
    return SocketIO(app, **kwargs)


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
    """A namespace that admits only users with one of ``roles``.

    A client joins the room ``all`` and, with ``?branch=<id>`` or ``auth.branch``,
    the room ``branch:<id>`` instead, to hear only that branch.
    """

    roles: frozenset[str] = frozenset()

    def on_connect(self, auth: Any = None) -> None:
        """Authenticate, then join the rooms."""
        user = socket_principal(auth)
        if user is None:
            raise ConnectionRefusedError("unauthorized")
        if not user.has_role(*self.roles):
            raise ConnectionRefusedError("forbidden")
        branch = (auth or {}).get("branch") if isinstance(auth, dict) else None
        branch = branch or request.args.get("branch")
        if branch:
            try:
                join_room(branch_room(int(branch)))
            except (TypeError, ValueError):
                raise ConnectionRefusedError("branch must be a branch id") from None
        else:
            join_room(ALL_ROOM)
        self.on_joined(user, auth)

    def on_joined(self, user: User, auth: Any) -> None:
        """Hook for subclasses: send the first snapshot."""


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
