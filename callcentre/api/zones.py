"""The delivery zones' JSON API: the list, GeoJSON export and import, and the editor's routes —
one zone read, drawn, changed, deleted; the overlaps between zones with the one that wins; the
zone that delivers to a point. Staff read the zones of the branches they work for; admins write."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from callcentre import services
from callcentre.api.common import READ, ZONE_ADMIN, ZONE_EDIT, bp, zone_index
from callcentre.ports import ZONES
from callcentre.schemas.zones import (
    OverlapList,
    OverlapOut,
    ZoneAtOut,
    ZoneAtQuery,
    ZoneBrief,
    ZoneCollectionIn,
    ZoneImportOut,
    ZoneImportQuery,
    ZoneIn,
    ZoneOut,
    ZonePatch,
    ZoneQuery,
)
from callcentre.zone_checks import ZoneFacts
from frontoffice.api import endpoint
from frontoffice.auth import branch_scope
from frontoffice.kernel import current_kernel
from frontoffice.money import to_minor

TAGS = ["zones"]


def zone_facts(body: BaseModel, *, partial: bool) -> tuple[ZoneFacts, set[str]]:
    """The checks' facts of a request, and the fields it sent (on a PATCH only those change)."""
    sent = set(body.model_fields_set) if partial else set(type(body).model_fields)
    values: dict[str, Any] = {name: getattr(body, name) for name in sent}
    if values.get("opening_hours") is not None:
        values["opening_hours"] = {
            day: [i.model_dump() for i in intervals] for day, intervals in values["opening_hours"].items()
        }
    return ZoneFacts(**values), sent


def _changed() -> None:
    current_kernel().extensions.get(ZONES).invalidate()


# --- the zones as a whole: list, GeoJSON export and import ------------------------------------


@endpoint(
    bp,
    "/zones",
    roles=READ,
    query=ZoneQuery,
    response=list[ZoneOut],
    summary="Delivery zones with their GeoJSON geometry",
    tags=TAGS,
)
def list_zones(query: ZoneQuery) -> list[ZoneOut]:
    """The zones of the branches you work for, by branch then priority."""
    with current_kernel().db.reading() as s:
        zones = services.list_zones(s, branch_id=query.branch_id, active=query.active, within=branch_scope())
        return [ZoneOut.of(z) for z in zones]


@endpoint(
    bp,
    "/zones/geojson",
    roles=READ,
    summary="Export every zone as a GeoJSON FeatureCollection",
    tags=TAGS,
    description="Each feature's properties: id, branch_id, branch (code), name, delivery_fee, "
    "free_delivery_from, min_order (decimal strings), delivery_minutes, opening_hours, priority, active, "
    "color. The same document can be imported back.",
)
def export_geojson() -> dict[str, Any]:
    """Export zones."""
    with current_kernel().db.reading() as s:
        return services.export_zones(s)


@endpoint(
    bp,
    "/zones/geojson",
    method="POST",
    roles=ZONE_ADMIN,
    body=ZoneCollectionIn,
    query=ZoneImportQuery,
    response=ZoneImportOut,
    summary="Import zones from a GeoJSON FeatureCollection",
    tags=TAGS,
    description="All or nothing: every invalid polygon, unknown branch or bad schedule is listed in the 422 "
    "`errors` with its path (`features.3.geometry`). A feature with `properties.id` updates that zone, "
    "else the zone with the same branch and name, else a zone is created; `?replace=true` deletes the zones "
    "the document does not mention. Rings are closed when open; coordinates are [longitude, latitude].",
)
def import_geojson(body: ZoneCollectionIn, query: ZoneImportQuery) -> ZoneImportOut:
    """Import zones; the compiled index is rebuilt."""
    specs = []
    for i, feature in enumerate(body.features):
        p = feature.properties
        specs.append(
            services.ZoneSpec(
                where=f"features.{i}",
                id=p.id,
                branch_id=p.branch_id,
                branch_code=p.branch,
                name=p.name,
                geometry=feature.geometry,
                delivery_fee=to_minor(p.delivery_fee),
                free_delivery_from=to_minor(p.free_delivery_from)
                if p.free_delivery_from is not None
                else None,
                min_order=to_minor(p.min_order),
                delivery_minutes=p.delivery_minutes,
                opening_hours=p.opening_hours,
                priority=p.priority,
                active=p.active,
                color=p.color,
            )
        )
    k = current_kernel()
    with k.db.unit_of_work() as s:
        result = services.import_zones(s, specs, replace=query.replace)
        out = ZoneImportOut(
            created=len(result.created),
            updated=len(result.updated),
            deleted=len(result.deleted),
            zones=[ZoneOut.of(z) for z in services.list_zones(s)],
        )
    _changed()
    return out


# --- the editor: one zone at a time ------------------------------------------------------------


@endpoint(
    bp,
    "/zones",
    method="POST",
    roles=ZONE_EDIT,
    body=ZoneIn,
    response=ZoneOut,
    status=201,
    summary="Draw a zone: polygon, fee, free-from, minimum, minutes, hours, priority, branch",
    tags=TAGS,
    errors=(409,),
    description="Every problem is answered at once in a 422 naming each field: a polygon that crosses "
    "itself (with the crossing point, `params.lat`/`params.lon`), a position outside the world "
    "(`geometry.coordinates.0.2`), hours that close before they open (`opening_hours.mon.0.closes`), "
    "an unknown or closed branch (`branch_id`), free delivery below the minimum. Another zone of the "
    "branch with the same name is a 409. Nothing is written then.",
)
def create_zone(body: ZoneIn) -> ZoneOut:
    """Draw a zone."""
    facts, _sent = zone_facts(body, partial=False)
    with current_kernel().db.unit_of_work() as s:
        out = ZoneOut.of(services.create_zone(s, facts))
    _changed()
    return out


@endpoint(
    bp,
    "/zones/<int:zone_id>",
    roles=READ,
    response=ZoneOut,
    summary="One zone",
    tags=TAGS,
    errors=(404,),
)
def get_zone(zone_id: int) -> ZoneOut:
    """Read one zone (404 for a zone of a branch you do not work for)."""
    with current_kernel().db.reading() as s:
        return ZoneOut.of(services.get_zone(s, zone_id, within=branch_scope()))


@endpoint(
    bp,
    "/zones/<int:zone_id>",
    method="PATCH",
    roles=ZONE_EDIT,
    body=ZonePatch,
    response=ZoneOut,
    summary="Change a zone (its polygon, its terms), or switch it off",
    tags=TAGS,
    errors=(404, 409),
    description="Only the fields sent change; problems are answered as on POST.",
)
def patch_zone(zone_id: int, body: ZonePatch) -> ZoneOut:
    """Change a zone."""
    facts, sent = zone_facts(body, partial=True)
    with current_kernel().db.unit_of_work() as s:
        out = ZoneOut.of(services.update_zone(s, zone_id, facts, sent))
    _changed()
    return out


@endpoint(
    bp,
    "/zones/<int:zone_id>",
    method="DELETE",
    roles=ZONE_EDIT,
    status=204,
    summary="Delete a zone",
    tags=TAGS,
    errors=(404,),
    description="Saved addresses in it lose their zone; placed orders keep their fee and history.",
)
def delete_zone(zone_id: int) -> None:
    """Delete a zone."""
    with current_kernel().db.unit_of_work() as s:
        services.delete_zone(s, zone_id)
    _changed()


@endpoint(
    bp,
    "/zones/overlaps",
    roles=READ,
    response=OverlapList,
    summary="Active zones that overlap, each pair with the zone that wins there",
    tags=TAGS,
    description="Where zones overlap, the higher `priority` delivers; at equal priority the smaller zone; "
    "then the lower id — the rule the quote and the order placement apply to a point. Touching edges "
    "are not an overlap. Staff of some branches see the pairs that involve one of their zones.",
)
def zone_overlaps() -> OverlapList:
    """The overlaps."""
    with current_kernel().db.reading() as s:
        found = services.zone_overlaps(s, within=branch_scope())
    return OverlapList(
        items=[
            OverlapOut(
                zones=[ZoneBrief.of(o.first), ZoneBrief.of(o.second)],
                winner=ZoneBrief.of(o.winner),
                reason=o.reason,
                area_km2=o.area_km2,
            )
            for o in found
        ]
    )


@endpoint(
    bp,
    "/zones/at",
    roles=READ,
    query=ZoneAtQuery,
    response=ZoneAtOut,
    summary="The zone that delivers to a point, and the other zones that contain it",
    tags=TAGS,
    description="A point on an edge belongs to the zone. `winner: null` outside every active zone.",
)
def zone_at(query: ZoneAtQuery) -> ZoneAtOut:
    """Which zone wins at a point."""
    with current_kernel().db.reading() as s:
        found = zone_index(s).covering(query.lat, query.lon)
    return ZoneAtOut(
        lat=query.lat,
        lon=query.lon,
        winner=ZoneBrief.of(found[0]) if found else None,
        others=[ZoneBrief.of(z) for z in found[1:]],
    )
