"""Benchmark: thousands of idle sockets on one web process, live fan-out, the API beside them, a flood.

Starts a real server (``frontoffice demo --no-serve`` for the data, then ``frontoffice run``: gunicorn,
one worker — gevent by default, ``--worker gthread`` for the thread-per-socket model — SQLite in WAL),
then, in order:

1. **API, neither holding.** ``POST /api/v1/orders`` one after another, on this server and on its
   *twin* — the same server started the same way on its own copy of the demo data, which never holds
   a socket — in alternation, request by request (half of ``--api-orders`` each; the other half once
   the held screens are closed again, step 6). Ours / twin here is the calibration: ≈ 1.
2. **Held.** ``--held`` idle *authenticated* ``/monitor`` screens of branch 2 (orders go to branch 1),
   Engine.IO v4 over raw websockets answering pings from one selector thread, spread over source
   addresses 127.0.0.10, .11, … (``--per-address`` each) so the per-address limit holds; the worker's
   resident memory is read.
3. **Fan-out, with them held.** ``--clients`` real ``python-socketio`` clients join ``/monitor`` (every
   branch) from 127.0.0.1 in a few processes; orders are placed one second apart, and for every client
   and order we take the time **from the commit** — a thread of the benchmark polls the server's SQLite
   file (``PRAGMA data_version`` every 0.5 ms, then the new order ids) and stamps the moment each order
   becomes visible — to the receipt of the coalesced ``metrics_updated`` that lists it. (The order's
   ``created_at``, set inside the transaction, is an earlier bound; both are printed.)
4. **API, with them held.** ``--api-orders`` orders on each, alternating as in 1;
   ``api_p99_ratio`` = p99 of ours holding / p99 of the twin at the same moments: whatever else the
   machine does (other jobs, the benchmark's own holder answering 5,000 pings) weighs on both alike,
   so the ratio is the cost of the sockets inside our process. ``api_p99_over_time`` (ours holding /
   ours in 1 and 6, minutes apart) is printed beside it; each side has ``--api-orders`` samples
   (1,000 by default: a p99 over a few hundred requests on a shared machine is the 2nd–4th slowest
   request, i.e. noise).
5. **Flood.** ``--flood`` unauthenticated connection attempts from one address (127.0.0.250), all
   at once from a thread pool: each opens the websocket and asks for ``/monitor`` without a token,
   then stays silent. Meanwhile ``/healthz`` and the order API are timed every 100 ms. Afterwards:
   how many were refused at the handshake, refused by the namespace, and closed by the server within
   the join grace; whether the held screens are still there.
6. **Closed again.** The held screens are closed; the second half of 1 runs.
7. **Baseline.** A bare Flask-SocketIO app (``create_baseline_app``, no database, no snapshot, no
   coalescing) on the same gunicorn worker broadcasts to the same ``--clients``: the transport's floor.

    python bench/monitor_fanout.py [--held 5000] [--clients 200] [--orders 20] [--worker gevent]

Prints a table, then a last line of JSON: ``{"bench": "monitor_fanout", "ours": <p95 ms from commit>,
"baseline": <p95 ms>, "unit": "ms", "ratio": <baseline/ours>, "clients": 200, "held": <n>,
"rss_mb": <MB>, "api_p99_ratio": <x>, "api_p99_calibration": <x>, "api_p99_over_time": <x>, ...}``. Targets: p95 <= 100 ms with 5,000 held,
api_p99_ratio <= 1.5, the API answering through the flood.
"""

from __future__ import annotations

import sys

if "--serve-baseline" in sys.argv and "gevent" in sys.argv:  # the baseline server, on gevent
    from gevent import monkey

    monkey.patch_all()

import argparse
import concurrent.futures
import json
import os
import resource
import selectors
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import requests
import socketio
import websocket
from bench_support import free_port, percentile

ROOT = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-m", "frontoffice"]
HELD_FIRST_ADDRESS = 10
FLOOD_ADDRESS = "127.0.0.250"


def rss_mb(pid: int) -> float:
    """Resident memory of a process, MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def open_files(pid: int) -> int:
    """File descriptors a process holds."""
    return len(os.listdir(f"/proc/{pid}/fd"))


def cpu_s(pid: int) -> float:
    """CPU time a process (all its threads) used so far, seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def worker_of(master: int) -> int:
    """The gunicorn worker: the master's child process."""
    for _ in range(100):
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        if children:
            return int(children[0])
        time.sleep(0.1)
    raise RuntimeError("no gunicorn worker")


def raise_open_files_limit() -> None:
    """Every socket is a file descriptor, on both ends."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


class Server:
    """``frontoffice run`` on a fresh SQLite instance with the demo data."""

    def __init__(self, worker: str, threads: int, grace_s: float):
        self.folder = tempfile.mkdtemp(prefix="bench-fanout-")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "FRONTOFFICE_INSTANCE_PATH": self.folder, "PYTHONUNBUFFERED": "1"}
        for key in ("FRONTOFFICE_DATABASE_URL", "FRONTOFFICE_REDIS_URL"):
            self.env.pop(key, None)
        self.env["FRONTOFFICE_SOCKET_JOIN_GRACE_S"] = str(grace_s)
        subprocess.run([*CLI, "demo", "--no-serve"], env=self.env, cwd=ROOT, check=True, capture_output=True)
        self.database = Path(self.folder) / "frontoffice.sqlite3"
        self.log = open(Path(self.folder) / "server.log", "w")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [*CLI, "run", "--port", str(self.port), "--worker", worker, "--threads", str(threads)],
            env=self.env,
            cwd=ROOT,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        wait_healthy(self.url)
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


def wait_healthy(url: str) -> None:
    """Block until ``/healthz`` answers."""
    for _ in range(600):
        try:
            if requests.get(f"{url}/healthz", timeout=1).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise RuntimeError("the server did not start")


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
    import datetime as dt

    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


class CommitWatcher:
    """Stamps the moment each new order becomes visible in the server's SQLite file: its commit."""

    def __init__(self, database: Path):
        self.conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True, check_same_thread=False)
        self.committed: dict[int, float] = {}
        self.last_id = self.conn.execute("SELECT coalesce(max(id), 0) FROM orders").fetchone()[0]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        version = None
        while not self._stop.is_set():
            now = time.time()
            current = self.conn.execute("PRAGMA data_version").fetchone()[0]
            if current != version:
                version = current
                for (order_id,) in self.conn.execute("SELECT id FROM orders WHERE id > ?", (self.last_id,)):
                    self.committed.setdefault(order_id, now)
                    self.last_id = max(self.last_id, order_id)
            time.sleep(0.0005)

    def stop(self) -> None:
        """Stop watching."""
        self._stop.set()
        self._thread.join(5)
        self.conn.close()


# --- the order API ---------------------------------------------------------------------------------


def api_latencies(server: Server, token: str, count: int, first: int) -> list[float]:
    """``count`` orders placed one after another; their latencies, ms."""
    return api_alternating([(server, token)], count, first)[0]


def api_alternating(targets: list[tuple[Server, str]], count: int, first: int) -> list[list[float]]:
    """``count`` orders placed on each of ``targets`` in turn (A B, B A, A B, …: neither always goes
    first); each target's latencies, ms. Two servers timed request by request share whatever else
    the machine is doing at that moment, so their ratio is the cost of what differs between them."""
    sessions = []
    for _, token in targets:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {token}"
        sessions.append(session)
    out: list[list[float]] = [[] for _ in targets]
    for n in range(first, first + count):
        turn = range(len(targets)) if n % 2 == 0 else reversed(range(len(targets)))
        for k in turn:
            started = time.perf_counter()
            resp = sessions[k].post(f"{targets[k][0].url}/api/v1/orders", json=order_body(n), timeout=30)
            out[k].append((time.perf_counter() - started) * 1000)
            resp.raise_for_status()
    return out


# --- fan-out to real python-socketio clients --------------------------------------------------------


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


def start_clients(url: str, token: str, clients: int, processes: int):
    """Start the client processes; (workers, ready, done, results) once all are connected."""
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    ready, results, done = ctx.Queue(), ctx.Queue(), ctx.Event()
    sizes = [clients // processes + (1 if i < clients % processes else 0) for i in range(processes)]
    workers = [
        ctx.Process(target=client_group, args=(url, token, n, ready, done, results), daemon=True)
        for n in sizes
        if n
    ]
    for w in workers:
        w.start()
    connected = sum(ready.get(timeout=600) for _ in workers)
    print(f"  connected {connected} live clients in {len(workers)} processes", flush=True)
    return workers, done, results


def collect(workers, done, results) -> dict:
    """Stop the client processes and gather what they heard."""
    done.set()
    got = {"updates": [], "facts": [], "created": {}}
    for _ in workers:
        part = results.get(timeout=300)
        got["updates"] += part["updates"]
        got["facts"] += part["facts"]
        got["created"].update(part["created"])
    for w in workers:
        w.join(30)
    return got


def fan_out(server: Server, clients: int, orders: int, processes: int, first: int) -> dict:
    """Latencies (ms) from each order's commit (and from its ``created_at``) to its receipt."""
    token = server.token("manager")
    operator = server.token("operator")
    workers, done, results = start_clients(server.url, token, clients, processes)
    time.sleep(1.5)
    watcher = CommitWatcher(server.database)
    placed: list[int] = []
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {operator}"
    try:
        for n in range(first, first + orders):
            resp = session.post(f"{server.url}/api/v1/orders", json=order_body(n), timeout=30)
            resp.raise_for_status()
            placed.append(resp.json()["id"])
            time.sleep(1.0)
        time.sleep(2.0)
    finally:
        watcher.stop()
    got = collect(workers, done, results)
    committed, created = watcher.committed, got["created"]
    missing_commit = [o for o in placed if o not in committed]
    if missing_commit:
        raise RuntimeError(f"the commit of orders {missing_commit} was not seen")
    ours = [(seen[o] - committed[o]) * 1000 for seen in got["updates"] for o in placed if o in seen]
    from_created = [(seen[o] - created[o]) * 1000 for seen in got["updates"] for o in placed if o in seen]
    facts = [(seen[o] - committed[o]) * 1000 for seen in got["facts"] for o in placed if o in seen]
    per_order = {
        o: statistics.median([(seen[o] - committed[o]) * 1000 for seen in got["updates"] if o in seen])
        for o in placed
        if any(o in seen for seen in got["updates"])
    }
    return {
        "ours": ours,
        "from_created": from_created,
        "facts": facts,
        "expected": clients * orders,
        "per_order": per_order,
    }


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


def baseline_fan_out(clients: int, orders: int, processes: int, worker: str, threads: int) -> list[float]:
    """Latencies (ms) of a bare broadcast to ``clients`` clients, same gunicorn worker."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [
            sys.executable,
            __file__,
            "--serve-baseline",
            str(port),
            "--worker",
            worker,
            "--threads",
            str(threads),
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_healthy(url)
        workers, done, results = start_clients(url, "-", clients, processes)
        time.sleep(1.5)
        for _ in range(orders):
            requests.post(f"{url}/bare", timeout=10).raise_for_status()
            time.sleep(1.0)
        time.sleep(2.0)
        got = collect(workers, done, results)
        return [(at - sent) * 1000 for seen in got["facts"] for sent, at in seen.values()]
    finally:
        proc.terminate()
        proc.wait(15)


# --- idle screens held -----------------------------------------------------------------------------


def raw_websocket(base_url: str, source: str, timeout: float = 30) -> websocket.WebSocket:
    """An Engine.IO v4 websocket from ``source`` (an address of 127/8)."""
    host, port = base_url.removeprefix("http://").split(":")
    sock = socket.socket()
    sock.settimeout(timeout)
    sock.bind((source, 0))
    sock.connect((host, int(port)))
    ws_url = base_url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
    return websocket.create_connection(ws_url, timeout=timeout, socket=sock, skip_utf8_validation=True)


class RawScreen:
    """One monitor connection spoken in Engine.IO v4 / Socket.IO v5 frames over a websocket."""

    def __init__(self, base_url: str, token: str, source: str, branch: int = 2):
        self.ws = raw_websocket(base_url, source)
        opened = self.ws.recv()
        if not opened.startswith("0"):
            raise RuntimeError(f"unexpected open packet {opened[:40]!r}")
        self.ws.send("40/monitor," + json.dumps({"token": token, "branch": branch}))
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
        elif frame == "" or frame.startswith("41") or frame == "1":
            self.alive = False


class Holder:
    """Keeps idle screens alive (answers their pings) from one selector thread."""

    def __init__(self, server: Server, count: int, per_address: int):
        token = server.token("manager")
        self.screens: list[RawScreen] = []
        self.selector = selectors.DefaultSelector()
        self._stop = threading.Event()
        # Answer pings from the first screen on: opening thousands takes longer than a ping
        # interval plus its timeout, and the server closes screens that do not answer.
        self._thread = threading.Thread(target=self._keep, daemon=True)
        self._thread.start()
        started = time.monotonic()
        for i in range(count):
            source = f"127.0.0.{HELD_FIRST_ADDRESS + i // per_address}"
            screen = RawScreen(server.url, token, source)
            self.screens.append(screen)
            self.selector.register(screen.ws.sock, selectors.EVENT_READ, screen)
            if (i + 1) % 1000 == 0:
                print(f"  holding {i + 1} connections", flush=True)
        self.connect_s = time.monotonic() - started

    def _keep(self) -> None:
        while not self._stop.is_set():
            if not self.selector.get_map():
                time.sleep(0.05)
                continue
            for key, _ in self.selector.select(timeout=0.5):
                screen: RawScreen = key.data
                screen.handle()
                if not screen.alive:
                    self.selector.unregister(key.fileobj)

    @property
    def alive(self) -> int:
        """Screens still connected."""
        return sum(1 for s in self.screens if s.alive)

    @property
    def pinged(self) -> int:
        """Screens that answered at least one ping."""
        return sum(1 for s in self.screens if s.alive and s.pings)

    def close(self) -> None:
        """Stop answering and close them all."""
        self._stop.set()
        self._thread.join(5)
        for s in self.screens:
            try:
                s.ws.close(timeout=0)
            except (websocket.WebSocketException, OSError):
                pass


# --- the flood ----------------------------------------------------------------------------------


def flood(server: Server, attempts: int, grace_s: float, operator: str) -> dict:
    """``attempts`` unauthenticated connections from one address while the API is timed."""
    outcomes: list[str] = []
    held: list[websocket.WebSocket] = []
    lock = threading.Lock()

    def attempt(_: int) -> None:
        try:
            ws = raw_websocket(server.url, FLOOD_ADDRESS, timeout=20)
        except websocket.WebSocketBadStatusException as exc:
            outcome = f"handshake {exc.status_code}"
            ws = None
        except (websocket.WebSocketException, OSError) as exc:
            outcome = f"error {type(exc).__name__}"
            ws = None
        else:
            try:
                ws.recv()
                ws.send("40/monitor,{}")
                reply = ws.recv()
                outcome = "namespace refused" if reply.startswith("44/monitor") else "namespace joined"
            except (websocket.WebSocketException, OSError):
                outcome = "closed early"
        with lock:
            outcomes.append(outcome)
            if ws is not None:
                held.append(ws)

    probes: list[tuple[str, float, int]] = []
    stop = threading.Event()

    def probe() -> None:
        session = requests.Session()
        n = 50_000
        while not stop.is_set():
            for name, call in (
                ("healthz", lambda: session.get(f"{server.url}/healthz", timeout=30)),
                (
                    "order",
                    lambda n=n: session.post(
                        f"{server.url}/api/v1/orders",
                        json=order_body(n),
                        headers={"Authorization": f"Bearer {operator}"},
                        timeout=30,
                    ),
                ),
            ):
                started = time.perf_counter()
                try:
                    status = call().status_code
                except requests.RequestException:
                    status = 0
                probes.append((name, (time.perf_counter() - started) * 1000, status))
            n += 1
            time.sleep(0.1)

    prober = threading.Thread(target=probe, daemon=True)
    prober.start()
    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=100) as pool:
        list(pool.map(attempt, range(attempts)))
    flood_s = time.monotonic() - started
    time.sleep(grace_s + 3.0)  # past the grace: the server should have closed what stayed
    stop.set()
    prober.join(35)
    still_open = 0
    for ws in held:
        ws.settimeout(0.2)
        try:
            while True:
                frame = ws.recv()
                if frame == "" or frame == "1":
                    break
        except websocket.WebSocketTimeoutException:
            still_open += 1
        except (websocket.WebSocketException, OSError):
            pass
        try:
            ws.close(timeout=0)
        except (websocket.WebSocketException, OSError):
            pass
    counts: dict[str, int] = {}
    for outcome in outcomes:
        counts[outcome] = counts.get(outcome, 0) + 1

    def stats(name: str) -> dict:
        ms = [t for n, t, _ in probes if n == name]
        ok = sum(1 for n, _, status in probes if n == name and 200 <= status < 300)
        return {"n": len(ms), "ok": ok, "p99": percentile(ms, 99) if ms else 0.0, "max": max(ms, default=0.0)}

    return {
        "outcomes": counts,
        "flood_s": flood_s,
        "still_open": still_open,
        "healthz": stats("healthz"),
        "order": stats("order"),
    }


# --- main ---------------------------------------------------------------------------------------


def main() -> None:
    """Start the server, run the phases, print the table and the JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--held", type=int, default=5000)
    parser.add_argument("--per-address", type=int, default=100, help="held screens per source address")
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--orders", type=int, default=20)
    parser.add_argument(
        "--api-orders", type=int, default=1000, help="API orders held (and alone, in two halves)"
    )
    parser.add_argument("--flood", type=int, default=1000)
    parser.add_argument("--grace", type=float, default=5.0, help="FRONTOFFICE_SOCKET_JOIN_GRACE_S")
    parser.add_argument("--idle-seconds", type=float, default=30.0, help="idle CPU measured over")
    parser.add_argument("--processes", type=int, default=4, help="client processes for the fan-out")
    parser.add_argument("--worker", choices=("gevent", "gthread"), default="gevent")
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--threads", type=int, default=None, help="gthread: threads (default: enough)")
    parser.add_argument("--serve-baseline", type=int, default=None, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    threads = args.threads or args.held + args.clients + args.flood + 100
    if args.serve_baseline:
        from frontoffice.cli import _serve

        _serve(create_baseline_app(), "127.0.0.1", args.serve_baseline, threads, args.worker)
        return

    raise_open_files_limit()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # stop the servers on the way out
    print(
        f"monitor_fanout: {args.held} idle screens held, {args.clients} live clients × {args.orders} orders,"
        f" {args.api_orders} API orders alone and held, a flood of {args.flood}; worker {args.worker}",
        flush=True,
    )
    server = Server(args.worker, threads, args.grace)
    # The twin: the same server on its own copy of the demo data, never holding a socket. The order
    # API is timed on both in alternation, so the machine's other load weighs on both alike.
    twin = Server(args.worker, threads, args.grace)
    holder = None
    try:
        operator = server.token("operator")
        pair = [(server, operator), (twin, twin.token("operator"))]
        api_alternating(pair, 30, 90_000)  # warm-up: caches, first statements, the pool
        idle_rss = rss_mb(server.worker)
        api_before, twin_before = api_alternating(pair, args.api_orders // 2, 0)
        print(
            f"  API, neither holding: p99 {percentile(api_before, 99):.1f} ms, twin {percentile(twin_before, 99):.1f} ms",
            flush=True,
        )
        holder = Holder(server, args.held, args.per_address)
        time.sleep(2.0)
        held_rss = rss_mb(server.worker)
        held_files = open_files(server.worker)
        idle_cpu_before = cpu_s(server.worker)
        time.sleep(args.idle_seconds)  # what the idle screens cost: pings, heartbeats
        idle_cpu = (cpu_s(server.worker) - idle_cpu_before) / args.idle_seconds
        print(f"  held {holder.alive} in {holder.connect_s:.1f} s; worker RSS {held_rss:.0f} MB", flush=True)
        fan = fan_out(server, args.clients, args.orders, args.processes, 10_000)
        print(f"  fan-out p95 {percentile(fan['ours'], 95):.1f} ms from commit", flush=True)
        api_held, twin_held = api_alternating(pair, args.api_orders, 20_000)
        print(
            f"  API held: p99 {percentile(api_held, 99):.1f} ms, twin {percentile(twin_held, 99):.1f} ms",
            flush=True,
        )
        flooded = flood(server, args.flood, args.grace, operator)
        held_after = holder.alive
        pinged = holder.pinged
        final_rss = rss_mb(server.worker)
        held_count, connect_s = holder.alive, holder.connect_s
        holder.close()
        holder = None
        time.sleep(5.0)  # the server sees them go
        api_after, twin_after = api_alternating(pair, args.api_orders - args.api_orders // 2, 40_000)
        print(
            f"  API, neither holding again: p99 {percentile(api_after, 99):.1f} ms, twin {percentile(twin_after, 99):.1f} ms",
            flush=True,
        )
    finally:
        if holder is not None:
            holder.close()
        server.stop()
        twin.stop()
    base = (
        []
        if args.no_baseline
        else baseline_fan_out(args.clients, args.orders, args.processes, args.worker, threads)
    )

    ours, facts, created = fan["ours"], fan["facts"], fan["from_created"]
    p95 = percentile(ours, 95)
    base_p95 = percentile(base, 95) if base else None
    api_alone = api_before + api_after
    twin_alone = twin_before + twin_after
    # the target's ratio: held against the twin at the same moments; the twin-free ratios beside it
    ratio = percentile(api_held, 99) / percentile(twin_held, 99)
    calibration = percentile(api_alone, 99) / percentile(twin_alone, 99)
    over_time = percentile(api_held, 99) / percentile(api_alone, 99)
    serving = f"gunicorn {args.worker}" + (f", {threads} threads" if args.worker == "gthread" else "")
    rows = [
        ("server", f"frontoffice run, {serving}, SQLite WAL, demo data"),
        (
            "idle screens held (authenticated, /monitor branch 2)",
            f"{held_count} of {args.held}",
        ),
        ("time to open them", f"{connect_s:.1f} s"),
        (
            "worker RSS idle / holding",
            f"{idle_rss:.0f} MB / {held_rss:.0f} MB "
            f"(+{(held_rss - idle_rss) * 1024 / max(args.held, 1):.0f} KB per connection), {held_files} files",
        ),
        ("worker CPU with them idle", f"{idle_cpu * 100:.1f} % of a core (over {args.idle_seconds:g} s)"),
        ("fan-out deliveries received", f"{len(ours)} of {fan['expected']} (metrics_updated)"),
        (
            "ours: commit → metrics_updated, ms",
            f"p50 {statistics.median(ours):.1f}  p95 {p95:.1f}  p99 {percentile(ours, 99):.1f}  max {max(ours):.1f}",
        ),
        (
            "  each order's median over the clients, ms",
            " ".join(f"{v:.0f}" for v in fan["per_order"].values()),
        ),
        (
            "  same from created_at (before commit), ms",
            f"p50 {statistics.median(created):.1f}  p95 {percentile(created, 95):.1f}",
        ),
        (
            "ours: commit → order_placed fact, ms",
            f"p50 {statistics.median(facts):.1f}  p95 {percentile(facts, 95):.1f}",
        ),
        (
            "order API, neither holding (before + after), ms",
            f"ours p50 {statistics.median(api_alone):.1f}  p99 {percentile(api_alone, 99):.1f}; twin p50 "
            f"{statistics.median(twin_alone):.1f}  p99 {percentile(twin_alone, 99):.1f}  ({len(api_alone)} each)",
        ),
        (
            "order API, ours holding the screens, ms",
            f"ours p50 {statistics.median(api_held):.1f}  p99 {percentile(api_held, 99):.1f}; twin p50 "
            f"{statistics.median(twin_held):.1f}  p99 {percentile(twin_held, 99):.1f}  ({len(api_held)} each)",
        ),
        ("api_p99_ratio (ours holding / twin, same moments)", f"{ratio:.2f}"),
        ("  ours / twin with neither holding (calibration)", f"{calibration:.2f}"),
        ("  ours holding / ours not holding (other minutes)", f"{over_time:.2f}"),
        (
            f"flood: {args.flood} unauthenticated attempts from {FLOOD_ADDRESS}",
            ", ".join(f"{k}: {v}" for k, v in sorted(flooded["outcomes"].items()))
            + f"; {flooded['flood_s']:.1f} s; still open after the grace: {flooded['still_open']}",
        ),
        (
            "  /healthz during the flood, ms",
            f"{flooded['healthz']['ok']} of {flooded['healthz']['n']} ok, p99 {flooded['healthz']['p99']:.1f}"
            f"  max {flooded['healthz']['max']:.1f}",
        ),
        (
            "  order API during the flood, ms",
            f"{flooded['order']['ok']} of {flooded['order']['n']} ok, p99 {flooded['order']['p99']:.1f}"
            f"  max {flooded['order']['max']:.1f}",
        ),
        (
            "held screens after the flood",
            f"{held_after} (answered pings: {pinged}); worker RSS {final_rss:.0f} MB",
        ),
    ]
    if base:
        rows += [
            (
                "baseline: bare broadcast, same worker, ms",
                f"p50 {statistics.median(base):.1f}  p95 {base_p95:.1f}  ({len(base)} received)",
            ),
            ("ratio baseline p95 / ours p95", f"{base_p95 / p95:.2f}"),
        ]
    width = max(len(r[0]) for r in rows)
    for label, value in rows:
        print(f"  {label:<{width}}  {value}")
    print(
        json.dumps(
            {
                "bench": "monitor_fanout",
                "ours": round(p95, 1),
                "baseline": round(base_p95, 1) if base_p95 is not None else None,
                "unit": "ms",
                "ratio": round(base_p95 / p95, 3) if base_p95 is not None else None,
                "worker": args.worker,
                "clients": args.clients,
                "held": held_after,
                "rss_mb": round(held_rss, 1),
                "idle_cpu": round(idle_cpu, 3),
                "api_p99_ratio": round(ratio, 2),
                "api_p99_calibration": round(calibration, 2),
                "api_p99_over_time": round(over_time, 2),
                "flood_api_ok": flooded["order"]["ok"] == flooded["order"]["n"],
            }
        )
    )


if __name__ == "__main__":
    main()
