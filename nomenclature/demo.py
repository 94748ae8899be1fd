"""Demo catalogue: a Kazan pizza-and-sushi menu with groups and modifiers, three sellers on
different tax systems and the distribution conditions that split a typical order between them
(the delivery, a service, sold by the kitchen LLC on ОСН at 22 %)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from nomenclature import services
from nomenclature.models import DistributionCondition, Item, ItemGroup, ModifierGroup, Organization

# name, parent name
GROUPS = (
    ("Pizza", None),
    ("Sushi & rolls", None),
    ("Rolls", "Sushi & rolls"),
    ("Sets", "Sushi & rolls"),
    ("Wok", None),
    ("Salads & sides", None),
    ("Drinks", None),
    ("Soft drinks", "Drinks"),
    ("Juices", "Drinks"),
    ("Desserts", None),
    ("Sauces", None),
)

MENU = (
    # sku, name, price (kopecks), vat, group, unit, description
    ("PZ-MARG", "Pizza Margherita 30 cm", 54900, "vat22", "Pizza", "pcs", "Tomato sauce, mozzarella, basil."),
    (
        "PZ-PEPP",
        "Pizza Pepperoni 30 cm",
        64900,
        "vat22",
        "Pizza",
        "pcs",
        "Tomato sauce, mozzarella, pepperoni.",
    ),
    (
        "PZ-4CH",
        "Pizza Four Cheeses 30 cm",
        69900,
        "vat22",
        "Pizza",
        "pcs",
        "Mozzarella, gorgonzola, parmesan, cheddar.",
    ),
    ("PZ-HAW", "Pizza Hawaiian 30 cm", 62900, "vat22", "Pizza", "pcs", "Chicken, pineapple, mozzarella."),
    ("PZ-BBQ", "Pizza BBQ Chicken 30 cm", 67900, "vat22", "Pizza", "pcs", "BBQ sauce, chicken, red onion."),
    (
        "SU-PHIL",
        "Philadelphia roll, 8 pcs",
        59900,
        "vat22",
        "Rolls",
        "set",
        "Salmon, cream cheese, cucumber.",
    ),
    ("SU-CAL", "California roll, 8 pcs", 49900, "vat22", "Rolls", "set", "Crab, avocado, cucumber, tobiko."),
    (
        "SU-UNAG",
        "Unagi roll, 8 pcs",
        52900,
        "vat22",
        "Rolls",
        "set",
        "Smoked eel, cream cheese, unagi sauce.",
    ),
    (
        "SU-SET1",
        'Sushi set "Friday", 32 pcs',
        189900,
        "vat22",
        "Sets",
        "set",
        "Philadelphia, California, Unagi, Maki.",
    ),
    ("WK-CHK", "Wok noodles with chicken", 42900, "vat22", "Wok", "pcs", "Chicken, vegetables, teriyaki."),
    ("WK-BEEF", "Wok noodles with beef", 47900, "vat22", "Wok", "pcs", "Beef, vegetables, oyster sauce."),
    (
        "SD-CAES",
        "Caesar salad",
        38900,
        "vat22",
        "Salads & sides",
        "pcs",
        "Romaine, chicken, parmesan, croutons.",
    ),
    ("SD-FRIES", "French fries", 19900, "vat22", "Salads & sides", "pcs", "150 g."),
    ("DR-COLA05", "Cola 0.5 l", 12900, "vat22", "Soft drinks", "pcs", ""),
    ("DR-WATER", "Still water 0.5 l", 7900, "vat22", "Soft drinks", "pcs", ""),
    ("DR-JUICE1", "Orange juice 1 l", 21900, "vat22", "Juices", "pcs", ""),
    ("DR-MORS", "Cranberry mors 0.5 l", 14900, "vat22", "Juices", "pcs", "Home-made."),
    ("DS-CHEES", "Cheesecake New York", 29900, "vat22", "Desserts", "pcs", ""),
    ("DS-TIRAM", "Tiramisu", 32900, "vat22", "Desserts", "pcs", ""),
    ("DS-CHAK", "Chak-chak", 24900, "vat22", "Desserts", "pcs", "Tatar honey dessert."),
    ("SC-SOY", "Soy sauce", 3900, "vat22", "Sauces", "pcs", ""),
    ("SC-CHEESE", "Cheese sauce", 4900, "vat22", "Sauces", "pcs", ""),
)

# name, min, max, options (name, delta in kopecks), SKU prefixes that offer it
MODIFIERS = (
    ("Pizza size", 0, 1, (("25 cm", -10000), ("35 cm", 15000)), ("PZ-",)),
    (
        "Pizza extras",
        0,
        3,
        (("Extra cheese", 5000), ("Jalapeño", 4000), ("Bacon", 7000), ("Cheese crust", 9000)),
        ("PZ-",),
    ),
    ("Roll extras", 0, 2, (("Extra ginger", 3000), ("Extra wasabi", 2000)), ("SU-",)),
    ("Noodles", 0, 1, (("Udon", 0), ("Soba", 0), ("Rice noodles", 0)), ("WK-",)),
    ("Dip", 0, 2, (("Ketchup", 3000), ("Cheese dip", 4000)), ("SD-FRIES",)),
)

KAZAN_FOOD = {
    "name": 'LLC "Kazan Food"',
    "inn": "1655012344",
    "kpp": "165501001",
    "tax_systems": ["osn"],
    "pays_vat": True,
    "default_vat_rate": "vat22",
}
GALIMOVA = {
    "name": "IP Galimova A. R. (drinks)",
    "inn": "165601234500",
    "kpp": "",
    "tax_systems": ["usn_income"],
    "pays_vat": False,
    "default_vat_rate": "none",
    # The 2026 threshold of the VAT exemption on УСН: past it the LLC sells the drinks.
    "annual_revenue_limit": 20_000_000_00,
}
KHASANOV = {
    "name": "IP Khasanov R. I. (desserts)",
    "inn": "165909876596",
    "kpp": "",
    "tax_systems": ["usn_income", "psn"],
    "pays_vat": False,
    "default_vat_rate": "none",
}


def _organization(session: Session, fields: dict[str, Any], on: dt.date) -> Organization:
    found = session.scalar(select(Organization).where(Organization.inn == fields["inn"]))
    return found or services.save_organization(session, None, fields, on=on)


def load(session: Session, kernel: Any) -> None:
    """Create what is missing: groups, items, modifiers, organizations, conditions."""
    groups = {g.name: g for g in session.scalars(select(ItemGroup))}
    for n, (name, parent) in enumerate(GROUPS):
        if name not in groups:
            parent_id = groups[parent].id if parent else None
            groups[name] = services.save_group(
                session, None, {"name": name, "parent_id": parent_id, "position": n}
            )

    items = {i.sku: i for i in session.scalars(select(Item))}
    for sku, name, price, vat, group, unit, description in MENU:
        if sku not in items:
            items[sku] = Item(
                sku=sku, name=name, price=price, vat_rate=vat, unit=unit, description=description
            )
            session.add(items[sku])
        if items[sku].group_id is None:
            items[sku].group_id = groups[group].id
    session.flush()

    known_modifiers = set(session.scalars(select(ModifierGroup.name)))
    for name, lo, hi, options, prefixes in MODIFIERS:
        if name in known_modifiers:
            continue
        group = services.save_modifier_group(
            session,
            None,
            {
                "name": name,
                "min": lo,
                "max": hi,
                "options": [{"name": o, "price_delta": d} for o, d in options],
            },
        )
        for sku, item in items.items():
            if sku.startswith(prefixes):
                current = [link.modifier_group_id for link in item.modifier_links]
                services.save_item(session, item.id, {"modifier_group_ids": [*current, group.id]})

    on = dt.date.today()
    food = _organization(session, KAZAN_FOOD, on)
    drinks = _organization(
        session, {**GALIMOVA, "fallback_organization_id": food.id, "fallback_tax_system": "osn"}, on
    )
    desserts = _organization(session, KHASANOV, on)

    delivery = services.ensure_delivery_item(session)
    conditions = (
        {"name": "Kitchen sells everything", "scope": "all", "organization_id": food.id, "tax_system": "osn"},
        {
            "name": "Drinks: sole proprietor on УСН",
            "scope": "group",
            "group_id": groups["Drinks"].id,
            "organization_id": drinks.id,
            "tax_system": "usn_income",
        },
        {
            "name": "Desserts: patent",
            "scope": "group",
            "group_id": groups["Desserts"].id,
            "organization_id": desserts.id,
            "tax_system": "psn",
        },
        {
            "name": "Delivery: the kitchen LLC on ОСН",
            "scope": "item",
            "item_id": delivery.id,
            "organization_id": food.id,
            "tax_system": "osn",
        },
    )
    named = set(session.scalars(select(DistributionCondition.name)))
    for fields in conditions:
        if fields["name"] not in named:
            services.save_condition(session, None, fields)
