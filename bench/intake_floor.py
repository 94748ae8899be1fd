"""What an order's own SQL costs with nothing around it: the floor under ``bench/intake_cpu.py``.

:func:`capture` records, for each of the intake bench's order bodies, every statement the order
API sends to SQLite (through an engine listener, with their parameters as the driver got them),
split into the transactions it ran them in: the bearer token's look, the read session that prices,
locates and screens the order, and the write. :func:`create_floor_app` then serves ``POST /floor``
as bare as ``bench/baseline_app.py`` serves ``/bare`` — Flask, the JSON body read, a JSON answer —
and runs the captured statements of that body again, unchanged, straight on one sqlite3
connection: each read transaction between ``BEGIN`` and ``ROLLBACK``, the write between
``BEGIN IMMEDIATE`` and ``COMMIT``. Only what must differ to write a new order differs: its number
and sequence, and the id its lines, receipts, events and antifraud rows point to.

So the floor is our order's SQL at the driver's own price, with no authentication, pricing,
zones, antifraud rules, distribution, ORM or endpoint machinery in Python: what any implementation
of this API on this stack pays at the least. It is a measuring tool, not a product path.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from flask import Flask, Response, request
from sqlalchemy import event

_INSERT = re.compile(r"^\s*INSERT INTO (\w+) \(([^)]*)\) VALUES", re.IGNORECASE)


@dataclass
class Transaction:
    """The statements one connection ran in a row: a read transaction, or the write."""

    statements: list[tuple[str, tuple[Any, ...]]] = field(default_factory=list)

    @property
    def writes(self) -> bool:
        """True for the write transaction (it inserts)."""
        return any(_INSERT.match(sql) for sql, _ in self.statements)


@dataclass
class CapturedOrder:
    """One placed order as the database saw it, and the answer the API gave."""

    order_id: int
    transactions: list[Transaction]
    answer: bytes

    @property
    def statement_count(self) -> int:
        """Statements the order API sent to SQLite for this order."""
        return sum(len(t.statements) for t in self.transactions)


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, Enum) else value


def capture(client: Any, engine: Any, bodies: list[bytes], headers: dict[str, str]) -> list[CapturedOrder]:
    """Place each body once through the order API, recording its statements per transaction (the
    engine's ``begin`` events mark where each starts)."""
    current: list[Transaction] = []

    def began(conn: Any) -> None:
        current.append(Transaction())

    def executed(conn, cursor, sql, params, context, executemany):  # noqa: ANN001, ARG001
        if not current:
            current.append(Transaction())
        current[-1].statements.append((sql, tuple(_plain(p) for p in params or ())))

    captured = []
    event.listen(engine, "begin", began)
    event.listen(engine, "before_cursor_execute", executed)
    try:
        for body in bodies:
            current.clear()
            resp = client.post("/api/v1/orders", data=body, headers=headers)
            if resp.status_code != 201:
                raise RuntimeError(f"capture: the order API answered {resp.status_code}")
            transactions = [t for t in current if t.statements]
            captured.append(CapturedOrder(resp.get_json()["id"], transactions, resp.get_data()))
    finally:
        event.remove(engine, "before_cursor_execute", executed)
        event.remove(engine, "begin", began)
    return captured


class _Replayer:
    """Runs a captured order's statements again on one sqlite3 connection, as a new order."""

    def __init__(self, database: str):
        self.conn = sqlite3.connect(database, isolation_level=None, check_same_thread=False)
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON", "busy_timeout=5000"):
            self.conn.execute(f"PRAGMA {pragma}")
        self.serial = 0

    def replay(self, order: CapturedOrder) -> int:
        """Place ``order`` again; the new order's id."""
        self.serial += 1
        new_id = order.order_id
        for tx in order.transactions:
            writes = tx.writes
            self.conn.execute("BEGIN IMMEDIATE" if writes else "BEGIN")
            try:
                for sql, params in tx.statements:
                    values = list(params)
                    insert = _INSERT.match(sql)
                    if insert:
                        table, columns = insert.group(1), [c.strip() for c in insert.group(2).split(",")]
                        if table == "orders":
                            values[columns.index("number")] = f"FLOOR-{self.serial}"
                            values[columns.index("seq")] = 1_000_000 + self.serial
                            new_id = self.conn.execute(sql, values).fetchall()[0][0]
                            continue
                        if "order_id" in columns:
                            at, width = columns.index("order_id"), len(columns)
                            for i in range(at, len(values), width):
                                values[i] = new_id
                    self.conn.execute(sql, values).fetchall()
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT" if writes else "ROLLBACK")
        return new_id


def create_floor_app(database: str, captured: list[CapturedOrder]) -> Flask:
    """A bare Flask app whose ``POST /floor/<k>`` reads the JSON body, replays captured order ``k``
    and answers that order's captured answer."""
    replayer = _Replayer(database)
    app = Flask("bench_floor")

    @app.post("/floor/<int:k>")
    def floor(k: int) -> Response:
        """Parse the body, run order ``k``'s SQL, answer its JSON."""
        request.get_json()
        order = captured[k % len(captured)]
        replayer.replay(order)
        return Response(order.answer, status=201, mimetype="application/json")

    return app
