"""Kernel tables: users and the branches they work for, API tokens, idempotency records."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from frontoffice.db import Base, utcnow


class Role(enum.StrEnum):
    """What a user is allowed to do. ``admin`` may do everything."""

    ADMIN = "admin"
    MANAGER = "manager"
    OPERATOR = "operator"
    COURIER = "courier"
    BACKOFFICE = "backoffice"


STAFF_ROLES = frozenset({Role.ADMIN, Role.MANAGER, Role.OPERATOR, Role.BACKOFFICE})


class User(Base):
    """A person who logs in: staff in the browser, couriers through the mobile API."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    full_name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    #: Raised by one to end every browser session of the user (logout, password change): the
    #: session and remember-me cookies carry the generation they were issued in.
    session_generation: Mapped[int] = mapped_column(default=0, server_default="0")
    #: Set by an admin's password reset: the user must choose a new password before anything else.
    must_change_password: Mapped[bool] = mapped_column(default=False, server_default=false())
    #: Set by a manager or admin: every order this user takes is a training order
    #: (``Order.training``), heard by no subscriber that has not opted in (docs/training.md).
    trainee: Mapped[bool] = mapped_column(default=False, server_default=false())

    tokens: Mapped[list[ApiToken]] = relationship(back_populates="user", cascade="all, delete-orphan")

    # Flask-Login protocol
    @property
    def is_authenticated(self) -> bool:  # noqa: D401
        """Always true for a loaded user."""
        return True

    @property
    def is_active(self) -> bool:
        """False for a user switched off by an admin."""
        return self.active

    @property
    def is_anonymous(self) -> bool:
        """Never anonymous."""
        return False

    def get_id(self) -> str:
        """What Flask-Login keeps in the session and the remember-me cookie: ``<id>:<generation>``
        (an "alternative token": raising the generation makes every cookie issued before useless)."""
        return f"{self.id}:{self.session_generation}"

    def has_role(self, *roles: str) -> bool:
        """True if the user has one of ``roles``; admins have every role."""
        return self.role == Role.ADMIN or self.role in roles


class UserBranch(Base):
    """A branch a staff user works for (see :func:`frontoffice.auth.branch_scope`).

    ``branch_id`` names a row of the orders package's ``branches`` table; the kernel knows no
    domain table, so there is no foreign key (branches are switched off, never deleted).
    """

    __tablename__ = "user_branches"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    branch_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)


class ApiToken(Base):
    """A bearer token; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[dt.datetime | None]
    revoked_at: Mapped[dt.datetime | None]
    #: When it stops working (``FRONTOFFICE_TOKEN_TTL_DAYS`` after it was issued); NULL: never.
    expires_at: Mapped[dt.datetime | None]

    user: Mapped[User] = relationship(back_populates="tokens")


class IdempotencyRecord(Base):
    """A mutating call made with an ``Idempotency-Key``: claimed while it runs, then its first answer.

    ``status_code`` is NULL while an attempt runs. Each attempt has a number (``attempt``) and the
    time it started (``locked_at``); the answer is written, in the transaction of the call's own
    writes, only by the attempt that still holds the record, and a retry takes over an attempt that
    has run too long (see :mod:`frontoffice.idempotency`).
    """

    __tablename__ = "idempotency_records"
    __table_args__ = (
        UniqueConstraint("user_id", "key"),
        Index("ix_idempotency_records_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(200))
    fingerprint: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None]
    response_body: Mapped[str | None] = mapped_column(Text)
    response_mimetype: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    attempt: Mapped[int] = mapped_column(default=1, server_default="1")
    #: When the current attempt started (NULL on records written before attempts were counted).
    locked_at: Mapped[dt.datetime | None]


class AuditEntry(Base):
    """One admin action (who, when, what, before → after), written by :func:`frontoffice.audit.record`
    in the transaction of the change itself."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_entity", "entity", "entity_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    #: Null for changes made outside a request (the CLI, the demo loader) or by a deleted user.
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    #: The actor's username when it acted (kept when the user is renamed or deleted).
    actor_name: Mapped[str] = mapped_column(String(80), default="")
    action: Mapped[str] = mapped_column(String(40))
    entity: Mapped[str] = mapped_column(String(60))
    entity_id: Mapped[str | None] = mapped_column(String(80))
    #: The changed fields: ``{"field": {"before": old, "after": new}}`` (JSON values).
    changes: Mapped[dict] = mapped_column(default=dict)
    request_id: Mapped[str | None] = mapped_column(String(128))
    address: Mapped[str | None] = mapped_column(String(64))
