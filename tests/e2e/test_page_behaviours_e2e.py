"""What pages used to do with inline event handlers, done by frontoffice/static/js/page.js under the
Content-Security-Policy: a form with ``data-confirm`` asks first, a ``data-autosubmit`` choice
sends its form."""

from __future__ import annotations

import pytest

from tests.conftest import load_demo_catalogue, make_users
from tests.e2e.conftest import login


@pytest.fixture
def admin_page(live_server, page):
    """An admin logged in on the demo catalogue, the page failing on any CSP violation."""
    load_demo_catalogue(live_server.app)
    make_users(live_server.app)
    violations = []
    page.on("console", lambda m: "Content Security Policy" in m.text and violations.append(m.text))
    login(page, live_server.url, "test-admin", "pw-admin")
    yield page
    assert violations == []


def test_choosing_a_branch_shows_its_stop_list(live_server, admin_page):
    page = admin_page
    page.goto(f"{live_server.url}/admin/nomenclature/catalogue")
    with page.expect_navigation():
        page.select_option("select[name=branch_id]", "2")
    assert page.url.endswith("/admin/nomenclature/catalogue?branch_id=2")


def test_deleting_a_condition_asks_first_and_keeps_it_when_refused(live_server, admin_page):
    page = admin_page
    page.goto(f"{live_server.url}/admin/nomenclature/conditions")
    rows = page.locator("form[data-confirm] button[type=submit]")
    before = rows.count()
    asked = []

    def answer(dialog, accept):
        asked.append(dialog.message)
        if accept:
            dialog.accept()
        else:
            dialog.dismiss()

    page.once("dialog", lambda d: answer(d, False))
    rows.first.click()
    page.wait_for_timeout(300)
    assert rows.count() == before
    page.once("dialog", lambda d: answer(d, True))
    with page.expect_navigation():
        rows.first.click()
    assert rows.count() == before - 1
    assert asked == ["Delete this condition?", "Delete this condition?"]
