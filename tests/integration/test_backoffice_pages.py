"""Back-office pages through a browser session: forms save, refusals read as messages, roles are kept."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from backoffice import services
from backoffice.models import AntifraudRuleVersion, BlacklistEntry, BonusRule, Ticket
from tests.backoffice_helpers import add_rule, ago, csrf_of, login, place

pytestmark = pytest.mark.usefixtures("catalogue")


@pytest.fixture
def manager(client, users):
    """A test client logged in as the manager."""
    assert login(client, "test-manager", "pw-manager").status_code == 302
    return client


def form(client, url: str, **data):
    """Post a form the way the page does (with the page's CSRF token)."""
    token = csrf_of(
        client.get(url.split("#")[0] if not url.endswith("/delete") else "/callcentre/antifraud").data
    )
    return client.post(url, data={"csrf_token": token, **data})


def test_a_manager_creates_a_rule_in_the_page_and_an_edit_adds_a_version(manager, db):
    page = manager.get("/callcentre/antifraud/rules/new?kind=velocity")
    assert page.status_code == 200 and b'name="p_minutes"' in page.data
    token = csrf_of(page.data)
    created = manager.post(
        "/callcentre/antifraud/rules/new?kind=velocity",
        data={
            "csrf_token": token,
            "name": "Fast caller",
            "score": "60",
            "action": "hold",
            "active": "1",
            "p_by": "phone",
            "p_count": "3",
            "p_minutes": "30",
        },
    )
    assert created.status_code == 302
    rule_url = created.headers["Location"]
    edit = manager.get(rule_url)
    assert b"Fast caller" in edit.data and b"v1" in edit.data
    saved = manager.post(
        rule_url,
        data={
            "csrf_token": csrf_of(edit.data),
            "expected_version": "1",
            "name": "Fast caller",
            "score": "70",
            "action": "hold",
            "p_by": "phone",
            "p_count": "2",
            "p_minutes": "30",
            "note": "too many fakes",
        },
        follow_redirects=True,
    )
    assert b"Saved as version 2; version 1 is kept." in saved.data
    with db.reading() as s:
        versions = s.scalars(select(AntifraudRuleVersion).order_by(AntifraudRuleVersion.version)).all()
    assert [(v.version, v.params["count"], v.note) for v in versions] == [
        (1, 3, ""),
        (2, 2, "too many fakes"),
    ]


def test_a_bad_rule_form_is_shown_again_with_the_reason(manager):
    token = csrf_of(manager.get("/callcentre/antifraud/rules/new?kind=velocity").data)
    resp = manager.post(
        "/callcentre/antifraud/rules/new?kind=velocity",
        data={
            "csrf_token": token,
            "name": "x",
            "score": "10",
            "action": "flag",
            "p_count": "0",
            "p_by": "phone",
        },
    )
    assert resp.status_code == 422
    assert b"params.count: must be at least 1" in resp.data and b'value="x"' in resp.data


def test_a_rule_is_switched_off_and_the_blacklist_edited_from_the_rules_page(manager, db, kernel):
    rule_id = add_rule(kernel, "blacklist", "reject", lists=["phone"])
    off = form(manager, f"/callcentre/antifraud/rules/{rule_id}/active", active="0")
    assert off.status_code == 302
    added = form(
        manager, "/callcentre/antifraud/blacklist", kind="phone", value="8 912 345 67 89", reason="fraud"
    )
    assert added.status_code == 302
    page = manager.get("/callcentre/antifraud")
    assert b"Switch on" in page.data and b"+7 912 345-67-89" in page.data
    duplicate = form(manager, "/callcentre/antifraud/blacklist", kind="phone", value="+79123456789")
    assert b"already" in manager.get(duplicate.headers["Location"]).data
    with db.reading() as s:
        entry_id = s.scalar(select(BlacklistEntry.id))
    assert form(manager, f"/callcentre/antifraud/blacklist/{entry_id}/delete").status_code == 302
    with db.reading() as s:
        assert s.scalar(select(BlacklistEntry.id)) is None
        assert services.get_rule(s, rule_id).rule.active is False


def test_the_rule_page_runs_a_backtest(manager, kernel):
    rule_id = add_rule(kernel, "velocity", "flag", by="phone", count=1, minutes=120)
    place(kernel, now=ago(days=1, minutes=10))
    place(kernel, now=ago(days=1))
    page = manager.get(f"/callcentre/antifraud/rules/{rule_id}?days=7")
    assert page.status_code == 200 and b'id="backtest-result"' in page.data
    assert b"Would have fired on</span><strong>1</strong>" in page.data


def test_a_manager_confirms_and_rejects_held_orders_in_the_page(manager, kernel, db):
    add_rule(kernel, "change_to_card", "hold")
    first = place(kernel, comment="change to card")
    second = place(kernel, comment="change to card")
    queue = manager.get("/callcentre/held")
    assert first.number.encode() in queue.data and second.number.encode() in queue.data
    token = csrf_of(queue.data)
    done = manager.post(
        f"/callcentre/held/{first.id}/release", data={"csrf_token": token}, follow_redirects=True
    )
    assert f"Order {first.number} is confirmed and goes on.".encode() in done.data
    no_reason = manager.post(
        f"/callcentre/held/{second.id}/reject", data={"csrf_token": token}, follow_redirects=True
    )
    assert b"Say why the order is rejected." in no_reason.data
    rejected = manager.post(
        f"/callcentre/held/{second.id}/reject",
        data={"csrf_token": token, "reason": "fake"},
        follow_redirects=True,
    )
    assert b"No order is on hold." in rejected.data


def test_an_operator_opens_a_ticket_in_the_page_and_the_back_office_closes_it(client, users, db):
    login(client, "test-operator", "pw-operator")
    page = client.get("/callcentre/tickets?phone=89123456789")
    assert b'value="89123456789"' in page.data
    opened = client.post(
        "/callcentre/tickets",
        data={
            "csrf_token": csrf_of(page.data),
            "kind": "complaint",
            "client_phone": "89123456789",
            "subject": "Cold pizza",
            "body": "",
        },
    )
    assert opened.status_code == 302
    ticket_url = opened.headers["Location"]
    refused = client.post(
        ticket_url,
        data={"csrf_token": csrf_of(client.get(ticket_url).data), "action": "in_progress"},
        follow_redirects=True,
    )
    # Operators open tickets and comment; the back office works them.
    assert b"Only the back office and managers work on tickets" in refused.data
    client.post("/logout", data={"csrf_token": csrf_of(client.get("/").data)})
    login(client, "test-backoffice", "pw-backoffice")
    token = csrf_of(client.get(ticket_url).data)
    client.post(ticket_url, data={"csrf_token": token, "action": "in_progress"})
    client.post(ticket_url, data={"csrf_token": token, "action": "comment", "body": "Calling the kitchen"})
    missing = client.post(ticket_url, data={"csrf_token": token, "action": "resolved"}, follow_redirects=True)
    assert b"Say how the ticket is resolved" in missing.data
    client.post(ticket_url, data={"csrf_token": token, "action": "resolved", "note": "Refunded"})
    detail = client.get(ticket_url)
    assert b"Calling the kitchen" in detail.data and b"Refunded" in detail.data
    with db.reading() as s:
        ticket = s.scalar(select(Ticket))
    assert ticket.status == "resolved" and ticket.assignee_id == users["backoffice"].id


def test_a_manager_saves_a_bonus_rule_in_the_page_and_sees_the_report(manager, db):
    page = manager.get("/callcentre/bonuses")
    assert b'id="rules"' in page.data and b'id="report"' in page.data
    token = csrf_of(page.data)
    saved = manager.post(
        "/callcentre/bonuses/rules/upsell",
        data={
            "csrf_token": token,
            "method": "percent",
            "amount": "0",
            "percent": "5",
            "skus": "dr-cola05 ds-chees",
            "active": "1",
        },
        follow_redirects=True,
    )
    assert "Rule “Upsell” saved.".encode() in saved.data
    bad = manager.post(
        "/callcentre/bonuses/rules/order_taken",
        data={"csrf_token": token, "method": "fixed", "amount": "ten"},
        follow_redirects=True,
    )
    assert b"not an amount of money" in bad.data
    with db.reading() as s:
        rule = s.scalar(select(BonusRule).where(BonusRule.operation == "upsell"))
    assert rule.percent_bp == 500 and rule.params == {"skus": ["DR-COLA05", "DS-CHEES"]}
    assert manager.get("/callcentre/bonuses?from=2026-13-01").status_code == 200


def test_pages_keep_to_their_roles(client, users):
    login(client, "test-operator", "pw-operator")
    assert client.get("/callcentre/antifraud").status_code == 403
    assert client.get("/callcentre/held").status_code == 403
    assert client.get("/callcentre/tickets").status_code == 200
    bonuses = client.get("/callcentre/bonuses")
    assert bonuses.status_code == 200 and b'id="rules"' not in bonuses.data
    client.post("/logout", data={"csrf_token": csrf_of(client.get("/").data)})
    assert client.get("/callcentre/tickets").status_code == 302  # to the login page
