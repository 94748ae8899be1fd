"""The operator workspace in Chromium for an operator of one branch (docs/api.md "Branch scope"): an
address in another branch's zone is refused next to the address, in words, and Ctrl+Enter places
nothing; an address of their own branch is quoted as usual."""

from __future__ import annotations

from sqlalchemy import func, select

from orders.models import Order
from tests.callcentre_fixtures import CENTRE, SOVETSKY, load_zones, open_around_the_clock
from tests.conftest import make_users
from tests.couriers_fixtures import link_to_branch
from tests.e2e.conftest import login


def orders_written(app) -> int:
    with app.extensions["frontoffice"].db.reading() as s:
        return s.scalar(select(func.count(Order.id)))


def test_an_operator_of_one_branch_is_told_an_address_belongs_to_another_and_nothing_is_placed(
    live_server, page, artifacts
):
    app = live_server.app
    load_zones(app)
    open_around_the_clock(app)
    users = make_users(app)
    link_to_branch(app.test_client(), users, "operator", 2)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    login(page, live_server.url, "test-operator", "pw-operator")
    page.goto(f"{live_server.url}/callcentre")
    page.wait_for_function("() => document.querySelectorAll('#menu-items li[role=option]').length > 0")
    keys = page.keyboard
    keys.type("+7 903 111 22 33")
    keys.press("Enter")
    page.wait_for_selector("#client-badge.new")
    page.wait_for_function("() => document.activeElement?.id === 'client-name'")
    keys.type("Ruslan Khairullin")
    keys.press("Alt+2")
    keys.type("PZ-MARG")
    keys.press("Enter")
    if page.is_visible("#modifiers-dialog[open]"):
        keys.press("Enter")
    page.wait_for_function("() => document.querySelectorAll('#cart-lines tr').length === 1")
    # (The Alt+4 jump to the address is the workspace tests' subject; here the address is filled and
    # Enter pressed on the field itself, so focus moved by a late redraw under load cannot take the keys.)
    page.fill("#addr-text", f"{CENTRE[0]}, {CENTRE[1]}")  # Kremlyovskaya St: the Centre zone of KZ1
    page.press("#addr-text", "Enter")
    page.wait_for_selector("#addr-located.ok")
    address = page.locator('[data-error-for~="address"].on')
    address.filter(has_text="a branch you do not work for").wait_for()
    assert "Baumana" in address.inner_text()
    page.screenshot(path=str(artifacts / "01-another-branchs-address.png"), full_page=True)
    keys.press("Control+Enter")
    page.wait_for_selector("#status-line.warn")
    assert page.is_hidden("#placed")
    page.screenshot(path=str(artifacts / "02-refused-on-placing.png"), full_page=True)
    assert orders_written(app) == 0

    # An address of their own branch (KZ2) is quoted as usual.
    page.fill("#addr-text", f"{SOVETSKY[0]}, {SOVETSKY[1]}")
    page.press("#addr-text", "Enter")
    page.wait_for_selector('#quote:has-text("Sovetsky")')
    assert page.locator('[data-error-for~="address"].on').count() == 0
    page.screenshot(path=str(artifacts / "03-own-branchs-address.png"), full_page=True)
    assert errors == []
