"""Helpers for call-centre tests: the demo zones (optionally open around the clock), known points, bodies,
and a Nominatim look-alike on 127.0.0.1 for the geocoder.

Import them in any test module (``from tests.callcentre_fixtures import …``). The demo zones
keep realistic opening hours; tests that must not depend on the wall clock call
:func:`open_around_the_clock` so that ASAP orders are possible at any hour.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import func, select, update

import callcentre.demo
from callcentre.models import Client, ClientAddress, DeliveryZone
from orders.models import Branch, Order
from tests.conftest import load_demo_catalogue

#: Kremlyovskaya St 21, in the "Centre" zone of KZ1 (fee 99.00, free from 1000.00, minimum 500.00, 45 min).
CENTRE = (55.7963, 49.1088)
#: Pobedy Ave 100, in "Sovetsky & Privolzhsky" of KZ2 (fee 99.00, minimum 500.00, 50 min).
SOVETSKY = (55.7521, 49.2120)
#: West of the city, only in the outer "Greater Kazan" zone of KZ2 (fee 249.00, minimum 1000.00, 80 min).
GREATER_ONLY = (55.84, 49.03)
#: Zelenodolsk, outside every zone; KZ1 (Baumana) is the nearest branch.
OUTSIDE = (55.8469, 48.5160)


def load_zones(app: Any) -> None:
    """The demo menu, branches and delivery zones."""
    load_demo_catalogue(app)
    kernel = app.extensions["frontoffice"]
    with kernel.db.unit_of_work() as s:
        callcentre.demo.load_zones(s)


def open_around_the_clock(app: Any) -> None:
    """Make every branch and zone open at all hours (empty schedules), so tests do not depend on the clock."""
    kernel = app.extensions["frontoffice"]
    with kernel.db.unit_of_work() as s:
        s.execute(update(Branch).values(opening_hours={}))
        s.execute(update(DeliveryZone).values(opening_hours={}))


def counts(app) -> tuple[int, int, int]:
    """Clients, addresses and orders in the database (what a refused order must leave alone)."""
    with app.extensions["frontoffice"].db.reading() as s:
        return (
            s.scalar(select(func.count(Client.id))),
            s.scalar(select(func.count(ClientAddress.id))),
            s.scalar(select(func.count(Order.id))),
        )


def address(
    point: tuple[float, float], text: str = "Kazan, Kremlyovskaya St, 21", **extra: Any
) -> dict[str, Any]:
    """An address body at ``point``."""
    return {"text": text, "lat": point[0], "lon": point[1], **extra}


def take_order_body(**overrides: Any) -> dict[str, Any]:
    """A valid call-centre order for the Centre zone (1406.00 of items: free delivery)."""
    body: dict[str, Any] = {
        "phone": "8 (912) 345-67-89",
        "name": "Ivan",
        "kind": "delivery",
        "address": address(CENTRE, apartment="5", entrance="2", floor="4", intercom="5K"),
        "lines": [
            {"sku": "PZ-MARG", "quantity": 1},
            {"sku": "DR-COLA05", "quantity": 2},
            {"sku": "SU-PHIL", "quantity": 1},
        ],
        "payment": {"kind": "cash", "change_from": "2000.00"},
        "comment": "",
    }
    body.update(overrides)
    return body


#: What the fake Nominatim answers to every /search: two candidates for "Kremlyovskaya 21".
KREMLYOVSKAYA = [
    {
        "place_id": 1,
        "lat": "55.7963",
        "lon": "49.1088",
        "display_name": "21, Kremlyovskaya Street, Vakhitovsky District, Kazan, Tatarstan, Russia",
        "class": "building",
        "type": "yes",
    },
    {
        "place_id": 2,
        "lat": "55.8469",
        "lon": "48.5160",
        "display_name": "21, Kremlyovskaya Street, Zelenodolsk, Tatarstan, Russia",
        "class": "building",
        "type": "yes",
    },
]


class FakeNominatim:
    """A Nominatim look-alike on 127.0.0.1: records requests; ``mode`` is ok, error or slow."""

    def __init__(self) -> None:
        self.requests: list[dict[str, list[str]]] = []
        self.mode = "ok"
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                url = urlsplit(self.path)
                fake.requests.append({"path": [url.path], **parse_qs(url.query)})
                if fake.mode == "slow":
                    time.sleep(1.5)
                if fake.mode == "error":
                    self.send_response(500)
                    self.end_headers()
                    return
                body = json.dumps(KREMLYOVSKAYA if url.path == "/search" else []).encode()
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client timed out and left

            def log_message(self, *args) -> None:
                """Keep the test output quiet."""

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.domain = f"127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        """Shut the server down."""
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)
