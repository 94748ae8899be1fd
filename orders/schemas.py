"""Request and response models of the order API (they also generate the OpenAPI document)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, model_validator

from frontoffice.money import from_minor
from frontoffice.schemas import Day, Id, Latitude, Longitude, Money, Strict
from nomenclature.schemas import ConditionIn, ExplainOut, ReceiptOut
from orders.hours import MAX_INTERVALS, HoursError, WeeklyHours, intervals_of
from orders.models import Branch, Order, OrderCharge, OrderEvent, OrderLine
from orders.states import OrderStatus


class LineIn(Strict):
    """An order line: the item by SKU (or id) and a quantity; the price comes from the catalogue."""

    sku: str | None = Field(default=None, max_length=64)
    item_id: Id | None = None
    quantity: int = Field(ge=1, le=999)
    comment: str = Field(default="", max_length=500)
    modifiers: list[int] = Field(
        default_factory=list,
        max_length=30,
        description="Ids of the chosen modifier options; each adds its price delta to the unit price.",
    )

    @model_validator(mode="after")
    def _one_reference(self) -> LineIn:
        if (self.sku is None) == (self.item_id is None):
            raise ValueError("name the item by exactly one of sku or item_id")
        return self


class ClientIn(Strict):
    """Who orders."""

    phone: str = Field(min_length=1, max_length=40, description="Any common format; stored in E.164.")
    name: str = Field(default="", max_length=200)


class AddressIn(Strict):
    """Where to deliver."""

    text: str = Field(min_length=1, max_length=500)
    lat: Latitude | None = None
    lon: Longitude | None = None


class PaymentIn(Strict):
    """How the client pays."""

    kind: Literal["cash", "card_on_delivery", "prepaid"] = "cash"
    change_from: Money | None = Field(
        default=None, description="Cash only: the note the client will pay with."
    )


class OrderCreate(Strict):
    """A new order."""

    branch_id: Id
    kind: Literal["delivery", "pickup"] = "delivery"
    client: ClientIn
    address: AddressIn | None = None
    payment: PaymentIn = PaymentIn()
    comment: str = Field(default="", max_length=1000)
    promised_at: dt.datetime | None = Field(default=None, description="ISO 8601 with offset; default ASAP.")
    delivery_fee: Money | None = Field(
        default=None,
        description="Deliveries only. Where a delivery zone prices the delivery (the business has "
        "zones and the address has coordinates), the zone's fee is charged and a different value "
        "is refused (422 naming `delivery_fee`); leave it out. Otherwise the fee charged; default 0. "
        "A pickup with a fee is refused.",
    )
    discount: Money = Field(
        default=Decimal("0"),
        description="Honoured as sent: the discount taken off the items (never more than they cost).",
    )
    lines: list[LineIn] = Field(min_length=1, max_length=100)


class StatusChange(Strict):
    """Move an order to another state."""

    status: OrderStatus
    reason: str | None = Field(default=None, max_length=500)
    expected_version: int | None = Field(
        default=None, ge=1, description="Refuse (409) if the order changed since you read it."
    )


class CancelIn(Strict):
    """Cancel an order."""

    reason: str = Field(min_length=1, max_length=500)


class OrderQuery(Strict):
    """Filters and paging of the order list."""

    status: list[OrderStatus] | OrderStatus | None = None
    branch_id: Id | None = None
    date: Day | None = Field(default=None, description="Business date, YYYY-MM-DD.")
    phone: str | None = Field(default=None, max_length=40)
    page: int = Field(default=1, ge=1, le=100000)
    per_page: int = Field(default=50, ge=1, le=200)


class ModifierOut(BaseModel):
    """A modifier option chosen on a line."""

    id: int
    name: str
    group_id: int
    group: str
    price_delta: Decimal


class LineOut(BaseModel):
    """A stored order line: priced with its options, assigned to the organization that sells it."""

    id: int
    item_id: int
    sku: str
    name: str
    quantity: int
    unit_price: Decimal
    total: Decimal
    vat_rate: str = Field(description="The rate the receipt charges.")
    comment: str
    modifiers: list[ModifierOut] = []
    organization_id: int | None = None
    tax_system: str | None = None
    condition_id: int | None = Field(
        default=None, description="The deciding condition; null: default organization."
    )
    discount_share: Decimal = Decimal("0.00")
    delivery_fee_share: Decimal = Field(
        default=Decimal("0.00"),
        description="Only on orders taken before the delivery became a position of its own (`delivery`): "
        "their lines carried a share of the fee. 0.00 since.",
    )
    amount: Decimal | None = Field(
        default=None, description="What the receipt charges: total − discount share (+ delivery fee share)."
    )
    vat: Decimal | None = None

    @classmethod
    def of(cls, ln: OrderLine) -> LineOut:
        """Serialize a stored line."""
        return cls(
            id=ln.id,
            item_id=ln.item_id,
            sku=ln.sku,
            name=ln.name,
            quantity=ln.quantity,
            unit_price=from_minor(ln.unit_price),
            total=from_minor(ln.total),
            vat_rate=ln.vat_rate,
            comment=ln.comment,
            modifiers=[
                ModifierOut(
                    id=m["id"],
                    name=m["name"],
                    group_id=m["group_id"],
                    group=m["group"],
                    price_delta=from_minor(m["price_delta"]),
                )
                for m in ln.modifiers or []
            ],
            organization_id=ln.organization_id,
            tax_system=ln.tax_system,
            condition_id=ln.condition_id,
            discount_share=from_minor(ln.discount_share or 0),
            delivery_fee_share=from_minor(ln.delivery_fee_share or 0),
            amount=from_minor(ln.amount) if ln.amount is not None else None,
            vat=from_minor(ln.vat) if ln.vat is not None else None,
        )


class DeliveryOut(BaseModel):
    """The delivery position of an order: one service at the fee (FFD tag 1212 = 4), sold by the
    organization the distribution conditions give the catalogue's delivery position to."""

    item_id: int = Field(description="The catalogue's delivery position (SKU DELIVERY).")
    sku: str
    name: str
    amount: Decimal = Field(description="The delivery fee: price × quantity 1.")
    vat_rate: str
    vat: Decimal = Field(description="round_half_up(amount × rate / (100 + rate)).")
    organization_id: int
    tax_system: str
    condition_id: int | None = Field(description="The deciding condition; null: default organization.")

    @classmethod
    def of(cls, charge: OrderCharge) -> DeliveryOut:
        """Serialize a stored delivery position."""
        return cls(
            item_id=charge.item_id,
            sku=charge.sku,
            name=charge.name,
            amount=from_minor(charge.amount),
            vat_rate=charge.vat_rate,
            vat=from_minor(charge.vat),
            organization_id=charge.organization_id,
            tax_system=charge.tax_system,
            condition_id=charge.condition_id,
        )


class EventOut(BaseModel):
    """One entry of an order's audit trail."""

    at: dt.datetime
    actor_id: int | None
    kind: str
    from_status: str | None
    to_status: str | None
    reason: str | None
    changes: dict[str, list[Any]] = Field(
        default={},
        description="An `edited` entry: each changed field (lines, address, promised_at, payment_kind, "
        "change_from, comment, delivery_fee, total, receipts, status) as [before, after]; money as "
        "decimal strings.",
    )

    @classmethod
    def of(cls, event: OrderEvent) -> EventOut:
        """Serialize a trail entry."""
        return cls(
            at=event.at,
            actor_id=event.actor_id,
            kind=event.kind,
            from_status=event.from_status,
            to_status=event.to_status,
            reason=event.reason,
            changes=(event.payload or {}).get("changes", {}) if event.kind == "edited" else {},
        )


class ReceiptBriefOut(BaseModel):
    """One receipt of an order in brief: who sells, under which tax system, for how much."""

    organization_id: int
    organization_name: str
    tax_system: str
    total: Decimal


class OrderOut(BaseModel):
    """An order as the API shows it."""

    id: int
    number: str
    business_date: dt.date
    branch_id: int
    kind: str
    status: OrderStatus
    client_phone: str
    client_name: str
    address_text: str
    lat: float | None
    lon: float | None
    payment_kind: str
    change_from: Decimal | None
    comment: str
    promised_at: dt.datetime | None
    items_total: Decimal
    discount_total: Decimal
    delivery_fee: Decimal
    total: Decimal
    courier_id: int | None
    assigned_at: dt.datetime | None
    created_at: dt.datetime
    status_changed_at: dt.datetime
    delivered_at: dt.datetime | None
    version: int
    lines: list[LineOut]
    delivery: DeliveryOut | None = Field(
        default=None,
        description="The delivery position; null for pickup, a free delivery, and orders taken before "
        "delivery became a position of its own.",
    )
    events: list[EventOut] = []
    receipts: list[ReceiptBriefOut] = []
    edits: list[EventOut] = Field(
        default=[], description="The changes made after the order was taken (its `edited` trail entries)."
    )

    @classmethod
    def of(
        cls, order: Order, *, with_events: bool = True, edits: Sequence[OrderEvent] | None = None
    ) -> OrderOut:
        """Serialize a loaded order; ``edits``: its ``edited`` trail entries when the trail is not loaded."""
        return cls(
            id=order.id,
            number=order.number,
            business_date=order.business_date,
            branch_id=order.branch_id,
            kind=order.kind,
            status=OrderStatus(order.status),
            client_phone=order.client_phone,
            client_name=order.client_name,
            address_text=order.address_text,
            lat=order.lat,
            lon=order.lon,
            payment_kind=order.payment_kind,
            change_from=from_minor(order.change_from) if order.change_from is not None else None,
            comment=order.comment,
            promised_at=order.promised_at,
            items_total=from_minor(order.items_total),
            discount_total=from_minor(order.discount_total),
            delivery_fee=from_minor(order.delivery_fee),
            total=from_minor(order.total),
            courier_id=order.courier_id,
            assigned_at=order.assigned_at,
            created_at=order.created_at,
            status_changed_at=order.status_changed_at,
            delivered_at=order.delivered_at,
            version=order.version,
            lines=[LineOut.of(ln) for ln in order.lines],
            delivery=DeliveryOut.of(order.charges[0]) if order.charges else None,
            events=[EventOut.of(e) for e in order.events] if with_events else [],
            receipts=[
                ReceiptBriefOut(
                    organization_id=r.organization_id,
                    organization_name=r.organization_name,
                    tax_system=r.tax_system,
                    total=from_minor(r.total),
                )
                for r in order.receipts
            ],
            edits=[
                EventOut.of(e)
                for e in (edits if edits is not None else order.events if with_events else ())
                if e.kind == "edited"
            ],
        )


class OrderPage(BaseModel):
    """A page of orders."""

    items: list[OrderOut]
    total: int
    page: int
    per_page: int


# --- receipts, preview, backtest -----------------------------------------------------------------


class OrderReceiptsOut(BaseModel):
    """The receipts of an order: one per (organization, tax system); they add up to the total."""

    order_id: int
    number: str
    total: Decimal
    receipts: list[ReceiptOut]


class PreviewLineIn(Strict):
    """A cart line: the item by SKU (or id), a quantity, chosen modifier option ids."""

    sku: str | None = Field(default=None, max_length=64)
    item_id: Id | None = None
    quantity: int = Field(ge=1, le=999)
    modifiers: list[int] = Field(default_factory=list, max_length=30)

    @model_validator(mode="after")
    def _one_reference(self) -> PreviewLineIn:
        if (self.sku is None) == (self.item_id is None):
            raise ValueError("name the item by exactly one of sku or item_id")
        return self


class ReceiptsPreviewIn(Strict):
    """A cart to split into receipts before it becomes an order."""

    branch_id: Id
    kind: Literal["delivery", "pickup"] = "delivery"
    payment_kind: Literal["cash", "card_on_delivery", "prepaid"] = "cash"
    lines: list[PreviewLineIn] = Field(min_length=1, max_length=100)
    delivery_fee: Money = Decimal("0")
    discount: Money = Decimal("0")


class PreviewLineOut(BaseModel):
    """A cart line priced and assigned."""

    position: int
    item_id: int
    sku: str
    name: str
    quantity: int
    unit_price: Decimal
    total: Decimal
    modifiers: list[ModifierOut]
    organization_id: int
    organization: str
    tax_system: str
    vat_rate: str
    condition_id: int | None
    discount_share: Decimal
    amount: Decimal = Field(description="total − discount share: the delivery fee is a position of its own.")
    vat: Decimal


class ReceiptsPreviewOut(BaseModel):
    """How the cart would be split; the receipts add up to ``total``."""

    total: Decimal
    receipts: list[ReceiptOut]
    lines: list[PreviewLineOut]
    delivery: DeliveryOut | None = Field(
        default=None, description="The delivery position; null for pickup and a free delivery."
    )


class RecordedLineOut(BaseModel):
    """What was decided for an order line (or, after the lines, its delivery) when it was taken."""

    position: int
    sku: str
    organization_id: int | None
    tax_system: str | None
    vat_rate: str
    condition_id: int | None


class OrderExplainOut(BaseModel):
    """An order's lines explained under today's conditions, next to what was recorded."""

    order_id: int
    number: str
    recorded: list[RecordedLineOut]
    explanation: ExplainOut


class BacktestIn(Strict):
    """A proposed set of conditions to try on the last ``days`` days of orders."""

    days: int = Field(default=30, ge=1, le=366)
    mode: Literal["add", "replace"] = Field(
        default="add",
        description="add: the proposal joins the current conditions; replace: it is the whole set.",
    )
    conditions: list[ConditionIn] = Field(default_factory=list, max_length=1000)


class BacktestOrganizationOut(BaseModel):
    """Revenue of an organization over the window, as recorded and under the proposal."""

    organization_id: int
    name: str
    before: Decimal
    after: Decimal
    delta: Decimal


class BacktestUncoveredOut(BaseModel):
    """An item the proposal leaves without a condition: such orders would have been refused."""

    item_id: int
    sku: str
    name: str
    lines: int
    amount: Decimal


class BacktestOut(BaseModel):
    """How the last days' orders would have been redistributed."""

    start: dt.date
    end: dt.date
    orders: int
    lines: int
    moved_lines: int
    moved_amount: Decimal
    organizations: list[BacktestOrganizationOut]
    uncovered: list[BacktestUncoveredOut]


# --- branches ---------------------------------------------------------------------------------

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
ClockTime = Annotated[str, Field(min_length=5, max_length=5, description="HH:MM, 00:00 to 24:00, e.g. 10:00")]


class IntervalIn(Strict):
    """One opening interval; closing after midnight is said with ``next_day``."""

    opens: ClockTime
    closes: ClockTime
    next_day: bool = Field(default=False, description="It closes the next day (after midnight).")


OpeningHoursIn = Annotated[
    dict[Weekday, Annotated[list[IntervalIn], Field(max_length=MAX_INTERVALS)]],
    Field(
        description="Per weekday its intervals, e.g. "
        '`{"mon": [{"opens": "10:00", "closes": "02:00", "next_day": true}]}`; a day left out is closed; '
        "`{}`: open around the clock.",
    ),
]


class BranchIn(Strict):
    """A new branch."""

    code: str = Field(min_length=1, max_length=10, description="Unique: letters, digits, - or _ (KZ1).")
    name: str = Field(min_length=1, max_length=200)
    address: str = Field(default="", max_length=500)
    lat: Latitude
    lon: Longitude
    timezone: str | None = Field(
        default=None, max_length=64, description="IANA time zone (Europe/Moscow); default the service's."
    )
    opening_hours: OpeningHoursIn = Field(default_factory=dict)
    phone: str = Field(default="", max_length=40)
    active: bool = True


class BranchPatch(Strict):
    """What changes about a branch; fields not sent stay as they are."""

    code: str | None = Field(default=None, min_length=1, max_length=10)
    name: str | None = Field(default=None, min_length=1, max_length=200)
    address: str | None = Field(default=None, max_length=500)
    lat: Latitude | None = None
    lon: Longitude | None = None
    timezone: str | None = Field(default=None, max_length=64)
    opening_hours: OpeningHoursIn | None = None
    phone: str | None = Field(default=None, max_length=40)
    active: bool | None = Field(default=None, description="false is refused (409) while it has open orders.")


class BranchQuery(Strict):
    """Filters of the branch list."""

    active: bool | None = None


class IntervalOut(BaseModel):
    """One opening interval."""

    opens: str
    closes: str
    next_day: bool


class BranchOut(BaseModel):
    """A branch."""

    id: int
    code: str
    name: str
    address: str
    lat: float
    lon: float
    timezone: str
    opening_hours: dict[str, list[IntervalOut]] = Field(description="`{}`: open around the clock.")
    phone: str
    active: bool

    @classmethod
    def of(cls, b: Branch) -> BranchOut:
        """From the stored branch (hours in the admin format)."""
        try:
            hours = intervals_of(WeeklyHours.parse(b.opening_hours))
        except HoursError:  # a row written by hand with broken hours reads as no schedule
            hours = {}
        return cls(
            id=b.id,
            code=b.code,
            name=b.name,
            address=b.address,
            lat=b.lat,
            lon=b.lon,
            timezone=b.timezone,
            opening_hours=hours,
            phone=b.phone,
            active=b.active,
        )


class BranchList(BaseModel):
    """Branches, by code."""

    items: list[BranchOut]
