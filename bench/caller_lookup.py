"""Benchmark: the caller's dossier by phone at 1,000,000 clients and 5,000,000 orders in SQLite.

Workload: a fresh SQLite database is migrated with the real schema (Alembic), the demo menu
and branches are loaded, then 1,000,000 clients (2 % with an extra phone, one saved address
each, their statistics) and 5,000,000 orders over two years (1–3 lines each, 10 million lines
in all; a skewed share of orders per client, so some regulars have hundreds) are written with
raw ``sqlite3`` ``executemany`` in big transactions, the secondary indexes of the order tables
dropped during the load and rebuilt after it (a progress bar shows each stage).

Then, for 10,000 random known phones typed in random common formats (``+7…``, ``8 (…) …``,
``9…``), it measures the server time of ``GET /api/v1/callcentre/lookup`` through the Flask
test client — authentication, phone parsing, the dossier service (one query per block, LIMITs),
every registered dossier contributor and the JSON serialization — and, in the same run, the
baseline: one indexed ``SELECT`` of the client row by phone on the same engine.

    /work/venv/bin/python bench/caller_lookup.py [--clients 1000000] [--orders 5000000] [--lookups 10000]

Prints a table, then one JSON line:
``{"bench": "caller_lookup", "ours": <p95 ms>, "baseline": <p95 ms>, "unit": "ms", "ratio": <ours/baseline>}``.
Target: p95 <= 20 ms.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from itertools import repeat
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench_support import percentile  # noqa: E402
from sqlalchemy import text  # noqa: E402

MSK = dt.timezone(dt.timedelta(hours=3))
CHUNK = 50_000
ORDER_CHUNK = 100_000
FIRST_NAMES = ("Aigul", "Rustam", "Elena", "Ivan", "Dinara", "Timur", "Olga", "Marat", "Alsu", "Sergei")
LAST_NAMES = ("Khasanova", "Galiev", "Petrova", "Ivanov", "Safina", "Nurullin", "Smirnova", "Zakirov")
STREETS = (
    "Baumana St",
    "Pushkina St",
    "Kremlyovskaya St",
    "Pobedy Ave",
    "Chistopolskaya St",
    "Amirkhana Ave",
)


class Progress:
    """A one-line progress bar on stderr."""

    def __init__(self, label: str, total: int):
        self.label, self.total, self.done = label, total, 0
        self.started = time.monotonic()
        self._last = 0.0
        self._every = 0.2 if sys.stderr.isatty() else 5.0

    def advance(self, n: int) -> None:
        """Count ``n`` more items done."""
        self.done += n
        now = time.monotonic()
        if now - self._last > self._every or self.done >= self.total:
            self._last = now
            width = 30
            filled = int(width * self.done / max(1, self.total))
            sys.stderr.write(
                f"\r{self.label:<14} [{'#' * filled}{'.' * (width - filled)}] "
                f"{self.done:>11,}/{self.total:,}  {now - self.started:6.1f} s"
            )
            sys.stderr.flush()

    def finish(self) -> float:
        """End the line; the elapsed seconds."""
        self.advance(0)
        sys.stderr.write("\n")
        return time.monotonic() - self.started


def _stamps(sec: np.ndarray, usec: np.ndarray) -> list[str]:
    """UTC epoch seconds and microseconds as SQLAlchemy's SQLite DateTime stores them (vectorized)."""
    moments = (sec * 1_000_000 + usec).astype("datetime64[us]")
    return [t.replace("T", " ") for t in np.datetime_as_string(moments, unit="us").tolist()]


def stamp(t: dt.datetime) -> str:
    """A UTC moment as SQLAlchemy's SQLite DateTime stores it."""
    return t.strftime("%Y-%m-%d %H:%M:%S.%f")


def columns(con: sqlite3.Connection, table: str) -> set[str]:
    """The column names of a table."""
    return {row[1] for row in con.execute(f"PRAGMA table_info({table})")}


def insert(con: sqlite3.Connection, table: str, names: tuple[str, ...], rows: list[tuple]) -> None:
    """``executemany`` one chunk."""
    marks = ", ".join("?" for _ in names)
    con.executemany(f"INSERT INTO {table} ({', '.join(names)}) VALUES ({marks})", rows)


def fill(path: Path, n_clients: int, n_orders: int, seed: int) -> tuple[list[str], dict[str, float]]:
    """Write the clients and orders; return the known phones and the seconds each stage took."""
    rng = random.Random(seed)
    times: dict[str, float] = {}
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode=OFF")  # a disposable benchmark database: no rollback journal
    con.execute("PRAGMA synchronous=OFF")
    con.execute("PRAGMA cache_size=-400000")
    con.execute("PRAGMA temp_store=MEMORY")
    items = con.execute("SELECT id, sku, name, price, vat_rate FROM items WHERE active = 1").fetchall()
    branches = con.execute("SELECT id, code FROM branches ORDER BY id").fetchall()
    for needed in ("orders", "order_lines", "clients", "client_stats", "client_addresses", "client_phones"):
        assert columns(con, needed), f"table {needed} is missing: is the schema migrated?"

    # Secondary indexes of the big tables are rebuilt after the load (sorting beats random inserts).
    indexes = con.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
        "AND tbl_name IN ('orders', 'client_addresses', 'client_phones')"
    ).fetchall()
    for name, _sql in indexes:
        con.execute(f'DROP INDEX "{name}"')

    # --- clients: sorted random numbers, so the unique phone index is appended to -------------
    bar = Progress("clients", n_clients)
    # Mobile numbers +7 9xx; the 930 block is not a valid range in libphonenumber's metadata.
    prefixes = [p for p in range(900, 1000) if p != 930]
    numbers = sorted(rng.sample(range(len(prefixes) * 10**7), n_clients))
    phones = [f"+7{prefixes[n // 10**7]}{n % 10**7:07d}" for n in numbers]
    created0 = dt.datetime(2023, 1, 1, tzinfo=dt.UTC)
    names = [f"{first} {last}" for last in LAST_NAMES for first in FIRST_NAMES]
    con.execute("BEGIN")
    for start in range(0, n_clients, CHUNK):
        ids = np.arange(start, min(n_clients, start + CHUNK), dtype=np.int64)
        at = _stamps(int(created0.timestamp()) + ids % 500_000 * 60, np.zeros(len(ids), dtype=np.int64))
        rows = list(
            zip(
                (ids + 1).tolist(),
                phones[start : start + len(ids)],
                [names[i % len(names)] for i in ids.tolist()],
                repeat("", len(ids)),
                repeat("[]", len(ids)),
                repeat(0, len(ids)),
                at,
                at,
                strict=False,
            )
        )
        insert(
            con,
            "clients",
            ("id", "phone", "name", "notes", "tags", "marketing_consent", "created_at", "updated_at"),
            rows,
        )
        bar.advance(len(rows))
    extra = []
    for i in rng.sample(range(n_clients), n_clients // 50):
        extra.append((i + 1, f"+79{rng.randrange(10**9):09d}", "work", stamp(created0)))
    con.executemany(
        "INSERT OR IGNORE INTO client_phones (client_id, phone, label, created_at) VALUES (?, ?, ?, ?)", extra
    )
    con.execute("COMMIT")
    times["clients"] = bar.finish()

    # --- orders and lines, chronological over two years, generated column-wise with numpy ------
    bar = Progress("orders", n_orders)
    gen = np.random.default_rng(seed)
    base = int(dt.datetime(2024, 11, 1, 7, tzinfo=dt.UTC).timestamp())
    span = 730 * 86400
    phone_of = np.array(phones, dtype=object)
    street_of = np.array(STREETS, dtype=object)
    item_ids = np.array([i[0] for i in items])
    item_sku = np.array([i[1] for i in items], dtype=object)
    item_name = np.array([i[2] for i in items], dtype=object)
    item_price = np.array([i[3] for i in items])
    item_vat = np.array([i[4] for i in items], dtype=object)
    codes = [b[1] for b in branches]
    branch_ids = np.array([b[0] for b in branches])
    count = np.zeros(n_clients, dtype=np.int64)
    delivered_n = np.zeros(n_clients, dtype=np.int64)
    cancelled_n = np.zeros(n_clients, dtype=np.int64)
    spent = np.zeros(n_clients, dtype=np.int64)
    first_k = np.full(n_clients, n_orders, dtype=np.int64)
    last_k = np.full(n_clients, -1, dtype=np.int64)
    carry = {b: (None, 0) for b in range(len(branches))}  # per branch: (last local day, last seq)
    order_cols = (
        "id", "number", "seq", "business_date", "branch_id", "kind", "status", "client_phone", "client_name",
        "address_text", "lat", "lon", "payment_kind", "change_from", "comment", "promised_at", "items_total",
        "discount_total", "delivery_fee", "total", "courier_id", "assigned_at", "created_by", "created_at",
        "status_changed_at", "delivered_at", "version",
    )  # fmt: skip
    line_cols = (
        "order_id",
        "position",
        "item_id",
        "sku",
        "name",
        "quantity",
        "unit_price",
        "total",
        "vat_rate",
        "comment",
    )
    con.execute("BEGIN")
    for chunk_start in range(0, n_orders, ORDER_CHUNK):
        ks = np.arange(chunk_start, min(n_orders, chunk_start + ORDER_CHUNK), dtype=np.int64)
        size = len(ks)
        sec = base + span * ks // n_orders
        c = np.minimum(
            n_clients - 1, (n_clients * gen.random(size) ** 1.6).astype(np.int64)
        )  # regulars order more
        b = ks % len(branches)
        local_day = (sec + 10800) // 86400
        seq = np.empty(size, dtype=np.int64)
        for bi in range(len(branches)):
            where = np.flatnonzero(b == bi)
            if not len(where):
                continue
            d = local_day[where]
            idx = np.arange(len(d))
            first = np.maximum.accumulate(np.where(np.r_[True, d[1:] != d[:-1]], idx, 0))
            s_ = idx - first + 1
            if d[0] == carry[bi][0]:
                s_[first == 0] += carry[bi][1]
            seq[where] = s_
            carry[bi] = (d[-1], int(s_[-1]))
        roll = gen.random(size)
        status = np.where(roll < 0.88, "delivered", np.where(roll < 0.97, "cancelled", "failed")).astype(
            object
        )
        if ks[-1] >= n_orders - 300:
            status[ks >= n_orders - 300] = "cooking"
        n_lines = gen.integers(1, 4, size)
        line_order = np.repeat(np.arange(size), n_lines)
        pos = np.arange(len(line_order)) - np.repeat(np.cumsum(n_lines) - n_lines, n_lines)
        item = gen.integers(0, len(items), len(line_order))
        qty = np.where(gen.random(len(line_order)) < 0.8, 1, 2)
        line_total = item_price[item] * qty
        items_total = np.bincount(line_order, weights=line_total, minlength=size).astype(np.int64)
        delivery = gen.random(size) < 0.85
        fee = np.where(delivery & (items_total < 100000), 9900, 0)
        total = items_total + fee
        usec = (ks * 7919) % 1_000_000  # deterministic, so first/last order times can be rebuilt below
        created = _stamps(sec, usec)
        lat = np.where(delivery, 55.70 + (c % 1000) / 5000, np.nan)
        lon = np.where(delivery, 49.00 + (c % 997) / 3000, np.nan)
        address = np.where(
            delivery, "Kazan, " + street_of[c % len(STREETS)] + ", " + (c % 180 + 1).astype(str), ""
        )
        is_delivered = status == "delivered"
        delivered_at = np.where(is_delivered, np.array(_stamps(sec + 3900, usec), dtype=object), None)
        orders = list(
            zip(
                (ks + 1).tolist(),
                [f"{codes[bi]}-{q:03d}" for bi, q in zip(b.tolist(), seq.tolist(), strict=True)],
                seq.tolist(),
                np.datetime_as_string(local_day.astype("datetime64[D]")).tolist(),
                branch_ids[b].tolist(),
                np.where(delivery, "delivery", "pickup").tolist(),
                status.tolist(),
                phone_of[c].tolist(),
                repeat("", size),
                address.tolist(),
                [None if v != v else v for v in lat.tolist()],
                [None if v != v else v for v in lon.tolist()],
                repeat("cash", size),
                repeat(None, size),
                repeat("", size),
                _stamps(sec + 3600, usec),
                items_total.tolist(),
                repeat(0, size),
                fee.tolist(),
                total.tolist(),
                repeat(None, size),
                repeat(None, size),
                repeat(None, size),
                created,
                _stamps(sec + 4200, usec),
                delivered_at.tolist(),
                repeat(1, size),
                strict=False,
            )
        )
        lines = list(
            zip(
                (ks[line_order] + 1).tolist(),
                pos.tolist(),
                item_ids[item].tolist(),
                item_sku[item].tolist(),
                item_name[item].tolist(),
                qty.tolist(),
                item_price[item].tolist(),
                line_total.tolist(),
                item_vat[item].tolist(),
                repeat("", len(line_order)),
                strict=False,
            )
        )
        insert(con, "orders", order_cols, orders)
        insert(con, "order_lines", line_cols, lines)
        count += np.bincount(c, minlength=n_clients)
        delivered_n += np.bincount(c[is_delivered], minlength=n_clients)
        cancelled_n += np.bincount(c[status == "cancelled"], minlength=n_clients)
        spent += np.bincount(c[is_delivered], weights=total[is_delivered], minlength=n_clients).astype(
            np.int64
        )
        np.minimum.at(first_k, c, ks)
        np.maximum.at(last_k, c, ks)
        bar.advance(size)
    con.execute("COMMIT")
    times["orders"] = bar.finish()

    # --- statistics and one address per client ------------------------------------------------
    bar = Progress("stats+address", n_clients)

    def order_time(k: np.ndarray) -> list[str]:
        return _stamps(base + span * k // n_orders, (k * 7919) % 1_000_000)

    con.execute("BEGIN")
    for start in range(0, n_clients, CHUNK):
        cs = np.arange(start, min(n_clients, start + CHUNK), dtype=np.int64)
        has = cs[count[cs] > 0]
        insert(
            con,
            "client_stats",
            ("client_id", "orders_count", "delivered_count", "cancelled_count", "total_spent", "first_order_at", "last_order_at"),
            list(
                zip(
                    (has + 1).tolist(), count[has].tolist(), delivered_n[has].tolist(), cancelled_n[has].tolist(),
                    spent[has].tolist(), order_time(first_k[has]), order_time(last_k[has]), strict=True,
                )
            ),
        )  # fmt: skip
        street = street_of[cs % len(STREETS)]
        house = (cs % 180 + 1).astype(str).astype(object)
        last_used = np.where(
            count[cs] > 0, np.array(order_time(np.maximum(last_k[cs], 0)), dtype=object), None
        )
        insert(
            con,
            "client_addresses",
            ("client_id", "text", "street", "house", "entrance", "floor", "apartment", "intercom", "comment",
             "zone_id", "lat", "lon", "created_at", "last_used_at"),
            list(
                zip(
                    (cs + 1).tolist(), ("Kazan, " + street + ", " + house).tolist(), street.tolist(), house.tolist(),
                    (cs % 4 + 1).astype(str).tolist(), (cs % 9 + 1).astype(str).tolist(),
                    (cs % 120 + 1).astype(str).tolist(), repeat("", len(cs)), repeat("", len(cs)),
                    repeat(None, len(cs)), (55.70 + (cs % 1000) / 5000).tolist(), (49.00 + (cs % 997) / 3000).tolist(),
                    repeat(stamp(created0), len(cs)), last_used.tolist(), strict=False,
                )
            ),
        )  # fmt: skip
        bar.advance(len(cs))
    con.execute("COMMIT")
    times["stats+address"] = bar.finish()

    bar = Progress("indexes", len(indexes))
    for _name, sql in indexes:
        con.execute(sql)
        bar.advance(1)
    con.execute("PRAGMA analysis_limit=2000")  # approximate statistics, as a live database would have
    con.execute("ANALYZE")
    times["indexes"] = bar.finish()
    con.execute("PRAGMA journal_mode=WAL")
    con.close()
    return phones, times


def typed(phone: str, rng: random.Random) -> str:
    """The number as an operator might paste it."""
    d = phone[2:]
    return rng.choice(
        (phone, f"8 ({d[:3]}) {d[3:6]}-{d[6:8]}-{d[8:]}", f"{d[:3]} {d[3:6]} {d[6:8]} {d[8:]}", f"+7-{d}")
    )


def main() -> None:
    """Generate, measure, report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=1_000_000)
    parser.add_argument("--orders", type=int, default=5_000_000)
    parser.add_argument("--lookups", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument("--keep", action="store_true", help="Keep the generated database folder.")
    args = parser.parse_args()

    from frontoffice.app import create_app
    from frontoffice.auth import create_user, issue_token
    from frontoffice.migrate import upgrade

    workdir = Path(tempfile.mkdtemp(prefix="caller-lookup-"))
    db_path = workdir / "bench.sqlite3"
    url = f"sqlite:///{db_path}"
    try:
        t0 = time.monotonic()
        upgrade(url)
        # No relay thread or background service: they would hold the file that fill() rewrites.
        app = create_app(
            {
                "database_url": url,
                "secret_key": "bench",
                "instance_path": workdir / "instance",
                "relay": "off",
                "background_services": False,
            }
        )
        kernel = app.extensions["frontoffice"]
        import nomenclature.demo
        import orders.demo

        for module in (nomenclature.demo, orders.demo):
            with app.app_context(), kernel.db.unit_of_work() as s:
                module.load(s, kernel)
        with kernel.db.unit_of_work() as s:
            token = issue_token(
                s,
                create_user(
                    s,
                    "bench-operator",
                    "bench",
                    "operator",
                    hash_method="pbkdf2:sha256:1000",
                    strength_checked=False,
                ),
            )
        kernel.db.dispose()
        phones, stages = fill(db_path, args.clients, args.orders, args.seed)
        generated_s = time.monotonic() - t0
        size_mb = db_path.stat().st_size / 1e6

        rng = random.Random(args.seed + 1)
        sample = [rng.choice(phones) for _ in range(args.lookups)]
        asked = [typed(p, rng) for p in sample]
        client = app.test_client()
        headers = {"Authorization": f"Bearer {token}"}
        stmt = text("SELECT * FROM clients WHERE phone = :phone")

        # Warm both paths (connection pool, statement caches, pages of the indexes).
        for p, q in zip(sample[:300], asked[:300], strict=True):
            client.get("/api/v1/callcentre/lookup", query_string={"phone": q}, headers=headers)
            with kernel.db.engine.connect() as conn:
                conn.execute(stmt, {"phone": p}).first()

        base_ms: list[float] = []
        for p in sample:
            started = time.perf_counter()
            with kernel.db.engine.connect() as conn:
                row = conn.execute(stmt, {"phone": p}).first()
            base_ms.append((time.perf_counter() - started) * 1000)
            assert row is not None

        ours_ms: list[float] = []
        orders_seen = 0
        bar = Progress("lookups", len(asked))
        for i, q in enumerate(asked):
            started = time.perf_counter()
            resp = client.get("/api/v1/callcentre/lookup", query_string={"phone": q}, headers=headers)
            body = resp.get_data()
            ours_ms.append((time.perf_counter() - started) * 1000)
            if resp.status_code != 200:
                raise SystemExit(f"lookup of {q!r} answered {resp.status_code}: {body[:300]!r}")
            if i % 500 == 0:
                data = json.loads(body)
                assert data["client"] is not None and data["phone"] == sample[i]
                orders_seen = max(orders_seen, len(data["orders"]))
            bar.advance(1)
        bar.finish()

        # The same dossiers without HTTP and authentication, to show where the time goes.
        from callcentre import services as callcentre_services
        from callcentre.ports import DOSSIER_SECTIONS
        from callcentre.schemas import DossierOut

        contributors = kernel.extensions.all(DOSSIER_SECTIONS)
        service_ms: list[float] = []
        for q in asked[: min(2000, len(asked))]:
            started = time.perf_counter()
            with kernel.db.reading() as s:
                found = callcentre_services.dossier(
                    s, q, region=kernel.settings.phone_region, contributors=contributors
                )
                DossierOut.of(found).model_dump_json()
            service_ms.append((time.perf_counter() - started) * 1000)
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)

    ours, base = percentile(ours_ms, 95), percentile(base_ms, 95)
    print()
    print(
        f"caller_lookup: {args.clients:,} clients, {args.orders:,} orders (~{2 * args.orders:,} lines), SQLite {size_mb:,.0f} MB"
    )
    print(
        f"generated in {generated_s:.0f} s (" + ", ".join(f"{k} {v:.0f} s" for k, v in stages.items()) + ")"
    )
    print(
        f"{args.lookups:,} lookups of random known phones in random formats "
        f"(every 500th checked: up to {orders_seen} orders in those dossiers)"
    )
    print(
        f"machine: {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}"
    )
    print()
    print(f"{'':38} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'mean ms':>8}")
    for label, values in (
        ("ours: GET /callcentre/lookup → JSON", ours_ms),
        ("  of it: dossier service + JSON", service_ms),
        ("baseline: SELECT client BY phone", base_ms),
    ):
        print(
            f"{label:38} {percentile(values, 50):8.3f} {percentile(values, 95):8.3f} "
            f"{percentile(values, 99):8.3f} {statistics.fmean(values):8.3f}"
        )
    print(f"target p95 <= 20 ms: {'met' if ours <= 20 else 'NOT met'}")
    print(
        json.dumps(
            {
                "bench": "caller_lookup",
                "ours": round(ours, 3),
                "baseline": round(base, 3),
                "unit": "ms",
                "ratio": round(ours / base, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
