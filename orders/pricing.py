"""Order arithmetic over plain integers (minor units) (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

MAX_QUANTITY = 999
MAX_LINES = 100


@dataclass(frozen=True)
class PricedLine:
    """A line priced from the catalogue: ``unit_price`` is the item's price plus its options'.

    ``vat_rate`` is the catalogue's rate; distribution may settle on another one for the receipt.
    """

    item_id: int
    sku: str
    name: str
    quantity: int
    unit_price: int
    vat_rate: str
    comment: str = ""
    group_id: int | None = None
    # Chosen options as stored on the line: ({"id", "name", "group_id", "group", "price_delta"}, …)
    modifiers: tuple[dict, ...] = ()

    @property
    def total(self) -> int:
        """Quantity times unit price, in minor units."""
        return self.quantity * self.unit_price


@dataclass(frozen=True)
class Totals:
    """The money of an order in minor units."""

    items: int
    discount: int
    delivery_fee: int

    @property
    def total(self) -> int:
        """What the client pays."""
        return self.items - self.discount + self.delivery_fee


def order_totals(lines: Sequence[PricedLine], discount: int = 0, delivery_fee: int = 0) -> Totals:
    """Sum the lines; the discount cannot exceed the items, nor anything be negative."""
    items = sum(line.total for line in lines)
    if discount < 0 or delivery_fee < 0:
        raise ValueError("discount and delivery fee cannot be negative")
    if discount > items:
        raise ValueError("the discount is larger than the items")
    return Totals(items=items, discount=discount, delivery_fee=delivery_fee)
