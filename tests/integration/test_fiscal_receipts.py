"""Fiscal receipts against real local servers that answer like ATOL Online v5 and ATOL Web Server:
one receipt per organization with its FFD 1.2 tags, prepayment then settlement, no second receipt
after a timeout, refunds, a register's refusal and a resend, and what is refused before sending."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import update

from fiscal import services
from frontoffice.db import utcnow
from frontoffice.outbox import RelayPolicy
from nomenclature.models import Item, Organization
from tests.fiscal_fixtures import DESSERTS_IP, DRINKS_IP, INNS, LLC, fiscal_world


@pytest.fixture
def fiscal(app):
    """The demo catalogue, fake ATOL Online and Web Server, a sender to pump."""
    yield from fiscal_world(app)


MIXED = (("PZ-MARG", 1), ("DR-COLA05", 2), ("DS-TIRAM", 1))
DELIVERED = ("confirmed", "cooking", "ready", "in_delivery", "delivered")


def sells(fake):
    """The documents a fake ATOL Online took, in the order it took them."""
    return [p.body for p in fake.state.printed.values()]


def test_a_mixed_prepaid_order_is_fiscalized_once_per_organization_with_its_tags_and_shown(
    fiscal, orders, client, auth, users
):
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

    # The order's page, the API and the caller's dossier show them.
    auth.login("manager")
    page = client.get(f"/orders/{order.id}").get_data(as_text=True)
    assert "Fiscal receipts" in page and "3 of 3 fiscalized." in page
    assert f"FD {receipts[0].fiscal_document_number}, FP {receipts[0].fiscal_sign}" in page
    listed = client.get(f"/api/v1/fiscal/orders/{order.id}/receipts").get_json()["items"]
    assert [(r["purpose"], r["state"], r["fiscal_sign"]) for r in listed] == [
        ("prepayment", "done", r.fiscal_sign) for r in receipts
    ]
    auth.login("operator")
    dossier = client.get("/api/v1/callcentre/lookup", query_string={"phone": order.client_phone}).get_json()
    lines = dossier["sections"]["fiscal"]
    assert {(d["state"], d["fiscal_sign"]) for d in lines} == {("done", r.fiscal_sign) for r in receipts}
    assert lines[0]["line"].startswith(f"{order.number}: Prepayment") and "fiscalized" in lines[0]["line"]


def test_each_movement_of_money_gets_its_receipt_and_a_settlement_follows_its_prepayment(fiscal, orders):
    fiscal.add_register(LLC)
    prepaid = orders.place(("PZ-MARG", 2), payment_kind="prepaid", delivery_fee=0)
    orders.move(prepaid.id, *DELIVERED)  # delivered before the register answered the prepayment
    cash = orders.place(("PZ-MARG", 1), payment_kind="cash", delivery_fee=0)
    cancelled = orders.place(("PZ-MARG", 3), payment_kind="prepaid", delivery_fee=0)
    fiscal.settle()
    assert fiscal.receipts(cash.id) == []  # nothing was paid yet
    orders.move(cash.id, *DELIVERED)
    orders.move(cancelled.id, "cancelled", reason="the client changed their mind")

    fiscal.settle()

    assert [(r.purpose, r.operation, r.state) for r in fiscal.receipts(prepaid.id)] == [
        ("prepayment", "sell", "done"),
        ("settlement", "sell", "done"),
    ]
    by_external_id = {r.external_id: r.order_id for r in fiscal.receipts()}
    printed = [
        (by_external_id[p.external_id], p.operation, p.body["receipt"])
        for p in fiscal.online.state.printed.values()
    ]
    prepayment, settlement = [r for order_id, _op, r in printed if order_id == prepaid.id]
    assert {it["vat"]["type"] for it in prepayment["items"]} == {"vat122"}
    assert {(it["payment_method"], it["vat"]["type"]) for it in settlement["items"]} == {
        ("full_payment", "vat22")
    }
    # Paid by offsetting the prepayment (tag 1215), so the money is not counted twice.
    assert settlement["payments"] == [{"type": 2, "sum": settlement["total"]}]
    assert settlement["total"] == prepayment["total"] == prepaid.total / 100
    # A cash order: one full settlement when it is delivered, paid in cash (tag 1031).
    (cash_receipt,) = [r for order_id, _op, r in printed if order_id == cash.id]
    assert cash_receipt["payments"] == [{"type": 0, "sum": cash.total / 100}]
    # A cancelled paid order: the refund mirrors its prepayment.
    assert [op for order_id, op, _r in printed if order_id == cancelled.id] == ["sell", "sell_refund"]
    refund = printed[-1][2]
    assert {(it["payment_method"], it["vat"]["type"]) for it in refund["items"]} == {
        ("full_prepayment", "vat122")
    }
    assert refund["total"] == cancelled.total / 100


def test_a_timeout_after_the_register_accepted_is_retried_without_a_second_receipt(fiscal, orders):
    fiscal.add_register(LLC)
    fiscal.add_register(DRINKS_IP, "atol_webserver")
    for fake in (fiscal.online, fiscal.webserver):
        fake.state.slow_accepts, fake.state.delay_after_accept_s = 1, 0.2
    fiscal.sender.timeout_s = 0.1  # the token comes at once; the document is answered after 0.2 s
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
    # The monitor's wall screen counts it, with the way to the queue.
    tile = client.get("/api/v1/monitor/snapshot").get_json()["fiscal"]
    assert tile == {"available": True, "waiting": 0, "failed": 1}
    assert b'href="/fiscal/receipts"' in client.get("/monitor").data
    fiscal.online.state.fail_with = None
    resent = client.post(
        f"/api/v1/fiscal/receipts/{failed.id}/resend", headers={"X-CSRFToken": auth.csrf(page.data)}
    )
    assert resent.status_code == 200, resent.get_json()
    # Nothing was printed under the refused external id: the resend gets a new one.
    assert resent.get_json()["state"] == "pending" and resent.get_json()["external_id"] != failed.external_id
    (done,) = fiscal.settle(order.id)
    assert done.state == "done" and done.message is None
    assert client.get("/api/v1/monitor/snapshot").get_json()["fiscal"]["failed"] == 0
    again = client.post(
        f"/api/v1/fiscal/receipts/{failed.id}/resend", headers={"X-CSRFToken": auth.csrf(page.data)}
    )
    assert again.status_code == 409


def test_what_a_register_cannot_print_stays_pending_with_the_reason_and_is_never_sent(fiscal, orders):
    llc_register = fiscal.add_register(LLC)
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

    # An admin sets the register to the organization's new INN: the receipt goes out at once.
    with kernel.db.unit_of_work() as s:
        services.change_register(
            s, llc_register, services.RegisterData(inn="7707083893"), app_secret=kernel.settings.secret_key
        )
    done = fiscal.pump_until(lambda rs: any(r.state == "done" for r in rs), order.id)
    assert [r.organization_id for r in done if r.state == "done"] == [LLC]


def test_a_receipt_no_register_can_take_waits_the_longest_backoff_until_an_admin_acts(fiscal, orders):
    """Only an administrator can fix what is refused before sending, and a register's change wakes
    those receipts at once: until then they are looked at again after the backoff's longest wait,
    not 2, 4, 8 … seconds on (a chain with no register yet would keep its sender busy with every
    receipt it ever made)."""
    sender = services.FiscalSender(
        fiscal.kernel.db,
        fiscal.sender.registers,
        app_secret=fiscal.kernel.settings.secret_key,
        timeout_s=0.5,
        poll_s=0.0,
        policy=RelayPolicy(max_attempts=3, backoff_s=2.0, backoff_max_s=600.0),
    )
    order = orders.place(("PZ-MARG", 1), payment_kind="prepaid", delivery_fee=0)
    before = utcnow()
    assert sender.pump(wait=True) == 1
    (receipt,) = fiscal.receipts(order.id)
    assert receipt.state == "pending" and "No active fiscal register" in receipt.message
    assert receipt.next_attempt_at >= before + dt.timedelta(seconds=600)
    assert sender.pump(wait=True) == 0  # not due again

    llc_register = fiscal.add_register(LLC)  # … until a register comes: then at once
    assert llc_register
    assert sender.pump(wait=True) == 1
    (receipt,) = fiscal.receipts(order.id)
    assert receipt.state in ("sent", "done")
