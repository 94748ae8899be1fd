"""A trainee's workspace in Chromium: the training banner and the scripted call's brief, an order
taken by keyboard becomes a training order, and the call (time, keystrokes, the differences from the
scenario) lands on the trainer's page."""

from __future__ import annotations

from sqlalchemy import select, update

from frontoffice.models import User
from orders.models import Order
from tests.callcentre_fixtures import CENTRE, load_zones, open_around_the_clock
from tests.conftest import make_users
from tests.e2e.conftest import login
from training import services
from training.models import TrainingCall


def test_a_trainee_takes_a_scripted_call_and_the_trainer_sees_it(live_server, page, artifacts):
    app = live_server.app
    load_zones(app)
    open_around_the_clock(app)
    users = make_users(app)
    kernel = app.extensions["frontoffice"]
    with kernel.db.unit_of_work() as s:
        s.execute(update(User).where(User.id == users["operator"].id).values(trainee=True))
        scenario = services.create_scenario(
            s,
            services.ScenarioData(
                title="Two margheritas",
                caller_phone="+79031112233",
                caller_name="Ruslan",
                request_text="Two margheritas to Kremlyovskaya 21",
                address="Kremlyovskaya 21",
                lines=[("PZ-MARG", 2)],
            ),
            actor_id=users["manager"].id,
        )
        services.assign(s, scenario.id, users["operator"].id, actor_id=users["manager"].id)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    login(page, live_server.url, "test-operator", "pw-operator")
    page.goto(f"{live_server.url}/callcentre")
    page.wait_for_selector("#training-banner")
    page.wait_for_selector("#training-brief:not([hidden])")
    assert "Two margheritas" in page.inner_text("#training-brief")
    page.wait_for_function("() => document.querySelectorAll('#menu-items li[role=option]').length > 0")
    keys = page.keyboard
    keys.type("+7 903 111 22 33")
    keys.press("Enter")
    page.wait_for_selector("#client-badge.new")
    page.wait_for_function("() => document.activeElement?.id === 'client-name'")
    keys.type("Ruslan")
    keys.press("Alt+2")
    keys.type("PZ-MARG")
    keys.press("Enter")
    if page.is_visible("#modifiers-dialog[open]"):
        keys.press("Enter")
    page.wait_for_function("() => document.querySelectorAll('#cart-lines tr').length === 1")
    page.fill("#addr-text", f"{CENTRE[0]}, {CENTRE[1]}")
    page.press("#addr-text", "Enter")
    page.wait_for_selector("#addr-located.ok")
    page.wait_for_selector("#quote:has-text('Centre')")
    page.press("#addr-text", "Control+Enter")
    page.wait_for_selector("#placed:not([hidden])")
    assert page.inner_text("#placed-number").startswith("T-")
    page.wait_for_selector("#training-result:has-text('differences')")
    page.screenshot(path=str(artifacts / "01-trainee-workspace.png"), full_page=True)
    with kernel.db.reading() as s:
        order = s.scalars(select(Order)).one()
        call = s.scalars(select(TrainingCall)).one()
        assert order.training and call.order_id == order.id
        assert call.keystrokes > 10 and call.duration_s > 0
        assert {"field": "lines.PZ-MARG", "expected": "2", "actual": "1"} in call.differences
    assert errors == []

    page.context.clear_cookies()
    login(page, live_server.url, "test-manager", "pw-manager")
    page.goto(f"{live_server.url}/training")
    page.wait_for_selector(f"tr[data-call='{call.id}'] .difference")
    page.screenshot(path=str(artifacts / "02-trainer-page-en.png"), full_page=True)
    with page.expect_navigation():
        page.click("button[lang=ru]")
    page.wait_for_selector(f"tr[data-call='{call.id}'] .difference")
    page.screenshot(path=str(artifacts / "03-trainer-page-ru.png"), full_page=True)
