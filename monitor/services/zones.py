"""Delivery zones for the reports: the zone each order was taken in, or where its point lies now.

Zones are read from the call centre's table and tested with shapely (point in polygon).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from callcentre.models import DeliveryZone
from orders.models import OrderEvent

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ZoneShape:
    """A delivery zone with its geometry prepared for point-in-polygon tests."""

    id: int
    branch_id: int
    name: str
    shape: Any


def read_zones(session: Session) -> list[Any]:
    """Every delivery zone's id, branch, name and GeoJSON geometry, by id."""
    z = DeliveryZone
    return list(session.execute(select(z.id, z.branch_id, z.name, z.geometry).order_by(z.id)).all())


def recorded_zones(session: Session, order_ids: Sequence[int], chunk: int = 5_000) -> dict[int, int]:
    """The zone each order was taken in, where placement recorded one (``zone_id`` in the payload
    of the order's ``created`` audit event)."""
    found: dict[int, int] = {}
    for start in range(0, len(order_ids), chunk):
        part = order_ids[start : start + chunk]
        rows = session.execute(
            select(OrderEvent.order_id, OrderEvent.payload).where(
                OrderEvent.kind == "created", OrderEvent.order_id.in_(part)
            )
        )
        for order_id, payload in rows:
            zone = (payload or {}).get("zone_id") if isinstance(payload, dict) else None
            if isinstance(zone, int):
                found[order_id] = zone
    return found


def compile_zones(rows: Iterable[Any]) -> list[ZoneShape]:
    """Zones with their GeoJSON geometry prepared for point-in-polygon tests."""
    from shapely.geometry import shape
    from shapely.prepared import prep

    out = []
    for r in rows:
        geometry = json.loads(r.geometry) if isinstance(r.geometry, str) else r.geometry
        try:
            out.append(ZoneShape(r.id, r.branch_id, r.name, prep(shape(geometry))))
        except (ValueError, TypeError, KeyError, AttributeError):
            log.warning("monitor: zone %s has an unreadable geometry", r.id)
    return out


def zone_of(zones: Sequence[ZoneShape], lat: float | None, lon: float | None, branch_id: int) -> str:
    """The id (as text) of the zone holding a point, the order's own branch first; ``none`` otherwise."""
    if lat is None or lon is None:
        return "none"
    from shapely.geometry import Point

    point = Point(lon, lat)
    for z in sorted(zones, key=lambda z: z.branch_id != branch_id):
        if z.shape.contains(point):
            return str(z.id)
    return "none"
