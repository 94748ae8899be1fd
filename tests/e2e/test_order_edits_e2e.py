"""Changing a taken order in Chromium: the operator opens it from the board in the workspace, adds a
juice from the keyboard and saves; the manager's board and monitor, open meanwhile, show the new
total and receipts without a reload, and the order's page shows the change before → after."""

from __future__ import annotations

from decimal import Decimal

import requests

from monitor.ports import MONITOR_HUB
from tests.callcentre_fixtures import load_zones, open_around_the_clock, take_order_body
from tests.conftest import make_users
from tests.e2e.conftest import TIMEOUT_MS, VIEWPORT, login

CARD = '.bd-card[data-number="{}"]'


def digits(text: str) -> str:
    """The digits of a shown amount, whatever the locale groups and marks them with."""
    return "".join(ch for ch in text if ch.isdigit())


def test_an_order_changed_by_the_operator_shows_its_new_receipts_and_total_on_the_board_and_monitor(
    live_server, browser, artifacts
):
    app = live_server.app
    load_zones(app)
    open_around_the_clock(app)
    users = make_users(app)
    taken = requests.post(
        f"{live_server.url}/api/v1/callcentre/orders",
        json=take_order_body(payment={"kind": "cash"}),
        headers=users["operator"].headers,
        timeout=10,
    )
    assert taken.status_code == 201, taken.text
    order = taken.json()
    pages = []
    try:
        for who in ("manager", "operator"):
            context = browser.new_context(viewport=VIEWPORT, locale="en-US")
            context.set_default_timeout(TIMEOUT_MS)
            pages.append(context.new_page())
            login(pages[-1], live_server.url, f"test-{who}", f"pw-{who}")
        watcher, operator = pages
        watcher.goto(f"{live_server.url}/monitor")
        watcher.wait_for_selector("#mon-conn.live")
        watcher.wait_for_function(
            "() => document.querySelector('[data-field=pending]').textContent.includes('406')"
        )
        pending_before = watcher.inner_text("[data-field=pending]")
        monitor = watcher.context.new_page()
        monitor.goto(f"{live_server.url}/monitor")
        monitor.wait_for_selector("#mon-conn.live")
        watcher.goto(f"{live_server.url}/callcentre/board")
        watcher.wait_for_selector("#bd-live.on")
        card = CARD.format(order["number"])
        watcher.wait_for_selector(f"{card} .bd-receipts")

        operator.goto(f"{live_server.url}/callcentre/board")
        operator.click(f"{card} a.bd-edit")
        operator.wait_for_selector("#edit-banner:not([hidden])")
        operator.wait_for_function("() => document.querySelectorAll('#cart-lines tr').length === 3")
        operator.keyboard.press("Alt+2")
        operator.keyboard.type("DR-JUICE1")
        operator.wait_for_function(
            "() => [...document.querySelectorAll('#menu-items li[role=option]')].some(li => li.textContent.includes('Orange juice'))"
        )
        operator.keyboard.press("Enter")
        operator.wait_for_function("() => document.querySelectorAll('#cart-lines tr').length === 4")
        operator.keyboard.press("Control+Enter")
        operator.wait_for_selector("#placed:not([hidden])")
        assert operator.inner_text("#placed-label").lower() == "order changed"

        total = Decimal(order["total"]) + Decimal("219.00")
        with app.extensions["frontoffice"].db.reading() as s:
            from orders.models import Order

            stored = s.get(Order, order["id"])
            assert stored.total == int(total * 100) and stored.version == order["version"] + 1
            receipts = [(r.organization_name, r.total) for r in stored.receipts]
        watcher.wait_for_selector(f"{card} .bd-edits")
        assert digits(watcher.inner_text(f"{card} .bd-card-head .num")) == "162500"
        for name, _amount in receipts:
            assert name in watcher.inner_text(f"{card} .bd-receipts")
        monitor.wait_for_function(
            "before => document.querySelector('[data-field=pending]').textContent !== before",
            arg=pending_before,
        )
        assert digits(monitor.inner_text("[data-field=pending]")) == "1625"
        watcher.screenshot(path=str(artifacts / "02-board-after.png"))
        watcher.goto(f"{live_server.url}/orders/{order['id']}")
        assert "Orange juice" in watcher.inner_text("#order-edits [data-field=lines]")
    finally:
        for p in pages:
            p.context.close()
        app.extensions["frontoffice"].extensions.get(MONITOR_HUB).stop()
