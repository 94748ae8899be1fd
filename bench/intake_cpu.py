"""Benchmark: CPU per order taken, in process, against the bare insert in the same process, and
the floor under both: the order's own SQL with nothing around it.

`bench/orders_intake.py` measures what issue 15 asks (orders/s through the real server), but on a
shared two-core machine one run differs from the next by ±15 %. This one measures the cause — the
CPU our request costs — with Flask's test client in one process, so a change to the request can be
judged in a minute: ``frontoffice demo --no-serve`` fills a fresh SQLite instance folder; the app is
built on it with the relay off (as the web process runs beside ``frontoffice worker``) and the
baseline (``bench/baseline_app.py``: one single-row INSERT per request) on the same file. Three
requests take turns, each round timed with ``time.process_time``:

- ``POST /api/v1/orders`` (3 lines, the operator's bearer token, the intake bench's 64 bodies);
- the baseline's ``POST /bare``;
- the floor's ``POST /floor`` (``bench/intake_floor.py``): as bare a Flask endpoint as the baseline,
  running the very statements the order API sent for the same body (captured before the rounds),
  straight on a sqlite3 connection, and answering the order API's own JSON.

No gunicorn, no gevent hub, no socket: the server's share is what ``orders_intake`` adds.

The floor answers how much of the order's cost is its SQL at the driver's price, and so what a
ratio target leaves for everything else the order API does in Python. ``--sections`` times one more
round of ours with the order's own rules wrapped (``bench/timed_sections.py``): body validation,
the zone lookup, the antifraud rules, the distribution and receipt split, the answer.

    .venv/bin/python bench/intake_cpu.py [--orders 300] [--rounds 3] [--sections] [--profile out.txt]

Prints a table, then one JSON line:
``{"bench": "intake_cpu", "ours": <ms per order>, "baseline": <ms per request>, "unit": "ms", "ratio": …,
"floor": <ms per order>, …}`` (``ratio`` = baseline / ours, as a rate ratio would be), and the
statements per order.
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
    """CPU seconds of ``count`` requests (each must answer 201); ``{k}`` in ``path`` becomes the
    index of the body sent."""
    began = time.process_time()
    for i in range(start, start + count):
        k = i % len(bodies)
        resp = client.post(path.format(k=k), data=bodies[k], headers=headers)
        if resp.status_code != 201:
            raise RuntimeError(f"{path} answered {resp.status_code}: {resp.get_data(as_text=True)[:300]}")
    return time.process_time() - began


def _sections() -> list[tuple[object, str, str]]:
    """The order's own rules, pure computing each (no SQL inside): what ``--sections`` times."""
    import backoffice.antifraud as antifraud
    import frontoffice.api as api
    import nomenclature.distribution.assignment as assignment
    import nomenclature.receipts as receipts
    from callcentre.zones import ZoneIndex
    from orders.schemas import OrderOut

    return [
        (api, "parse_model", "body validation (pydantic)"),
        (ZoneIndex, "locate", "zone of the address"),
        (antifraud, "evaluate", "antifraud: 100 rules on the facts"),
        (assignment.Distributor, "assign", "distribution: line → organization"),
        (receipts, "share_lines", "receipts: discount and VAT split"),
        (OrderOut, "of", "answer: model from the order"),
        (OrderOut, "model_dump_json", "answer: JSON"),
    ]


def main(argv: list[str] | None = None) -> dict:
    """Run the benchmark; print the table and the JSON line; return the figures."""
    parser = argparse.ArgumentParser(description="CPU per order in process against the bare insert.")
    parser.add_argument("--orders", type=int, default=300, help="requests per round, each side")
    parser.add_argument("--rounds", type=int, default=3, help="measured rounds, alternating")
    parser.add_argument(
        "--sections", action="store_true", help="time the order's own rules in one more round"
    )
    parser.add_argument(
        "--profile", metavar="PATH", help="pyinstrument text profile of one more round of ours"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary instance folder")
    args = parser.parse_args(argv)

    workdir = Path(tempfile.mkdtemp(prefix="bench-intake-cpu-"))
    sections: dict[str, float] = {}
    try:
        env = fill_demo(workdir)
        os.environ.update({k: v for k, v in env.items() if k.startswith("FRONTOFFICE_")})
        from baseline_app import create_baseline_app
        from intake_floor import capture, create_floor_app

        from frontoffice.app import create_app

        app = create_app({"relay": "off", "background_services": False})
        engine = app.extensions["frontoffice"].db.engine
        base = create_baseline_app(str(engine.url))
        ours_client, base_client = app.test_client(), base.test_client()
        token = ours_client.post("/api/v1/tokens", json={"username": "operator", "password": "operator"})
        auth = {"Authorization": f"Bearer {token.get_json()['token']}", "Content-Type": "application/json"}
        plain = {"Content-Type": "application/json"}
        bodies = [json.dumps(b).encode() for b in order_bodies()]

        _round(ours_client, "/api/v1/orders", bodies, auth, 100, 0)  # warm-up: caches, plans
        captured = capture(ours_client, engine, bodies, auth)  # each body's statements, once warm
        floor_client = create_floor_app(engine.url.database, captured).test_client()
        _round(base_client, "/bare", bodies, plain, 100, 0)
        _round(floor_client, "/floor/{k}", bodies, plain, 100, 0)
        sides = {
            "ours": (ours_client, "/api/v1/orders", auth),
            "baseline": (base_client, "/bare", plain),
            "floor": (floor_client, "/floor/{k}", plain),
        }
        spent: dict[str, list[float]] = {side: [] for side in sides}
        for r in range(args.rounds):
            for side, (client, path, headers) in sides.items():
                spent[side].append(_round(client, path, bodies, headers, args.orders, r * args.orders))

        if args.sections:
            from timed_sections import timed

            with timed(_sections()) as seconds:
                _round(ours_client, "/api/v1/orders", bodies, auth, args.orders, 0)
            sections = {label: s / args.orders * 1000 for label, s in seconds.items()}

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

    ms = {side: [s / args.orders * 1000 for s in values] for side, values in spent.items()}
    ours, baseline, floor = (statistics.median(ms[side]) for side in ("ours", "baseline", "floor"))
    statements = statistics.mean(c.statement_count for c in captured)
    print(f"intake_cpu: {args.rounds} rounds of {args.orders} requests each side, alternating; in process")
    print(f"{'request':<44} {'CPU ms per request, each round':<30} {'median':>8}")
    for label, side in (
        ("POST /api/v1/orders (3 lines)", "ours"),
        ("baseline POST /bare (1-row INSERT)", "baseline"),
        ("floor POST /floor (the order's own SQL)", "floor"),
    ):
        print(
            f"{label:<44} {' / '.join(f'{v:.3f}' for v in ms[side]):<30} {statistics.median(ms[side]):>8.3f}"
        )
    budget = baseline / 0.4
    print(f"ratio baseline / ours: {baseline / ours:.3f}; baseline / floor: {baseline / floor:.3f}")
    print(f"statements per order: {statements:g}")
    print(
        f"at a ratio of 0.4 an order may cost {budget:.3f} ms; its SQL and a bare endpoint take {floor:.3f}, "
        f"leaving {budget - floor:.3f} ms for everything else (ours spends {ours - floor:.3f})"
    )
    if sections:
        print("the order's own rules, pure computing (one more round of ours, timed inside):")
        for label, value in sections.items():
            print(f"  {label:<40} {value:.3f} ms")
        print(f"  {'together':<40} {sum(sections.values()):.3f} ms")
    figures = {
        "bench": "intake_cpu",
        "ours": round(ours, 3),
        "baseline": round(baseline, 3),
        "unit": "ms",
        "ratio": round(baseline / ours, 3),
        "floor": round(floor, 3),
        "floor_ratio": round(baseline / floor, 3),
        "left_at_0_4": round(budget - floor, 3),
        "statements_per_order": statements,
    }
    if sections:
        figures["rules_ms"] = round(sum(sections.values()), 3)
    print(json.dumps(figures))
    return figures


if __name__ == "__main__":
    main()
