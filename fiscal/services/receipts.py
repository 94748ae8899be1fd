"""Fiscal receipts: written when money moves or a paid order changes (the projectors on the orders'
events, in the relay's transaction, so once per event), read by the pages, resent by a manager."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Collection, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from fiscal import ffd
from fiscal.models import FiscalReceipt, ReceiptState
from frontoffice.db import utcnow
from frontoffice.errors import Conflict, NotFound
from frontoffice.money import to_minor
from orders import services as orders
from orders.events import OrderEdited, OrderPlaced, OrderStatusChanged
from orders.models import Order
from orders.states import OrderStatus

#: Order states that end a prepaid order without delivering it: the prepayment is refunded.
UNDELIVERED = frozenset({OrderStatus.CANCELLED, OrderStatus.FAILED, OrderStatus.REJECTED})


def new_external_id() -> str:
    """A fresh external id (a UUID: ATOL Web Server's task id must be one)."""
    return str(uuid.uuid4())


def _fresh(doc: dict[str, Any], version: int, now: dt.datetime) -> dict[str, Any]:
    """What a receipt carrying ``doc`` starts from: pending, due now, under a new external id."""
    return {
        "document": doc,
        "total": to_minor(Decimal(doc["total"])),
        "order_version": version,
        "external_id": new_external_id(),
        "state": ReceiptState.PENDING,
        "attempts": 0,
        "next_attempt_at": now,
        "updated_at": now,
    }


def _receipt(order: Order, doc: dict[str, Any], version: int, now: dt.datetime) -> FiscalReceipt:
    """A new pending fiscal receipt of ``order`` carrying ``doc`` (added to nothing yet)."""
    return FiscalReceipt(
        order_id=order.id,
        order_number=order.number,
        client_phone=order.client_phone,
        organization_id=doc["organization"]["id"],
        tax_system=doc["tax_system"],
        purpose=doc["purpose"],
        operation=doc["operation"],
        created_at=now,
        **_fresh(doc, version, now),
    )


def _of_order(session: Session, order_id: int, *where: Any) -> list[FiscalReceipt]:
    return list(
        session.scalars(
            select(FiscalReceipt).where(FiscalReceipt.order_id == order_id, *where).order_by(FiscalReceipt.id)
        )
    )


def write_receipts(session: Session, order_id: int, purpose: str, *, version: int = 0) -> list[FiscalReceipt]:
    """The fiscal receipts of an order for ``purpose`` (a prepayment or a settlement), one per stored
    receipt (organization and tax system), carrying ``version``; none written twice (one of the same
    purpose for the same organization and tax system keeps a replay from adding any)."""
    try:
        order, docs = orders.order_receipts(session, order_id)
    except (Conflict, NotFound):
        return []  # an order taken before receipts were recorded has nothing to fiscalize
    existing = {
        (r.organization_id, r.tax_system)
        for r in _of_order(session, order_id, FiscalReceipt.purpose == purpose)
    }
    written = []
    now = utcnow()
    for stored in docs:
        if (stored["organization"]["id"], stored["tax_system"]) in existing:
            continue
        receipt = _receipt(
            order, ffd.document(stored, purpose, order.payment_kind, order.client_phone), version, now
        )
        session.add(receipt)
        written.append(receipt)
    session.flush()
    return written


def live_prepayments(session: Session, order_id: int) -> dict[tuple[int, str], FiscalReceipt]:
    """The prepayments of an order that stand, by (organization, tax system): the latest of each,
    unless it was refunded."""
    refunded = {
        (r.order_version, r.organization_id, r.tax_system)
        for r in _of_order(session, order_id, FiscalReceipt.purpose == ffd.REFUND)
    }
    live: dict[tuple[int, str], FiscalReceipt] = {}
    for r in _of_order(session, order_id, FiscalReceipt.purpose == ffd.PREPAYMENT):
        key = (r.organization_id, r.tax_system)
        if (r.order_version, *key) not in refunded and (
            key not in live or r.order_version > live[key].order_version
        ):
            live[key] = r
    return live


def refund(session: Session, prepayment: FiscalReceipt, now: dt.datetime) -> FiscalReceipt:
    """The refund of ``prepayment`` (its mirror, of its version): it waits until the prepayment is
    fiscalized, so the register always sees the sale before its return."""
    order = session.get_one(Order, prepayment.order_id)
    receipt = _receipt(order, ffd.refund_of(prepayment.document), prepayment.order_version, now)
    session.add(receipt)
    return receipt


def on_order_placed(session: Session, event: OrderPlaced) -> None:
    """A prepaid order is paid when it is placed: its prepayment receipts. They are the order's
    first fiscal receipts: an order that has any was written for already (a replay adds nothing),
    and one edited into another payment since needs none (see :func:`on_order_edited`)."""
    if event.payment_kind != "prepaid" or _of_order(session, event.order_id):
        return
    order = session.get(Order, event.order_id)
    if order is not None and order.payment_kind == "prepaid":
        write_receipts(session, event.order_id, ffd.PREPAYMENT)


def on_status_changed(session: Session, event: OrderStatusChanged) -> None:
    """Delivered: the settlement receipts (offsetting the standing prepayment). Ended undelivered
    after a prepayment: the refund of each prepayment that stands."""
    if event.to_status == OrderStatus.DELIVERED:
        versions = [r.order_version for r in _of_order(session, event.order_id)]
        write_receipts(session, event.order_id, ffd.SETTLEMENT, version=max(versions, default=0))
    elif event.to_status in UNDELIVERED:
        now = utcnow()
        for prepayment in live_prepayments(session, event.order_id).values():
            refund(session, prepayment, now)
        session.flush()


def _never_offered(receipt_id: int) -> Any:
    """The receipt is a prepayment no register was handed (or one that refused it): a register
    cannot have printed it, so it may be rewritten or dropped. A sender about to hand it over marks
    it first, and only under the external id it read (see FiscalSender), so the two never cross."""
    return (
        FiscalReceipt.id == receipt_id,
        FiscalReceipt.offered_at.is_(None),
        FiscalReceipt.provider_uuid.is_(None),
        FiscalReceipt.state.in_((ReceiptState.PENDING, ReceiptState.FAILED)),
    )


def on_order_edited(session: Session, event: OrderEdited) -> None:
    """An order changed after it was taken. Its prepayments are brought in line with the receipts
    as they are now (a prepaid order's, each prepaid; another order's, none):

    - a prepayment whose receipt did not change stands;
    - one no register was handed yet is rewritten from the new receipt (a new external id), or
      dropped when the order is no longer prepaid or the receipt is gone: a stale one is never sent;
    - one a register may have printed is refunded (its mirror, after it), and the new receipt is
      prepaid again under this edit's version, after that refund.

    A cash or card-on-delivery order needs nothing now: its settlement is written at delivery from
    the receipts as they are then. Once per edit: an edit this order's receipts already carry (or a
    later one) is a replay, and changes nothing.
    """
    if _of_order(session, event.order_id, FiscalReceipt.order_version >= event.version):
        return
    try:
        order, docs = orders.order_receipts(session, event.order_id)
    except (Conflict, NotFound):
        return
    live = live_prepayments(session, event.order_id)
    wanted: dict[tuple[int, str], dict[str, Any]] = {}
    if order.payment_kind == "prepaid":
        for stored in docs:
            doc = ffd.document(stored, ffd.PREPAYMENT, order.payment_kind, order.client_phone)
            wanted[(doc["organization"]["id"], doc["tax_system"])] = doc
    now = utcnow()
    for key, old in live.items():
        doc = wanted.get(key)
        if doc is not None and ffd.same_document(old.document, doc):
            del wanted[key]  # this organization's receipt did not change
            continue
        if doc is None:
            rewritten = session.execute(
                delete(FiscalReceipt)
                .where(*_never_offered(old.id))
                .execution_options(synchronize_session=False)
            ).rowcount
        else:
            rewritten = session.execute(
                update(FiscalReceipt)
                .where(*_never_offered(old.id))
                .values(message=None, **_fresh(doc, event.version, now))
                .execution_options(synchronize_session=False)
            ).rowcount
            if rewritten:
                del wanted[key]
        if not rewritten:
            refund(session, old, now)
        elif doc is None:
            session.expunge(old)  # deleted in SQL (conditionally, against a sender)
        else:
            session.expire(old)  # rewritten in SQL: the loaded row is stale
    for doc in wanted.values():
        session.add(_receipt(order, doc, event.version, now))
    session.flush()


def waiting_for(session: Session, receipt: FiscalReceipt) -> str | None:
    """Why ``receipt`` must wait before it is sent (None: it may go). Per organization and tax
    system, the register sees the money move in order: a refund after the prepayment it returns, a
    prepayment after the refund of the one it replaces, a settlement after the prepayment it offsets."""
    same = (
        FiscalReceipt.order_id == receipt.order_id,
        FiscalReceipt.organization_id == receipt.organization_id,
        FiscalReceipt.tax_system == receipt.tax_system,
        FiscalReceipt.state != ReceiptState.DONE,
    )
    if receipt.purpose == ffd.PREPAYMENT:
        before = select(FiscalReceipt.id).where(
            *same, FiscalReceipt.purpose == ffd.REFUND, FiscalReceipt.order_version < receipt.order_version
        )
        why = "Waits for the refund of the order's previous prepayment to be fiscalized first."
    elif receipt.purpose == ffd.REFUND:
        before = select(FiscalReceipt.id).where(
            *same,
            FiscalReceipt.purpose == ffd.PREPAYMENT,
            FiscalReceipt.order_version == receipt.order_version,
        )
        why = "Waits for the prepayment it refunds to be fiscalized first."
    else:
        standing = live_prepayments(session, receipt.order_id).get(
            (receipt.organization_id, receipt.tax_system)
        )
        if standing is None or standing.state == ReceiptState.DONE:
            return None
        return "Waits for the prepayment receipt to be fiscalized first."
    return why if session.scalar(before.limit(1)) is not None else None


def receipts_of_order(session: Session, order_id: int) -> list[FiscalReceipt]:
    """An order's fiscal receipts, in the order they were written."""
    return _of_order(session, order_id)


def receipts_of_client(session: Session, phone: str, limit: int = 10) -> list[FiscalReceipt]:
    """A client's latest fiscal receipts, newest first."""
    return list(
        session.scalars(
            select(FiscalReceipt)
            .where(FiscalReceipt.client_phone == phone)
            .order_by(FiscalReceipt.id.desc())
            .limit(limit)
        )
    )


def queue(
    session: Session,
    states: Sequence[str] = (ReceiptState.PENDING, ReceiptState.SENT, ReceiptState.FAILED),
    *,
    within: Collection[int] | None = None,
    limit: int = 200,
) -> list[FiscalReceipt]:
    """Receipts not done (failed first, then the oldest), for the manager's queue; ``within``:
    the branch scope."""
    q = select(FiscalReceipt).where(FiscalReceipt.state.in_(list(states)))
    if within is not None:
        q = q.join(Order, Order.id == FiscalReceipt.order_id).where(Order.branch_id.in_(list(within)))
    order = (FiscalReceipt.state != ReceiptState.FAILED, FiscalReceipt.id)
    return list(session.scalars(q.order_by(*order).limit(limit)))


def get_receipt(session: Session, receipt_id: int, *, within: Collection[int] | None = None) -> FiscalReceipt:
    """A receipt, or 404 (also outside the branch scope ``within``)."""
    receipt = session.get(FiscalReceipt, receipt_id)
    if receipt is not None and within is not None:
        branch = session.scalar(select(Order.branch_id).where(Order.id == receipt.order_id))
        receipt = receipt if branch in within else None
    if receipt is None:
        raise NotFound(f"No fiscal receipt {receipt_id}.")
    return receipt


def resend(session: Session, receipt_id: int, *, within: Collection[int] | None = None) -> FiscalReceipt:
    """Put a failed or waiting receipt back in line now, its tries counted afresh. One the register
    refused gets a new external id (it printed nothing); one that failed for want of an answer keeps
    its own, so the register dedupes it. 409 for a receipt already fiscalized."""
    receipt = get_receipt(session, receipt_id, within=within)
    if receipt.state == ReceiptState.DONE:
        raise Conflict(f"Receipt {receipt_id} is fiscalized already; it cannot be sent again.")
    if receipt.state == ReceiptState.FAILED:
        if receipt.provider_uuid is None and receipt.message and receipt.message.startswith(REFUSED_MARK):
            receipt.external_id = new_external_id()
        receipt.state = ReceiptState.SENT if receipt.provider_uuid else ReceiptState.PENDING
    receipt.attempts = 0
    receipt.next_attempt_at = utcnow()
    receipt.claimed_until = None
    receipt.updated_at = utcnow()
    session.flush()
    return receipt


#: How the message of a receipt the register itself refused begins (it printed nothing).
REFUSED_MARK = "Refused by the register: "
