"""Call-centre use cases: clients and their dossier, statistics, merging, zones, geocoder cache, order entry.

Every function takes a ``Session`` and plain arguments, raises domain errors and
never commits: the caller's unit of work does. Refusals are raised before the first
write, so a refused order leaves no client, address or order behind.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from geopy.distance import geodesic
from sqlalchemy import bindparam, case, func, select, update
from sqlalchemy.orm import Session

from callcentre import promising
from callcentre.geocoding import Candidate
from callcentre.matching import InvalidPhone, match_phone, normalize_text
from callcentre.models import (
    Client,
    ClientAddress,
    ClientOrderFact,
    ClientPhone,
    ClientStats,
    DeliveryZone,
    GeocodeCacheEntry,
)
from callcentre.zones import WeeklyHours, ZoneError, ZoneIndex, ZoneRule, normalized_geojson, parse_geometry
from frontoffice.db import UTCDateTime, upsert, utcnow
from frontoffice.errors import Conflict, InvalidInput, NotFound
from frontoffice.money import format_money, from_minor
from nomenclature.services import LineChoice, items_for_lines, price_items, stopped_items
from orders.models import Branch, Order, OrderLine
from orders.services import LineRequest, OrderDraft, PlacementPolicy, PlaceOrder, place_order
from orders.states import ACTIVE, OrderStatus

log = logging.getLogger(__name__)

DOSSIER_ORDERS = 20
DOSSIER_ADDRESSES = 20
MAX_MERGE_DEPTH = 5
GEOCODE_CACHE_DAYS = 30
#: Facts the statistics count, keyed by the order status that produces them.
STATUS_FACTS = {OrderStatus.DELIVERED.value: "delivered", OrderStatus.CANCELLED.value: "cancelled"}


def _err(field_name: str, message: str, code: str = "value_error", **params: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"field": field_name, "message": message, "type": code}
    if params:
        out["params"] = params
    return out


def _phone_or_422(raw: str, region: str, field_name: str = "phone") -> str:
    try:
        return match_phone(raw, region)
    except InvalidPhone as exc:
        raise InvalidInput(str(exc), errors=[_err(field_name, str(exc), "invalid_phone")]) from None


# --- clients ----------------------------------------------------------------------------------


def _follow_merges(session: Session, client: Client | None) -> Client | None:
    depth = 0
    while client is not None and client.merged_into_id is not None and depth < MAX_MERGE_DEPTH:
        client = session.get(Client, client.merged_into_id)
        depth += 1
    return client


# The dossier's statements are built once: it is the hottest read of the operator's screen.
_CLIENT_BY_PHONE = select(Client).where(Client.phone == bindparam("phone"))
_CLIENT_BY_EXTRA_PHONE = (
    select(Client)
    .join(ClientPhone, ClientPhone.client_id == Client.id)
    .where(ClientPhone.phone == bindparam("phone"))
)
_EXTRA_PHONES = (
    select(ClientPhone).where(ClientPhone.client_id == bindparam("client_id")).order_by(ClientPhone.id)
)
_ADDRESSES = (
    select(ClientAddress)
    .where(ClientAddress.client_id == bindparam("client_id"))
    .order_by(ClientAddress.last_used_at.desc().nulls_last(), ClientAddress.id.desc())
    .limit(bindparam("limit"))
)
_ORDER_COLUMNS = (
    Order.id,
    Order.number,
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
    .where(Order.client_phone == bindparam("phone"))
    .order_by(Order.created_at.desc(), Order.id.desc())
    .limit(bindparam("limit"))
)
_ORDERS_OF_PHONES = (
    select(*_ORDER_COLUMNS)
    .where(Order.client_phone.in_(bindparam("phones", expanding=True)))
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


def find_client(session: Session, phone: str) -> Client | None:
    """The live client with this E.164 number, as main or extra phone (merged duplicates resolved)."""
    client = session.scalars(_CLIENT_BY_PHONE, {"phone": phone}).first()
    if client is None:
        client = session.scalars(_CLIENT_BY_EXTRA_PHONE, {"phone": phone}).first()
    return _follow_merges(session, client)


def get_client(session: Session, client_id: int) -> Client:
    """The client, or :class:`NotFound`."""
    client = session.get(Client, client_id)
    if client is None:
        raise NotFound(f"There is no client {client_id}.")
    return client


def extra_phones(session: Session, client_id: int) -> list[ClientPhone]:
    """A client's other numbers, oldest first."""
    return list(session.scalars(_EXTRA_PHONES, {"client_id": client_id}))


def _phone_owner(session: Session, phone: str) -> int | None:
    owner = session.scalar(select(Client.id).where(Client.phone == phone))
    if owner is None:
        owner = session.scalar(select(ClientPhone.client_id).where(ClientPhone.phone == phone))
    return owner


def _check_phone_free(session: Session, phone: str, client_id: int | None, field_name: str) -> None:
    owner = _phone_owner(session, phone)
    if owner is not None and owner != client_id:
        raise Conflict(
            f"The number {phone} already belongs to client {owner}.",
            errors=[_err(field_name, f"Already the number of client {owner}.", "phone_taken")],
            client_id=owner,
        )


def _clean_tags(tags: Iterable[str]) -> list[str]:
    out: list[str] = []
    for tag in tags:
        tag = " ".join(str(tag).split())[:40]
        if tag and tag not in out:
            out.append(tag)
    return out[:30]


@dataclass(frozen=True)
class PhoneEntry:
    """An extra phone as asked for."""

    phone: str
    label: str = ""


def create_client(
    session: Session,
    phone: str,
    *,
    name: str = "",
    notes: str = "",
    tags: Sequence[str] = (),
    marketing_consent: bool = False,
    phones: Sequence[PhoneEntry] = (),
    region: str = "RU",
    now: dt.datetime | None = None,
) -> Client:
    """A new client; 409 if the number (or an extra one) is already someone's."""
    now = now or utcnow()
    main = _phone_or_422(phone, region)
    _check_phone_free(session, main, None, "phone")
    extras: list[tuple[str, str]] = []
    for i, entry in enumerate(phones):
        number = _phone_or_422(entry.phone, region, f"phones.{i}.phone")
        if number == main or number in (e[0] for e in extras):
            continue
        _check_phone_free(session, number, None, f"phones.{i}.phone")
        extras.append((number, entry.label.strip()[:60]))
    client = Client(
        phone=main,
        name=name.strip(),
        notes=notes.strip(),
        tags=_clean_tags(tags),
        marketing_consent=marketing_consent,
        created_at=now,
        updated_at=now,
    )
    session.add(client)
    session.flush()
    for number, label in extras:
        session.add(ClientPhone(client_id=client.id, phone=number, label=label, created_at=now))
    session.flush()
    return client


def ensure_client(session: Session, phone: str, name: str = "", now: dt.datetime | None = None) -> Client:
    """The client of an E.164 number, created (race-free) when the number is new."""
    client = find_client(session, phone)
    if client is not None:
        return client
    now = now or utcnow()
    table = Client.__table__
    session.execute(
        upsert(
            session,
            table,
            {
                "phone": phone,
                "name": name.strip()[:200],
                "notes": "",
                "tags": [],
                "marketing_consent": False,
                "created_at": now,
                "updated_at": now,
            },
            ["phone"],
        )
    )
    client = find_client(session, phone)
    assert client is not None
    return client


_UNSET: Any = object()


def update_client(
    session: Session,
    client_id: int,
    *,
    phone: str = _UNSET,
    name: str = _UNSET,
    notes: str = _UNSET,
    tags: Sequence[str] = _UNSET,
    marketing_consent: bool = _UNSET,
    phones: Sequence[PhoneEntry] = _UNSET,
    region: str = "RU",
    now: dt.datetime | None = None,
) -> Client:
    """Change what is given. A new main number keeps the old one as an extra phone; ``phones`` replaces the extras."""
    now = now or utcnow()
    client = get_client(session, client_id)
    if client.merged_into_id is not None:
        raise Conflict(
            f"Client {client_id} was merged into client {client.merged_into_id}; edit that one.",
            merged_into_id=client.merged_into_id,
        )
    current_extras = extra_phones(session, client.id)
    if phones is not _UNSET:
        wanted: list[tuple[str, str]] = []
        for i, entry in enumerate(phones):
            number = _phone_or_422(entry.phone, region, f"phones.{i}.phone")
            if number == client.phone or number in (w[0] for w in wanted):
                continue
            _check_phone_free(session, number, client.id, f"phones.{i}.phone")
            wanted.append((number, entry.label.strip()[:60]))
        by_number = {p.phone: p for p in current_extras}
        for p in current_extras:
            if p.phone not in {w[0] for w in wanted}:
                session.delete(p)
        for number, label in wanted:
            if number in by_number:
                by_number[number].label = label
            else:
                session.add(ClientPhone(client_id=client.id, phone=number, label=label, created_at=now))
        session.flush()
        current_extras = extra_phones(session, client.id)
    if phone is not _UNSET:
        number = _phone_or_422(phone, region)
        if number != client.phone:
            _check_phone_free(session, number, client.id, "phone")
            old = client.phone
            for p in current_extras:
                if p.phone == number:
                    session.delete(p)
            session.flush()
            client.phone = number
            session.flush()
            session.add(
                ClientPhone(client_id=client.id, phone=old, label="previous main number", created_at=now)
            )
    if name is not _UNSET:
        client.name = name.strip()
    if notes is not _UNSET:
        client.notes = notes.strip()
    if tags is not _UNSET:
        client.tags = _clean_tags(tags)
    if marketing_consent is not _UNSET:
        client.marketing_consent = marketing_consent
    client.updated_at = now
    session.flush()
    return client


# --- addresses --------------------------------------------------------------------------------

ADDRESS_FIELDS = ("text", "street", "house", "entrance", "floor", "apartment", "intercom", "comment")


@dataclass(frozen=True)
class AddressData:
    """An address as typed: the text, its parts, optional coordinates."""

    text: str = ""
    street: str = ""
    house: str = ""
    entrance: str = ""
    floor: str = ""
    apartment: str = ""
    intercom: str = ""
    comment: str = ""
    lat: float | None = None
    lon: float | None = None

    def display(self) -> str:
        """One line for the courier: the text plus the details that are not in it already."""
        parts = [self.text.strip() or ", ".join(p for p in (self.street, self.house) if p)]
        for label, value in (
            ("apt", self.apartment),
            ("entrance", self.entrance),
            ("floor", self.floor),
            ("intercom", self.intercom),
        ):
            if value.strip():
                parts.append(f"{label} {value.strip()}")
        text = ", ".join(p for p in parts if p)
        if self.comment.strip():
            text += f" ({self.comment.strip()})"
        return text[:500]


def _check_coordinates(lat: float | None, lon: float | None, field_name: str) -> None:
    if (lat is None) != (lon is None):
        raise InvalidInput(
            "Give both coordinates or none.",
            errors=[_err(field_name, "Give both latitude and longitude, or neither.", "coordinates")],
        )


def _same_place(a: ClientAddress, data: AddressData) -> bool:
    return normalize_text(a.text) == normalize_text(data.text) and normalize_text(
        a.apartment
    ) == normalize_text(data.apartment)


def add_address(
    session: Session,
    client_id: int,
    data: AddressData,
    *,
    zone_id: int | None = None,
    used: bool = False,
    now: dt.datetime | None = None,
) -> ClientAddress:
    """Save an address of a client; the same text and apartment updates the saved one instead of doubling it."""
    now = now or utcnow()
    client = get_client(session, client_id)
    if not data.text.strip():
        raise InvalidInput(
            "An address needs its text.", errors=[_err("address.text", "Type the address.", "required")]
        )
    _check_coordinates(data.lat, data.lon, "address.lat")
    existing = next(
        (
            a
            for a in session.scalars(select(ClientAddress).where(ClientAddress.client_id == client.id))
            if _same_place(a, data)
        ),
        None,
    )
    address = existing or ClientAddress(client_id=client.id, created_at=now, text="")
    for name in ADDRESS_FIELDS:
        value = getattr(data, name).strip()
        if value or existing is None:
            setattr(address, name, value)
    if data.lat is not None:
        address.lat, address.lon = data.lat, data.lon
    if zone_id is not None or data.lat is not None:
        address.zone_id = zone_id
    if used:
        address.last_used_at = now
    if existing is None:
        session.add(address)
    session.flush()
    return address


def get_address(session: Session, client_id: int, address_id: int) -> ClientAddress:
    """One address of a client, or :class:`NotFound`."""
    address = session.get(ClientAddress, address_id)
    if address is None or address.client_id != client_id:
        raise NotFound(f"Client {client_id} has no address {address_id}.")
    return address


def update_address(
    session: Session,
    client_id: int,
    address_id: int,
    changes: dict[str, Any],
    *,
    zones: ZoneIndex | None = None,
) -> ClientAddress:
    """Change the given fields of an address; new coordinates re-resolve its zone."""
    address = get_address(session, client_id, address_id)
    for name in ADDRESS_FIELDS:
        if name in changes and changes[name] is not None:
            setattr(address, name, str(changes[name]).strip())
    if not address.text:
        raise InvalidInput(
            "An address needs its text.", errors=[_err("text", "Type the address.", "required")]
        )
    if "lat" in changes or "lon" in changes:
        lat, lon = changes.get("lat", address.lat), changes.get("lon", address.lon)
        _check_coordinates(lat, lon, "lat")
        address.lat, address.lon = lat, lon
        zone = zones.locate(lat, lon) if zones is not None and lat is not None and lon is not None else None
        address.zone_id = zone.id if zone else None
    session.flush()
    return address


def addresses_of(session: Session, client_id: int, limit: int = DOSSIER_ADDRESSES) -> list[ClientAddress]:
    """A client's addresses, the most recently used first."""
    return list(session.scalars(_ADDRESSES, {"client_id": client_id, "limit": limit}))


# --- merging ----------------------------------------------------------------------------------


def merge_clients(session: Session, keep_id: int, merge_id: int, *, now: dt.datetime | None = None) -> Client:
    """Fold the duplicate ``merge_id`` into ``keep_id``: phones, addresses, notes, tags, history and stats move.

    The duplicate stays as a row marked ``merged_into_id`` (so references and the
    monitor's SQL still resolve); its main number becomes an extra phone of the survivor.
    """
    now = now or utcnow()
    if keep_id == merge_id:
        raise InvalidInput(
            "A client cannot be merged into itself.", errors=[_err("merge_id", "Choose another client.")]
        )
    keep = get_client(session, keep_id)
    other = get_client(session, merge_id)
    for who, c in (("keep_id", keep), ("merge_id", other)):
        if c.merged_into_id is not None:
            raise Conflict(
                f"Client {c.id} was already merged into client {c.merged_into_id}.",
                errors=[_err(who, "Already merged.", "already_merged")],
            )
    session.execute(update(ClientPhone).where(ClientPhone.client_id == other.id).values(client_id=keep.id))
    session.execute(
        update(ClientAddress).where(ClientAddress.client_id == other.id).values(client_id=keep.id)
    )
    session.execute(
        update(ClientOrderFact).where(ClientOrderFact.client_id == other.id).values(client_id=keep.id)
    )
    session.execute(update(Client).where(Client.merged_into_id == other.id).values(merged_into_id=keep.id))
    session.add(
        ClientPhone(
            client_id=keep.id, phone=other.phone, label=f"merged from client {other.id}", created_at=now
        )
    )

    theirs = session.get(ClientStats, other.id)
    if theirs is not None:
        mine = _stats_row(session, keep.id)
        mine.orders_count += theirs.orders_count
        mine.delivered_count += theirs.delivered_count
        mine.cancelled_count += theirs.cancelled_count
        mine.total_spent += theirs.total_spent
        firsts = [t for t in (mine.first_order_at, theirs.first_order_at) if t is not None]
        lasts = [t for t in (mine.last_order_at, theirs.last_order_at) if t is not None]
        mine.first_order_at = min(firsts) if firsts else None
        mine.last_order_at = max(lasts) if lasts else None
        session.delete(theirs)

    if not keep.name and other.name:
        keep.name = other.name
    if other.notes and other.notes not in keep.notes:
        keep.notes = f"{keep.notes}\n{other.notes}".strip()
    keep.tags = _clean_tags([*(keep.tags or []), *(other.tags or [])])
    # Consent must have been given on both records: a refusal on either number stands.
    keep.marketing_consent = bool(keep.marketing_consent and other.marketing_consent)
    keep.updated_at = now
    other.merged_into_id = keep.id
    other.merged_at = now
    other.updated_at = now
    session.flush()
    return keep


# --- statistics (the order-event subscriber) --------------------------------------------------


def _stats_row(session: Session, client_id: int) -> ClientStats:
    session.execute(upsert(session, ClientStats.__table__, {"client_id": client_id}, ["client_id"]))
    row = session.get(ClientStats, client_id, populate_existing=True)
    assert row is not None
    return row


def _record_fact(session: Session, order: Any, client_id: int, fact: str, now: dt.datetime) -> bool:
    table = ClientOrderFact.__table__
    inserted = session.execute(
        upsert(
            session,
            table,
            {"order_id": order.id, "fact": fact, "client_id": client_id, "at": now},
            ["order_id", "fact"],
        ).returning(table.c.order_id)
    ).first()
    if inserted is None:
        return False
    session.execute(upsert(session, ClientStats.__table__, {"client_id": client_id}, ["client_id"]))
    params = {"p_client": client_id, "p_at": order.created_at, "p_total": order.total}
    session.execute(_COUNT_FACT[fact], params)
    return True


def _count_fact_statements() -> dict[str, Any]:
    """The UPDATE of a client's statistics for each fact, built once (parameters p_client, p_at, p_total)."""
    s = ClientStats
    at = bindparam("p_at", type_=UTCDateTime())
    by_client = update(ClientStats).where(ClientStats.client_id == bindparam("p_client"))
    return {
        "placed": by_client.values(
            orders_count=s.orders_count + 1,
            first_order_at=case(
                (s.first_order_at.is_(None) | (s.first_order_at > at), at), else_=s.first_order_at
            ),
            last_order_at=case(
                (s.last_order_at.is_(None) | (s.last_order_at < at), at), else_=s.last_order_at
            ),
        ),
        "delivered": by_client.values(
            delivered_count=s.delivered_count + 1,
            total_spent=s.total_spent + bindparam("p_total", type_=s.total_spent.type),
        ),
        "cancelled": by_client.values(cancelled_count=s.cancelled_count + 1),
    }


_COUNT_FACT = _count_fact_statements()
_ORDER_FOR_FACT = select(
    Order.id, Order.client_phone, Order.client_name, Order.total, Order.created_at
).where(Order.id == bindparam("order_id"))


def record_order_fact(
    session: Session, order_id: int, status: str, *, now: dt.datetime | None = None
) -> bool:
    """Count one order event in its client's statistics, creating the client on a first order.

    ``status`` is ``"placed"`` or the order's new status. Idempotent per order and
    fact: a replayed event changes nothing and returns False. A delivery or a
    cancellation also counts the order as placed if that was missed.
    """
    now = now or utcnow()
    fact = "placed" if status == "placed" else STATUS_FACTS.get(status)
    if fact is None:
        return False
    order = session.execute(_ORDER_FOR_FACT, {"order_id": order_id}).first()
    if order is None:
        return False
    client = ensure_client(session, order.client_phone, order.client_name, now)
    changed = False
    if fact != "placed":
        changed = _record_fact(session, order, client.id, "placed", now)
    return _record_fact(session, order, client.id, fact, now) or changed


def rebuild_stats(session: Session, client_id: int) -> ClientStats:
    """Recount a client's statistics from the facts already recorded (repair tool)."""
    rows = session.execute(
        select(ClientOrderFact.fact, Order.total, Order.created_at)
        .join(Order, Order.id == ClientOrderFact.order_id)
        .where(ClientOrderFact.client_id == client_id)
    ).all()
    stats = _stats_row(session, client_id)
    placed = [r for r in rows if r.fact == "placed"]
    stats.orders_count = len(placed)
    stats.delivered_count = sum(1 for r in rows if r.fact == "delivered")
    stats.cancelled_count = sum(1 for r in rows if r.fact == "cancelled")
    stats.total_spent = sum(r.total for r in rows if r.fact == "delivered")
    stats.first_order_at = min((r.created_at for r in placed), default=None)
    stats.last_order_at = max((r.created_at for r in placed), default=None)
    session.flush()
    return stats


# --- the dossier ------------------------------------------------------------------------------

DossierContributor = Callable[[Session, "Client | None", str], dict[str, Any]]


@dataclass
class DossierOrder:
    """One past order as the dossier shows it (money in minor units)."""

    id: int
    number: str
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
    phone = _phone_or_422(raw_phone, region)
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


# --- zones ------------------------------------------------------------------------------------


def _rule(zone: DeliveryZone) -> ZoneRule:
    try:
        hours = WeeklyHours.parse(zone.opening_hours)
    except ZoneError:
        log.warning("zone %s has unreadable opening hours; treated as the branch's", zone.id)
        hours = WeeklyHours(always=True)
    return ZoneRule(
        id=zone.id,
        branch_id=zone.branch_id,
        name=zone.name,
        shape=parse_geometry(zone.geometry),
        delivery_fee=zone.delivery_fee,
        free_delivery_from=zone.free_delivery_from,
        min_order=zone.min_order,
        delivery_minutes=zone.delivery_minutes,
        hours=hours,
        priority=zone.priority,
        active=zone.active,
    )


def zone_rules(session: Session) -> list[ZoneRule]:
    """Every active zone compiled (a zone whose stored geometry became unreadable is skipped and logged)."""
    out = []
    for zone in session.scalars(
        select(DeliveryZone).where(DeliveryZone.active.is_(True)).order_by(DeliveryZone.id)
    ):
        try:
            out.append(_rule(zone))
        except ZoneError as exc:
            log.error("zone %s (%s) skipped: %s", zone.id, zone.name, exc)
    return out


class ZoneCache:
    """The compiled zone index kept in the kernel, rebuilt when the zones table changes.

    Each use costs one tiny aggregate query (count, max id, max updated_at), which also
    notices changes made by other processes.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stamp: tuple[Any, ...] | None = None
        self._index = ZoneIndex([])

    def index(self, session: Session) -> ZoneIndex:
        """The index matching the zones table as this session sees it."""
        stamp = tuple(
            session.execute(
                select(
                    func.count(DeliveryZone.id), func.max(DeliveryZone.id), func.max(DeliveryZone.updated_at)
                )
            ).one()
        )
        if stamp == self._stamp:
            return self._index
        index = ZoneIndex(zone_rules(session))
        with self._lock:
            self._index, self._stamp = index, stamp
        return index

    def invalidate(self) -> None:
        """Forget the compiled index (the next use rebuilds it)."""
        with self._lock:
            self._stamp = None


def list_zones(
    session: Session, *, branch_id: int | None = None, active: bool | None = None
) -> list[DeliveryZone]:
    """Zones by branch then priority (highest first) then name."""
    stmt = select(DeliveryZone)
    if branch_id is not None:
        stmt = stmt.where(DeliveryZone.branch_id == branch_id)
    if active is not None:
        stmt = stmt.where(DeliveryZone.active.is_(active))
    return list(
        session.scalars(
            stmt.order_by(DeliveryZone.branch_id, DeliveryZone.priority.desc(), DeliveryZone.name)
        )
    )


@dataclass(frozen=True)
class ZoneSpec:
    """One zone of a GeoJSON import (money in minor units); ``where`` is its path in the document."""

    where: str
    name: str
    geometry: Any
    id: int | None = None
    branch_id: int | None = None
    branch_code: str | None = None
    delivery_fee: int = 0
    free_delivery_from: int | None = None
    min_order: int = 0
    delivery_minutes: int = 60
    opening_hours: dict[str, Any] = field(default_factory=dict)
    priority: int = 0
    active: bool = True
    color: str = ""


@dataclass
class ZoneImport:
    """What an import did."""

    created: list[DeliveryZone]
    updated: list[DeliveryZone]
    deleted: list[int]


def import_zones(
    session: Session, specs: Sequence[ZoneSpec], *, replace: bool = False, now: dt.datetime | None = None
) -> ZoneImport:
    """Create or update zones from a validated GeoJSON import; all-or-nothing, every problem reported.

    A feature with ``id`` updates that zone; otherwise one with the same branch and
    name is updated, else a zone is created. ``replace`` deletes the zones the import
    does not mention.
    """
    now = now or utcnow()
    errors: list[dict[str, Any]] = []
    branches = {b.id: b for b in session.scalars(select(Branch))}
    by_code = {b.code: b for b in branches.values()}
    existing = {z.id: z for z in session.scalars(select(DeliveryZone))}
    by_name = {(z.branch_id, z.name): z for z in existing.values()}
    plans: list[tuple[ZoneSpec, int, dict[str, Any], DeliveryZone | None]] = []
    seen: dict[tuple[int, str], str] = {}
    for spec in specs:
        where = spec.where
        branch = None
        if spec.branch_id is not None:
            branch = branches.get(spec.branch_id)
            if branch is None:
                errors.append(
                    _err(
                        f"{where}.properties.branch_id", f"Unknown branch {spec.branch_id}.", "unknown_branch"
                    )
                )
                continue
            if spec.branch_code is not None and spec.branch_code != branch.code:
                errors.append(
                    _err(
                        f"{where}.properties.branch",
                        f"Branch {spec.branch_code!r} does not match branch_id {spec.branch_id} ({branch.code}).",
                        "branch_mismatch",
                    )
                )
                continue
        elif spec.branch_code is not None:
            branch = by_code.get(spec.branch_code)
            if branch is None:
                errors.append(
                    _err(
                        f"{where}.properties.branch",
                        f"Unknown branch {spec.branch_code!r}.",
                        "unknown_branch",
                    )
                )
                continue
        else:
            errors.append(
                _err(
                    f"{where}.properties.branch_id", "Name the branch (branch_id or branch code).", "required"
                )
            )
            continue
        try:
            geometry = normalized_geojson(spec.geometry)
        except ZoneError as exc:
            field_name = (
                exc.field.replace("geometry", f"{where}.geometry", 1) if exc.field else f"{where}.geometry"
            )
            errors.append(_err(field_name, exc.message, "invalid_geometry"))
            continue
        try:
            hours = WeeklyHours.parse(spec.opening_hours).to_json()
        except ZoneError as exc:
            errors.append(_err(f"{where}.properties.{exc.field}", exc.message, "invalid_hours"))
            continue
        if spec.free_delivery_from is not None and spec.free_delivery_from < spec.min_order:
            errors.append(
                _err(
                    f"{where}.properties.free_delivery_from",
                    "Free delivery cannot start below the minimum order.",
                    "value_error",
                )
            )
            continue
        key = (branch.id, spec.name)
        if key in seen:
            errors.append(
                _err(f"{where}.properties.name", f"Same branch and name as {seen[key]}.", "duplicate_zone")
            )
            continue
        seen[key] = where
        target = None
        if spec.id is not None:
            target = existing.get(spec.id)
            if target is None:
                errors.append(_err(f"{where}.properties.id", f"There is no zone {spec.id}.", "unknown_zone"))
                continue
        else:
            target = by_name.get(key)
        clash = by_name.get(key)
        if clash is not None and target is not None and clash.id != target.id:
            errors.append(
                _err(
                    f"{where}.properties.name",
                    f"Zone {clash.id} of this branch already has that name.",
                    "duplicate_zone",
                )
            )
            continue
        plans.append((spec, branch.id, {"geometry": geometry, "opening_hours": hours}, target))
    if errors:
        raise InvalidInput(f"The zones were not imported: {len(errors)} problem(s).", errors=errors)

    created: list[DeliveryZone] = []
    updated: list[DeliveryZone] = []
    deleted: list[int] = []
    if replace:
        keep = {t.id for *_, t in plans if t is not None}
        for zone in existing.values():
            if zone.id not in keep:
                deleted.append(zone.id)
                session.delete(zone)
        session.flush()
    # Renames could swap names between zones: park the updated ones' names first.
    for spec, _branch_id, _extra, target in plans:
        if target is not None and target.name != spec.name:
            target.name = f"~import~{target.id}"
    session.flush()
    for spec, branch_id, extra, target in plans:
        zone = target or DeliveryZone(created_at=now)
        zone.branch_id = branch_id
        zone.name = spec.name
        zone.geometry = extra["geometry"]
        zone.opening_hours = extra["opening_hours"]
        zone.delivery_fee = spec.delivery_fee
        zone.free_delivery_from = spec.free_delivery_from
        zone.min_order = spec.min_order
        zone.delivery_minutes = spec.delivery_minutes
        zone.priority = spec.priority
        zone.active = spec.active
        zone.color = spec.color
        zone.updated_at = now
        if target is None:
            session.add(zone)
            created.append(zone)
        else:
            updated.append(zone)
    session.flush()
    return ZoneImport(created=created, updated=updated, deleted=deleted)


def _money(minor: int | None) -> str | None:
    return None if minor is None else str(from_minor(minor))


def zone_feature(zone: DeliveryZone, branch_code: str | None = None) -> dict[str, Any]:
    """A zone as a GeoJSON Feature (money as decimal strings), the format :func:`import_zones` reads."""
    return {
        "type": "Feature",
        "id": zone.id,
        "geometry": zone.geometry,
        "properties": {
            "id": zone.id,
            "branch_id": zone.branch_id,
            "branch": branch_code,
            "name": zone.name,
            "delivery_fee": _money(zone.delivery_fee),
            "free_delivery_from": _money(zone.free_delivery_from),
            "min_order": _money(zone.min_order),
            "delivery_minutes": zone.delivery_minutes,
            "opening_hours": zone.opening_hours,
            "priority": zone.priority,
            "active": zone.active,
            "color": zone.color,
        },
    }


def export_zones(session: Session) -> dict[str, Any]:
    """Every zone as a GeoJSON FeatureCollection."""
    codes = {row.id: row.code for row in session.execute(select(Branch.id, Branch.code))}
    return {
        "type": "FeatureCollection",
        "features": [zone_feature(z, codes.get(z.branch_id)) for z in list_zones(session)],
    }


# --- geocoder cache ---------------------------------------------------------------------------


def cached_geocode(
    session: Session, provider: str, key: str, *, now: dt.datetime | None = None
) -> list[Candidate] | None:
    """The cached answer to a normalized query (younger than 30 days), or None."""
    now = now or utcnow()
    row = session.scalars(
        select(GeocodeCacheEntry).where(
            GeocodeCacheEntry.provider == provider, GeocodeCacheEntry.query == key
        )
    ).first()
    if row is None or row.created_at < now - dt.timedelta(days=GEOCODE_CACHE_DAYS):
        return None
    return [Candidate(text=c["text"], lat=c["lat"], lon=c["lon"]) for c in row.results]


def store_geocode(
    session: Session,
    provider: str,
    key: str,
    candidates: Sequence[Candidate],
    *,
    now: dt.datetime | None = None,
) -> None:
    """Remember the geocoder's answer to a normalized query (replacing an older one)."""
    now = now or utcnow()
    session.execute(
        upsert(
            session,
            GeocodeCacheEntry.__table__,
            {
                "provider": provider,
                "query": key,
                "results": [c.to_json() for c in candidates],
                "created_at": now,
            },
            ["provider", "query"],
            update={
                "results": lambda st: st.excluded.results,
                "created_at": lambda st: st.excluded.created_at,
            },
        )
    )


# --- order entry ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CartLine:
    """A line of the operator's cart: an item by SKU or id, quantity, chosen modifier option ids, a comment."""

    quantity: int
    sku: str | None = None
    item_id: int | None = None
    modifiers: tuple[int, ...] = ()
    comment: str = ""


@dataclass(frozen=True)
class AddressChoice:
    """Where to deliver: a saved address by id, or a typed one (saved unless ``save`` is False)."""

    id: int | None = None
    data: AddressData = AddressData()
    save: bool = True


@dataclass(frozen=True)
class QuoteRequest:
    """What the operator has entered so far."""

    kind: str = "delivery"
    phone: str | None = None
    branch_id: int | None = None
    address: AddressChoice | None = None
    lines: Sequence[CartLine] = ()
    promised_at: dt.datetime | None = None
    client_id: int | None = None


@dataclass
class PricedCartLine:
    """A cart line priced from the catalogue (minor units); ``unit_price`` includes the options."""

    item_id: int
    sku: str
    name: str
    quantity: int
    unit_price: int
    comment: str
    # Chosen options as order lines store them: {"id", "name", "group_id", "group", "price_delta"}.
    modifiers: tuple[dict[str, Any], ...] = ()

    @property
    def total(self) -> int:
        """Quantity times price."""
        return self.quantity * self.unit_price


@dataclass
class Quote:
    """The zone, fee, minimum, promise and problems of a cart before it becomes an order."""

    kind: str
    phone: str | None
    client: Client | None
    zone: ZoneRule | None
    branch: Branch | None
    lines: list[PricedCartLine]
    items_total: int
    delivery_fee: int
    free_delivery_from: int | None
    min_order: int
    eta_minutes: int | None
    asap_at: dt.datetime | None
    slots: list[dt.datetime]
    promised_at: dt.datetime | None
    problems: list[dict[str, Any]]
    pickup_offer: dict[str, Any] | None = None
    address: AddressData | None = None
    saved_address: ClientAddress | None = None
    zones_configured: bool = True

    @property
    def meets_minimum(self) -> bool:
        """True when the items reach the zone's minimum order."""
        return self.items_total >= self.min_order

    @property
    def total(self) -> int:
        """Items plus delivery."""
        return self.items_total + self.delivery_fee


def active_orders(session: Session, branch_id: int) -> int:
    """Orders of a branch taken and not finished (the load that delays new promises)."""
    return (
        session.scalar(
            select(func.count(Order.id)).where(
                Order.branch_id == branch_id, Order.status.in_([s.value for s in ACTIVE])
            )
        )
        or 0
    )


def branch_hours(branch: Branch) -> WeeklyHours:
    """A branch's opening hours (always open when none or unreadable)."""
    try:
        return WeeklyHours.parse(branch.opening_hours)
    except ZoneError:
        log.warning("branch %s has unreadable opening hours; treated as always open", branch.id)
        return WeeklyHours(always=True)


def nearest_branch(session: Session, lat: float, lon: float) -> tuple[Branch, float] | None:
    """The closest active branch to a point and its distance in km (geodesic)."""
    best: tuple[Branch, float] | None = None
    for branch in session.scalars(select(Branch).where(Branch.active.is_(True))):
        km = geodesic((lat, lon), (branch.lat, branch.lon)).km
        if best is None or km < best[1]:
            best = (branch, km)
    return best


def _price_cart(
    session: Session, lines: Sequence[CartLine], branch_id: int | None
) -> tuple[list[PricedCartLine], list[dict[str, Any]]]:
    """Price a cart as the order will be priced: options add their deltas, the branch's stop-list refuses.

    Unknown, withdrawn and stopped items get their own problem codes; the catalogue's
    own checks (modifier choices, quantities) come back under ``modifiers`` / ``value_error``.
    """
    problems: list[dict[str, Any]] = []
    by_sku, by_id = items_for_lines(
        session, (ln.sku for ln in lines if ln.sku), (ln.item_id for ln in lines if ln.item_id is not None)
    )
    stopped = (
        stopped_items(session, branch_id, [i.id for i in by_id.values()]) if branch_id is not None else {}
    )
    choices: list[LineChoice] = []
    positions: list[int] = []
    for i, line in enumerate(lines):
        item = (
            by_sku.get(line.sku)
            if line.sku
            else by_id.get(line.item_id)
            if line.item_id is not None
            else None
        )
        if item is None:
            ref = line.sku or line.item_id
            problems.append(_err(f"lines.{i}", f"Unknown item {ref!r}.", "unknown_item", item=ref))
            continue
        if not item.active:
            problems.append(
                _err(
                    f"lines.{i}",
                    f"{item.name} ({item.sku}) is not on sale now.",
                    "item_unavailable",
                    sku=item.sku,
                )
            )
            continue
        stop = stopped.get(item.id)
        if stop is not None:
            why = f": {stop.reason}" if stop.reason else ""
            problems.append(
                _err(
                    f"lines.{i}",
                    f"{item.name} ({item.sku}) is on this branch's stop-list{why}.",
                    "stopped",
                    sku=item.sku,
                    reason=stop.reason,
                )
            )
            continue
        choices.append(LineChoice(quantity=line.quantity, item_id=item.id, modifiers=tuple(line.modifiers)))
        positions.append(i)
    found, errors = price_items(session, choices, branch_id)
    for error in errors:
        head, _, tail = error["field"].partition(".")[2].partition(".")
        where = f"lines.{positions[int(head)]}" + (f".{tail}" if tail else "")
        problems.append(_err(where, error["message"], "modifiers" if tail == "modifiers" else "value_error"))
    priced = [
        PricedCartLine(
            item_id=p.item_id,
            sku=p.sku,
            name=p.name,
            quantity=lines[i].quantity,
            unit_price=p.unit_price,
            comment=lines[i].comment,
            modifiers=tuple(m.as_dict() for m in p.modifiers),
        )
        for i, p in zip(positions, found, strict=True)
        if p is not None
    ]
    return priced, problems


def _resolve_address(
    session: Session, choice: AddressChoice, client: Client | None, problems: list[dict[str, Any]]
) -> tuple[AddressData | None, ClientAddress | None]:
    if choice.id is None:
        return choice.data, None
    saved = session.get(ClientAddress, choice.id)
    if saved is None or client is None or saved.client_id != client.id:
        problems.append(_err("address.id", "This address is not one of the caller's.", "unknown_address"))
        return None, None
    data = AddressData(
        **{name: getattr(saved, name) for name in ADDRESS_FIELDS},
        lat=saved.lat if saved.lat is not None else choice.data.lat,
        lon=saved.lon if saved.lon is not None else choice.data.lon,
    )
    return data, saved


def quote(
    session: Session,
    req: QuoteRequest,
    *,
    zones: ZoneIndex,
    region: str = "RU",
    currency: str = "RUB",
    now: dt.datetime | None = None,
) -> Quote:
    """Price a cart for a place and a time: zone → branch, fee, minimum, ASAP and pre-order slots, problems.

    Nothing is written. Outside every zone the problems say so and ``pickup_offer``
    names the nearest branch. When no zone is configured at all, zone rules are off:
    delivery goes to the chosen branch without a fee.
    """
    now = now or utcnow()
    problems: list[dict[str, Any]] = []
    phone = None
    client = None
    if req.phone:
        try:
            phone = match_phone(req.phone, region)
        except InvalidPhone as exc:
            problems.append(_err("phone", str(exc), "invalid_phone"))
    if req.client_id is not None:
        client = session.get(Client, req.client_id)
        client = _follow_merges(session, client)
        if client is None:
            problems.append(_err("client_id", f"There is no client {req.client_id}.", "unknown_client"))
    elif phone is not None:
        client = find_client(session, phone)
    if req.kind not in ("delivery", "pickup"):
        problems.append(_err("kind", "Choose delivery or pickup.", "value_error"))

    zone: ZoneRule | None = None
    branch: Branch | None = None
    address: AddressData | None = None
    saved: ClientAddress | None = None
    pickup_offer = None
    fee = 0
    min_order = 0
    free_from = None
    base_minutes = promising.PICKUP_MINUTES
    hours: WeeklyHours | None = None

    def chosen_branch() -> Branch | None:
        if req.branch_id is None:
            return None
        found = session.get(Branch, req.branch_id)
        if found is None or not found.active:
            problems.append(_err("branch_id", f"Unknown or closed branch {req.branch_id}.", "unknown_branch"))
            return None
        return found

    if req.kind == "pickup":
        branch = chosen_branch()
        if branch is None and req.branch_id is None:
            problems.append(
                _err("branch_id", "Choose the branch the client picks the order up from.", "required")
            )
    elif req.kind == "delivery":
        if req.address is None:
            problems.append(_err("address", "A delivery needs an address.", "required"))
        else:
            address, saved = _resolve_address(session, req.address, client, problems)
            if address is not None and not address.text.strip() and saved is None:
                problems.append(_err("address.text", "Type the address.", "required"))
        coords = address is not None and address.lat is not None and address.lon is not None
        if zones.empty:
            base_minutes = promising.DEFAULT_DELIVERY_MINUTES
            branch = chosen_branch()
            if branch is None and req.branch_id is None:
                problems.append(_err("branch_id", "Choose the branch that delivers.", "required"))
        elif address is not None and not coords:
            problems.append(
                _err(
                    "address",
                    "Pick the address on the map or choose a geocoder answer: the zone check needs coordinates.",
                    "no_coordinates",
                )
            )
        elif address is not None:
            assert address.lat is not None and address.lon is not None
            zone = zones.locate(address.lat, address.lon)
            if zone is None:
                near = nearest_branch(session, address.lat, address.lon)
                where = f"{near[0].name} ({near[0].address})" if near else "a branch"
                problems.append(
                    _err(
                        "address",
                        f"Address is outside every delivery zone; offer pickup from {where}.",
                        "outside_zones",
                        branch=where,
                    )
                )
                if near is not None:
                    pickup_offer = {
                        "branch_id": near[0].id,
                        "code": near[0].code,
                        "name": near[0].name,
                        "address": near[0].address,
                        "distance_km": round(near[1], 2),
                    }
            else:
                branch = session.get(Branch, zone.branch_id)
                min_order = zone.min_order
                free_from = zone.free_delivery_from
                base_minutes = zone.delivery_minutes
                if not zone.hours.always:
                    hours = zone.hours

    # Priced for the branch that will cook it: its stop-list applies.
    lines, line_problems = _price_cart(session, req.lines, branch.id if branch is not None else None)
    problems += line_problems
    if not req.lines:
        problems.append(_err("lines", "The cart is empty.", "empty_cart"))
    items_total = sum(ln.total for ln in lines)
    if zone is not None:
        fee = zone.fee_for(items_total)

    eta = asap = None
    slots: list[dt.datetime] = []
    promised_at = req.promised_at
    if branch is not None:
        hours = hours or branch_hours(branch)
        eta = promising.eta_minutes(base_minutes, active_orders(session, branch.id))
        earliest = now + dt.timedelta(minutes=eta)
        if hours.is_open(now.astimezone(ZoneInfo(branch.timezone))):
            asap = promising.ceil_to_minute(earliest)
        slots = promising.preorder_slots(hours, branch.timezone, now, earliest)
        problem = promising.promise_problem(hours, branch.timezone, now, earliest, req.promised_at)
        if problem:
            params: dict[str, Any] = {}
            if slots:
                params["next_slot"] = slots[0].isoformat()
            problems.append(
                _err("promised_at", problem, "closed" if req.promised_at is None else "promised_at", **params)
            )
        if promised_at is None:
            promised_at = asap
    if lines and items_total < min_order and zone is not None:
        missing = min_order - items_total
        problems.append(
            _err(
                "lines",
                f"The minimum order in zone {zone.name} is {format_money(min_order, currency)}; "
                f"add {format_money(missing, currency)} more.",
                "below_minimum",
                min_order=str(from_minor(min_order)),
                missing=str(from_minor(missing)),
            )
        )
    return Quote(
        kind=req.kind,
        phone=phone,
        client=client,
        zone=zone,
        branch=branch,
        lines=lines,
        items_total=items_total,
        delivery_fee=fee,
        free_delivery_from=free_from,
        min_order=min_order,
        eta_minutes=eta,
        asap_at=asap,
        slots=slots,
        promised_at=promised_at,
        problems=problems,
        pickup_offer=pickup_offer,
        address=address,
        saved_address=saved,
        zones_configured=not zones.empty,
    )


@dataclass(frozen=True)
class TakeOrder:
    """An order as the operator submits it."""

    phone: str
    lines: Sequence[CartLine]
    kind: str = "delivery"
    name: str = ""
    client_id: int | None = None
    branch_id: int | None = None
    address: AddressChoice | None = None
    payment_kind: str = "cash"
    change_from: int | None = None
    comment: str = ""
    promised_at: dt.datetime | None = None


def take_order(
    session: Session,
    cmd: TakeOrder,
    *,
    zones: ZoneIndex,
    policies: Sequence[PlacementPolicy] = (),
    actor_id: int | None = None,
    region: str = "RU",
    currency: str = "RUB",
    now: dt.datetime | None = None,
) -> Order:
    """Take an order from the phone: client, address → zone → branch, fee, minimum, promise, then place it.

    Every refusal (bad phone, outside every zone, below the minimum, closed and no
    pre-order time, unknown items …) is raised as one 422 before anything is written.
    """
    now = now or utcnow()
    phone = _phone_or_422(cmd.phone, region)
    q = quote(
        session,
        QuoteRequest(
            kind=cmd.kind,
            phone=phone,
            branch_id=cmd.branch_id,
            address=cmd.address,
            lines=cmd.lines,
            promised_at=cmd.promised_at,
            client_id=cmd.client_id,
        ),
        zones=zones,
        region=region,
        currency=currency,
        now=now,
    )
    if q.problems:
        raise InvalidInput(
            "The order cannot be taken: " + " ".join(p["message"] for p in q.problems),
            errors=q.problems,
            pickup_offer=q.pickup_offer,
        )
    assert q.branch is not None
    client = q.client
    name = cmd.name.strip()
    if client is None:
        client = ensure_client(session, phone, name, now)
    else:
        if name and name != client.name:
            client.name = name
            client.updated_at = now
        if _phone_owner(session, phone) is None:
            session.add(ClientPhone(client_id=client.id, phone=phone, label="called from", created_at=now))
    address_text = ""
    lat = lon = None
    if cmd.kind == "delivery" and q.address is not None:
        address_text = q.address.display()
        lat, lon = q.address.lat, q.address.lon
        zone_id = q.zone.id if q.zone else None
        if q.saved_address is not None:
            q.saved_address.last_used_at = now
            q.saved_address.zone_id = zone_id
        elif cmd.address is not None and cmd.address.save:
            add_address(session, client.id, q.address, zone_id=zone_id, used=True, now=now)
    session.flush()
    return place_order(
        session,
        PlaceOrder(
            branch_id=q.branch.id,
            client_phone=phone,
            client_name=name or client.name,
            kind=cmd.kind,
            lines=[
                LineRequest(
                    quantity=ln.quantity,
                    sku=ln.sku,
                    item_id=ln.item_id,
                    comment=ln.comment,
                    modifiers=tuple(ln.modifiers),
                )
                for ln in cmd.lines
            ],
            address_text=address_text,
            lat=lat,
            lon=lon,
            payment_kind=cmd.payment_kind,
            change_from=cmd.change_from,
            comment=cmd.comment,
            promised_at=q.promised_at,
            delivery_fee=q.delivery_fee,
        ),
        actor_id=actor_id,
        policies=policies,
        region=region,
        now=now,
    )


class ZonePolicy:
    """Placement policy: a delivery with coordinates gets its zone's fee; outside every zone it is refused.

    Orders without coordinates, pickups, and businesses with no zone configured pass
    unchanged. The branch chosen by the caller is kept; the minimum order and opening
    hours are the operator workspace's checks (``take_order``), not this policy's.
    """

    def __init__(self, cache: ZoneCache, currency: str = "RUB"):
        self.cache = cache
        self.currency = currency

    def __call__(self, session: Session, draft: OrderDraft) -> None:
        """Set the fee from the zone, or refuse the order."""
        cmd = draft.command
        if cmd.kind != "delivery" or cmd.lat is None or cmd.lon is None:
            return
        zones = self.cache.index(session)
        if zones.empty:
            return
        zone = zones.locate(cmd.lat, cmd.lon)
        if zone is None:
            near = nearest_branch(session, cmd.lat, cmd.lon)
            where = f"{near[0].name} ({near[0].address})" if near else "a branch"
            raise InvalidInput(
                f"Address is outside every delivery zone; offer pickup from {where}.",
                errors=[
                    _err("address", f"Outside every delivery zone; nearest branch: {where}.", "outside_zones")
                ],
                pickup_offer={"branch_id": near[0].id, "name": near[0].name} if near else None,
            )
        draft.delivery_fee = zone.fee_for(draft.items_total)
        draft.extra["zone_id"] = zone.id
        draft.notes.append(f"zone {zone.name}: fee {format_money(draft.delivery_fee, self.currency)}")


# --- repeat an order --------------------------------------------------------------------------


@dataclass
class RepeatCart:
    """A previous order's lines as a new cart, and what had to be left out."""

    order: Order
    lines: list[PricedCartLine]
    skipped: list[dict[str, Any]]

    @property
    def items_total(self) -> int:
        """Sum of the cart at today's prices."""
        return sum(ln.total for ln in self.lines)


def repeat_cart(session: Session, order_id: int) -> RepeatCart:
    """The lines of an order with the same options at today's prices for its branch.

    Lines whose item is withdrawn or on the branch's stop-list, or whose options are no
    longer offered, are left out and listed in ``skipped`` with the reason.
    """
    order = session.get(Order, order_id)
    if order is None:
        raise NotFound(f"There is no order {order_id}.")
    old = list(order.lines)
    cart = [
        CartLine(
            quantity=ln.quantity,
            item_id=ln.item_id,
            modifiers=tuple(m["id"] for m in (ln.modifiers or []) if "id" in m),
            comment=ln.comment,
        )
        for ln in old
    ]
    priced, problems = _price_cart(session, cart, order.branch_id)
    reasons: dict[int, str] = {}
    for problem in problems:
        index = int(problem["field"].split(".")[1])
        reasons.setdefault(index, problem["message"])
    skipped = [
        {"sku": ln.sku, "name": ln.name, "quantity": ln.quantity, "reason": reasons[i]}
        for i, ln in enumerate(old)
        if i in reasons
    ]
    return RepeatCart(order=order, lines=priced, skipped=skipped)
