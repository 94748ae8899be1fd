"""Benchmark: antifraud evaluation per submitted order, 100 active rules, 1,000,000 past orders (SQLite).

Workload: a fresh SQLite database is migrated with the real schema (Alembic), the demo branches
are loaded, then 1,000,000 orders over the last 180 days are written with raw ``sqlite3``
``executemany`` (60,000 phones with a skewed share of orders, so some have hundreds; 10 % of
orders go to 200 shared "office" addresses; 8 % cancelled, 3 % failed), together with the
address index the placement policy keeps (``order_address_keys``). The secondary indexes
are dropped during the load and rebuilt after it. Then 100 active rules of every kind are
created through the service (34 of them velocity rules, by phone and by address, with windows
from 10 minutes to 3 hours) and 13,000 blacklist entries.

Ours: for N submitted orders (80 % from known phones drawn with the same skew, 20 % from new
phones; real addresses; a few cash orders with change and "change to card" comments) the
antifraud placement policy exactly as ``place_order`` runs it — the rule book's staleness
check, the facts read with at most three indexed queries, every rule evaluated — timed per
order.

Baseline, in the same run on the same database: the same velocity checks as plain unindexed
scans, one ``SELECT count(*) FROM orders NOT INDEXED WHERE client_phone = ? (or address_text
= ?) AND created_at >= ?`` per velocity rule, timed per order (only the velocity rules: the
other 66 rules are free for the baseline).

    /work/venv/bin/python bench/antifraud.py [--orders 1000000] [--samples 2000] [--baseline-samples 10]

Prints a table, then one JSON line:
``{"bench": "antifraud", "ours": <p95 ms>, "baseline": <p95 ms>, "unit": "ms", "ratio": <baseline/ours>}``.
Target: p95 <= 2 ms.
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
from collections import Counter
from pathlib import Path

import numpy as np
from bench_support import percentile

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DAYS = 180
PHONES = 60_000
HOT_ADDRESSES = 200
CHUNK = 100_000
STREETS = (
    "Baumana St",
    "Pushkina St",
    "Kremlyovskaya St",
    "Pobedy Ave",
    "Chistopolskaya St",
    "Amirkhana Ave",
    "Dekabristov St",
    "Yamasheva Ave",
)
NAMES = ("Aigul", "Rustam", "Elena", "Ivan", "Dinara", "Timur", "Olga", "Marat", "Alsu", "Sergei", "Anna")
STATUSES = np.array(["delivered", "cancelled", "failed", "rejected"], dtype=object)
STATUS_P = [0.88, 0.08, 0.03, 0.01]
PAYMENTS = np.array(["cash", "card_on_delivery", "prepaid"], dtype=object)


def stamp(t: dt.datetime) -> str:
    """A UTC moment as SQLAlchemy's SQLite DateTime stores it."""
    return t.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def phone_of(i: int) -> str:
    """The i-th phone of the workload (+7 917 …, valid Russian mobile numbers)."""
    return f"+7917{i:07d}"


def address_of(i: int) -> str:
    """The home address of the i-th phone; indices from PHONES on are the shared office addresses."""
    street = STREETS[i % len(STREETS)]
    if i >= PHONES:
        return f"Kazan, {street}, {10 + i % 90}, office {i - PHONES + 1}"
    return f"Kazan, {street}, {1 + i % 120}, apt {1 + i // 120 % 300}"


def point_of(i: int) -> tuple[float, float]:
    """Coordinates of an address index, scattered over Kazan."""
    r = random.Random(i)
    return 55.74 + r.random() * 0.09, 49.05 + r.random() * 0.18


class Progress:
    """A one-line progress bar on stderr."""

    def __init__(self, label: str, total: int):
        self.label, self.total, self.done = label, total, 0
        self.started = time.monotonic()
        self._last = 0.0

    def advance(self, n: int) -> None:
        """Count ``n`` more items done."""
        self.done += n
        now = time.monotonic()
        if now - self._last > 2.0 or self.done >= self.total:
            self._last = now
            filled = int(30 * self.done / max(1, self.total))
            sys.stderr.write(
                f"\r{self.label:<10} [{'#' * filled}{'.' * (30 - filled)}] {self.done:>10,}/{self.total:,}"
                f"  {now - self.started:6.1f} s"
            )
            sys.stderr.flush()

    def finish(self) -> float:
        """End the line; the elapsed seconds."""
        self.advance(0)
        sys.stderr.write("\n")
        return time.monotonic() - self.started


def skewed(gen: np.random.Generator, n: int) -> np.ndarray:
    """Phone indices with a heavy head: a few phones order very often, most rarely."""
    return np.minimum((PHONES * gen.random(n) ** 2.2).astype(np.int64), PHONES - 1)


def fill(path: Path, n_orders: int, now: dt.datetime, seed: int) -> float:
    """Write the past orders and their address index; the seconds it took."""
    from backoffice.antifraud import address_digest

    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode=OFF")  # a disposable benchmark database
    con.execute("PRAGMA synchronous=OFF")
    con.execute("PRAGMA cache_size=-400000")
    indexes = con.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
        "AND tbl_name IN ('orders', 'order_address_keys')"
    ).fetchall()
    for name, _ in indexes:
        con.execute(f'DROP INDEX "{name}"')
    branches = [row[0] for row in con.execute("SELECT id FROM branches ORDER BY id")]
    gen = np.random.default_rng(seed)
    start = now - dt.timedelta(days=DAYS)
    offsets = np.sort(gen.random(n_orders)) * (DAYS * 86400 - 600)
    phone_idx = skewed(gen, n_orders)
    hot = gen.random(n_orders) < 0.10
    addr_idx = np.where(hot, PHONES + gen.integers(0, HOT_ADDRESSES, n_orders), phone_idx)
    status = STATUSES[gen.choice(len(STATUSES), n_orders, p=STATUS_P)]
    payment = PAYMENTS[gen.choice(3, n_orders, p=[0.4, 0.4, 0.2])]
    total = gen.integers(50_000, 500_000, n_orders) // 100 * 100
    other_name = gen.random(n_orders) < 0.03
    name_pick = gen.integers(0, len(NAMES), n_orders)
    branch_pick = gen.integers(0, len(branches), n_orders)
    digests: dict[int, str] = {}
    seqs: dict[tuple[int, str], int] = {}
    bar = Progress("orders", n_orders)
    con.execute("BEGIN")
    for lo in range(0, n_orders, CHUNK):
        orders, keys = [], []
        for k in range(lo, min(n_orders, lo + CHUNK)):
            at = start + dt.timedelta(seconds=float(offsets[k]))
            created = stamp(at)
            day = created[:10]
            branch = branches[int(branch_pick[k])]
            seq = seqs.get((branch, day), 0) + 1
            seqs[(branch, day)] = seq
            p, a = int(phone_idx[k]), int(addr_idx[k])
            name = NAMES[int(name_pick[k])] if other_name[k] else NAMES[p % len(NAMES)]
            lat, lon = point_of(a)
            changed = stamp(at + dt.timedelta(minutes=50))
            orders.append(
                (
                    k + 1,
                    f"KZ{branch}-{seq:03d}",
                    seq,
                    day,
                    branch,
                    "delivery",
                    status[k],
                    phone_of(p),
                    name,
                    address_of(a),
                    lat,
                    lon,
                    payment[k],
                    None,
                    "",
                    int(total[k]),
                    0,
                    0,
                    int(total[k]),
                    created,
                    changed,
                    1,
                )
            )
            digest = digests.get(a)
            if digest is None:
                digest = digests[a] = address_digest(address_of(a))
            keys.append((k + 1, digest, created))
        con.executemany(
            "INSERT INTO orders (id, number, seq, business_date, branch_id, kind, status, client_phone, "
            "client_name, address_text, lat, lon, payment_kind, change_from, comment, items_total, "
            "discount_total, delivery_fee, total, created_at, status_changed_at, version) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            orders,
        )
        con.executemany(
            "INSERT INTO order_address_keys (order_id, address_key, created_at) VALUES (?, ?, ?)", keys
        )
        bar.advance(len(orders))
    con.execute("COMMIT")
    sys.stderr.write("rebuilding indexes…\n")
    for _, sql in indexes:
        con.execute(sql)
    con.execute("ANALYZE")
    con.close()
    return bar.finish()


def rules_and_blacklist(kernel, seed: int) -> Counter:
    """100 active rules of every kind and 13,000 blacklist entries; the rules per kind."""
    from backoffice import services
    from backoffice.antifraud import normalize_address
    from backoffice.models import BlacklistEntry

    r = random.Random(seed)
    specs: list[tuple[str, dict, str]] = []
    combos = (
        ["phone"],
        ["address"],
        ["device"],
        ["phone", "address"],
        ["phone", "device"],
        ["phone", "address", "device"],
    )
    specs += [("blacklist", {"lists": c}, "reject") for c in combos]
    for by in ("phone", "address"):
        for _ in range(17):
            specs.append(
                (
                    "velocity",
                    {"by": by, "count": r.randint(2, 6), "minutes": r.choice([10, 15, 30, 60, 120, 180])},
                    r.choice(["flag", "hold"]),
                )
            )
    for _ in range(10):
        specs.append(
            (
                "large_cash_new_client",
                {
                    "min_total": f"{r.randint(30, 100)}00.00",
                    "max_delivered": r.randint(0, 2),
                    "days": r.choice([90, 180, 365]),
                },
                "hold",
            )
        )
    for _ in range(15):
        specs.append(
            (
                "bad_history",
                {"min_count": r.randint(1, 4), "days": r.choice([30, 90, 180, 365])},
                r.choice(["note", "flag"]),
            )
        )
    for _ in range(10):
        specs.append(
            (
                "far_address",
                {
                    "km": r.choice([5, 10, 15, 30]),
                    "min_history": r.randint(1, 3),
                    "days": r.choice([90, 180, 365]),
                },
                "note",
            )
        )
    for _ in range(10):
        specs.append(
            (
                "change_to_card",
                {"min_note": "5000.00", "min_change": f"{r.randint(20, 40)}00.00"},
                r.choice(["flag", "hold"]),
            )
        )
    for _ in range(15):
        specs.append(
            ("many_names", {"max_names": r.randint(2, 5), "days": r.choice([30, 90, 180, 365])}, "flag")
        )
    assert len(specs) == 100
    with kernel.db.unit_of_work() as s:
        for i, (kind, params, action) in enumerate(specs):
            services.create_rule(
                s, kind=kind, name=f"{kind} #{i + 1}", params=params, score=r.randint(5, 100), action=action
            )
        rows = [
            {"kind": "phone", "value": phone_of(PHONES + 1000 + i), "reason": "bench"} for i in range(10_000)
        ]
        rows += [
            {"kind": "phone", "value": phone_of(i), "reason": "bench"} for i in range(PHONES - 50, PHONES)
        ]
        rows += [
            {
                "kind": "address",
                "value": normalize_address(f"Kazan, Nowhere St, {i}, apt 1"),
                "reason": "bench",
            }
            for i in range(1950)
        ]
        rows += [{"kind": "device", "value": f"device-{i:05d}", "reason": "bench"} for i in range(1000)]
        # (kind, value) is unique; distinct texts may fold to one stored address.
        rows = list({(r["kind"], r["value"]): r for r in rows}.values())
        s.execute(BlacklistEntry.__table__.insert(), rows)
    return Counter(kind for kind, _, _ in specs)


def drafts(n: int, now: dt.datetime, seed: int, branch) -> list:
    """Orders being submitted, as ``place_order`` hands them to the policies."""
    from orders.pricing import PricedLine
    from orders.services import OrderDraft, PlaceOrder

    gen = np.random.default_rng(seed + 1)
    r = random.Random(seed + 1)
    known = skewed(gen, n)
    out = []
    for k in range(n):
        new = r.random() < 0.2
        p = PHONES + 20_000 + k if new else int(known[k])
        a = PHONES + r.randrange(HOT_ADDRESSES) if r.random() < 0.1 else p
        lat, lon = point_of(a)
        cash = r.random() < 0.4
        total = r.randrange(500, 9000) * 100
        comment = "сдачу на карту, пожалуйста" if r.random() < 0.02 else ""
        cmd = PlaceOrder(
            branch_id=branch.id,
            client_phone=phone_of(p),
            client_name=NAMES[p % len(NAMES)] if r.random() > 0.05 else r.choice(NAMES),
            address_text=address_of(a),
            lat=lat,
            lon=lon,
            payment_kind="cash" if cash else "card_on_delivery",
            change_from=500_000 if cash and total < 500_000 and r.random() < 0.3 else None,
            comment=comment,
            lines=[],
        )
        line = PricedLine(
            item_id=1, sku="PZ-MARG", name="Pizza", quantity=1, unit_price=total, vat_rate="vat22"
        )
        out.append(
            OrderDraft(
                command=cmd,
                branch=branch,
                client_phone=cmd.client_phone,
                lines=[line],
                delivery_fee=0,
                discount=0,
                promised_at=now + dt.timedelta(hours=1),
                now=now,
            )
        )
    return out


def main() -> None:
    """Run the benchmark and print the table and the JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=2000, help="orders evaluated by our policy")
    parser.add_argument("--baseline-samples", type=int, default=10, help="orders checked by full scans")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="keep the database folder")
    args = parser.parse_args()

    from sqlalchemy import select, text

    from backoffice.services import FraudRejected, placement_policy
    from frontoffice.app import create_app
    from frontoffice.db import utcnow
    from frontoffice.migrate import upgrade
    from orders import demo as orders_demo
    from orders.models import Branch

    folder = Path(tempfile.mkdtemp(prefix="bench-antifraud-"))
    db_path = folder / "bench.sqlite3"
    url = f"sqlite:///{db_path}"
    try:
        t0 = time.monotonic()
        upgrade(url)
        # No relay thread or background service: the loader below needs the file to itself.
        app = create_app(
            {
                "database_url": url,
                "secret_key": "bench",
                "instance_path": folder / "instance",
                "relay": "inline",
                "background_services": False,
            }
        )
        kernel = app.extensions["frontoffice"]
        with kernel.db.unit_of_work() as s:
            orders_demo.load(s, kernel)
        kernel.db.dispose()  # the loader needs the file to itself
        now = utcnow()
        load_s = fill(db_path, args.orders, now, args.seed)
        kinds = rules_and_blacklist(kernel, args.seed)
        kernel.db.dispose()
        setup_s = time.monotonic() - t0

        from backoffice.ports import RULEBOOK

        rulebook = kernel.extensions.get(RULEBOOK)
        policy = placement_policy(rulebook)
        with kernel.db.reading() as s:
            branch = s.scalar(select(Branch).order_by(Branch.id))
            active = len(rulebook.active(s))
        assert active == 100, active
        work = drafts(args.samples, now, args.seed, branch)

        # Ours: the placement policy as place_order runs it, one session per submitted order.
        actions: Counter = Counter()
        ours: list[float] = []
        ours_cpu: list[float] = []
        for draft in work[: min(50, len(work))]:  # warm the caches and the connection pool
            with kernel.db.reading() as s:
                try:
                    policy(s, draft)
                except FraudRejected:
                    pass
        for draft in work:
            draft.notes.clear()
            draft.extra.clear()
            draft.written_hooks.clear()
            with kernel.db.reading() as s:
                s.connection()  # place_order runs the policies inside its open transaction
                cpu = time.thread_time()
                started = time.perf_counter()
                try:
                    policy(s, draft)
                    verdict = draft.written_hooks[-1].verdict  # the ScreeningRecord the policy left
                    outcome = verdict.action if verdict is not None else "none"
                except FraudRejected:
                    outcome = "reject"
                ours.append((time.perf_counter() - started) * 1000)
                ours_cpu.append((time.thread_time() - cpu) * 1000)
            actions[outcome] += 1

        # Baseline: each velocity rule as a full scan of the orders table.
        velocity = [
            (r.params["by"], r.params["minutes"], r.params["count"])
            for r in rulebook._rules
            if r.kind == "velocity"
        ]
        by_phone = text(
            "SELECT count(*) FROM orders NOT INDEXED WHERE client_phone = :v AND created_at >= :since"
        )
        by_address = text(
            "SELECT count(*) FROM orders NOT INDEXED WHERE address_text = :v AND created_at >= :since"
        )
        baseline: list[float] = []
        baseline_hits = 0
        for draft in work[: args.baseline_samples]:
            cmd = draft.command
            with kernel.db.reading() as s:
                s.connection()
                started = time.perf_counter()
                for by, minutes, allowed in velocity:
                    since = stamp(now - dt.timedelta(minutes=minutes))
                    stmt, value = (
                        (by_phone, cmd.client_phone) if by == "phone" else (by_address, cmd.address_text)
                    )
                    baseline_hits += s.execute(stmt, {"v": value, "since": since}).scalar_one() >= allowed
                baseline.append((time.perf_counter() - started) * 1000)
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)

    ours_p95 = percentile(ours, 95)
    base_p95 = percentile(baseline, 95)
    print()
    print("antifraud evaluation per submitted order")
    print(
        f"  machine: {platform.machine()} {os.cpu_count()} cpu, Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}"
    )
    print(
        f"  data: {args.orders:,} orders over {DAYS} days, {PHONES:,} phones, address index; load {load_s:.0f} s, setup {setup_s:.0f} s"
    )
    print(
        f"  rules: 100 active ({', '.join(f'{k} {n}' for k, n in sorted(kinds.items()))}); 13,000 blacklist entries"
    )
    print(f"  verdicts of our {len(ours)} orders: {dict(sorted(actions.items()))}")
    print()
    print(f"  {'':46} {'n':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'mean ms':>8}")
    for label, values in (
        ("ours: policy, all 100 rules (indexed facts)", ours),
        ("  the same, CPU time of the thread", ours_cpu),
        (f"baseline: {len(velocity)} velocity rules as full scans", baseline),
    ):
        print(
            f"  {label:46} {len(values):>6} {percentile(values, 50):>8.3f} {percentile(values, 95):>8.3f} "
            f"{percentile(values, 99):>8.3f} {statistics.fmean(values):>8.3f}"
        )
    print(f"  target p95 <= 2 ms: {'met' if ours_p95 <= 2 else 'NOT met'} (wall clock)")
    print(f"  load average during the run: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(
        json.dumps(
            {
                "bench": "antifraud",
                "ours": round(ours_p95, 3),
                "baseline": round(base_p95, 3),
                "unit": "ms",
                "ratio": round(base_p95 / ours_p95, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
