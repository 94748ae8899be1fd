"""Writing and reading the audit log (see :mod:`frontoffice.audit`)."""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from flask import g, has_request_context, request
from flask_login import current_user
from sqlalchemy import func, inspect, select
from sqlalchemy.orm import Session

from frontoffice.models import AuditEntry
from frontoffice.requestlog import current_request_id


class Action(enum.StrEnum):
    """The usual verbs of the log (any short text is accepted)."""

    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    REVOKE = "revoke"
    RESET_PASSWORD = "reset_password"
    IMPORT = "import"


class Entity(enum.StrEnum):
    """The kinds of record whose changes are logged (the page names them in words)."""

    ITEM = "item"
    ORGANIZATION = "organization"
    DISTRIBUTION_CONDITION = "distribution_condition"
    BRANCH = "branch"
    ZONE = "zone"
    USER = "user"
    TOKEN = "token"
    DEVICE = "device"
    ANTIFRAUD_RULE = "antifraud_rule"
    BLACKLIST_ENTRY = "blacklist_entry"
    BONUS_RULE = "bonus_rule"
    NOTIFICATION_TEMPLATE = "notification_template"
    OPERATOR_EXTENSION = "operator_extension"
    PHONE_LINE = "phone_line"


#: Fields whose values never enter the log: a change shows as ``"(changed)"`` on both sides.
SECRET_FIELDS = frozenset({"password_hash", "token_hash", "secret", "api_key"})
SECRET = "(changed)"
#: Fields nobody needs to audit (bookkeeping that moves on every touch).
IGNORED_FIELDS = frozenset({"last_used_at", "session_generation", "updated_at", "version"})


def plain(value: Any) -> Any:
    """``value`` as a JSON value: money and numbers as decimal strings, times in ISO 8601, enums
    by value, containers element by element."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if value == value and value not in (float("inf"), float("-inf")) else str(value)
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, enum.Enum):
        return plain(value.value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, Iterable) and not isinstance(value, bytes):
        return [plain(v) for v in value]
    return str(value)


def state(obj: Any, fields: Iterable[str] | None = None) -> dict[str, Any]:
    """The column values of a mapped object (or only ``fields``), as plain JSON values."""
    names = list(fields) if fields is not None else [a.key for a in inspect(obj).mapper.column_attrs]
    return {name: plain(getattr(obj, name)) for name in names}


def changes_between(
    before: Mapping[str, Any] | None, after: Mapping[str, Any] | None
) -> dict[str, dict[str, Any]]:
    """The fields that differ: ``{field: {"before": old, "after": new}}`` (a field missing on one
    side is null there). Secret fields show only that they changed."""
    before, after = before or {}, after or {}
    out: dict[str, dict[str, Any]] = {}
    for name in list(before) + [k for k in after if k not in before]:
        if name in IGNORED_FIELDS:
            continue
        old, new = plain(before.get(name)), plain(after.get(name))
        if old == new:
            continue
        if name in SECRET_FIELDS:
            old, new = (SECRET if old is not None else None), (SECRET if new is not None else None)
        out[name] = {"before": old, "after": new}
    return out


def _actor() -> tuple[int | None, str, str | None]:
    """The user, username and client address of the request being served (none outside one)."""
    if not has_request_context():
        return None, "", None
    user = g.get("principal")
    if user is None and current_user and current_user.is_authenticated:
        user = current_user
    if user is None:
        return None, "", request.remote_addr
    return user.id, user.username, request.remote_addr


def record(
    session: Session,
    action: str,
    entity: str,
    entity_id: Any,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
) -> AuditEntry | None:
    """Log an admin action on ``entity`` (``"item"``, ``"user"`` …) number ``entity_id`` in the
    caller's transaction, with the fields that changed from ``before`` to ``after`` (None before a
    creation, None after a deletion). An update that changed nothing is not logged (None)."""
    changes = changes_between(before, after)
    if not changes and action == Action.UPDATE:
        return None
    actor_id, actor_name, address = _actor()
    entry = AuditEntry(
        actor_id=actor_id,
        actor_name=actor_name[:80],
        action=str(action)[:40],
        entity=entity[:60],
        entity_id=None if entity_id is None else str(entity_id)[:80],
        changes=changes,
        request_id=current_request_id(),
        address=(address or None) and address[:64],
    )
    session.add(entry)
    return entry


@dataclass(frozen=True)
class AuditPage:
    """A page of the log, newest first, and how many entries match in all."""

    items: list[AuditEntry]
    total: int


def entries(
    session: Session,
    *,
    actor: str | None = None,
    entity: str | None = None,
    entity_id: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    limit: int = 100,
    offset: int = 0,
) -> AuditPage:
    """The entries matching the filters, newest first: ``actor`` a username (as it was when they
    acted), ``entity`` its kind, ``since``/``until`` a half-open time range."""
    conditions = []
    if actor:
        conditions.append(AuditEntry.actor_name == actor.strip())
    if entity:
        conditions.append(AuditEntry.entity == entity.strip())
    if entity_id:
        conditions.append(AuditEntry.entity_id == entity_id.strip())
    if since is not None:
        conditions.append(AuditEntry.at >= since)
    if until is not None:
        conditions.append(AuditEntry.at < until)
    total = session.scalar(select(func.count()).select_from(AuditEntry).where(*conditions)) or 0
    rows = session.scalars(
        select(AuditEntry)
        .where(*conditions)
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return AuditPage(list(rows), total)


def entities(session: Session) -> list[str]:
    """The kinds of entity the log holds, for the page's filter."""
    return list(session.scalars(select(AuditEntry.entity).distinct().order_by(AuditEntry.entity)))


def actor_names(session: Session) -> list[str]:
    """The usernames that acted, for the page's filter."""
    names = select(AuditEntry.actor_name).where(AuditEntry.actor_name != "").distinct()
    return list(session.scalars(names.order_by(AuditEntry.actor_name)))


__all__ = ["Action", "AuditPage", "Entity", "changes_between", "entries", "plain", "record", "state"]
