"""Order entry on the phone: quote a cart for a place and a time, then take the order."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from callcentre import promising
from callcentre.matching import InvalidPhone, match_phone
from callcentre.models import (
    Client,
    ClientAddress,
    ClientPhone,
)
from callcentre.services.addresses import ADDRESS_FIELDS, AddressData, add_address
from callcentre.services.clients import ensure_client, find_client, follow_merges, phone_or_422, phone_owner
from callcentre.services.zones import locate_delivery, record_zone
from callcentre.zones import WeeklyHours, ZoneError, ZoneIndex, ZoneRule
from frontoffice.auth import in_scope
from frontoffice.db import utcnow
from frontoffice.errors import InvalidInput, field_error
from frontoffice.money import format_money, from_minor
from nomenclature.services import CatalogueRules, LineChoice, items_for_lines, price_items, stopped_items
from nomenclature.services import rules as catalogue_rules
from orders.models import REAL_ORDER, Branch, Order
from orders.pricing import PricedLine
from orders.services import (
    LineRequest,
    PlacementPolicy,
    PlaceOrder,
    apply_policies,
    resolved_draft,
    taken_in_training,
    write_draft,
)
from orders.states import ACTIVE

log = logging.getLogger(__name__)

#: The problem of an order for a branch the operator does not work for.
OUT_OF_SCOPE = "branch_out_of_scope"


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
class Quote:
    """The zone, fee, minimum, promise and problems of a cart before it becomes an order."""

    kind: str
    phone: str | None
    client: Client | None
    zone: ZoneRule | None
    branch: Branch | None
    lines: list[PricedLine]
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
    # The compiled catalogue the lines were priced with (the order reuses it).
    rules: CatalogueRules | None = field(default=None, repr=False)

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
                Order.branch_id == branch_id, Order.status.in_([s.value for s in ACTIVE]), REAL_ORDER
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


def price_cart(
    session: Session,
    lines: Sequence[CartLine],
    branch_id: int | None,
    compiled: CatalogueRules | None = None,
) -> tuple[list[PricedLine], list[dict[str, Any]]]:
    """Price a cart as orders are priced, into the order's own lines: options add their deltas, the
    branch's stop-list refuses.

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
            problems.append(field_error(f"lines.{i}", f"Unknown item {ref!r}.", "unknown_item", item=ref))
            continue
        if not item.active:
            problems.append(
                field_error(
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
                field_error(
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
    # The stop-list was applied above, item by item, with its own problem code.
    found, errors = price_items(session, choices, None, compiled=compiled)
    for error in errors:
        head, _, tail = error["field"].partition(".")[2].partition(".")
        where = f"lines.{positions[int(head)]}" + (f".{tail}" if tail else "")
        problems.append(
            field_error(where, error["message"], "modifiers" if tail == "modifiers" else "value_error")
        )
    priced = [
        PricedLine(
            item_id=p.item_id,
            sku=p.sku,
            name=p.name,
            quantity=lines[i].quantity,
            unit_price=p.unit_price,
            vat_rate=p.catalogue_vat_rate,
            comment=lines[i].comment,
            group_id=p.group_id,
            modifiers=tuple(m.as_dict() for m in p.modifiers),
        )
        for i, p in zip(positions, found, strict=True)
        if p is not None
    ]
    return priced, problems


def below_minimum(zone: ZoneRule, items_total: int, currency: str) -> list[dict[str, Any]]:
    """The problem of a cart below its zone's minimum order (on ``lines``), or none."""
    if items_total >= zone.min_order:
        return []
    missing = zone.min_order - items_total
    return [
        field_error(
            "lines",
            f"The minimum order in zone {zone.name} is {format_money(zone.min_order, currency)}; "
            f"add {format_money(missing, currency)} more.",
            "below_minimum",
            min_order=str(from_minor(zone.min_order)),
            missing=str(from_minor(missing)),
        )
    ]


def _resolve_address(
    session: Session, choice: AddressChoice, client: Client | None, problems: list[dict[str, Any]]
) -> tuple[AddressData | None, ClientAddress | None]:
    if choice.id is None:
        return choice.data, None
    saved = session.get(ClientAddress, choice.id)
    if saved is None or client is None or saved.client_id != client.id:
        problems.append(
            field_error("address.id", "This address is not one of the caller's.", "unknown_address")
        )
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
    scope: frozenset[int] | None = None,
) -> Quote:
    """Price a cart for a place and a time: zone → branch, fee, minimum, ASAP and pre-order slots, problems.

    Nothing is written. Outside every zone the problems say so and ``pickup_offer``
    names the nearest branch. When no zone is configured at all, zone rules are off:
    delivery goes to the chosen branch without a fee. A branch outside the operator's
    ``scope`` (None: every branch) is refused with :class:`InvalidInput`
    (``branch_out_of_scope``): nothing of another branch is quoted.
    """
    problems: list[dict[str, Any]] = []
    phone = None
    if req.phone:
        try:
            phone = match_phone(req.phone, region)
        except InvalidPhone as exc:
            problems.append(field_error("phone", str(exc), "invalid_phone"))
    q = resolve_quote(
        session, req, phone, problems, zones=zones, currency=currency, now=now or utcnow(), scope=scope
    )
    refused = [p for p in q.problems if p["type"] == OUT_OF_SCOPE]
    if refused:
        raise InvalidInput(" ".join(p["message"] for p in refused), errors=refused)
    return q


def resolve_quote(
    session: Session,
    req: QuoteRequest,
    phone: str | None,
    problems: list[dict[str, Any]],
    *,
    zones: ZoneIndex,
    currency: str,
    now: dt.datetime,
    scope: frozenset[int] | None = None,
) -> Quote:
    """The quote of a request whose phone is already in E.164 (``None``: no phone given); a branch
    outside ``scope`` is one more problem (``branch_out_of_scope``) and is not quoted."""
    client = None
    if req.client_id is not None:
        client = session.get(Client, req.client_id)
        client = follow_merges(session, client)
        if client is None:
            problems.append(
                field_error("client_id", f"There is no client {req.client_id}.", "unknown_client")
            )
    elif phone is not None:
        client = find_client(session, phone)
    if req.kind not in ("delivery", "pickup"):
        problems.append(field_error("kind", "Choose delivery or pickup.", "value_error"))

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
            problems.append(
                field_error("branch_id", f"Unknown or closed branch {req.branch_id}.", "unknown_branch")
            )
            return None
        return found

    if req.kind == "pickup":
        branch = chosen_branch()
        if branch is None and req.branch_id is None:
            problems.append(
                field_error("branch_id", "Choose the branch the client picks the order up from.", "required")
            )
    elif req.kind == "delivery":
        if req.address is None:
            problems.append(field_error("address", "A delivery needs an address.", "required"))
        else:
            address, saved = _resolve_address(session, req.address, client, problems)
            if address is not None and not address.text.strip() and saved is None:
                problems.append(field_error("address.text", "Type the address.", "required"))
        coords = address is not None and address.lat is not None and address.lon is not None
        if zones.empty:
            base_minutes = promising.DEFAULT_DELIVERY_MINUTES
            branch = chosen_branch()
            if branch is None and req.branch_id is None:
                problems.append(field_error("branch_id", "Choose the branch that delivers.", "required"))
        elif address is not None and not coords:
            problems.append(
                field_error(
                    "address",
                    "Pick the address on the map or choose a geocoder answer: the zone check needs coordinates.",
                    "no_coordinates",
                )
            )
        elif address is not None:
            assert address.lat is not None and address.lon is not None
            place = locate_delivery(session, zones, address.lat, address.lon)
            zone = place.zone
            if zone is None:
                problems.append(place.outside_problem())
                pickup_offer = place.pickup_offer()
            else:
                branch = session.get(Branch, zone.branch_id)
                min_order = zone.min_order
                free_from = zone.free_delivery_from
                base_minutes = zone.delivery_minutes
                if not zone.hours.always:
                    hours = zone.hours

    if branch is not None and not in_scope(scope, branch.id):
        # The zone picked the branch unless the operator chose it (pickup, or no zones at all).
        where = "address" if zone is not None else "branch_id"
        problems.append(
            field_error(
                where,
                f"You do not work for branch {branch.code} ({branch.name}), which this order would go to.",
                OUT_OF_SCOPE,
                branch=branch.name,
            )
        )
        branch, zone, hours = None, None, None
        min_order, free_from = 0, None

    # Priced for the branch that will cook it: its stop-list applies.
    compiled = catalogue_rules(session)
    lines, line_problems = price_cart(session, req.lines, branch.id if branch is not None else None, compiled)
    problems += line_problems
    if not req.lines:
        problems.append(field_error("lines", "The cart is empty.", "empty_cart"))
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
                field_error(
                    "promised_at", problem, "closed" if req.promised_at is None else "promised_at", **params
                )
            )
        if promised_at is None:
            promised_at = asap
    if lines and zone is not None:
        problems += below_minimum(zone, items_total, currency)
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
        rules=compiled,
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


def line_requests(cart: Sequence[CartLine]) -> list[LineRequest]:
    """A cart as the order's requested lines."""
    return [
        LineRequest(
            quantity=ln.quantity,
            sku=ln.sku,
            item_id=ln.item_id,
            comment=ln.comment,
            modifiers=tuple(ln.modifiers),
        )
        for ln in cart
    ]


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
    scope: frozenset[int] | None = None,
    training: bool | None = None,
) -> Order:
    """Take an order from the phone: client, address → zone → branch, fee, minimum, promise, then place it.

    The quote resolves the order once (phone, client, address, zone, fee, promise, priced
    lines) and becomes the order's draft; the placement policies settle it and the orders
    package writes it, with nothing looked up, normalised, priced or located again. Every
    refusal (bad phone, outside every zone, below the minimum, closed and no pre-order time,
    unknown items, a branch outside the operator's ``scope`` …) is raised as one 422 and
    leaves nothing written.
    """
    now = now or utcnow()
    phone = phone_or_422(cmd.phone, region)
    q = resolve_quote(
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
        phone,
        [],
        zones=zones,
        currency=currency,
        now=now,
        scope=scope,
    )
    if q.problems:
        raise InvalidInput(
            "The order cannot be taken: " + " ".join(p["message"] for p in q.problems),
            errors=q.problems,
            pickup_offer=q.pickup_offer,
        )
    assert q.branch is not None
    name = cmd.name.strip()
    place = q.address if cmd.kind == "delivery" else None
    draft = resolved_draft(
        PlaceOrder(
            branch_id=q.branch.id,
            client_phone=phone,
            client_name=name or (q.client.name if q.client is not None else ""),
            kind=cmd.kind,
            lines=line_requests(cmd.lines),
            address_text=place.display() if place is not None else "",
            lat=place.lat if place is not None else None,
            lon=place.lon if place is not None else None,
            payment_kind=cmd.payment_kind,
            change_from=cmd.change_from,
            comment=cmd.comment,
            promised_at=q.promised_at,
            delivery_fee=q.delivery_fee,
        ),
        branch=q.branch,
        client_phone=phone,
        lines=q.lines,
        now=now,
        rules=q.rules,
    )
    record_zone(draft, q.zone, q.delivery_fee, currency)
    training = taken_in_training(session, actor_id, training)
    if not training:  # a trainee's scripted caller changes no client
        _remember_caller(session, cmd, q, phone, name, now)
    apply_policies(session, draft, policies)
    return write_draft(session, draft, actor_id=actor_id, training=training)


def _remember_caller(
    session: Session, cmd: TakeOrder, q: Quote, phone: str, name: str, now: dt.datetime
) -> None:
    """The caller becomes (or stays) a client with this number and name; a typed address is saved."""
    client = q.client
    if client is None:
        client = ensure_client(session, phone, name, now)
    else:
        if name and name != client.name:
            client.name = name
            client.updated_at = now
        if phone_owner(session, phone) is None:
            session.add(ClientPhone(client_id=client.id, phone=phone, label="called from", created_at=now))
    if cmd.kind == "delivery" and q.address is not None:
        zone_id = q.zone.id if q.zone else None
        if q.saved_address is not None:
            q.saved_address.last_used_at = now
            q.saved_address.zone_id = zone_id
        elif cmd.address is not None and cmd.address.save:
            add_address(session, client.id, q.address, zone_id=zone_id, used=True, now=now)
    session.flush()
