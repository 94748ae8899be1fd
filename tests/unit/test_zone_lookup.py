"""The zone lookup without shapely answers as shapely's ``covers`` does: inside, edges, corners,
holes, multipolygons, points closer to an edge than floats can tell, and many zones."""

from __future__ import annotations

import math
import random
from fractions import Fraction

import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import MultiPolygon, Point, Polygon

from callcentre.zone_lookup import BOUNDARY, EXTERIOR, INTERIOR, BoxGrid, covers, orientation, ring_position
from callcentre.zones import ZoneIndex, ZoneRule, _parts, zone_order_key

KAZAN = (49.12, 55.79)


def star(rng: random.Random, cx: float, cy: float, radius: float, points: int) -> Polygon:
    """A simple polygon: points at rising angles around a centre, at random distances."""
    angles = sorted(rng.uniform(0, 2 * math.pi) for _ in range(points))
    return Polygon(
        [
            (cx + radius * rng.uniform(0.3, 1) * math.cos(a), cy + radius * rng.uniform(0.3, 1) * math.sin(a))
            for a in angles
        ]
    )


def probes(rng: random.Random, shape: Polygon | MultiPolygon, count: int) -> list[tuple[float, float]]:
    """Points to ask about a shape: random ones around it, its vertices, and points on or next to its
    edges (interpolated in floats, so some land exactly on the edge and some a hair off)."""
    x0, y0, x1, y1 = shape.bounds
    out = [(rng.uniform(x0 - 0.01, x1 + 0.01), rng.uniform(y0 - 0.01, y1 + 0.01)) for _ in range(count)]
    polygons = shape.geoms if isinstance(shape, MultiPolygon) else [shape]
    for polygon in polygons:
        for ring in [polygon.exterior, *polygon.interiors]:
            coords = list(ring.coords)
            out += coords
            for (ax, ay), (bx, by) in zip(coords, coords[1:], strict=False):
                t = rng.random()
                out.append((ax + t * (bx - ax), ay + t * (by - ay)))
                out.append(((ax + bx) / 2, (ay + by) / 2))
    return out


def agrees(shape: Polygon | MultiPolygon, points: list[tuple[float, float]]) -> None:
    parts = _parts(shape)
    for x, y in points:
        assert covers(parts, x, y) == shape.covers(Point(x, y)), (shape.wkt, x, y)


def test_a_point_inside_outside_on_an_edge_and_on_a_corner_of_a_square():
    ring = ((0.0, 0.0), (4.0, 0.0), (4.0, 4.0), (0.0, 4.0), (0.0, 0.0))
    assert ring_position(ring, 2, 2) == INTERIOR
    assert ring_position(ring, 5, 2) == EXTERIOR
    assert ring_position(ring, 4, 2) == BOUNDARY
    assert ring_position(ring, 2, 0) == BOUNDARY  # a horizontal edge on the ray's line
    assert ring_position(ring, 0, 4) == BOUNDARY
    assert ring_position(ring, -1, 0) == EXTERIOR  # on the line of an edge, beyond it
    assert ring_position(ring, 2, 4.000000000000001) == EXTERIOR


def test_a_hole_takes_its_inside_away_but_its_edge_stays_covered():
    shape = Polygon([(0, 0), (10, 0), (10, 10), (0, 10)], [[(3, 3), (7, 3), (7, 7), (3, 7)]])
    parts = _parts(shape)
    assert not covers(parts, 5, 5)
    assert covers(parts, 3, 5) and covers(parts, 7, 7)
    assert covers(parts, 1, 1)
    agrees(shape, probes(random.Random(1), shape, 200))


def test_a_multipolygon_covers_what_any_of_its_parts_covers():
    shape = MultiPolygon(
        [Polygon([(0, 0), (1, 0), (1, 1), (0, 1)]), Polygon([(2, 2), (3, 2), (3, 3), (2, 3)])]
    )
    parts = _parts(shape)
    assert covers(parts, 0.5, 0.5) and covers(parts, 2.5, 2.5) and covers(parts, 3, 3)
    assert not covers(parts, 1.5, 1.5)


def test_random_city_zones_agree_with_shapely_everywhere_asked():
    rng = random.Random(20261206)
    for _ in range(60):
        shape = star(rng, *KAZAN, radius=rng.uniform(0.01, 0.2), points=rng.randint(3, 40))
        if not shape.is_valid:
            continue
        agrees(shape, probes(rng, shape, 100))


def test_zones_with_holes_and_several_parts_agree_with_shapely():
    rng = random.Random(7)
    for _ in range(30):
        outer = star(rng, *KAZAN, radius=0.1, points=rng.randint(8, 30))
        hole = star(rng, *KAZAN, radius=0.02, points=rng.randint(3, 12))
        other = star(rng, KAZAN[0] + 0.5, KAZAN[1], radius=0.1, points=rng.randint(3, 20))
        with_hole = Polygon(outer.exterior.coords, [hole.exterior.coords])
        for shape in (with_hole, MultiPolygon([with_hole, other])):
            if shape.is_valid:
                agrees(shape, probes(rng, shape, 100))


def test_points_closer_to_a_slanted_edge_than_floats_can_tell_are_decided_as_geos_decides():
    # The edge (49, 55) → (49.5, 55.25) holds the binary fractions (49 + k/1024, 55 + k/2048) exactly;
    # the floats next to each lie a hair to either side, too close for a float determinant to tell.
    shape = Polygon([(49.0, 55.0), (49.5, 55.25), (49.2, 55.9)])
    points = []
    for k in range(1, 512):
        x, y = 49 + k / 1024, 55 + k / 2048
        points += [(x, y), (x, math.nextafter(y, 90)), (x, math.nextafter(y, -90))]
        points += [(math.nextafter(x, 180), y), (math.nextafter(x, -180), y)]
    signs = [orientation(49.0, 55.0, 49.5, 55.25, x, y) for x, y in points]
    assert signs[::5] == [0] * 511 and set(signs) == {-1, 0, 1}
    parts = _parts(shape)
    assert all(covers(parts, x, y) for x, y in points[::5])  # on the edge: covered
    agrees(shape, points)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.floats(-180, 180, allow_nan=False, allow_infinity=False, width=64), min_size=6, max_size=6)
)
def test_the_orientation_sign_is_the_exact_one(v):
    ax, ay, bx, by, cx, cy = v
    exact = (Fraction(ax) - Fraction(cx)) * (Fraction(by) - Fraction(cy)) - (Fraction(ay) - Fraction(cy)) * (
        Fraction(bx) - Fraction(cx)
    )
    assert orientation(ax, ay, bx, by, cx, cy) == (exact > 0) - (exact < 0)


def test_nearly_collinear_turns_get_the_exact_sign():
    rng = random.Random(3)
    for _ in range(2000):
        ax, ay = rng.uniform(49, 50), rng.uniform(55, 56)
        bx, by = rng.uniform(49, 50), rng.uniform(55, 56)
        t = rng.uniform(-2, 3)
        cx, cy = ax + t * (bx - ax), ay + t * (by - ay)  # on the line, give or take a rounding
        exact = (Fraction(ax) - Fraction(cx)) * (Fraction(by) - Fraction(cy)) - (
            Fraction(ay) - Fraction(cy)
        ) * (Fraction(bx) - Fraction(cx))
        assert orientation(ax, ay, bx, by, cx, cy) == (exact > 0) - (exact < 0)


def test_the_box_grid_finds_exactly_the_boxes_that_hold_a_point():
    rng = random.Random(11)
    for count in (1, 2, 7, 150):
        boxes = []
        for _ in range(count):
            x, y = rng.uniform(48, 50), rng.uniform(55, 56)
            boxes.append((x, y, x + rng.uniform(0, 0.3), y + rng.uniform(0, 0.3)))
        grid = BoxGrid(boxes)
        corners = [(b[0], b[1]) for b in boxes] + [(b[2], b[3]) for b in boxes]
        for x, y in corners + [(rng.uniform(47.9, 50.4), rng.uniform(54.9, 56.4)) for _ in range(500)]:
            expected = [i for i, b in enumerate(boxes) if b[0] <= x <= b[2] and b[1] <= y <= b[3]]
            assert grid.candidates(x, y) == expected
    assert BoxGrid([]).candidates(*KAZAN) == []
    flat = BoxGrid([(49.0, 55.0, 49.0, 55.0)])  # a box of no size still holds its one point
    assert flat.candidates(49.0, 55.0) == [0] and flat.candidates(49.0, 55.1) == []


def test_an_index_of_two_hundred_overlapping_zones_answers_as_shapely_in_the_same_order():
    rng = random.Random(5)
    zones = []
    for i in range(200):
        centre = (KAZAN[0] + rng.uniform(-0.5, 0.5), KAZAN[1] + rng.uniform(-0.3, 0.3))
        shape = star(rng, *centre, radius=rng.uniform(0.02, 0.3), points=rng.randint(3, 25))
        if shape.is_valid:
            zones.append(
                ZoneRule(id=i + 1, branch_id=1, name=f"z{i}", shape=shape, priority=rng.randint(0, 2))
            )
    index = ZoneIndex(zones)
    shapes = [z.shape for z in zones]
    for _ in range(2000):
        lon, lat = KAZAN[0] + rng.uniform(-0.9, 0.9), KAZAN[1] + rng.uniform(-0.6, 0.6)
        covering = shapely.covers(shapes, Point(lon, lat))
        expected = sorted((z for z, hit in zip(zones, covering, strict=True) if hit), key=zone_order_key)
        assert index.covering(lat, lon) == expected
