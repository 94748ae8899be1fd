"""The delivery position: the catalogue item that sells an order's delivery fee.

To distribution it is an item like any other: conditions target it (by item, or by covering
all nomenclature), it has its own VAT rate, explain and lint see it. It is no dish, though:
the menu does not show it, a cart cannot order it, and its price is the fee the delivery zone
sets for each order (the item's own price is not used). The migrations seed it; its SKU is how
everything finds it, so it keeps that SKU and stays on sale.
"""

from __future__ import annotations

from dataclasses import dataclass
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


@dataclass(frozen=True)
class DeliveryPosition:
    """The delivery position as selling sees it: a plain value kept with the compiled rules."""

    item_id: int
    group_id: int | None
    sku: str
    name: str
    vat_rate: str


def delivery_position(session: Session) -> DeliveryPosition | None:
    """The delivery position as a plain value, or None where the catalogue has none."""
    item = delivery_item(session)
    if item is None:
        return None
    return DeliveryPosition(item.id, item.group_id, item.sku, item.name, item.vat_rate)
