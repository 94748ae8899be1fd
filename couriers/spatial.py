"""Where couriers are: distances, a grid index for "who is nearest", and arrival estimates (pure).

The index answers nearest-neighbour queries by scanning grid cells in rings around the
query point with the cheap haversine formula; geopy's geodesic distance is used only to
rank the few best candidates it returns (DESIGN.md: "geopy only to rank the few").
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable
from dataclasses import dataclass

from frontoffice.geo import geodesic_km

EARTH_RADIUS_M = 6_371_008.8
METRES_PER_DEGREE_LAT = 111_320.0

#: Typical city speeds, km/h, of each vehicle (door to door, traffic lights included).
VEHICLE_SPEED_KMH = {"foot": 5.0, "bike": 14.0, "car": 24.0}
#: Streets are not straight lines: road distance ≈ straight distance × this factor.
ROUTE_FACTOR = 1.35


def valid_coordinates(lat: float | None, lon: float | None) -> bool:
    """True for a finite WGS84 pair (lat in [-90, 90], lon in [-180, 180])."""
    return (
        isinstance(lat, int | float)
        and isinstance(lon, int | float)
        and math.isfinite(lat)
        and math.isfinite(lon)
        and -90 <= lat <= 90
        and -180 <= lon <= 180
    )


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres on a spherical Earth (fast; ~0.5 % off the ellipsoid)."""
    p1 = math.radians(lat1)
    p2 = math.radians(lat2)
    dp = p2 - p1
    dl = math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Geodesic (WGS84 ellipsoid) distance in metres, through geopy."""
    return geodesic_km(lat1, lon1, lat2, lon2) * 1000


def eta_seconds(distance: float, vehicle: str) -> int:
    """Estimated travel time over a straight-line ``distance`` (metres) for a vehicle kind."""
    speed_mps = VEHICLE_SPEED_KMH.get(vehicle, VEHICLE_SPEED_KMH["car"]) / 3.6
    return int(round(distance * ROUTE_FACTOR / speed_mps))


def path_length_m(points: Iterable[tuple[float, float]]) -> float:
    """Length of a track (a sequence of lat/lon pairs) in metres."""
    total = 0.0
    previous: tuple[float, float] | None = None
    for lat, lon in points:
        if previous is not None:
            total += haversine_m(previous[0], previous[1], lat, lon)
        previous = (lat, lon)
    return total


@dataclass(frozen=True, slots=True)
class Neighbour:
    """A point of the index and its distance (metres) from the query point."""

    key: int
    lat: float
    lon: float
    distance_m: float


class GridIndex:
    """A uniform lat/lon grid of points keyed by an integer id; nearest queries scan rings of cells.

    Cells are ``cell_m`` metres tall; their width in degrees of longitude is chosen at
    ``ref_lat`` so cells are square there. Points may be added, moved and removed.
    """

    def __init__(self, cell_m: float = 1000.0, ref_lat: float = 55.0):
        if cell_m <= 0:
            raise ValueError("cell_m must be positive")
        self.cell_m = float(cell_m)
        self.dlat = cell_m / METRES_PER_DEGREE_LAT
        self.dlon = cell_m / (METRES_PER_DEGREE_LAT * max(0.01, math.cos(math.radians(ref_lat))))
        self._cells: dict[tuple[int, int], dict[int, tuple[float, float]]] = {}
        self._where: dict[int, tuple[int, int]] = {}
        self._bounds: list[int] | None = None  # min_i, max_i, min_j, max_j

    def __len__(self) -> int:
        return len(self._where)

    def __contains__(self, key: object) -> bool:
        return key in self._where

    def _cell(self, lat: float, lon: float) -> tuple[int, int]:
        return math.floor(lat / self.dlat), math.floor(lon / self.dlon)

    def add(self, key: int, lat: float, lon: float) -> None:
        """Put a point in the index (replacing the one with the same key)."""
        if not valid_coordinates(lat, lon):
            raise ValueError(f"invalid coordinates {lat!r}, {lon!r}")
        if key in self._where:
            self.remove(key)
        cell = self._cell(lat, lon)
        self._cells.setdefault(cell, {})[key] = (lat, lon)
        self._where[key] = cell
        i, j = cell
        if self._bounds is None:
            self._bounds = [i, i, j, j]
        else:
            b = self._bounds
            b[0], b[1], b[2], b[3] = min(b[0], i), max(b[1], i), min(b[2], j), max(b[3], j)

    def move(self, key: int, lat: float, lon: float) -> None:
        """Update a point's position."""
        self.add(key, lat, lon)

    def remove(self, key: int) -> None:
        """Take a point out of the index (nothing happens if it is not there)."""
        cell = self._where.pop(key, None)
        if cell is None:
            return
        bucket = self._cells[cell]
        del bucket[key]
        if not bucket:
            del self._cells[cell]

    def _ring(self, ci: int, cj: int, r: int) -> Iterable[tuple[int, int]]:
        if r == 0:
            yield ci, cj
            return
        for dj in range(-r, r + 1):
            yield ci - r, cj + dj
            yield ci + r, cj + dj
        for di in range(-r + 1, r):
            yield ci + di, cj - r
            yield ci + di, cj + r

    def nearest(self, lat: float, lon: float, k: int = 1, max_m: float | None = None) -> list[Neighbour]:
        """The ``k`` points closest to ``lat, lon`` (haversine), nearest first, within ``max_m`` if given."""
        if k <= 0 or not self._where:
            return []
        ci, cj = self._cell(lat, lon)
        b = self._bounds
        assert b is not None
        # Rings beyond this one can hold no point: the index is empty there.
        max_r = max(abs(ci - b[0]), abs(ci - b[1]), abs(cj - b[2]), abs(cj - b[3]))
        best: list[tuple[float, int, float, float]] = []  # max-heap on distance (negated)
        cells = self._cells
        r = 0
        while r <= max_r:
            for cell in self._ring(ci, cj, r):
                bucket = cells.get(cell)
                if not bucket:
                    continue
                for key, (plat, plon) in bucket.items():
                    d = haversine_m(lat, lon, plat, plon)
                    if max_m is not None and d > max_m:
                        continue
                    if len(best) < k:
                        heapq.heappush(best, (-d, key, plat, plon))
                    elif d < -best[0][0]:
                        heapq.heapreplace(best, (-d, key, plat, plon))
            # Any point outside rings 0..r is at least r cells away in latitude or longitude.
            reach = self._ring_reach_m(lat, r)
            if len(best) == k and -best[0][0] <= reach:
                break
            if max_m is not None and reach >= max_m:
                break
            r += 1
        return [Neighbour(key, plat, plon, -nd) for nd, key, plat, plon in sorted(best, reverse=True)]

    def _ring_reach_m(self, lat: float, r: int) -> float:
        """A lower bound on the distance from ``lat`` to any point outside rings 0..r."""
        # The query sits somewhere in its cell, so only r whole cells are guaranteed in each direction.
        span_lat = r * self.dlat
        widest_lat = min(90.0, abs(lat) + span_lat + self.dlat)
        lon_m = r * self.dlon * METRES_PER_DEGREE_LAT * math.cos(math.radians(widest_lat))
        lat_m = span_lat * METRES_PER_DEGREE_LAT
        # Spherical shrinkage: stay a little conservative.
        return 0.995 * min(lat_m, lon_m)


def rank_by_geodesic(lat: float, lon: float, neighbours: Iterable[Neighbour]) -> list[Neighbour]:
    """The given neighbours re-measured with geopy's geodesic distance, nearest first."""
    ranked = [Neighbour(n.key, n.lat, n.lon, distance_m(lat, lon, n.lat, n.lon)) for n in neighbours]
    ranked.sort(key=lambda n: (n.distance_m, n.key))
    return ranked


#: The sphere and the WGS84 ellipsoid disagree on a distance by well under this fraction, so a
#: candidate this much farther (by haversine) than the k-th best cannot be nearer by geodesic.
SPHERE_ERROR = 0.012


def nearest_ranked(index: GridIndex, lat: float, lon: float, k: int = 1, refine: int = 3) -> list[Neighbour]:
    """The ``k`` nearest points by geodesic distance.

    The index finds ``k + refine`` by haversine; geopy measures only those that could still be
    among the ``k`` nearest on the ellipsoid (within :data:`SPHERE_ERROR` of the k-th best).
    """
    found = index.nearest(lat, lon, k + refine)
    if not found:
        return []
    bound = found[min(k, len(found)) - 1].distance_m * (1 + SPHERE_ERROR)
    return rank_by_geodesic(lat, lon, [n for n in found if n.distance_m <= bound])[:k]
