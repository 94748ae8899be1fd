"""The ``/callcentre`` namespace: the operators' live board."""

from __future__ import annotations

from typing import Any

from flask_socketio import join_room

from frontoffice.models import Role, User
from frontoffice.realtime import StaffNamespace

NAMESPACE = "/callcentre"


def trainee_room(user_id: int) -> str:
    """Room of one trainee's screens: the only place their training orders' changes are sent."""
    return f"trainee:{user_id}"


class CallcentreNamespace(StaffNamespace):
    """Operators, managers and the back office hear of every order change; a trainee also of the
    changes of the training orders they took (in their own room)."""

    roles = frozenset({Role.OPERATOR, Role.MANAGER, Role.BACKOFFICE})

    def on_joined(self, user: User, auth: Any, branch: int | None) -> None:
        """A trainee's screens also join the trainee's own room."""
        if user.trainee:
            join_room(trainee_room(user.id))
