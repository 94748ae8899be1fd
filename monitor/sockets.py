"""The ``/monitor`` namespace: managers' live delivery monitor."""

from __future__ import annotations

from frontoffice.models import Role
from frontoffice.realtime import StaffNamespace

NAMESPACE = "/monitor"


class MonitorNamespace(StaffNamespace):
    """Managers (and admins) only."""

    roles = frozenset({Role.MANAGER})
