"""Benchmark: the nearest free courier for an order, through the grid index, against brute force.

Workload: 10,000 couriers on shift scattered around Kazan (denser in the centre), 30 % of them
busy; 10,000 random order addresses in the same area. Ours: ``couriers.spatial`` — a grid index
of the free couriers finds the few nearest by haversine and geopy's geodesic distance ranks them
(``nearest_ranked``, k=1). Baseline, in the same run: geopy's geodesic distance to every free
courier, keeping the smallest (a sample of ``--baseline-queries`` orders: brute force costs about
half a second per order). Both answers are compared on the sample.

    /work/venv/bin/python bench/nearest_courier.py [--couriers 10000] [--orders 10000] [--baseline-queries 100]

Prints a table, then one JSON line:
``{"bench": "nearest_courier", "ours": <p99 ms>, "baseline": <p99 ms>, "unit": "ms", "ratio": <baseline/ours>}``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_support import percentile
from geopy.distance import geodesic  # noqa: E402

from couriers.spatial import GridIndex, nearest_ranked  # noqa: E402

KAZAN = (55.7963, 49.1088)
SPREAD_DEG = (0.07, 0.12)  # about 8 km north-south and east-west (one standard deviation)


def scatter(rng: random.Random, count: int) -> list[tuple[float, float]]:
    """Points around Kazan: normal around the centre, clipped to the city's box."""
    out = []
    for _ in range(count):
        lat = min(55.95, max(55.65, rng.gauss(KAZAN[0], SPREAD_DEG[0])))
        lon = min(49.40, max(48.85, rng.gauss(KAZAN[1], SPREAD_DEG[1])))
        out.append((lat, lon))
    return out


def main(argv: list[str] | None = None) -> dict:
    """Run the benchmark; print the table and the JSON line; return the figures."""
    parser = argparse.ArgumentParser(
        description="Nearest free courier: grid index + geopy vs brute-force geopy."
    )
    parser.add_argument("--couriers", type=int, default=10_000)
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--busy", type=float, default=0.3, help="share of couriers carrying orders")
    parser.add_argument("--baseline-queries", type=int, default=100)
    parser.add_argument("--cell-m", type=float, default=700.0, help="grid cell size in metres")
    parser.add_argument("--seed", type=int, default=6)
    args = parser.parse_args(argv)

    rng = random.Random(args.seed)
    positions = scatter(rng, args.couriers)
    free = {cid: pos for cid, pos in enumerate(positions) if rng.random() >= args.busy}
    orders = scatter(rng, args.orders)

    started = time.perf_counter()
    index = GridIndex(cell_m=args.cell_m, ref_lat=KAZAN[0])
    for cid, (lat, lon) in free.items():
        index.add(cid, lat, lon)
    build_ms = (time.perf_counter() - started) * 1000

    ours_ms: list[float] = []
    answers: list[int] = []
    for lat, lon in orders:
        t = time.perf_counter()
        best = nearest_ranked(index, lat, lon, k=1)
        ours_ms.append((time.perf_counter() - t) * 1000)
        answers.append(best[0].key)

    sample = rng.sample(range(len(orders)), min(args.baseline_queries, len(orders)))
    base_ms: list[float] = []
    agree = 0
    free_items = list(free.items())
    for i in sample:
        origin = orders[i]
        t = time.perf_counter()
        best_id, best_d = -1, float("inf")
        for cid, pos in free_items:
            d = geodesic(origin, pos).meters
            if d < best_d:
                best_id, best_d = cid, d
        base_ms.append((time.perf_counter() - t) * 1000)
        agree += best_id == answers[i]

    ours_p99 = percentile(ours_ms, 99)
    base_p99 = percentile(base_ms, 99)
    print(
        f"nearest_courier: {args.couriers} couriers around Kazan ({len(free)} free), {args.orders} orders; "
        f"grid {args.cell_m:g} m built in {build_ms:.0f} ms; brute force on {len(sample)} of the orders; "
        f"{os.cpu_count()} CPUs"
    )
    header = f"{'method':<44} {'queries':>8} {'p50 ms':>9} {'p99 ms':>9} {'mean ms':>9}"
    print(header)
    print("-" * len(header))
    for label, data in (
        ("grid index + geopy ranking of the few best", ours_ms),
        ("baseline: geopy geodesic over all free", base_ms),
    ):
        print(
            f"{label:<44} {len(data):>8} {percentile(data, 50):>9.3f} {percentile(data, 99):>9.3f} "
            f"{statistics.fmean(data):>9.3f}"
        )
    print(f"same courier as brute force on {agree} of {len(sample)} sampled orders")
    if agree != len(sample):
        print("warning: the index disagreed with brute force", file=sys.stderr)
    figures = {
        "bench": "nearest_courier",
        "ours": round(ours_p99, 4),
        "baseline": round(base_p99, 3),
        "unit": "ms",
        "ratio": round(base_p99 / ours_p99, 1) if ours_p99 else 0.0,
    }
    print(json.dumps(figures))
    return figures


if __name__ == "__main__":
    main()
