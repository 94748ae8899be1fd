"""Catalogue use cases."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from nomenclature.models import Item


def items_for_lines(
    session: Session, skus: Iterable[str], ids: Iterable[int]
) -> tuple[dict[str, Item], dict[int, Item]]:
    """Load the items named by SKU or id in one query: ``(by_sku, by_id)``."""
    skus, ids = set(skus), set(ids)
    if not skus and not ids:
        return {}, {}
    rows = session.scalars(select(Item).where(or_(Item.sku.in_(skus), Item.id.in_(ids)))).all()
    return {i.sku: i for i in rows}, {i.id: i for i in rows}
