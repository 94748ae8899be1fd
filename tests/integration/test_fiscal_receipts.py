"""Fiscal receipts against real local servers that answer like ATOL Online v5 and ATOL Web Server:
one receipt per organization with its FFD 1.2 tags, prepayment then settlement, no second receipt
after a timeout, refunds, a register's refusal and a resend, and what is refused before sending."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import update

from nomenclature.models import Item, Organization
from tests.fiscal_fixtures import DESSERTS_IP, DRINKS_IP, INNS, LLC, fiscal_world


@pytest.fixture
def fiscal(app):
    """The demo catalogue, fake ATOL Online and Web Server, a sender to pump."""
    yield from fiscal_world(app)


MIXED = (("PZ-MARG", 1), ("DR-COLA05", 2), ("DS-TIRAM", 1))
DELIVERED = ("confirmed", "cooking", "ready", "in_delivery", "delivered")


def sells(fake, operation="sell"):
    """The documents a fake took for ``operation``, in the order it took them."""
    return [
        p.body
        for p in fake.state.printed.values()
        if p.operation in (operation, {"sell": "sell", "sell_refund": "sellReturn"}[operation])
    ]


def test_a_mixed_prepaid_order_is_fiscalized_once_per_organization_with_its_tags(fiscal, orders):
    fiscal.add_register(LLC)
    fiscal.add_register(DRINKS_IP, "atol_webserver")
    fiscal.add_register(DESSERTS_IP)
    order = orders.place(*MIXED, payment_kind="prepaid", delivery_fee=9900, discount=5000)

    receipts = fiscal.settle(order.id)

    assert [(r.organization_id, r.tax_system, r.purpose, r.state) for r in receipts] == [
        (LLC, "osn", "prepayment", "done"),
        (DRINKS_IP, "usn_income", "prepayment", "done"),
        (DESSERTS_IP, "psn", "prepayment", "done"),
    ]
    assert all(r.fiscal_sign and r.fiscal_document_number and r.fn_number for r in receipts)
    assert sum(Decimal(r.document["total"]) for r in receipts) * 100 == order.total
    llc, desserts = sells(fiscal.online)
    assert llc["external_id"] == receipts[0].external_id
    receipt = llc["receipt"]
    assert receipt["company"] == {
        "email": "receipts@shop.example",
        "sno": "osn",
        "inn": INNS[LLC],
        "payment_address": "https://shop.example",
    }
    pizza, delivery = receipt["items"]
    # A prepayment: tag 1214 = 1 and the calculated rate 22/122 (tag 1199 = 12) on every position.
    assert {it["payment_method"] for it in receipt["items"]} == {"full_prepayment"}
    assert {it["vat"]["type"] for it in receipt["items"]} == {"vat122"}
    # The delivery is a service (tag 1212 = 4) at its own fee, not folded into the food.
    assert delivery["payment_object"] == 4 and delivery["sum"] == 99.0 and pizza["payment_object"] == 1
    assert delivery["vat"]["sum"] == 17.85  # 99.00 × 22/122 = 17.852… → 17.85
    assert receipt["payments"] == [{"type": 1, "sum": receipt["total"]}]
    assert desserts["receipt"]["company"]["sno"] == "patent"
    assert {it["vat"]["type"] for it in desserts["receipt"]["items"]} == {"none"}
    (task,) = [p.body["request"][0] for p in fiscal.webserver.state.printed.values()]
    assert task["type"] == "sell" and task["taxationType"] == "usnIncome"
    assert {(it["paymentMethod"], it["tax"]["type"]) for it in task["items"]} == {("fullPrepayment", "none")}
    assert task["payments"] == [{"type": "electronically", "sum": task["total"]}]


def test_a_prepaid_order_delivered_gets_its_prepayment_then_a_settlement_offsetting_it(fiscal, orders):
    fiscal.add_register(LLC)
    order = orders.place(("PZ-MARG", 2), payment_kind="prepaid", delivery_fee=0)
    orders.move(order.id, *DELIVERED)  # delivered before the register answered the prepayment

    receipts = fiscal.settle(order.id)

    assert [(r.purpose, r.operation, r.state) for r in receipts] == [
        ("prepayment", "sell", "done"),
        ("settlement", "sell", "done"),
    ]
    prepayment, settlement = [p.body["receipt"] for p in fiscal.online.state.printed.values()]
    assert {it["vat"]["type"] for it in prepayment["items"]} == {"vat122"}
    assert {(it["payment_method"], it["vat"]["type"]) for it in settlement["items"]} == {
        ("full_payment", "vat22")
    }
    # Paid by offsetting the prepayment (tag 1215), so the money is not counted twice.
    assert settlement["payments"] == [{"type": 2, "sum": settlement["total"]}]
    assert settlement["total"] == prepayment["total"] == order.total / 100


def test_a_cash_order_is_fiscalized_once_when_it_is_delivered(fiscal, orders):
    fiscal.add_register(LLC)
    order = orders.place(("PZ-MARG", 1), payment_kind="cash", delivery_fee=0)
    fiscal.sender.pump(wait=True)
    assert fiscal.receipts(order.id) == []  # nothing was paid yet
    orders.move(order.id, *DELIVERED)
    (receipt,) = fiscal.settle(order.id)
    (body,) = sells(fiscal.online)
    assert receipt.purpose == "settlement" and body["receipt"]["payments"] == [
        {"type": 0, "sum": order.total / 100}
    ]


def test_a_timeout_after_the_register_accepted_is_retried_without_a_second_receipt(fiscal, orders):
    fiscal.add_register(LLC)
    fiscal.add_register(DRINKS_IP, "atol_webserver")
    for fake in (fiscal.online, fiscal.webserver):
        fake.state.slow_accepts, fake.state.delay_after_accept_s = 1, 0.2
    fiscal.sender.timeout_s = 0.05
    order = orders.place(("PZ-MARG", 1), ("DR-COLA05", 1), payment_kind="prepaid", delivery_fee=0)

    fiscal.sender.pump(wait=True)
    first = fiscal.receipts(order.id)
    assert [(r.state, r.attempts) for r in first] == [("pending", 1), ("pending", 1)]
    assert "did not answer" in first[0].message
    fiscal.sender.timeout_s = 0.5
    receipts = fiscal.settle(order.id)

    assert [r.state for r in receipts] == ["done", "done"]
    assert [r.external_id for r in receipts] == [r.external_id for r in first]
    # Each register got the document twice under one external id, and printed it once.
    assert len(fiscal.online.state.printed) == len(fiscal.webserver.state.printed) == 1
    assert sum(1 for r in fiscal.online.state.requests if r.endswith("/sell")) == 2
    assert sum(1 for r in fiscal.webserver.state.requests if r == "POST /api/v2/requests") == 2


def test_a_cancelled_paid_order_is_refunded_like_its_prepayment(fiscal, orders):
    fiscal.add_register(LLC)
    order = orders.place(("PZ-MARG", 1), payment_kind="prepaid", delivery_fee=0)
    fiscal.settle(order.id)
    orders.move(order.id, "cancelled", reason="the client changed their mind")

    receipts = fiscal.settle(order.id)

    assert [(r.purpose, r.operation, r.state) for r in receipts] == [
        ("prepayment", "sell", "done"),
        ("refund", "sell_refund", "done"),
    ]
    (refund,) = sells(fiscal.online, "sell_refund")
    assert {(it["payment_method"], it["vat"]["type"]) for it in refund["receipt"]["items"]} == {
        ("full_prepayment", "vat122")
    }
    assert refund["receipt"]["total"] == order.total / 100


def test_a_receipt_the_register_refuses_fails_with_its_message_and_a_manager_resends_it(
    fiscal, orders, client, auth, users
):
    fiscal.add_register(LLC)
    fiscal.online.state.fail_with = "ФН переполнен"
    order = orders.place(("PZ-MARG", 1), payment_kind="prepaid", delivery_fee=0)
    (failed,) = fiscal.settle(order.id)
    assert failed.state == "failed" and "ФН переполнен" in failed.message

    auth.login("manager")
    queue = client.get("/api/v1/fiscal/receipts").get_json()["items"]
    assert [(r["id"], r["state"]) for r in queue] == [(failed.id, "failed")]
    page = client.get("/fiscal/receipts")
    assert "ФН переполнен".encode() in page.data
    fiscal.online.state.fail_with = None
    resent = client.post(
        f"/api/v1/fiscal/receipts/{failed.id}/resend", headers={"X-CSRFToken": auth.csrf(page.data)}
    )
    assert resent.status_code == 200, resent.get_json()
    # Nothing was printed under the refused external id: the resend gets a new one.
    assert resent.get_json()["state"] == "pending" and resent.get_json()["external_id"] != failed.external_id
    (done,) = fiscal.settle(order.id)
    assert done.state == "done" and done.message is None
    again = client.post(
        f"/api/v1/fiscal/receipts/{failed.id}/resend", headers={"X-CSRFToken": auth.csrf(page.data)}
    )
    assert again.status_code == 409


def test_what_a_register_cannot_print_stays_pending_with_the_reason_and_is_never_sent(fiscal, orders):
    fiscal.add_register(LLC)
    fiscal.add_register(DRINKS_IP)
    fiscal.add_register(DESSERTS_IP, tax_systems=["usn_income"])  # desserts are sold on the patent
    kernel = fiscal.kernel
    with kernel.db.unit_of_work() as s:
        # The organization's INN changed after its register was set up (a reorganization).
        s.execute(update(Organization).where(Organization.id == LLC).values(inn="7707083893"))
        s.execute(update(Item).where(Item.sku == "DR-COLA05").values(name="Кола " + "очень " * 25))
    order = orders.place(
        ("PZ-MARG", 1), ("DR-COLA05", 1), ("DS-TIRAM", 1), payment_kind="prepaid", delivery_fee=0
    )

    fiscal.sender.pump(wait=True)
    fiscal.sender.pump(wait=True)

    by_org = {r.organization_id: r for r in fiscal.receipts(order.id)}
    assert {r.state for r in by_org.values()} == {"pending"}
    assert "registered to INN 1655012344" in by_org[LLC].message and "7707083893" in by_org[LLC].message
    assert "does not serve the tax system psn" in by_org[DESSERTS_IP].message
    # Over the provider's limits: FFD 1.2 names an item with at most 128 characters.
    assert "characters; FFD tag 1030 takes at most 128" in by_org[DRINKS_IP].message
    assert fiscal.online.state.printed == {} and fiscal.online.state.requests == []
