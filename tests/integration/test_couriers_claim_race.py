"""Couriers racing for the pool: every order is claimed exactly once, nobody exceeds its maximum
(SQLite and PostgreSQL)."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter

import pytest
from sqlalchemy import func, select

from orders.models import Order, OrderEvent
from tests.couriers_fixtures import make_courier, pool_order

pytestmark = pytest.mark.usefixtures("catalogue")

COURIERS = 20
ORDERS = 50
MAX_ACTIVE = 3


def race(app, attempts: list[tuple[dict[str, str], list[int]]]) -> list[tuple[int, int, int]]:
    """Run one thread per attempt list, all starting together; returns (thread, order, status) answers.

    A 503 (the database too busy to answer in time, docs/api.md) is retried as the courier app
    retries it; the answer kept is the final one."""
    barrier = threading.Barrier(len(attempts))
    answers: list[tuple[int, int, int]] = []
    lock = threading.Lock()
    failures: list[BaseException] = []

    def run(n: int, headers: dict[str, str], order_ids: list[int]) -> None:
        client = app.test_client()
        try:
            barrier.wait(10)
            for order_id in order_ids:
                status = client.post(f"/api/courier/v1/orders/{order_id}/claim", headers=headers).status_code
                tries = 0
                while status == 503 and tries < 20:  # "busy, try again": what the courier's phone does
                    tries += 1
                    time.sleep(0.02 * tries)
                    status = client.post(
                        f"/api/courier/v1/orders/{order_id}/claim", headers=headers
                    ).status_code
                with lock:
                    answers.append((n, order_id, status))
        except BaseException as exc:  # reported by the main thread
            failures.append(exc)

    threads = [threading.Thread(target=run, args=(n, h, ids)) for n, (h, ids) in enumerate(attempts)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not failures, failures
    return answers


def test_twenty_couriers_racing_for_fifty_orders_claim_each_exactly_once(app, db):
    couriers = [make_courier(app, f"Racer {n}", max_active=MAX_ACTIVE) for n in range(COURIERS)]
    orders = [pool_order(app, status=random.choice(["confirmed", "cooking", "ready"])) for _ in range(ORDERS)]
    rng = random.Random(6)
    attempts = [(c.headers, rng.sample(orders, len(orders))) for c in couriers]

    answers = race(app, attempts)

    statuses = Counter(status for _, _, status in answers)
    assert set(statuses) <= {200, 409}, statuses
    wins = [(n, order_id) for n, order_id, status in answers if status == 200]
    assert sorted(order_id for _, order_id in wins) == sorted(orders)  # each order won exactly once
    with db.reading() as s:
        holders = dict(s.execute(select(Order.id, Order.courier_id).where(Order.id.in_(orders))).all())
        per_courier = Counter(holders.values())
        audits = s.scalar(
            select(func.count()).select_from(OrderEvent).where(OrderEvent.kind == "courier_assigned")
        )
    assert None not in per_courier
    assert max(per_courier.values()) <= MAX_ACTIVE
    assert {couriers[n].id for n, _ in wins} == set(per_courier)
    assert all(holders[order_id] == couriers[n].id for n, order_id in wins)
    assert audits == ORDERS


def test_one_courier_on_five_phones_never_exceeds_the_maximum(app, db):
    courier = make_courier(app, "Greedy", max_active=2)
    orders = [pool_order(app, status="ready") for _ in range(10)]
    rng = random.Random(7)
    answers = race(app, [(courier.headers, rng.sample(orders, len(orders))) for _ in range(5)])
    # A phone re-claiming an order its courier already holds is answered 200 (a retry).
    assert len({order_id for _, order_id, status in answers if status == 200}) == 2
    with db.reading() as s:
        held = s.scalar(select(func.count()).select_from(Order).where(Order.courier_id == courier.id))
    assert held == 2
