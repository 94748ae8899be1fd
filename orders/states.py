"""The order state machine: one explicit transition table (pure)."""

from __future__ import annotations

import enum


class OrderStatus(enum.StrEnum):
    """Where an order is in its life."""

    NEW = "new"
    ON_HOLD = "on_hold"
    CONFIRMED = "confirmed"
    COOKING = "cooking"
    READY = "ready"
    IN_DELIVERY = "in_delivery"
    DELIVERED = "delivered"
    FAILED = "failed"
    REJECTED = "rejected"
    CANCELLED = "cancelled"


S = OrderStatus

#: Every allowed move. Cancelling is allowed from any state before in_delivery.
TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    S.NEW: frozenset({S.CONFIRMED, S.ON_HOLD, S.CANCELLED}),
    S.ON_HOLD: frozenset({S.CONFIRMED, S.REJECTED, S.CANCELLED}),
    S.CONFIRMED: frozenset({S.COOKING, S.CANCELLED}),
    S.COOKING: frozenset({S.READY, S.CANCELLED}),
    S.READY: frozenset({S.IN_DELIVERY, S.CANCELLED}),
    S.IN_DELIVERY: frozenset({S.DELIVERED, S.FAILED}),
    S.DELIVERED: frozenset(),
    S.FAILED: frozenset(),
    S.REJECTED: frozenset(),
    S.CANCELLED: frozenset(),
}

TERMINAL = frozenset(s for s, nxt in TRANSITIONS.items() if not nxt)
ACTIVE = frozenset(OrderStatus) - TERMINAL
#: States in which a courier may take a delivery order from the pool.
POOL_STATES = frozenset({S.CONFIRMED, S.COOKING, S.READY})
#: Transitions that need a reason.
NEEDS_REASON = frozenset({S.CANCELLED, S.REJECTED, S.FAILED})


class IllegalTransition(ValueError):
    """The order cannot move from its state to the requested one."""

    def __init__(self, current: OrderStatus, target: OrderStatus):
        self.current = current
        self.target = target
        self.allowed = sorted(TRANSITIONS[current])
        allowed = ", ".join(self.allowed) or "none (the order is closed)"
        super().__init__(f"An order in state {current} cannot move to {target}; allowed: {allowed}.")


def can_transition(current: OrderStatus, target: OrderStatus) -> bool:
    """True if the table allows ``current → target``."""
    return target in TRANSITIONS[current]


def check_transition(current: OrderStatus, target: OrderStatus) -> None:
    """Raise :class:`IllegalTransition` unless the table allows the move."""
    if not can_transition(current, target):
        raise IllegalTransition(current, target)


def is_cancellable(current: OrderStatus) -> bool:
    """True before the order leaves with a courier."""
    return can_transition(current, S.CANCELLED)


#: States in which the operator who took the order may still change it: the kitchen has not started.
OPERATOR_EDITABLE = frozenset({S.NEW, S.ON_HOLD, S.CONFIRMED})
#: States in which only a manager may change an order, and must say why: cooking has begun.
MANAGER_EDITABLE = ACTIVE - OPERATOR_EDITABLE


class EditRefused(ValueError):
    """Who may change an order in its state, and why the one asking may not."""

    def __init__(self, current: OrderStatus, reason: str):
        self.current = current
        self.reason = reason  # "closed": nobody may; "manager": a manager must
        super().__init__(
            f"An order in state {current} is closed; it cannot be changed."
            if reason == "closed"
            else f"The kitchen has started on this order ({current}); only a manager may change it now."
        )


def check_edit(current: OrderStatus, *, manager: bool) -> bool:
    """Raise :class:`EditRefused` unless whoever asks may change an order in state ``current``;
    True when the change needs a reason (a manager changing an order the kitchen has started)."""
    if current in OPERATOR_EDITABLE:
        return False
    if current not in MANAGER_EDITABLE:
        raise EditRefused(current, "closed")
    if not manager:
        raise EditRefused(current, "manager")
    return True


def may_edit(current: str, *, manager: bool) -> bool:
    """True when whoever asks may change an order in state ``current`` (see :func:`check_edit`)."""
    try:
        check_edit(OrderStatus(current), manager=manager)
    except EditRefused:
        return False
    return True
