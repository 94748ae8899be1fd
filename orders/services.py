"""Order use cases: place, move through the state machine, cancel, read."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from frontoffice.db import publish, upsert, utcnow
from frontoffice.errors import Conflict, InvalidInput, NotFound
from frontoffice.phones import InvalidPhone, normalize_phone
from nomenclature.services import items_for_lines
from orders.events import OrderPlaced, OrderStatusChanged
from orders.models import Branch, Order, OrderCounter, OrderEvent, OrderLine
from orders.pricing import MAX_LINES, MAX_QUANTITY, PricedLine, order_totals
from orders.states import NEEDS_REASON, IllegalTransition, OrderStatus, check_transition

ORDER_KINDS = ("delivery", "pickup")
PAYMENT_KINDS = ("cash", "card_on_delivery", "prepaid")
DEFAULT_LEAD = {"delivery": dt.timedelta(minutes=60), "pickup": dt.timedelta(minutes=30)}


@dataclass(frozen=True)
class LineRequest:
    """A line as asked for: an item by SKU or id, a quantity."""

    quantity: int
    sku: str | None = None
    item_id: int | None = None
    comment: str = ""


@dataclass(frozen=True)
class PlaceOrder:
    """Everything needed to take an order; prices come from the catalogue, never from here."""

    branch_id: int
    client_phone: str
    lines: Sequence[LineRequest]
    kind: str = "delivery"
    client_name: str = ""
    address_text: str = ""
    lat: float | None = None
    lon: float | None = None
    payment_kind: str = "cash"
    change_from: int | None = None
    comment: str = ""
    promised_at: dt.datetime | None = None
    delivery_fee: int = 0
    discount: int = 0


@dataclass
class OrderDraft:
    """An order being placed; placement policies may adjust it or refuse it."""

    command: PlaceOrder
    branch: Branch
    client_phone: str
    lines: list[PricedLine]
    delivery_fee: int
    discount: int
    promised_at: dt.datetime
    now: dt.datetime
    status: OrderStatus = OrderStatus.NEW
    hold_reason: str | None = None
    notes: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def items_total(self) -> int:
        """Sum of the lines in minor units."""
        return sum(line.total for line in self.lines)


class PlacementPolicy(Protocol):
    """A rule other packages plug into placement (zones and fees, antifraud, …)."""

    def __call__(self, session: Session, draft: OrderDraft) -> None:
        """Adjust ``draft`` or raise a domain error to refuse the order."""


def _field_error(field_name: str, message: str) -> dict[str, str]:
    return {"field": field_name, "message": message, "type": "value_error"}


def business_date(at: dt.datetime, timezone: str) -> dt.date:
    """The business day of a moment in a branch's time zone."""
    return at.astimezone(ZoneInfo(timezone)).date()


def valid_coordinates(lat: float | None, lon: float | None) -> bool:
    """True for a finite WGS84 pair."""
    return (
        lat is not None
        and lon is not None
        and math.isfinite(lat)
        and math.isfinite(lon)
        and -90 <= lat <= 90
        and -180 <= lon <= 180
    )


def _price_lines(session: Session, requests: Sequence[LineRequest]) -> tuple[list[PricedLine], list[dict]]:
    errors: list[dict] = []
    by_sku, by_id = items_for_lines(
        session, (r.sku for r in requests if r.sku), (r.item_id for r in requests if r.item_id is not None)
    )
    priced: list[PricedLine] = []
    for i, req in enumerate(requests):
        where = f"lines.{i}"
        if not 1 <= req.quantity <= MAX_QUANTITY:
            errors.append(
                _field_error(f"{where}.quantity", f"The quantity must be from 1 to {MAX_QUANTITY}.")
            )
            continue
        item = by_sku.get(req.sku) if req.sku else by_id.get(req.item_id) if req.item_id is not None else None
        if item is None:
            name = req.sku if req.sku else req.item_id
            errors.append(_field_error(where, f"Unknown item {name!r}."))
            continue
        if not item.active:
            errors.append(_field_error(where, f"{item.name} ({item.sku}) is not on sale."))
            continue
        priced.append(
            PricedLine(
                item_id=item.id,
                sku=item.sku,
                name=item.name,
                quantity=req.quantity,
                unit_price=item.price,
                vat_rate=item.vat_rate,
                comment=req.comment,
            )
        )
    return priced, errors


def _validate(session: Session, cmd: PlaceOrder, region: str) -> tuple[Branch | None, str, list[dict]]:
    errors: list[dict] = []
    branch = session.get(Branch, cmd.branch_id)
    if branch is None or not branch.active:
        errors.append(_field_error("branch_id", f"Unknown or closed branch {cmd.branch_id}."))
    phone = ""
    try:
        phone = normalize_phone(cmd.client_phone, region)
    except InvalidPhone as exc:
        errors.append(_field_error("client.phone", str(exc)))
    if cmd.kind not in ORDER_KINDS:
        errors.append(_field_error("kind", f"The kind must be one of {', '.join(ORDER_KINDS)}."))
    if cmd.payment_kind not in PAYMENT_KINDS:
        errors.append(_field_error("payment.kind", f"The payment must be one of {', '.join(PAYMENT_KINDS)}."))
    if cmd.kind == "delivery":
        if not cmd.address_text.strip():
            errors.append(_field_error("address.text", "A delivery order needs an address."))
        if (cmd.lat is None) != (cmd.lon is None) or (
            cmd.lat is not None and not valid_coordinates(cmd.lat, cmd.lon)
        ):
            errors.append(
                _field_error(
                    "address", "Coordinates must be a finite lat in [-90, 90] and lon in [-180, 180]."
                )
            )
    if cmd.change_from is not None and cmd.payment_kind != "cash":
        errors.append(_field_error("payment.change_from", "Change is only for cash payments."))
    if not cmd.lines:
        errors.append(_field_error("lines", "An order needs at least one line."))
    if len(cmd.lines) > MAX_LINES:
        errors.append(_field_error("lines", f"An order can have at most {MAX_LINES} lines."))
    return branch, phone, errors


def next_number(session: Session, branch: Branch, day: dt.date) -> tuple[int, str]:
    """Take the next order number of a branch's business day, atomically."""
    table = OrderCounter.__table__
    stmt = upsert(
        session,
        table,
        {"branch_id": branch.id, "business_date": day, "last_seq": 1},
        ["branch_id", "business_date"],
        update={"last_seq": lambda st: table.c.last_seq + 1},
    ).returning(table.c.last_seq)
    seq = session.execute(stmt).scalar_one()
    return seq, f"{branch.code}-{seq:03d}"


def place_order(
    session: Session,
    cmd: PlaceOrder,
    *,
    actor_id: int | None = None,
    policies: Sequence[PlacementPolicy] = (),
    region: str = "RU",
    now: dt.datetime | None = None,
) -> Order:
    """Validate, price from the catalogue, apply the policies, number and store an order.

    Raises :class:`InvalidInput` listing every problem at once; writes nothing then.
    """
    now = now or utcnow()
    branch, phone, errors = _validate(session, cmd, region)
    lines, line_errors = _price_lines(session, cmd.lines) if 0 < len(cmd.lines) <= MAX_LINES else ([], [])
    errors += line_errors
    if cmd.promised_at is not None:
        if cmd.promised_at.tzinfo is None:
            errors.append(_field_error("promised_at", "The promised time needs a time zone offset."))
        elif cmd.promised_at < now - dt.timedelta(minutes=1):
            errors.append(_field_error("promised_at", "The promised time is in the past."))
        elif cmd.promised_at > now + dt.timedelta(days=30):
            errors.append(_field_error("promised_at", "The promised time is more than 30 days ahead."))
    if errors:
        raise InvalidInput(
            "The order cannot be taken: " + "; ".join(e["message"] for e in errors), errors=errors
        )
    assert branch is not None
    draft = OrderDraft(
        command=cmd,
        branch=branch,
        client_phone=phone,
        lines=lines,
        delivery_fee=cmd.delivery_fee if cmd.kind == "delivery" else 0,
        discount=cmd.discount,
        promised_at=cmd.promised_at or now + DEFAULT_LEAD.get(cmd.kind, DEFAULT_LEAD["delivery"]),
        now=now,
    )
    for policy in policies:
        policy(session, draft)
    try:
        totals = order_totals(draft.lines, draft.discount, draft.delivery_fee)
    except ValueError as exc:
        raise InvalidInput(f"The order cannot be taken: {exc}.") from None
    if cmd.change_from is not None and cmd.change_from < totals.total:
        raise InvalidInput(
            "Change from an amount smaller than the order total makes no sense.",
            errors=[_field_error("payment.change_from", "Smaller than the order total.")],
        )

    day = business_date(now, branch.timezone)
    seq, number = next_number(session, branch, day)
    order = Order(
        number=number,
        seq=seq,
        business_date=day,
        branch_id=branch.id,
        kind=cmd.kind,
        status=draft.status,
        client_phone=phone,
        client_name=cmd.client_name.strip(),
        address_text=cmd.address_text.strip(),
        lat=cmd.lat,
        lon=cmd.lon,
        payment_kind=cmd.payment_kind,
        change_from=cmd.change_from,
        comment=cmd.comment.strip(),
        promised_at=draft.promised_at,
        items_total=totals.items,
        discount_total=totals.discount,
        delivery_fee=totals.delivery_fee,
        total=totals.total,
        created_by=actor_id,
        created_at=now,
        status_changed_at=now,
    )
    order.lines = [
        OrderLine(
            position=i,
            item_id=ln.item_id,
            sku=ln.sku,
            name=ln.name,
            quantity=ln.quantity,
            unit_price=ln.unit_price,
            total=ln.total,
            vat_rate=ln.vat_rate,
            comment=ln.comment,
        )
        for i, ln in enumerate(draft.lines)
    ]
    order.events = [
        OrderEvent(
            at=now,
            actor_id=actor_id,
            kind="created",
            to_status=draft.status,
            reason=draft.hold_reason,
            payload={"notes": draft.notes, **draft.extra},
        )
    ]
    session.add(order)
    session.flush()
    publish(
        session,
        OrderPlaced(
            order_id=order.id,
            branch_id=branch.id,
            number=number,
            status=order.status,
            kind=order.kind,
            total=order.total,
            client_phone=phone,
            client_name=order.client_name,
            payment_kind=order.payment_kind,
            created_at=now,
            promised_at=order.promised_at,
            lat=order.lat,
            lon=order.lon,
            actor_id=actor_id,
        ),
    )
    return order


def get_order(session: Session, order_id: int) -> Order:
    """The order, or :class:`NotFound`."""
    order = session.get(Order, order_id)
    if order is None:
        raise NotFound(f"There is no order {order_id}.")
    return order


def change_status(
    session: Session,
    order_id: int,
    target: str,
    *,
    actor_id: int | None = None,
    reason: str | None = None,
    expected_version: int | None = None,
    now: dt.datetime | None = None,
    payload: dict[str, Any] | None = None,
) -> Order:
    """Move an order through the state machine, with an audit event; 409 on an illegal move."""
    try:
        to = OrderStatus(target)
    except ValueError:
        raise InvalidInput(
            f"Unknown status {target!r}; known: {', '.join(s.value for s in OrderStatus)}.",
            errors=[_field_error("status", "Unknown status.")],
        ) from None
    order = get_order(session, order_id)
    if expected_version is not None and order.version != expected_version:
        raise Conflict(
            f"Order {order.number} was changed by someone else (version {order.version}, "
            f"you had {expected_version}); reload it.",
            current_version=order.version,
        )
    current = OrderStatus(order.status)
    try:
        check_transition(current, to)
    except IllegalTransition as exc:
        raise Conflict(
            str(exc), allowed=[s.value for s in exc.allowed], current_status=current.value
        ) from None
    reason = (reason or "").strip() or None
    if to in NEEDS_REASON and not reason:
        raise InvalidInput(
            f"Moving an order to {to} needs a reason.",
            errors=[_field_error("reason", "A reason is required.")],
        )
    now = now or utcnow()
    history = order.events  # load the trail before changing the row (a lazy load autoflushes)
    order.status = to
    order.status_changed_at = now
    if to is OrderStatus.DELIVERED:
        order.delivered_at = now
    history.append(
        OrderEvent(
            at=now,
            actor_id=actor_id,
            kind="status",
            from_status=current,
            to_status=to,
            reason=reason,
            payload=payload or {},
        )
    )
    number = order.number
    try:
        session.flush()
    except StaleDataError:
        raise Conflict(f"Order {number} was changed at the same moment by someone else; reload it.") from None
    publish(
        session,
        OrderStatusChanged(
            order_id=order.id,
            branch_id=order.branch_id,
            number=order.number,
            from_status=current,
            to_status=to,
            reason=reason,
            at=now,
            actor_id=actor_id,
            courier_id=order.courier_id,
        ),
    )
    return order


def cancel(session: Session, order_id: int, reason: str, *, actor_id: int | None = None) -> Order:
    """Cancel an order that has not left with a courier; a reason is required."""
    return change_status(session, order_id, OrderStatus.CANCELLED, actor_id=actor_id, reason=reason)


@dataclass(frozen=True)
class OrderFilter:
    """Filters of the order list."""

    status: Sequence[str] = ()
    branch_id: int | None = None
    business_date: dt.date | None = None
    phone: str | None = None
    page: int = 1
    per_page: int = 50


def list_orders(session: Session, flt: OrderFilter) -> tuple[list[Order], int]:
    """A page of orders, newest first, and the number of matching orders."""
    conditions = []
    if flt.status:
        conditions.append(Order.status.in_(list(flt.status)))
    if flt.branch_id is not None:
        conditions.append(Order.branch_id == flt.branch_id)
    if flt.business_date is not None:
        conditions.append(Order.business_date == flt.business_date)
    if flt.phone:
        conditions.append(Order.client_phone == flt.phone)
    total = session.scalar(select(func.count()).select_from(Order).where(*conditions)) or 0
    rows = (
        session.scalars(
            select(Order)
            .where(*conditions)
            .order_by(Order.created_at.desc(), Order.id.desc())
            .limit(flt.per_page)
            .offset((flt.page - 1) * flt.per_page)
        )
        .unique()
        .all()
    )
    return list(rows), total
