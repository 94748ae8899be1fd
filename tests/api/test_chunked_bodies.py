"""A body sent with ``Transfer-Encoding: chunked`` has no Content-Length to check in advance: it must
still be refused with 413 once it passes the size limit, never cut there and accepted. Real servers
only (the test client sends no chunked bodies): Werkzeug in a thread, and ``frontoffice run``
(gunicorn) in a process of its own."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator

import pytest

from couriers.osmand import MAX_BODY
from tests.conftest import LiveServer, load_demo_catalogue, make_users, order_body
from tests.server_processes import ServerProcess, clean_env, free_port

LIMIT = 4096


def chunked_post(port: int, path: str, raw: bytes, headers: dict[str, str]) -> tuple[int, dict]:
    """POST ``raw`` in 1000-byte chunks (no Content-Length); the status and the JSON answer."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        chunks = (raw[i : i + 1000] for i in range(0, len(raw), 1000))
        conn.request(
            "POST",
            path,
            body=chunks,
            headers={"Content-Type": "application/json", **headers},
            encode_chunked=True,
        )
        resp = conn.getresponse()
        return resp.status, json.loads(resp.read() or b"null")
    finally:
        conn.close()


def padded(body: dict, size: int) -> bytes:
    """``body`` as JSON followed by spaces up to ``size`` bytes: still valid JSON if cut anywhere
    after the object."""
    raw = json.dumps(body).encode()
    return raw + b" " * (size - len(raw))


@pytest.fixture
def small_limit_server(tmp_path, _sqlite_template) -> Iterator[tuple[LiveServer, dict]]:
    """A live Werkzeug server whose body limit is :data:`LIMIT` bytes, the demo catalogue and users."""
    from tests.conftest import _make_app

    app = _make_app(_sqlite_template.fresh(tmp_path), tmp_path, max_content_length=LIMIT)
    load_demo_catalogue(app)
    staff = make_users(app)
    server = LiveServer(app)
    yield server, staff
    server.stop()
    app.extensions["frontoffice"].db.dispose()


def test_a_chunked_order_over_the_limit_is_refused_with_413_not_cut_and_taken(small_limit_server):
    server, staff = small_limit_server
    status, problem = chunked_post(
        server.port, "/api/v1/orders", padded(order_body(), 3 * LIMIT), staff["operator"].headers
    )
    assert status == 413 and problem["title"] == "Request Entity Too Large"
    assert f"limit of {LIMIT} bytes" in problem["detail"]


def test_a_chunked_order_within_the_limit_is_taken(small_limit_server):
    server, staff = small_limit_server
    status, order = chunked_post(
        server.port, "/api/v1/orders", padded(order_body(), LIMIT), staff["operator"].headers
    )
    assert status == 201 and order["number"] == "KZ1-001"


def test_a_chunked_location_report_over_its_limit_is_refused_by_the_osmand_fast_path(small_limit_server):
    server, _staff = small_limit_server
    report = {"device_id": "nobody", "location": {"timestamp": "2026-01-01T00:00:00Z", "coords": {}}}
    status, problem = chunked_post(server.port, "/api/osmand", padded(report, MAX_BODY + 2000), {})
    assert status == 413 and f"at most {MAX_BODY} bytes" in problem["detail"]


def test_a_chunked_body_over_the_limit_is_refused_by_the_gunicorn_server_too(tmp_path):
    port = free_port()
    env = clean_env(
        database_url=f"sqlite:///{tmp_path / 'fo.sqlite3'}",
        secret_key="chunked-test",
        instance_path=str(tmp_path / "instance"),
        max_content_length=str(LIMIT),
    )
    server = ServerProcess(["run", "--port", str(port), "--threads", "4"], port, env, tmp_path)
    try:
        server.wait_ready()
        credentials = {"username": "nobody", "password": "secret"}
        over = chunked_post(port, "/api/v1/tokens", padded(credentials, 3 * LIMIT), {})
        within = chunked_post(port, "/api/v1/tokens", padded(credentials, LIMIT), {})
        log = server.output()
    finally:
        server.stop()
    assert over[0] == 413, log
    assert within[0] == 401  # read whole, then refused for what it says
