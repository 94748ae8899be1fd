"""Go-live (issue 16): a chain goes from an EMPTY database to its first delivered order through the
product alone — no SQL, no demo data.

The database is created empty (PostgreSQL: a database of the test's own on
FRONTOFFICE_TEST_POSTGRES_URL, dropped at the end; SQLite: a new file), migrated and given its first
admin by the real ``frontoffice`` command (``db upgrade``, ``create-user``) in a subprocess, then
served live. In Chromium the admin logs in and sets up a branch (placed on the map), an
organization, a menu item and the distribution condition that sells it, a delivery zone drawn on the
map, an operator, a manager and a courier (staff page), and registers the courier with a Traccar
Client device id and the login of the courier app (courier register). The operator takes an order
by keyboard for a new caller at an address inside the zone; the manager moves it to ready on the
board and assigns the courier on the dispatch screen; the courier (phone app API: session, shift,
Traccar position, pickup, delivery with a photo) delivers; the manager sees the proof photo on the
order's page. Every step is screenshotted (test-artifacts/<test>/).
"""

from __future__ import annotations

import base64
import datetime as dt
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from frontoffice.app import create_app
from tests.callcentre_fixtures import CENTRE, FakeNominatim
from tests.conftest import POSTGRES_URL, LiveServer
from tests.couriers_fixtures import tiny_png
from tests.e2e.conftest import VIEWPORT, login
from tests.e2e.test_zones_editor_e2e import click_corners

pytestmark = pytest.mark.slow

ADMIN = ("chulpan", "Kazan-go-live-2026!")
OPERATOR = ("olga", "Takes-calls-all-day-77")
MANAGER = ("maxim", "Runs-the-floor-88")
COURIER = ("kirill", "Rides-fast-on-Fridays-99")
DEVICE_ID = "kirill-pixel-7"
NEW_CALLER = "+7 903 111 22 33"


# --- an empty database, the real command ------------------------------------------------------


@pytest.fixture(params=["postgresql", "sqlite"])
def empty_database(request, tmp_path) -> Iterator[str]:
    """The URL of a database with nothing in it: not even its tables."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'frontoffice.sqlite3'}"
        return
    if not POSTGRES_URL:
        pytest.skip(
            "FRONTOFFICE_TEST_POSTGRES_URL is not set: no PostgreSQL server to create an empty database on"
        )
    server = make_url(POSTGRES_URL)
    name = f"golive_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def frontoffice(url: str, instance: Path, *args: str) -> subprocess.CompletedProcess:
    """Run the ``frontoffice`` command as an installer would, against ``url``."""
    env = {**os.environ, "FRONTOFFICE_DATABASE_URL": url, "FRONTOFFICE_INSTANCE_PATH": str(instance)}
    done = subprocess.run(
        [sys.executable, "-m", "frontoffice", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done


@pytest.fixture
def installed(empty_database, tmp_path) -> Iterator[LiveServer]:
    """The product installed on the empty database by its command, served live, with a geocoder
    answering like Nominatim on 127.0.0.1."""
    instance = tmp_path / "instance"
    assert "up to date" in frontoffice(empty_database, instance, "db", "upgrade").stdout
    made = frontoffice(
        empty_database,
        instance,
        "create-user",
        ADMIN[0],
        "--role",
        "admin",
        "--name",
        "Chulpan Admin",
        "--password",
        ADMIN[1],
    )
    assert f"Created admin {ADMIN[0]}" in made.stdout
    geocoder = FakeNominatim()
    app = create_app(
        {
            "database_url": empty_database,
            "secret_key": "go-live-secret",
            "instance_path": instance,
            "geocoder": "nominatim",
            "geocoder_domain": geocoder.domain,
            "geocoder_scheme": "http",
        }
    )
    server = LiveServer(app)
    try:
        yield server
    finally:
        server.stop()
        geocoder.stop()
        app.extensions["frontoffice"].db.dispose()


# --- the people's browsers ----------------------------------------------------------------------


class Shots:
    """Numbered screenshots of the walk-through."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.taken: list[Path] = []

    def __call__(self, page: Any, name: str) -> None:
        path = self.folder / f"{len(self.taken) + 1:02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        self.taken.append(path)


def person(browser: Any, base: str, username: str, password: str, problems: list[str]) -> Any:
    """A browser of one person, logged in; a first password is changed as the product asks."""
    context = browser.new_context(viewport=VIEWPORT, locale="en-US")
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.on("pageerror", lambda e: problems.append(f"{username}: {e}"))
    page.on(
        "console",
        lambda m: (
            m.type == "error" and "status of 422" not in m.text and problems.append(f"{username}: {m.text}")
        ),
    )
    login(page, base, username, password)
    assert not page.url.endswith("/login"), page.content()
    return page


def submit(page: Any, selector: str) -> None:
    """Submit a form of a page and wait for the page it leads to."""
    with page.expect_navigation():
        page.click(selector)
    page.wait_for_load_state()


def api_get(page: Any, path: str) -> Any:
    """GET a JSON API with the page's browser session (what the page's own scripts do)."""
    return page.evaluate("async (p) => (await fetch(p)).json()", path)


# --- the walk-through -----------------------------------------------------------------------------


def test_a_chain_goes_live_from_an_empty_database_through_the_product_alone(installed, browser, artifacts):
    base = installed.url
    shot = Shots(artifacts)
    problems: list[str] = []

    # The first admin, made by the command, logs in.
    admin = person(browser, base, *ADMIN, problems)
    shot(admin, "admin-logged-in")

    # A branch, placed on the map, open around the clock.
    admin.goto(f"{base}/admin/branches/new")
    admin.wait_for_selector("#branch-map.leaflet-container")
    box = admin.locator("#branch-map").bounding_box()
    admin.mouse.click(box["x"] + box["width"] * 0.55, box["y"] + box["height"] * 0.5)
    assert admin.input_value("#branch-lat") != ""
    admin.fill("input[name=code]", "KZ1")
    admin.fill("input[name=name]", "Kazan — Baumana")
    admin.fill("input[name=address]", "Kazan, Baumana St, 44")
    admin.check("input[name=around_the_clock]")
    shot(admin, "branch-filled")
    submit(admin, "#branch-form button[type=submit]")
    assert "The branch is open." in admin.content()
    branch_id = int(re.search(r"/admin/branches/(\d+)", admin.url)[1])
    shot(admin, "branch-saved")

    # An organization that sells, a menu item, and the condition that says who sells it.
    admin.goto(f"{base}/admin/nomenclature/organizations")
    form = "form.nm-form"
    admin.fill(f"{form} input[name=name]", "LLC Kazan Kitchen")
    admin.fill(f"{form} input[name=inn]", "7707083893")
    admin.fill(f"{form} input[name=kpp]", "770701001")
    admin.check(f"{form} input[name=tax_systems][value=osn]")
    admin.check(f"{form} input[name=pays_vat]")
    admin.select_option(f"{form} select[name=default_vat_rate]", "vat22")
    admin.check(f"{form} input[name=active]")
    submit(admin, f"{form} button[type=submit]")
    assert "LLC Kazan Kitchen" in admin.inner_text("#organizations")
    shot(admin, "organization-saved")

    admin.goto(f"{base}/admin/nomenclature/items")
    admin.fill(f"{form} input[name=sku]", "PZ-TAT")
    admin.fill(f"{form} input[name=name]", "Pizza Tatarskaya")
    admin.fill(f"{form} input[name=price]", "650,00")
    admin.select_option(f"{form} select[name=vat_rate]", "vat22")
    admin.fill(f"{form} input[name=unit]", "pcs")
    admin.check(f"{form} input[name=active]")
    submit(admin, f"{form} button[type=submit]")
    assert "Pizza Tatarskaya" in admin.inner_text("#items")
    shot(admin, "item-saved")

    admin.goto(f"{base}/admin/nomenclature/conditions")
    admin.fill(f"{form} input[name=name]", "Everything: Kazan Kitchen")
    admin.select_option(f"{form} select[name=scope]", "all")
    admin.select_option(f"{form} select[name=organization_id]", label="LLC Kazan Kitchen")
    admin.select_option(f"{form} select[name=tax_system]", "osn")
    admin.check(f"{form} input[name=active]")
    submit(admin, f"{form} button[type=submit]")
    assert "Everything: Kazan Kitchen" in admin.inner_text("#conditions")
    shot(admin, "condition-saved")

    # A delivery zone drawn on the map around the city centre.
    admin.goto(f"{base}/callcentre/zones")
    admin.wait_for_selector("body[data-zones-ready]")
    click_corners(admin, [(0.15, 0.15), (0.85, 0.15), (0.85, 0.85), (0.15, 0.85)])
    admin.fill("input[name=name]", "Centre")
    admin.select_option("select[name=branch_id]", str(branch_id))
    admin.fill("input[name=delivery_fee]", "99.00")
    admin.fill("input[name=min_order]", "300")
    admin.fill("input[name=delivery_minutes]", "45")
    shot(admin, "zone-drawn")
    admin.click("#zone-save")
    admin.wait_for_selector("#zone-list tbody tr[data-id]")
    assert "Centre" in admin.inner_text("#zone-list")
    at = api_get(admin, f"/api/v1/zones/at?lat={CENTRE[0]}&lon={CENTRE[1]}")
    assert at["winner"]["name"] == "Centre", at
    shot(admin, "zone-saved")

    # The staff: an operator and a manager of the branch, and a courier's login.
    for (username, password), role, name in (
        (OPERATOR, "operator", "Olga Operator"),
        (MANAGER, "manager", "Maxim Manager"),
        (COURIER, "courier", "Kirill Courier"),
    ):
        admin.goto(f"{base}/admin/staff")
        new = "#new-user form"
        admin.fill(f"{new} input[name=username]", username)
        admin.fill(f"{new} input[name=full_name]", name)
        admin.select_option(f"{new} select[name=role]", role)
        admin.fill(f"{new} input[name=password]", password)
        if role != "courier":
            admin.check(f"{new} input[name=branch_ids][value='{branch_id}']")
        submit(admin, f"{new} button[type=submit]")
        assert re.search(r"/admin/staff/\d+$", admin.url), admin.inner_text("body")
    admin.goto(f"{base}/admin/staff")
    listed = admin.inner_text("#staff")
    assert all(who in listed for who in (OPERATOR[0], MANAGER[0], COURIER[0])), listed
    shot(admin, "staff-added")

    # The courier in the register: vehicle, branch, Traccar Client device id, the app's login.
    admin.goto(f"{base}/couriers/register")
    courier_form = "#courier-form"
    admin.fill(f"{courier_form} input[name=name]", "Kirill Courier")
    admin.fill(f"{courier_form} input[name=phone]", "+7 917 000-11-22")
    admin.select_option(f"{courier_form} select[name=vehicle]", "car")
    admin.fill(f"{courier_form} input[name=device_id]", DEVICE_ID)
    admin.check(f"{courier_form} input[name=branch_ids][value='{branch_id}']")
    admin.select_option(f"{courier_form} select[name=user_id]", label=f"{COURIER[0]} (Kirill Courier)")
    shot(admin, "courier-register-filled")
    submit(admin, f"{courier_form} button[type=submit]")
    assert "The courier is registered." in admin.content()
    shot(admin, "courier-registered")

    # The courier's phone: the app logs in, opens a shift; Traccar Client reports the position.
    app_session = requests.post(
        f"{base}/api/courier/v1/session",
        json={"login": COURIER[0], "password": COURIER[1], "device_name": "Pixel 7"},
        timeout=10,
    )
    assert app_session.status_code in (200, 201), app_session.text
    phone = {"Authorization": f"Bearer {app_session.json()['token']}"}
    shift = requests.post(f"{base}/api/courier/v1/shift/start", json={}, headers=phone, timeout=10)
    assert shift.status_code in (200, 201), shift.text
    near_the_branch = (CENTRE[0] - 0.004, CENTRE[1] + 0.004)
    reported = requests.get(
        f"{base}/api/osmand",
        params={
            "id": DEVICE_ID,
            "lat": near_the_branch[0],
            "lon": near_the_branch[1],
            "timestamp": int(dt.datetime.now(dt.UTC).timestamp()),
        },
        timeout=10,
    )
    assert reported.status_code == 200, reported.text

    # The operator takes a new caller's order by keyboard at an address inside the zone.
    operator = person(browser, base, *OPERATOR, problems)
    operator.goto(f"{base}/callcentre")
    operator.wait_for_function("() => document.querySelectorAll('#menu-items li[role=option]').length > 0")
    keys = operator.keyboard

    def focus_on(element_id: str) -> None:
        operator.wait_for_function("id => document.activeElement?.id === id", arg=element_id)

    focus_on("phone")
    keys.type(NEW_CALLER)
    keys.press("Enter")
    operator.wait_for_selector("#client-badge.new")
    focus_on("client-name")
    keys.type("Ruslan Khairullin")
    keys.press("Alt+2")
    keys.type("PZ-TAT")
    keys.press("Enter")
    operator.wait_for_function("() => document.querySelectorAll('#cart-lines tr').length === 1")
    keys.press("Alt+4")
    focus_on("addr-text")
    keys.type("Kazan, Kremlyovskaya 21")
    keys.press("Enter")
    operator.wait_for_selector("#geocode-candidates:not([hidden])")
    keys.press("Enter")  # the first answer: Kazan
    operator.wait_for_selector("#addr-located.ok")
    operator.wait_for_selector('#quote:has-text("Centre")')
    shot(operator, "operator-order-ready")
    keys.press("Control+Enter")
    operator.wait_for_selector("#placed:not([hidden])")
    number = operator.inner_text("#placed-number").strip()
    assert number.startswith("KZ1-"), number
    shot(operator, "operator-order-placed")

    # The manager: the kitchen's moves on the board, then the courier assigned on the dispatch screen.
    manager = person(browser, base, *MANAGER, problems)
    manager.goto(f"{base}/callcentre/board")
    card = f'.bd-card[data-number="{number}"]'
    manager.wait_for_selector(card)
    for status in ("confirmed", "cooking", "ready"):
        manager.click(f'{card} button[data-to="{status}"]')
        manager.wait_for_selector(f'{card}[data-status="{status}"]')
    shot(manager, "manager-board-ready")
    manager.goto(f"{base}/couriers/dispatch")
    row = manager.locator("#dp-orders tbody tr").first
    row.wait_for()
    order_id = int(row.get_attribute("data-order"))
    manager.keyboard.press("ArrowDown")
    top = manager.locator("#dp-candidates li").first
    top.locator(".who b").wait_for()
    assert top.locator(".who b").inner_text() == "Kirill Courier"
    shot(manager, "dispatch-selected")
    manager.keyboard.press("Enter")
    manager.wait_for_function(
        "id => document.querySelector(`#dp-orders tr[data-order='${id}'] .courier`)?.textContent === 'Kirill Courier'",
        arg=str(order_id),
    )
    shot(manager, "dispatch-assigned")

    # The courier picks it up and delivers it with a photo, paid in cash.
    mine = requests.get(f"{base}/api/courier/v1/orders/active", headers=phone, timeout=10)
    assert [o["id"] for o in mine.json()["items"]] == [order_id], mine.text
    total = mine.json()["items"][0]["total"]
    assert Decimal(total) == Decimal("650.00") + Decimal("99.00")  # the pizza and the zone's fee
    picked = requests.post(f"{base}/api/courier/v1/orders/{order_id}/pickup", headers=phone, timeout=10)
    assert picked.status_code == 200, picked.text
    photo = tiny_png((30, 120, 200))
    delivered = requests.post(
        f"{base}/api/courier/v1/orders/{order_id}/deliver",
        json={
            "proofs": [
                {
                    "kind": "photo",
                    "content_type": "image/png",
                    "data_base64": base64.b64encode(photo).decode(),
                }
            ],
            "cash_collected": total,
        },
        headers=phone,
        timeout=10,
    )
    assert delivered.status_code == 200, delivered.text
    assert delivered.json()["status"] == "delivered"

    # The manager opens the order and sees the proof photo.
    manager.goto(f"{base}/orders/{order_id}")
    proof = manager.locator(".order-section .proof img").first
    proof.wait_for()
    manager.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=proof.element_handle())
    assert number in manager.inner_text("body")
    shot(manager, "manager-sees-the-proof")

    for page in (admin, operator, manager):
        page.context.close()
    assert problems == []
    assert all(p.stat().st_size > 5_000 for p in shot.taken)
