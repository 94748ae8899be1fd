"""The branch pages (issue 16, item 1): an admin opens and changes branches in the browser — the
place picked on the map lands in the coordinates, the hours are typed per weekday — and a refused
form tells each reason next to its field, in English and Russian, writing nothing."""

from __future__ import annotations

import html
import json
import re

import pytest
from sqlalchemy import func, select

from orders.models import Branch
from tests.conftest import load_demo_catalogue, make_users
from tests.helpers import AuthActions, OrderActions

WEEK = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def field_errors(page: bytes) -> dict[str, str]:
    """The reasons a page shows next to its fields, by field."""
    found = re.findall(
        rb'<span class="form-problem" role="alert" data-field="([^"]*)">(.*?)</span>', page, re.S
    )
    return {f.decode(): html.unescape(m.decode()).strip() for f, m in found}


def page_config(page: bytes) -> dict:
    return json.loads(re.search(rb'id="page-config">(.*?)</script>', page, re.S)[1])


@pytest.fixture
def admin(sqlite_app):
    """A logged-in admin's browser on the demo menu and branches: (client, auth, database)."""
    load_demo_catalogue(sqlite_app)
    make_users(sqlite_app)
    client = sqlite_app.test_client()
    auth = AuthActions(client)
    auth.login("admin")
    return client, auth, sqlite_app.extensions["frontoffice"].db


def branch_form(auth, client, path: str = "/admin/branches/new", **fields) -> dict:
    """A filled branch form: Kazan, 10:00 to 02:00 the next day on every weekday, and ``fields``."""
    form = {
        "csrf_token": auth.csrf(client.get(path).data),
        "code": "KZ3",
        "name": "Kazan — Kremlin",
        "address": "Kazan, Kremlyovskaya St, 2",
        "lat": "55,7990",
        "lon": "49.1060",
        "timezone": "Europe/Moscow",
        "phone": "",
        "active": "1",
    }
    for day in WEEK:
        form |= {
            f"{day}_slots": "2",
            f"{day}_0_opens": "10:00",
            f"{day}_0_closes": "02:00",
            f"{day}_0_next": "1",
        }
    return form | fields


def branch_count(db) -> int:
    with db.reading() as s:
        return s.scalar(select(func.count()).select_from(Branch))


def test_the_admin_finds_the_branches_with_their_hours_in_the_top_bar(admin):
    client, _auth, _db = admin
    page = client.get("/admin/branches")
    assert page.status_code == 200 and b'href="/admin/branches"' in client.get("/").data
    text = page.data.decode()
    assert "KZ1" in text and "Mon–Sun 10:00–23:00" in text and "Mon–Sun 10:00–02:00" in text


def test_an_admin_opens_a_branch_from_the_form(admin):
    client, auth, db = admin
    resp = client.post("/admin/branches/new", data=branch_form(auth, client))
    assert resp.status_code == 302
    with db.reading() as s:
        branch = s.scalar(select(Branch).where(Branch.code == "KZ3"))
        assert (branch.lat, branch.lon, branch.active) == (55.799, 49.106, True)
        assert branch.opening_hours == {d: [["10:00", "02:00"]] for d in WEEK}
    page = client.get(resp.headers["Location"])
    assert "The branch is open." in page.data.decode()
    config = page_config(page.data)
    assert config["branch_id"] == branch.id and config["map_urls"] == ["/api/v1/zones/geojson"]


def test_a_refused_branch_form_tells_each_reason_next_to_its_field_and_writes_nothing(admin):
    client, auth, db = admin
    before = branch_count(db)
    form = branch_form(auth, client, lat="north", lon="200", timezone="Mars/Base")
    del form["tue_0_next"]
    resp = client.post("/admin/branches/new", data=form)
    assert resp.status_code == 422
    errors = field_errors(resp.data)
    assert errors["lat"] == "Type a number, e.g. 55.7887."
    assert errors["lon"] == "The longitude is a number from -180 to 180."
    assert errors["timezone"] == "Mars/Base is not a time zone: choose one from the list."
    assert errors["opening_hours.tue"].startswith("It closes at 02:00, before it opens at 10:00")
    assert branch_count(db) == before
    assert 'value="north"' in resp.data.decode()  # what was typed stays in the form


def test_the_reasons_are_told_in_russian_to_a_russian_reader(admin):
    client, auth, _db = admin
    auth.choose_language("ru", back_to="/admin/branches/new")
    form = branch_form(auth, client, code="KZ 3", lat="0", lon="0")
    del form["mon_0_next"]
    errors = field_errors(client.post("/admin/branches/new", data=form).data)
    assert errors["code"] == "Код — от 1 до 10 латинских букв, цифр, «-» или «_» (KZ1)."
    assert errors["lat"] == "0, 0 — это океан: отметьте филиал на карте."
    assert errors["opening_hours.mon"].startswith("Закрывается в 02:00, раньше, чем открывается в 10:00")


def test_a_branch_with_open_orders_is_not_switched_off_from_its_page(admin, sqlite_app):
    client, auth, db = admin
    order = OrderActions(sqlite_app.extensions["frontoffice"]).place()
    form = branch_form(auth, client, "/admin/branches/1", code="KZ1", active="")
    del form["active"]
    resp = client.post("/admin/branches/1", data=form)
    assert resp.status_code == 409
    assert order.number in field_errors(resp.data)["active"]
    with db.reading() as s:
        assert s.get(Branch, 1).active is True and s.get(Branch, 1).name == "Kazan — Baumana"


def test_a_branch_page_shows_what_it_serves(admin):
    client, _auth, _db = admin
    page = client.get("/admin/branches/1").data.decode()
    assert "Delivery zones" in page and "No delivery zones" in page
    assert "Stop-list" in page and 'href="/admin/nomenclature/catalogue?branch_id=1"' in page
    assert "Couriers" in page


def test_around_the_clock_stores_no_schedule(admin):
    client, auth, db = admin
    form = branch_form(auth, client, around_the_clock="1")
    assert client.post("/admin/branches/new", data=form).status_code == 302
    with db.reading() as s:
        assert s.scalar(select(Branch.opening_hours).where(Branch.code == "KZ3")) == {}
