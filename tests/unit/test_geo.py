"""The kernel's one distance: the WGS-84 geodesic, the same figures as geopy's."""

from __future__ import annotations

import math

import pytest
from geopy.distance import geodesic

from frontoffice.geo import geodesic_km

PAIRS = [
    ((55.7963, 49.1088), (55.8304, 49.0661)),  # across Kazan
    ((55.7558, 37.6173), (59.9343, 30.3351)),  # Moscow → Saint Petersburg
    ((0.0, 0.0), (0.0, 179.5)),  # nearly antipodal on the equator
    ((-33.8688, 151.2093), (51.5074, -0.1278)),  # across hemispheres
    ((55.79, 49.12), (55.79, 49.12)),  # the same point
]


@pytest.mark.parametrize(("a", "b"), PAIRS)
def test_the_geodesic_is_geopy_s_to_the_millimetre(a, b):
    assert math.isclose(geodesic_km(*a, *b), geodesic(a, b).km, rel_tol=0, abs_tol=1e-6)


def test_it_is_symmetric_and_zero_on_one_point():
    a, b = PAIRS[1]
    assert math.isclose(geodesic_km(*a, *b), geodesic_km(*b, *a), abs_tol=1e-9)
    assert geodesic_km(55.79, 49.12, 55.79, 49.12) == 0.0
