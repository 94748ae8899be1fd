"""The ``/callcentre`` namespace: the operators' live board, and each operator's own room."""

from __future__ import annotations

from typing import Any

from flask_socketio import SocketIO, join_room

from frontoffice.models import Role, User
from frontoffice.realtime import StaffNamespace

NAMESPACE = "/callcentre"

#: What an operator's workspace hears when their phone rings: ``{"call_id", "phone" (E.164 or
#: null when withheld or not a number), "display", "anonymous", "line", "line_name"}``; the workspace
#: looks the phone up as if the operator had typed it (telephony sends it).
INCOMING_CALL = "incoming_call"


def user_room(user_id: int) -> str:
    """The room of one user's screens (every tab they have open)."""
    return f"user:{user_id}"


def emit_to_user(socketio: SocketIO, user_id: int, event: str, data: Any) -> None:
    """Tell one user's screens on ``/callcentre`` only."""
    socketio.emit(event, data, namespace=NAMESPACE, to=user_room(user_id))


class CallcentreNamespace(StaffNamespace):
    """Operators, managers and the back office hear of every order change; each also joins a room
    of their own, for what concerns them alone (a call ringing their phone)."""

    roles = frozenset({Role.OPERATOR, Role.MANAGER, Role.BACKOFFICE})

    def on_joined(self, user: User, auth: Any, branch: int | None) -> None:
        """Join the user's own room."""
        join_room(user_room(user.id))
