"""Changing an order after it is taken, through the pipeline that took it: the edited cart, address,
time, payment and comment are re-quoted (zone → fee, minimum, promised time, stop-list), the
placement policies settle the draft (antifraud screens it again) and the orders package writes it
over the order (lines and receipts split again, version bumped, the change in its trail)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from callcentre.services.addresses import AddressData
from callcentre.services.order_entry import (
    AddressChoice,
    CartLine,
    QuoteRequest,
    below_minimum,
    line_requests,
    price_cart,
    resolve_quote,
)
from callcentre.services.zones import record_zone
from callcentre.zones import ZoneIndex
from frontoffice.db import utcnow
from frontoffice.errors import InvalidInput, field_error
from orders import services as order_services
from orders.models import Order, OrderLine
from orders.pricing import PricedLine


@dataclass(frozen=True)
class EditOrder:
    """A change of a taken order, made against the ``version`` the operator saw. ``None`` keeps a
    field as it is; ``promised_at`` is kept unless ``new_time`` (then None means as soon as possible)."""

    order_id: int
    version: int
    lines: Sequence[CartLine] | None = None
    address: AddressChoice | None = None
    new_time: bool = False
    promised_at: dt.datetime | None = None
    payment_kind: str | None = None
    change_from: int | None = None
    comment: str | None = None
    reason: str = ""


def cart_of(order: Order) -> list[CartLine]:
    """An order's lines as a cart (item, options, quantity, comment)."""
    return [
        CartLine(
            quantity=ln.quantity,
            item_id=ln.item_id,
            modifiers=_option_ids(ln.modifiers),
            comment=ln.comment,
        )
        for ln in order.lines
    ]


def _option_ids(modifiers: Sequence[dict] | None) -> tuple[int, ...]:
    return tuple(m["id"] for m in (modifiers or ()) if "id" in m)


def _kept_prices(lines: Sequence[PricedLine], old: Sequence[OrderLine]) -> list[PricedLine]:
    """Lines the order already had (the same item with the same options) keep the price the client
    was quoted; only what is new is priced at today's catalogue."""
    was = {(ln.item_id, _option_ids(ln.modifiers)): ln.unit_price for ln in old}
    return [
        dataclasses.replace(ln, unit_price=was.get((ln.item_id, _option_ids(ln.modifiers)), ln.unit_price))
        for ln in lines
    ]


def _kept_despite_stop(
    problems: list[dict[str, Any]], cart: Sequence[CartLine], old: Sequence[OrderLine]
) -> list[dict[str, Any]]:
    """The stop-list refuses what an edit adds, not what the kitchen already took: a stopped item's
    line is let through while the order had at least as many of it."""
    had: Counter[str] = Counter()
    for ln in old:
        had[ln.sku] += ln.quantity
    kept = []
    for p in problems:
        if p["type"] != "stopped":
            continue
        line = cart[int(p["field"].split(".")[1])]
        sku = p.get("params", {}).get("sku", "")
        if had[sku] >= line.quantity:
            had[sku] -= line.quantity
            kept.append(p)
    return kept


def edit_order(
    session: Session,
    cmd: EditOrder,
    *,
    zones: ZoneIndex,
    policies: Sequence[order_services.PlacementPolicy] = (),
    actor_id: int | None = None,
    manager: bool = False,
    currency: str = "RUB",
    now: dt.datetime | None = None,
    scope: frozenset[int] | None = None,
) -> Order:
    """Change a taken order: re-quote it as edited, let the placement policies settle it, write it.

    Refused, with nothing written: 404 outside ``scope``; 409 for a stale ``version`` (naming what
    changed since) or a closed order; 403 for an operator once the kitchen has started; 422 naming the
    field for an emptied cart (``lines``), a cart below the zone's minimum (``lines``), an address
    outside every zone or delivered by another branch (``address``), an item added from the
    stop-list (``lines.N``), an impossible time (``promised_at``), a missing reason, or antifraud.
    """
    now = now or utcnow()
    order = order_services.editable_order(
        session,
        cmd.order_id,
        version=cmd.version,
        manager=manager,
        reason=cmd.reason,
        within=scope,
    )
    old_lines = list(order.lines)
    cart = list(cmd.lines) if cmd.lines is not None else cart_of(order)
    delivery = order.kind == "delivery"
    moved = delivery and cmd.address is not None
    address = cmd.address if moved else None
    if delivery and address is None:
        address = AddressChoice(
            data=AddressData(text=order.address_text, lat=order.lat, lon=order.lon), save=False
        )
    asked_time = cmd.promised_at if cmd.new_time else order.promised_at
    q = resolve_quote(
        session,
        QuoteRequest(
            kind=order.kind,
            phone=order.client_phone,
            branch_id=order.branch_id,
            address=address,
            lines=cart,
            promised_at=asked_time,
        ),
        order.client_phone,
        [],
        zones=zones,
        currency=currency,
        now=now,
        scope=scope,
    )
    problems = [p for p in q.problems if p["type"] not in ("below_minimum", "unknown_client")]
    kept = _kept_despite_stop(problems, cart, old_lines)
    lines = q.lines
    if kept:
        problems = [p for p in problems if p not in kept]
        lines, _ = price_cart(session, cart, None, q.rules)  # the kept lines past the stop-list
    promised_at = q.promised_at
    if not cmd.new_time:
        # The promise stands unless a new address cannot make it; then the earliest time it can.
        late = [p for p in problems if p["field"] == "promised_at"]
        problems = [p for p in problems if p["field"] != "promised_at"]
        promised_at = order.promised_at
        if late and moved:
            promised_at = q.asap_at or (q.slots[0] if q.slots else order.promised_at)
    if q.branch is not None and q.branch.id != order.branch_id:
        problems.append(
            field_error(
                "address",
                f"This address is delivered by branch {q.branch.code} ({q.branch.name}), not by the "
                "branch that cooks this order; cancel it and take a new order there.",
                "other_branch",
                branch=q.branch.name,
            )
        )
    lines = _kept_prices(lines, old_lines)
    items_total = sum(ln.total for ln in lines)
    fee = q.zone.fee_for(items_total) if q.zone is not None else order.delivery_fee if delivery else 0
    if q.zone is not None and lines:
        problems += below_minimum(q.zone, items_total, currency)
    if problems:
        raise InvalidInput(
            "The order cannot be changed so: " + " ".join(p["message"] for p in problems),
            errors=problems,
            pickup_offer=q.pickup_offer,
        )
    assert q.branch is not None
    place = q.address if delivery else None
    payment = cmd.payment_kind or order.payment_kind
    change_from = cmd.change_from if cmd.payment_kind is not None else order.change_from
    past = promised_at is not None and promised_at < now
    draft = order_services.resolved_draft(
        order_services.PlaceOrder(
            branch_id=order.branch_id,
            client_phone=order.client_phone,
            client_name=order.client_name,
            kind=order.kind,
            lines=line_requests(cart),
            address_text=place.display() if moved and place is not None else order.address_text,
            lat=place.lat if place is not None else None,
            lon=place.lon if place is not None else None,
            payment_kind=payment,
            change_from=change_from if payment == "cash" else None,
            comment=cmd.comment if cmd.comment is not None else order.comment,
            # A late order keeps its (past) promise: only a new time is checked against the clock.
            promised_at=None if past else promised_at,
            delivery_fee=fee,
            discount=order.discount_total,
        ),
        branch=q.branch,
        client_phone=order.client_phone,
        lines=lines,
        now=now,
        rules=q.rules,
    )
    if promised_at is not None:
        draft.promised_at = promised_at
    draft.order_id = order.id
    record_zone(draft, q.zone, fee, currency)
    order_services.apply_policies(session, draft, policies)
    return order_services.write_edit(session, order, draft, actor_id=actor_id, reason=cmd.reason, now=now)
