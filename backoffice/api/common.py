"""What the back office's JSON endpoints share: the blueprint, who may call what, small helpers."""

from __future__ import annotations

from collections.abc import Iterable

from flask import Blueprint
from sqlalchemy import select
from sqlalchemy.orm import Session

from backoffice.ports import RULEBOOK
from backoffice.services import RuleBook
from frontoffice.errors import InvalidInput, field_error
from frontoffice.kernel import current_kernel
from frontoffice.models import Role, User
from frontoffice.phones import InvalidPhone, normalize_phone

bp = Blueprint("backoffice_api", __name__, url_prefix="/api/v1")

RULE_EDITORS = {Role.MANAGER}
SCREENERS = {Role.OPERATOR, Role.MANAGER}
HOLD_DECIDERS = {Role.MANAGER}
TICKET_READERS = {Role.OPERATOR, Role.MANAGER, Role.BACKOFFICE}
TICKET_WORKERS = {Role.MANAGER, Role.BACKOFFICE}
BONUS_EARNERS = {Role.OPERATOR, Role.BACKOFFICE, Role.MANAGER}
BONUS_MANAGERS = {Role.MANAGER}


def rulebook() -> RuleBook:
    """The app's cached rule book."""
    return current_kernel().extensions.get(RULEBOOK)


def phone_of(raw: str, field: str) -> str:
    """``raw`` in E.164, or a 422 naming ``field``."""
    try:
        return normalize_phone(raw, current_kernel().settings.phone_region)
    except InvalidPhone as exc:
        raise InvalidInput(str(exc), errors=[field_error(field, str(exc))]) from None


def user_names(session: Session, ids: Iterable[int | None]) -> dict[int, str]:
    """Display names of users by id."""
    wanted = {i for i in ids if i}
    if not wanted:
        return {}
    return {
        uid: name for uid, name in session.execute(select(User.id, User.full_name).where(User.id.in_(wanted)))
    }
