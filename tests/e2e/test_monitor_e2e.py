"""The live monitor in Chromium: an order placed through the API changes the tiles within two seconds,
late orders turn up colour-coded, and the branch selector narrows the screen."""

from __future__ import annotations

import datetime as dt
import time

import pytest
import requests

from monitor.ports import MONITOR_HUB
from tests.conftest import load_demo_catalogue, make_users, order_body
from tests.e2e.conftest import login

WALL = {"width": 1920, "height": 1080}


@pytest.fixture
def monitor_page(live_server, page):
    """The monitor open on a wall-sized screen, logged in as a manager, showing its first snapshot."""
    load_demo_catalogue(live_server.app)
    users = make_users(live_server.app)
    page.set_viewport_size(WALL)
    login(page, live_server.url, "test-manager", "pw-manager")
    page.goto(f"{live_server.url}/monitor")
    page.wait_for_selector("#mon-conn.live")
    page.wait_for_function("() => document.querySelector('#tile-orders .value').textContent === '0'")
    yield page, users
    live_server.app.extensions["frontoffice"].extensions.get(MONITOR_HUB).stop()


def post_order(live_server, users, **overrides) -> dict:
    resp = requests.post(
        f"{live_server.url}/api/v1/orders",
        json=order_body(**overrides),
        headers=users["operator"].headers,
        timeout=10,
    )
    assert resp.status_code == 201, resp.text
    return resp.json()


def test_an_order_placed_through_the_api_changes_the_tile_within_two_seconds(
    live_server, monitor_page, artifacts
):
    page, users = monitor_page
    page.screenshot(path=str(artifacts / "01-before.png"))
    placed_at = time.monotonic()
    order = post_order(live_server, users)
    page.wait_for_function(
        "() => document.querySelector('#tile-orders .value').textContent === '1'", timeout=2000
    )
    took = time.monotonic() - placed_at
    page.screenshot(path=str(artifacts / "02-after.png"))
    assert took < 2.0
    assert page.inner_text("#mon-statuses") == "New 1"
    assert page.locator("#tile-orders").get_attribute("class").split().count("tile") == 1
    # the undelivered order is on the map next to its branch, drawn without any map tiles
    assert page.locator("#mon-map path.leaflet-interactive").count() >= 1
    assert page.locator(".branch-pin", has_text="KZ1").count() == 1
    assert order["number"] == "KZ1-001"


def test_a_late_order_shows_in_the_late_list_in_its_colour(live_server, monitor_page, artifacts):
    page, users = monitor_page
    promised = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=50)  # already due: late by under a minute
    order = post_order(live_server, users, promised_at=promised.isoformat())
    item = page.wait_for_selector(f"#mon-late li[data-order-id='{order['id']}']", timeout=3000)
    assert "minor" in item.get_attribute("class")
    assert item.inner_text().startswith(order["number"])
    assert page.inner_text("#tile-late .value") == "1"
    page.screenshot(path=str(artifacts / "late-order.png"))


def test_the_branch_selector_watches_one_branch(live_server, monitor_page, artifacts):
    page, users = monitor_page
    post_order(live_server, users, branch_id=1)
    page.wait_for_function(
        "() => document.querySelector('#tile-orders .value').textContent === '1'", timeout=3000
    )
    page.select_option("#mon-branch", "2")
    page.wait_for_function(
        "() => document.querySelector('#tile-orders .value').textContent === '0'", timeout=3000
    )
    assert page.url.endswith("/monitor?branch=2")
    post_order(live_server, users, branch_id=2)
    page.wait_for_function(
        "() => document.querySelector('#tile-orders .value').textContent === '1'", timeout=3000
    )
    page.screenshot(path=str(artifacts / "branch-2.png"))
