"""Monitor tables: the loyalty projection kept current by the order events.

``monitor_loyalty_facts`` is the ledger: one row per delivered order, written once (its
primary key makes replaying an event harmless). ``monitor_client_totals`` adds the ledger up
per client per bucket (all time, calendar year, calendar month), so the top clients of a
bucket are one short walk down an index instead of a GROUP BY over every order.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from frontoffice.db import Base


class LoyaltyFact(Base):
    """A delivered order as the loyalty projection counted it."""

    __tablename__ = "monitor_loyalty_facts"
    __table_args__ = (
        Index("ix_monitor_loyalty_facts_business_date", "business_date"),
        Index("ix_monitor_loyalty_facts_client_phone", "client_phone"),
    )

    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), primary_key=True)
    client_phone: Mapped[str] = mapped_column(String(20))
    client_name: Mapped[str] = mapped_column(String(200), default="")
    total: Mapped[int]
    delivered_at: Mapped[dt.datetime]
    business_date: Mapped[dt.date] = mapped_column(Date)


class ClientTotals(Base):
    """One client's delivered orders in one bucket (``all``, ``y:2025``, ``m:2025-05``)."""

    __tablename__ = "monitor_client_totals"
    __table_args__ = (
        Index("ix_monitor_client_totals_by_deliveries", "period", "deliveries", "revenue", "client_phone"),
        Index("ix_monitor_client_totals_by_revenue", "period", "revenue", "deliveries", "client_phone"),
    )

    period: Mapped[str] = mapped_column(String(12), primary_key=True)
    client_phone: Mapped[str] = mapped_column(String(20), primary_key=True)
    client_name: Mapped[str] = mapped_column(String(200), default="")
    deliveries: Mapped[int]
    revenue: Mapped[int]
    first_at: Mapped[dt.datetime]
    last_at: Mapped[dt.datetime]
