"""Item groups: the tree the catalogue and the distribution conditions are organized by."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from frontoffice.db import utcnow
from frontoffice.errors import Conflict, FieldError, NotFound, field_error
from nomenclature.distribution import MAX_GROUP_DEPTH, GroupTree, would_make_cycle
from nomenclature.models import DistributionCondition, Item, ItemGroup
from nomenclature.services.checks import refuse
from nomenclature.services.compiled import build_from_rows, group_parents, mark_changed
from nomenclature.services.vat import active_items, conflict_error, find_conflicts, item_label, line_of


def get_group(session: Session, group_id: int) -> ItemGroup:
    """The group, or :class:`NotFound`."""
    group = session.get(ItemGroup, group_id)
    if group is None:
        raise NotFound(f"There is no item group {group_id}.")
    return group


def list_groups(session: Session) -> list[ItemGroup]:
    """Every group, ordered for display."""
    return list(session.scalars(select(ItemGroup).order_by(ItemGroup.position, ItemGroup.name, ItemGroup.id)))


def save_group(
    session: Session, group_id: int | None, fields: Mapping[str, Any], *, on: dt.date | None = None
) -> ItemGroup:
    """Create (``group_id`` None) or change a group; refuses unknown parents, cycles, and a move
    that would give its items (from ``on``) to a seller that cannot charge their VAT rate."""
    group = ItemGroup(name="", position=0, active=True) if group_id is None else get_group(session, group_id)
    errors: list[FieldError] = []
    name = fields.get("name", group.name)
    if not name or not str(name).strip():
        errors.append(field_error("name", "A group needs a name"))
    parent_id = fields.get("parent_id", group.parent_id)
    parents = group_parents(session)
    if parent_id is not None:
        if parent_id not in parents:
            errors.append(field_error("parent_id", f"unknown parent group {parent_id}"))
        elif group_id is not None and would_make_cycle(parents, group_id, parent_id):
            errors.append(
                field_error(
                    "parent_id", f"group {parent_id} is inside group {group_id}: that would make a cycle"
                )
            )
        else:
            depth = len(GroupTree(parents).chain(parent_id)) + 1
            if depth > MAX_GROUP_DEPTH:
                errors.append(field_error("parent_id", f"groups nest at most {MAX_GROUP_DEPTH} levels deep"))
    refuse("The group cannot be saved", errors)
    moved = group_id is not None and parent_id != group.parent_id
    group.name = str(name).strip()
    group.parent_id = parent_id
    if "position" in fields:
        group.position = fields["position"]
    if "active" in fields:
        group.active = fields["active"]
    session.add(group)
    session.flush()
    if moved:
        refuse("The group cannot be moved", _vat_errors(session, group, on))
    mark_changed(session)
    return group


def _vat_errors(session: Session, group: ItemGroup, on: dt.date | None) -> list[FieldError]:
    """Why the group cannot stand where it now is (the move is flushed, not committed): the
    conditions there give its items to a seller that cannot charge their VAT rate."""
    dist = build_from_rows(session)
    subtree = dist.index.tree.subtree(group.id)
    items = [i for i in active_items(session) if i.group_id in subtree]
    conflicts = find_conflicts(session, dist, [line_of(i) for i in items], on or utcnow().date(), since=on)
    lead = (
        f"under its new parent the items of {group.name} would be sold by an organization that "
        "cannot charge their VAT rate"
    )
    return conflict_error("parent_id", lead, conflicts, {i.id: item_label(i) for i in items})


def delete_group(session: Session, group_id: int) -> None:
    """Delete an empty group: no subgroups, items or conditions may point at it."""
    group = get_group(session, group_id)
    blockers = []
    if session.scalar(select(func.count()).where(ItemGroup.parent_id == group_id)):
        blockers.append("it has subgroups")
    if session.scalar(select(func.count()).where(Item.group_id == group_id)):
        blockers.append("it has items")
    if session.scalar(select(func.count()).where(DistributionCondition.group_id == group_id)):
        blockers.append("distribution conditions name it")
    if blockers:
        raise Conflict(f"Group {group.name} cannot be deleted: {', '.join(blockers)}.")
    session.delete(group)
    session.flush()
    mark_changed(session)
