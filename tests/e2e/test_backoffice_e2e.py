"""The back office in Debian's Chromium: a blacklisted caller is flagged before any order is taken,
a held order is confirmed by a manager and goes on, a replayed event pays a bonus once, and tickets
past their SLA show as overdue."""

from __future__ import annotations

import pytest
import requests
from sqlalchemy import func, select

from backoffice import services
from orders.events import OrderPlaced
from orders.models import Order
from tests.backoffice_helpers import add_rule, ago, blacklist, bonus_rule, place
from tests.conftest import load_demo_catalogue, make_users, order_body
from tests.e2e.conftest import login

BLACKLISTED = "+79270001313"


@pytest.fixture
def server(live_server):
    """A live server with users of every role and the demo catalogue; yields (server, kernel, users)."""
    app = live_server.app
    users = make_users(app)
    load_demo_catalogue(app)
    return live_server, app.extensions["frontoffice"], users


def orders_count(kernel) -> int:
    with kernel.db.reading() as s:
        return s.scalar(select(func.count()).select_from(Order))


def test_a_blacklisted_phone_shows_the_warning_before_any_order_is_taken(server, page, artifacts):
    live, kernel, _users = server
    add_rule(kernel, "blacklist", "reject", 100, name="Blacklisted phone", lists=["phone"])
    blacklist(kernel, "phone", BLACKLISTED, "three no-shows with cash")
    login(page, live.url, "test-operator", "pw-operator")
    page.goto(f"{live.url}/callcentre")
    page.fill("#phone", "8 927 000-13-13")
    page.press("#phone", "Enter")
    warnings = page.locator("#warnings")
    warnings.wait_for(state="visible")
    text = warnings.inner_text()
    assert "three no-shows with cash" in text and "Blacklisted phone" in text
    assert "act-reject" in (warnings.get_attribute("class") or "")
    page.screenshot(path=str(artifacts / "blacklisted-caller.png"), full_page=True)
    assert orders_count(kernel) == 0


def test_a_held_order_is_confirmed_by_a_manager_and_then_moves_on(server, page, artifacts):
    live, kernel, users = server
    add_rule(kernel, "change_to_card", "hold", 70, name="Change to card")
    order = place(kernel, actor_id=users["operator"].id, comment="Please send the change to my card")
    assert order.status == "on_hold"
    login(page, live.url, "test-manager", "pw-manager")
    page.goto(f"{live.url}/callcentre/held")
    row = page.locator(f"tr[data-order='{order.id}']")
    assert "Change to card" in row.inner_text() and order.number in row.inner_text()
    page.screenshot(path=str(artifacts / "held-queue.png"), full_page=True)
    with page.expect_navigation():
        row.locator("button[name=confirm]").click()
    assert f"Order {order.number} is confirmed and goes on." in page.locator(".flashes").inner_text()
    assert page.locator(f"tr[data-order='{order.id}']").count() == 0
    page.screenshot(path=str(artifacts / "held-queue-after.png"), full_page=True)
    moved = requests.post(
        f"{live.url}/api/v1/orders/{order.id}/status",
        json={"status": "cooking"},
        headers=users["manager"].headers,
        timeout=10,
    )
    assert moved.status_code == 200 and moved.json()["status"] == "cooking"
    trail = [(e["from_status"], e["to_status"]) for e in moved.json()["events"]]
    assert trail == [(None, "on_hold"), ("on_hold", "confirmed"), ("confirmed", "cooking")]


def test_a_replayed_event_does_not_pay_a_bonus_twice(server, page, artifacts):
    live, kernel, users = server
    bonus_rule(kernel, "order_taken", amount=1000)
    heard: list = []
    kernel.bus.subscribe(OrderPlaced, heard.append)
    taken = requests.post(
        f"{live.url}/api/v1/orders", json=order_body(), headers=users["operator"].headers, timeout=10
    )
    assert taken.status_code == 201
    replay = list(heard)
    kernel.bus.dispatch(replay)
    kernel.bus.dispatch(replay)
    login(page, live.url, "test-operator", "pw-operator")
    page.goto(f"{live.url}/callcentre/bonuses")
    assert page.locator("#bonus-today").inner_text().startswith("10.00")
    assert page.locator("#entries tr[data-operation='order_taken']").count() == 1
    page.screenshot(path=str(artifacts / "bonuses.png"), full_page=True)


def test_tickets_past_their_sla_show_as_overdue(server, page, artifacts):
    live, kernel, users = server
    with kernel.db.unit_of_work() as s:
        late = services.open_ticket(
            s, kind="complaint", subject="Cold pizza", client_phone="+79123456789", now=ago(hours=3)
        ).id
        fresh = services.open_ticket(
            s, kind="question", subject="Saturday delivery?", client_phone="+79031112233"
        ).id
    login(page, live.url, "test-backoffice", "pw-backoffice")
    page.goto(f"{live.url}/callcentre/tickets")
    late_row = page.locator(f"tr[data-ticket='{late}']")
    fresh_row = page.locator(f"tr[data-ticket='{fresh}']")
    assert "overdue" in (late_row.get_attribute("class") or "")
    assert "Overdue by" in late_row.inner_text()
    assert "overdue" not in (fresh_row.get_attribute("class") or "")
    assert page.locator("#count-overdue").inner_text() == "1"
    assert (
        late_row.locator("td.due").evaluate("n => getComputedStyle(n).backgroundColor") != "rgba(0, 0, 0, 0)"
    )
    page.screenshot(path=str(artifacts / "tickets-overdue.png"), full_page=True)
