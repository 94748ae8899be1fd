"""Geodesic distance on the WGS-84 ellipsoid, the one measure of "how far" every package uses.

geopy's ``geodesic`` builds a new ``geographiclib.geodesic.Geodesic`` (its series coefficients) on
every call, which is most of its cost; this keeps one and asks it for the distance only — the same
algorithm (Karney 2013) and the same figures to the millimetre — and remembers recent pairs.
"""

from __future__ import annotations

import functools

from geographiclib.geodesic import Geodesic

#: WGS-84 in kilometres: semi-major axis and flattening, as geopy's ``ELLIPSOIDS["WGS-84"]``.
_WGS84_KM = Geodesic(6378.137, 1 / 298.257223563)


# A pure function of its arguments, ~60 µs a call: repeat callers from the same doors and couriers
# near the same branch ask for the same pairs again.
@functools.lru_cache(maxsize=16384)
def geodesic_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """The geodesic distance in km between two points given in degrees."""
    return _WGS84_KM.Inverse(lat1, lon1, lat2, lon2, Geodesic.DISTANCE)["s12"]
