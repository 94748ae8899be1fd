"""Tracking tables: one public link per delivery order."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from frontoffice.db import Base, utcnow


class TrackingLink(Base):
    """The public link to an order's tracking page: ``/t/<token>``.

    The token is 128 random bits (URL-safe base64, 22 characters), kept as it is so that the link
    can be sent again (a notification, the operator reading it out); it opens one read-only page
    and socket of that order only, and stops working ``expires_at`` (set when the order ends).
    """

    __tablename__ = "tracking_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), unique=True)
    token: Mapped[str] = mapped_column(String(32), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # None while the order is under way; its end (delivered, failed, cancelled …) + the link's TTL.
    expires_at: Mapped[dt.datetime | None]
