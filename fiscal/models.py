"""Fiscal registers of the organizations, and the fiscal receipts sent to them."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from frontoffice.db import Base, utcnow


class ReceiptState:
    """Where a fiscal receipt stands."""

    #: Waiting to be sent (or refused before sending: ``message`` says why).
    PENDING = "pending"
    #: The register accepted it; its result is being polled.
    SENT = "sent"
    #: Fiscalized: the fiscal sign, document number and date are known.
    DONE = "done"
    #: The register refused it, or every try failed: a manager resends it.
    FAILED = "failed"

    ALL = (PENDING, SENT, DONE, FAILED)
    OPEN = (PENDING, SENT)


class FiscalRegister(Base):
    """A cash register or a cloud fiscal service an organization fiscalizes its receipts on."""

    __tablename__ = "fiscal_registers"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    #: ``atol_online`` or ``atol_webserver`` (fiscal.adapters.KINDS).
    kind: Mapped[str] = mapped_column(String(30))
    name: Mapped[str] = mapped_column(String(200))
    #: The INN the register is registered to (must be its organization's).
    inn: Mapped[str] = mapped_column(String(12))
    #: Tax system codes it serves: ["usn_income", …].
    tax_systems: Mapped[list] = mapped_column(default=list)
    #: The point of sale: the settlement address (tag 1009) — for a web shop, its site.
    payment_address: Mapped[str] = mapped_column(String(256))
    #: The seller's e-mail (tag 1117), required by ATOL Online.
    company_email: Mapped[str] = mapped_column(String(64), default="")
    base_url: Mapped[str] = mapped_column(String(500))
    #: ATOL Online: the group code (the register group of the cabinet).
    group_code: Mapped[str] = mapped_column(String(100), default="")
    #: ATOL Online: the login; ATOL Web Server: the cashier's name (tag 1021).
    login: Mapped[str] = mapped_column(String(100), default="")
    #: The password, encrypted with the app's key (fiscal.secrets); or None when taken from
    #: ``secret_env``.
    secret_encrypted: Mapped[str | None] = mapped_column(Text)
    #: The name of an environment variable that holds the password (wins over the stored one).
    secret_env: Mapped[str] = mapped_column(String(100), default="")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class FiscalReceipt(Base):
    """One receipt of one organization for one moment of an order (prepayment, settlement, refund),
    sent to a register exactly once: ``external_id`` is what the register dedupes on."""

    __tablename__ = "fiscal_receipts"
    __table_args__ = (
        # One receipt per moment of each version of the order's receipts, per organization and tax
        # system: a replayed event finds its receipts written.
        UniqueConstraint(
            "order_id",
            "order_version",
            "purpose",
            "organization_id",
            "tax_system",
            name="uq_fiscal_receipts_once_per_version",
        ),
        UniqueConstraint("external_id"),
        Index("ix_fiscal_receipts_due", "state", "next_attempt_at"),
        Index("ix_fiscal_receipts_client_phone", "client_phone"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    order_number: Mapped[str] = mapped_column(String(32))
    client_phone: Mapped[str] = mapped_column(String(20), default="")
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    tax_system: Mapped[str] = mapped_column(String(30))
    #: ``prepayment``, ``settlement`` or ``refund`` (fiscal.ffd).
    purpose: Mapped[str] = mapped_column(String(30))
    #: The version of the order's receipts this one carries: 0 as the order was placed, else the
    #: order's version after the edit (``OrderEdited.version``) that prepaid them again. A refund
    #: has its prepayment's; a settlement the latest of the order's.
    order_version: Mapped[int] = mapped_column(default=0)
    #: ``sell`` or ``sell_refund`` (tag 1054: 1 or 2).
    operation: Mapped[str] = mapped_column(String(20))
    #: The receipt in the provider-neutral shape of fiscal.ffd (positions, payments, tags).
    document: Mapped[dict] = mapped_column()
    total: Mapped[int]
    external_id: Mapped[str] = mapped_column(String(64))
    register_id: Mapped[int | None] = mapped_column(ForeignKey("fiscal_registers.id", ondelete="SET NULL"))
    state: Mapped[str] = mapped_column(String(10), default=ReceiptState.PENDING)
    #: The register's id of the accepted document (ATOL's uuid), polled for the result.
    provider_uuid: Mapped[str | None] = mapped_column(String(100))
    attempts: Mapped[int] = mapped_column(default=0)
    #: When its external id was last handed to a register (set just before sending): from then on
    #: the register may have printed it, so an edit refunds it rather than rewriting it. None: never
    #: handed over, or refused (the register printed nothing).
    offered_at: Mapped[dt.datetime | None]
    next_attempt_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    #: A sender working on it until then (a sender that died lets it go again after that).
    claimed_until: Mapped[dt.datetime | None]
    #: Why it is not done: the check that refused it before sending, or the register's message.
    message: Mapped[str | None] = mapped_column(Text)
    fiscal_sign: Mapped[str | None] = mapped_column(String(20))
    fiscal_document_number: Mapped[str | None] = mapped_column(String(20))
    fiscal_receipt_number: Mapped[str | None] = mapped_column(String(20))
    fn_number: Mapped[str | None] = mapped_column(String(20))
    fiscal_at: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
