"""Browser fixtures for the e2e tests: one Debian Chromium per test session (Playwright), a fresh
page (own context: cookies, storage) per test, and a ``login`` helper.

Use them from any e2e module::

    from tests.e2e.conftest import login

    def test_something(live_server, page, artifacts):
        login(page, live_server.url, "test-operator", "pw-operator")

Tests asking for ``browser`` or ``page`` are skipped, with the reason, where Chromium is missing.

The pages' Content-Security-Policy refuses ``eval``: give ``page.wait_for_function`` a function
(``"() => document.title === 'x'"``); Playwright re-evaluates a bare expression with ``eval`` at
every poll, which the page refuses.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1366, "height": 768}
TIMEOUT_MS = 10_000


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test of this folder as an e2e test."""
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.e2e)


class _SharedChromium:
    """One Playwright + Chromium for the session, started on first use.

    Playwright's sync API allows one running instance per thread, so the shared one is closed
    before a test of a module that starts its own, and started again when next needed.
    """

    def __init__(self) -> None:
        self._playwright: Any = None
        self._browser: Any = None

    def get(self) -> Any:
        """The running browser, started if needed."""
        if self._browser is None:
            from playwright.sync_api import sync_playwright

            self._playwright = sync_playwright().start()
            self._browser = self._playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        return self._browser

    def close(self) -> None:
        """Close the browser and stop Playwright (no-op when not running)."""
        if self._browser is not None:
            try:
                self._browser.close()
            finally:
                self._playwright.stop()
                self._browser = self._playwright = None


class _BrowserHandle:
    """What the ``browser`` fixture gives: the shared Chromium, whichever instance is running."""

    def __getattr__(self, name: str) -> Any:
        return getattr(_SHARED.get(), name)


_SHARED = _SharedChromium()
_OWN_PLAYWRIGHT: dict[str, bool] = {}


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Before a test whose module runs a Playwright of its own, stop the shared one."""
    if "browser" in getattr(item, "fixturenames", ()):
        return
    path = str(item.path)
    if path not in _OWN_PLAYWRIGHT:
        try:
            _OWN_PLAYWRIGHT[path] = "sync_playwright" in Path(path).read_text()
        except OSError:
            _OWN_PLAYWRIGHT[path] = False
    if _OWN_PLAYWRIGHT[path]:
        _SHARED.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright, shared by the tests of the whole session."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Debian's Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    try:
        yield _BrowserHandle()
    finally:
        _SHARED.close()


@pytest.fixture
def page(browser) -> Iterator[Any]:
    """A new page in a context of its own (no cookies from other tests), English, 1366×768."""
    context = browser.new_context(viewport=VIEWPORT, locale="en-US")
    context.set_default_timeout(TIMEOUT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()


def login(page: Any, base_url: str, username: str, password: str) -> Any:
    """Log in through the login page; returns the response of the page the form leads to
    (the start page, or the login page again with its message)."""
    page.goto(f"{base_url.rstrip('/')}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    with page.expect_navigation() as navigation:
        page.click("form.login button[type=submit]")
    page.wait_for_load_state()
    return navigation.value
