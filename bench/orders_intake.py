"""Benchmark: order intake through the real server, against a bare one-row-insert baseline.

Workload: ``frontoffice demo --no-serve`` fills a fresh SQLite instance folder, ``frontoffice run``
serves it (gunicorn, one worker, ``--worker`` gevent by default, SQLite in WAL), and a load generator in another process
keeps ``--concurrency`` keep-alive connections busy with ``POST /api/v1/orders`` (3 lines, an
operator's bearer token from ``POST /api/v1/tokens``, the two demo branches in turn). In the same
run the baseline (``bench/baseline_app.py``: the same gunicorn settings and worker class, the same engine and
pragmas on the same database file, one single-row INSERT per request) gets the same load.

    /work/venv/bin/python bench/orders_intake.py [--duration 10] [--concurrency 8] [--warmup 2] [--worker gevent|gthread]

Prints a table, then one JSON line:
``{"bench": "orders_intake", "ours": …, "baseline": …, "unit": "req/s", "ratio": …, "p99_ms": …}``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import requests
from bench_support import HOST, WORKERS, ServerProcess, fill_demo, free_port, frontoffice_command

HERE = Path(__file__).resolve().parent


# --- servers ---------------------------------------------------------------------------------


# --- load generator (runs in its own process) ------------------------------------------------


@dataclass
class PhaseResult:
    """What one load phase measured."""

    ok: int
    failed: int
    seconds: float
    latencies_ms: list[float]
    first_failure: str = ""
    server_cpu: float | None = None  # CPU seconds per second the server used while measured

    @property
    def rate(self) -> float:
        """Successful requests per second."""
        return self.ok / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float:
        """Latency percentile in ms (q in 0..100)."""
        if not self.latencies_ms:
            return float("nan")
        data = sorted(self.latencies_ms)
        return data[min(len(data) - 1, max(0, round(q / 100 * len(data)) - 1))]


def _http_request(path: str, body: bytes, headers: dict[str, str]) -> bytes:
    head = [f"POST {path} HTTP/1.1", f"Host: {HOST}", "Connection: keep-alive"]
    head += [f"{k}: {v}" for k, v in headers.items()]
    head += ["Content-Type: application/json", f"Content-Length: {len(body)}", "", ""]
    return "\r\n".join(head).encode() + body


async def _one_connection(
    port: int, requests_: list[bytes], expect: int, measure_from: float, deadline: float, out: dict
) -> None:
    """Send requests one after the other on one keep-alive connection until ``deadline``;
    record those sent from ``measure_from`` on."""
    reader = writer = None
    i = 0
    while time.perf_counter() < deadline:
        if writer is None:
            reader, writer = await asyncio.open_connection(HOST, port)
        payload = requests_[i % len(requests_)]
        i += 1
        started = time.perf_counter()
        writer.write(payload)
        head = await reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        close = False
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"connection" and value.strip().lower() == b"close":
                close = True
        data = await reader.readexactly(length) if length else b""
        elapsed = (time.perf_counter() - started) * 1000
        if started >= measure_from:
            if status == expect:
                out["ok"] += 1
                out["lat"].append(elapsed)
            else:
                out["failed"] += 1
                if not out["first_failure"]:
                    out["first_failure"] = f"{status} {data[:300].decode(errors='replace')}"
        if close:
            writer.close()
            writer = None
    if writer is not None:
        writer.close()


async def _run_load(
    port: int, requests_: list[bytes], expect: int, concurrency: int, warmup: float, duration: float, events
) -> PhaseResult:
    out = {"ok": 0, "failed": 0, "lat": [], "first_failure": ""}
    measure_from = time.perf_counter() + warmup
    deadline = measure_from + duration

    async def announce() -> None:
        await asyncio.sleep(max(0.0, measure_from - time.perf_counter()))
        events.put("measuring")

    # Each connection starts at a different request so the branches and phones interleave.
    await asyncio.gather(
        announce(),
        *(
            _one_connection(port, requests_[c:] + requests_[:c], expect, measure_from, deadline, out)
            for c in range(concurrency)
        ),
    )
    return PhaseResult(
        out["ok"], out["failed"], time.perf_counter() - measure_from, out["lat"], out["first_failure"]
    )


def load_worker(
    port: int, requests_: list[bytes], expect: int, concurrency: int, warmup: float, duration: float, events
) -> None:
    """Warm up, then measure one endpoint on the same connections; tells ``events`` when the
    measurement starts, then puts the result (or the failure)."""
    try:
        events.put(asyncio.run(_run_load(port, requests_, expect, concurrency, warmup, duration, events)))
    except BaseException as exc:  # report the failure to the driver instead of hanging it
        events.put(exc)


def measure(
    server: ServerProcess, requests_: list[bytes], expect: int, args: argparse.Namespace
) -> PhaseResult:
    """Run the load generator in a separate process against one server; note the server's CPU use."""
    ctx = mp.get_context("spawn")
    events = ctx.Queue()
    proc = ctx.Process(
        target=load_worker,
        args=(server.port, requests_, expect, args.concurrency, args.warmup, args.duration, events),
    )
    proc.start()
    limit = args.warmup + args.duration + 60
    result = events.get(timeout=limit)
    if result == "measuring":
        cpu_before, wall_before = server.cpu_seconds(), time.monotonic()
        result = events.get(timeout=limit)
        cpu_after, wall_after = server.cpu_seconds(), time.monotonic()
        if isinstance(result, PhaseResult) and cpu_before is not None and cpu_after is not None:
            result.server_cpu = (cpu_after - cpu_before) / (wall_after - wall_before)
    proc.join(10)
    if isinstance(result, BaseException):
        raise RuntimeError(f"load generator failed: {result!r}")
    return result


# --- the run -----------------------------------------------------------------------------------


def _start_py_spy(server: ServerProcess, args: argparse.Namespace) -> subprocess.Popen:
    """py-spy sampling the server's gunicorn worker over warm-up and measurement."""
    exe = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    out = Path(args.profile).resolve()
    fmt = "flamegraph" if out.suffix == ".svg" else "raw"
    return subprocess.Popen(
        [
            exe,
            "record",
            "--subprocesses",
            "--nonblocking",
            "-r",
            "250",
            "-f",
            fmt,
            "-o",
            str(out),
            "-p",
            str(server.proc.pid),
            "-d",
            str(int(args.warmup + args.duration)),
        ],
        stdout=subprocess.DEVNULL,
    )


def wait_quiet(db_path: Path, timeout_s: float, horizon_s: float) -> float:
    """Wait until the fresh demo has nothing left to deliver or send for ``horizon_s``: no pending
    outbox row and no open fiscal receipt due by then. The demo's history leaves a few hundred
    receipts, which ``frontoffice run`` (no demo register) looks at once as it starts and then holds
    until an administrator adds a register; measuring during that sweep would time the backlog, not
    intake (new cash orders print no receipt until they are paid). Seconds waited."""
    start = time.monotonic()
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=5)
    try:
        while True:
            busy = conn.execute(
                "SELECT (SELECT count(*) FROM outbox WHERE state = 'pending')"
                " + (SELECT count(*) FROM fiscal_receipts WHERE state IN ('pending', 'sent')"
                "    AND next_attempt_at <= datetime('now', ?))",
                (f"+{int(horizon_s)} seconds",),
            ).fetchone()[0]
            if not busy:
                return time.monotonic() - start
            if time.monotonic() - start > timeout_s:
                raise RuntimeError(
                    f"the demo was still busy after {timeout_s:.0f} s ({busy} rows to deliver or send)"
                )
            time.sleep(0.5)
    finally:
        conn.close()


def orders_per_commit(url: str) -> float:
    """Mean writes per group-committed transaction of our server so far, from its ``/metrics``."""
    found = {}
    for line in requests.get(f"{url}/metrics", timeout=10).text.splitlines():
        name, _, value = line.partition(" ")
        if name in ("frontoffice_group_commit_transactions_total", "frontoffice_group_commit_writes_total"):
            found[name] = float(value)
    transactions = found.get("frontoffice_group_commit_transactions_total", 0.0)
    return found.get("frontoffice_group_commit_writes_total", 0.0) / transactions if transactions else 0.0


def order_bodies(count: int = 64) -> list[dict]:
    """Orders of three lines for the two demo branches, with different callers."""
    bodies = []
    for i in range(count):
        bodies.append(
            {
                "branch_id": 1 + i % 2,
                "kind": "delivery",
                "client": {
                    "phone": f"+7 912 {100 + i:03d}-{i % 100:02d}-{(7 * i) % 100:02d}",
                    "name": "Bench",
                },
                "address": {"text": f"Kazan, Baumana St, {1 + i}", "lat": 55.79 + i / 10000, "lon": 49.12},
                "payment": {"kind": "cash", "change_from": "5000.00"},
                "lines": [
                    {"sku": "PZ-MARG", "quantity": 1},
                    {"sku": "DR-COLA05", "quantity": 2},
                    {"sku": "SU-PHIL", "quantity": 1},
                ],
            }
        )
    return bodies


def main(argv: list[str] | None = None) -> dict:
    """Run the benchmark; print the table and the JSON line; return the figures."""
    parser = argparse.ArgumentParser(description="Order intake throughput against a bare-insert baseline.")
    parser.add_argument("--duration", type=float, default=10.0, help="measured seconds per endpoint")
    parser.add_argument(
        "--warmup", type=float, default=2.0, help="unmeasured seconds before each measurement"
    )
    parser.add_argument(
        "--concurrency", type=int, default=8, help="keep-alive connections of the load generator"
    )
    parser.add_argument("--threads", type=int, default=200, help="gthread: gunicorn threads of each server")
    parser.add_argument("--worker", choices=WORKERS, default="gevent", help="gunicorn worker of both servers")
    parser.add_argument(
        "--settle", type=float, default=300.0, help="at most this many seconds to wait for the demo's backlog"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary instance folder")
    parser.add_argument(
        "--relay",
        choices=("thread", "worker"),
        default="thread",
        help="thread: the embedded default (the relay a thread of the web process); "
        "worker: the web process with FRONTOFFICE_RELAY=off and `frontoffice worker` as its own process",
    )
    parser.add_argument(
        "--profile",
        metavar="PATH",
        help="record our server with py-spy during the orders phase (PATH.svg: flame graph, else collapsed stacks)",
    )
    args = parser.parse_args(argv)

    workdir = Path(tempfile.mkdtemp(prefix="bench-orders-intake-"))
    database_url = f"sqlite:///{workdir / 'instance' / 'frontoffice.sqlite3'}"
    servers: list[ServerProcess] = []
    try:
        env = fill_demo(workdir)
        web_env = {**env, "FRONTOFFICE_RELAY": "off"} if args.relay == "worker" else env
        ours = ServerProcess(
            "frontoffice",
            [
                *frontoffice_command(),
                "run",
                "--port",
                str(port := free_port()),
                "--threads",
                str(args.threads),
                "--worker",
                args.worker,
            ],
            web_env,
            workdir,
            port,
        )
        servers.append(ours)
        if args.relay == "worker":
            servers.append(ServerProcess("worker", [*frontoffice_command(), "worker"], env, workdir))
        base = ServerProcess(
            "baseline",
            [
                sys.executable,
                str(HERE / "baseline_app.py"),
                "--database-url",
                database_url,
                "--port",
                str(port := free_port()),
                "--threads",
                str(args.threads),
                "--worker",
                args.worker,
            ],
            env,
            workdir,
            port,
        )
        servers.append(base)
        ours.wait_ready()
        base.wait_ready()
        settled = wait_quiet(
            workdir / "instance" / "frontoffice.sqlite3", args.settle, 2 * (args.warmup + args.duration) + 30
        )
        print(f"settled in {settled:.1f} s: the demo's outbox and fiscal queue are empty", flush=True)

        resp = requests.post(
            f"{ours.url}/api/v1/tokens", json={"username": "operator", "password": "operator"}, timeout=10
        )
        resp.raise_for_status()
        auth = {"Authorization": f"Bearer {resp.json()['token']}"}
        bodies = [json.dumps(b).encode() for b in order_bodies()]
        check = requests.post(
            f"{ours.url}/api/v1/orders",
            data=bodies[0],
            headers={**auth, "Content-Type": "application/json"},
            timeout=10,
        )
        if check.status_code != 201:
            raise RuntimeError(f"placing an order failed: {check.status_code} {check.text}")

        spy = _start_py_spy(ours, args) if args.profile else None
        our_result = measure(ours, [_http_request("/api/v1/orders", b, auth) for b in bodies], 201, args)
        if spy is not None:
            spy.wait(30)
        per_commit = orders_per_commit(ours.url)
        base_result = measure(base, [_http_request("/bare", b, {}) for b in bodies], 201, args)
    finally:
        for server in servers:
            server.stop()
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)

    for name, result in (("orders", our_result), ("baseline", base_result)):
        if result.failed:
            print(
                f"warning: {result.failed} {name} requests failed, first: {result.first_failure}",
                file=sys.stderr,
            )

    ratio = our_result.rate / base_result.rate if base_result.rate else 0.0
    print(
        f"orders_intake: {args.concurrency} keep-alive connections, {args.duration:g} s per endpoint "
        f"after {args.warmup:g} s warm-up; gunicorn {args.worker} 1 worker"
        f"{f' x {args.threads} threads' if args.worker == 'gthread' else ''} (both servers); SQLite WAL; "
        f"{os.cpu_count()} CPUs; relay: "
        f"{'its own `frontoffice worker` process' if args.relay == 'worker' else 'a thread of the web process'}"
    )
    header = f"{'endpoint':<34} {'requests':>9} {'failed':>7} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'mean ms':>8} {'srv CPU':>8}"
    print(header)
    print("-" * len(header))
    for label, result in (
        ("POST /api/v1/orders (3 lines)", our_result),
        ("baseline POST /bare (1-row INSERT)", base_result),
    ):
        mean = statistics.fmean(result.latencies_ms) if result.latencies_ms else float("nan")
        print(
            f"{label:<34} {result.ok:>9} {result.failed:>7} {result.rate:>9.1f} "
            f"{result.percentile(50):>8.1f} {result.percentile(99):>8.1f} {mean:>8.1f} "
            f"{'' if result.server_cpu is None else f'{result.server_cpu:.0%}':>8}"
        )
    print(f"ratio ours/baseline: {ratio:.2f}")
    print(f"orders per write transaction (group commit, whole run): {per_commit:.2f}")
    figures = {
        "bench": "orders_intake",
        "ours": round(our_result.rate, 1),
        "baseline": round(base_result.rate, 1),
        "unit": "req/s",
        "ratio": round(ratio, 3),
        "p99_ms": round(our_result.percentile(99), 1),
        "relay": args.relay,
        "orders_per_commit": round(per_commit, 2),
    }
    print(json.dumps(figures))
    return figures


if __name__ == "__main__":
    main()
