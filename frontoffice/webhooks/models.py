"""Webhook endpoints admins register, and one delivery per endpoint and event."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from frontoffice.db import Base, utcnow
from frontoffice.outbox.models import BigId


class DeliveryStatus:
    """Where a webhook delivery stands."""

    PENDING = "pending"
    DELIVERED = "delivered"
    PARKED = "parked"


class WebhookEndpoint(Base):
    """A URL that hears the events it names, each delivery signed with its secret."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    #: Event names (``order_placed`` …) or ``["*"]`` for every event.
    events: Mapped[list] = mapped_column()
    secret: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(default=True)
    description: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class WebhookDelivery(Base):
    """One event for one endpoint: written by the relay with the event's other bookkeeping (once),
    then sent, retried with backoff, parked after the last try."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("endpoint_id", "event_id"),
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    #: The outbox row of the event: the ``webhook-id`` receivers dedupe on.
    event_id: Mapped[int] = mapped_column(BigId)
    event_type: Mapped[str] = mapped_column(String(100))
    #: The exact JSON sent (and signed).
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default=DeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    #: A sender working on it until then (a sender that died lets it go again after that).
    claimed_until: Mapped[dt.datetime | None]
    last_status_code: Mapped[int | None]
    last_response: Mapped[str | None] = mapped_column(Text)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[dt.datetime | None]
