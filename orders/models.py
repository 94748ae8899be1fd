"""Order tables: branches, orders, lines, the audit trail, per-day number counters."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from frontoffice.db import Base, utcnow


class Branch(Base):
    """A kitchen / point of sale that cooks and dispatches orders."""

    __tablename__ = "branches"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(10), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(500), default="")
    lat: Mapped[float]
    lon: Mapped[float]
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Moscow")
    # {"mon": [["10:00", "23:00"]], …}; a day missing means closed that day.
    opening_hours: Mapped[dict] = mapped_column(default=dict)
    phone: Mapped[str] = mapped_column(String(20), default="")
    active: Mapped[bool] = mapped_column(default=True)


#: The columns of ``ix_orders_client_history``: the key (phone, time), then what antifraud reads of
#: every earlier order of the caller (``backoffice.services.screening``).
CLIENT_HISTORY_COLUMNS = (
    "client_phone",
    "created_at",
    "training",
    "status",
    "client_name",
    "lat",
    "lon",
    "total",
    "payment_kind",
)


class Order(Base):
    """One order: who, where, what, how paid, when promised, where it is now."""

    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("branch_id", "business_date", "seq"),
        Index("ix_orders_status_branch", "status", "branch_id"),
        Index("ix_orders_business_date", "business_date"),
        # A caller's orders, newest first: the dossier's and antifraud's read on every placement.
        # The columns antifraud reads follow the key, so that read never leaves the index.
        Index("ix_orders_client_history", *CLIENT_HISTORY_COLUMNS),
        Index("ix_orders_courier_status", "courier_id", "status"),
        CheckConstraint("total >= 0", name="total_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32))
    seq: Mapped[int]
    business_date: Mapped[dt.date] = mapped_column(Date)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"))
    kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    client_phone: Mapped[str] = mapped_column(String(20))
    client_name: Mapped[str] = mapped_column(String(200), default="")
    address_text: Mapped[str] = mapped_column(String(500), default="")
    lat: Mapped[float | None]
    lon: Mapped[float | None]
    payment_kind: Mapped[str] = mapped_column(String(20))
    change_from: Mapped[int | None]
    comment: Mapped[str] = mapped_column(Text, default="")
    promised_at: Mapped[dt.datetime | None]
    items_total: Mapped[int]
    discount_total: Mapped[int] = mapped_column(default=0)
    delivery_fee: Mapped[int] = mapped_column(default=0)
    total: Mapped[int]
    # Courier assignment is two fields, not a status; couriers live in another package.
    courier_id: Mapped[int | None]
    assigned_at: Mapped[dt.datetime | None]
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    status_changed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[dt.datetime | None]
    version: Mapped[int] = mapped_column(default=1)
    #: Taken by a trainee (``User.trainee``): shown on no screen but the trainee's and the trainer's,
    #: its events delivered only to subscribers that opted in (docs/training.md).
    training: Mapped[bool] = mapped_column(default=False, server_default=false())

    branch: Mapped[Branch] = relationship(lazy="joined")
    lines: Mapped[list[OrderLine]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="OrderLine.position"
    )
    events: Mapped[list[OrderEvent]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="OrderEvent.id"
    )
    receipts: Mapped[list[OrderReceipt]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="OrderReceipt.position"
    )
    # The delivery position (none for pickup, a free delivery, or an order taken before delivery
    # became a position of its own: those carry the fee in their lines' delivery_fee_share).
    charges: Mapped[list[OrderCharge]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="OrderCharge.id"
    )

    __mapper_args__ = {"version_id_col": version}


#: The condition every read of real orders adds (boards, pool, dispatch, metrics, reports, loyalty):
#: not a trainee's order.
REAL_ORDER = Order.training.is_(False)


class OrderLine(Base):
    """One line of an order, priced from the catalogue at the time of the order."""

    __tablename__ = "order_lines"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    position: Mapped[int]
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"))
    sku: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    quantity: Mapped[int]
    unit_price: Mapped[int]
    total: Mapped[int]
    # The rate the receipt charges (after distribution), not necessarily the catalogue's.
    vat_rate: Mapped[str] = mapped_column(String(10))
    comment: Mapped[str] = mapped_column(String(500), default="")
    # Options chosen: [{"id", "name", "group_id", "group", "price_delta"}], already in unit_price.
    modifiers: Mapped[list] = mapped_column(default=list, server_default=text("'[]'"))
    # Who sells the line and why; empty on orders taken before distribution existed.
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"), index=True)
    tax_system: Mapped[str | None] = mapped_column(String(30))
    # The deciding condition (kept even if the condition is deleted later); None: default organization.
    condition_id: Mapped[int | None]
    discount_share: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    # Only on orders taken before the delivery became a position of its own (OrderCharge); 0 since.
    delivery_fee_share: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    # total - discount_share + delivery_fee_share: what the receipt charges for this line.
    amount: Mapped[int | None]
    vat: Mapped[int | None]

    order: Mapped[Order] = relationship(back_populates="lines")


class OrderCharge(Base):
    """A receipt position of an order that is no cart line: its delivery, sold like an item by the
    organization the distribution conditions give the delivery position to."""

    __tablename__ = "order_charges"
    __table_args__ = (
        UniqueConstraint("order_id", "kind"),
        CheckConstraint("amount > 0", name="amount_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # "delivery"
    # The catalogue's delivery position, with its SKU and name as they were.
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"))
    sku: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    amount: Mapped[int]
    vat_rate: Mapped[str] = mapped_column(String(10))
    vat: Mapped[int]
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    tax_system: Mapped[str] = mapped_column(String(30))
    # The deciding condition (kept even if the condition is deleted later); None: default organization.
    condition_id: Mapped[int | None]

    order: Mapped[Order] = relationship(back_populates="charges")


class OrderReceipt(Base):
    """One receipt of an order: the lines one (organization, tax system) sells, with totals.

    The organization's name and numbers are copied as they were when the order was taken.
    """

    __tablename__ = "order_receipts"
    __table_args__ = (
        Index("ix_order_receipts_organization_date", "organization_id", "business_date"),
        UniqueConstraint("order_id", "organization_id", "tax_system"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    position: Mapped[int]
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    tax_system: Mapped[str] = mapped_column(String(30))
    organization_name: Mapped[str] = mapped_column(String(200))
    inn: Mapped[str] = mapped_column(String(12))
    kpp: Mapped[str] = mapped_column(String(9), default="")
    business_date: Mapped[dt.date] = mapped_column(Date)
    total: Mapped[int]
    vat: Mapped[int]

    order: Mapped[Order] = relationship(back_populates="receipts")


class OrderEvent(Base):
    """The audit trail: who did what to an order, when, from which state to which, why."""

    __tablename__ = "order_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(30))
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str | None] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(String(500))
    payload: Mapped[dict] = mapped_column(default=dict)

    order: Mapped[Order] = relationship(back_populates="events")


class OrderCounter(Base):
    """The last order number handed out per branch per business day."""

    __tablename__ = "order_counters"

    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id", ondelete="CASCADE"), primary_key=True)
    business_date: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    last_seq: Mapped[int]


class OrganizationRevenue(Base):
    """What an organization has sold in a calendar year (minor units), kept as orders are placed
    and taken back when they end unsold, so revenue limits are checked without summing receipts."""

    __tablename__ = "organization_revenue"

    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True
    )
    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    total: Mapped[int] = mapped_column(BigInteger, default=0)
