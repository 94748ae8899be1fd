"""Demo catalogue: a pizza-and-sushi menu with drinks and desserts."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from nomenclature.models import Item

MENU = (
    # sku, name, price (kopecks), vat
    ("PZ-MARG", "Pizza Margherita 30 cm", 54900, "vat22"),
    ("PZ-PEPP", "Pizza Pepperoni 30 cm", 64900, "vat22"),
    ("PZ-4CH", "Pizza Four Cheeses 30 cm", 69900, "vat22"),
    ("PZ-HAW", "Pizza Hawaiian 30 cm", 62900, "vat22"),
    ("PZ-BBQ", "Pizza BBQ Chicken 30 cm", 67900, "vat22"),
    ("SU-PHIL", "Philadelphia roll, 8 pcs", 59900, "vat22"),
    ("SU-CAL", "California roll, 8 pcs", 49900, "vat22"),
    ("SU-UNAG", "Unagi roll, 8 pcs", 52900, "vat22"),
    ("SU-SET1", 'Sushi set "Friday", 32 pcs', 189900, "vat22"),
    ("WK-CHK", "Wok noodles with chicken", 42900, "vat22"),
    ("SD-CAES", "Caesar salad", 38900, "vat22"),
    ("SD-FRIES", "French fries", 19900, "vat22"),
    ("DR-COLA05", "Cola 0.5 l", 12900, "vat22"),
    ("DR-WATER", "Still water 0.5 l", 7900, "vat22"),
    ("DR-JUICE1", "Orange juice 1 l", 21900, "vat22"),
    ("DS-CHEES", "Cheesecake New York", 29900, "vat22"),
    ("DS-TIRAM", "Tiramisu", 32900, "vat22"),
    ("SC-SOY", "Soy sauce", 3900, "vat22"),
)


def load(session: Session, kernel: Any) -> None:
    """Create the menu items that do not exist yet."""
    known = set(session.scalars(select(Item.sku)))
    for sku, name, price, vat in MENU:
        if sku not in known:
            session.add(Item(sku=sku, name=name, price=price, vat_rate=vat))
