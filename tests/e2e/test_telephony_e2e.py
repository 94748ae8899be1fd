"""A client's call rings operator 201's phone: that operator's workspace, in Chromium, opens the
caller's dossier with the line the client called within a second; operator 202's workspace, open
beside it, does not move. The fake Asterisk speaks AMI over TCP; the link is the ``AmiLink`` the web
process (or, with Redis, ``frontoffice telephony``) keeps, started by the test."""

from __future__ import annotations

import threading
import time

import pytest

from telephony.adapters.asterisk_ami import AmiLink, ami_config
from telephony.ports import TELEPHONY
from tests.conftest import LiveServer, _make_app, make_users
from tests.e2e.conftest import VIEWPORT, login
from tests.telephony_fixtures import FakeAsterisk, ami_call, wait_for


@pytest.fixture
def telephony_server(tmp_path, _sqlite_template):
    asterisk = FakeAsterisk()
    app = _make_app(
        _sqlite_template.fresh(tmp_path),
        tmp_path,
        telephony="asterisk",
        ami_port=asterisk.port,
        ami_username="frontoffice",
        ami_secret="s3cret",
    )
    users = make_users(app)
    kernel = app.extensions["frontoffice"]
    from frontoffice.auth import create_user
    from telephony import services

    with kernel.db.unit_of_work() as s:
        other = create_user(
            s,
            "op2",
            "pw-op2-long",
            "operator",
            "Other Operator",
            hash_method="pbkdf2:sha256:1000",
            strength_checked=False,
        )
        services.set_extension(s, users["operator"].id, "201")
        services.set_extension(s, other.id, "202")
        services.add_line(s, "+7 843 200-10-10", "Pizza Kazan")
        other_id = other.id
    link = AmiLink(ami_config(kernel.settings, reconnect_min_s=0.05), kernel.extensions.get(TELEPHONY).desk)
    thread = threading.Thread(target=link.run_forever, daemon=True)
    thread.start()
    server = LiveServer(app)
    yield server, asterisk, link, (users["operator"].id, other_id)
    link.stop()
    thread.join(3)
    server.stop()
    asterisk.close()
    kernel.db.dispose()


def test_a_ringing_call_opens_the_dossier_in_that_operators_browser_only(
    telephony_server, browser, artifacts
):
    server, asterisk, link, user_ids = telephony_server
    pages = {}
    for username, password in (("test-operator", "pw-operator"), ("op2", "pw-op2-long")):
        context = browser.new_context(viewport=VIEWPORT, locale="en-US")
        context.set_default_timeout(10_000)
        page = context.new_page()
        login(page, server.url, username, password)
        page.goto(f"{server.url}/callcentre")
        page.wait_for_function("() => document.activeElement && document.activeElement.id === 'phone'")
        pages[username] = page
    wait_for(link.connected.is_set, what="the AMI link")
    # both workspaces have joined their operator's room before the phone rings
    rooms = server.app.extensions["frontoffice"].socketio.server.manager.rooms
    wait_for(
        lambda: all(rooms.get("/callcentre", {}).get(f"user:{uid}") for uid in user_ids),
        what="both workspaces on the /callcentre socket",
    )
    call = ami_call("1700000100.1", "+79123456789", "78432001010", "201")
    rang_at = time.monotonic()
    asterisk.push(call["new"])
    asterisk.push(call["dial"])
    mine = pages["test-operator"]
    mine.wait_for_function("() => !document.getElementById('dossier').hidden", timeout=3_000)
    elapsed = time.monotonic() - rang_at
    assert elapsed < 1.0, f"the dossier opened {elapsed:.2f} s after the ring"
    assert mine.input_value("#phone") == "+79123456789"
    assert "Pizza Kazan" in mine.text_content("#call-line")
    mine.screenshot(path=str(artifacts / "ringing-operator.png"))
    theirs = pages["op2"]
    assert theirs.input_value("#phone") == ""
    assert theirs.is_hidden("#dossier") and theirs.is_hidden("#call-line")
    for page in pages.values():
        page.context.close()
