"""The order state machine, every (state, target) pair against the one table."""

from __future__ import annotations

import itertools

import pytest

from orders.states import (
    TERMINAL,
    TRANSITIONS,
    IllegalTransition,
    OrderStatus,
    can_transition,
    check_transition,
    is_cancellable,
)

S = OrderStatus
EXPECTED = {
    (S.NEW, S.CONFIRMED),
    (S.NEW, S.ON_HOLD),
    (S.NEW, S.CANCELLED),
    (S.ON_HOLD, S.CONFIRMED),
    (S.ON_HOLD, S.REJECTED),
    (S.ON_HOLD, S.CANCELLED),
    (S.CONFIRMED, S.COOKING),
    (S.CONFIRMED, S.CANCELLED),
    (S.COOKING, S.READY),
    (S.COOKING, S.CANCELLED),
    (S.READY, S.IN_DELIVERY),
    (S.READY, S.CANCELLED),
    (S.IN_DELIVERY, S.DELIVERED),
    (S.IN_DELIVERY, S.FAILED),
}


@pytest.mark.parametrize(("current", "target"), list(itertools.product(OrderStatus, OrderStatus)))
def test_every_pair_follows_the_table(current, target):
    allowed = (current, target) in EXPECTED
    assert can_transition(current, target) is allowed
    if allowed:
        check_transition(current, target)
    else:
        with pytest.raises(IllegalTransition) as err:
            check_transition(current, target)
        assert err.value.allowed == sorted(TRANSITIONS[current])


def test_cancelling_is_possible_exactly_before_in_delivery():
    before = {S.NEW, S.ON_HOLD, S.CONFIRMED, S.COOKING, S.READY}
    assert {s for s in OrderStatus if is_cancellable(s)} == before


def test_closed_states_go_nowhere():
    assert TERMINAL == {S.DELIVERED, S.FAILED, S.REJECTED, S.CANCELLED}


def test_the_refusal_names_the_allowed_states():
    with pytest.raises(IllegalTransition, match="allowed: cancelled, confirmed, on_hold"):
        check_transition(S.NEW, S.DELIVERED)
