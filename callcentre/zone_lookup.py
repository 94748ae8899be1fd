"""Which zones cover a point: exact point-in-polygon on plain tuples (pure, no shapely).

Every order and every quote asks which zone delivers to its address. shapely answers that
exactly, but one answer goes through numpy and GEOS: 12 µs in a loop, yet 75–190 µs inside an order
request, where that wide code path starts cold each time (docs/performance.md, "What a ratio of
0.4 leaves"). This module answers the same question in a few lines of Python over the zones'
coordinates, copied once when the index is built, with the semantics of shapely's ``covers``:

- a point inside a polygon, or on its boundary (an edge or a corner), is covered;
- a point strictly inside a hole is not; a point on a hole's edge is (it is the polygon's boundary);
- a multipolygon covers what any of its parts covers.

The test is GEOS's own ray crossing (``RayCrossingCounter``): a ray from the point to the right
counts the edges it crosses, and a point on an edge is found on the way. What decides each edge is
the sign of one orientation determinant, and that sign is exact: a floating-point filter
(Shewchuk's ``orient2d`` error bound) settles nearly every case, and the rare point too close to an
edge for floats to tell is decided with exact rationals (every float is one). So a point exactly on
an edge is always on it, as GEOS finds it.

A uniform grid over the zones' bounding boxes picks the candidates, so a lookup reads one cell
however many zones a chain has.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction

#: A closed ring: its points as ``(x, y)`` (longitude, latitude), the first repeated last.
Ring = tuple[tuple[float, float], ...]
#: One polygon: its exterior ring and its holes.
Part = tuple[Ring, tuple[Ring, ...]]

INTERIOR, BOUNDARY, EXTERIOR = 1, 0, -1

# Shewchuk's ccwerrboundA: |det| at least this times (|detleft| + |detright|) has the sign of
# the exact determinant.
_CCW_ERRBOUND = (3.0 + 16.0 * 2.0**-53) * 2.0**-53


def orientation(ax: float, ay: float, bx: float, by: float, cx: float, cy: float) -> int:
    """The exact sign of the turn a → b → c: 1 counter-clockwise (c left of a→b), -1 clockwise,
    0 collinear."""
    detleft = (ax - cx) * (by - cy)
    detright = (ay - cy) * (bx - cx)
    det = detleft - detright
    if abs(det) > _CCW_ERRBOUND * (abs(detleft) + abs(detright)):
        return 1 if det > 0 else -1
    exact = (Fraction(ax) - Fraction(cx)) * (Fraction(by) - Fraction(cy)) - (Fraction(ay) - Fraction(cy)) * (
        Fraction(bx) - Fraction(cx)
    )
    return (exact > 0) - (exact < 0)


def ring_position(ring: Ring, x: float, y: float) -> int:
    """Where ``(x, y)`` lies against a closed ring: :data:`INTERIOR`, :data:`BOUNDARY` or
    :data:`EXTERIOR` (GEOS's ``RayCrossingCounter``, with an exact orientation)."""
    crossings = 0
    x1, y1 = ring[0]
    for x2, y2 in ring[1:]:
        if x1 < x and x2 < x:  # the edge lies wholly left of the point: the ray misses it
            x1, y1 = x2, y2
            continue
        if x2 == x and y2 == y:
            return BOUNDARY
        if y1 == y and y2 == y:  # a horizontal edge on the ray: on it or not counted
            if min(x1, x2) <= x <= max(x1, x2):
                return BOUNDARY
        elif (y1 > y) != (y2 > y):  # the edge straddles the ray's line (one end strictly above)
            sign = orientation(x1, y1, x2, y2, x, y)
            if sign == 0:
                return BOUNDARY
            if y2 < y1:
                sign = -sign
            if sign > 0:
                crossings += 1
        x1, y1 = x2, y2
    return INTERIOR if crossings % 2 else EXTERIOR


def covers(parts: Sequence[Part], x: float, y: float) -> bool:
    """True when the (multi)polygon made of ``parts`` covers ``(x, y)``: inside or on its boundary."""
    for exterior, holes in parts:
        where = ring_position(exterior, x, y)
        if where == BOUNDARY:
            return True
        if where == INTERIOR and all(ring_position(hole, x, y) != INTERIOR for hole in holes):
            return True
    return False


Box = tuple[float, float, float, float]  # min x, min y, max x, max y


class BoxGrid:
    """Which boxes may hold a point: a uniform grid over all of them, each box listed in every
    cell it overlaps (about as many cells as boxes, so a cell holds few)."""

    def __init__(self, boxes: Sequence[Box]):
        self.boxes = list(boxes)
        if not self.boxes:
            self.cells: dict[tuple[int, int], list[int]] = {}
            return
        self.min_x = min(b[0] for b in self.boxes)
        self.min_y = min(b[1] for b in self.boxes)
        self.max_x = max(b[2] for b in self.boxes)
        self.max_y = max(b[3] for b in self.boxes)
        side = max(1, math.ceil(math.sqrt(len(self.boxes))))
        self.step_x = (self.max_x - self.min_x) / side or 1.0
        self.step_y = (self.max_y - self.min_y) / side or 1.0
        self.side = side
        self.cells = {}
        for i, (x0, y0, x1, y1) in enumerate(self.boxes):
            for cx in range(
                self._cell(x0, self.min_x, self.step_x), self._cell(x1, self.min_x, self.step_x) + 1
            ):
                for cy in range(
                    self._cell(y0, self.min_y, self.step_y), self._cell(y1, self.min_y, self.step_y) + 1
                ):
                    self.cells.setdefault((cx, cy), []).append(i)

    def _cell(self, value: float, origin: float, step: float) -> int:
        return min(self.side - 1, max(0, int((value - origin) / step)))

    def candidates(self, x: float, y: float) -> list[int]:
        """Indexes of the boxes that hold ``(x, y)`` (edges included), in their order."""
        if not self.boxes or not (self.min_x <= x <= self.max_x and self.min_y <= y <= self.max_y):
            return []
        cell = self.cells.get(
            (self._cell(x, self.min_x, self.step_x), self._cell(y, self.min_y, self.step_y)), []
        )
        boxes = self.boxes
        return [i for i in cell if boxes[i][0] <= x <= boxes[i][2] and boxes[i][1] <= y <= boxes[i][3]]
