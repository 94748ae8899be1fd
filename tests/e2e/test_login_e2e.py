"""Staff log in through the login page in a real browser."""

from __future__ import annotations

from urllib.parse import urlsplit

from tests.conftest import make_users
from tests.e2e.conftest import login


def test_an_operator_logs_in_and_lands_on_the_start_page(live_server, page, artifacts):
    make_users(live_server.app)
    response = login(page, live_server.url, "test-operator", "pw-operator")
    page.screenshot(path=str(artifacts / "start-page.png"), full_page=True)
    assert response.ok
    assert urlsplit(page.url).path == "/"
    assert page.inner_text("main h1") == "Welcome, Test Operator"
    assert "Test Operator" in page.inner_text("header .who")
    assert page.locator("header form button", has_text="Log out").is_visible()


def test_a_wrong_password_shows_the_message_and_keeps_the_login_page(live_server, page, artifacts):
    make_users(live_server.app)
    response = login(page, live_server.url, "test-operator", "not-the-password")
    page.screenshot(path=str(artifacts / "wrong-password.png"), full_page=True)
    assert response.status == 401
    assert urlsplit(page.url).path == "/login"
    assert page.inner_text("[role=alert]") == "Unknown username or wrong password."
    assert page.input_value("input[name=username]") == "test-operator"
    assert page.locator("header .who").count() == 0


def test_the_ru_switch_in_the_top_bar_turns_the_page_russian_and_stays_on_it(live_server, page, artifacts):
    page.goto(f"{live_server.url}/login?next=/monitor")
    switch = page.locator("header .langs button", has_text="RU")
    assert (
        switch.evaluate("b => getComputedStyle(b).backgroundColor") == "rgba(0, 0, 0, 0)"
    )  # looks like a link
    with page.expect_navigation():
        switch.click()
    page.screenshot(path=str(artifacts / "login-in-russian.png"), full_page=True)
    assert urlsplit(page.url).path == "/login" and urlsplit(page.url).query == "next=/monitor"
    assert page.locator("html").get_attribute("lang") == "ru"
    assert page.inner_text("main h1") == "Войти"
    assert page.locator("header .langs button[aria-current=true]").inner_text() == "RU"
