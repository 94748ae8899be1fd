"""Back-office tables: antifraud rules and verdicts, tickets, the bonus ledger.

``tickets`` is a contract other packages read with plain SQL (the monitor counts open
and overdue tickets): keep ``id``, ``kind``, ``status``, ``client_phone``, ``order_id``,
``created_at`` and ``due_at`` stable.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from frontoffice.db import Base, utcnow
from orders.models import Order

# --- antifraud ------------------------------------------------------------------------------


class AntifraudRule(Base):
    """A rule's identity and switch; what it checks lives in its versions.

    ``revision`` grows on every change (new version, switched on or off), so evaluators
    can tell cheaply whether their cached rule book is stale.
    """

    __tablename__ = "antifraud_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    active: Mapped[bool] = mapped_column(default=True)
    current_version: Mapped[int] = mapped_column(default=1)
    revision: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    versions: Mapped[list[AntifraudRuleVersion]] = relationship(
        back_populates="rule", order_by="AntifraudRuleVersion.version", cascade="all, delete-orphan"
    )


class AntifraudRuleVersion(Base):
    """One version of a rule: name, parameters, score, action. Edits add versions, never change one."""

    __tablename__ = "antifraud_rule_versions"
    __table_args__ = (
        UniqueConstraint("rule_id", "version"),
        CheckConstraint("score >= 0", name="score_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    rule_id: Mapped[int] = mapped_column(ForeignKey("antifraud_rules.id", ondelete="CASCADE"))
    version: Mapped[int]
    name: Mapped[str] = mapped_column(String(200))
    params: Mapped[dict] = mapped_column(default=dict)
    score: Mapped[int] = mapped_column(default=0)
    action: Mapped[str] = mapped_column(String(10))
    note: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    rule: Mapped[AntifraudRule] = relationship(back_populates="versions")


class BlacklistEntry(Base):
    """A phone (E.164), a normalized address or a device id that antifraud rules refuse or flag."""

    __tablename__ = "antifraud_blacklist"
    __table_args__ = (UniqueConstraint("kind", "value"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    value: Mapped[str] = mapped_column(String(500))
    display: Mapped[str] = mapped_column(String(500), default="")
    reason: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class AntifraudVerdict(Base):
    """The verdict an order was placed with (only orders some rule fired on), naming rule versions."""

    __tablename__ = "antifraud_verdicts"
    __table_args__ = (Index("ix_antifraud_verdicts_action_created", "action", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), unique=True)
    action: Mapped[str] = mapped_column(String(10))
    score: Mapped[int] = mapped_column(default=0)
    hits: Mapped[list] = mapped_column(default=list)
    version_ids: Mapped[list] = mapped_column(default=list)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class OrderAddressKey(Base):
    """The normalized-address digest of each delivery order, so velocity by address is an index read."""

    __tablename__ = "order_address_keys"
    __table_args__ = (Index("ix_order_address_keys_key_created", "address_key", "created_at"),)

    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), primary_key=True)
    address_key: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[dt.datetime]


# --- tickets --------------------------------------------------------------------------------


class Ticket(Base):
    """What an operator could not solve on the call, handed to the back office with a deadline."""

    __tablename__ = "tickets"
    __table_args__ = (
        Index("ix_tickets_status_due", "status", "due_at"),
        Index("ix_tickets_client_phone_created", "client_phone", "created_at"),
        Index("ix_tickets_assignee_status", "assignee_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    client_phone: Mapped[str] = mapped_column(String(20), default="")
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id", ondelete="SET NULL"), index=True)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    due_at: Mapped[dt.datetime]
    closed_at: Mapped[dt.datetime | None]
    resolution: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(default=1)

    events: Mapped[list[TicketEvent]] = relationship(
        back_populates="ticket", cascade="all, delete-orphan", order_by="TicketEvent.id"
    )
    #: The order it is about, read for its number and business date (what people call it by).
    order: Mapped[Order | None] = relationship(lazy="selectin", viewonly=True)

    __mapper_args__ = {"version_id_col": version}


class TicketEvent(Base):
    """The ticket's history: created, comments, assignments, moves between states."""

    __tablename__ = "ticket_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(20))
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str | None] = mapped_column(String(20))
    body: Mapped[str] = mapped_column(Text, default="")

    ticket: Mapped[Ticket] = relationship(back_populates="events")


# --- bonuses --------------------------------------------------------------------------------


class BonusRule(Base):
    """How much one operation pays: a fixed amount (minor units) or a percentage (basis points)."""

    __tablename__ = "bonus_rules"
    __table_args__ = (
        CheckConstraint("amount >= 0", name="amount_not_negative"),
        CheckConstraint("percent_bp >= 0 AND percent_bp <= 10000", name="percent_in_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    operation: Mapped[str] = mapped_column(String(30), unique=True)
    method: Mapped[str] = mapped_column(String(10), default="fixed")
    amount: Mapped[int] = mapped_column(default=0)
    percent_bp: Mapped[int] = mapped_column(default=0)
    params: Mapped[dict] = mapped_column(default=dict)
    active: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class BonusEntry(Base):
    """One line of the bonus ledger: who earned (or lost) how much for which operation on what.

    The unique key (operation, subject, person) is what makes a replayed event harmless.
    """

    __tablename__ = "bonus_ledger"
    __table_args__ = (
        UniqueConstraint("operation", "subject_id", "user_id"),
        Index("ix_bonus_ledger_user_earned", "user_id", "earned_at"),
        Index("ix_bonus_ledger_earned", "earned_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    operation: Mapped[str] = mapped_column(String(30))
    subject_id: Mapped[int]
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id", ondelete="SET NULL"))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"))
    amount: Mapped[int]
    base: Mapped[int] = mapped_column(default=0)
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("bonus_rules.id", ondelete="SET NULL"))
    note: Mapped[str] = mapped_column(String(200), default="")
    earned_at: Mapped[dt.datetime]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
