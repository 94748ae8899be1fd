"""The served product holds sockets without starving (issue 14): ``frontoffice demo`` in its real
serving model (gunicorn's gevent worker) with hundreds of unauthenticated sockets open still answers;
connections that join no authorised namespace, silent clients and one address's excess are closed."""

from __future__ import annotations

import concurrent.futures
import time
from collections.abc import Iterator

import pytest
import requests
import websocket

from tests.server_processes import (
    ServerProcess,
    clean_env,
    free_port,
    join,
    place_order,
    raw_socket,
    staff_token,
)

pytestmark = pytest.mark.slow

GRACE_S = 2.0
PING_INTERVAL_S = 1.0
PING_TIMEOUT_S = 1.0
PER_ADDRESS = 5


def serve_demo(tmp_path_factory, name: str, **settings: str) -> ServerProcess:
    """``frontoffice demo`` on a fresh folder with these socket settings, answering."""
    folder = tmp_path_factory.mktemp(name)
    port = free_port()
    env = clean_env(instance_path=str(folder / "instance"), **settings)
    server = ServerProcess(["demo", "--port", str(port)], port, env, folder, name=name)
    try:
        server.wait_ready(90)
    except BaseException:
        server.stop()
        raise
    return server


@pytest.fixture(scope="module")
def patient(tmp_path_factory) -> Iterator[ServerProcess]:
    """A server that lets unauthenticated sockets wait a minute before closing them."""
    server = serve_demo(tmp_path_factory, "patient", socket_join_grace_s="60")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def strict(tmp_path_factory) -> Iterator[ServerProcess]:
    """A server with a short join grace, fast pings and a small per-address limit."""
    server = serve_demo(
        tmp_path_factory,
        "strict",
        socket_join_grace_s=str(GRACE_S),
        socket_ping_interval_s=str(PING_INTERVAL_S),
        socket_ping_timeout_s=str(PING_TIMEOUT_S),
        socket_per_address=str(PER_ADDRESS),
    )
    yield server
    server.stop()


def open_many(url: str, count: int, sources: list[str]) -> list[websocket.WebSocket]:
    """``count`` unauthenticated sockets at once, spread over ``sources``; those that opened."""

    def attempt(i: int) -> websocket.WebSocket | None:
        try:
            return raw_socket(url, sources[i % len(sources)], timeout=5)
        except (websocket.WebSocketException, OSError):
            return None

    with concurrent.futures.ThreadPoolExecutor(max_workers=50) as pool:
        return [ws for ws in pool.map(attempt, range(count)) if ws is not None]


def close_all(sockets: list[websocket.WebSocket]) -> None:
    for ws in sockets:
        try:
            ws.close(timeout=0)
        except (websocket.WebSocketException, OSError):
            pass


def closed_by_server(ws: websocket.WebSocket, within_s: float) -> float | None:
    """Seconds until the server ended the connection (its TCP stream ends), or None if it did not
    within ``within_s``. Reads and ignores whatever arrives before, answering nothing."""
    raw = ws.sock
    started = time.monotonic()
    deadline = started + within_s
    while (left := deadline - time.monotonic()) > 0:
        raw.settimeout(left)
        try:
            if raw.recv(65536) == b"":
                return time.monotonic() - started
        except TimeoutError:
            return None
        except OSError:  # reset by the server: closed too
            return time.monotonic() - started
    return None


def test_health_and_the_order_api_answer_while_300_unauthenticated_sockets_are_open(patient):
    sockets = open_many(patient.url, 300, ["127.0.0.20", "127.0.0.21"])
    try:
        assert len(sockets) == 300
        started = time.monotonic()
        health = requests.get(f"{patient.url}/healthz", timeout=5)
        health_s = time.monotonic() - started
        started = time.monotonic()
        order = place_order(patient.url, staff_token(patient.url, "operator", "operator"))
        order_s = time.monotonic() - started
        # the sockets are still there: one of them still answers a ping
        assert join(sockets[-1], "/monitor", {}).startswith("44/monitor")
    finally:
        close_all(sockets)
    assert health.status_code == 200
    assert health_s < 1.0
    assert order["number"]
    assert order_s < 2.0


def test_a_connection_that_joins_no_namespace_is_closed_within_the_grace(strict):
    ws = raw_socket(strict.url, "127.0.0.30")
    try:
        took = closed_by_server(ws, GRACE_S + 3)
    finally:
        close_all([ws])
    assert took is not None, "the server kept a connection that joined no namespace"
    assert took <= GRACE_S + 1.5


def test_a_connection_refused_by_the_namespace_is_closed_within_the_grace(strict):
    ws = raw_socket(strict.url, "127.0.0.31")
    try:
        assert join(ws, "/monitor", {}).startswith("44/monitor")
        took = closed_by_server(ws, GRACE_S + 3)
    finally:
        close_all([ws])
    assert took is not None
    assert took <= GRACE_S + 1.5


def test_an_authorised_connection_stays_past_the_grace(strict):
    ws = raw_socket(strict.url, "127.0.0.32")
    try:
        assert join(ws, "/monitor", {"token": staff_token(strict.url, "manager", "manager")}).startswith(
            "40/monitor"
        )
        ws.settimeout(0.5)
        deadline = time.monotonic() + GRACE_S + 2
        while time.monotonic() < deadline:
            try:
                frame = ws.recv()
            except websocket.WebSocketTimeoutException:
                continue
            assert frame != "1", "the server closed an authorised connection"
            if frame == "2":
                ws.send("3")
        assert ws.connected
    finally:
        close_all([ws])


def test_a_silent_client_is_reaped_after_the_ping_timeout(strict):
    ws = raw_socket(strict.url, "127.0.0.33")
    try:
        token = staff_token(strict.url, "manager", "manager")
        assert join(ws, "/monitor", {"token": token}).startswith("40/monitor")
        # From here on the client answers no ping: it went away without closing.
        took = closed_by_server(ws, PING_INTERVAL_S + 2 * PING_TIMEOUT_S + 5)
    finally:
        close_all([ws])
    assert took is not None, "the server never closed the silent client's connection"


def test_one_address_gets_no_more_connections_than_the_limit_others_still_connect(strict):
    token = staff_token(strict.url, "manager", "manager")
    held = []
    try:
        for _ in range(PER_ADDRESS):
            ws = raw_socket(strict.url, "127.0.0.40")
            assert join(ws, "/monitor", {"token": token}).startswith("40/monitor")
            held.append(ws)
        with pytest.raises(websocket.WebSocketBadStatusException) as refused:
            held.append(raw_socket(strict.url, "127.0.0.40"))
        other = raw_socket(strict.url, "127.0.0.41")
        held.append(other)
        assert join(other, "/monitor", {"token": token}).startswith("40/monitor")
    finally:
        close_all(held)
    assert refused.value.status_code == 401


def test_an_address_gets_its_connections_back_once_they_close(strict):
    token = staff_token(strict.url, "manager", "manager")
    first = [raw_socket(strict.url, "127.0.0.42") for _ in range(PER_ADDRESS)]
    for ws in first:
        assert join(ws, "/monitor", {"token": token}).startswith("40/monitor")
    close_all(first)
    deadline = time.monotonic() + 5
    while True:
        try:
            again = raw_socket(strict.url, "127.0.0.42")
            break
        except websocket.WebSocketBadStatusException:
            assert time.monotonic() < deadline, "closed connections still count against the address"
            time.sleep(0.2)
    close_all([again])


def test_the_server_runs_on_the_gevent_worker(strict):
    assert "Using worker: gevent" in strict.output()
