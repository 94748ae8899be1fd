"""Demo branches in Kazan."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from orders.models import Branch

WEEK = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
BRANCHES = (
    ("KZ1", "Kazan — Baumana", "Kazan, Baumana St, 44", 55.7887, 49.1221, "10:00", "23:00"),
    ("KZ2", "Kazan — Pobedy", "Kazan, Pobedy Ave, 91", 55.7570, 49.2070, "10:00", "02:00"),
)


def load(session: Session, kernel: Any) -> None:
    """Create the demo branches that do not exist yet."""
    known = set(session.scalars(select(Branch.code)))
    for code, name, address, lat, lon, opens, closes in BRANCHES:
        if code not in known:
            session.add(
                Branch(
                    code=code,
                    name=name,
                    address=address,
                    lat=lat,
                    lon=lon,
                    timezone="Europe/Moscow",
                    phone="+78432000000",
                    opening_hours={d: [[opens, closes]] for d in WEEK},
                )
            )
