"""Changing an order after it is taken: who may change it in its state, the version the change was
made against (a stale one is refused naming what changed since), and writing a re-quoted draft over
the order — lines, delivery position and receipts split again, revenue moved, one trail entry
(who, when, before → after), ``OrderEdited``.

The draft comes from the same pipeline as a new order's (the call centre re-quotes the edited cart,
the placement policies settle it); nothing here prices, locates or screens.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified
from sqlalchemy.orm.exc import StaleDataError

from frontoffice.db import publish, utcnow
from frontoffice.errors import Conflict, Forbidden, InvalidInput, field_error
from frontoffice.money import from_minor
from nomenclature import distribution as dist
from orders.events import OrderEdited, OrderStatusChanged
from orders.models import Order, OrderEvent, OrderLine, OrderReceipt
from orders.pricing import PricedLine
from orders.services.distribution import receipt_label, split_order
from orders.services.lifecycle import get_order
from orders.services.placement import (
    OrderDraft,
    charge_of,
    draft_totals,
    line_rows,
    receipt_rows,
    sold_by_organization,
)
from orders.services.revenue import add_revenue
from orders.states import EditRefused, OrderStatus, can_transition, check_edit

#: The trail entry of a change.
EDITED = "edited"
#: What each kind of trail entry changes, for a refusal naming what changed since a version.
_FIELDS_OF_KIND = {"status": ("status",), "courier_assigned": ("courier",), "created": ()}


def stale_version(order: Order, seen: int) -> Conflict:
    """The refusal of a change made against version ``seen`` of an order now at a later one: it
    names the trail entries since (each change of an order's row is one entry of its trail) and
    the fields they changed."""
    since = order.events[-(order.version - seen) :] if order.version > seen else []
    changed = [
        {
            "kind": e.kind,
            "at": e.at.isoformat(),
            "actor_id": e.actor_id,
            "fields": sorted((e.payload or {}).get("changes", {}))
            if e.kind == EDITED
            else list(_FIELDS_OF_KIND.get(e.kind, ("courier",))),
        }
        for e in since
    ]
    fields = sorted({f for entry in changed for f in entry["fields"]})
    what = ", ".join(fields) or "the order"
    return Conflict(
        f"Order {order.number} was changed since you opened it (version {order.version}, you had "
        f"{seen}): {what}. Reload it and make your change again.",
        current_version=order.version,
        changed_fields=fields,
        changed=changed,
    )


def editable_order(
    session: Session,
    order_id: int,
    *,
    version: int,
    manager: bool,
    reason: str = "",
    within: Collection[int] | None = None,
) -> Order:
    """The order to change, if the one asking may change it now.

    404 outside ``within`` (the caller's branch scope); 409 when ``version`` is not the order's
    (naming what changed since) or the order is closed (delivered, cancelled …); 403 when the
    kitchen has started and the caller is no manager; 422 on ``reason`` when a manager changes an
    order the kitchen has started without saying why.
    """
    order = get_order(session, order_id, within=within)
    if order.version != version:
        raise stale_version(order, version)
    current = OrderStatus(order.status)
    try:
        needs_reason = check_edit(current, manager=manager)
    except EditRefused as exc:
        error = Conflict if exc.reason == "closed" else Forbidden
        raise error(str(exc), current_status=current.value, refusal=exc.reason) from None
    if needs_reason and not reason.strip():
        raise InvalidInput(
            "The kitchen has started on this order: say why it is changed.",
            errors=[field_error("reason", "A reason is required once the kitchen has started.", "required")],
        )
    return order


def _line_text(line: PricedLine | OrderLine) -> str:
    return f"{line.quantity} × {receipt_label(line)} = {from_minor(line.total)}"


def _receipt_texts(receipts: Sequence[OrderReceipt]) -> list[str]:
    return [f"{r.organization_name}: {from_minor(r.total)}" for r in receipts]


def _money(minor: int | None) -> str | None:
    return None if minor is None else str(from_minor(minor))


def _state(order: Order) -> dict[str, Any]:
    """What a change of an order may change, as the trail keeps it (money as decimal strings)."""
    return {
        "lines": [_line_text(ln) for ln in order.lines],
        "address": order.address_text,
        "promised_at": order.promised_at.astimezone(dt.UTC).isoformat() if order.promised_at else None,
        "payment_kind": order.payment_kind,
        "change_from": _money(order.change_from),
        "comment": order.comment,
        "delivery_fee": _money(order.delivery_fee),
        "total": _money(order.total),
        "receipts": _receipt_texts(order.receipts),
        "status": order.status,
    }


def write_edit(
    session: Session,
    order: Order,
    draft: OrderDraft,
    *,
    actor_id: int | None = None,
    reason: str = "",
    now: dt.datetime | None = None,
) -> Order:
    """Write a settled draft of an edited order over it: its fields, lines, delivery position and
    receipts split again for the order's business day, the revenue moved, one ``edited`` trail entry
    with every changed field before → after, ``OrderEdited`` (and ``OrderStatusChanged`` when the
    antifraud re-screen holds a new order). A draft that changes nothing writes nothing.

    Raises :class:`InvalidInput` (nothing written) when the totals or the distribution refuse it,
    :class:`Conflict` when someone else changed the order at the same moment.
    """
    now = now or utcnow()
    cmd = draft.command
    totals = draft_totals(draft)
    split = split_order(
        session,
        draft.lines,
        dist.SaleContext(order.business_date, order.branch_id, order.kind, cmd.payment_kind),
        discount=totals.discount,
        delivery_fee=totals.delivery_fee,
        default_organization_id=draft.default_organization_id,
        compiled=draft.rules,
    )
    history = order.events  # load the trail and the rows before changing them (lazy loads autoflush)
    before = _state(order)
    sold_before = {r.organization_id: 0 for r in order.receipts}
    for r in order.receipts:
        sold_before[r.organization_id] += r.total
    current = OrderStatus(order.status)
    held = draft.status is OrderStatus.ON_HOLD and can_transition(current, OrderStatus.ON_HOLD)

    order.address_text = cmd.address_text.strip()
    order.lat, order.lon = cmd.lat, cmd.lon
    order.payment_kind = cmd.payment_kind
    order.change_from = cmd.change_from
    order.comment = cmd.comment.strip()
    order.promised_at = draft.promised_at
    order.items_total = totals.items
    order.discount_total = totals.discount
    order.delivery_fee = totals.delivery_fee
    order.total = totals.total
    if held:
        order.status = OrderStatus.ON_HOLD
        order.status_changed_at = now
    new_lines = line_rows(draft.lines, split)
    new_receipts = receipt_rows(split, order.business_date)
    after = {
        **_state(order),
        "lines": [_line_text(ln) for ln in new_lines],
        "receipts": _receipt_texts(new_receipts),
    }
    changes = {k: [before[k], after[k]] for k in before if before[k] != after[k]}
    if not changes:
        session.expire(order)  # nothing changed: leave the row as it was
        return order

    number = order.number
    flag_modified(order, "total")  # the row is updated (and its version bumped) whatever changed
    try:
        session.flush()  # the version-checked UPDATE first: a concurrent change is refused here
        # Receipts are unique per (organization, tax system): the old rows go before the new come.
        order.lines.clear()
        order.charges.clear()
        order.receipts.clear()
        session.flush()
    except StaleDataError:
        raise Conflict(f"Order {number} was changed at the same moment by someone else; reload it.") from None
    order.lines = new_lines
    order.charges = [charge_of(split.delivery)] if split.delivery is not None else []
    order.receipts = new_receipts
    reason = reason.strip()
    history.append(
        OrderEvent(
            at=now,
            actor_id=actor_id,
            kind=EDITED,
            from_status=current if held else None,
            to_status=OrderStatus.ON_HOLD if held else None,
            reason=(reason or draft.hold_reason or None),
            payload={"version": order.version, "changes": changes, "notes": draft.notes, **draft.extra},
        )
    )
    session.flush()
    for hook in draft.written_hooks:
        hook(session, order.id)
    moved: dict[int, int] = defaultdict(int)
    for org, amount in sold_by_organization(split).items():
        moved[org] += amount
    for org, amount in sold_before.items():
        moved[org] -= amount
    add_revenue(session, order.business_date.year, {o: a for o, a in moved.items() if a})
    publish(
        session,
        OrderEdited(
            order_id=order.id,
            branch_id=order.branch_id,
            number=number,
            version=order.version,
            status=order.status,
            changed=tuple(sorted(changes)),
            total=order.total,
            promised_at=order.promised_at,
            lat=order.lat,
            lon=order.lon,
            at=now,
            actor_id=actor_id,
            reason=reason or None,
            courier_id=order.courier_id,
        ),
    )
    if held:
        publish(
            session,
            OrderStatusChanged(
                order_id=order.id,
                branch_id=order.branch_id,
                number=number,
                from_status=current,
                to_status=OrderStatus.ON_HOLD,
                reason=draft.hold_reason,
                at=now,
                actor_id=actor_id,
                courier_id=order.courier_id,
            ),
        )
    return order


def edit_trails(session: Session, order_ids: Sequence[int]) -> dict[int, list[OrderEvent]]:
    """The ``edited`` entries of each order's trail, oldest first (one query for a page of orders)."""
    trails: dict[int, list[OrderEvent]] = defaultdict(list)
    if order_ids:
        for event in session.scalars(
            select(OrderEvent)
            .where(OrderEvent.order_id.in_(list(order_ids)), OrderEvent.kind == EDITED)
            .order_by(OrderEvent.id)
        ):
            trails[event.order_id].append(event)
    return dict(trails)
