"""Templates admins changed, the clients' Telegram chats and languages, and the message log."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from frontoffice.db import Base, utcnow
from frontoffice.outbox.models import BigId


class MessageStatus:
    """Where a message stands."""

    #: Waiting for its (next) try, or for the end of quiet hours.
    PENDING = "pending"
    #: The provider accepted it.
    SENT = "sent"
    #: The provider refused it for good (a wrong number, a chat that does not exist).
    FAILED = "failed"
    #: Every try failed: a dead letter an admin may retry.
    PARKED = "parked"
    #: Not sent by rule: no consent for a non-transactional message, no channel configured.
    SKIPPED = "skipped"

    ALL = (PENDING, SENT, FAILED, PARKED, SKIPPED)


class NotificationTemplate(Base):
    """The text of an event's message in one language, as an admin set it (the default otherwise)."""

    __tablename__ = "notification_templates"
    __table_args__ = (UniqueConstraint("event", "language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event: Mapped[str] = mapped_column(String(40))
    language: Mapped[str] = mapped_column(String(10))
    body: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class NotificationRecipient(Base):
    """How to reach a client beyond SMS: the Telegram chat they started with the bot, their language."""

    __tablename__ = "notification_recipients"

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(20), unique=True)
    telegram_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    language: Mapped[str | None] = mapped_column(String(10))
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class NotificationMessage(Base):
    """One message about one order: written once per (order, event) by the relay's projector or the
    late-order job, then sent, retried with backoff, parked after the last try."""

    __tablename__ = "notification_messages"
    __table_args__ = (
        UniqueConstraint("order_id", "event"),
        Index("ix_notification_messages_due", "status", "next_attempt_at"),
        Index("ix_notification_messages_phone", "phone", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    order_id: Mapped[int]
    order_number: Mapped[str] = mapped_column(String(32))
    branch_id: Mapped[int]
    event: Mapped[str] = mapped_column(String(40))
    #: The client's phone (E.164): whose dossier shows it.
    phone: Mapped[str] = mapped_column(String(20))
    #: ``sms`` or ``telegram`` (empty when skipped for want of a channel).
    channel: Mapped[str] = mapped_column(String(20))
    #: The address on that channel: the phone, or the Telegram chat id.
    recipient: Mapped[str] = mapped_column(String(40))
    language: Mapped[str] = mapped_column(String(10))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default=MessageStatus.PENDING)
    #: Why it was skipped (``no_consent``, ``no_channel``).
    skip_reason: Mapped[str | None] = mapped_column(String(40))
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    #: Held back by quiet hours until ``next_attempt_at``.
    deferred: Mapped[bool] = mapped_column(default=False)
    #: A sender working on it until then (a sender that died lets it go again after that).
    claimed_until: Mapped[dt.datetime | None]
    provider_id: Mapped[str | None] = mapped_column(String(100))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[dt.datetime | None]
