"""Call-centre tables: clients, their phones, addresses and statistics; delivery zones; the geocoder cache.

``clients`` and ``client_stats`` are a contract other packages read with plain SQL
(the monitor's loyalty report): keep their column names stable.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from frontoffice.db import Base, utcnow


class Client(Base):
    """A person who orders, known by the phone number in E.164.

    A client merged into another keeps its row (``merged_into_id`` points at the
    survivor) so old references still resolve; lookups follow the pointer.
    """

    __tablename__ = "clients"

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    tags: Mapped[list] = mapped_column(default=list)
    marketing_consent: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    merged_into_id: Mapped[int | None] = mapped_column(
        ForeignKey("clients.id", ondelete="SET NULL"), index=True
    )
    merged_at: Mapped[dt.datetime | None]


class ClientPhone(Base):
    """Another number of a client (work phone, a relative's phone, a merged duplicate's number)."""

    __tablename__ = "client_phones"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    phone: Mapped[str] = mapped_column(String(20), unique=True)
    label: Mapped[str] = mapped_column(String(60), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ClientAddress(Base):
    """A delivery address of a client: the text as said, its parts, coordinates, the zone it fell in."""

    __tablename__ = "client_addresses"
    __table_args__ = (Index("ix_client_addresses_client_last_used", "client_id", "last_used_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(String(500))
    street: Mapped[str] = mapped_column(String(200), default="")
    house: Mapped[str] = mapped_column(String(30), default="")
    entrance: Mapped[str] = mapped_column(String(20), default="")
    floor: Mapped[str] = mapped_column(String(20), default="")
    apartment: Mapped[str] = mapped_column(String(30), default="")
    intercom: Mapped[str] = mapped_column(String(30), default="")
    comment: Mapped[str] = mapped_column(String(500), default="")
    lat: Mapped[float | None]
    lon: Mapped[float | None]
    # The zone the point fell in when last checked (a cache; zones are re-resolved on each order).
    zone_id: Mapped[int | None] = mapped_column(ForeignKey("delivery_zones.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[dt.datetime | None]


class ClientStats(Base):
    """Running totals of a client's orders, kept by the order-event subscriber.

    ``total_spent`` counts delivered orders only, in minor units; ``cancelled_count``
    counts orders that reached ``cancelled``.
    """

    __tablename__ = "client_stats"

    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), primary_key=True)
    orders_count: Mapped[int] = mapped_column(default=0)
    delivered_count: Mapped[int] = mapped_column(default=0)
    cancelled_count: Mapped[int] = mapped_column(default=0)
    total_spent: Mapped[int] = mapped_column(default=0)
    first_order_at: Mapped[dt.datetime | None]
    last_order_at: Mapped[dt.datetime | None]


class ClientOrderFact(Base):
    """One order fact already counted in the statistics (``placed``, ``delivered``, ``cancelled``).

    The primary key makes the subscriber idempotent: a replayed event finds its fact
    already recorded and changes nothing.
    """

    __tablename__ = "client_order_facts"

    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), primary_key=True)
    fact: Mapped[str] = mapped_column(String(20), primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class DeliveryZone(Base):
    """An area a branch delivers to, with its money and time rules.

    ``geometry`` is a GeoJSON Polygon or MultiPolygon (lon, lat order, holes allowed).
    ``opening_hours`` has the branch format (``{"mon": [["10:00", "02:00"]], …}``, an
    interval may cross midnight); empty means "the branch's hours".
    """

    __tablename__ = "delivery_zones"
    __table_args__ = (
        CheckConstraint("delivery_fee >= 0", name="fee_not_negative"),
        CheckConstraint("min_order >= 0", name="min_order_not_negative"),
        CheckConstraint("delivery_minutes > 0", name="delivery_minutes_positive"),
        UniqueConstraint("branch_id", "name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    geometry: Mapped[dict]
    delivery_fee: Mapped[int] = mapped_column(default=0)
    free_delivery_from: Mapped[int | None]
    min_order: Mapped[int] = mapped_column(default=0)
    delivery_minutes: Mapped[int] = mapped_column(default=60)
    opening_hours: Mapped[dict] = mapped_column(default=dict)
    priority: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)
    color: Mapped[str] = mapped_column(String(20), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class GeocodeCacheEntry(Base):
    """A geocoder's answer to a normalized query, so the same address is asked only once."""

    __tablename__ = "geocode_cache"
    __table_args__ = (UniqueConstraint("provider", "query"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(60))
    query: Mapped[str] = mapped_column(String(500))
    results: Mapped[list] = mapped_column(default=list)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class AddressStreet(Base):
    """A street of the offline address directory, under the key its spellings share."""

    __tablename__ = "address_streets"
    __table_args__ = (UniqueConstraint("city", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    city: Mapped[str] = mapped_column(String(120), default="")
    name: Mapped[str] = mapped_column(String(200))
    key: Mapped[str] = mapped_column(String(200), index=True)


class AddressHouse(Base):
    """A house of the directory: its number as written, its key, and where it stands (WGS84)."""

    __tablename__ = "address_houses"
    __table_args__ = (UniqueConstraint("street_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    street_id: Mapped[int] = mapped_column(ForeignKey("address_streets.id", ondelete="CASCADE"))
    number: Mapped[str] = mapped_column(String(40))
    key: Mapped[str] = mapped_column(String(40))
    lat: Mapped[float]
    lon: Mapped[float]
