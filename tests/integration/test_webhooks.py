"""Webhooks against a real local HTTP receiver (werkzeug's server on a free port): endpoints are
checked (422 naming the field), deliveries are signed per Standard Webhooks (verified with the
``standardwebhooks`` library), retried on 500 and on a timeout with backoff, parked after the last
try, retried once by an admin, and a slow receiver never holds up order intake."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from sqlalchemy import select
from standardwebhooks.webhooks import Webhook, WebhookVerificationError
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from frontoffice.db import utcnow
from frontoffice.webhooks.models import DeliveryStatus, WebhookDelivery
from tests.backoffice_helpers import move, place

pytestmark = pytest.mark.usefixtures("catalogue")

SECRET = "a-long-enough-shared-secret-42"


@dataclass
class Receiver:
    """A local HTTP server that answers each request with the next of ``script`` (``200``, ``500`` or
    ``slow``: 200 after ``slow_s``), then 200; it keeps what it got."""

    script: list[str] = field(default_factory=list)
    slow_s: float = 2.0
    got: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    url: str = ""

    def __call__(self, environ, start_response):
        request = Request(environ)
        body = request.get_data()
        self.got.append(({k.lower(): v for k, v in request.headers.items()}, body))
        step = self.script.pop(0) if self.script else "200"
        if step == "slow":
            time.sleep(self.slow_s)
            step = "200"
        return Response("ok" if step == "200" else "boom", status=int(step))(environ, start_response)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    hook = Receiver()
    server = make_server("127.0.0.1", 0, hook, threaded=True)
    hook.url = f"http://127.0.0.1:{server.port}/hooks"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield hook
    server.shutdown()


@pytest.fixture
def app(database_url, tmp_path):
    from tests.conftest import _make_app

    application = _make_app(
        database_url,
        tmp_path,
        webhook_allowed_hosts="127.0.0.1, *.example.org",
        webhook_timeout_s=2.0,  # generous: a loaded machine must not turn a 200 into a timeout
        webhook_max_attempts=3,
        relay_backoff_s=10,
    )
    yield application
    application.extensions["frontoffice"].db.dispose()


def register(client, users, url: str, **fields) -> dict:
    body = {"url": url, "events": ["order_placed", "order_status_changed"], "secret": SECRET, **fields}
    resp = client.post("/api/v1/webhooks", json=body, headers=users["admin"].headers)
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def deliveries(db) -> list[WebhookDelivery]:
    with db.reading() as s:
        return list(s.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)))


def send_due(kernel, later_s: float = 0) -> int:
    """Run the sender as the relay's loop does, ``later_s`` seconds from now (retries come due)."""
    if later_s:
        with kernel.db.unit_of_work() as s:
            for d in s.scalars(
                select(WebhookDelivery).where(WebhookDelivery.status == DeliveryStatus.PENDING)
            ):
                d.next_attempt_at = utcnow() - dt.timedelta(seconds=1)
    return kernel.webhooks.sender.pump(wait=True)


@pytest.mark.parametrize(
    ("fields", "field", "why"),
    [
        ({"url": "ftp://127.0.0.1/hooks"}, "url", "http"),
        ({"url": "javascript:alert(1)"}, "url", "http"),
        ({"url": "https://evil.example.com/hooks"}, "url", "FRONTOFFICE_WEBHOOK_ALLOWED_HOSTS"),
        (
            {"url": "https://example.org/hooks"},
            "url",
            "FRONTOFFICE_WEBHOOK_ALLOWED_HOSTS",
        ),  # only its subdomains
        ({"secret": "too-short"}, "secret", "24"),
        ({"secret": "whsec_" + "!" * 30}, "secret", "base64"),
        ({"events": ["order_eaten"]}, "events", "order_eaten"),
        ({"events": []}, "events", "at least one"),
    ],
)
def test_a_bad_endpoint_is_refused_with_the_field_named_and_nothing_written(
    client, users, db, fields, field, why
):
    body = {"url": "https://hooks.example.org/in", "events": ["order_placed"], "secret": SECRET, **fields}
    resp = client.post("/api/v1/webhooks", json=body, headers=users["admin"].headers)
    assert resp.status_code == 422 and resp.mimetype == "application/problem+json"
    [error] = resp.get_json()["errors"]
    assert error["field"] == field and why in error["message"]
    assert client.get("/api/v1/webhooks", headers=users["admin"].headers).get_json()["items"] == []


def test_the_page_shows_the_reason_next_to_the_field_and_registers_a_good_endpoint(
    client, auth, users, receiver
):
    auth.login("admin")
    page = client.get("/admin/webhooks")
    assert page.status_code == 200 and b'value="order_placed"' in page.data
    token = auth.csrf(page.data)
    refused = client.post(
        "/admin/webhooks",
        data={
            "csrf_token": token,
            "url": "https://evil.test/x",
            "events": ["order_placed"],
            "secret": SECRET,
        },
    )
    assert refused.status_code == 422
    assert b'data-field="url"' in refused.data and b"evil.test" in refused.data
    done = client.post(
        "/admin/webhooks",
        data={"csrf_token": token, "url": receiver.url, "events": ["order_placed"], "secret": SECRET},
    )
    assert done.status_code == 302
    listed = client.get("/api/v1/webhooks", headers=users["admin"].headers).get_json()
    [item] = listed["items"]
    assert item["url"] == receiver.url and item["events"] == ["order_placed"] and "secret" not in item
    # Every journaled event may be heard, one nobody in the app subscribes to too; positions are live only.
    assert {"order_placed", "stop_list_changed", "ticket_resolved"} <= set(listed["known_events"])
    assert "courier_moved" not in listed["known_events"]


def test_a_delivery_is_signed_per_standard_webhooks_with_money_as_decimal_strings(
    kernel, db, users, client, receiver
):
    register(client, users, receiver.url)
    order = place(kernel, actor_id=users["operator"].id)
    [delivery] = deliveries(db)
    assert delivery.status == DeliveryStatus.PENDING and delivery.event_type == "order_placed"
    assert receiver.got == []  # nothing is sent from the committing thread
    assert send_due(kernel) == 1
    [(headers, body)] = receiver.got
    payload = Webhook(SECRET.encode()).verify(body, headers)  # raises unless the signature verifies
    assert payload["type"] == "order_placed" and payload["data"]["order_id"] == order.id
    assert payload["data"]["total"] == "1298.00"  # the REST API's money format
    assert headers["webhook-id"] == f"evt_{delivery.event_id}"
    assert abs(int(headers["webhook-timestamp"]) - time.time()) < 60
    with pytest.raises(WebhookVerificationError):
        Webhook(b"another-secret-of-24-characters").verify(body, headers)
    [row] = deliveries(db)
    assert (row.status, row.attempts, row.last_status_code, row.last_response) == (
        DeliveryStatus.DELIVERED,
        1,
        200,
        "ok",
    )


def test_a_whsec_secret_is_used_as_the_standard_says(kernel, db, users, client, receiver):
    import base64

    secret = "whsec_" + base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()
    register(client, users, receiver.url, secret=secret, events=["*"])
    place(kernel)
    send_due(kernel)
    [(headers, body)] = receiver.got
    assert Webhook(secret).verify(body, headers)["type"] == "order_placed"


def test_retries_on_500_and_on_a_timeout_then_parks_and_an_admin_retry_delivers_once(
    kernel, db, users, client, receiver
):
    hook = register(client, users, receiver.url)
    receiver.script = ["500", "slow", "500"]
    receiver.slow_s = 3.0  # past the 2 s timeout
    place(kernel)
    send_due(kernel)
    [d] = deliveries(db)
    assert (d.status, d.attempts, d.last_status_code, d.last_response) == (
        DeliveryStatus.PENDING,
        1,
        500,
        "boom",
    )
    assert 9 < (d.next_attempt_at - utcnow()).total_seconds() <= 10  # backoff
    assert send_due(kernel) == 0  # not due yet
    send_due(kernel, later_s=10)
    [d] = deliveries(db)
    assert d.attempts == 2 and d.last_status_code is None and "no answer within 2 s" in d.last_error
    assert 19 < (d.next_attempt_at - utcnow()).total_seconds() <= 20  # doubled
    send_due(kernel, later_s=20)
    [d] = deliveries(db)
    assert (d.status, d.attempts) == (DeliveryStatus.PARKED, 3)
    assert send_due(kernel, later_s=3600) == 0  # parked: only an admin sends it again

    listed = client.get(
        f"/api/v1/webhooks/{hook['id']}/deliveries", headers=users["admin"].headers
    ).get_json()
    assert [(i["status"], i["attempts"], i["last_status_code"]) for i in listed["items"]] == [
        ("parked", 3, 500)
    ]
    retried = client.post(f"/api/v1/webhooks/deliveries/{d.id}/retry", headers=users["admin"].headers)
    assert retried.status_code == 200 and retried.get_json()["status"] == "pending"
    tries_before = len(receiver.got)
    assert send_due(kernel) == 1
    assert send_due(kernel) == 0
    assert len(receiver.got) == tries_before + 1  # delivered once
    [d] = deliveries(db)
    assert d.status == DeliveryStatus.DELIVERED
    again = client.post(f"/api/v1/webhooks/deliveries/{d.id}/retry", headers=users["admin"].headers)
    assert again.status_code == 404
    ids = {h["webhook-id"] for h, _b in receiver.got}
    assert ids == {f"evt_{d.event_id}"}  # every try carries the same id: receivers dedupe on it


def test_a_replay_adds_no_delivery_and_an_inactive_endpoint_gets_none(kernel, db, users, client, receiver):
    hook = register(client, users, receiver.url)
    order = place(kernel)
    move(kernel, order.id, "confirmed", "cooking")
    assert [d.event_type for d in deliveries(db)] == [
        "order_placed",
        "order_status_changed",
        "order_status_changed",
    ]
    kernel.relay.replay()
    assert len(deliveries(db)) == 3
    client.patch(f"/api/v1/webhooks/{hook['id']}", json={"active": False}, headers=users["admin"].headers)
    move(kernel, order.id, "ready")
    assert len(deliveries(db)) == 3


def test_a_slow_receiver_never_holds_up_order_intake(database_url, tmp_path, users, receiver):
    from tests.conftest import _make_app

    receiver.script = ["slow"] * 5
    receiver.slow_s = 3.0
    served = _make_app(
        database_url,
        tmp_path / "thread",
        relay="thread",
        webhook_allowed_hosts="127.0.0.1",
        webhook_timeout_s=5,
    )
    kernel = served.extensions["frontoffice"]
    try:
        place(kernel)  # warm: the first order of a fresh app pays for its compiled statements
        deadline = time.monotonic() + 10
        while kernel.relay.status().pending and time.monotonic() < deadline:
            time.sleep(0.05)  # … and is delivered before the endpoint exists
        register(served.test_client(), users, receiver.url)
        took = []
        for _ in range(3):
            start = time.perf_counter()
            place(kernel)
            took.append(time.perf_counter() - start)
        deadline = time.monotonic() + 10
        while len(receiver.got) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(receiver.got) == 3  # the relay's loop sent them, in parallel
        # Intake never waited for the receiver: had it, EVERY order would take its 3 s. The median
        # leaves room for one order stalled by a neighbour on a shared machine (seen once in CI: 7.8 s
        # for the first order on PostgreSQL while the other test process loaded the disk).
        assert sorted(took)[1] < 1.0, took
    finally:
        kernel.relay.stop()
        kernel.webhooks.sender.shutdown()
        kernel.db.dispose()
    bodies = [json.loads(b)["type"] for _h, b in receiver.got]
    assert bodies == ["order_placed"] * 3
