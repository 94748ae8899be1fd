"""The delivery position: the catalogue item that sells an order's delivery fee.

To distribution it is an item like any other: conditions target it (by item, or by covering
all nomenclature), it has its own VAT rate, explain and lint see it. It is no dish, though:
the menu does not show it, a cart cannot order it, and its price is the fee the delivery zone
sets for each order (the item's own price is not used). The migrations seed it; its SKU is how
everything finds it, so it keeps that SKU and stays on sale.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from nomenclature.models import Item

DELIVERY_SKU = "DELIVERY"

#: What the seeded delivery position is: a service at the standard VAT rate, outside every group.
DELIVERY_ITEM: dict[str, Any] = {
    "sku": DELIVERY_SKU,
    "name": "Delivery",
    "price": 0,
    "vat_rate": "vat22",
    "unit": "service",
    "description": "The delivery fee of an order: its price is the delivery zone's fee.",
}


def delivery_item(session: Session) -> Item | None:
    """The delivery position of the catalogue, or None where it is missing."""
    return session.scalar(select(Item).where(Item.sku == DELIVERY_SKU))


def ensure_delivery_item(session: Session) -> Item:
    """The delivery position, created as the migrations seed it when it is missing."""
    item = delivery_item(session)
    if item is None:
        item = Item(**DELIVERY_ITEM, active=True)
        session.add(item)
        session.flush()
    return item
