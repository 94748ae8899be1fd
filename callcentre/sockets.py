"""The ``/callcentre`` namespace: the operators' live board."""

from __future__ import annotations

from frontoffice.models import Role
from frontoffice.realtime import StaffNamespace

NAMESPACE = "/callcentre"


class CallcentreNamespace(StaffNamespace):
    """Operators, managers and the back office hear of every order change."""

    roles = frozenset({Role.OPERATOR, Role.MANAGER, Role.BACKOFFICE})
