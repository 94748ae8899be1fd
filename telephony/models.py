"""Telephony tables: operators' extensions, the lines (DIDs) calls come in on, and the call log."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from frontoffice.db import Base, utcnow


class OperatorExtension(Base):
    """The PBX extension (internal number) that rings on an operator's desk."""

    __tablename__ = "telephony_extensions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    extension: Mapped[str] = mapped_column(String(20), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class PhoneLine(Base):
    """A number clients call (a DID): which brand or branch of the chain the client called."""

    __tablename__ = "telephony_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The number as the PBX reports it, digits only (``78432001010``).
    number: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Call(Base):
    """One call as the PBX reported it, from the first ring to the hang-up."""

    __tablename__ = "telephony_calls"
    __table_args__ = (
        UniqueConstraint("source", "external_id"),
        Index("ix_telephony_calls_started_at", "started_at"),
        Index("ix_telephony_calls_caller", "caller"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The PBX that reported it (``asterisk``, ``mango``) and its id there (AMI Linkedid, Mango entry_id).
    source: Mapped[str] = mapped_column(String(20))
    external_id: Mapped[str] = mapped_column(String(100))
    #: ``in`` (a client calls) or ``out`` (an operator calls a client).
    direction: Mapped[str] = mapped_column(String(3))
    #: The client's number in E.164; None when withheld or not a phone number.
    caller: Mapped[str | None] = mapped_column(String(20))
    #: The number as the PBX sent it (empty when withheld).
    raw_number: Mapped[str] = mapped_column(String(40), default="")
    anonymous: Mapped[bool] = mapped_column(default=False)
    #: The line (DID) the client called, digits only; empty when the PBX did not say.
    line: Mapped[str] = mapped_column(String(20), default="")
    #: The extension that rang or took the call, and its operator.
    extension: Mapped[str] = mapped_column(String(20), default="")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    #: ``ringing``, ``talking``, then ``answered``, ``missed`` (rang an operator, nobody answered) or
    #: ``abandoned`` (the caller hung up before any operator's phone rang).
    status: Mapped[str] = mapped_column(String(10))
    rang: Mapped[bool] = mapped_column(default=False)
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    answered_at: Mapped[dt.datetime | None]
    ended_at: Mapped[dt.datetime | None]
    #: Seconds of conversation (0 for a call nobody answered).
    duration_s: Mapped[int] = mapped_column(default=0)
    #: The order taken during the call.
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id", ondelete="SET NULL"))
    #: When a missed call was called back (or the client got through again): off the call-back list.
    called_back_at: Mapped[dt.datetime | None]
