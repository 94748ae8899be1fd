"""Demo history for the monitor: eight delivered days in Kazan, so that the chart has a
"same day last week" to compare with, the loyalty list has regulars and the reports have rows.

The days are placed through the order services with their own clock (``now=`` of each step),
lunch and evening peaks, a pool of callers where a few order again and again, 45–75 minutes to
deliver against 60 promised, now and then a cancellation or a failed delivery. Orders carry
the comment ``[demo history]``; loading twice changes nothing. A regular always orders to the
same home; every client of the history gets the address of their latest order saved, so that
"repeat" in the call centre has somewhere to deliver.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from callcentre.services import AddressData, add_address, ensure_client
from frontoffice.db import utcnow
from frontoffice.errors import DomainError
from nomenclature.models import Item
from nomenclature.services import DELIVERY_SKU
from orders import services
from orders.models import Branch, Order

MARK = "[demo history]"
DAYS = 8
#: Orders per local hour on an ordinary weekday (Friday and Saturday get half as many again).
HOURLY = {10: 1, 11: 2, 12: 4, 13: 4, 14: 2, 15: 1, 16: 1, 17: 2, 18: 4, 19: 5, 20: 4, 21: 2, 22: 1}
#: The share of orders placed by the regulars below; the rest come from one-off callers.
REGULARS_SHARE = 0.3
CALLERS = (
    ("+79172001001", "Gulnara Safina"),
    ("+79172001002", "Ildar Mukhametov"),
    ("+79172001003", "Svetlana Orlova"),
    ("+79172001004", "Rinat Shakirov"),
    ("+79172001005", "Yulia Ivanova"),
    ("+79172001006", "Kamil Fayzullin"),
    ("+79172001007", "Natalia Smirnova"),
    ("+79172001008", "Azat Gimadiev"),
    ("+79172001009", "Regina Akhmetova"),
    ("+79172001010", "Oleg Kuznetsov"),
    ("+79172001011", "Leysan Garipova"),
    ("+79172001012", "Denis Morozov"),
    ("+79172001013", "Zulfiya Khairullina"),
    ("+79172001014", "Pavel Volkov"),
    ("+79172001015", "Albina Nigmatullina"),
    ("+79172001016", "Sergey Lebedev"),
    ("+79172001017", "Ayrat Sharipov"),
    ("+79172001018", "Maria Popova"),
)


def load(session: Session, kernel: Any) -> None:
    """Place the demo history unless it is there already."""
    if session.scalar(select(Order.id).where(Order.comment == MARK).limit(1)) is not None:
        return
    branches = list(session.scalars(select(Branch).where(Branch.active.is_(True)).order_by(Branch.id)))
    skus = list(
        session.scalars(
            select(Item.sku).where(Item.active.is_(True), Item.sku != DELIVERY_SKU).order_by(Item.sku)
        )
    )
    if not branches or not skus:
        return
    zone = ZoneInfo(kernel.settings.timezone if kernel is not None else "Europe/Moscow")
    rnd = random.Random(20240607)
    today = utcnow().astimezone(zone).date()
    weights = [1 / (i + 1) ** 0.5 for i in range(len(CALLERS))]
    homes = _homes(branches)
    for back in range(DAYS, 0, -1):
        day = today - dt.timedelta(days=back)
        busy = 1.5 if day.weekday() in (4, 5) else 1.0
        for hour, per_hour in HOURLY.items():
            for _ in range(round(per_hour * busy * rnd.uniform(0.6, 1.4))):
                local = dt.datetime(day.year, day.month, day.day, hour, rnd.randrange(60), tzinfo=zone)
                if rnd.random() < REGULARS_SHARE:
                    phone, name = rnd.choices(CALLERS, weights)[0]
                else:  # someone who calls once
                    phone, name = (
                        f"+7917{rnd.randrange(1_000_000, 9_999_999)}",
                        rnd.choice(CALLERS)[1].split()[0],
                    )
                _one_order(
                    session, rnd, rnd.choice(branches), skus, phone, name, local.astimezone(dt.UTC), homes
                )
    _save_addresses(session)


def _homes(branches: list[Branch]) -> dict[str, tuple[str, float, float]]:
    """Each regular caller's home: address text and coordinates near one branch."""
    rnd = random.Random(20240608)
    homes = {}
    for phone, _name in CALLERS:
        branch = rnd.choice(branches)
        homes[phone] = (_street(rnd), *_near(rnd, branch))
    return homes


def _street(rnd: random.Random) -> str:
    return f"Kazan, {rnd.randrange(1, 150)} {rnd.choice(('Baumana St', 'Pushkina St', 'Pobedy Ave'))}"


def _near(rnd: random.Random, branch: Branch) -> tuple[float, float]:
    """A point within 2.2 km of the branch, denser near it."""
    r = 2200 * math.sqrt(rnd.random())
    angle = rnd.uniform(0, 2 * math.pi)
    lat = branch.lat + r * math.cos(angle) / 111_320
    lon = branch.lon + r * math.sin(angle) / (111_320 * math.cos(math.radians(branch.lat)))
    return round(lat, 6), round(lon, 6)


def _save_addresses(session: Session) -> None:
    """Make each demo client (dated by their first order) with their latest order's address saved."""
    first: dict[str, Order] = {}
    latest: dict[str, Order] = {}
    for order in session.scalars(select(Order).where(Order.comment == MARK).order_by(Order.created_at)):
        first.setdefault(order.client_phone, order)
        latest[order.client_phone] = order
    for phone, order in latest.items():
        if not order.address_text:
            continue
        # The call centre's statistics make the client after this commit; make it now, as of the first order.
        client = ensure_client(session, phone, order.client_name, first[phone].created_at)
        data = AddressData(text=order.address_text, lat=order.lat, lon=order.lon)
        add_address(session, client.id, data, used=True, now=order.created_at)


def _one_order(
    session: Session,
    rnd: random.Random,
    branch: Branch,
    skus: list[str],
    phone: str,
    name: str,
    created: dt.datetime,
    homes: dict[str, tuple[str, float, float]],
) -> None:
    lat, lon = _near(rnd, branch)
    text = _street(rnd)
    text, lat, lon = homes.get(phone, (text, lat, lon))
    cmd = services.PlaceOrder(
        branch_id=branch.id,
        client_phone=phone,
        client_name=name,
        address_text=text,
        lat=lat,
        lon=lon,
        payment_kind=rnd.choice(("cash", "card_on_delivery", "prepaid")),
        comment=MARK,
        promised_at=created + dt.timedelta(minutes=60),
        lines=[
            services.LineRequest(quantity=rnd.choice((1, 1, 2)), sku=sku)
            for sku in rnd.sample(skus, k=min(len(skus), rnd.choice((1, 2, 3))))
        ],
    )
    try:
        order = services.place_order(session, cmd, now=created)
    except DomainError:
        return  # refused before anything is written (an item that needs options): skip that caller
    fate = rnd.random()
    minute = dt.timedelta(minutes=1)
    steps: list[tuple[str, dt.timedelta, str | None]]
    if fate < 0.04:
        steps = [("cancelled", 4 * minute, "The client called to cancel")]
    else:
        took = dt.timedelta(minutes=rnd.uniform(30, 55) if fate < 0.8 else rnd.uniform(55, 95))
        steps = [
            ("confirmed", 2 * minute, None),
            ("cooking", 4 * minute, None),
            ("ready", took * 0.55, None),
            ("in_delivery", took * 0.6, None),
            ("failed", took, "Nobody at the door") if fate > 0.985 else ("delivered", took, None),
        ]
    for status, after, reason in steps:
        services.change_status(session, order.id, status, now=created + after, reason=reason)
