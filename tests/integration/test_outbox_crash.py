"""Crash safety of the bookkeeping (issue 15): real server processes place and deliver orders under
load; ``kill -9`` the server (its relay a thread of it), and separately the worker (the relay as its
own process beside a web process with ``FRONTOFFICE_RELAY=off``), mid-load; restart. Every
acknowledged order then has its client statistics, bonus lines and loyalty entries exactly once
(counted), on SQLite and, when configured, PostgreSQL."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
import requests
from sqlalchemy import func, select
from werkzeug.serving import make_server

from backoffice.models import BonusEntry
from callcentre.models import ClientStats
from frontoffice.app import create_app
from frontoffice.outbox import OutboxEvent, OutboxState
from frontoffice.webhooks.models import WebhookDelivery
from frontoffice.webhooks.services import EndpointChange, register_endpoint
from monitor.models import LoyaltyFact
from orders.models import Order
from tests.backoffice_helpers import bonus_rule
from tests.conftest import load_demo_catalogue, make_users
from tests.integration.test_idempotency_after_crash import KeyedLoad, _query, _serve, post_order
from tests.integration.test_webhooks import Receiver
from tests.server_processes import ServerProcess, clean_env, frontoffice_command

pytestmark = pytest.mark.slow

SENDERS = 6
DELIVERY = ("confirmed", "cooking", "ready", "in_delivery", "delivered")


@dataclass
class OrderLoad(KeyedLoad):
    """Threads that each place an order (the operator's ``token``) and take it to delivered (the
    ``manager``'s token), noting every acknowledgement. Half the threads send an ``Idempotency-Key``
    (the order and its answer commit together); the others none, so their orders share commits
    (group commit) when they arrive together."""

    manager: str = ""
    placed: set[int] = field(default_factory=set)
    delivered: set[int] = field(default_factory=set)

    def _send(self, sender: int) -> None:
        http = requests.Session()
        count = 0
        while not self._stop.is_set():
            key = f"{self.url}-{sender}-{count}"
            count += 1
            try:
                resp = post_order(http, self.url, self.token, key, keyed=sender % 2 == 0)
                if resp.status_code != 201:
                    continue
                order_id = resp.json()["id"]
                with self._lock:
                    self.placed.add(order_id)
                for status in DELIVERY:
                    moved = http.post(
                        f"{self.url}/api/v1/orders/{order_id}/status",
                        json={"status": status},
                        headers={"Authorization": f"Bearer {self.manager}"},
                        timeout=20,
                    )
                    if moved.status_code == 200 and status == "delivered":
                        with self._lock:
                            self.delivered.add(order_id)
            except requests.RequestException:
                return  # the server is gone

    def wait_for(self, placed: int, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while (len(self.placed) < placed or not self.delivered) and time.monotonic() < deadline:
            time.sleep(0.05)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A webhook receiver answering 200 to everything, on a free port of this test process."""
    hook = Receiver()
    server = make_server("127.0.0.1", 0, hook, threaded=True)
    hook.url = f"http://127.0.0.1:{server.port}/hooks"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield hook
    server.shutdown()


def prepare(database_url: str, tmp_path, receiver: Receiver) -> tuple[dict, dict[str, str]]:
    setup = create_app({"database_url": database_url, "instance_path": tmp_path / "setup", "relay": "inline"})
    load_demo_catalogue(setup)
    users = make_users(setup)
    kernel = setup.extensions["frontoffice"]
    bonus_rule(kernel, "order_taken", amount=1000)
    bonus_rule(kernel, "order_delivered", amount=500)
    with kernel.db.unit_of_work() as s:
        change = EndpointChange(
            url=receiver.url, events=["order_placed"], secret="crash-test-secret-of-24-chars"
        )
        register_endpoint(s, change, hosts=frozenset({"127.0.0.1"}), known_events=["order_placed"])
    kernel.db.dispose()
    tokens = {"operator": users["operator"].token, "manager": users["manager"].token}
    env = clean_env(
        database_url=database_url,
        secret_key="crash-test",
        instance_path=str(tmp_path / "instance"),
        webhook_allowed_hosts="127.0.0.1",
    )
    return env, tokens


def wait_until_delivered(database_url: str, timeout: float = 60) -> None:
    """Until the relay has delivered every row and the sender every webhook (none pending)."""
    pending = select(func.count()).select_from(OutboxEvent).where(OutboxEvent.state != OutboxState.DONE)
    unsent = select(func.count()).select_from(WebhookDelivery).where(WebhookDelivery.status != "delivered")
    deadline = time.monotonic() + timeout
    left = None
    while time.monotonic() < deadline:
        left = (_query(database_url, pending)[0][0], _query(database_url, unsent)[0][0])
        if left == (0, 0):
            return
        time.sleep(0.2)
    raise AssertionError(f"{left} outbox rows / webhooks still not delivered after {timeout} s")


def assert_bookkept_exactly_once(database_url: str, load: OrderLoad, receiver: Receiver) -> None:
    orders = dict(_query(database_url, select(Order.id, Order.status)))
    delivered = {i for i, status in orders.items() if status == "delivered"}
    assert load.placed <= set(orders) and load.delivered <= delivered
    assert load.delivered, "the load delivered no order before the kill"
    [(placed_count, delivered_count)] = _query(
        database_url, select(func.sum(ClientStats.orders_count), func.sum(ClientStats.delivered_count))
    )
    assert (placed_count, delivered_count) == (len(orders), len(delivered))
    lines = _query(
        database_url,
        select(BonusEntry.operation, BonusEntry.subject_id, func.count()).group_by(
            BonusEntry.operation, BonusEntry.subject_id
        ),
    )
    taken = {subject: n for op, subject, n in lines if op == "order_taken"}
    paid = {subject: n for op, subject, n in lines if op == "order_delivered"}
    assert taken == dict.fromkeys(orders, 1)
    assert paid == dict.fromkeys(delivered, 1)
    facts = _query(database_url, select(LoyaltyFact.order_id, func.count()).group_by(LoyaltyFact.order_id))
    assert dict(facts) == dict.fromkeys(delivered, 1)
    # One webhook delivery per placed order, each received (at least once: a kill between the
    # receiver's answer and its record sends it again, under the same webhook-id).
    hooks = _query(database_url, select(WebhookDelivery.event_id, WebhookDelivery.body))
    placed_events = {json.loads(body)["data"]["order_id"]: event_id for event_id, body in hooks}
    assert len(placed_events) == len(hooks) and set(placed_events) == set(orders)
    received = {h["webhook-id"] for h, _body in receiver.got}
    assert received == {f"evt_{event_id}" for event_id in placed_events.values()}


def test_killing_the_server_mid_load_loses_no_bookkeeping_and_doubles_none(database_url, tmp_path, receiver):
    env, tokens = prepare(database_url, tmp_path, receiver)
    first = _serve(env, tmp_path, "first")
    load = OrderLoad(first.url, tokens["operator"], manager=tokens["manager"])
    try:
        load.start(SENDERS)
        load.wait_for(placed=30)
        first.kill()
    finally:
        load.stop()
        first.stop()
    pending = _query(
        database_url,
        select(func.count()).select_from(OutboxEvent).where(OutboxEvent.state == OutboxState.PENDING),
    )[0][0]
    print(f"killed after {len(load.placed)} orders acknowledged, {pending} events left undelivered")
    second = _serve(env, tmp_path, "second")  # its relay thread delivers what the first left
    try:
        wait_until_delivered(database_url)
    finally:
        second.stop()
    assert_bookkept_exactly_once(database_url, load, receiver)


def test_killing_the_worker_mid_load_loses_no_bookkeeping_and_doubles_none(database_url, tmp_path, receiver):
    env, tokens = prepare(database_url, tmp_path, receiver)
    web_env = {**env, "FRONTOFFICE_RELAY": "off"}
    web = _serve(web_env, tmp_path, "web")
    worker = ServerProcess(["worker"], 0, env, tmp_path, name="worker-1")
    load = OrderLoad(web.url, tokens["operator"], manager=tokens["manager"])
    try:
        load.start(SENDERS)
        load.wait_for(placed=30)
        worker.kill()
        killed_with = len(load.placed)
        load.wait_for(placed=killed_with + 10)  # intake goes on without a worker
        restarted = ServerProcess(["worker"], 0, env, tmp_path, name="worker-2")
        load.wait_for(placed=killed_with + 20)
    finally:
        load.stop()
    try:
        wait_until_delivered(database_url)
    finally:
        web.stop()
        restarted.stop()
    assert "outbox worker" in restarted.log_path.read_text()
    assert_bookkept_exactly_once(database_url, load, receiver)


def test_the_worker_command_exists():
    import subprocess

    done = subprocess.run(
        [*frontoffice_command(), "worker", "--help"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0 and "Deliver the outbox" in done.stdout
