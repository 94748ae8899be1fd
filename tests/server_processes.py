"""Real ``frontoffice`` server processes for tests: free ports, a clean environment, readiness,
a socket listener, and a stop that leaves nothing running."""

from __future__ import annotations

import json
import os
import queue
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import requests
import socketio
import websocket

from tests.conftest import order_body

HOST = "127.0.0.1"


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def frontoffice_command() -> list[str]:
    """The ``frontoffice`` console script next to this interpreter, or ``python -m frontoffice.cli``."""
    script = Path(sys.executable).with_name("frontoffice")
    return [str(script)] if script.exists() else [sys.executable, "-m", "frontoffice.cli"]


def clean_env(**settings: str) -> dict[str, str]:
    """This process's environment without any ``FRONTOFFICE_*`` variable, plus ``settings``
    (keys without the prefix, e.g. ``database_url``)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FRONTOFFICE_")}
    env.update({f"FRONTOFFICE_{k.upper()}": v for k, v in settings.items()})
    return env


def run_cli(args: list[str], env: dict[str, str], cwd: Path, timeout: float = 60) -> str:
    """Run one ``frontoffice`` command to its end; its output, or the failure with it."""
    done = subprocess.run(
        [*frontoffice_command(), *args],
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, f"frontoffice {' '.join(args)} failed:\n{done.stdout}"
    return done.stdout


class ServerProcess:
    """``frontoffice <args>`` serving on ``port``, its output in a file of ``cwd``."""

    def __init__(self, args: list[str], port: int, env: dict[str, str], cwd: Path, name: str = "server"):
        self.port = port
        self.url = f"http://{HOST}:{port}"
        self.log_path = cwd / f"{name}-{port}.log"
        self._log = self.log_path.open("wb")
        # A session of its own, so the gunicorn worker can be stopped with its arbiter.
        self.proc = subprocess.Popen(
            [*frontoffice_command(), *args],
            env=env,
            cwd=cwd,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def output(self) -> str:
        """Everything the process printed so far."""
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    def wait_ready(self, timeout: float = 30) -> None:
        """Block until ``/healthz`` answers 200; fail with the process's output otherwise."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"the server exited with {self.proc.returncode}:\n{self.output()}")
            try:
                if requests.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise AssertionError(f"the server did not answer within {timeout} s:\n{self.output()}")

    def kill(self) -> None:
        """SIGKILL the arbiter and its worker at once, as a crash or an OOM killer would: no
        request is finished, no transaction committed or rolled back by the process."""
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(5)
        self._log.close()

    def interrupt(self) -> None:
        """Ctrl+C: gunicorn's quick shutdown."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGINT)

    def stop(self) -> None:
        """Interrupt and wait; the whole process group is killed if it lingers (a worker thread
        still serving a websocket keeps gunicorn's worker alive up to its graceful timeout)."""
        self.interrupt()
        try:
            self.proc.wait(3)
        except subprocess.TimeoutExpired:
            pass
        try:  # the arbiter is gone or stuck; make sure its worker goes too
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(5)
        self._log.close()


def stop_all(servers: list[ServerProcess]) -> None:
    """Stop several servers at once."""
    for server in servers:
        server.interrupt()
    for server in servers:
        server.stop()


def staff_token(url: str, username: str, password: str) -> str:
    """A bearer token from ``POST /api/v1/tokens``."""
    resp = requests.post(
        f"{url}/api/v1/tokens", json={"username": username, "password": password}, timeout=10
    )
    assert resp.status_code == 201, resp.text
    return resp.json()["token"]


def listen(
    url: str, namespace: str, token: str, event: str = "order_placed"
) -> tuple[socketio.Client, queue.Queue]:
    """A real Socket.IO client connected to ``namespace``; what it hears of ``event`` goes to the queue."""
    heard: queue.Queue = queue.Queue()
    client = socketio.Client(reconnection=False)
    client.on(event, heard.put, namespace=namespace)
    client.connect(
        url, namespaces=[namespace], transports=["websocket"], auth={"token": token}, wait_timeout=10
    )
    return client, heard


def place_order(url: str, token: str, **overrides: Any) -> dict:
    """``POST /api/v1/orders`` with the demo catalogue's three-line order; the created order."""
    resp = requests.post(
        f"{url}/api/v1/orders",
        json=order_body(**overrides),
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert resp.status_code == 201, resp.text
    return resp.json()


def raw_socket(url: str, source: str = HOST, timeout: float = 10) -> websocket.WebSocket:
    """An Engine.IO v4 websocket to ``url`` from ``source`` (any address of 127/8), its open packet
    read: a connection that has joined no namespace yet."""
    host, _, port = url.removeprefix("http://").partition(":")
    sock = socket.create_connection((host, int(port)), timeout=timeout, source_address=(source, 0))
    ws = websocket.create_connection(
        url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket",
        timeout=timeout,
        socket=sock,
    )
    opened = ws.recv()
    assert opened.startswith("0{"), opened
    return ws


def join(ws: websocket.WebSocket, namespace: str, auth: dict[str, Any]) -> str:
    """Ask to join ``namespace`` over a raw socket; the server's answer (``40…`` joined, ``44…`` refused).
    Pings that come first are answered, events (a first snapshot may precede the answer) skipped."""
    ws.send(f"40{namespace}," + json.dumps(auth))
    while True:
        frame = ws.recv()
        if frame == "2":
            ws.send("3")
        elif frame.startswith(("40", "44")):
            return frame
