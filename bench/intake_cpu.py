"""Benchmark: CPU per order taken, in process, against the bare insert in the same process.

`bench/orders_intake.py` measures what issue 15 asks (orders/s through the real server), but on a
shared two-core machine one run differs from the next by ±15 %. This one measures the cause — the
CPU our request costs — with Flask's test client in one process, so a change to the request can be
judged in a minute: ``frontoffice demo --no-serve`` fills a fresh SQLite instance folder; the app is
built on it with the relay off (as the web process runs beside ``frontoffice worker``) and the
baseline (``bench/baseline_app.py``: one single-row INSERT per request) on the same file; rounds of
``POST /api/v1/orders`` (3 lines, the operator's bearer token, the intake bench's 64 bodies) and of
``POST /bare`` alternate, each timed with ``time.process_time``. No gunicorn, no gevent hub, no socket:
the server's share is what ``orders_intake`` adds.

    .venv/bin/python bench/intake_cpu.py [--orders 300] [--rounds 3] [--profile out.txt]

Prints a table, then one JSON line:
``{"bench": "intake_cpu", "ours": <ms per order>, "baseline": <ms per request>, "unit": "ms", "ratio": …}``
(``ratio`` = baseline / ours, as a rate ratio would be), and the statements per order.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from bench_support import fill_demo
from orders_intake import order_bodies


def _round(client, path: str, bodies: list[bytes], headers: dict[str, str], count: int, start: int) -> float:
    """CPU seconds of ``count`` requests (each must answer 201)."""
    began = time.process_time()
    for i in range(start, start + count):
        resp = client.post(path, data=bodies[i % len(bodies)], headers=headers)
        if resp.status_code != 201:
            raise RuntimeError(f"{path} answered {resp.status_code}: {resp.get_data(as_text=True)[:300]}")
    return time.process_time() - began


def main(argv: list[str] | None = None) -> dict:
    """Run the benchmark; print the table and the JSON line; return the figures."""
    parser = argparse.ArgumentParser(description="CPU per order in process against the bare insert.")
    parser.add_argument("--orders", type=int, default=300, help="requests per round, each side")
    parser.add_argument("--rounds", type=int, default=3, help="measured rounds, alternating")
    parser.add_argument(
        "--profile", metavar="PATH", help="pyinstrument text profile of one more round of ours"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary instance folder")
    args = parser.parse_args(argv)

    workdir = Path(tempfile.mkdtemp(prefix="bench-intake-cpu-"))
    try:
        env = fill_demo(workdir)
        os.environ.update({k: v for k, v in env.items() if k.startswith("FRONTOFFICE_")})
        from baseline_app import create_baseline_app
        from sqlalchemy import event

        from frontoffice.app import create_app

        app = create_app({"relay": "off", "background_services": False})
        database_url = str(app.extensions["frontoffice"].db.engine.url)
        base = create_baseline_app(database_url)
        ours_client, base_client = app.test_client(), base.test_client()
        token = ours_client.post("/api/v1/tokens", json={"username": "operator", "password": "operator"})
        auth = {"Authorization": f"Bearer {token.get_json()['token']}", "Content-Type": "application/json"}
        plain = {"Content-Type": "application/json"}
        bodies = [json.dumps(b).encode() for b in order_bodies()]

        _round(ours_client, "/api/v1/orders", bodies, auth, 100, 0)  # warm-up: caches, plans
        _round(base_client, "/bare", bodies, plain, 100, 0)
        ours, baseline = [], []
        for r in range(args.rounds):
            ours.append(_round(ours_client, "/api/v1/orders", bodies, auth, args.orders, r * args.orders))
            baseline.append(_round(base_client, "/bare", bodies, plain, args.orders, r * args.orders))

        statements: list[str] = []
        engine = app.extensions["frontoffice"].db.engine
        listener = lambda conn, cursor, sql, params, context, many: statements.append(sql)  # noqa: E731
        event.listen(engine, "before_cursor_execute", listener)
        _round(ours_client, "/api/v1/orders", bodies, auth, 10, 0)
        event.remove(engine, "before_cursor_execute", listener)

        if args.profile:
            from pyinstrument import Profiler

            profiler = Profiler(interval=0.0002)
            profiler.start()
            _round(ours_client, "/api/v1/orders", bodies, auth, args.orders, 0)
            profiler.stop()
            Path(args.profile).write_text(profiler.output_text(unicode=False, show_all=False))
        app.extensions["frontoffice"].db.dispose()
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)

    ours_ms = [s / args.orders * 1000 for s in ours]
    base_ms = [s / args.orders * 1000 for s in baseline]
    ratio = statistics.median(base_ms) / statistics.median(ours_ms)
    print(f"intake_cpu: {args.rounds} rounds of {args.orders} requests each side, alternating; in process")
    print(f"{'request':<36} {'CPU ms per request, each round':<36} {'median':>8}")
    for label, values in (
        ("POST /api/v1/orders (3 lines)", ours_ms),
        ("baseline POST /bare (1-row INSERT)", base_ms),
    ):
        print(f"{label:<36} {' / '.join(f'{v:.3f}' for v in values):<36} {statistics.median(values):>8.3f}")
    print(f"ratio baseline / ours: {ratio:.3f}; statements per order: {len(statements) / 10:g}")
    figures = {
        "bench": "intake_cpu",
        "ours": round(statistics.median(ours_ms), 3),
        "baseline": round(statistics.median(base_ms), 3),
        "unit": "ms",
        "ratio": round(ratio, 3),
        "statements_per_order": len(statements) / 10,
    }
    print(json.dumps(figures))
    return figures


if __name__ == "__main__":
    main()
