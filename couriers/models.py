"""Courier tables: couriers and the branches they serve, shifts, positions and tracks, delivery outcomes."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from frontoffice.db import Base, utcnow

VEHICLES = ("foot", "bike", "car")
#: How a courier's trip with an order ends (``CourierDelivery.outcome``).
DELIVERY_OUTCOMES = ("delivered", "failed")


class Courier(Base):
    """A person who delivers: linked to a login (the mobile app) and/or a device id (Traccar Client)."""

    __tablename__ = "couriers"
    __table_args__ = (
        CheckConstraint("max_active_orders >= 1", name="max_active_orders_positive"),
        CheckConstraint("vehicle IN ('foot', 'bike', 'car')", name="vehicle_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(20), default="")
    vehicle: Mapped[str] = mapped_column(String(10), default="car")
    max_active_orders: Mapped[int] = mapped_column(default=3)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    branches: Mapped[list[CourierBranch]] = relationship(
        cascade="all, delete-orphan", order_by="CourierBranch.branch_id", lazy="selectin"
    )
    devices: Mapped[list[CourierDevice]] = relationship(
        cascade="all, delete-orphan", order_by="CourierDevice.device_id", lazy="selectin"
    )

    @property
    def device_ids(self) -> list[str]:
        """The Traccar Client device ids registered to this courier, sorted."""
        return [d.device_id for d in self.devices]

    @property
    def device_id(self) -> str | None:
        """The first of :attr:`device_ids` (None without any): the single-device view of the API."""
        return self.devices[0].device_id if self.devices else None

    @property
    def branch_ids(self) -> list[int]:
        """Ids of the branches this courier delivers for."""
        return [b.branch_id for b in self.branches]


class CourierBranch(Base):
    """A branch a courier takes orders from."""

    __tablename__ = "courier_branches"

    courier_id: Mapped[int] = mapped_column(ForeignKey("couriers.id", ondelete="CASCADE"), primary_key=True)
    branch_id: Mapped[int] = mapped_column(
        ForeignKey("branches.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class CourierDevice(Base):
    """A phone running Traccar Client that reports for a courier: the identifier it sends as ``id``
    is its only credential, so it belongs to one courier at most."""

    __tablename__ = "courier_devices"

    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[str] = mapped_column(String(100), unique=True)
    courier_id: Mapped[int] = mapped_column(ForeignKey("couriers.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class CourierShift(Base):
    """One working shift: when, and the cash the courier carries.

    ``opening_cash`` is the change float taken at the start, ``cash_collected`` what cash
    clients paid during the shift, ``closing_cash`` what the courier handed in at the end.
    """

    __tablename__ = "courier_shifts"
    __table_args__ = (
        # At most one open shift per courier, enforced by the database on both backends.
        Index(
            "uq_courier_shifts_open",
            "courier_id",
            unique=True,
            sqlite_where=text("ended_at IS NULL"),
            postgresql_where=text("ended_at IS NULL"),
        ),
        Index("ix_courier_shifts_courier_started", "courier_id", "started_at"),
        CheckConstraint("opening_cash >= 0", name="opening_cash_not_negative"),
        CheckConstraint("cash_collected >= 0", name="cash_collected_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    courier_id: Mapped[int] = mapped_column(ForeignKey("couriers.id", ondelete="CASCADE"))
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[dt.datetime | None]
    opening_cash: Mapped[int] = mapped_column(default=0)
    cash_collected: Mapped[int] = mapped_column(default=0)
    closing_cash: Mapped[int | None]

    @property
    def cash_on_hand(self) -> int:
        """Cash the courier carries and has not handed in (minor units)."""
        if self.closing_cash is not None:
            return 0
        return self.opening_cash + self.cash_collected


class CourierPosition(Base):
    """The latest known position of a courier (one row per courier, upserted)."""

    __tablename__ = "courier_positions"

    courier_id: Mapped[int] = mapped_column(ForeignKey("couriers.id", ondelete="CASCADE"), primary_key=True)
    lat: Mapped[float]
    lon: Mapped[float]
    recorded_at: Mapped[dt.datetime]
    received_at: Mapped[dt.datetime]
    accuracy: Mapped[float | None]
    speed: Mapped[float | None]  # metres per second
    bearing: Mapped[float | None]  # degrees from north
    altitude: Mapped[float | None]
    battery: Mapped[float | None]  # percent


class CourierTrackPoint(Base):
    """One reported point of a courier's track (history; written in batches)."""

    __tablename__ = "courier_track_points"
    __table_args__ = (UniqueConstraint("courier_id", "recorded_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    courier_id: Mapped[int] = mapped_column(ForeignKey("couriers.id", ondelete="CASCADE"))
    recorded_at: Mapped[dt.datetime]
    received_at: Mapped[dt.datetime]
    lat: Mapped[float]
    lon: Mapped[float]
    accuracy: Mapped[float | None]
    speed: Mapped[float | None]
    bearing: Mapped[float | None]
    altitude: Mapped[float | None]
    battery: Mapped[float | None]
    source: Mapped[str] = mapped_column(String(10), default="api")
    #: Why the point is implausible, comma-separated (``old``, ``ahead``, ``fast``); empty when it is not.
    flags: Mapped[str] = mapped_column(String(20), default="", server_default="")


class CourierDelivery(Base):
    """How a courier's trip with an order ended: delivered (with the cash taken) or failed (with why)."""

    __tablename__ = "courier_deliveries"
    __table_args__ = (
        Index("ix_courier_deliveries_courier_at", "courier_id", "at"),
        CheckConstraint("cash_collected >= 0", name="cash_collected_not_negative"),
    )

    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), primary_key=True)
    courier_id: Mapped[int] = mapped_column(ForeignKey("couriers.id", ondelete="CASCADE"))
    shift_id: Mapped[int | None] = mapped_column(
        ForeignKey("courier_shifts.id", ondelete="SET NULL"), index=True
    )
    outcome: Mapped[str] = mapped_column(String(10))  # one of DELIVERY_OUTCOMES
    reason_code: Mapped[str | None] = mapped_column(String(30))
    comment: Mapped[str] = mapped_column(String(500), default="")
    cash_collected: Mapped[int] = mapped_column(default=0)
    lat: Mapped[float | None]
    lon: Mapped[float | None]
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class DeliveryProof(Base):
    """A photo or a signature taken at the door (small image, stored in the database)."""

    __tablename__ = "delivery_proofs"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    courier_id: Mapped[int] = mapped_column(ForeignKey("couriers.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(10))  # photo | signature
    content_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class DispatchSetting(Base):
    """How dispatch runs, changed by managers on the dispatch screen (one row, ``id`` 1).

    Auto-dispatch gives a delivery order that has been ready and unclaimed for ``after_minutes``
    to the nearest free courier of its branch (:func:`couriers.services.auto_dispatch`).
    """

    __tablename__ = "dispatch_settings"
    __table_args__ = (CheckConstraint("after_minutes >= 1", name="after_minutes_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    auto_dispatch: Mapped[bool] = mapped_column(default=False)
    after_minutes: Mapped[int] = mapped_column(default=5)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
