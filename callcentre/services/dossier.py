"""The caller's dossier: the client, their phones, addresses, last orders, statistics and other packages' sections."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from callcentre.models import (
    Client,
    ClientAddress,
    ClientPhone,
    ClientStats,
)
from callcentre.services.addresses import addresses_of
from callcentre.services.clients import extra_phones, find_client, phone_or_422
from orders.models import REAL_ORDER, Order, OrderLine

log = logging.getLogger(__name__)

DOSSIER_ORDERS = 20

# Built once: the dossier is the hottest read of the operator's screen.
_ORDER_COLUMNS = (
    Order.id,
    Order.number,
    Order.business_date,
    Order.status,
    Order.kind,
    Order.branch_id,
    Order.created_at,
    Order.promised_at,
    Order.address_text,
    Order.payment_kind,
    Order.items_total,
    Order.delivery_fee,
    Order.total,
)
_ORDERS_OF_PHONE = (
    select(*_ORDER_COLUMNS)
    .where(Order.client_phone == bindparam("phone"), REAL_ORDER)
    .order_by(Order.created_at.desc(), Order.id.desc())
    .limit(bindparam("limit"))
)
_ORDERS_OF_PHONES = (
    select(*_ORDER_COLUMNS)
    .where(Order.client_phone.in_(bindparam("phones", expanding=True)), REAL_ORDER)
    .order_by(Order.created_at.desc(), Order.id.desc())
    .limit(bindparam("limit"))
)
_LINES_OF_ORDERS = (
    select(
        OrderLine.order_id,
        OrderLine.item_id,
        OrderLine.sku,
        OrderLine.name,
        OrderLine.quantity,
        OrderLine.unit_price,
        OrderLine.total,
        OrderLine.comment,
        OrderLine.modifiers,
    )
    .where(OrderLine.order_id.in_(bindparam("order_ids", expanding=True)))
    .order_by(OrderLine.order_id, OrderLine.position)
)


DossierContributor = Callable[[Session, "Client | None", str], dict[str, Any]]


@dataclass
class DossierOrder:
    """One past order as the dossier shows it (money in minor units)."""

    id: int
    number: str
    business_date: dt.date
    status: str
    kind: str
    branch_id: int
    created_at: dt.datetime
    promised_at: dt.datetime | None
    address_text: str
    payment_kind: str
    items_total: int
    delivery_fee: int
    total: int
    lines: list[Any] = field(default_factory=list)


@dataclass
class Dossier:
    """Everything the operator sees about a caller, read in one short query per block."""

    phone: str
    client: Client | None
    phones: list[ClientPhone]
    addresses: list[ClientAddress]
    orders: list[DossierOrder]
    stats: ClientStats | None
    sections: dict[str, Any]


def dossier(
    session: Session,
    raw_phone: str,
    *,
    region: str = "RU",
    contributors: Sequence[DossierContributor] = (),
) -> Dossier:
    """The caller's dossier by any common format of the number; 422 when it is not a phone number."""
    phone = phone_or_422(raw_phone, region)
    client = find_client(session, phone)
    phones: list[ClientPhone] = []
    addresses: list[ClientAddress] = []
    stats = None
    numbers = [phone]
    if client is not None:
        phones = extra_phones(session, client.id)
        numbers = [client.phone, *(p.phone for p in phones)]
        if phone not in numbers:
            numbers.append(phone)
        addresses = addresses_of(session, client.id)
        stats = session.get(ClientStats, client.id)
    orders = recent_orders(session, numbers)
    sections: dict[str, Any] = {}
    for contribute in contributors:
        try:
            sections.update(contribute(session, client, phone) or {})
        except Exception:  # one broken section must not hide the caller from the operator
            log.exception("dossier contributor %r failed for %s", contribute, phone)
    return Dossier(
        phone=phone,
        client=client,
        phones=phones,
        addresses=addresses,
        orders=orders,
        stats=stats,
        sections=sections,
    )


def recent_orders(session: Session, phones: Sequence[str], limit: int = DOSSIER_ORDERS) -> list[DossierOrder]:
    """The last orders placed from any of ``phones``, newest first, with their lines (two queries)."""
    if len(phones) == 1:
        rows = session.execute(_ORDERS_OF_PHONE, {"phone": phones[0], "limit": limit}).all()
    else:
        rows = session.execute(_ORDERS_OF_PHONES, {"phones": list(phones), "limit": limit}).all()
    orders = [DossierOrder(*row) for row in rows]
    if orders:
        by_id = {o.id: o for o in orders}
        for line in session.execute(_LINES_OF_ORDERS, {"order_ids": list(by_id)}):
            by_id[line.order_id].lines.append(line)
    return orders
