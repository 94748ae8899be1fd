"""Demo delivery zones around the two Kazan branches, and a few regular callers with their histories.

Zones (coordinates are WGS84 [lon, lat]): the historic centre around Baumana St
(KZ1), Novo-Savinovsky across the Kazanka (KZ1), Sovetsky and Privolzhsky around
Pobedy Ave (KZ2), and "Greater Kazan", an outer ring with a higher fee, a higher
minimum and shorter hours, which the inner zones outrank by priority. Zelenodolsk
(55.847, 48.516) lies outside every zone.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from callcentre import services
from callcentre.models import Client, DeliveryZone
from callcentre.ports import ZONES as ZONE_CACHE
from orders.models import Branch
from orders.ports import PLACEMENT_POLICIES
from orders.services import change_status
from orders.states import OrderStatus

WEEK = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _ring(*points: tuple[float, float]) -> list[list[float]]:
    ring = [[lon, lat] for lon, lat in points]
    return ring + [ring[0]]


ZONES: tuple[dict[str, Any], ...] = (
    {
        "branch": "KZ1",
        "name": "Centre",
        "color": "#2e7d32",
        "ring": _ring(
            (49.085, 55.776),
            (49.120, 55.770),
            (49.160, 55.772),
            (49.175, 55.790),
            (49.160, 55.808),
            (49.120, 55.812),
            (49.092, 55.805),
            (49.080, 55.792),
        ),
        "fee": 9900,
        "free_from": 100000,
        "min_order": 50000,
        "minutes": 45,
        "priority": 10,
        "hours": {},
    },
    {
        "branch": "KZ1",
        "name": "Novo-Savinovsky",
        "color": "#1565c0",
        "ring": _ring(
            (49.090, 55.810),
            (49.120, 55.812),
            (49.160, 55.808),
            (49.190, 55.825),
            (49.170, 55.845),
            (49.110, 55.848),
            (49.080, 55.830),
        ),
        "fee": 14900,
        "free_from": 150000,
        "min_order": 70000,
        "minutes": 60,
        "priority": 10,
        "hours": {},
    },
    {
        "branch": "KZ2",
        "name": "Sovetsky & Privolzhsky",
        "color": "#6a1b9a",
        "ring": _ring(
            (49.160, 55.772),
            (49.175, 55.790),
            (49.230, 55.790),
            (49.265, 55.770),
            (49.255, 55.735),
            (49.200, 55.725),
            (49.150, 55.740),
        ),
        "fee": 9900,
        "free_from": 100000,
        "min_order": 50000,
        "minutes": 50,
        "priority": 10,
        "hours": {},
    },
    {
        "branch": "KZ2",
        "name": "Greater Kazan",
        "color": "#ef6c00",
        "ring": _ring(
            (49.000, 55.730),
            (49.080, 55.700),
            (49.200, 55.690),
            (49.320, 55.720),
            (49.330, 55.800),
            (49.260, 55.870),
            (49.120, 55.885),
            (49.010, 55.850),
            (48.990, 55.790),
        ),
        "fee": 24900,
        "free_from": 250000,
        "min_order": 100000,
        "minutes": 80,
        "priority": 0,
        "hours": {d: [["10:00", "22:00"]] for d in WEEK},
    },
)

#: Regular callers: phone, name, tags, notes, consent, address, orders (days ago, [(sku, qty)], final status).
CLIENTS: tuple[dict[str, Any], ...] = (
    {
        "phone": "+79171234567",
        "name": "Aigul Khasanova",
        "tags": ["regular", "VIP"],
        "notes": "Prefers Philadelphia without cucumber.",
        "consent": True,
        "address": services.AddressData(
            text="Kazan, Kremlyovskaya St, 21",
            street="Kremlyovskaya St",
            house="21",
            entrance="2",
            floor="4",
            apartment="5",
            intercom="5K",
            lat=55.7963,
            lon=49.1088,
        ),
        "orders": (
            (30, (("PZ-MARG", 1), ("SU-PHIL", 1), ("DR-COLA05", 2)), OrderStatus.DELIVERED),
            (12, (("PZ-PEPP", 1), ("SD-CAES", 1)), OrderStatus.DELIVERED),
            (3, (("SU-SET1", 1), ("SC-SOY", 2), ("DR-JUICE1", 1)), OrderStatus.DELIVERED),
        ),
    },
    {
        "phone": "+79876543210",
        "name": "Rustam Galiev",
        "tags": ["regular"],
        "notes": "",
        "consent": False,
        "address": services.AddressData(
            text="Kazan, Pobedy Ave, 100",
            street="Pobedy Ave",
            house="100",
            entrance="1",
            floor="9",
            apartment="112",
            lat=55.7521,
            lon=49.2120,
        ),
        "orders": (
            (20, (("PZ-BBQ", 2), ("DR-COLA05", 2)), OrderStatus.CANCELLED),
            (6, (("PZ-BBQ", 1), ("WK-CHK", 1), ("DS-TIRAM", 1)), OrderStatus.DELIVERED),
        ),
    },
    {
        "phone": "+79055551234",
        "name": "Elena Petrova",
        "tags": [],
        "notes": "Call ten minutes before arrival: a baby sleeps.",
        "consent": True,
        "address": services.AddressData(
            text="Kazan, Chistopolskaya St, 20",
            street="Chistopolskaya St",
            house="20",
            apartment="47",
            floor="7",
            lat=55.8215,
            lon=49.1282,
        ),
        "orders": ((9, (("PZ-4CH", 1), ("DS-CHEES", 2)), OrderStatus.DELIVERED),),
    },
)

PATH_TO = {
    OrderStatus.DELIVERED: (
        OrderStatus.CONFIRMED,
        OrderStatus.COOKING,
        OrderStatus.READY,
        OrderStatus.IN_DELIVERY,
        OrderStatus.DELIVERED,
    ),
    OrderStatus.CANCELLED: (OrderStatus.CANCELLED,),
}


def load(session: Session, kernel: Any) -> None:
    """Create the demo zones and regular callers that do not exist yet (idempotent)."""
    load_zones(session)
    load_clients(session, kernel)
    load_addresses(session)


#: The demo city's address directory: a small OpenStreetMap XML extract of central Kazan.
DEMO_ADDRESSES = Path(__file__).parent / "data" / "kazan_addresses.osm"


def load_addresses(session: Session) -> None:
    """Fill the offline address directory with the demo city's streets and houses (idempotent)."""
    from callcentre.address_sources import read_osm

    services.import_directory(session, read_osm(DEMO_ADDRESSES))


def load_zones(session: Session) -> None:
    """Create the demo zones that do not exist yet."""
    branches = {b.code: b for b in session.scalars(select(Branch))}
    known = {(z.branch_id, z.name) for z in session.scalars(select(DeliveryZone))}
    for spec in ZONES:
        branch = branches.get(spec["branch"])
        if branch is None or (branch.id, spec["name"]) in known:
            continue
        session.add(
            DeliveryZone(
                branch_id=branch.id,
                name=spec["name"],
                geometry={"type": "Polygon", "coordinates": [spec["ring"]]},
                delivery_fee=spec["fee"],
                free_delivery_from=spec["free_from"],
                min_order=spec["min_order"],
                delivery_minutes=spec["minutes"],
                opening_hours=spec["hours"],
                priority=spec["priority"],
                color=spec["color"],
            )
        )
    session.flush()


def load_clients(session: Session, kernel: Any) -> None:
    """Create the regular callers that do not exist yet, each with past orders taken the operator's way."""
    cache = kernel.extensions.find(ZONE_CACHE) or services.ZoneCache()
    region = kernel.settings.phone_region
    for spec in CLIENTS:
        if session.scalar(select(Client.id).where(Client.phone == spec["phone"])) is not None:
            continue
        client = services.create_client(
            session,
            spec["phone"],
            name=spec["name"],
            notes=spec["notes"],
            tags=spec["tags"],
            marketing_consent=spec["consent"],
            region=region,
        )
        address = services.add_address(session, client.id, spec["address"])
        for days_ago, lines, final in spec["orders"]:
            _past_order(session, kernel, cache, client, address.id, days_ago, lines, final)


def _past_order(
    session: Session,
    kernel: Any,
    cache: services.ZoneCache,
    client: Client,
    address_id: int,
    days_ago: int,
    lines: tuple[tuple[str, int], ...],
    final: OrderStatus,
) -> None:
    """An order taken ``days_ago`` at 13:00 Kazan time through the operator's path, then moved to ``final``."""
    local = dt.datetime.now(ZoneInfo("Europe/Moscow")).replace(hour=13, minute=0, second=0, microsecond=0)
    at = (local - dt.timedelta(days=days_ago)).astimezone(dt.UTC)
    order = services.take_order(
        session,
        services.TakeOrder(
            phone=client.phone,
            name=client.name,
            kind="delivery",
            address=services.AddressChoice(id=address_id),
            lines=[services.CartLine(quantity=qty, sku=sku) for sku, qty in lines],
            payment_kind="card_on_delivery",
        ),
        zones=cache.index(session),
        policies=kernel.extensions.all(PLACEMENT_POLICIES),
        region=kernel.settings.phone_region,
        currency=kernel.settings.currency,
        now=at,
    )
    moment = at
    for status in PATH_TO[final]:
        moment += dt.timedelta(minutes=12)
        reason = "The client changed plans." if status is OrderStatus.CANCELLED else None
        change_status(session, order.id, status, reason=reason, now=moment)
