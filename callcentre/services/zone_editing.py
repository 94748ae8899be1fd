"""Zone use cases of the editor: read one, create, change, delete, and the overlaps between zones.

Every problem of what the admin sent is answered at once (422 naming each field, see
:mod:`callcentre.zone_checks`) before anything is written; a name another zone of the branch
already has is a 409.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import fields, replace
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from callcentre.models import DeliveryZone
from callcentre.services.zones import audited_zone, zone_rules
from callcentre.zone_checks import ZoneFacts, zone_problems
from callcentre.zones import Overlap, overlaps
from frontoffice import audit
from frontoffice.db import utcnow
from frontoffice.errors import Conflict, InvalidInput, NotFound, field_error
from frontoffice.money import from_minor, to_minor
from orders.models import Branch


def get_zone(session: Session, zone_id: int, *, within: Collection[int] | None = None) -> DeliveryZone:
    """The zone, or :class:`NotFound` (also for a zone of a branch outside ``within``)."""
    zone = session.get(DeliveryZone, zone_id)
    if zone is None or (within is not None and zone.branch_id not in within):
        raise NotFound(f"There is no zone {zone_id}.")
    return zone


def _branches(session: Session) -> dict[int, bool]:
    return {branch_id: active for branch_id, active in session.execute(select(Branch.id, Branch.active))}


def _name_taken(session: Session, branch_id: int, name: str, current: DeliveryZone | None) -> None:
    other = session.scalar(
        select(DeliveryZone.id).where(DeliveryZone.branch_id == branch_id, DeliveryZone.name == name)
    )
    if other is not None and (current is None or other != current.id):
        message = f"Zone {other} of this branch already has the name {name}."
        raise Conflict(message, errors=[field_error("name", message, "duplicate_zone", name=name)])


def _checked(session: Session, facts: ZoneFacts, *, creating: bool, what: str):
    problems, checked = zone_problems(facts, creating=creating, branches=_branches(session))
    if problems:
        errors = [field_error(p.field, p.message, p.code, **p.params) for p in problems]
        raise InvalidInput(
            f"The zone cannot be {what}. " + " ".join(e["message"] for e in errors), errors=errors
        )
    return checked


def _money(value: Decimal | None) -> int | None:
    return None if value is None else to_minor(Decimal(str(value)))


def _apply(zone: DeliveryZone, facts: ZoneFacts, sent: set[str], checked) -> None:
    if facts.name is not None:
        zone.name = facts.name.strip()
    if facts.branch_id is not None:
        zone.branch_id = facts.branch_id
    if checked.geometry is not None:
        zone.geometry = checked.geometry
    if checked.hours is not None:
        zone.opening_hours = checked.hours.to_json()
    for name in ("delivery_fee", "min_order"):
        if getattr(facts, name) is not None:
            setattr(zone, name, _money(getattr(facts, name)))
    if "free_delivery_from" in sent:  # null switches free delivery off
        zone.free_delivery_from = _money(facts.free_delivery_from)
    for name in ("delivery_minutes", "priority", "active", "color"):
        if getattr(facts, name) is not None:
            setattr(zone, name, getattr(facts, name))
    zone.updated_at = utcnow()


def create_zone(session: Session, facts: ZoneFacts) -> DeliveryZone:
    """Draw a new zone; nothing is written when it is refused."""
    checked = _checked(session, facts, creating=True, what="saved")
    _name_taken(session, facts.branch_id, facts.name.strip(), None)
    zone = DeliveryZone(
        branch_id=facts.branch_id,
        name="",
        geometry={},
        opening_hours={},
        delivery_fee=0,
        min_order=0,
        delivery_minutes=60,
        priority=0,
        active=True,
        color="",
        created_at=utcnow(),
    )
    _apply(zone, facts, {f.name for f in fields(facts) if getattr(facts, f.name) is not None}, checked)
    session.add(zone)
    session.flush()
    audit.record(session, audit.Action.CREATE, audit.Entity.ZONE, zone.id, None, audited_zone(zone))
    return zone


def update_zone(session: Session, zone_id: int, facts: ZoneFacts, sent: set[str]) -> DeliveryZone:
    """Change the fields ``sent`` of a zone; nothing is written when it is refused."""
    zone = get_zone(session, zone_id)
    # Free delivery and the minimum are compared with the stored one the request leaves alone.
    stored = {
        "free_delivery_from": None
        if zone.free_delivery_from is None
        else from_minor(zone.free_delivery_from),
        "min_order": from_minor(zone.min_order),
    }
    compared = facts
    if "free_delivery_from" in sent and "min_order" not in sent:
        compared = replace(facts, min_order=stored["min_order"])
    elif "min_order" in sent and "free_delivery_from" not in sent:
        compared = replace(facts, free_delivery_from=stored["free_delivery_from"])
    checked = _checked(session, compared, creating=False, what="saved")
    _name_taken(
        session,
        facts.branch_id if facts.branch_id is not None else zone.branch_id,
        facts.name.strip() if facts.name is not None else zone.name,
        zone,
    )
    before = audited_zone(zone)
    _apply(zone, facts, sent, checked)
    session.flush()
    audit.record(session, audit.Action.UPDATE, audit.Entity.ZONE, zone.id, before, audited_zone(zone))
    return zone


def delete_zone(session: Session, zone_id: int) -> None:
    """Remove a zone (addresses in it keep their place and lose the zone; placed orders keep theirs)."""
    zone = get_zone(session, zone_id)
    before = audited_zone(zone)
    session.delete(zone)
    session.flush()
    audit.record(session, audit.Action.DELETE, audit.Entity.ZONE, zone_id, before, None)


def zone_overlaps(session: Session, *, within: Collection[int] | None = None) -> list[Overlap]:
    """Pairs of active zones that overlap, each with the zone that wins there; with ``within``,
    the pairs that involve a zone of those branches."""
    found = overlaps(zone_rules(session))
    if within is None:
        return found
    return [o for o in found if o.first.branch_id in within or o.second.branch_id in within]
