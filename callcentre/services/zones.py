"""Delivery zones: the compiled index, listing, GeoJSON import and export, and where a delivery goes
(the zone, its fee, or the refusal with a pickup offer) for both the quote and the placement policy."""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from callcentre.models import (
    DeliveryZone,
)
from callcentre.zones import WeeklyHours, ZoneError, ZoneIndex, ZoneRule, normalized_geojson, parse_geometry
from frontoffice import audit
from frontoffice.db import execute_fast, utcnow
from frontoffice.errors import FieldError, InvalidInput, field_error
from frontoffice.geo import geodesic_km
from frontoffice.money import format_money, from_minor
from orders.models import Branch
from orders.services import OrderDraft

log = logging.getLogger(__name__)


def zone_rule(zone: DeliveryZone) -> ZoneRule:
    try:
        hours = WeeklyHours.parse(zone.opening_hours)
    except ZoneError:
        log.warning("zone %s has unreadable opening hours; treated as the branch's", zone.id)
        hours = WeeklyHours(always=True)
    return ZoneRule(
        id=zone.id,
        branch_id=zone.branch_id,
        name=zone.name,
        shape=parse_geometry(zone.geometry),
        delivery_fee=zone.delivery_fee,
        free_delivery_from=zone.free_delivery_from,
        min_order=zone.min_order,
        delivery_minutes=zone.delivery_minutes,
        hours=hours,
        priority=zone.priority,
        active=zone.active,
    )


def zone_rules(session: Session) -> list[ZoneRule]:
    """Every active zone compiled (a zone whose stored geometry became unreadable is skipped and logged)."""
    out = []
    for zone in session.scalars(
        select(DeliveryZone).where(DeliveryZone.active.is_(True)).order_by(DeliveryZone.id)
    ):
        try:
            out.append(zone_rule(zone))
        except ZoneError as exc:
            log.error("zone %s (%s) skipped: %s", zone.id, zone.name, exc)
    return out


# Read for every quote and order: built once.
_ZONES_STAMP = select(
    func.count(DeliveryZone.id), func.max(DeliveryZone.id), func.max(DeliveryZone.updated_at)
)


class ZoneCache:
    """The compiled zone index kept in the kernel, rebuilt when the zones table changes.

    Each use costs one tiny aggregate query (count, max id, max updated_at), which also
    notices changes made by other processes.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stamp: tuple[Any, ...] | None = None
        self._index = ZoneIndex([])

    def index(self, session: Session) -> ZoneIndex:
        """The index matching the zones table as this session sees it."""
        stamp = tuple(execute_fast(session, _ZONES_STAMP).one())
        if stamp == self._stamp:
            return self._index
        index = ZoneIndex(zone_rules(session))
        with self._lock:
            self._index, self._stamp = index, stamp
        return index

    def invalidate(self) -> None:
        """Forget the compiled index (the next use rebuilds it)."""
        with self._lock:
            self._stamp = None


def list_zones(
    session: Session,
    *,
    branch_id: int | None = None,
    active: bool | None = None,
    within: Collection[int] | None = None,
) -> list[DeliveryZone]:
    """Zones by branch then priority (highest first) then name (only those of branches ``within``
    when given)."""
    stmt = select(DeliveryZone)
    if within is not None:
        stmt = stmt.where(DeliveryZone.branch_id.in_(list(within)))
    if branch_id is not None:
        stmt = stmt.where(DeliveryZone.branch_id == branch_id)
    if active is not None:
        stmt = stmt.where(DeliveryZone.active.is_(active))
    return list(
        session.scalars(
            stmt.order_by(DeliveryZone.branch_id, DeliveryZone.priority.desc(), DeliveryZone.name)
        )
    )


@dataclass(frozen=True)
class ZoneSpec:
    """One zone of a GeoJSON import (money in minor units); ``where`` is its path in the document."""

    where: str
    name: str
    geometry: Any
    id: int | None = None
    branch_id: int | None = None
    branch_code: str | None = None
    delivery_fee: int = 0
    free_delivery_from: int | None = None
    min_order: int = 0
    delivery_minutes: int = 60
    opening_hours: dict[str, Any] = field(default_factory=dict)
    priority: int = 0
    active: bool = True
    color: str = ""


@dataclass
class ZoneImport:
    """What an import did."""

    created: list[DeliveryZone]
    updated: list[DeliveryZone]
    deleted: list[int]


def import_zones(
    session: Session, specs: Sequence[ZoneSpec], *, replace: bool = False, now: dt.datetime | None = None
) -> ZoneImport:
    """Create or update zones from a validated GeoJSON import; all-or-nothing, every problem reported.

    A feature with ``id`` updates that zone; otherwise one with the same branch and
    name is updated, else a zone is created. ``replace`` deletes the zones the import
    does not mention.
    """
    now = now or utcnow()
    errors: list[dict[str, Any]] = []
    branches = {b.id: b for b in session.scalars(select(Branch))}
    by_code = {b.code: b for b in branches.values()}
    existing = {z.id: z for z in session.scalars(select(DeliveryZone))}
    by_name = {(z.branch_id, z.name): z for z in existing.values()}
    plans: list[tuple[ZoneSpec, int, dict[str, Any], DeliveryZone | None]] = []
    seen: dict[tuple[int, str], str] = {}
    for spec in specs:
        where = spec.where
        branch = None
        if spec.branch_id is not None:
            branch = branches.get(spec.branch_id)
            if branch is None:
                errors.append(
                    field_error(
                        f"{where}.properties.branch_id", f"Unknown branch {spec.branch_id}.", "unknown_branch"
                    )
                )
                continue
            if spec.branch_code is not None and spec.branch_code != branch.code:
                errors.append(
                    field_error(
                        f"{where}.properties.branch",
                        f"Branch {spec.branch_code!r} does not match branch_id {spec.branch_id} ({branch.code}).",
                        "branch_mismatch",
                    )
                )
                continue
        elif spec.branch_code is not None:
            branch = by_code.get(spec.branch_code)
            if branch is None:
                errors.append(
                    field_error(
                        f"{where}.properties.branch",
                        f"Unknown branch {spec.branch_code!r}.",
                        "unknown_branch",
                    )
                )
                continue
        else:
            errors.append(
                field_error(
                    f"{where}.properties.branch_id", "Name the branch (branch_id or branch code).", "required"
                )
            )
            continue
        try:
            geometry = normalized_geojson(spec.geometry)
        except ZoneError as exc:
            field_name = (
                exc.field.replace("geometry", f"{where}.geometry", 1) if exc.field else f"{where}.geometry"
            )
            errors.append(field_error(field_name, exc.message, "invalid_geometry"))
            continue
        try:
            hours = WeeklyHours.parse(spec.opening_hours).to_json()
        except ZoneError as exc:
            errors.append(field_error(f"{where}.properties.{exc.field}", exc.message, "invalid_hours"))
            continue
        if spec.free_delivery_from is not None and spec.free_delivery_from < spec.min_order:
            errors.append(
                field_error(
                    f"{where}.properties.free_delivery_from",
                    "Free delivery cannot start below the minimum order.",
                    "value_error",
                )
            )
            continue
        key = (branch.id, spec.name)
        if key in seen:
            errors.append(
                field_error(
                    f"{where}.properties.name", f"Same branch and name as {seen[key]}.", "duplicate_zone"
                )
            )
            continue
        seen[key] = where
        target = None
        if spec.id is not None:
            target = existing.get(spec.id)
            if target is None:
                errors.append(
                    field_error(f"{where}.properties.id", f"There is no zone {spec.id}.", "unknown_zone")
                )
                continue
        else:
            target = by_name.get(key)
        clash = by_name.get(key)
        if clash is not None and target is not None and clash.id != target.id:
            errors.append(
                field_error(
                    f"{where}.properties.name",
                    f"Zone {clash.id} of this branch already has that name.",
                    "duplicate_zone",
                )
            )
            continue
        plans.append((spec, branch.id, {"geometry": geometry, "opening_hours": hours}, target))
    if errors:
        raise InvalidInput(f"The zones were not imported: {len(errors)} problem(s).", errors=errors)

    created: list[DeliveryZone] = []
    updated: list[DeliveryZone] = []
    deleted: list[int] = []
    before = {zone_id: audited_zone(zone) for zone_id, zone in existing.items()}
    if replace:
        keep = {t.id for *_, t in plans if t is not None}
        for zone in existing.values():
            if zone.id not in keep:
                deleted.append(zone.id)
                session.delete(zone)
        session.flush()
    # Renames could swap names between zones: park the updated ones' names first.
    for spec, _branch_id, _extra, target in plans:
        if target is not None and target.name != spec.name:
            target.name = f"~import~{target.id}"
    session.flush()
    for spec, branch_id, extra, target in plans:
        zone = target or DeliveryZone(created_at=now)
        zone.branch_id = branch_id
        zone.name = spec.name
        zone.geometry = extra["geometry"]
        zone.opening_hours = extra["opening_hours"]
        zone.delivery_fee = spec.delivery_fee
        zone.free_delivery_from = spec.free_delivery_from
        zone.min_order = spec.min_order
        zone.delivery_minutes = spec.delivery_minutes
        zone.priority = spec.priority
        zone.active = spec.active
        zone.color = spec.color
        zone.updated_at = now
        if target is None:
            session.add(zone)
            created.append(zone)
        else:
            updated.append(zone)
    session.flush()
    for zone_id in deleted:
        audit.record(session, audit.Action.IMPORT, audit.Entity.ZONE, zone_id, before[zone_id], None)
    for zone in created:
        audit.record(session, audit.Action.IMPORT, audit.Entity.ZONE, zone.id, None, audited_zone(zone))
    for zone in updated:
        audit.record(
            session, audit.Action.IMPORT, audit.Entity.ZONE, zone.id, before[zone.id], audited_zone(zone)
        )
    return ZoneImport(created=created, updated=updated, deleted=deleted)


#: The zone's fields the audit log compares before and after a change (the outline too: a moved
#: border changes who is served).
AUDITED_FIELDS = (
    "name",
    "branch_id",
    "geometry",
    "opening_hours",
    "delivery_fee",
    "free_delivery_from",
    "min_order",
    "delivery_minutes",
    "priority",
    "active",
    "color",
)


def audited_zone(zone: DeliveryZone) -> dict[str, Any]:
    """What the audit log keeps of a zone."""
    return audit.state(zone, AUDITED_FIELDS)


def _money(minor: int | None) -> str | None:
    return None if minor is None else str(from_minor(minor))


def zone_feature(zone: DeliveryZone, branch_code: str | None = None) -> dict[str, Any]:
    """A zone as a GeoJSON Feature (money as decimal strings), the format :func:`import_zones` reads."""
    return {
        "type": "Feature",
        "id": zone.id,
        "geometry": zone.geometry,
        "properties": {
            "id": zone.id,
            "branch_id": zone.branch_id,
            "branch": branch_code,
            "name": zone.name,
            "delivery_fee": _money(zone.delivery_fee),
            "free_delivery_from": _money(zone.free_delivery_from),
            "min_order": _money(zone.min_order),
            "delivery_minutes": zone.delivery_minutes,
            "opening_hours": zone.opening_hours,
            "priority": zone.priority,
            "active": zone.active,
            "color": zone.color,
        },
    }


def export_zones(session: Session) -> dict[str, Any]:
    """Every zone as a GeoJSON FeatureCollection."""
    codes = {row.id: row.code for row in session.execute(select(Branch.id, Branch.code))}
    return {
        "type": "FeatureCollection",
        "features": [zone_feature(z, codes.get(z.branch_id)) for z in list_zones(session)],
    }


# --- where a delivery goes: one place for the quote and the placement policy -----------------


def nearest_branch(session: Session, lat: float, lon: float) -> tuple[Branch, float] | None:
    """The closest active branch to a point and its distance in km (geodesic)."""
    best: tuple[Branch, float] | None = None
    for branch in session.scalars(select(Branch).where(Branch.active.is_(True))):
        km = geodesic_km(lat, lon, branch.lat, branch.lon)
        if best is None or km < best[1]:
            best = (branch, km)
    return best


@dataclass(frozen=True)
class DeliveryPlace:
    """Where a delivery point falls: its zone, or outside every zone with the nearest branch to
    offer pickup from."""

    zone: ZoneRule | None
    nearest: tuple[Branch, float] | None = None

    @property
    def nearest_text(self) -> str:
        """The nearest branch as the operator reads it out."""
        return f"{self.nearest[0].name} ({self.nearest[0].address})" if self.nearest else "a branch"

    def pickup_offer(self) -> dict[str, Any] | None:
        """The nearest branch as the quote offers it for pickup (None when there is no branch)."""
        if self.nearest is None:
            return None
        branch, km = self.nearest
        return {
            "branch_id": branch.id,
            "code": branch.code,
            "name": branch.name,
            "address": branch.address,
            "distance_km": round(km, 2),
        }

    def outside_problem(self) -> FieldError:
        """The quote's problem for a point outside every zone."""
        where = self.nearest_text
        return field_error(
            "address",
            f"Address is outside every delivery zone; offer pickup from {where}.",
            "outside_zones",
            branch=where,
        )

    def refusal(self) -> InvalidInput:
        """The placement refusal of an order outside every zone (the order API's 422)."""
        where = self.nearest_text
        return InvalidInput(
            f"Address is outside every delivery zone; offer pickup from {where}.",
            errors=[
                field_error(
                    "address", f"Outside every delivery zone; nearest branch: {where}.", "outside_zones"
                )
            ],
            pickup_offer={"branch_id": self.nearest[0].id, "name": self.nearest[0].name}
            if self.nearest
            else None,
        )


def locate_delivery(session: Session, zones: ZoneIndex, lat: float, lon: float) -> DeliveryPlace:
    """The zone a delivery point falls in; outside every zone, the nearest branch instead."""
    zone = zones.locate(lat, lon)
    if zone is not None:
        return DeliveryPlace(zone)
    return DeliveryPlace(None, nearest_branch(session, lat, lon))


def record_zone(draft: OrderDraft, zone: ZoneRule | None, fee: int, currency: str) -> None:
    """Settle where a draft goes: its zone's fee, the zone in the order's history; the draft counts
    as located (``zone`` None: zone rules do not apply to it), so no policy locates it again.

    Raises :class:`InvalidInput` (422 naming ``delivery_fee``) when the command asked for another fee.
    """
    draft.located = True
    if zone is None:
        return
    asked = draft.command.delivery_fee
    if asked is not None and asked != fee:
        shown = format_money(fee, currency)
        raise InvalidInput(
            f"The delivery fee is set by the zone {zone.name}: {shown}.",
            errors=[
                field_error("delivery_fee", f"Set by the delivery zone ({shown}); leave it out.", "read_only")
            ],
        )
    draft.delivery_fee = fee
    draft.extra["zone_id"] = zone.id
    draft.notes.append(f"zone {zone.name}: fee {format_money(fee, currency)}")


class ZonePolicy:
    """Placement policy: a delivery with coordinates gets its zone's fee; outside every zone it is refused.

    Orders without coordinates, pickups, and businesses with no zone configured pass
    unchanged, and so do drafts their caller already located (the call centre's quote). The
    branch chosen by the caller is kept; the minimum order and opening hours are the operator
    workspace's checks (``quote``), not this policy's.
    """

    def __init__(self, cache: ZoneCache, currency: str = "RUB"):
        self.cache = cache
        self.currency = currency

    def __call__(self, session: Session, draft: OrderDraft) -> None:
        """Set the fee from the zone, or refuse the order."""
        cmd = draft.command
        if draft.located or cmd.kind != "delivery" or cmd.lat is None or cmd.lon is None:
            return
        zones = self.cache.index(session)
        if zones.empty:
            return
        place = locate_delivery(session, zones, cmd.lat, cmd.lon)
        if place.zone is None:
            raise place.refusal()
        record_zone(draft, place.zone, place.zone.fee_for(draft.items_total), self.currency)
