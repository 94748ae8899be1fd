"""Benchmark: from an order's commit to its delivery to a handler (what relays it to the monitor).

Ours: the order's events are journaled in its transaction and the relay thread, woken right after
the commit, runs the projectors (client statistics, bonuses, loyalty) and then the handlers.
Baseline, in the same run on a copy of the same database: the old way, every subscriber called in
the committing thread right after the commit (no journal to read back, nothing durable). The time is
from the end of ``commit`` to the handler's call; orders are placed one after another, ``--gap`` ms
apart (a live call centre, not a flood).

    python bench/relay_latency.py [--orders 300] [--gap 5] [--database-url URL]

Prints a table, then a last line of JSON:
``{"bench": "relay_latency", "ours": <p95 ms>, "baseline": <p95 ms>, "unit": "ms", "ratio": <ours/baseline>}``.
Target: ours p95 <= 100 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("FRONTOFFICE_SECRET_KEY", "bench")

from frontoffice.app import create_app  # noqa: E402
from frontoffice.migrate import upgrade  # noqa: E402
from orders.events import OrderPlaced  # noqa: E402
from tests.conftest import load_demo_catalogue, make_users  # noqa: E402
from tests.helpers import OrderActions  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    """The ``q`` quantile (0..1) of ``values``."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def measure(app, orders: int, gap_s: float, operator_id: int) -> list[float]:
    """Place ``orders`` orders; for each, ms from the end of its commit to its handler's call."""
    kernel = app.extensions["frontoffice"]
    heard: dict[int, float] = {}
    arrived = threading.Condition()

    def handler(event: OrderPlaced) -> None:
        with arrived:
            heard[event.order_id] = time.perf_counter()
            arrived.notify_all()

    kernel.bus.subscribe(OrderPlaced, handler)
    committed: dict[int, float] = {}
    actions = OrderActions(kernel)
    db = kernel.db

    # The end of the commit: the moment the unit of work hands its events over.
    def note_commit(events: list) -> None:
        now = time.perf_counter()
        for ev in events:
            if isinstance(ev, OrderPlaced):
                committed.setdefault(ev.order_id, now)

    db._after_commit.insert(0, note_commit)
    latencies = []
    for _ in range(orders):
        order = actions.place(actor_id=operator_id)
        with arrived:
            arrived.wait_for(lambda oid=order.id: oid in heard, timeout=10)
        latencies.append((heard[order.id] - committed[order.id]) * 1000)
        time.sleep(gap_s)
    return latencies


def run(database_url: str | None, orders: int, gap_ms: float) -> dict:
    """Both measurements on copies of one prepared SQLite database (or the given one, in turn)."""
    folder = Path(tempfile.mkdtemp(prefix="relay-latency-"))
    try:
        template = folder / "template.sqlite3"
        url = database_url or f"sqlite:///{template}"
        upgrade(url)
        setup = create_app({"database_url": url, "instance_path": folder / "setup", "relay": "inline"})
        load_demo_catalogue(setup)
        operator = make_users(setup)["operator"].id
        setup.extensions["frontoffice"].db.dispose()
        results = {}
        for name, mode in (("ours", "thread"), ("baseline", "off")):
            target = url
            if database_url is None:
                copy = folder / f"{name}.sqlite3"
                shutil.copyfile(template, copy)
                target = f"sqlite:///{copy}"
            app = create_app({"database_url": target, "instance_path": folder / name, "relay": mode})
            kernel = app.extensions["frontoffice"]
            if mode == "off":  # the old way: every subscriber in the committing thread, after the commit
                kernel.db.on_commit(kernel.bus.dispatch)
            results[name] = measure(app, orders, gap_ms / 1000, operator)
            if kernel.relay is not None:
                kernel.relay.stop()
            kernel.db.dispose()
        return results
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--orders", type=int, default=300)
    parser.add_argument("--gap", type=float, default=5.0, help="ms between orders")
    parser.add_argument("--database-url", default=None, help="default: a temporary SQLite file")
    args = parser.parse_args()
    results = run(args.database_url, args.orders, args.gap)
    print(
        f"workload: {args.orders} orders placed one by one, {args.gap:g} ms apart, real projectors and handlers"
    )
    print(f"{'':10} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    for name, values in results.items():
        print(
            f"{name:10} {statistics.median(values):8.2f} {percentile(values, 0.95):8.2f} {max(values):8.2f}"
        )
    ours, base = percentile(results["ours"], 0.95), percentile(results["baseline"], 0.95)
    print(
        "ours: commit -> relay thread (journal read back, projectors, handlers); baseline: in-process after-commit call"
    )
    print(
        json.dumps(
            {
                "bench": "relay_latency",
                "ours": round(ours, 2),
                "baseline": round(base, 2),
                "unit": "ms",
                "ratio": round(ours / base, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
