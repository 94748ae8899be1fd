"""The dispatch screen in Chromium (issue 16 item 4): a manager selects a late order with the
keyboard, assigns the top-ranked courier with one key and sees it assigned; then opens the proof of
delivery of a trip that ended and sees its photo, there and on the order's page. No
Content-Security-Policy violation or script error on the way."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import update

from frontoffice.db import utcnow
from orders.models import Order
from tests.conftest import load_demo_catalogue, make_users
from tests.couriers_fixtures import BRANCH_1, delivered_with_photo, make_courier, pool_order
from tests.e2e.conftest import login


@pytest.fixture
def dispatcher(live_server, page):
    """A manager logged in on the demo branches, the page failing on a CSP violation or a script error."""
    load_demo_catalogue(live_server.app)
    make_users(live_server.app)
    problems: list[str] = []
    page.on("console", lambda m: m.type == "error" and problems.append(m.text))
    page.on("pageerror", lambda e: problems.append(str(e)))
    login(page, live_server.url, "test-manager", "pw-manager")
    yield page
    assert problems == []


def test_a_manager_assigns_the_top_courier_with_one_key_and_sees_the_proof_photo(
    live_server, dispatcher, artifacts
):
    app = live_server.app
    page = dispatcher
    delivered_id, _photo = delivered_with_photo(app, app.test_client())
    make_courier(app, "Far Driver", position=(BRANCH_1[0] + 0.03, BRANCH_1[1]))
    make_courier(app, "Near Driver", position=(BRANCH_1[0] + 0.002, BRANCH_1[1]))
    late = pool_order(app, 1, status="ready")
    with app.extensions["frontoffice"].db.unit_of_work() as s:
        s.execute(
            update(Order)
            .where(Order.id == late)
            .values(promised_at=utcnow() - dt.timedelta(minutes=15))
            .execution_options(synchronize_session=False)
        )

    page.goto(f"{live_server.url}/couriers/dispatch")
    first = page.locator("#dp-orders tbody tr").first
    first.wait_for()
    assert first.get_attribute("data-order") == str(late)
    assert first.locator(".late.serious").count() == 1  # 15 minutes late: the monitor's colour
    page.keyboard.press("ArrowDown")
    assert first.get_attribute("aria-selected") == "true"
    top = page.locator("#dp-candidates li").first
    top.locator(".who b").wait_for()
    assert top.locator(".who b").inner_text() == "Near Driver"
    page.screenshot(path=str(artifacts / "dispatch-selected.png"), full_page=True)

    page.keyboard.press("Enter")
    page.wait_for_function(
        "id => document.querySelector(`#dp-orders tr[data-order='${id}'] .courier`)?.textContent === 'Near Driver'",
        arg=str(late),
    )
    assert "Near Driver" in page.locator("#dp-message").inner_text()
    assert page.locator("#dp-unassign").is_visible()
    page.screenshot(path=str(artifacts / "dispatch-assigned.png"), full_page=True)
    with app.extensions["frontoffice"].db.reading() as s:
        assert s.get(Order, late).courier_id is not None

    page.locator(f"#dp-finished tr[data-order='{delivered_id}'] .proof-open").click()
    photo = page.locator("#dp-proof-images img").first
    photo.wait_for()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=photo.element_handle())
    assert "Anna 1" in page.locator("#dp-proof-facts").inner_text()
    page.screenshot(path=str(artifacts / "dispatch-proof.png"), full_page=True)

    page.goto(f"{live_server.url}/orders/{delivered_id}")
    on_order = page.locator(".order-section .proof img").first
    on_order.wait_for()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=on_order.element_handle())
    page.screenshot(path=str(artifacts / "order-proof.png"), full_page=True)
