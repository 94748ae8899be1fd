"""Response and query models of the monitor: the snapshot (API and sockets alike), loyalty, reports."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field, model_validator

from frontoffice.schemas import Day, Id, Strict

PERIODS = ("month", "year", "all")


# --- the snapshot -------------------------------------------------------------------------------


class OrganizationRevenue(BaseModel):
    """Revenue of one organization (the seller of record on the receipts)."""

    organization_id: int | None
    name: str
    amount: Decimal


class RevenueOut(BaseModel):
    """Money of the day: delivered orders' revenue, the average check, what open orders carry."""

    total: Decimal
    pending: Decimal
    delivered_orders: int
    average_check: Decimal
    by_organization: list[OrganizationRevenue] | None = Field(
        description="Per organization, or null where receipts are not recorded (n/a)."
    )


class DeliveryTimesOut(BaseModel):
    """Created → delivered, minutes, over today's delivered orders."""

    count: int
    average_min: float | None
    median_min: float | None
    p90_min: float | None


class OnTimeOut(BaseModel):
    """Today's delivered orders with a promised time, and how many arrived by it."""

    judged: int
    on_time: int
    rate: float | None = Field(description="0..1, null when nothing was delivered with a promise.")


class LateOrderOut(BaseModel):
    """An open order past its promised time."""

    order_id: int
    number: str
    branch_id: int
    status: str
    promised_at: dt.datetime
    minutes_late: int
    level: Literal["minor", "serious", "critical"]
    courier_id: int | None
    courier_name: str | None
    address: str
    client_name: str


class CourierOut(BaseModel):
    """A courier on shift as the map shows them."""

    id: int
    name: str
    state: Literal["free", "busy", "no_signal"]
    active_orders: int
    lat: float | None
    lon: float | None
    last_seen: dt.datetime | None


class CouriersOut(BaseModel):
    """Couriers on shift: free + busy + no_signal = on_shift."""

    available: bool = Field(description="False when the courier tables are missing (n/a).")
    on_shift: int = 0
    free: int = 0
    busy: int = 0
    no_signal: int = 0
    couriers: list[CourierOut] = []


class TicketsOut(BaseModel):
    """Tickets still open, and those past their due time."""

    available: bool
    open: int = 0
    overdue: int = 0


class FiscalOut(BaseModel):
    """Receipts not fiscalized yet (every branch): waiting to be sent or for the register's answer,
    and failed (a manager resends them on the fiscal queue, ``/fiscal/receipts``)."""

    available: bool
    waiting: int = 0
    failed: int = 0


class HourlyOut(BaseModel):
    """Orders per local hour, today and on the same weekday a week ago."""

    today: list[int]
    last_week: list[int]
    last_week_date: dt.date
    today_so_far: int
    last_week_same_time: int


class MapOrderOut(BaseModel):
    """An undelivered order on the map."""

    order_id: int
    number: str
    branch_id: int
    status: str
    lat: float
    lon: float
    late_level: str | None


class BranchOut(BaseModel):
    """A branch on the map and in the selector."""

    id: int
    code: str
    name: str
    lat: float
    lon: float


class LoyalClientOut(BaseModel):
    """One of the most loyal clients of a period, with their all-time RFM scores."""

    rank: int
    phone: str
    name: str
    client_id: int | None
    deliveries: int
    revenue: Decimal
    average_check: Decimal
    first_at: dt.datetime
    last_at: dt.datetime
    recency: int | None
    frequency: int | None
    monetary: int | None
    segment: str | None


class LoyalOut(BaseModel):
    """The top clients of a period."""

    period: str
    date_from: dt.date | None
    date_to: dt.date | None
    by: Literal["deliveries", "revenue"]
    clients: list[LoyalClientOut]


class OrderChange(BaseModel):
    """An order that changed since the previous update."""

    order_id: int
    number: str
    branch_id: int
    status: str
    at: dt.datetime


class Snapshot(BaseModel):
    """Everything the monitor shows, for every branch or for one."""

    generated_at: dt.datetime
    business_date: dt.date
    timezone: str
    currency: str
    branch_id: int | None
    orders_today: int
    orders_by_status: dict[str, int]
    held: int = Field(description="Orders on hold by antifraud right now (any day).")
    revenue: RevenueOut
    delivery_time: DeliveryTimesOut
    on_time: OnTimeOut
    late: list[LateOrderOut]
    couriers: CouriersOut
    tickets: TicketsOut
    fiscal: FiscalOut
    hourly: HourlyOut
    map_orders: list[MapOrderOut]
    branches: list[BranchOut]
    loyal: dict[str, LoyalOut] = Field(description="Top clients per period: month, year, all.")
    changes: list[OrderChange] = Field(default=[], description="Orders changed since the previous update.")


class SnapshotQuery(Strict):
    """Which branch to look at (all when absent)."""

    branch_id: Id | None = None


# --- loyalty ------------------------------------------------------------------------------------


class LoyaltyQuery(Strict):
    """A period and a ranking for the top clients."""

    period: Literal["month", "year", "all", "custom"] = "month"
    date_from: Day | None = Field(default=None, description="custom period: first business date")
    date_to: Day | None = Field(default=None, description="custom period: last business date")
    by: Literal["deliveries", "revenue"] = "deliveries"
    limit: int = Field(default=50, ge=1, le=500)

    @model_validator(mode="after")
    def _custom_needs_dates(self) -> LoyaltyQuery:
        if self.period == "custom":
            if self.date_from is None or self.date_to is None:
                raise ValueError("a custom period needs date_from and date_to")
            if self.date_from > self.date_to:
                raise ValueError("date_from is after date_to")
        return self


class SegmentCount(BaseModel):
    """How many clients are in one RFM segment."""

    segment: str
    clients: int


class SegmentsOut(BaseModel):
    """The RFM segments of every client with a delivery."""

    population: int
    segments: list[SegmentCount]


# --- reports ------------------------------------------------------------------------------------

CLIENT_SORTS = ("deliveries", "revenue", "average_check", "first_at", "last_at", "share", "name", "phone")


class PeriodQuery(Strict):
    """A period of business dates (default: the last 30 days) and optionally one branch."""

    date_from: Day | None = None
    date_to: Day | None = None
    branch_id: Id | None = None

    @model_validator(mode="after")
    def _ordered(self) -> PeriodQuery:
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise ValueError("date_from is after date_to")
        if self.date_from and self.date_to and (self.date_to - self.date_from).days > 366:
            raise ValueError("a report covers at most 367 days")
        return self


class ClientReportQuery(PeriodQuery):
    """Deliveries by client: period, sorting, paging."""

    sort: Literal[CLIENT_SORTS] = "deliveries"  # type: ignore[valid-type]
    order: Literal["asc", "desc"] = "desc"
    page: int = Field(default=1, ge=1, le=100000)
    per_page: int = Field(default=50, ge=1, le=500)


class ClientReportRow(BaseModel):
    """One client's deliveries in the period."""

    phone: str
    name: str
    deliveries: int
    revenue: Decimal
    average_check: Decimal
    first_at: dt.datetime
    last_at: dt.datetime
    share: Decimal = Field(description="Percent of the period's revenue.")


class ClientReport(BaseModel):
    """Deliveries by client."""

    date_from: dt.date
    date_to: dt.date
    branch_id: int | None
    clients: int
    deliveries: int
    revenue: Decimal
    sort: str
    order: str
    page: int
    per_page: int
    rows: list[ClientReportRow]


class PerformanceQuery(PeriodQuery):
    """Delivery performance grouped by courier, zone, branch or day."""

    group: Literal["courier", "zone", "branch", "day"] = "day"


class PerformanceRow(BaseModel):
    """Delivery performance of one group."""

    key: str
    label: str
    delivered: int
    failed: int
    revenue: Decimal
    average_min: float | None
    median_min: float | None
    p90_min: float | None
    on_time_rate: float | None
    late: int


class PerformanceReport(BaseModel):
    """Delivery performance per group."""

    date_from: dt.date
    date_to: dt.date
    branch_id: int | None
    group: str
    available: bool = Field(description="False when the grouping needs tables that are missing.")
    rows: list[PerformanceRow]
    total: PerformanceRow
