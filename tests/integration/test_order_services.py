"""Order services against the database: numbering, events after commit only, concurrency."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy.orm.exc import StaleDataError

from frontoffice.errors import Conflict
from orders import services
from orders.events import OrderPlaced, OrderStatusChanged
from tests.helpers import order_command

pytestmark = pytest.mark.usefixtures("catalogue")

TWO_PEPPERONI = ("PZ-PEPP", 2)


def test_events_are_published_only_after_commit(kernel):
    heard = []
    kernel.bus.subscribe(OrderPlaced, heard.append)
    with pytest.raises(RuntimeError), kernel.db.unit_of_work() as s:
        services.place_order(s, order_command(TWO_PEPPERONI))
        raise RuntimeError("the caller fails after placing")
    assert heard == []
    with kernel.db.unit_of_work() as s:
        order = services.place_order(s, order_command(TWO_PEPPERONI))
    assert [e.order_id for e in heard] == [order.id]
    assert heard[0].total == 2 * 64900


def test_a_failing_subscriber_does_not_undo_the_order(kernel):
    def broken(_event):
        raise ValueError("subscriber bug")

    kernel.bus.subscribe(OrderStatusChanged, broken)
    with kernel.db.unit_of_work() as s:
        order = services.place_order(s, order_command(TWO_PEPPERONI))
    with kernel.db.unit_of_work() as s:
        services.change_status(s, order.id, "confirmed")
    with kernel.db.reading() as s:
        assert services.get_order(s, order.id).status == "confirmed"


def test_concurrent_orders_get_distinct_numbers(kernel):
    numbers, errors = [], []

    def place():
        try:
            with kernel.db.unit_of_work() as s:
                numbers.append(services.place_order(s, order_command(TWO_PEPPERONI)).number)
        except Exception as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=place) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(numbers) == [f"KZ1-{i:03d}" for i in range(1, 13)]


def test_two_simultaneous_moves_of_one_order_cannot_both_win(kernel):
    with kernel.db.unit_of_work() as s:
        order = services.place_order(s, order_command(TWO_PEPPERONI))
    results = []
    barrier = threading.Barrier(2)

    def move(target):
        try:
            with kernel.db.unit_of_work() as s:
                barrier.wait(5)
                services.change_status(s, order.id, target, reason="test")
            results.append(target)
        except (Conflict, StaleDataError):
            results.append("conflict")

    threads = [threading.Thread(target=move, args=("confirmed",)) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["confirmed", "conflict"]
    with kernel.db.reading() as s:
        final = services.get_order(s, order.id)
        assert final.status == "confirmed"
        assert len(final.events) == 2
