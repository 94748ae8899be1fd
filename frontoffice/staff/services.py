"""Staff use cases: users with their roles and branches, switching them off and on, password
resets, a user's tokens and devices, and one's own password.

They take a ``Session`` and plain values; a refusal is a domain error whose ``errors`` name the
field (``type`` is a code the pages translate by). Branches come as ``known_branches`` (the
kernel's ``BRANCH_DIRECTORY``), devices as ``providers`` (``USER_DEVICES``).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash

from frontoffice import audit
from frontoffice.auth import (
    branches_of,
    change_password,
    create_user,
    end_sessions,
    password_errors,
    revoke_user_tokens,
    user_id_named,
)
from frontoffice.db import utcnow
from frontoffice.errors import Conflict, FieldError, InvalidInput, NotFound, field_error
from frontoffice.models import ApiToken, Role, User, UserBranch
from frontoffice.ports import Device, UserDevices

#: The alphabet of temporary passwords: no 0/O, 1/l/I to misread when dictated.
TEMPORARY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
MAX_BRANCHES = 200
#: What the audit log keeps of a user (the hash shows only that it changed).
AUDITED_USER_FIELDS = ("username", "full_name", "role", "active", "must_change_password", "password_hash")


@dataclass(frozen=True)
class StaffChange:
    """What an admin changes about a user; a field left None stays as it is."""

    full_name: str | None = None
    role: str | None = None
    branch_ids: Sequence[int] | None = None
    active: bool | None = None


@dataclass(frozen=True)
class StaffMember:
    """A user as the staff admin shows them: the row, their branches, their live tokens."""

    user: User
    branch_ids: tuple[int, ...]
    live_tokens: int


def refuse(
    field: str, message: str, code: str, status: type[InvalidInput | Conflict] = InvalidInput, **params
):
    """Raise ``status`` with one error naming ``field``."""
    raise status(message, errors=[field_error(field, message, code, **params)])


def _branch_errors(branch_ids: Sequence[int], known: Mapping[int, str]) -> list[FieldError]:
    errors = [
        field_error("branch_ids", f"There is no branch {b}.", "unknown_branch", branch=b)
        for b in branch_ids
        if b not in known
    ]
    if len(branch_ids) > MAX_BRANCHES:
        errors.append(field_error("branch_ids", f"At most {MAX_BRANCHES} branches.", "too_many_branches"))
    return errors


def _username_errors(username: str) -> list[FieldError]:
    name = username.strip()
    if not name:
        return [field_error("username", "The username must not be empty.", "username_empty")]
    if len(name) > 80 or any(c.isspace() or not c.isprintable() for c in name):
        return [
            field_error("username", "A username is 1 to 80 characters without spaces.", "username_format")
        ]
    return []


def _name_errors(full_name: str | None) -> list[FieldError]:
    if full_name is not None and len(full_name.strip()) > 200:
        return [field_error("full_name", "A name has at most 200 characters.", "name_too_long")]
    return []


def _link_branches(session: Session, user_id: int, branch_ids: Sequence[int]) -> None:
    session.execute(delete(UserBranch).where(UserBranch.user_id == user_id))
    session.add_all(UserBranch(user_id=user_id, branch_id=b) for b in dict.fromkeys(branch_ids))


def member(session: Session, user: User) -> StaffMember:
    """The staff view of one user."""
    live = session.scalar(select(func.count()).where(ApiToken.user_id == user.id, *_live_token_conditions()))
    return StaffMember(user, tuple(sorted(branches_of(session, user.id))), live or 0)


def _live_token_conditions():
    now = utcnow()
    return (
        ApiToken.revoked_at.is_(None),
        (ApiToken.expires_at.is_(None)) | (ApiToken.expires_at > now),
    )


def set_trainee(session: Session, user_id: int, trainee: bool) -> None:
    """Switch training mode for a user (404 for an unknown one), in the audit log."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"There is no user {user_id}.")
    before = audit.state(user)
    user.trainee = trainee
    session.flush()
    audit.record(session, audit.Action.UPDATE, audit.Entity.USER, user.id, before, audit.state(user))


def list_staff(session: Session, *, role: str | None = None, active: bool | None = None) -> list[StaffMember]:
    """Every user (admins first, then by username), with their branches and live token counts."""
    query = select(User)
    if role is not None:
        query = query.where(User.role == role)
    if active is not None:
        query = query.where(User.active.is_(active))
    users = list(session.scalars(query.order_by(User.role != Role.ADMIN, User.username)))
    ids = [u.id for u in users]
    links: dict[int, list[int]] = {}
    for user_id, branch_id in session.execute(
        select(UserBranch.user_id, UserBranch.branch_id).where(UserBranch.user_id.in_(ids))
    ):
        links.setdefault(user_id, []).append(branch_id)
    live = dict(
        session.execute(
            select(ApiToken.user_id, func.count())
            .where(ApiToken.user_id.in_(ids), *_live_token_conditions())
            .group_by(ApiToken.user_id)
        ).all()
    )
    return [StaffMember(u, tuple(sorted(links.get(u.id, ()))), live.get(u.id, 0)) for u in users]


def get_user(session: Session, user_id: int) -> User:
    """The user, or :class:`NotFound`."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"There is no user {user_id}.")
    return user


def create_staff(
    session: Session,
    *,
    username: str,
    password: str,
    role: str,
    full_name: str = "",
    branch_ids: Sequence[int] = (),
    known_branches: Mapping[int, str],
) -> User:
    """Add a user with a role, the branches they work for and a first password (strong enough);
    every problem is reported at once (422), a taken username is a 409."""
    errors = _username_errors(username) + _name_errors(full_name) + _branch_errors(branch_ids, known_branches)
    if role not in {r.value for r in Role}:
        known = ", ".join(r.value for r in Role)
        errors.append(field_error("role", f"Unknown role {role!r}; known roles: {known}.", "unknown_role"))
    errors += password_errors(password, username)
    if errors:
        raise InvalidInput(" ".join(e["message"] for e in errors), errors=errors)
    user = create_user(session, username, password, role, full_name)
    _link_branches(session, user.id, branch_ids)
    session.flush()
    audit.record(session, audit.Action.CREATE, audit.Entity.USER, user.id, None, _audited(session, user))
    return user


def _audited(session: Session, user: User) -> dict:
    """What the audit log keeps of a user: their fields and the branches they work for."""
    return {**audit.state(user, AUDITED_USER_FIELDS), "branch_ids": sorted(branches_of(session, user.id))}


def update_staff(
    session: Session, user_id: int, change: StaffChange, *, actor_id: int, known_branches: Mapping[int, str]
) -> User:
    """Change a user's name, role, branches or switch them off or on.

    Switching a user off ends their browser sessions and revokes their tokens. An admin cannot
    switch themselves off or take their own admin role (so one active admin always remains: the
    one making the change).
    """
    user = get_user(session, user_id)
    errors = _name_errors(change.full_name)
    if change.role is not None and change.role not in {r.value for r in Role}:
        known = ", ".join(r.value for r in Role)
        errors.append(
            field_error("role", f"Unknown role {change.role!r}; known roles: {known}.", "unknown_role")
        )
    if change.branch_ids is not None:
        errors += _branch_errors(change.branch_ids, known_branches)
    if errors:
        raise InvalidInput(" ".join(e["message"] for e in errors), errors=errors)
    demoted = change.role is not None and user.role == Role.ADMIN and change.role != Role.ADMIN
    switched_off = change.active is False and user.active
    if user.id == actor_id and demoted:
        refuse("role", "You cannot take your own admin role; another admin can.", "own_admin_role", Conflict)
    if user.id == actor_id and switched_off:
        refuse("active", "You cannot switch yourself off; another admin can.", "own_account_off", Conflict)
    before = _audited(session, user)
    if change.full_name is not None:
        user.full_name = change.full_name.strip() or user.username
    if change.role is not None:
        user.role = change.role
    if change.branch_ids is not None:
        _link_branches(session, user.id, change.branch_ids)
    if change.active is not None:
        user.active = change.active
    session.flush()
    audit.record(session, audit.Action.UPDATE, "user", user.id, before, _audited(session, user))
    if switched_off:
        end_sessions(session, user.id)
        revoke_user_tokens(session, user.id)
    return user


def temporary_password() -> str:
    """A random password to dictate: three groups of five letters and digits (about 73 bits)."""
    return "-".join("".join(secrets.choice(TEMPORARY_ALPHABET) for _ in range(5)) for _ in range(3))


def reset_password(session: Session, user_id: int, *, actor_id: int) -> str:
    """Give a user a temporary password they must change at their next login; every browser
    session and token of theirs ends. The temporary password is returned once, to hand over."""
    user = get_user(session, user_id)
    if user.id == actor_id:
        refuse(
            "user",
            "Your own password is changed on your account page, not reset.",
            "own_password_reset",
            Conflict,
        )
    password = temporary_password()
    before = _audited(session, user)
    change_password(session, user.id, password, must_change=True)
    revoke_user_tokens(session, user.id)
    session.refresh(user)
    audit.record(session, audit.Action.RESET_PASSWORD, "user", user.id, before, _audited(session, user))
    return password


def reset_password_named(session: Session, username: str, *, actor_id: int) -> tuple[int, str]:
    """:func:`reset_password` of the user called ``username`` (404 naming the field when unknown)."""
    user_id = user_id_named(session, username)
    return user_id, reset_password(session, user_id, actor_id=actor_id)


def change_own_password(
    session: Session, user_id: int, current: str, new: str, repeated: str | None = None
) -> None:
    """A user sets their own password: the current one must match, the new one be strong enough,
    different from the current one (and typed twice alike, when repeated)."""
    user = get_user(session, user_id)
    if not check_password_hash(user.password_hash, current):
        refuse("current_password", "The current password is wrong.", "wrong_password")
    if repeated is not None and repeated != new:
        refuse("repeat_password", "The two new passwords differ.", "passwords_differ")
    if new == current:
        refuse("new_password", "Choose a password other than the current one.", "same_password")
    change_password(session, user.id, new, field="new_password")


# --- tokens and devices ----------------------------------------------------------------------


def user_tokens(session: Session, user_id: int) -> list[ApiToken]:
    """A user's tokens, newest first (revoked and expired ones too, as a record)."""
    get_user(session, user_id)
    return list(
        session.scalars(select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id.desc()))
    )


def revoke_user_token(session: Session, user_id: int, token_id: int) -> ApiToken:
    """Revoke one token of a user (a revoked one stays revoked); 404 when it is not theirs."""
    token = session.get(ApiToken, token_id)
    if token is None or token.user_id != user_id:
        raise NotFound(f"User {user_id} has no token {token_id}.")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        session.flush()
        audit.record(
            session,
            audit.Action.REVOKE,
            "token",
            token.id,
            {"user_id": user_id, "name": token.name, "revoked_at": None},
            {"user_id": user_id, "name": token.name, "revoked_at": token.revoked_at},
        )
    return token


def user_devices(session: Session, user_id: int, providers: Sequence[UserDevices]) -> list[Device]:
    """The devices that act for a user, from every package that registers some."""
    get_user(session, user_id)
    return [device for provider in providers for device in provider.devices(session, user_id)]


def revoke_device(session: Session, user_id: int, key: str, providers: Sequence[UserDevices]) -> None:
    """Cut off one device of a user; 404 when they have no device ``key``."""
    get_user(session, user_id)
    if not any(provider.revoke(session, user_id, key) for provider in providers):
        raise NotFound(f"User {user_id} has no device {key!r}.")
    audit.record(session, audit.Action.REVOKE, "device", key, {"user_id": user_id}, {"user_id": None})
