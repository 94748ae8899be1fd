"""Tickets from the call in Chromium (issue 16, item 5): the operator opens a ticket about an order
of the caller's history in two key presses — Alt+H onto the history, Alt+I — and the form comes
prefilled with the order's number and its day, never an internal id; from the dossier Alt+I opens
one about the caller. The ticket lands in the back office naming the order the same way."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from backoffice.models import Ticket
from tests.callcentre_fixtures import load_zones, open_around_the_clock
from tests.conftest import make_users
from tests.e2e.conftest import login
from tests.helpers import OrderActions

PHONE = "+79123456789"


@pytest.fixture
def operator(live_server, page):
    """An operator on the workspace of a caller with two past orders; the page fails on a script error."""
    app = live_server.app
    load_zones(app)
    open_around_the_clock(app)
    make_users(app)
    kernel = app.extensions["frontoffice"]
    earlier = OrderActions(kernel).place(now=dt.datetime.now(dt.UTC) - dt.timedelta(days=3))
    latest = OrderActions(kernel).place()
    problems: list[str] = []
    page.on(
        "console", lambda m: m.type == "error" and "status of 422" not in m.text and problems.append(m.text)
    )
    page.on("pageerror", lambda e: problems.append(str(e)))
    login(page, live_server.url, "test-operator", "pw-operator")
    page.goto(f"{live_server.url}/callcentre?phone=%2B79123456789")
    page.wait_for_selector("#history li[data-index]")
    yield page, {"earlier": earlier, "latest": latest}
    assert problems == []


def shown(day: dt.date) -> str:
    """A business day as the English workspace shows it (Intl, medium style)."""
    return f"{day:%b} {day.day}, {day.year}"


def tickets(app) -> list[Ticket]:
    with app.extensions["frontoffice"].db.reading() as s:
        return list(s.scalars(select(Ticket).order_by(Ticket.id)))


def test_two_keys_open_a_ticket_about_the_selected_order_named_by_number_and_day(
    live_server, operator, artifacts
):
    page, orders = operator
    latest = orders["latest"]
    page.locator("#phone").focus()
    page.keyboard.press("Alt+h")
    page.keyboard.press("Alt+i")
    dialog = page.locator("#ticket-dialog")
    dialog.wait_for(state="visible")
    chosen = page.eval_on_selector("#ticket-order", "s => s.options[s.selectedIndex].textContent")
    day = shown(latest.business_date)
    assert latest.number in chosen and day in chosen
    assert str(latest.id) not in chosen.replace(latest.number, "").replace(day, "")
    assert page.evaluate("document.activeElement.id") == "ticket-subject"
    page.keyboard.type("Cold pizza")
    page.fill("#ticket-body", "Arrived cold, the client wants a refund")
    page.screenshot(path=str(artifacts / "ticket-form-en.png"), full_page=True)
    page.keyboard.press("Control+Enter")
    dialog.wait_for(state="hidden")
    page.locator("#status-line").filter(has_text="opened").wait_for()
    (ticket,) = tickets(live_server.app)
    assert ticket.order_id == latest.id and ticket.client_phone == PHONE and ticket.subject == "Cold pizza"
    page.locator("#tickets").filter(has_text=f"{latest.number} of {day}").wait_for()


def test_in_the_history_arrows_choose_the_order_and_i_opens_its_ticket(live_server, operator):
    page, orders = operator
    earlier, latest = orders["earlier"], orders["latest"]
    page.keyboard.press("Alt+h")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("i")
    page.locator("#ticket-dialog").wait_for(state="visible")
    chosen = page.eval_on_selector("#ticket-order", "s => s.options[s.selectedIndex].textContent")
    assert earlier.number in chosen and shown(earlier.business_date) in chosen
    assert earlier.number == latest.number  # numbers start again every day: the day tells them apart
    page.keyboard.press("Escape")
    page.locator("#ticket-dialog").wait_for(state="hidden")
    assert tickets(live_server.app) == []


def test_from_the_dossier_alt_i_opens_a_ticket_about_the_caller(live_server, operator):
    page, _orders = operator
    page.locator("#client-name").focus()
    page.keyboard.press("Alt+i")
    page.locator("#ticket-dialog").wait_for(state="visible")
    assert page.input_value("#ticket-order") == ""
    assert "+7 912 345-67-89" in page.inner_text("#ticket-about")
    page.click("#ticket-submit")  # no subject: said next to the field, nothing sent
    assert "few words" in page.inner_text('[data-error-for="ticket.subject"]')
    page.fill("#ticket-subject", "Wants a call back from the manager")
    page.select_option("#ticket-kind", "question")
    page.click("#ticket-submit")
    page.locator("#ticket-dialog").wait_for(state="hidden")
    (ticket,) = tickets(live_server.app)
    assert ticket.order_id is None and ticket.client_phone == PHONE and ticket.kind == "question"
