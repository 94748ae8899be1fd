"""Typing in the workspace's address field offers the offline directory's houses (Chromium)."""

from __future__ import annotations

from callcentre import services
from callcentre.address_sources import read_osm
from callcentre.demo import DEMO_ADDRESSES
from tests.conftest import make_users
from tests.e2e.conftest import login


def test_typing_an_address_offers_the_directorys_house_and_enter_takes_it(live_server, page, artifacts):
    app = live_server.app
    with app.extensions["frontoffice"].db.unit_of_work() as s:
        services.import_directory(s, read_osm(DEMO_ADDRESSES))
    operator = make_users(app)["operator"]
    login(page, live_server.url, operator.username, operator.password)
    page.goto(f"{live_server.url}/callcentre")
    page.fill("#phone", "+7 903 111 22 33")
    page.keyboard.press("Enter")
    page.wait_for_selector("#client-badge.new")
    page.click("#addr-text")
    page.keyboard.type("ул Кремлевская д.21", delay=20)
    offered = page.wait_for_selector("#geocode-candidates li.hl")
    assert offered.inner_text() == "Кремлёвская улица, 21"
    page.screenshot(path=str(artifacts / "01-offered.png"))
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.getElementById('geocode-candidates').hidden")
    assert page.input_value("#addr-text") == "Кремлёвская улица, 21"
    assert page.input_value("#addr-house") == "21"
    assert "55.79630" in page.inner_text("#addr-located")


def test_the_directory_page_uploads_a_file_with_progress_and_names_a_bad_one(live_server, page, tmp_path):
    manager = make_users(live_server.app)["manager"]
    login(page, live_server.url, manager.username, manager.password)
    page.goto(f"{live_server.url}/callcentre/addresses")
    bad = tmp_path / "city.osm"
    bad.write_text("street,house,lat,lon\n", encoding="utf-8")
    page.set_input_files("#dir-file", str(bad))
    page.click("#dir-import button[type=submit]")
    page.wait_for_function("() => document.getElementById('dir-file-error').textContent.length > 0")
    assert "OpenStreetMap" in page.inner_text("#dir-file-error")
    good = tmp_path / "city.csv"
    good.write_text("street,house,lat,lon,city\nул. Баумана,5,55.787,49.122,Казань\n", encoding="utf-8")
    page.set_input_files("#dir-file", str(good))
    page.click("#dir-import button[type=submit]")
    page.wait_for_function("() => document.getElementById('dir-result').textContent.startsWith('Imported')")
    assert page.inner_text("#dir-stats") == "1 streets, 1 houses."
    assert page.is_hidden("#dir-progress")
    page.fill("#dir-search", "Baumana 5")
    page.wait_for_selector("#dir-found li")
    assert page.inner_text("#dir-found li").startswith("ул. Баумана, 5")
