"""Request and response models of the call-centre API: delivery zones and geocoding."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from callcentre.models import DeliveryZone
from frontoffice.money import from_minor
from frontoffice.schemas import Id, Latitude, Longitude, Money, Strict, money
from orders.hours import HoursError, WeeklyHours, intervals_of
from orders.schemas import IntervalOut, OpeningHoursIn

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
    hours: dict[str, list[IntervalOut]] = Field(
        default_factory=dict,
        description="The opening hours in the format POST and PATCH take (`{}`: the branch's hours).",
    )

    @classmethod
    def of(cls, z: DeliveryZone) -> ZoneOut:
        """Serialize a zone."""
        try:
            hours = intervals_of(WeeklyHours.parse(z.opening_hours))
        except HoursError:  # hours written by hand that do not parse read as none
            hours = {}
        return cls(
            hours=hours,
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


GEOMETRY_DESCRIPTION = (
    "A GeoJSON Polygon or MultiPolygon, positions as [longitude, latitude]; rings are closed when open. "
    "An outline that crosses itself is refused with the crossing point."
)


class ZoneIn(Strict):
    """A new zone drawn in the editor (or sent by a script)."""

    name: str = Field(min_length=1, max_length=200)
    branch_id: Id = Field(description="An existing, open branch.")
    geometry: dict[str, Any] = Field(description=GEOMETRY_DESCRIPTION)
    delivery_fee: Money = Decimal("0")
    free_delivery_from: Money | None = Field(default=None, description="Free delivery from this cart total.")
    min_order: Money = Decimal("0")
    delivery_minutes: int = Field(default=60, ge=1, le=600)
    opening_hours: OpeningHoursIn = Field(default_factory=dict)
    priority: int = Field(default=0, ge=-1000, le=1000, description="Where zones overlap, the higher wins.")
    active: bool = True
    color: str = Field(default="", max_length=20)


class ZonePatch(Strict):
    """What changes about a zone; fields not sent stay as they are (``free_delivery_from: null``
    switches free delivery off)."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    branch_id: Id | None = None
    geometry: dict[str, Any] | None = Field(default=None, description=GEOMETRY_DESCRIPTION)
    delivery_fee: Money | None = None
    free_delivery_from: Money | None = None
    min_order: Money | None = None
    delivery_minutes: int | None = Field(default=None, ge=1, le=600)
    opening_hours: OpeningHoursIn | None = None
    priority: int | None = Field(default=None, ge=-1000, le=1000)
    active: bool | None = None
    color: str | None = Field(default=None, max_length=20)


class ZoneList(BaseModel):
    """Zones by branch, then priority (highest first), then name."""

    items: list[ZoneOut]


class ZoneBrief(BaseModel):
    """A zone named in an answer about overlaps or a point."""

    id: int
    name: str
    branch_id: int
    priority: int

    @classmethod
    def of(cls, rule: Any) -> ZoneBrief:
        """From a compiled zone rule."""
        return cls(id=rule.id, name=rule.name, branch_id=rule.branch_id, priority=rule.priority)


class OverlapOut(BaseModel):
    """Two active zones that share ground and the one that delivers there."""

    zones: list[ZoneBrief] = Field(description="The two zones, lower id first.")
    winner: ZoneBrief
    reason: Literal["priority", "smaller_area", "lower_id"] = Field(
        description="Why it wins: the higher priority; at equal priority the smaller (more specific) zone; "
        "then the lower id."
    )
    area_km2: float = Field(description="The shared area, approximately.")


class OverlapList(BaseModel):
    """Every overlap between active zones."""

    items: list[OverlapOut]


class ZoneAtQuery(Strict):
    """A point on the map."""

    lat: Latitude
    lon: Longitude


class ZoneAtOut(BaseModel):
    """Which zone delivers to a point, and which other active zones contain it."""

    lat: float
    lon: float
    winner: ZoneBrief | None = Field(description="null: the point is outside every active zone.")
    others: list[ZoneBrief] = Field(description="The other zones containing the point, best first.")


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
