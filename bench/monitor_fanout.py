"""Benchmark: the live monitor's fan-out to 200 screens, and 1,000 idle screens held by one process.

Starts a real server (``frontoffice demo --no-serve`` for the data, then ``frontoffice run``:
gunicorn, one gthread worker, SQLite in WAL), then:

1. **Fan-out.** 200 real ``python-socketio`` clients join ``/monitor`` as managers. Orders are
   placed through ``POST /api/v1/orders`` one second apart; for every client and every order
   we take the time from the order's creation timestamp (set inside the transaction, just
   before its commit; the same clock, one machine) to the receipt of the coalesced
   ``metrics_updated`` that lists it (and of the ``order_placed`` fact sent after it). In the
   same run, the baseline: a bare Flask-SocketIO app served with the same gunicorn settings
   broadcasting a small message to the same 200 clients — no database, no snapshot, no
   coalescing: the floor of the transport on this machine.
2. **Held.** 1,000 idle monitor connections (Engine.IO v4 over websocket, answering pings,
   driven from one selector thread so the benchmark itself stays light) are held past a full
   ping interval; we count those still alive, check that one more order reaches them, and
   read the worker's resident memory.

    python bench/monitor_fanout.py [--clients 200] [--held 1000] [--orders 20]

Prints a table, then a last line of JSON:
``{"bench": "monitor_fanout", "ours": <p95 ms>, "unit": "ms", "clients": 200, "held": <n>, "rss_mb": <MB>}``.
Target: p95 <= 100 ms, 1,000 held.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import selectors
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests
import socketio
import websocket
from bench_support import free_port, percentile

ROOT = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-c", "from frontoffice.cli import main; main()"]


def rss_mb(pid: int) -> float:
    """Resident memory of a process, MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def worker_of(master: int) -> int:
    """The gunicorn worker: the master's child process."""
    for _ in range(100):
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        if children:
            return int(children[0])
        time.sleep(0.1)
    raise RuntimeError("no gunicorn worker")


class Server:
    """``frontoffice run`` on a fresh SQLite instance with the demo data."""

    def __init__(self, threads: int):
        self.folder = tempfile.mkdtemp(prefix="bench-fanout-")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "FRONTOFFICE_INSTANCE_PATH": self.folder, "PYTHONUNBUFFERED": "1"}
        for key in ("FRONTOFFICE_DATABASE_URL", "FRONTOFFICE_REDIS_URL"):
            self.env.pop(key, None)
        subprocess.run([*CLI, "demo", "--no-serve"], env=self.env, cwd=ROOT, check=True, capture_output=True)
        self.log = open(Path(self.folder) / "server.log", "w")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [*CLI, "run", "--port", str(self.port), "--threads", str(threads)],
            env=self.env,
            cwd=ROOT,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        for _ in range(300):
            try:
                if requests.get(f"{self.url}/healthz", timeout=1).ok:
                    break
            except requests.RequestException:
                time.sleep(0.1)
        else:
            raise RuntimeError("the server did not start")
        self.worker = worker_of(self.proc.pid)

    def token(self, username: str) -> str:
        """A bearer token of a demo user (password = username)."""
        resp = requests.post(
            f"{self.url}/api/v1/tokens", json={"username": username, "password": username}, timeout=10
        )
        resp.raise_for_status()
        return resp.json()["token"]

    def stop(self) -> None:
        """Stop the server."""
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()
        shutil.rmtree(self.folder, ignore_errors=True)


def order_body(n: int) -> dict:
    """An order inside the demo's central zone, a new caller each time."""
    return {
        "branch_id": 1,
        "kind": "delivery",
        "client": {"phone": f"+7917{5000000 + n:07d}", "name": f"Bench {n}"},
        "address": {"text": "Kazan, Baumana St, 40", "lat": 55.7890, "lon": 49.1230},
        "payment": {"kind": "card_on_delivery"},
        "lines": [{"sku": "PZ-MARG", "quantity": 1}, {"sku": "SU-PHIL", "quantity": 1}],
    }


def parse_time(text: str) -> float:
    """Epoch seconds of an ISO 8601 time."""
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


# --- phase 1: fan-out to real python-socketio clients ------------------------------------------


def client_group(url: str, token: str, count: int, ready, done, results) -> None:
    """One process of ``count`` python-socketio clients; reports receipt times when ``done`` is set.

    Screens are separate browsers in life: spreading the clients over a few processes keeps one
    benchmark interpreter's lock from queueing every receipt behind the previous one.
    """
    lock = threading.Lock()
    updates: list[dict[int, float]] = []
    facts: list[dict[int, float]] = []
    created: dict[int, float] = {}
    screens = []
    for _ in range(count):
        seen_update: dict[int, float] = {}
        seen_fact: dict[int, float] = {}
        updates.append(seen_update)
        facts.append(seen_fact)
        # websocket-client checks UTF-8 in pure Python (1.4 ms per 12 KB frame): with many clients
        # in one process that check, not the server, would dominate. Browsers check it natively;
        # so does the JSON decoder here.
        client = socketio.Client(reconnection=False, websocket_extra_options={"skip_utf8_validation": True})

        def on_update(data, seen=seen_update):
            now = time.time()
            with lock:
                for change in data.get("changes", []):
                    seen.setdefault(change["order_id"], now)
                    created.setdefault(change["order_id"], parse_time(change["at"]))

        def on_fact(data, seen=seen_fact):
            # the baseline app stamps its facts with the time it sent them
            seen.setdefault(data["order_id"], (data["at"], time.time()) if "at" in data else time.time())

        client.on("metrics_updated", on_update, namespace="/monitor")
        client.on("order_placed", on_fact, namespace="/monitor")
        client.connect(
            url, namespaces=["/monitor"], transports=["websocket"], auth={"token": token}, wait_timeout=30
        )
        screens.append(client)
    ready.put(count)
    done.wait()
    for client in screens:
        client.disconnect()
    results.put({"updates": updates, "facts": facts, "created": created})


def fan_out(server: Server, clients: int, orders: int, processes: int) -> dict:
    """Latencies (ms) from an order's creation to its receipt by every client."""
    import multiprocessing

    token = server.token("manager")
    operator = server.token("operator")
    ctx = multiprocessing.get_context("spawn")
    ready, results, done = ctx.Queue(), ctx.Queue(), ctx.Event()
    sizes = [clients // processes + (1 if i < clients % processes else 0) for i in range(processes)]
    workers = [
        ctx.Process(target=client_group, args=(server.url, token, n, ready, done, results), daemon=True)
        for n in sizes
        if n
    ]
    for w in workers:
        w.start()
    connected = sum(ready.get(timeout=300) for _ in workers)
    print(f"  connected {connected} clients in {len(workers)} processes", flush=True)
    time.sleep(1.5)
    placed: list[int] = []
    created: dict[int, float] = {}
    for n in range(orders):
        resp = requests.post(
            f"{server.url}/api/v1/orders",
            json=order_body(n),
            headers={"Authorization": f"Bearer {operator}"},
            timeout=10,
        )
        resp.raise_for_status()
        order = resp.json()
        placed.append(order["id"])
        created[order["id"]] = parse_time(order["created_at"])
        time.sleep(1.0)
    time.sleep(2.0)
    rss_with_clients = rss_mb(server.worker)
    done.set()
    updates: list[dict[int, float]] = []
    facts: list[dict[int, float]] = []
    for _ in workers:
        got = results.get(timeout=120)
        updates += got["updates"]
        facts += got["facts"]
    for w in workers:
        w.join(30)
    ours = [(seen[o] - created[o]) * 1000 for seen in updates for o in placed if o in seen]
    facts_ms = [(seen[o] - created[o]) * 1000 for seen in facts for o in placed if o in seen]
    return {"ours": ours, "facts": facts_ms, "expected": clients * orders, "rss": rss_with_clients}


# --- the baseline: a bare broadcast on the same stack --------------------------------------------


def create_baseline_app():
    """A bare Flask-SocketIO app on the kernel's socket settings: ``POST /bare`` broadcasts a small
    message to every ``/monitor`` client — no database, no snapshot, no coalescing."""
    from flask import Flask, jsonify
    from flask_socketio import Namespace

    from frontoffice.realtime import make_socketio

    app = Flask("fanout_baseline")
    sio = make_socketio(app, None)
    counter = iter(range(1, 10**9))

    class Open(Namespace):
        def on_connect(self, auth=None):
            return True

    sio.on_namespace(Open("/monitor"))

    @app.post("/bare")
    def bare():
        """Broadcast one fact with the time it was sent."""
        n = next(counter)
        sio.emit("order_placed", {"order_id": n, "at": time.time()}, namespace="/monitor")
        return jsonify(id=n), 201

    @app.get("/healthz")
    def healthz():
        return jsonify(status="ok")

    return app


def baseline_fan_out(clients: int, orders: int, processes: int, threads: int) -> list[float]:
    """Latencies (ms) of a bare broadcast to ``clients`` clients, same gunicorn settings."""
    import multiprocessing

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [sys.executable, __file__, "--serve-baseline", str(port), "--threads", str(threads)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(300):
            try:
                if requests.get(f"{url}/healthz", timeout=1).ok:
                    break
            except requests.RequestException:
                time.sleep(0.1)
        ctx = multiprocessing.get_context("spawn")
        ready, results, done = ctx.Queue(), ctx.Queue(), ctx.Event()
        sizes = [clients // processes + (1 if i < clients % processes else 0) for i in range(processes)]
        workers = [
            ctx.Process(target=client_group, args=(url, "-", n, ready, done, results), daemon=True)
            for n in sizes
            if n
        ]
        for w in workers:
            w.start()
        sum(ready.get(timeout=300) for _ in workers)
        time.sleep(1.5)
        for _ in range(orders):
            requests.post(f"{url}/bare", timeout=10).raise_for_status()
            time.sleep(1.0)
        time.sleep(2.0)
        done.set()
        latencies: list[float] = []
        for _ in workers:
            got = results.get(timeout=120)
            latencies += [(at - sent) * 1000 for seen in got["facts"] for sent, at in seen.values()]
        for w in workers:
            w.join(30)
        return latencies
    finally:
        proc.terminate()
        proc.wait(15)


# --- phase 2: idle screens held ----------------------------------------------------------------


class RawScreen:
    """One monitor connection spoken in Engine.IO v4 / Socket.IO v5 frames over a websocket."""

    def __init__(self, base_url: str, token: str):
        ws_url = base_url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
        self.ws = websocket.create_connection(ws_url, timeout=20, skip_utf8_validation=True)
        opened = self.ws.recv()
        if not opened.startswith("0"):
            raise RuntimeError(f"unexpected open packet {opened[:40]!r}")
        self.ws.send("40/monitor," + json.dumps({"token": token}))
        self.alive = False
        self.pings = 0
        self.updates = 0
        while not self.alive:
            frame = self.ws.recv()
            if frame.startswith("40/monitor,"):
                self.alive = True
            elif frame.startswith("44/monitor,"):
                raise RuntimeError(f"refused: {frame}")
            elif frame == "2":
                self.ws.send("3")

    def handle(self) -> None:
        """Read one frame: answer pings, count updates, notice a close."""
        try:
            frame = self.ws.recv()
        except (websocket.WebSocketException, OSError):
            self.alive = False
            return
        if frame == "2":
            self.pings += 1
            self.ws.send("3")
        elif frame.startswith('42/monitor,["metrics_updated"'):
            self.updates += 1
        elif frame == "" or frame.startswith("41"):
            self.alive = False


def hold(server: Server, count: int, hold_s: float) -> dict:
    """Open ``count`` idle screens, keep them past a ping interval, send one order to them all."""
    token = server.token("manager")
    operator = server.token("operator")
    before = rss_mb(server.worker)
    screens: list[RawScreen] = []
    started = time.monotonic()
    for i in range(count):
        screens.append(RawScreen(server.url, token))
        if (i + 1) % 250 == 0:
            print(f"  holding {i + 1} connections", flush=True)
    connect_s = time.monotonic() - started
    selector = selectors.DefaultSelector()
    for screen in screens:
        selector.register(screen.ws.sock, selectors.EVENT_READ, screen)
    stop = threading.Event()

    def keep() -> None:
        while not stop.is_set():
            for key, _ in selector.select(timeout=0.5):
                screen: RawScreen = key.data
                screen.handle()
                if not screen.alive:
                    selector.unregister(key.fileobj)

    keeper = threading.Thread(target=keep, daemon=True)
    keeper.start()
    time.sleep(hold_s)
    health_started = time.perf_counter()
    requests.get(f"{server.url}/healthz", timeout=10).raise_for_status()
    health_ms = (time.perf_counter() - health_started) * 1000
    counted = {id(s): s.updates for s in screens}
    requests.post(
        f"{server.url}/api/v1/orders",
        json=order_body(10_000),
        headers={"Authorization": f"Bearer {operator}"},
        timeout=10,
    ).raise_for_status()
    time.sleep(3.0)
    rss = rss_mb(server.worker)
    stop.set()
    keeper.join(5)
    alive = [s for s in screens if s.alive]
    reached = sum(1 for s in alive if s.updates > counted[id(s)])
    for s in screens:
        try:
            s.ws.close()
        except (websocket.WebSocketException, OSError):
            pass
    return {
        "held": len(alive),
        "pinged": sum(1 for s in alive if s.pings > 0),
        "reached": reached,
        "connect_s": connect_s,
        "rss_before": before,
        "rss": rss,
        "health_ms": health_ms,
    }


def main() -> None:
    """Start the server, run both phases, print the table and the JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--held", type=int, default=1000)
    parser.add_argument("--orders", type=int, default=20)
    parser.add_argument("--processes", type=int, default=4, help="client processes for the fan-out")
    parser.add_argument("--hold-seconds", type=float, default=35.0, help="longer than the 25 s ping interval")
    parser.add_argument("--threads", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--serve-baseline", type=int, default=None, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_baseline:
        from frontoffice.cli import _serve

        _serve(create_baseline_app(), "127.0.0.1", args.serve_baseline, args.threads or 400)
        return

    threads = args.held + args.clients + 100
    print(f"monitor_fanout: {args.clients} clients × {args.orders} orders, then {args.held} idle connections")
    server = Server(threads=threads)
    try:
        idle_rss = rss_mb(server.worker)
        fan = fan_out(server, args.clients, args.orders, args.processes)
        base = baseline_fan_out(args.clients, args.orders, args.processes, threads)
        held = (
            hold(server, args.held, args.hold_seconds)
            if args.held
            else {
                "held": 0,
                "pinged": 0,
                "reached": 0,
                "connect_s": 0.0,
                "rss_before": 0.0,
                "rss": 0.0,
                "health_ms": 0.0,
            }
        )
    finally:
        server.stop()

    ours, facts = fan["ours"], fan["facts"]
    p95 = percentile(ours, 95)
    rows = [
        ("server", f"frontoffice run, gunicorn gthread, {threads} threads, SQLite WAL, demo data"),
        (
            "fan-out deliveries received",
            f"{len(ours)} of {fan['expected']} (metrics_updated), clients in {args.processes} processes",
        ),
        (
            "ours: order → metrics_updated, ms",
            f"p50 {statistics.median(ours):.1f}  p95 {p95:.1f}  p99 {percentile(ours, 99):.1f}  max {max(ours):.1f}",
        ),
        (
            "ours: order → order_placed fact (after it), ms",
            f"p50 {statistics.median(facts):.1f}  p95 {percentile(facts, 95):.1f}",
        ),
        (
            "baseline: bare broadcast, same stack, ms",
            f"p50 {statistics.median(base):.1f}  p95 {percentile(base, 95):.1f}  p99 {percentile(base, 99):.1f}"
            f"  ({len(base)} received)",
        ),
        ("ratio baseline p95 / ours p95", f"{percentile(base, 95) / p95:.2f}"),
        ("worker RSS idle / with 200 clients", f"{idle_rss:.0f} MB / {fan['rss']:.0f} MB"),
        ("held past a ping interval", f"{held['held']} of {args.held} (answered pings: {held['pinged']})"),
        ("an order reached the held screens", f"{held['reached']} of {held['held']}"),
        ("time to open them", f"{held['connect_s']:.1f} s"),
        ("/healthz while holding", f"{held['health_ms']:.1f} ms"),
        (
            "worker RSS before / holding",
            f"{held['rss_before']:.0f} MB / {held['rss']:.0f} MB "
            f"(+{(held['rss'] - held['rss_before']) * 1024 / max(held['held'], 1):.0f} KB per connection)",
        ),
    ]
    width = max(len(r[0]) for r in rows)
    for label, value in rows:
        print(f"  {label:<{width}}  {value}")
    print(
        json.dumps(
            {
                "bench": "monitor_fanout",
                "ours": round(p95, 1),
                "unit": "ms",
                "clients": args.clients,
                "held": held["held"],
                "rss_mb": round(held["rss"], 1),
            }
        )
    )


if __name__ == "__main__":
    main()
