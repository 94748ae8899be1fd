"""The ETA through a road router: a real local HTTP server answering like OSRM's ``table`` service
(``/table/v1/{profile}/{lon},{lat};…``: ``{"code": "Ok", "durations": [[…]]}``, a 400 with ``code``
and ``message`` for a refused query, ``NoTable``, ``null`` for pairs no road joins), and the
straight line whenever it fails, refuses or is late."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.conftest import _make_app, load_demo_catalogue
from tests.couriers_fixtures import BRANCH_1, make_courier, pool_order
from tracking import services
from tracking.adapters.osrm import OsrmTable
from tracking.eta import StraightLine
from tracking.ports import TRAVEL_TIME

KAZAN = [(55.7887, 49.1221), (55.7963, 49.1088), (55.8010, 49.1000)]
SPEED = 24 / 3.6


class FakeOsrm(ThreadingHTTPServer):
    """OSRM's HTTP server as far as ``table`` goes; ``mode`` says how it answers next."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.mode = "ok"
        self.requests: list[tuple[str, dict[str, list[str]]]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    server: FakeOsrm

    def log_message(self, *args) -> None:  # quiet
        pass

    def _json(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        parts = urlsplit(self.path)
        self.server.requests.append((parts.path, parse_qs(parts.query)))
        segments = parts.path.strip("/").split("/")
        if len(segments) != 4 or segments[0] != "table" or segments[1] != "v1":
            self._json(
                400,
                {
                    "code": "InvalidUrl",
                    "message": f"URL string malformed close to position {len(parts.path)}",
                },
            )
            return
        try:
            points = [tuple(float(x) for x in pair.split(",")) for pair in segments[3].split(";")]
            assert all(len(p) == 2 and -180 <= p[0] <= 180 and -90 <= p[1] <= 90 for p in points)
        except (ValueError, AssertionError):
            self._json(400, {"code": "InvalidQuery", "message": "Query string malformed close to position 0"})
            return
        mode = self.server.mode
        if mode == "late":
            time.sleep(0.2)
        if mode == "error":
            self.send_response(502)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(b"<html><body><h1>502 Bad Gateway</h1></body></html>")
            return
        if mode == "no_table":
            self._json(400, {"code": "NoTable", "message": "No table found"})
            return
        if mode == "too_big":
            self._json(400, {"code": "TooBig", "message": "Too many table coordinates"})
            return
        # Durations grow with the distance in the list: 100 s per step, as a city would.
        durations = [[100.0 * abs(i - j) for j in range(len(points))] for i in range(len(points))]
        if mode == "unroutable":
            durations[1][2] = None
        self._json(
            200,
            {
                "code": "Ok",
                "durations": durations,
                "sources": [{"location": list(p), "name": "", "distance": 1.2} for p in points],
                "destinations": [{"location": list(p), "name": "", "distance": 1.2} for p in points],
            },
        )


@pytest.fixture
def osrm() -> Iterator[FakeOsrm]:
    server = FakeOsrm()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def table(server: FakeOsrm, timeout_s: float = 2.0) -> OsrmTable:
    return OsrmTable(server.url + "/", StraightLine(), profile="driving", timeout_s=timeout_s)


def test_the_legs_come_from_the_table_service_matrix(osrm):
    assert table(osrm).legs(KAZAN, SPEED) == [100.0, 100.0]
    path, query = osrm.requests[-1]
    assert path == "/table/v1/driving/49.122100,55.788700;49.108800,55.796300;49.100000,55.801000"
    assert query == {"annotations": ["duration"]}


@pytest.mark.parametrize("mode", ["no_table", "too_big", "error"])
def test_a_refusal_or_a_broken_answer_falls_back_to_the_straight_line(osrm, mode):
    osrm.mode = mode
    assert table(osrm).legs(KAZAN, SPEED) == pytest.approx(StraightLine().legs(KAZAN, SPEED))
    assert len(osrm.requests) == 1


def test_a_pair_no_road_joins_is_measured_by_the_straight_line(osrm):
    osrm.mode = "unroutable"
    legs = table(osrm).legs(KAZAN, SPEED)
    assert legs[0] == 100.0
    assert legs[1] == pytest.approx(StraightLine().legs(KAZAN[1:], SPEED)[0])


def test_a_router_slower_than_the_timeout_is_not_waited_for(osrm):
    osrm.mode = "late"
    started = time.monotonic()
    assert table(osrm, timeout_s=0.05).legs(KAZAN, SPEED) == pytest.approx(StraightLine().legs(KAZAN, SPEED))
    assert time.monotonic() - started < 0.19


def test_a_router_that_is_not_there_is_the_straight_line(osrm):
    url = osrm.url
    osrm.shutdown()
    osrm.server_close()
    gone = OsrmTable(url, StraightLine(), timeout_s=0.5)
    assert gone.legs(KAZAN, SPEED) == pytest.approx(StraightLine().legs(KAZAN, SPEED))


def test_one_point_needs_no_request(osrm):
    assert table(osrm).legs(KAZAN[:1], SPEED) == []
    assert osrm.requests == []


def test_the_tracking_page_asks_the_router_the_settings_name(osrm, _sqlite_template, tmp_path):
    app = _make_app(
        _sqlite_template.fresh(tmp_path), tmp_path, travel_time="osrm", osrm_url=osrm.url, osrm_timeout_s=1.0
    )
    try:
        load_demo_catalogue(app)
        client = app.test_client()
        courier = make_courier(app, "Anna", position=BRANCH_1)
        order_id = pool_order(app, status="ready", payment="prepaid")
        for step in ("claim", "pickup"):
            assert (
                client.post(f"/api/courier/v1/orders/{order_id}/{step}", headers=courier.headers).status_code
                == 200
            )
        kernel = app.extensions["frontoffice"]
        with kernel.db.reading() as s:
            view = services.tracking_view(s, order_id, travel=kernel.extensions.get(TRAVEL_TIME))
        assert view.eta.seconds == 100 and view.courier.first_name == "Anna"
        assert osrm.requests[-1][0].startswith("/table/v1/driving/49.122100,55.788700;")
    finally:
        app.extensions["frontoffice"].db.dispose()
