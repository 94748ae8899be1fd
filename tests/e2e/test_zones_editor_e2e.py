"""The zones editor in Chromium (issue 16, item 3): an admin draws a polygon by clicking its corners
on the map, fills the terms, saves, and sees the zone listed and delivering; a self-crossing outline
is refused with the message next to the map; overlapping zones are named with the winner."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from callcentre.models import DeliveryZone
from tests.conftest import load_demo_catalogue, make_users
from tests.e2e.conftest import login


@pytest.fixture
def editor(live_server, page):
    """An admin on the zones editor of the demo branches (no zone yet), failing on a script error."""
    load_demo_catalogue(live_server.app)
    make_users(live_server.app)
    problems: list[str] = []
    page.on(
        "console",
        lambda m: m.type == "error" and "status of 422" not in m.text and problems.append(m.text),
    )
    page.on("pageerror", lambda e: problems.append(str(e)))
    login(page, live_server.url, "test-admin", "pw-admin")
    page.goto(f"{live_server.url}/callcentre/zones")
    page.wait_for_selector("body[data-zones-ready]")
    yield page
    assert problems == []


def click_corners(page, corners: list[tuple[float, float]]) -> None:
    """Draw a polygon with the drawing tool: click each corner (fractions of the map), then the first."""
    page.click("#zone-draw")
    page.locator("#zones-map").scroll_into_view_if_needed()
    box = page.locator("#zones-map").bounding_box()
    points = [(box["x"] + box["width"] * fx, box["y"] + box["height"] * fy) for fx, fy in corners]
    for x, y in points:
        page.mouse.click(x, y)
        page.wait_for_timeout(60)
    page.mouse.click(*points[0])  # closing on the first corner finishes the polygon


def stored(app) -> list[DeliveryZone]:
    with app.extensions["frontoffice"].db.reading() as s:
        return list(s.scalars(select(DeliveryZone)))


def test_an_admin_draws_a_zone_on_the_map_fills_its_terms_and_sees_it_listed(live_server, editor, artifacts):
    page = editor
    assert "No zones yet" in page.inner_text("#zone-list")
    click_corners(page, [(0.3, 0.3), (0.7, 0.3), (0.7, 0.7), (0.3, 0.7)])
    page.fill("input[name=name]", "Centre")
    page.select_option("select[name=branch_id]", "1")
    page.fill("input[name=delivery_fee]", "129.00")
    page.fill("input[name=free_delivery_from]", "1500")
    page.fill("input[name=min_order]", "600")
    page.fill("input[name=delivery_minutes]", "40")
    page.fill("input[name=priority]", "3")
    page.uncheck("input[name=branch_hours]")
    page.fill("input[name=mon_0_opens]", "10:00")
    page.fill("input[name=mon_0_closes]", "14:00")
    page.fill("input[name=mon_1_opens]", "15:00")
    page.fill("input[name=mon_1_closes]", "02:00")
    page.check("input[name=mon_1_next]")
    page.screenshot(path=str(artifacts / "zones-drawn-en.png"), full_page=True)
    page.click("#zone-save")
    page.wait_for_selector("#zone-list tbody tr[data-id]")
    row = page.inner_text("#zone-list tbody tr[data-id]")
    assert "Centre" in row and "129.00" in row and "KZ1" in row
    assert "saved" in page.inner_text("#zone-status")
    (zone,) = stored(live_server.app)
    assert zone.delivery_fee == 12900 and zone.free_delivery_from == 150000 and zone.min_order == 60000
    assert zone.delivery_minutes == 40 and zone.priority == 3 and zone.branch_id == 1
    assert zone.opening_hours == {"mon": [["10:00", "14:00"], ["15:00", "02:00"]]}
    ring = zone.geometry["coordinates"][0]
    assert len(ring) == 5 and all(55.0 < lat < 56.5 and 48.5 < lon < 49.8 for lon, lat in ring)
    page.screenshot(path=str(artifacts / "zones-saved-en.png"), full_page=True)

    page.reload()  # a fresh page: the zone comes back from the list into the form, and is changed
    page.wait_for_selector("body[data-zones-ready]")
    page.click("#zone-list tbody tr[data-id]")
    assert page.input_value("input[name=mon_1_opens]") == "15:00" and page.is_checked(
        "input[name=mon_1_next]"
    )
    assert page.input_value("input[name=name]") == "Centre" and "Centre" in page.inner_text(
        "#zone-form-title"
    )
    page.fill("input[name=delivery_fee]", "99.00")
    page.click("#zone-save")
    page.locator("#zone-list tbody tr[data-id]").filter(has_text="99.00").wait_for()
    (changed,) = stored(live_server.app)
    assert changed.id == zone.id and changed.delivery_fee == 9900 and changed.geometry == zone.geometry


def test_a_self_crossing_outline_and_bad_hours_are_refused_next_to_their_fields(
    live_server, editor, artifacts
):
    page = editor
    click_corners(page, [(0.3, 0.3), (0.7, 0.7), (0.7, 0.3), (0.3, 0.7)])  # a bow tie
    page.fill("input[name=name]", "Bow tie")
    page.select_option("select[name=branch_id]", "1")
    page.uncheck("input[name=branch_hours]")
    page.fill("input[name=tue_0_opens]", "22:00")
    page.fill("input[name=tue_0_closes]", "10:00")
    page.click("#zone-save")
    geometry = page.locator('[data-error-for="geometry"]')
    geometry.filter(has_text="crosses itself").wait_for()
    assert "before it opens" in page.inner_text('[data-error-for="opening_hours.tue"]')
    page.screenshot(path=str(artifacts / "zones-refused-en.png"), full_page=True)
    assert stored(live_server.app) == []


def test_overlapping_zones_are_named_with_the_one_that_delivers(live_server, editor):
    page = editor
    for name, corners, priority in (
        ("Big", [(0.2, 0.2), (0.8, 0.2), (0.8, 0.8), (0.2, 0.8)], "0"),
        ("Core", [(0.4, 0.4), (0.6, 0.4), (0.6, 0.6), (0.4, 0.6)], "5"),
    ):
        click_corners(page, corners)
        page.fill("input[name=name]", name)
        page.select_option("select[name=branch_id]", "1")
        page.fill("input[name=priority]", priority)
        page.click("#zone-save")
        page.locator("#zone-status").filter(has_text=name).wait_for()
    page.locator("#zone-overlaps").filter(has_text="Core delivers there").wait_for()
    assert "higher priority" in page.inner_text("#zone-overlaps")
    assert len(stored(live_server.app)) == 2
