"""Request and response models of the call-centre API: clients, addresses, the dossier."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field, model_validator

from callcentre import services
from callcentre.models import Client, ClientAddress, ClientPhone, ClientStats
from frontoffice.money import from_minor
from frontoffice.phones import display_phone
from frontoffice.schemas import Id, Latitude, Longitude, Strict
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
    lat: Latitude | None = None
    lon: Longitude | None = None

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
    lat: Latitude | None = None
    lon: Longitude | None = None


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

    keep_id: Id
    merge_id: Id


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


def modifiers_out(stored: Any) -> list[ModifierOut]:
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
    business_date: dt.date = Field(
        description="The day the number belongs to (numbers start again every day): staff name an order "
        "by both, e.g. KZ1-007 of 2026-12-05."
    )
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
                business_date=o.business_date,
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
                        modifiers=modifiers_out(ln.modifiers),
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


ClientDetail.model_rebuild()
