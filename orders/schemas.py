"""Request and response models of the order API (they also generate the OpenAPI document)."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from frontoffice.money import from_minor, to_minor
from orders.models import Order
from orders.states import OrderStatus

MAX_MONEY = Decimal("10000000")


def _money_ok(value: Decimal) -> Decimal:
    try:
        to_minor(value)
    except ValueError as exc:
        raise ValueError(str(exc)) from None
    return value


Money = Annotated[
    Decimal,
    Field(ge=0, le=MAX_MONEY, description='Decimal string in major units, e.g. "250.00"'),
    AfterValidator(_money_ok),
]


class Strict(BaseModel):
    """Base of request models: unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class LineIn(Strict):
    """An order line: the item by SKU (or id) and a quantity; the price comes from the catalogue."""

    sku: str | None = Field(default=None, max_length=64)
    item_id: int | None = Field(default=None, ge=1)
    quantity: int = Field(ge=1, le=999)
    comment: str = Field(default="", max_length=500)

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
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)

    @field_validator("lat", "lon")
    @classmethod
    def _finite(cls, v: float | None) -> float | None:
        if v is not None and not math.isfinite(v):
            raise ValueError("must be a finite number")
        return v


class PaymentIn(Strict):
    """How the client pays."""

    kind: Literal["cash", "card_on_delivery", "prepaid"] = "cash"
    change_from: Money | None = Field(
        default=None, description="Cash only: the note the client will pay with."
    )


class OrderCreate(Strict):
    """A new order."""

    branch_id: int = Field(ge=1)
    kind: Literal["delivery", "pickup"] = "delivery"
    client: ClientIn
    address: AddressIn | None = None
    payment: PaymentIn = PaymentIn()
    comment: str = Field(default="", max_length=1000)
    promised_at: dt.datetime | None = Field(default=None, description="ISO 8601 with offset; default ASAP.")
    delivery_fee: Money = Decimal("0")
    discount: Money = Decimal("0")
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
    branch_id: int | None = Field(default=None, ge=1)
    date: dt.date | None = Field(default=None, description="Business date, YYYY-MM-DD.")
    phone: str | None = Field(default=None, max_length=40)
    page: int = Field(default=1, ge=1, le=100000)
    per_page: int = Field(default=50, ge=1, le=200)


class LineOut(BaseModel):
    """A stored order line."""

    id: int
    item_id: int
    sku: str
    name: str
    quantity: int
    unit_price: Decimal
    total: Decimal
    vat_rate: str
    comment: str


class EventOut(BaseModel):
    """One entry of an order's audit trail."""

    at: dt.datetime
    actor_id: int | None
    kind: str
    from_status: str | None
    to_status: str | None
    reason: str | None


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
    events: list[EventOut] = []

    @classmethod
    def of(cls, order: Order, *, with_events: bool = True) -> OrderOut:
        """Serialize a loaded order."""
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
            lines=[
                LineOut(
                    id=ln.id,
                    item_id=ln.item_id,
                    sku=ln.sku,
                    name=ln.name,
                    quantity=ln.quantity,
                    unit_price=from_minor(ln.unit_price),
                    total=from_minor(ln.total),
                    vat_rate=ln.vat_rate,
                    comment=ln.comment,
                )
                for ln in order.lines
            ],
            events=[
                EventOut(
                    at=e.at,
                    actor_id=e.actor_id,
                    kind=e.kind,
                    from_status=e.from_status,
                    to_status=e.to_status,
                    reason=e.reason,
                )
                for e in order.events
            ]
            if with_events
            else [],
        )


class OrderPage(BaseModel):
    """A page of orders."""

    items: list[OrderOut]
    total: int
    page: int
    per_page: int
