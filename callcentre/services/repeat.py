"""Repeating a previous order: its lines as a new cart at today's prices, paid as last time."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from callcentre.services.order_entry import CartLine, price_cart
from frontoffice.errors import NotFound
from orders.models import Order
from orders.pricing import PricedLine


@dataclass
class RepeatCart:
    """A previous order's lines as a new cart, what had to be left out, and how the client paid
    (``change_from`` in minor units, cash only) — the operator confirms or changes it."""

    order: Order
    lines: list[PricedLine]
    skipped: list[dict[str, Any]]
    payment_kind: str
    change_from: int | None

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
    priced, problems = price_cart(session, cart, order.branch_id)
    reasons: dict[int, str] = {}
    for problem in problems:
        index = int(problem["field"].split(".")[1])
        reasons.setdefault(index, problem["message"])
    skipped = [
        {"sku": ln.sku, "name": ln.name, "quantity": ln.quantity, "reason": reasons[i]}
        for i, ln in enumerate(old)
        if i in reasons
    ]
    return RepeatCart(
        order=order,
        lines=priced,
        skipped=skipped,
        payment_kind=order.payment_kind,
        change_from=order.change_from if order.payment_kind == "cash" else None,
    )
