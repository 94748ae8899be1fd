"""One intake pipeline: the call centre's quote becomes the order's draft, so taking an order on the
phone normalises the number, prices the cart and locates the zone once; the order API prepares
its own draft; both run the placement policies once and write through the same step."""

from __future__ import annotations

import functools
import re
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event

from callcentre.zones import ZoneIndex
from frontoffice.phones import normalize_phone
from nomenclature.modifiers import choose
from orders.models import Order
from orders.ports import PLACEMENT_POLICIES
from tests.callcentre_fixtures import CENTRE, address, load_zones, open_around_the_clock, take_order_body
from tests.conftest import order_body


@pytest.fixture
def zones(app):
    """Demo menu, branches and zones, open at all hours."""
    load_zones(app)
    open_around_the_clock(app)


@pytest.fixture
def op(users):
    """The operator's headers."""
    return users["operator"].headers


class Calls:
    """Counts calls of real functions, wherever a module imported them, and of methods."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch):
        self.monkeypatch = monkeypatch
        self.counts: Counter[str] = Counter()

    def _counting(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            self.counts[name] += 1
            return fn(*args, **kwargs)

        return wrapper

    def function(self, name: str, fn: Callable[..., Any]) -> None:
        """Count every call of ``fn`` through any module-level name bound to it."""
        wrapper = self._counting(name, fn)
        for module in list(sys.modules.values()):
            for attr, value in list(getattr(module, "__dict__", {}).items()):
                if value is fn:
                    self.monkeypatch.setattr(module, attr, wrapper)

    def method(self, name: str, owner: type, attr: str) -> None:
        """Count every call of ``owner.attr``."""
        self.monkeypatch.setattr(owner, attr, self._counting(name, getattr(owner, attr)))


@pytest.fixture
def calls(monkeypatch) -> Calls:
    """Phone normalisation, pricing of a line (its options chosen) and zone location, counted."""
    counter = Calls(monkeypatch)
    counter.function("normalize_phone", normalize_phone)
    counter.function("price_line", choose)
    counter.method("locate", ZoneIndex, "locate")
    return counter


@contextmanager
def statements_on(app: Any, *tables: str) -> Iterator[Counter[str]]:
    """Count the SQL statements that name each of ``tables`` while the block runs."""
    seen: Counter[str] = Counter()
    patterns = {t: re.compile(rf"\b{t}\b") for t in tables}
    engine = app.extensions["frontoffice"].db.engine

    def listen(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001
        for table, pattern in patterns.items():
            if pattern.search(statement):
                seen[table] += 1

    event.listen(engine, "before_cursor_execute", listen)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", listen)


def test_taking_an_order_on_the_phone_normalises_prices_and_locates_once(client, app, zones, op, calls):
    body = take_order_body()
    resp = client.post("/api/v1/callcentre/orders", json=body, headers=op)
    assert resp.status_code == 201, resp.json
    assert calls.counts["normalize_phone"] == 1
    assert calls.counts["price_line"] == len(body["lines"])
    assert calls.counts["locate"] == 1


def test_taking_an_order_on_the_phone_reads_the_stop_list_rules_and_zones_once(client, app, zones, op):
    warm = {"kind": "delivery", "address": address(CENTRE), "lines": take_order_body()["lines"]}
    assert client.post("/api/v1/callcentre/quote", json=warm, headers=op).status_code == 200  # compiles zones
    with statements_on(app, "stop_list", "distribution_state", "delivery_zones") as seen:
        resp = client.post("/api/v1/callcentre/orders", json=take_order_body(), headers=op)
    assert resp.status_code == 201, resp.json
    assert seen == {"stop_list": 1, "distribution_state": 1, "delivery_zones": 1}


def test_the_quote_resolves_the_draft_the_order_is_written_from(client, app, zones, op):
    resp = client.post("/api/v1/callcentre/orders", json=take_order_body(), headers=op)
    assert resp.status_code == 201
    order = resp.json
    kernel = app.extensions["frontoffice"]
    with kernel.db.reading() as s:
        stored = s.get(Order, order["id"])
        created = stored.events[0]
        assert created.kind == "created"
        # The zone the quote located is in the order's history, noted once.
        assert created.payload["zone_id"] is not None
        assert len([n for n in created.payload["notes"] if n.startswith("zone Centre: fee ")]) == 1
        # The lines carry the catalogue's VAT and the organization distribution gave them.
        assert all(ln.organization_id is not None and ln.vat_rate for ln in stored.lines)
        assert len(stored.receipts) >= 1


def test_the_order_api_prepares_its_own_draft_and_locates_it_once(client, app, zones, op, calls):
    body = order_body()
    assert (body["address"]["lat"], body["address"]["lon"]) == CENTRE
    resp = client.post("/api/v1/orders", json=body, headers=op)
    assert resp.status_code == 201, resp.json
    assert calls.counts["normalize_phone"] == 1
    assert calls.counts["price_line"] == len(body["lines"])
    assert calls.counts["locate"] == 1


def test_every_placement_policy_runs_once_on_either_path(client, app, zones, op, monkeypatch):
    kernel = app.extensions["frontoffice"]
    ran: Counter[str] = Counter()
    chain = kernel.extensions.all(PLACEMENT_POLICIES)
    assert chain, "the app registers placement policies"

    def counted(policy: Callable[..., Any], name: str) -> Callable[..., Any]:
        def run(session: Any, draft: Any) -> None:
            ran[name] += 1
            policy(session, draft)

        return run

    wrapped = [counted(p, f"policy{i}") for i, p in enumerate(chain)]
    every = kernel.extensions.all
    monkeypatch.setattr(kernel.extensions, "all", lambda c: wrapped if c is PLACEMENT_POLICIES else every(c))
    assert client.post("/api/v1/callcentre/orders", json=take_order_body(), headers=op).status_code == 201
    assert set(ran.values()) == {1} and len(ran) == len(chain)
    ran.clear()
    assert client.post("/api/v1/orders", json=order_body(), headers=op).status_code == 201
    assert set(ran.values()) == {1} and len(ran) == len(chain)


def test_the_order_api_prices_locates_and_screens_before_it_takes_the_writer_s_turn(client, app, zones, op):
    """Only the write of an order runs in its write transaction (on SQLite the one writer's lock):
    the catalogue, the stop-list, the zones and the caller's history are read before it, so the
    relay and the other requests wait for the lock the time of a few INSERTs only."""
    transactions: list[list[str]] = []  # the statements of each write transaction, in turn
    engine = app.extensions["frontoffice"].db.engine

    def begin(conn):  # noqa: ANN001
        if conn.get_execution_options().get("sqlite_immediate"):
            transactions.append([])

    def listen(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001
        if conn.get_execution_options().get("sqlite_immediate") and transactions:
            transactions[-1].append(" ".join(statement.split()))

    event.listen(engine, "begin", begin)
    event.listen(engine, "before_cursor_execute", listen)
    try:
        resp = client.post("/api/v1/orders", json=order_body(), headers=op)
    finally:
        event.remove(engine, "before_cursor_execute", listen)
        event.remove(engine, "begin", begin)
    assert resp.status_code == 201, resp.json
    (order_write,) = [t for t in transactions if any(s.startswith("INSERT INTO orders ") for s in t)]
    reads = re.compile(r"\bFROM (items|stop_list|delivery_zones|antifraud_rules|branches|orders)\b")
    assert [s for s in order_write if s.startswith("SELECT") and reads.search(s)] == []
