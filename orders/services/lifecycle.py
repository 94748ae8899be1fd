"""An order's life after it is placed: read it, list them, move it through the state machine, cancel it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.exc import StaleDataError

from frontoffice.db import publish, utcnow
from frontoffice.errors import Conflict, InvalidInput, NotFound, field_error
from frontoffice.models import Role, User
from orders.events import OrderStatusChanged
from orders.models import Order, OrderEvent
from orders.services.revenue import UNSOLD, add_revenue
from orders.states import NEEDS_REASON, IllegalTransition, OrderStatus, check_transition


@dataclass(frozen=True)
class TrainingView:
    """Which orders a caller may see by id as far as training goes: a trainee only the training orders
    they took; a trainer (``trainer``) every order; anyone else no training order."""

    trainee_id: int | None = None
    trainer: bool = True

    def admits(self, order: Order) -> bool:
        """True when this caller may see ``order``."""
        if self.trainee_id is not None:
            return order.training and order.created_by == self.trainee_id
        return self.trainer or not order.training


#: Every order (services, jobs and trainers).
EVERY_ORDER = TrainingView()

#: Who sees every training order by id: those who train.
TRAINERS = frozenset({Role.MANAGER, Role.ADMIN})


def training_view(user: User) -> TrainingView:
    """Which orders ``user`` may see by id: a trainee only their training orders, a trainer every
    order, anyone else no training order."""
    if user.trainee:
        return TrainingView(trainee_id=user.id)
    return TrainingView(trainer=user.role in TRAINERS)


def get_order(
    session: Session,
    order_id: int,
    *,
    within: Collection[int] | None = None,
    training: TrainingView = EVERY_ORDER,
) -> Order:
    """The order, or :class:`NotFound` — also for an order of a branch outside ``within`` (the
    caller's branch scope, see ``frontoffice.auth.branch_scope``; None: every branch) or one the
    caller's ``training`` view does not admit."""
    order = session.get(Order, order_id)
    if order is None or (within is not None and order.branch_id not in within) or not training.admits(order):
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
    within: Collection[int] | None = None,
    training: TrainingView = EVERY_ORDER,
) -> Order:
    """Move an order through the state machine, with an audit event; 409 on an illegal move, 404
    for an order of a branch outside ``within``."""
    try:
        to = OrderStatus(target)
    except ValueError:
        raise InvalidInput(
            f"Unknown status {target!r}; known: {', '.join(s.value for s in OrderStatus)}.",
            errors=[field_error("status", "Unknown status.")],
        ) from None
    order = get_order(session, order_id, within=within, training=training)
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
            errors=[field_error("reason", "A reason is required.")],
        )
    now = now or utcnow()
    history = order.events  # load the trail before changing the row (a lazy load autoflushes)
    taken_back: dict[int, int] = {}
    if to in UNSOLD and current not in UNSOLD:
        for r in order.receipts:  # an order that ends unsold takes its sales back out of the revenue
            taken_back[r.organization_id] = taken_back.get(r.organization_id, 0) - r.total
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
    if not order.training:
        add_revenue(session, order.business_date.year, taken_back)
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
            training=order.training,
        ),
    )
    return order


def cancel(
    session: Session,
    order_id: int,
    reason: str,
    *,
    actor_id: int | None = None,
    within: Collection[int] | None = None,
    training: TrainingView = EVERY_ORDER,
) -> Order:
    """Cancel an order that has not left with a courier; a reason is required."""
    return change_status(
        session,
        order_id,
        OrderStatus.CANCELLED,
        actor_id=actor_id,
        reason=reason,
        within=within,
        training=training,
    )


@dataclass(frozen=True)
class OrderFilter:
    """Filters of the order list."""

    status: Sequence[str] = ()
    branch_id: int | None = None
    #: Only orders of these branches (the caller's branch scope); None: every branch.
    branch_ids: Collection[int] | None = None
    business_date: dt.date | None = None
    phone: str | None = None
    #: None: real orders only; a trainee's id: only the training orders that trainee took.
    trainee_id: int | None = None
    page: int = 1
    per_page: int = 50


def list_orders(session: Session, flt: OrderFilter) -> tuple[list[Order], int]:
    """A page of orders, newest first, and the number of matching orders (with their lines,
    delivery positions and receipts, loaded in one query each)."""
    conditions = (
        [Order.training.is_(False)]
        if flt.trainee_id is None
        else [
            Order.training.is_(True),
            Order.created_by == flt.trainee_id,
        ]
    )
    if flt.status:
        conditions.append(Order.status.in_(list(flt.status)))
    if flt.branch_id is not None:
        conditions.append(Order.branch_id == flt.branch_id)
    if flt.branch_ids is not None:
        conditions.append(Order.branch_id.in_(list(flt.branch_ids)))
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
            .options(selectinload(Order.lines), selectinload(Order.charges), selectinload(Order.receipts))
        )
        .unique()
        .all()
    )
    return list(rows), total
