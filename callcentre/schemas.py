"""Request and response models of the call-centre API (they also generate the OpenAPI document)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from callcentre import services
from callcentre.models import Client, ClientAddress, ClientPhone, ClientStats, DeliveryZone
from frontoffice.money import from_minor
from frontoffice.phones import display_phone
from frontoffice.schemas import Money, Strict, finite, money
from orders.schemas import ModifierOut

# --- clients ----------------------------------------------------------------------------------


class PhoneIn(Strict):
    """An extra phone of a client."""

    phone: str = Field(min_length=1, max_length=40, description="Any common format; stored in E.164.")
    label: str = Field(default="", max_length=60)


class ClientCreate(Strict):
    """A new client."""

    phone: str = Field(min_length=1, max_length=40, description="Any common format; stored in E.164.")
    name: str = Field(default="", max_length=200)
    notes: str = Field(default="", max_length=5000)
    tags: list[str] = Field(default_factory=list, max_length=30)
    marketing_consent: bool = False
    phones: list[PhoneIn] = Field(default_factory=list, max_length=10, description="Extra numbers.")


class ClientPatch(Strict):
    """Changes to a client; only the fields sent change. ``phones`` replaces the extra numbers."""

    phone: str | None = Field(default=None, min_length=1, max_length=40)
    name: str | None = Field(default=None, max_length=200)
    notes: str | None = Field(default=None, max_length=5000)
    tags: list[str] | None = Field(default=None, max_length=30)
    marketing_consent: bool | None = None
    phones: list[PhoneIn] | None = Field(default=None, max_length=10)


class PhoneOut(BaseModel):
    """One number of a client."""

    phone: str
    display_phone: str
    label: str
    primary: bool


class ClientOut(BaseModel):
    """A client as the operator sees it."""

    id: int
    phone: str
    display_phone: str
    name: str
    phones: list[PhoneOut]
    tags: list[str]
    notes: str
    marketing_consent: bool
    created_at: dt.datetime
    merged_into_id: int | None = None

    @classmethod
    def of(cls, client: Client, extras: list[ClientPhone]) -> ClientOut:
        """Serialize a client with its extra phones."""
        return cls(
            id=client.id,
            phone=client.phone,
            display_phone=display_phone(client.phone),
            name=client.name,
            phones=[
                PhoneOut(
                    phone=client.phone, display_phone=display_phone(client.phone), label="", primary=True
                )
            ]
            + [
                PhoneOut(phone=p.phone, display_phone=display_phone(p.phone), label=p.label, primary=False)
                for p in extras
            ],
            tags=list(client.tags or []),
            notes=client.notes,
            marketing_consent=client.marketing_consent,
            created_at=client.created_at,
            merged_into_id=client.merged_into_id,
        )


class AddressFields(Strict):
    """The parts of an address."""

    street: str = Field(default="", max_length=200)
    house: str = Field(default="", max_length=30)
    entrance: str = Field(default="", max_length=20)
    floor: str = Field(default="", max_length=20)
    apartment: str = Field(default="", max_length=30)
    intercom: str = Field(default="", max_length=30)
    comment: str = Field(default="", max_length=500)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)

    @field_validator("lat", "lon")
    @classmethod
    def _finite_coordinates(cls, v: float | None) -> float | None:
        return finite(v)

    @model_validator(mode="after")
    def _both_coordinates(self) -> AddressFields:
        if (self.lat is None) != (self.lon is None):
            raise ValueError("give both lat and lon, or neither")
        return self


class AddressCreate(AddressFields):
    """A new address of a client."""

    text: str = Field(min_length=1, max_length=500)


class AddressPatch(Strict):
    """Changes to an address; only the fields sent change."""

    text: str | None = Field(default=None, min_length=1, max_length=500)
    street: str | None = Field(default=None, max_length=200)
    house: str | None = Field(default=None, max_length=30)
    entrance: str | None = Field(default=None, max_length=20)
    floor: str | None = Field(default=None, max_length=20)
    apartment: str | None = Field(default=None, max_length=30)
    intercom: str | None = Field(default=None, max_length=30)
    comment: str | None = Field(default=None, max_length=500)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)

    @field_validator("lat", "lon")
    @classmethod
    def _finite_coordinates(cls, v: float | None) -> float | None:
        return finite(v)


class AddressOut(BaseModel):
    """A saved address."""

    id: int
    client_id: int
    text: str
    street: str
    house: str
    entrance: str
    floor: str
    apartment: str
    intercom: str
    comment: str
    lat: float | None
    lon: float | None
    zone_id: int | None
    created_at: dt.datetime
    last_used_at: dt.datetime | None

    @classmethod
    def of(cls, a: ClientAddress) -> AddressOut:
        """Serialize an address."""
        return cls(
            id=a.id,
            client_id=a.client_id,
            text=a.text,
            street=a.street,
            house=a.house,
            entrance=a.entrance,
            floor=a.floor,
            apartment=a.apartment,
            intercom=a.intercom,
            comment=a.comment,
            lat=a.lat,
            lon=a.lon,
            zone_id=a.zone_id,
            created_at=a.created_at,
            last_used_at=a.last_used_at,
        )


class ClientDetail(ClientOut):
    """A client with addresses and statistics."""

    addresses: list[AddressOut]
    stats: StatsOut | None


class MergeIn(Strict):
    """Fold the duplicate ``merge_id`` into ``keep_id``."""

    keep_id: int = Field(ge=1)
    merge_id: int = Field(ge=1)


# --- dossier ----------------------------------------------------------------------------------


class StatsOut(BaseModel):
    """A client's order statistics (total spent and the average check count delivered orders)."""

    orders_count: int
    delivered_count: int
    cancelled_count: int
    total_spent: Decimal
    average_check: Decimal | None
    first_order_at: dt.datetime | None
    last_order_at: dt.datetime | None

    @classmethod
    def of(cls, s: ClientStats | None) -> StatsOut | None:
        """Serialize statistics (None stays None)."""
        if s is None:
            return None
        return cls(
            orders_count=s.orders_count,
            delivered_count=s.delivered_count,
            cancelled_count=s.cancelled_count,
            total_spent=from_minor(s.total_spent),
            average_check=from_minor(round(s.total_spent / s.delivered_count)) if s.delivered_count else None,
            first_order_at=s.first_order_at,
            last_order_at=s.last_order_at,
        )


def _modifiers(stored: Any) -> list[ModifierOut]:
    """Options as order lines store them (minor units) → as the API shows them."""
    return [
        ModifierOut(
            id=m["id"],
            name=m["name"],
            group_id=m["group_id"],
            group=m["group"],
            price_delta=from_minor(m["price_delta"]),
        )
        for m in stored or []
    ]


class DossierLine(BaseModel):
    """A line of a past order; ``unit_price`` includes the options."""

    item_id: int
    sku: str
    name: str
    quantity: int
    unit_price: Decimal
    total: Decimal
    comment: str
    modifiers: list[ModifierOut] = []


class DossierOrderOut(BaseModel):
    """A past order in the dossier."""

    id: int
    number: str
    status: str
    kind: str
    branch_id: int
    created_at: dt.datetime
    promised_at: dt.datetime | None
    address_text: str
    payment_kind: str
    items_total: Decimal
    delivery_fee: Decimal
    total: Decimal
    lines: list[DossierLine]


class DossierClient(BaseModel):
    """The caller as the dossier shows them."""

    id: int
    name: str
    phone: str
    phones: list[PhoneOut]
    tags: list[str]
    notes: str
    marketing_consent: bool
    created_at: dt.datetime


class DossierOut(BaseModel):
    """The caller's whole dossier; ``sections`` holds what other parts (warnings, tickets, bonus) contribute."""

    phone: str
    display_phone: str
    client: DossierClient | None
    addresses: list[AddressOut]
    orders: list[DossierOrderOut]
    stats: StatsOut | None
    last_order_id: int | None
    sections: dict[str, Any]

    @classmethod
    def of(cls, d: services.Dossier) -> DossierOut:
        """Serialize a dossier."""
        client = None
        if d.client is not None:
            c = d.client
            client = DossierClient(
                id=c.id,
                name=c.name,
                phone=c.phone,
                phones=[PhoneOut(phone=c.phone, display_phone=display_phone(c.phone), label="", primary=True)]
                + [
                    PhoneOut(
                        phone=p.phone, display_phone=display_phone(p.phone), label=p.label, primary=False
                    )
                    for p in d.phones
                ],
                tags=list(c.tags or []),
                notes=c.notes,
                marketing_consent=c.marketing_consent,
                created_at=c.created_at,
            )
        orders = [
            DossierOrderOut(
                id=o.id,
                number=o.number,
                status=o.status,
                kind=o.kind,
                branch_id=o.branch_id,
                created_at=o.created_at,
                promised_at=o.promised_at,
                address_text=o.address_text,
                payment_kind=o.payment_kind,
                items_total=from_minor(o.items_total),
                delivery_fee=from_minor(o.delivery_fee),
                total=from_minor(o.total),
                lines=[
                    DossierLine(
                        item_id=ln.item_id,
                        sku=ln.sku,
                        name=ln.name,
                        quantity=ln.quantity,
                        unit_price=from_minor(ln.unit_price),
                        total=from_minor(ln.total),
                        comment=ln.comment,
                        modifiers=_modifiers(ln.modifiers),
                    )
                    for ln in o.lines
                ],
            )
            for o in d.orders
        ]
        return cls(
            phone=d.phone,
            display_phone=display_phone(d.phone),
            client=client,
            addresses=[AddressOut.of(a) for a in d.addresses],
            orders=orders,
            stats=StatsOut.of(d.stats),
            last_order_id=orders[0].id if orders else None,
            sections=d.sections,
        )


class LookupQuery(Strict):
    """The caller's number in any common format."""

    phone: str = Field(min_length=1, max_length=40)


# --- zones ------------------------------------------------------------------------------------


class ZoneOut(BaseModel):
    """A delivery zone with its GeoJSON geometry."""

    id: int
    branch_id: int
    name: str
    delivery_fee: Decimal
    free_delivery_from: Decimal | None
    min_order: Decimal
    delivery_minutes: int
    opening_hours: dict[str, list[list[str]]]
    priority: int
    active: bool
    color: str
    geometry: dict[str, Any]

    @classmethod
    def of(cls, z: DeliveryZone) -> ZoneOut:
        """Serialize a zone."""
        return cls(
            id=z.id,
            branch_id=z.branch_id,
            name=z.name,
            delivery_fee=from_minor(z.delivery_fee),
            free_delivery_from=money(z.free_delivery_from),
            min_order=from_minor(z.min_order),
            delivery_minutes=z.delivery_minutes,
            opening_hours=z.opening_hours,
            priority=z.priority,
            active=z.active,
            color=z.color,
            geometry=z.geometry,
        )


class ZoneQuery(Strict):
    """Filters of the zone list."""

    branch_id: int | None = Field(default=None, ge=1)
    active: bool | None = None


class ZoneProperties(BaseModel):
    """The properties of a zone feature in a GeoJSON import (unknown properties are ignored)."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    id: int | None = Field(
        default=None, ge=1, description="Update this zone; else matched by branch and name."
    )
    branch_id: int | None = Field(default=None, ge=1)
    branch: str | None = Field(default=None, max_length=10, description="Branch code, instead of branch_id.")
    name: str = Field(min_length=1, max_length=200)
    delivery_fee: Money = Decimal("0")
    free_delivery_from: Money | None = None
    min_order: Money = Decimal("0")
    delivery_minutes: int = Field(default=60, ge=1, le=600)
    opening_hours: dict[str, Any] = Field(
        default_factory=dict, description='{"mon": [["10:00", "02:00"]], …}; empty: the branch\'s hours.'
    )
    priority: int = Field(default=0, ge=-1000, le=1000)
    active: bool = True
    color: str = Field(default="", max_length=20)


class ZoneFeature(BaseModel):
    """A GeoJSON Feature describing one zone."""

    model_config = ConfigDict(extra="ignore")

    type: Literal["Feature"]
    id: int | str | None = None
    geometry: dict[str, Any]
    properties: ZoneProperties


class ZoneCollectionIn(BaseModel):
    """A GeoJSON FeatureCollection of zones."""

    model_config = ConfigDict(extra="ignore")

    type: Literal["FeatureCollection"]
    features: list[ZoneFeature] = Field(max_length=500)


class ZoneImportQuery(Strict):
    """How to import."""

    replace: bool = Field(default=False, description="Delete the zones the document does not mention.")


class ZoneImportOut(BaseModel):
    """What an import did."""

    created: int
    updated: int
    deleted: int
    zones: list[ZoneOut]


# --- geocoding --------------------------------------------------------------------------------


class GeocodeQuery(Strict):
    """An address to look up."""

    q: str = Field(min_length=2, max_length=300)


class CandidateOut(BaseModel):
    """One geocoder answer."""

    text: str
    lat: float
    lon: float
    zone_id: int | None = Field(default=None, description="The delivery zone of the point, if any.")


class GeocodeOut(BaseModel):
    """The geocoder's answers, best first."""

    query: str
    candidates: list[CandidateOut]
    cached: bool
    provider: str


# --- order entry ------------------------------------------------------------------------------


class CartLineIn(Strict):
    """A cart line: the item by SKU or id, a quantity, modifiers and a note for the kitchen."""

    sku: str | None = Field(default=None, max_length=64)
    item_id: int | None = Field(default=None, ge=1)
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

    id: int | None = Field(default=None, ge=1)
    text: str = Field(default="", max_length=500)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)

    @field_validator("lat", "lon")
    @classmethod
    def _finite_coordinates(cls, v: float | None) -> float | None:
        return finite(v)

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

    id: int | None = Field(default=None, ge=1)
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
    client_id: int | None = Field(default=None, ge=1)
    kind: Literal["delivery", "pickup"] = "delivery"
    branch_id: int | None = Field(
        default=None, ge=1, description="Pickup branch (delivery: the zone decides)."
    )
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
    def of(cls, ln: services.PricedCartLine) -> QuoteLineOut:
        """Serialize a priced cart line."""
        return cls(
            item_id=ln.item_id,
            sku=ln.sku,
            name=ln.name,
            quantity=ln.quantity,
            unit_price=from_minor(ln.unit_price),
            total=from_minor(ln.total),
            comment=ln.comment,
            modifiers=_modifiers(ln.modifiers),
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
    client_id: int | None = Field(default=None, ge=1)
    kind: Literal["delivery", "pickup"] = "delivery"
    branch_id: int | None = Field(default=None, ge=1)
    address: OrderAddressIn | None = None
    lines: list[CartLineIn] = Field(min_length=1, max_length=100)
    payment: PaymentIn = PaymentIn()
    comment: str = Field(default="", max_length=1000)
    promised_at: dt.datetime | None = Field(default=None, description="ISO 8601 with offset; null: ASAP.")


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
        )


ClientDetail.model_rebuild()
