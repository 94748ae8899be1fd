"""The audit log of admin actions: who changed prices, items, organizations, distribution
conditions, antifraud and bonus rules, branches, zones, users and tokens, when, and what each
changed field was before and after.

Services call :func:`record` in the transaction of the change itself (so an action that is rolled
back leaves no entry), with the entity's state before and after — plain dicts, :func:`state` takes
one of a mapped object. The actor, their address and the request id come from the request being
served (none outside requests: the CLI, the demo loader). Admins read the log at ``/admin/audit``
and ``GET /api/v1/audit``.
"""

from __future__ import annotations

from flask import Flask

from frontoffice.audit.services import Action, Entity, changes_between, entries, record, state
from frontoffice.kernel import Kernel

__all__ = ["Action", "Entity", "changes_between", "entries", "record", "register", "state"]


def register(app: Flask, kernel: Kernel) -> None:
    """Serve the audit page and API, and show the page to admins."""
    from frontoffice.audit import api, views
    from frontoffice.audit.labels import AUDIT_ACTION, AUDIT_ENTITY

    kernel.labels.declare(AUDIT_ACTION, AUDIT_ENTITY)
    app.register_blueprint(api.bp)
    app.register_blueprint(views.bp)
    # The title stays English here; the top bar translates it when it renders.
    kernel.add_nav("Audit", "audit_pages.log", views.ADMIN, order=93)
