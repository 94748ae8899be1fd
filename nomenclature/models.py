"""Catalogue tables."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from frontoffice.db import Base, utcnow


class Item(Base):
    """Something the business sells; prices in minor units, VAT included."""

    __tablename__ = "items"

    id: Mapped[int] = mapped_column(primary_key=True)
    sku: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    price: Mapped[int]
    vat_rate: Mapped[str] = mapped_column(String(10), default="vat22")
    unit: Mapped[str] = mapped_column(String(20), default="pcs")
    description: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
