"""Delivery zones as plain values: GeoJSON geometry checks, the point → zone index (pure).

A zone is a polygon (holes allowed) or a multipolygon in WGS84 ``[lon, lat]`` order.
:class:`ZoneIndex` answers "which zone delivers to this point" without shapely
(:mod:`callcentre.zone_lookup`: a grid of bounding boxes narrows the candidates, an exact
point-in-polygon test with shapely's ``covers`` semantics decides). A point exactly on an edge
belongs to the zone. Where zones overlap, the highest ``priority`` wins, then the smaller area (the
more specific zone), then the lower id.

Opening hours use the branches' format and rules (:mod:`orders.hours`, where they live):
``{"mon": [["10:00", "02:00"]], …}``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.validation import explain_validity

from callcentre.zone_lookup import BoxGrid, Part, Ring, covers
from orders.hours import HoursError, WeeklyHours

KM_PER_DEGREE = 111.32
MAX_RING_POINTS = 10_000


#: A zone's geometry or schedule is not acceptable; ``field`` says where (relative path). A zone's
#: schedule follows the branches' rules, so the one error of :mod:`orders.hours` serves both.
ZoneError = HoursError


# --- geometry ---------------------------------------------------------------------------------


def _position(value: Any, where: str) -> tuple[float, float]:
    if not isinstance(value, list | tuple) or len(value) < 2:
        raise ZoneError("A position must be a [longitude, latitude] pair.", where)
    lon, lat = value[0], value[1]
    if (
        isinstance(lon, bool)
        or isinstance(lat, bool)
        or not all(isinstance(v, int | float) for v in (lon, lat))
    ):
        raise ZoneError("Longitude and latitude must be numbers.", where, "not_a_number")
    if not (math.isfinite(lon) and math.isfinite(lat)):
        raise ZoneError("Longitude and latitude must be finite numbers.", where, "not_a_number")
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise ZoneError(
            f"[{lon}, {lat}] is outside the world: GeoJSON wants [longitude, latitude], "
            "longitude in [-180, 180] and latitude in [-90, 90].",
            where,
            "coordinates_range",
            lat=lat,
            lon=lon,
        )
    return float(lon), float(lat)


def _ring(value: Any, where: str) -> list[tuple[float, float]]:
    if not isinstance(value, list | tuple):
        raise ZoneError("A ring must be a list of positions.", where)
    if len(value) > MAX_RING_POINTS:
        raise ZoneError(f"A ring may have at most {MAX_RING_POINTS} positions.", where)
    points = [_position(p, f"{where}.{i}") for i, p in enumerate(value)]
    if points and points[0] != points[-1]:
        points.append(points[0])  # be lenient: close an open ring
    if len(set(points)) < 3:
        raise ZoneError("A ring needs at least three distinct positions.", where, "too_few_points")
    return points


def _polygon(value: Any, where: str) -> Polygon:
    if not isinstance(value, list | tuple) or not value:
        raise ZoneError("A polygon must be a non-empty list of rings (the outline, then holes).", where)
    rings = [_ring(r, f"{where}.{i}") for i, r in enumerate(value)]
    return Polygon(rings[0], rings[1:])


def parse_geometry(geometry: Any) -> Polygon | MultiPolygon:
    """A validated shapely (multi)polygon from a GeoJSON geometry object; :class:`ZoneError` if unusable."""
    if not isinstance(geometry, Mapping):
        raise ZoneError("The geometry must be a GeoJSON object.", "geometry")
    kind = geometry.get("type")
    coords = geometry.get("coordinates")
    if kind == "Polygon":
        shape: Polygon | MultiPolygon = _polygon(coords, "geometry.coordinates")
    elif kind == "MultiPolygon":
        if not isinstance(coords, list | tuple) or not coords:
            raise ZoneError("A MultiPolygon needs a non-empty list of polygons.", "geometry.coordinates")
        shape = MultiPolygon([_polygon(p, f"geometry.coordinates.{i}") for i, p in enumerate(coords)])
    else:
        raise ZoneError(
            f"A zone must be a Polygon or a MultiPolygon, not {kind!r}.",
            "geometry.type",
        )
    if not shape.is_valid:
        raise invalid_shape(shape)
    if shape.area <= 0:
        raise ZoneError("The polygon has no area.", "geometry", "no_area")
    return shape


_REASON_POINT = re.compile(r"\[\s*(-?[\d.eE+-]+)\s+(-?[\d.eE+-]+)\s*\]")


def invalid_shape(shape: Polygon | MultiPolygon) -> ZoneError:
    """The error of an invalid polygon, with the place where it breaks: an outline that crosses
    itself is a ``self_intersection`` with the crossing's ``lat`` and ``lon``."""
    reason = explain_validity(shape)
    found = _REASON_POINT.search(reason)
    params: dict[str, float] = {}
    if found:
        params = {"lon": round(float(found[1]), 6), "lat": round(float(found[2]), 6)}
    if reason.startswith(("Self-intersection", "Ring Self-intersection")):
        where = f" at {params['lat']}, {params['lon']} (latitude, longitude)" if params else ""
        return ZoneError(
            f"The polygon is invalid: {reason}. Its outline crosses itself{where}: move a vertex so "
            "that no two edges cross.",
            "geometry",
            "self_intersection",
            **params,
        )
    return ZoneError(f"The polygon is invalid: {reason}.", "geometry", "invalid_polygon", **params)


def normalized_geojson(geometry: Any) -> dict[str, Any]:
    """Validate a GeoJSON geometry and return it in plain lists (rings closed)."""
    shape = parse_geometry(geometry)
    mapped = shapely.geometry.mapping(shape)
    return _lists(mapped)


def _lists(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _lists(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_lists(v) for v in value]
    return value


def area_km2(shape: Polygon | MultiPolygon) -> float:
    """Approximate area in square kilometres (equirectangular at the centroid; fine for a city)."""
    lat = shape.centroid.y
    return shape.area * KM_PER_DEGREE * KM_PER_DEGREE * math.cos(math.radians(lat))


# --- zones and the index ----------------------------------------------------------------------


@dataclass(frozen=True)
class ZoneRule:
    """One delivery zone's rules with its compiled geometry (money in minor units)."""

    id: int
    branch_id: int
    name: str
    shape: Polygon | MultiPolygon
    delivery_fee: int = 0
    free_delivery_from: int | None = None
    min_order: int = 0
    delivery_minutes: int = 60
    hours: WeeklyHours = field(default_factory=lambda: WeeklyHours(always=True))
    priority: int = 0
    active: bool = True

    @property
    def area(self) -> float:
        """Area in square degrees (only compared between zones)."""
        return self.shape.area

    def fee_for(self, items_total: int) -> int:
        """The delivery fee for a cart of ``items_total`` (free from the threshold on)."""
        if self.free_delivery_from is not None and items_total >= self.free_delivery_from:
            return 0
        return self.delivery_fee


def zone_order_key(zone: ZoneRule) -> tuple[int, float, int]:
    """Sort key: the best zone first (highest priority, then smallest area, then lowest id)."""
    return (-zone.priority, zone.area, zone.id)


class ZoneIndex:
    """Point → best active zone: a grid of the zones' bounding boxes, then the exact covers test of
    :mod:`callcentre.zone_lookup` on the zones' coordinates, copied here once."""

    def __init__(self, zones: Iterable[ZoneRule]):
        self.zones: list[ZoneRule] = [z for z in zones if z.active]
        self.by_id: dict[int, ZoneRule] = {z.id: z for z in self.zones}
        self._parts = [_parts(z.shape) for z in self.zones]
        self._order = [zone_order_key(z) for z in self.zones]
        self._grid = BoxGrid([z.shape.bounds for z in self.zones])

    @property
    def empty(self) -> bool:
        """True when no active zone exists (zone rules are then off)."""
        return not self.zones

    def covering(self, lat: float, lon: float) -> list[ZoneRule]:
        """Every active zone that covers the point, best first."""
        hits = [i for i in self._grid.candidates(lon, lat) if covers(self._parts[i], lon, lat)]
        hits.sort(key=self._order.__getitem__)
        return [self.zones[i] for i in hits]

    def locate(self, lat: float, lon: float) -> ZoneRule | None:
        """The zone that delivers to the point, or None when it is outside every zone."""
        found = self.covering(lat, lon)
        return found[0] if found else None

    def bounds(self) -> tuple[float, float, float, float] | None:
        """``(min_lon, min_lat, max_lon, max_lat)`` of all active zones, or None."""
        if not self.zones:
            return None
        return tuple(shapely.total_bounds([z.shape for z in self.zones]).tolist())  # type: ignore[return-value]


def _parts(shape: Polygon | MultiPolygon) -> list[Part]:
    """A zone's polygons as plain rings of ``(lon, lat)``: exterior, then holes."""

    def ring(coords: Any) -> Ring:
        return tuple((float(c[0]), float(c[1])) for c in coords)

    polygons = shape.geoms if isinstance(shape, MultiPolygon) else (shape,)
    return [(ring(p.exterior.coords), tuple(ring(hole.coords) for hole in p.interiors)) for p in polygons]


def build_index(zones: Sequence[ZoneRule]) -> ZoneIndex:
    """Compile zones into an index (inactive ones are left out)."""
    return ZoneIndex(zones)


# --- overlaps ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Overlap:
    """Two active zones that share ground, the one that delivers there, and why it wins."""

    first: ZoneRule
    second: ZoneRule
    winner: ZoneRule
    reason: str  # "priority", "smaller_area" or "lower_id"
    area_km2: float


def _why(winner: ZoneRule, loser: ZoneRule) -> str:
    if winner.priority != loser.priority:
        return "priority"
    if winner.area != loser.area:
        return "smaller_area"
    return "lower_id"


def overlaps(zones: Iterable[ZoneRule]) -> list[Overlap]:
    """Every pair of active zones whose polygons share an area (touching edges do not count),
    each with the zone that wins where they overlap (:func:`zone_order_key`: the same rule the
    index applies to a point)."""
    active = sorted((z for z in zones if z.active), key=lambda z: z.id)
    if len(active) < 2:
        return []
    shapes = [z.shape for z in active]
    tree = shapely.STRtree(shapes)
    left, right = tree.query(shapes, predicate="intersects")
    out = []
    for i, j in sorted({(int(a), int(b)) for a, b in zip(left, right, strict=True) if a < b}):
        first, second = active[i], active[j]
        common = first.shape.intersection(second.shape)
        if common.is_empty or common.area <= 0:
            continue
        winner, loser = sorted((first, second), key=zone_order_key)
        out.append(Overlap(first, second, winner, _why(winner, loser), round(area_km2(common), 4)))
    return out
