"""Benchmark: the 50 most loyal clients among 100,000 clients and 1,000,000 orders.

Ours: the monitor's loyalty projection (``monitor_client_totals``, kept by the delivery
events; rebuilt here in one pass) — the top 50 of a bucket is one walk down an index, then
the RFM segment of each from the cached population scale. Baseline, in the same run and on the
same database: a GROUP BY over the orders. Both must name the same 50 clients.

    python bench/loyalty.py [--clients 100000] [--orders 1000000] [--database-url URL]

Prints a table, then a last line of JSON:
``{"bench": "loyalty", "ours": <ms>, "baseline": <ms>, "unit": "ms", "ratio": <baseline/ours>}``.
Target: ours <= 5 ms.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, insert, select, text  # noqa: E402

from frontoffice.db import Database, make_engine  # noqa: E402
from frontoffice.migrate import upgrade  # noqa: E402
from frontoffice.settings import Settings  # noqa: E402
from monitor import loyalty  # noqa: E402
from monitor.services import Monitor, rebuild_loyalty, record_delivery, top_clients  # noqa: E402
from orders.models import Branch, Order  # noqa: E402

MSK = ZoneInfo("Europe/Moscow")
TOP = 50


def timed(fn, repeat: int) -> tuple[float, object]:
    """Median wall time of ``fn`` in milliseconds over ``repeat`` runs, and its last result."""
    times = []
    result = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), result


def make_orders(db: Database, clients: int, orders: int, seed: int) -> dt.datetime:
    """Bulk-insert ``orders`` orders of ``clients`` clients over the last year; returns 'now'."""
    rnd = random.Random(seed)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    phones = [f"+7917{n:07d}" for n in rnd.sample(range(10_000_000), clients)]
    # Loyalty is skewed: a few clients order very often (Pareto-distributed weights).
    weights = [rnd.paretovariate(1.2) for _ in range(clients)]
    with db.unit_of_work() as s:
        s.add(Branch(code="KZ1", name="Kazan", lat=55.7887, lon=49.1221))
        s.flush()
        branch_id = s.scalar(select(Branch.id))
    table = Order.__table__
    seq_of_day: dict[dt.date, int] = {}
    chunk = 20_000
    picks = rnd.choices(range(clients), weights, k=orders)
    with db.engine.begin() as conn:
        rows = []
        for i, who in enumerate(picks):
            created = now - dt.timedelta(seconds=rnd.randrange(365 * 86400))
            day = created.astimezone(MSK).date()
            seq = seq_of_day.get(day, 0) + 1
            seq_of_day[day] = seq
            delivered = rnd.random() < 0.92
            total = rnd.randrange(300, 6000) * 100
            rows.append(
                {
                    "number": f"KZ1-{seq:04d}",
                    "seq": seq,
                    "business_date": day,
                    "branch_id": branch_id,
                    "kind": "delivery",
                    "status": "delivered" if delivered else "cancelled",
                    "client_phone": phones[who],
                    "client_name": f"Client {who}",
                    "address_text": "Kazan",
                    "payment_kind": "cash",
                    "comment": "",
                    "items_total": total,
                    "discount_total": 0,
                    "delivery_fee": 0,
                    "total": total,
                    "created_at": created,
                    "status_changed_at": created,
                    "promised_at": created + dt.timedelta(minutes=60),
                    "delivered_at": created + dt.timedelta(minutes=rnd.randrange(25, 90))
                    if delivered
                    else None,
                    "version": 1,
                }
            )
            if len(rows) == chunk:
                conn.execute(insert(table), rows)
                rows = []
                print(f"\r  orders inserted: {i + 1:>9,}", end="", flush=True)
        if rows:
            conn.execute(insert(table), rows)
    print()
    return now


def baseline_top(db: Database, n: int):
    """The top ``n`` clients by deliveries then money, straight from the orders."""
    count = func.count().label("deliveries")
    money = func.sum(Order.total).label("revenue")
    stmt = (
        select(Order.client_phone, count, money, func.min(Order.delivered_at), func.max(Order.delivered_at))
        .where(Order.status == "delivered")
        .group_by(Order.client_phone)
        .order_by(count.desc(), money.desc(), Order.client_phone.desc())
        .limit(n)
    )
    with db.reading() as s:
        return [(r.client_phone, r.deliveries, int(r.revenue)) for r in s.execute(stmt)]


def main() -> None:
    """Build the data, time both ways, print the table and the JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=100_000)
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--database-url", default=None, help="default: a new SQLite file in a temp folder")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()

    folder = tempfile.mkdtemp(prefix="bench-loyalty-")
    url = args.database_url or f"sqlite:///{folder}/bench.sqlite3"
    print(f"loyalty: {args.clients:,} clients, {args.orders:,} orders on {url.split(':')[0]}")
    upgrade(url)
    db = Database(make_engine(url))
    settings = Settings(database_url=url, secret_key="bench", instance_path=Path(folder))

    started = time.perf_counter()
    now = make_orders(db, args.clients, args.orders, args.seed)
    load_s = time.perf_counter() - started
    with db.engine.begin() as conn:
        if db.dialect == "sqlite":
            conn.execute(text("ANALYZE"))
        else:
            conn.execute(text("ANALYZE orders"))

    started = time.perf_counter()
    with db.unit_of_work() as s:
        counted = rebuild_loyalty(s, MSK)
    rebuild_s = time.perf_counter() - started
    with db.engine.begin() as conn:
        conn.execute(text("ANALYZE" if db.dialect == "sqlite" else "ANALYZE monitor_client_totals"))

    # The incremental path: deliveries counted one by one, as the event subscriber does.
    with db.reading() as s:
        sample = list(s.scalars(select(Order.id).where(Order.status == "cancelled").limit(500)))
    with db.unit_of_work() as s:
        s.execute(
            Order.__table__.update()
            .where(Order.id.in_(sample))
            .values(status="delivered", delivered_at=now - dt.timedelta(minutes=5))
        )
    started = time.perf_counter()
    for order_id in sample:
        with db.unit_of_work() as s:
            record_delivery(s, order_id, MSK)
    per_delivery_ms = (time.perf_counter() - started) * 1000 / max(len(sample), 1)

    monitor = Monitor(db, settings)
    monitor._projection_checked = True
    started = time.perf_counter()
    with db.reading() as s:
        scale, _ = monitor.scale(s, now)
    scale_ms = (time.perf_counter() - started) * 1000

    def ours_all():
        with db.reading() as s:
            return monitor.loyal(s, "all", TOP, now=now)

    def ours_month():
        with db.reading() as s:
            return monitor.loyal(s, "month", TOP, now=now)

    def ours_raw():
        with db.reading() as s:
            return top_clients(s, None, None, TOP, "deliveries")

    ours_ms, ours = timed(ours_all, args.repeat)
    raw_ms, _ = timed(ours_raw, args.repeat)
    month_ms, _ = timed(ours_month, args.repeat)
    base_ms, base = timed(lambda: baseline_top(db, TOP), 3)

    mine = [(c.phone, c.deliveries, int(c.revenue * 100)) for c in ours.clients]
    if mine != base:
        print("MISMATCH: the projection and the GROUP BY disagree", file=sys.stderr)
        for a, b in zip(mine, base, strict=False):
            if a != b:
                print(f"  ours {a}  baseline {b}", file=sys.stderr)
        sys.exit(1)
    segments = sorted({c.segment for c in ours.clients})

    rows = [
        ("data load (bulk insert)", f"{load_s:.1f} s"),
        ("projection rebuild (one pass)", f"{rebuild_s:.1f} s for {counted:,} deliveries"),
        ("incremental, per delivery (own transaction)", f"{per_delivery_ms:.2f} ms"),
        (
            "RFM scale of the population (cached 10 min)",
            f"{scale_ms:.0f} ms for {scale.population:,} clients",
        ),
        ("ours: top 50 all time + names + RFM segments", f"{ours_ms:.2f} ms"),
        ("ours: the index walk alone", f"{raw_ms:.2f} ms"),
        ("ours: top 50 of this month", f"{month_ms:.2f} ms"),
        ("baseline: GROUP BY over the orders", f"{base_ms:.1f} ms"),
        ("ratio baseline / ours", f"{base_ms / ours_ms:.0f}×"),
        ("same 50 clients", f"yes (segments among them: {', '.join(segments)})"),
    ]
    width = max(len(r[0]) for r in rows)
    for label, value in rows:
        print(f"  {label:<{width}}  {value}")
    assert set(segments) <= set(loyalty.SEGMENTS)
    db.dispose()
    shutil.rmtree(folder, ignore_errors=True)
    print(
        json.dumps(
            {
                "bench": "loyalty",
                "ours": round(ours_ms, 3),
                "baseline": round(base_ms, 1),
                "unit": "ms",
                "ratio": round(base_ms / ours_ms, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
