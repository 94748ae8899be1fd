"""Modifier groups and their options (size, extras): read, save and delete."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from frontoffice.errors import FieldError, NotFound, field_error
from nomenclature.models import ModifierGroup, ModifierOption
from nomenclature.services.checks import MAX_PRICE, refuse
from nomenclature.services.compiled import mark_changed


def get_modifier_group(session: Session, group_id: int) -> ModifierGroup:
    """The modifier group, or :class:`NotFound`."""
    group = session.get(ModifierGroup, group_id)
    if group is None:
        raise NotFound(f"There is no modifier group {group_id}.")
    return group


def list_modifier_groups(session: Session) -> list[ModifierGroup]:
    """Every modifier group with its options."""
    return list(
        session.scalars(
            select(ModifierGroup).options(selectinload(ModifierGroup.options)).order_by(ModifierGroup.name)
        )
    )


def _option_errors(options: Sequence[Mapping[str, Any]], prefix: str) -> list[FieldError]:
    errors = []
    for n, o in enumerate(options):
        if not str(o.get("name", "")).strip():
            errors.append(field_error(f"{prefix}.{n}.name", "An option needs a name"))
        delta = o.get("price_delta", 0)
        if not -MAX_PRICE <= delta <= MAX_PRICE:
            errors.append(field_error(f"{prefix}.{n}.price_delta", "The price change is out of range"))
    return errors


def save_modifier_group(session: Session, group_id: int | None, fields: Mapping[str, Any]) -> ModifierGroup:
    """Create or change a modifier group; on creation ``options`` may list its options."""
    group = (
        ModifierGroup(name="", min_choices=0, max_choices=1, active=True)
        if group_id is None
        else get_modifier_group(session, group_id)
    )
    errors: list[FieldError] = []
    name = str(fields.get("name", group.name) or "").strip()
    lo = fields.get("min", group.min_choices)
    hi = fields.get("max", group.max_choices)
    if not name:
        errors.append(field_error("name", "A modifier group needs a name"))
    if lo < 0:
        errors.append(field_error("min", "The minimum cannot be negative"))
    if hi < 1:
        errors.append(field_error("max", "The maximum must be at least 1"))
    elif hi < lo:
        errors.append(field_error("max", f"The maximum ({hi}) is smaller than the minimum ({lo})"))
    options = fields.get("options") or []
    errors += _option_errors(options, "options")
    refuse("The modifier group cannot be saved", errors)
    group.name, group.min_choices, group.max_choices = name, lo, hi
    if "active" in fields:
        group.active = fields["active"]
    for n, o in enumerate(options, start=len(group.options)):
        group.options.append(
            ModifierOption(
                name=str(o["name"]).strip(),
                price_delta=o.get("price_delta", 0),
                position=n,
                active=o.get("active", True),
            )
        )
    session.add(group)
    session.flush()
    mark_changed(session)
    return group


def save_option(
    session: Session, group_id: int, option_id: int | None, fields: Mapping[str, Any]
) -> ModifierOption:
    """Add an option to a modifier group, or change one of its options."""
    group = get_modifier_group(session, group_id)
    if option_id is None:
        option = ModifierOption(name="", price_delta=0, position=len(group.options), active=True)
    else:
        found = session.get(ModifierOption, option_id)
        if found is None or found.group_id != group_id:
            raise NotFound(f"Modifier group {group_id} has no option {option_id}.")
        option = found
    merged = {"name": option.name, "price_delta": option.price_delta, **fields}
    refuse(
        "The option cannot be saved",
        [{**e, "field": e["field"].split(".")[-1]} for e in _option_errors([merged], "o")],
    )
    option.name = str(merged["name"]).strip()
    option.price_delta = merged["price_delta"]
    for key in ("position", "active"):
        if key in fields:
            setattr(option, key, fields[key])
    if option_id is None:
        group.options.append(option)
    session.flush()
    mark_changed(session)
    return option


def delete_modifier_group(session: Session, group_id: int) -> None:
    """Delete a modifier group and its options (past order lines keep their copy)."""
    session.delete(get_modifier_group(session, group_id))
    session.flush()
    mark_changed(session)
