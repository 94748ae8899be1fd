"""The customer's tracking page on a phone (Chromium in mobile emulation): the courier appears on
the map at pickup, moves with each OsmAnd ping and disappears at the door, and the status steps
follow — all without a reload; a link that does not work (unknown, or its time is up) is a plain
404 page. Screenshots go to test-artifacts/."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from sqlalchemy import select, update

from frontoffice.db import utcnow
from tests.conftest import LiveServer, _make_app, load_demo_catalogue
from tests.couriers_fixtures import BRANCH_1, make_courier, pool_order
from tests.e2e.conftest import TIMEOUT_MS
from tracking.models import TrackingLink

PHONE = {"width": 390, "height": 844}
#: Where Anna's phone reports from on her way to Kremlyovskaya St.
PINGS = [(55.7912, 49.1180), (55.7941, 49.1131)]


@pytest.fixture
def server(tmp_path, _sqlite_template) -> Iterator[LiveServer]:
    """A live server with the demo menu whose courier moves reach the pages within 0.05 s."""
    app = _make_app(_sqlite_template.fresh(tmp_path), tmp_path, tracking_push_interval_s=0.05)
    load_demo_catalogue(app)
    live = LiveServer(app)
    yield live
    live.stop()
    app.extensions["frontoffice"].db.dispose()


@pytest.fixture
def phone(browser) -> Iterator[Any]:
    """A phone: 390×844, touch, its errors and policy violations collected in ``page.problems``."""
    contexts = []

    def make(locale: str = "en-US") -> Any:
        context = browser.new_context(
            viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True, locale=locale
        )
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        page.problems = []
        page.on(
            "console", lambda m: m.type == "error" and not expected_404(m) and page.problems.append(m.text)
        )
        page.on("pageerror", lambda e: page.problems.append(str(e)))
        return page

    yield make
    for context in contexts:
        context.close()


def expected_404(message: Any) -> bool:
    """Chromium's console line for a tracking page answered 404 (what the 404 test asks for)."""
    return message.text.startswith("Failed to load resource") and "/t/" in message.location.get("url", "")


def token_of(app, order_id: int) -> str:
    with app.extensions["frontoffice"].db.reading() as s:
        return s.scalar(select(TrackingLink.token).where(TrackingLink.order_id == order_id))


def courier_call(server: LiveServer, courier, order_id: int, step: str) -> None:
    resp = requests.post(
        f"{server.url}/api/courier/v1/orders/{order_id}/{step}", headers=courier.headers, json={}, timeout=10
    )
    assert resp.status_code == 200, resp.text


def test_the_customer_watches_the_courier_come_and_the_status_change_without_reload(server, phone, artifacts):
    app = server.app
    anna = make_courier(app, "Anna Petrova", device_id="anna-phone", position=BRANCH_1)
    order_id = pool_order(app, status="ready", payment="prepaid")
    courier_call(server, anna, order_id, "claim")
    page = phone()
    page.goto(f"{server.url}/t/{token_of(app, order_id)}")
    page.evaluate("() => { window.__samePage = true; }")
    page.wait_for_function("() => document.getElementById('tr-live').classList.contains('on')")
    assert page.locator("#tr-status").inner_text() == "Ready"
    assert page.locator("#tr-steps li.current").inner_text() == "Cooking"
    assert page.locator("#tr-courier-card").is_hidden() and page.locator("#tr-map").is_hidden()
    page.screenshot(path=str(artifacts / "1-ready-en.png"))

    courier_call(server, anna, order_id, "pickup")
    page.wait_for_function("() => document.getElementById('tr-status').textContent === 'Out for delivery'")
    assert page.locator("#tr-courier").inner_text() == "Anna is bringing your order"
    assert page.locator("#tr-steps li.current").inner_text() == "On the way"
    assert page.locator("#tr-eta").inner_text().startswith("Arrives in about")
    assert page.locator("#tr-map .leaflet-interactive").count() == 2  # the courier and the door

    for lat, lon in PINGS:
        stamp = int(utcnow().timestamp())
        ping = requests.get(
            f"{server.url}/api/osmand?id=anna-phone&timestamp={stamp}&lat={lat}&lon={lon}", timeout=10
        )
        assert ping.status_code == 200
        page.wait_for_function(
            "([lat, lon]) => { const c = document.getElementById('tr-courier-card').dataset;"
            " return Number(c.lat) === lat && Number(c.lon) === lon; }",
            arg=[lat, lon],
        )
    page.screenshot(path=str(artifacts / "2-on-the-way-en.png"))

    courier_call(server, anna, order_id, "deliver")
    page.wait_for_function("() => document.getElementById('tr-status').textContent === 'Delivered'")
    assert page.locator("#tr-eta").inner_text() == "Delivered. Enjoy your meal!"
    assert page.locator("#tr-courier-card").is_hidden() and page.locator("#tr-map").is_hidden()
    assert page.locator("#tr-steps li.done").count() == 4
    assert page.evaluate("() => window.__samePage") is True  # never reloaded
    page.screenshot(path=str(artifacts / "3-delivered-en.png"))
    assert page.problems == []


def test_an_unknown_link_or_one_whose_time_is_up_gets_a_plain_404_page(server, phone, artifacts):
    app = server.app
    order_id = pool_order(app, status="cooking")
    token = token_of(app, order_id)
    page = phone("ru-RU")
    answer = page.goto(f"{server.url}/t/{'B' * 22}")
    assert answer.status == 404
    assert page.locator("h1").inner_text() == "Ссылка не найдена"
    assert page.locator("script").count() == 0  # a plain page: nothing to run, nothing of any order
    page.screenshot(path=str(artifacts / "404-ru.png"))
    assert page.goto(f"{server.url}/t/{token}").status == 200
    page.wait_for_function("() => document.getElementById('tr-live').classList.contains('on')")
    page.screenshot(path=str(artifacts / "cooking-ru.png"))
    with app.extensions["frontoffice"].db.unit_of_work() as s:  # the order ended a day ago
        s.execute(update(TrackingLink).values(expires_at=utcnow() - dt.timedelta(seconds=1)))
    answer = page.goto(f"{server.url}/t/{token}")
    assert answer.status == 404 and "Ссылка не найдена" in page.content()
    assert page.problems == []
