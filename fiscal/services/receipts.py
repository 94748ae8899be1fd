"""Fiscal receipts: written when money moves (the projector on the orders' events, in the relay's
transaction, so once per event), read by the pages, resent by a manager."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fiscal import ffd
from fiscal.models import FiscalReceipt, ReceiptState
from frontoffice.db import utcnow
from frontoffice.errors import Conflict, NotFound
from frontoffice.money import to_minor
from orders import services as orders
from orders.events import OrderPlaced, OrderStatusChanged
from orders.models import Order
from orders.states import OrderStatus

#: Order states that end a prepaid order without delivering it: the prepayment is refunded.
UNDELIVERED = frozenset({OrderStatus.CANCELLED, OrderStatus.FAILED, OrderStatus.REJECTED})


def new_external_id() -> str:
    """A fresh external id (a UUID: ATOL Web Server's task id must be one)."""
    return str(uuid.uuid4())


def write_receipts(session: Session, order_id: int, purpose: str) -> list[FiscalReceipt]:
    """The fiscal receipts of an order for ``purpose``, one per stored receipt (organization and
    tax system); none written twice (the unique key keeps a replay from adding any)."""
    try:
        order, docs = orders.order_receipts(session, order_id)
    except (Conflict, NotFound):
        return []  # an order taken before receipts were recorded has nothing to fiscalize
    existing = {
        (r.organization_id, r.tax_system)
        for r in session.scalars(
            select(FiscalReceipt).where(FiscalReceipt.order_id == order_id, FiscalReceipt.purpose == purpose)
        )
    }
    written = []
    now = utcnow()
    for stored in docs:
        key = (stored["organization"]["id"], stored["tax_system"])
        if key in existing:
            continue
        doc = ffd.document(stored, purpose, order.payment_kind, order.client_phone)
        receipt = FiscalReceipt(
            order_id=order.id,
            order_number=order.number,
            client_phone=order.client_phone,
            organization_id=key[0],
            tax_system=key[1],
            purpose=purpose,
            operation=doc["operation"],
            document=doc,
            total=to_minor(Decimal(doc["total"])),
            external_id=new_external_id(),
            state=ReceiptState.PENDING,
            attempts=0,
            next_attempt_at=now,
            created_at=now,
            updated_at=now,
        )
        session.add(receipt)
        written.append(receipt)
    session.flush()
    return written


def on_order_placed(session: Session, event: OrderPlaced) -> None:
    """A prepaid order is paid when it is placed: its prepayment receipts."""
    if event.payment_kind == "prepaid":
        write_receipts(session, event.order_id, ffd.PREPAYMENT)


def on_status_changed(session: Session, event: OrderStatusChanged) -> None:
    """Delivered: the settlement receipts (offsetting a prepayment). Ended undelivered after a
    prepayment: its refund."""
    if event.to_status == OrderStatus.DELIVERED:
        write_receipts(session, event.order_id, ffd.SETTLEMENT)
    elif event.to_status in UNDELIVERED:
        paid = session.scalar(
            select(func.count())
            .select_from(FiscalReceipt)
            .where(FiscalReceipt.order_id == event.order_id, FiscalReceipt.purpose == ffd.PREPAYMENT)
        )
        if paid:
            write_receipts(session, event.order_id, ffd.REFUND)


def predecessor_state(session: Session, receipt: FiscalReceipt) -> str | None:
    """The state of the prepayment a settlement or a refund follows (None: it follows none)."""
    if receipt.purpose == ffd.PREPAYMENT:
        return None
    return session.scalar(
        select(FiscalReceipt.state).where(
            FiscalReceipt.order_id == receipt.order_id,
            FiscalReceipt.purpose == ffd.PREPAYMENT,
            FiscalReceipt.organization_id == receipt.organization_id,
            FiscalReceipt.tax_system == receipt.tax_system,
        )
    )


def receipts_of_order(session: Session, order_id: int) -> list[FiscalReceipt]:
    """An order's fiscal receipts, in the order they were written."""
    return list(
        session.scalars(
            select(FiscalReceipt).where(FiscalReceipt.order_id == order_id).order_by(FiscalReceipt.id)
        )
    )


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
