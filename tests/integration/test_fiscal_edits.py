"""An order changed after it was taken, against a real local server that answers like ATOL Online
v5 (SQLite and PostgreSQL): a fiscalized prepayment is refunded and the changed receipt prepaid
again, in that order, and the settlement offsets the new one; a prepayment not sent yet is rewritten,
never sent stale; one the register may have printed is refunded; replays change nothing."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

import callcentre.demo
from fiscal import services
from orders.events import OrderEdited, OrderPlaced, OrderStatusChanged
from tests.callcentre_fixtures import open_around_the_clock, take_order_body
from tests.fiscal_fixtures import DRINKS_IP, LLC, fiscal_world

EDIT = "/api/v1/callcentre/orders/{}"
DELIVERED = ("confirmed", "cooking", "ready", "in_delivery", "delivered")
WATER = 7900  # DR-WATER, sold by the drinks proprietor
PROJECTORS: dict[type, Any] = {
    OrderPlaced: services.on_order_placed,
    OrderEdited: services.on_order_edited,
    OrderStatusChanged: services.on_status_changed,
}


@pytest.fixture
def fiscal(app):
    """The demo catalogue, fake ATOL Online and Web Server, a sender to pump."""
    yield from fiscal_world(app)


@pytest.fixture
def shop(fiscal, app):
    """Delivery zones open around the clock, and an ATOL Online register for the kitchen LLC and
    for the drinks proprietor."""
    with fiscal.kernel.db.unit_of_work() as s:
        callcentre.demo.load_zones(s)
    open_around_the_clock(app)
    fiscal.add_register(LLC)
    fiscal.add_register(DRINKS_IP)
    return fiscal


@pytest.fixture
def op(users):
    return users["operator"].headers


@pytest.fixture
def events(kernel) -> list:
    """The orders' events the fiscal projectors hear, as they were committed."""
    heard: list = []
    for event_type in PROJECTORS:
        kernel.bus.subscribe(event_type, heard.append)
    return heard


def replay(kernel, events: list) -> None:
    """Every event heard so far given again to the fiscal projectors, and the outbox replayed."""
    with kernel.db.unit_of_work() as s:
        for ev in list(events):
            PROJECTORS[type(ev)](s, ev)
    kernel.relay.replay()


def take_prepaid(client, op) -> dict[str, Any]:
    """Pizza, two colas and a roll, paid online (1406.00: the drinks proprietor sells 258.00)."""
    resp = client.post(
        "/api/v1/callcentre/orders", json=take_order_body(payment={"kind": "prepaid"}), headers=op
    )
    assert resp.status_code == 201, resp.json
    return resp.json


def change(client, order, op, **fields) -> dict[str, Any]:
    resp = client.patch(EDIT.format(order["id"]), json={"version": order["version"], **fields}, headers=op)
    assert resp.status_code == 200, resp.json
    return resp.json


def add_water(client, order, op) -> dict[str, Any]:
    return change(client, order, op, lines=[*take_order_body()["lines"], {"sku": "DR-WATER", "quantity": 1}])


def rows(receipts) -> list[tuple]:
    return [(r.organization_id, r.purpose, r.order_version, r.state) for r in receipts]


def printed(fake) -> list[tuple[str, str, dict]]:
    """(external id, operation, receipt) of what the fake printed, in the order it printed them."""
    return [(p.external_id, p.operation, p.body["receipt"]) for p in fake.state.printed.values()]


def test_a_fiscalized_prepayment_is_refunded_the_new_receipt_prepaid_and_the_settlement_offsets_it(
    shop, client, op, orders, kernel, events, users, auth
):
    order = take_prepaid(client, op)
    llc, old = shop.settle(order["id"])
    assert rows([llc, old]) == [(LLC, "prepayment", 0, "done"), (DRINKS_IP, "prepayment", 0, "done")]

    edited = add_water(client, order, op)
    version = edited["version"]
    replay(kernel, events)  # the edit heard again before anything went out: nothing more
    receipts = shop.settle(order["id"])

    # The kitchen's receipt did not change: its prepayment stands. The drinks' is refunded (the
    # mirror of what was printed, under the old version) and prepaid again with the new total.
    assert rows(receipts) == [
        (LLC, "prepayment", 0, "done"),
        (DRINKS_IP, "prepayment", 0, "done"),
        (DRINKS_IP, "refund", 0, "done"),
        (DRINKS_IP, "prepayment", version, "done"),
    ]
    refund, new = receipts[2:]
    assert refund.operation == "sell_refund" and refund.document["items"] == old.document["items"]
    assert refund.total == old.total and new.total == old.total + WATER
    assert llc.total + new.total == Decimal(edited["total"]) * 100
    # The register saw the sale, its return, then the new sale.
    assert [(ext, operation) for ext, operation, _ in printed(shop.online)] == [
        (llc.external_id, "sell"),
        (old.external_id, "sell"),
        (refund.external_id, "sell_refund"),
        (new.external_id, "sell"),
    ]
    body = {ext: receipt for ext, _, receipt in printed(shop.online)}
    assert body[refund.external_id]["items"] == body[old.external_id]["items"]
    assert {it["payment_method"] for it in body[new.external_id]["items"]} == {"full_prepayment"}
    assert body[new.external_id]["total"] == new.total / 100

    orders.move(order["id"], *DELIVERED)
    receipts = shop.settle(order["id"])
    settlements = [r for r in receipts if r.purpose == "settlement"]
    assert rows(settlements) == [
        (LLC, "settlement", version, "done"),
        (DRINKS_IP, "settlement", version, "done"),
    ]
    # Each settlement offsets (tag 1215) the prepayment that stands: the drinks' new one.
    sold = {ext: receipt for ext, _, receipt in printed(shop.online)}
    for settlement, prepayment in zip(settlements, (llc, new), strict=True):
        assert sold[settlement.external_id]["payments"] == [{"type": 2, "sum": prepayment.total / 100}]
        assert {it["payment_method"] for it in sold[settlement.external_id]["items"]} == {"full_payment"}

    # Every event heard again, and the outbox replayed: nothing written, nothing printed.
    before = [(r.id, r.external_id, r.state, r.order_version) for r in receipts]
    replay(kernel, events)
    shop.sender.pump(wait=True)
    assert [(r.id, r.external_id, r.state, r.order_version) for r in shop.receipts(order["id"])] == before
    assert len(shop.online.state.printed) == 6

    # The API and the order's page tell the receipts of the changed order apart.
    listed = client.get(f"/api/v1/fiscal/orders/{order['id']}/receipts", headers=users["manager"].headers)
    assert [r["order_version"] for r in listed.json["items"]] == [0, 0, 0, version, version, version]
    auth.login("manager")
    page = client.get(f"/orders/{order['id']}").get_data(as_text=True)
    assert "6 of 6 fiscalized." in page and f"the order as changed (version {version})" in page


def test_an_edit_before_the_prepayment_went_out_sends_only_the_new_one(shop, client, op, kernel, events):
    order = take_prepaid(client, op)
    llc, stale = shop.receipts(order["id"])
    assert (stale.state, stale.offered_at) == ("pending", None)

    edited = add_water(client, order, op)
    replay(kernel, events)
    receipts = shop.settle(order["id"])

    assert rows(receipts) == [
        (LLC, "prepayment", 0, "done"),
        (DRINKS_IP, "prepayment", edited["version"], "done"),
    ]
    rewritten = receipts[1]
    # The same receipt, rewritten from the new receipts under a new external id: the stale one was
    # never handed to the register.
    assert rewritten.id == stale.id and rewritten.external_id != stale.external_id
    assert rewritten.total == stale.total + WATER
    assert [(ext, operation) for ext, operation, _ in printed(shop.online)] == [
        (llc.external_id, "sell"),
        (rewritten.external_id, "sell"),
    ]
    assert printed(shop.online)[1][2]["total"] == rewritten.total / 100


def test_prepayments_the_register_may_have_printed_are_refunded_when_the_order_is_no_longer_prepaid(
    shop, client, op, orders, kernel, events
):
    shop.online.state.slow_accepts, shop.online.state.delay_after_accept_s = 2, 0.2
    shop.sender.timeout_s = 0.1  # both prepayments are taken, but answered too late
    order = take_prepaid(client, op)
    shop.sender.pump(wait=True)
    offered = shop.receipts(order["id"])
    assert [(r.state, r.attempts) for r in offered] == [("pending", 1)] * 2
    assert all(r.offered_at is not None for r in offered)
    shop.sender.timeout_s = 0.5

    change(client, order, op, payment={"kind": "card_on_delivery"})
    replay(kernel, events)
    receipts = shop.settle(order["id"])

    # Neither is rewritten (either may be on paper): each is retried under its one external id,
    # printed once, then refunded. Nothing is prepaid again.
    assert rows(receipts) == [
        (LLC, "prepayment", 0, "done"),
        (DRINKS_IP, "prepayment", 0, "done"),
        (LLC, "refund", 0, "done"),
        (DRINKS_IP, "refund", 0, "done"),
    ]
    assert [r.external_id for r in receipts[:2]] == [r.external_id for r in offered]
    assert [operation for _, operation, _ in printed(shop.online)] == ["sell"] * 2 + ["sell_refund"] * 2

    orders.move(order["id"], *DELIVERED)
    settlements = [r for r in shop.settle(order["id"]) if r.purpose == "settlement"]
    assert rows(settlements) == [(LLC, "settlement", 0, "done"), (DRINKS_IP, "settlement", 0, "done")]
    # Paid by card at the door (tag 1081): no prepayment is left to offset.
    paid = {ext: receipt["payments"] for ext, _, receipt in printed(shop.online)}
    assert [paid[s.external_id] for s in settlements] == [
        [{"type": 1, "sum": s.total / 100}] for s in settlements
    ]
