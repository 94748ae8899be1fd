"""Branches as the nomenclature sees them: ids and names read from the orders package's table."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import column, select, table
from sqlalchemy.orm import Session

from frontoffice.errors import FieldError, field_error

# The branches table belongs to the orders package; nomenclature only reads ids and names.
BRANCHES = table("branches", column("id"), column("code"), column("name"), column("active"))


def branch_names(session: Session) -> dict[int, str]:
    """``{id: "KZ1 Kazan — Baumana"}`` of every branch."""
    rows = session.execute(select(BRANCHES.c.id, BRANCHES.c.code, BRANCHES.c.name).order_by(BRANCHES.c.id))
    return {r.id: f"{r.code} {r.name}" for r in rows}


def active_branch_ids(session: Session) -> list[int]:
    """Ids of the branches that take orders."""
    return list(
        session.scalars(select(BRANCHES.c.id).where(BRANCHES.c.active.is_(True)).order_by(BRANCHES.c.id))
    )


def check_branches(session: Session, ids: Iterable[int], field: str) -> list[FieldError]:
    """A field error for every id in ``ids`` that names no branch."""
    wanted = set(ids)
    if not wanted:
        return []
    known = set(session.scalars(select(BRANCHES.c.id).where(BRANCHES.c.id.in_(wanted))))
    return [field_error(field, f"unknown branch {b}") for b in sorted(wanted - known)]
