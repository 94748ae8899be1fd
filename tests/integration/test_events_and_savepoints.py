"""Events wait for the real commit: releasing a SAVEPOINT publishes nothing, rolling one back
forgets only what was published inside it."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, select

from frontoffice.errors import InvalidInput
from orders import services
from orders.events import OrderPlaced
from orders.models import Order
from tests.helpers import order_command

pytestmark = pytest.mark.usefixtures("catalogue")


def test_an_order_placed_inside_a_savepoint_is_announced_only_after_the_commit(kernel):
    heard: list[int] = []
    kernel.bus.subscribe(OrderPlaced, lambda event: heard.append(event.order_id))
    with kernel.db.unit_of_work() as s:
        with s.begin_nested():
            order = services.place_order(s, order_command())
        assert heard == []  # the savepoint is released, the transaction still open
    assert heard == [order.id]


def test_a_subscriber_writing_after_a_savepoint_finds_the_database_free(kernel):
    """The subscriber's own write transaction starts after the commit, so it neither waits
    for the enclosing transaction nor fails on the busy timeout."""
    written: list[int] = []

    def note(event: OrderPlaced) -> None:
        with kernel.db.unit_of_work() as w:
            w.execute(select(Order.id).where(Order.id == event.order_id))
        written.append(event.order_id)

    kernel.bus.subscribe(OrderPlaced, note)
    with kernel.db.unit_of_work() as s:
        for phone in ("+79123456789", "+79123456780"):
            with s.begin_nested():
                services.place_order(s, order_command(client_phone=phone))
    assert len(written) == 2


def test_a_savepoint_rolled_back_forgets_only_its_own_events(kernel):
    heard: list[str] = []
    kernel.bus.subscribe(OrderPlaced, lambda event: heard.append(event.client_phone))
    with kernel.db.unit_of_work() as s:
        services.place_order(s, order_command(client_phone="+79123456789"))
        with pytest.raises(InvalidInput), s.begin_nested():
            ghost = services.place_order(s, order_command(client_phone="+79123456780"))
            services.place_order(s, order_command(("NO-SUCH-ITEM", 1), client_phone="+79123456781"))
        # as after a flush: the session forgets what the savepoint's rollback took back
        assert inspect(ghost).transient and all(inspect(line).transient for line in ghost.lines)
        services.place_order(s, order_command(client_phone="+79123456782"))
    assert heard == ["+79123456789", "+79123456782"]
    with kernel.db.reading() as s:
        assert s.scalars(select(Order.client_phone).order_by(Order.id)).all() == [
            "+79123456789",
            "+79123456782",
        ]


def test_nothing_is_announced_when_the_whole_transaction_rolls_back(kernel):
    heard: list[int] = []
    kernel.bus.subscribe(OrderPlaced, lambda event: heard.append(event.order_id))
    with pytest.raises(RuntimeError), kernel.db.unit_of_work() as s:
        with s.begin_nested():
            services.place_order(s, order_command())
        raise RuntimeError("the caller fails after the savepoint")
    assert heard == []


def _phones(kernel) -> list[str]:
    with kernel.db.reading() as s:
        return s.scalars(select(Order.client_phone).order_by(Order.id)).all()


def test_units_of_work_inside_one_transaction_commit_with_it_and_fail_alone(kernel):
    heard: list[str] = []
    kernel.bus.subscribe(OrderPlaced, lambda event: heard.append(event.client_phone))
    with kernel.db.one_transaction():
        with kernel.db.unit_of_work() as s:
            services.place_order(s, order_command(client_phone="+79123456789"))
        with pytest.raises(InvalidInput), kernel.db.unit_of_work() as s:
            services.place_order(s, order_command(("NO-SUCH-ITEM", 1), client_phone="+79123456780"))
        with kernel.db.reading() as s:  # a read after the first write sees it
            assert s.scalars(select(Order.client_phone)).all() == ["+79123456789"]
        assert heard == []  # nothing is announced before the one commit
    assert heard == ["+79123456789"]
    assert _phones(kernel) == ["+79123456789"]


def test_an_error_in_one_transaction_takes_back_every_unit_of_work_inside_it(kernel):
    heard: list[str] = []
    kernel.bus.subscribe(OrderPlaced, lambda event: heard.append(event.client_phone))
    with pytest.raises(RuntimeError, match="the process dies"), kernel.db.one_transaction():
        with kernel.db.unit_of_work() as s:
            services.place_order(s, order_command(client_phone="+79123456789"))
        raise RuntimeError("the process dies before the answer is recorded")
    assert heard == [] and _phones(kernel) == []
