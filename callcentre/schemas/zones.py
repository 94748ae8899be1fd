"""Request and response models of the call-centre API: delivery zones and geocoding."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from callcentre.models import DeliveryZone
from frontoffice.money import from_minor
from frontoffice.schemas import Id, Money, Strict, money

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

    branch_id: Id | None = None
    active: bool | None = None


class ZoneProperties(BaseModel):
    """The properties of a zone feature in a GeoJSON import (unknown properties are ignored)."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    id: Id | None = Field(default=None, description="Update this zone; else matched by branch and name.")
    branch_id: Id | None = None
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
