"""Benchmark: courier position reports through the live server, against baselines in the same run.

Workload: a fresh SQLite instance folder gets the demo branches and ``--couriers`` couriers on
shift, each with a login and a Traccar device id; ``frontoffice run`` serves it (gunicorn,
one worker, ``--worker`` gevent by default; every baseline server runs on the same worker class). A load generator in another process then measures

1. batched reports: ``POST /api/courier/v1/locations`` with ``--batch`` points each (every point
   new), points stored per second; baseline: the same points written with a raw ``executemany``
   (sqlite3, one transaction per batch) into a table shaped like the track table, no HTTP;
2. single OsmAnd pings: ``POST /api/osmand?id=…&lat=…`` as Traccar Client sends them, requests
   per second; baseline: a bare Flask endpoint on the same gunicorn settings that inserts one
   row per request.

    /work/venv/bin/python bench/locations.py [--duration 8] [--batch 500] [--concurrency 8] [--worker gevent|gthread]

Prints a table, then one JSON line:
``{"bench": "locations", "ours": <points/s batched>, "baseline": <points/s raw executemany>,
"unit": "points/s", "ratio": <ours/baseline>, "osmand_rps": <req/s>}``.
"""

from __future__ import annotations

import sys

if "--serve-baseline" in sys.argv:  # a baseline server, on the worker ours runs on: patch first for gevent
    from bench_support import patch_if_serving_on_gevent

    patch_if_serving_on_gevent(sys.argv)

import argparse
import asyncio
import datetime as dt
import json
import multiprocessing as mp
import os
import random
import shutil
import sqlite3
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

import requests
from bench_support import HOST, WORKERS, ServerProcess, frontoffice_command

KAZAN = (55.7887, 49.1221)


# --- servers ---------------------------------------------------------------------------------


def serve_baseline(database_url: str, port: int, threads: int, worker: str) -> None:
    """The OsmAnd baseline: a bare Flask app whose ``POST /bare`` inserts one row, served like ours."""
    from flask import Flask, Response, request
    from sqlalchemy import Column, Float, Integer, MetaData, String, Table

    from frontoffice.cli import _serve
    from frontoffice.db import make_engine

    metadata = MetaData()
    pings = Table(
        "bench_bare_pings",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("device", String(100)),
        Column("lat", Float),
        Column("lon", Float),
        Column("at", String(40)),
    )
    engine = make_engine(database_url)
    metadata.create_all(engine)
    writer = engine.execution_options(sqlite_immediate=True)
    app = Flask("bench_bare")

    @app.post("/bare")
    def bare():
        args = request.args
        with writer.begin() as conn:
            conn.execute(
                pings.insert().values(
                    device=args.get("id"),
                    lat=float(args["lat"]),
                    lon=float(args["lon"]),
                    at=args.get("timestamp"),
                )
            )
        return Response(status=200)

    @app.get("/healthz")
    def healthz():
        return {"status": "ok"}

    _serve(app, HOST, port, threads, worker)


# --- load generator (its own process) ----------------------------------------------------------


async def _connection(port: int, payloads: list[bytes], deadline: float, out: dict) -> None:
    reader, writer = await asyncio.open_connection(HOST, port)
    i = 0
    try:
        while time.perf_counter() < deadline and i < len(payloads):
            started = time.perf_counter()
            writer.write(payloads[i])
            i += 1
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            body = await reader.readexactly(length) if length else b""
            if status == 200:
                out["ok"] += 1
                out["lat"].append((time.perf_counter() - started) * 1000)
            else:
                out["failed"] += 1
                out["first_failure"] = out["first_failure"] or f"{status} {body[:300]!r}"
    finally:
        writer.close()


def load_worker(port: int, lanes: list[list[bytes]], seconds: float, results) -> None:
    """Send each lane's requests in order on its own keep-alive connection until time runs out."""

    async def run() -> dict:
        out = {"ok": 0, "failed": 0, "lat": [], "first_failure": ""}
        started = time.perf_counter()
        await asyncio.gather(*(_connection(port, lane, started + seconds, out) for lane in lanes))
        out["seconds"] = time.perf_counter() - started
        return out

    try:
        results.put(asyncio.run(run()))
    except BaseException as exc:  # reported by the driver
        results.put(exc)


def measure(port: int, lanes: list[list[bytes]], seconds: float) -> dict:
    """Run the load generator in a separate process; ok, failed, seconds, latencies."""
    ctx = mp.get_context("spawn")
    results = ctx.Queue()
    proc = ctx.Process(target=load_worker, args=(port, lanes, seconds, results))
    proc.start()
    out = results.get(timeout=seconds + 120)
    proc.join(10)
    if isinstance(out, BaseException):
        raise RuntimeError(f"load generator failed: {out!r}")
    out["rate"] = out["ok"] / out["seconds"]
    data = sorted(out["lat"]) or [float("nan")]
    out["p50"] = data[len(data) // 2]
    out["p99"] = data[min(len(data) - 1, int(len(data) * 0.99))]
    return out


def http(method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None) -> bytes:
    """One raw HTTP/1.1 keep-alive request."""
    lines = [f"{method} {path} HTTP/1.1", f"Host: {HOST}", "Connection: keep-alive"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    lines += [f"Content-Length: {len(body)}", "", ""]
    return "\r\n".join(lines).encode() + body


# --- the workload --------------------------------------------------------------------------------


def walk(rng: random.Random, count: int, start: dt.datetime, step_s: float) -> list[dict]:
    """A courier's wander through Kazan: ``count`` points ``step_s`` apart, oldest first."""
    lat, lon = KAZAN[0] + rng.uniform(-0.02, 0.02), KAZAN[1] + rng.uniform(-0.03, 0.03)
    out = []
    for i in range(count):
        lat += rng.uniform(-0.0002, 0.0002)
        lon += rng.uniform(-0.0003, 0.0003)
        out.append(
            {
                "recorded_at": (start + dt.timedelta(seconds=i * step_s)).isoformat(),
                "lat": round(lat, 6),
                "lon": round(lon, 6),
                "accuracy": 5.0,
                "speed": round(rng.uniform(0, 12), 2),
                "bearing": round(rng.uniform(0, 359), 1),
                "battery": 80.0,
            }
        )
    return out


def prepare(database_url: str, couriers: int) -> list[tuple[str, str]]:
    """Migrate, load the demo branches, register couriers on shift; (token, device id) of each."""
    from couriers import services
    from frontoffice.app import create_app
    from frontoffice.auth import create_user, issue_token
    from frontoffice.migrate import upgrade
    from nomenclature import demo as menu
    from orders import demo as branches

    upgrade(database_url)
    app = create_app({"database_url": database_url, "secret_key": "bench"})
    kernel = app.extensions["frontoffice"]
    out = []
    with kernel.db.unit_of_work() as s:
        menu.load(s, kernel)
        branches.load(s, kernel)
    with kernel.db.unit_of_work() as s:
        for n in range(couriers):
            user = create_user(
                s, f"bench-courier-{n}", "bench-pass", "courier", hash_method="pbkdf2:sha256:1000"
            )
            courier = services.create_courier(
                s,
                services.CourierData(
                    name=f"Bench {n}", branch_ids=[1, 2], user_id=user.id, device_id=f"bench-{n}"
                ),
            )
            services.start_shift(s, courier)
            out.append((issue_token(s, user, "bench"), f"bench-{n}"))
    kernel.db.dispose()
    return out


def raw_executemany(database_path: Path, batches: list[tuple[int, list[dict]]]) -> tuple[float, int]:
    """The baseline: the same points into a track-shaped table, one executemany + commit per batch."""
    conn = sqlite3.connect(database_path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute(
        "CREATE TABLE bench_raw_points (id INTEGER PRIMARY KEY, courier_id INTEGER NOT NULL, "
        "recorded_at TEXT NOT NULL, received_at TEXT NOT NULL, lat REAL NOT NULL, lon REAL NOT NULL, "
        "accuracy REAL, speed REAL, bearing REAL, altitude REAL, battery REAL, source TEXT NOT NULL, "
        "UNIQUE (courier_id, recorded_at))"
    )
    sql = (
        "INSERT INTO bench_raw_points (courier_id, recorded_at, received_at, lat, lon, accuracy, speed, bearing, "
        "altitude, battery, source) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    )
    points = 0
    started = time.perf_counter()
    for courier_id, batch in batches:
        now = dt.datetime.now(dt.UTC).isoformat()
        rows = [
            (
                courier_id,
                p["recorded_at"],
                now,
                p["lat"],
                p["lon"],
                p["accuracy"],
                p["speed"],
                p["bearing"],
                None,
                p["battery"],
                "api",
            )
            for p in batch
        ]
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(sql, rows)
        conn.execute("COMMIT")
        points += len(rows)
    seconds = time.perf_counter() - started
    conn.close()
    return points / seconds, points


def main(argv: list[str] | None = None) -> dict:
    """Run the benchmark; print the table and the JSON line; return the figures."""
    parser = argparse.ArgumentParser(description="Courier position reports: batched API and OsmAnd pings.")
    parser.add_argument("--duration", type=float, default=8.0, help="measured seconds per phase")
    parser.add_argument("--batch", type=int, default=500, help="points per batched report")
    parser.add_argument("--couriers", type=int, default=8, help="couriers (phones) reporting at once")
    parser.add_argument("--concurrency", type=int, default=8, help="keep-alive connections for OsmAnd pings")
    parser.add_argument("--threads", type=int, default=32, help="gthread: gunicorn threads")
    parser.add_argument("--worker", choices=WORKERS, default="gevent", help="gunicorn worker of both servers")
    parser.add_argument("--serve-baseline", nargs=2, metavar=("DATABASE_URL", "PORT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_baseline:
        serve_baseline(args.serve_baseline[0], int(args.serve_baseline[1]), args.threads, args.worker)
        return {}

    workdir = Path(tempfile.mkdtemp(prefix="bench-locations-"))
    instance = workdir / "instance"
    instance.mkdir()
    db_path = instance / "frontoffice.sqlite3"
    database_url = f"sqlite:///{db_path}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("FRONTOFFICE_")}
    env.update(FRONTOFFICE_INSTANCE_PATH=str(instance), FRONTOFFICE_SECRET_KEY="bench")
    rng = random.Random(6)
    servers: list[ServerProcess] = []
    try:
        phones = prepare(database_url, args.couriers)
        ours = ServerProcess(
            "frontoffice",
            [
                *frontoffice_command(),
                "run",
                "--port",
                "{port}",
                "--threads",
                str(args.threads),
                "--worker",
                args.worker,
            ],
            env,
            workdir,
        )
        servers.append(ours)
        bare_db = f"sqlite:///{workdir / 'bare.sqlite3'}"
        bare = ServerProcess(
            "baseline",
            [
                sys.executable,
                str(Path(__file__).resolve()),
                "--threads",
                str(args.threads),
                "--worker",
                args.worker,
                "--serve-baseline",
                bare_db,
                "{port}",
            ],
            env,
            workdir,
        )
        servers.append(bare)
        ours.wait_ready()
        bare.wait_ready()

        # 1. Batched reports: enough distinct batches for the whole phase, one lane (connection) per phone.
        now = dt.datetime.now(dt.UTC)
        per_lane = max(4, int(60_000 * args.duration / args.batch / args.couriers))
        start = now - dt.timedelta(hours=30)
        lanes: list[list[bytes]] = []
        per_phone: list[list[tuple[int, list[dict]]]] = []
        warm: list[tuple[str, bytes]] = []
        for lane_no, (token, _device) in enumerate(phones):
            points = walk(rng, (per_lane + 1) * args.batch, start, step_s=0.05)
            batches = [points[i : i + args.batch] for i in range(0, len(points), args.batch)]
            headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
            warm.append((token, json.dumps({"points": batches[0]}).encode()))
            lanes.append(
                [
                    http("POST", "/api/courier/v1/locations", json.dumps({"points": b}).encode(), headers)
                    for b in batches[1:]
                ]
            )
            per_phone.append([(lane_no + 1, b) for b in batches[1:]])
        for token, body in warm:  # warm-up, with batches not used again
            resp = requests.post(
                f"{ours.url}/api/courier/v1/locations",
                data=body,
                timeout=30,
                headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            )
            if resp.status_code != 200 or resp.json()["accepted"] != args.batch:
                raise RuntimeError(f"a batch was not stored: {resp.status_code} {resp.text[:300]}")
        batched = measure(ours.port, lanes, args.duration)
        batched["points_per_s"] = batched["rate"] * args.batch
        stored = sqlite3.connect(db_path).execute("SELECT count(*) FROM courier_track_points").fetchone()[0]
        expected = batched["ok"] * args.batch + len(warm) * args.batch
        if stored < expected:
            raise RuntimeError(f"only {stored} of {expected} points were stored")

        # The same number of batches, round-robin over the phones as the server got them.
        round_robin = [lane[i] for i in range(per_lane) for lane in per_phone]
        base_rate, base_points = raw_executemany(
            workdir / "raw.sqlite3", round_robin[: max(40, batched["ok"])]
        )

        # 2. OsmAnd pings, one new point each, and the bare one-row endpoint.
        ping_lanes: list[list[bytes]] = []
        bare_lanes: list[list[bytes]] = []
        per_ping_lane = int(3_000 * args.duration / args.concurrency)
        for lane in range(args.concurrency):
            _token, device = phones[lane % len(phones)]
            base_ts = int(now.timestamp() * 1000) - (lane + 1) * 10_000_000
            pings, bares = [], []
            for i in range(per_ping_lane):
                query = urlencode(
                    {
                        "id": device,
                        "timestamp": base_ts + i * 250 + lane,
                        "lat": f"{KAZAN[0] + i * 1e-6:.6f}",
                        "lon": f"{KAZAN[1]:.6f}",
                        "speed": "12.5",
                        "bearing": "90",
                        "accuracy": "6",
                        "batt": "77",
                    }
                )
                pings.append(http("POST", f"/api/osmand?{query}"))
                bares.append(http("POST", f"/bare?{query}"))
            ping_lanes.append(pings)
            bare_lanes.append(bares)
        warmup = [lane[:50] for lane in ping_lanes]
        measure(ours.port, warmup, 2.0)
        measure(bare.port, [lane[:50] for lane in bare_lanes], 2.0)
        osmand = measure(ours.port, [lane[50:] for lane in ping_lanes], args.duration)
        bare_result = measure(bare.port, [lane[50:] for lane in bare_lanes], args.duration)
    finally:
        for server in servers:
            server.stop()
        shutil.rmtree(workdir, ignore_errors=True)

    for name, result in (("batched", batched), ("osmand", osmand), ("bare", bare_result)):
        if result["failed"]:
            print(
                f"warning: {result['failed']} {name} requests failed, first: {result['first_failure']}",
                file=sys.stderr,
            )

    ratio = batched["points_per_s"] / base_rate if base_rate else 0.0
    print(
        f"locations: {args.couriers} phones, batches of {args.batch} points, {args.concurrency} connections "
        f"for pings, {args.duration:g} s per phase; gunicorn {args.worker} 1 worker"
        f"{f' x {args.threads} threads' if args.worker == 'gthread' else ''} (both servers); "
        f"SQLite WAL; {os.cpu_count()} CPUs"
    )
    header = f"{'workload':<46} {'requests':>9} {'failed':>7} {'rate':>12} {'p50 ms':>8} {'p99 ms':>8}"
    print(header)
    print("-" * len(header))
    print(
        f"{'POST /api/courier/v1/locations (points/s)':<46} {batched['ok']:>9} {batched['failed']:>7} "
        f"{batched['points_per_s']:>12,.0f} {batched['p50']:>8.1f} {batched['p99']:>8.1f}"
    )
    print(
        f"{'baseline: raw sqlite3 executemany (points/s)':<46} {base_points // args.batch:>9} {0:>7} "
        f"{base_rate:>12,.0f} {'':>8} {'':>8}"
    )
    print(
        f"{'POST /api/osmand single pings (req/s)':<46} {osmand['ok']:>9} {osmand['failed']:>7} "
        f"{osmand['rate']:>12,.0f} {osmand['p50']:>8.1f} {osmand['p99']:>8.1f}"
    )
    print(
        f"{'baseline: bare one-row insert endpoint (req/s)':<46} {bare_result['ok']:>9} "
        f"{bare_result['failed']:>7} {bare_result['rate']:>12,.0f} {bare_result['p50']:>8.1f} "
        f"{bare_result['p99']:>8.1f}"
    )
    print(
        f"ratio batched/raw executemany: {ratio:.3f}; OsmAnd/bare endpoint: "
        f"{osmand['rate'] / bare_result['rate'] if bare_result['rate'] else 0:.3f}"
    )
    figures = {
        "bench": "locations",
        "ours": round(batched["points_per_s"], 1),
        "baseline": round(base_rate, 1),
        "unit": "points/s",
        "ratio": round(ratio, 4),
        "osmand_rps": round(osmand["rate"], 1),
    }
    print(json.dumps(figures))
    return figures


if __name__ == "__main__":
    main()
