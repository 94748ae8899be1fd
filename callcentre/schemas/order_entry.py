"""Request and response models of the call-centre API: quotes, order entry, repeating an order."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

from callcentre import services
from callcentre.schemas.clients import AddressFields, modifiers_out
from frontoffice.money import from_minor, to_minor
from frontoffice.schemas import Id, Latitude, Longitude, Money, Strict, money
from orders.pricing import PricedLine
from orders.schemas import ModifierOut

# --- order entry ------------------------------------------------------------------------------


class CartLineIn(Strict):
    """A cart line: the item by SKU or id, a quantity, modifiers and a note for the kitchen."""

    sku: str | None = Field(default=None, max_length=64)
    item_id: Id | None = None
    quantity: int = Field(ge=1, le=999)
    modifiers: list[int] = Field(
        default_factory=list, max_length=20, description="Chosen modifier option ids."
    )
    comment: str = Field(default="", max_length=300)

    @model_validator(mode="after")
    def _one_reference(self) -> CartLineIn:
        if (self.sku is None) == (self.item_id is None):
            raise ValueError("name the item by exactly one of sku or item_id")
        return self

    def to_service(self) -> services.CartLine:
        """The service's cart line."""
        return services.CartLine(
            quantity=self.quantity,
            sku=self.sku,
            item_id=self.item_id,
            modifiers=tuple(self.modifiers),
            comment=self.comment,
        )


class QuoteAddressIn(Strict):
    """A saved address by id, or a typed one with coordinates."""

    id: Id | None = None
    text: str = Field(default="", max_length=500)
    lat: Latitude | None = None
    lon: Longitude | None = None

    @model_validator(mode="after")
    def _text_or_id(self) -> QuoteAddressIn:
        if self.id is None and not self.text:
            raise ValueError("give the id of a saved address or the text of a new one")
        if (self.lat is None) != (self.lon is None):
            raise ValueError("give both lat and lon, or neither")
        return self

    def to_service(self) -> services.AddressChoice:
        """The service's address choice."""
        return services.AddressChoice(
            id=self.id, data=services.AddressData(text=self.text, lat=self.lat, lon=self.lon), save=False
        )


class OrderAddressIn(AddressFields):
    """Where to deliver: a saved address by id, or a new one (saved to the client unless ``save`` is false)."""

    id: Id | None = None
    text: str = Field(default="", max_length=500)
    save: bool = True

    @model_validator(mode="after")
    def _text_or_id(self) -> OrderAddressIn:
        if self.id is None and not self.text:
            raise ValueError("give the id of a saved address or the text of a new one")
        return self

    def to_service(self) -> services.AddressChoice:
        """The service's address choice."""
        return services.AddressChoice(
            id=self.id,
            data=services.AddressData(
                text=self.text,
                street=self.street,
                house=self.house,
                entrance=self.entrance,
                floor=self.floor,
                apartment=self.apartment,
                intercom=self.intercom,
                comment=self.comment,
                lat=self.lat,
                lon=self.lon,
            ),
            save=self.save,
        )


class QuoteIn(Strict):
    """The cart, place and time to price."""

    phone: str | None = Field(default=None, max_length=40)
    client_id: Id | None = None
    kind: Literal["delivery", "pickup"] = "delivery"
    branch_id: Id | None = Field(default=None, description="Pickup branch (delivery: the zone decides).")
    address: QuoteAddressIn | None = None
    lines: list[CartLineIn] = Field(default_factory=list, max_length=100)
    promised_at: dt.datetime | None = Field(default=None, description="ISO 8601 with offset; null: ASAP.")


class ProblemOut(BaseModel):
    """Why the order cannot be taken as it is; ``code`` and ``params`` let the page translate it."""

    field: str
    message: str
    code: str
    params: dict[str, Any] = {}


class ZoneRef(BaseModel):
    """The zone that delivers."""

    id: int
    name: str
    branch_id: int


class PickupOffer(BaseModel):
    """The nearest branch, offered for pickup when delivery is impossible."""

    branch_id: int
    code: str
    name: str
    address: str
    distance_km: float


class QuoteLineOut(BaseModel):
    """A cart line priced from the catalogue; ``unit_price`` includes the options."""

    item_id: int
    sku: str
    name: str
    quantity: int
    unit_price: Decimal
    total: Decimal
    comment: str
    modifiers: list[ModifierOut] = []

    @classmethod
    def of(cls, ln: PricedLine) -> QuoteLineOut:
        """Serialize a priced cart line."""
        return cls(
            item_id=ln.item_id,
            sku=ln.sku,
            name=ln.name,
            quantity=ln.quantity,
            unit_price=from_minor(ln.unit_price),
            total=from_minor(ln.total),
            comment=ln.comment,
            modifiers=modifiers_out(ln.modifiers),
        )


class QuoteOut(BaseModel):
    """Zone, branch, money, promise and problems of a cart."""

    zone: ZoneRef | None
    branch_id: int | None
    lines: list[QuoteLineOut]
    items_total: Decimal
    delivery_fee: Decimal
    free_delivery_from: Decimal | None
    min_order: Decimal
    meets_minimum: bool
    eta_minutes: int | None
    asap_at: dt.datetime | None
    slots: list[dt.datetime]
    total: Decimal
    problems: list[ProblemOut]
    pickup_offer: PickupOffer | None
    client_id: int | None
    zones_configured: bool

    @classmethod
    def of(cls, q: services.Quote) -> QuoteOut:
        """Serialize a quote."""
        return cls(
            zone=ZoneRef(id=q.zone.id, name=q.zone.name, branch_id=q.zone.branch_id) if q.zone else None,
            branch_id=q.branch.id if q.branch else None,
            lines=[QuoteLineOut.of(ln) for ln in q.lines],
            items_total=from_minor(q.items_total),
            delivery_fee=from_minor(q.delivery_fee),
            free_delivery_from=money(q.free_delivery_from),
            min_order=from_minor(q.min_order),
            meets_minimum=q.meets_minimum,
            eta_minutes=q.eta_minutes,
            asap_at=q.asap_at,
            slots=q.slots,
            total=from_minor(q.total),
            problems=[
                ProblemOut(field=p["field"], message=p["message"], code=p["type"], params=p.get("params", {}))
                for p in q.problems
            ],
            pickup_offer=PickupOffer(**q.pickup_offer) if q.pickup_offer else None,
            client_id=q.client.id if q.client else None,
            zones_configured=q.zones_configured,
        )


class PaymentIn(Strict):
    """How the client pays."""

    kind: Literal["cash", "card_on_delivery", "prepaid"] = "cash"
    change_from: Money | None = Field(default=None, description="Cash only: the note the client pays with.")


class TakeOrderIn(Strict):
    """An order taken on the phone."""

    phone: str = Field(min_length=1, max_length=40)
    name: str = Field(default="", max_length=200)
    client_id: Id | None = None
    kind: Literal["delivery", "pickup"] = "delivery"
    branch_id: Id | None = None
    address: OrderAddressIn | None = None
    lines: list[CartLineIn] = Field(min_length=1, max_length=100)
    payment: PaymentIn = PaymentIn()
    comment: str = Field(default="", max_length=1000)
    promised_at: dt.datetime | None = Field(default=None, description="ISO 8601 with offset; null: ASAP.")


class EditOrderIn(Strict):
    """A change of a taken order: the fields sent replace the order's, the others stay."""

    version: int = Field(ge=1, description="The order's version the change was made against.")
    lines: list[CartLineIn] | None = Field(
        default=None, max_length=100, description="The whole new cart (left out: the lines stay)."
    )
    address: OrderAddressIn | None = Field(default=None, description="Delivery only: the new address.")
    promised_at: dt.datetime | None = Field(
        default=None, description="ISO 8601 with offset; sent as null: as soon as possible."
    )
    payment: PaymentIn | None = None
    comment: str | None = Field(default=None, max_length=1000)
    reason: str = Field(default="", max_length=500, description="Why; required once the kitchen has started.")

    def to_service(self, order_id: int) -> services.EditOrder:
        """The service's change."""
        return services.EditOrder(
            order_id=order_id,
            version=self.version,
            lines=[ln.to_service() for ln in self.lines] if self.lines is not None else None,
            address=self.address.to_service() if self.address is not None else None,
            new_time="promised_at" in self.model_fields_set,
            promised_at=self.promised_at,
            payment_kind=self.payment.kind if self.payment is not None else None,
            change_from=to_minor(self.payment.change_from)
            if self.payment is not None and self.payment.change_from is not None
            else None,
            comment=self.comment,
            reason=self.reason,
        )


class RepeatLineOut(QuoteLineOut):
    """A line of the repeated cart; send it back as ``{item_id, quantity, modifiers: [ids], comment}``."""


class SkippedLineOut(BaseModel):
    """A line of the old order that cannot be repeated."""

    sku: str
    name: str
    quantity: int
    reason: str


class RepeatCartOut(BaseModel):
    """A previous order's lines as a new cart at today's prices."""

    order_id: int
    number: str
    kind: str
    branch_id: int
    address_text: str
    lat: float | None
    lon: float | None
    lines: list[RepeatLineOut]
    skipped: list[SkippedLineOut]
    items_total: Decimal
    payment_kind: Literal["cash", "card_on_delivery", "prepaid"] = Field(
        description="How the client paid last time; the workspace preselects it, the operator may change it."
    )
    change_from: Decimal | None = Field(description="Cash only: the note the client paid with last time.")

    @classmethod
    def of(cls, r: services.RepeatCart) -> RepeatCartOut:
        """Serialize a repeated cart."""
        return cls(
            order_id=r.order.id,
            number=r.order.number,
            kind=r.order.kind,
            branch_id=r.order.branch_id,
            address_text=r.order.address_text,
            lat=r.order.lat,
            lon=r.order.lon,
            lines=[RepeatLineOut(**QuoteLineOut.of(ln).model_dump()) for ln in r.lines],
            skipped=[SkippedLineOut(**s) for s in r.skipped],
            items_total=from_minor(r.items_total),
            payment_kind=r.payment_kind,
            change_from=from_minor(r.change_from) if r.change_from is not None else None,
        )
