"""Notifications against real local servers answering like SMS.ru and the Telegram Bot API: a
consented client hears every event, one who did not only the transactional ones; a provider
answering 500 then 200 delivers one message; balance and number errors; Telegram's 429 with
retry_after and 400 chat not found; quiet hours hold back the non-urgent; a replay of the outbox and
a second run of the late-order job write nothing twice."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from callcentre import services as cc
from frontoffice.db import utcnow
from notifications.models import MessageStatus, NotificationMessage
from tests.notification_fakes import FakeSmsRu, FakeTelegram, serving

pytestmark = pytest.mark.usefixtures("catalogue")

PHONE = "+79123456789"  # the default test order's caller
OTHER = "+79876543210"
#: Tests of what does not depend on the database run on SQLite only (the suite's time limit).
SQLITE_ONLY = pytest.mark.parametrize("backend", ["sqlite"])


@pytest.fixture
def sms():
    with serving(FakeSmsRu()) as fake:
        yield fake


@pytest.fixture
def telegram():
    with serving(FakeTelegram()) as fake:
        yield fake


def quiet_now(width_min: int = 60) -> tuple[str, str]:
    """Quiet hours around the present moment on the demo branches' clock (Europe/Moscow)."""
    now = dt.datetime.now(ZoneInfo("Europe/Moscow"))
    start, end = now - dt.timedelta(minutes=width_min), now + dt.timedelta(minutes=width_min)
    return start.strftime("%H:%M"), end.strftime("%H:%M")


@pytest.fixture
def quiet_hours() -> bool:
    """Asks the app fixture for quiet hours around the present moment."""
    return True


@pytest.fixture
def app(request, database_url, tmp_path, sms, telegram):
    from tests.conftest import _make_app

    start, end = quiet_now() if "quiet_hours" in request.fixturenames else ("00:00", "00:00")
    application = _make_app(
        database_url,
        tmp_path,
        notify_smsru_url=f"{sms.url}/sms/send",
        notify_smsru_api_id=sms.api_id,
        notify_telegram_url=telegram.url,
        notify_telegram_token=telegram.token,
        notify_quiet_start=start,
        notify_quiet_end=end,
        notify_language="en",
        notify_timeout_s=2.0,
        notify_max_attempts=3,
        relay_backoff_s=10,
    )
    yield application
    application.extensions["frontoffice"].db.dispose()


def notifications_of(app):
    return app.extensions["notifications"]


def client_with(kernel, consent: bool, phone: str = PHONE) -> None:
    with kernel.db.unit_of_work() as s:
        cc.create_client(s, phone, name="Ivan", marketing_consent=consent)


def messages(db) -> list[NotificationMessage]:
    with db.reading() as s:
        return list(s.scalars(select(NotificationMessage).order_by(NotificationMessage.id)))


def by_event(db) -> dict[str, NotificationMessage]:
    return {m.event: m for m in messages(db)}


def send_due(app, kernel, later_s: float = 0) -> int:
    """Run the sender as the relay's loop does, ``later_s`` seconds from now (retries come due)."""
    if later_s:
        with kernel.db.unit_of_work() as s:
            s.execute(
                update(NotificationMessage)
                .where(
                    NotificationMessage.status == MessageStatus.PENDING,
                    NotificationMessage.next_attempt_at <= utcnow() + dt.timedelta(seconds=later_s),
                )
                .values(next_attempt_at=utcnow() - dt.timedelta(seconds=1))
            )
    return notifications_of(app).sender.pump(wait=True)


def test_a_consented_client_hears_every_event_and_one_who_did_not_only_the_transactional(
    app, kernel, orders, sms
):
    client_with(kernel, consent=True)
    client_with(kernel, consent=False, phone=OTHER)
    order = orders.place()
    send_due(app, kernel)
    orders.move(order.id, "confirmed", "cooking", "ready", "in_delivery", "delivered")
    send_due(app, kernel)
    got = by_event(kernel.db)
    assert set(got) == {"order_taken", "courier_on_the_way", "delivered"}
    assert all(m.status == MessageStatus.SENT and m.channel == "sms" for m in got.values())
    assert all(m.provider_id and m.provider_id.startswith("000000-") for m in got.values())
    taken = got["order_taken"].body
    assert taken.startswith(f"Order {order.number} is taken.") and "Track" not in taken  # no link yet
    assert [f["to"] for f in sms.accepted] == ["79123456789"] * 3
    assert [f["msg"] for f in sms.accepted] == [
        got[e].body for e in ("order_taken", "courier_on_the_way", "delivered")
    ]

    other = orders.place(client_phone=OTHER)
    orders.move(other.id, "confirmed", "cooking", "ready", "in_delivery", "delivered")
    cancelled = orders.place(client_phone=OTHER)
    orders.move(cancelled.id, "cancelled")
    send_due(app, kernel)
    statuses = {
        (m.order_id, m.event): (m.status, m.skip_reason) for m in messages(kernel.db) if m.phone == OTHER
    }
    assert statuses == {
        (other.id, "order_taken"): ("sent", None),
        (other.id, "courier_on_the_way"): ("sent", None),
        (other.id, "delivered"): ("skipped", "no_consent"),
        (cancelled.id, "order_taken"): ("sent", None),
        (cancelled.id, "cancelled"): ("sent", None),
    }
    assert len(sms.accepted) == 3 + 4


def test_a_provider_answering_500_then_200_delivers_one_message_and_errors_are_told_apart(
    app, kernel, orders, sms, client, users
):
    sms.script = ["500"]
    client_with(kernel, consent=True)
    order = orders.place()
    send_due(app, kernel)
    [message] = messages(kernel.db)
    assert message.status == MessageStatus.PENDING and message.attempts == 1
    assert "HTTP 500" in message.last_error and message.next_attempt_at > utcnow() + dt.timedelta(seconds=5)
    assert send_due(app, kernel) == 0  # waits out its backoff
    send_due(app, kernel, later_s=30)
    [message] = messages(kernel.db)
    assert message.status == MessageStatus.SENT and message.attempts == 2 and message.last_error is None
    assert len(sms.got) == 2 and len(sms.accepted) == 1
    assert send_due(app, kernel, later_s=3600) == 0 and len(sms.got) == 2  # never sent again

    # An empty balance is worth another try, until the last one parks the message.
    sms.script = ["balance", "balance", "balance"]
    orders.move(order.id, "confirmed", "cooking", "ready", "in_delivery")
    for _ in range(3):
        send_due(app, kernel, later_s=3600)
    on_way = by_event(kernel.db)["courier_on_the_way"]
    assert on_way.status == MessageStatus.PARKED and on_way.attempts == 3
    assert "201" in on_way.last_error and "средств" in on_way.last_error
    # The account is topped up: an admin puts it back in line.
    resp = client.post(f"/api/v1/notifications/messages/{on_way.id}/retry", headers=users["admin"].headers)
    assert resp.status_code == 200 and resp.get_json()["status"] == "pending"
    send_due(app, kernel)
    assert by_event(kernel.db)["courier_on_the_way"].status == MessageStatus.SENT and len(sms.accepted) == 2

    # A number the gateway refuses fails at once, for good.
    sms.script = ["bad_number"]
    orders.move(order.id, "delivered")
    send_due(app, kernel)
    delivered = by_event(kernel.db)["delivered"]
    assert (
        delivered.status == MessageStatus.FAILED and delivered.attempts == 1 and "202" in delivered.last_error
    )
    assert send_due(app, kernel, later_s=3600) == 0


@SQLITE_ONLY
def test_telegram_waits_out_flood_control_and_a_missing_chat_fails(
    app, kernel, orders, client, users, telegram, sms
):
    client_with(kernel, consent=True)
    resp = client.put(
        "/api/v1/notifications/recipients",
        json={"phone": "8 912 345-67-89", "telegram_chat_id": 777000111, "language": "ru"},
        headers=users["operator"].headers,
    )
    assert resp.status_code == 200 and resp.get_json()["phone"] == PHONE
    telegram.script = ["429"]
    order = orders.place()
    send_due(app, kernel)
    [message] = messages(kernel.db)
    assert message.channel == "telegram" and message.recipient == "777000111" and message.language == "ru"
    assert message.body.startswith(f"Заказ {order.number} принят.")
    assert message.status == MessageStatus.PENDING and "retry after 7" in message.last_error
    assert message.next_attempt_at >= utcnow() + dt.timedelta(seconds=5)
    send_due(app, kernel, later_s=60)
    [message] = messages(kernel.db)
    assert message.status == MessageStatus.SENT and message.provider_id == "1"
    assert telegram.accepted == [{"chat_id": "777000111", "text": message.body}] and sms.got == []
    telegram.script = ["chat_not_found"]
    orders.move(order.id, "cancelled")
    send_due(app, kernel)
    cancelled = by_event(kernel.db)["cancelled"]
    assert cancelled.status == MessageStatus.FAILED and "chat not found" in cancelled.last_error


@SQLITE_ONLY
def test_quiet_hours_hold_the_non_urgent_message_until_they_end(quiet_hours, app, kernel, orders, sms):
    client_with(kernel, consent=True)
    order = orders.place()
    orders.move(order.id, "confirmed", "cooking", "ready", "in_delivery", "delivered")
    send_due(app, kernel)
    got = by_event(kernel.db)
    assert got["order_taken"].status == got["courier_on_the_way"].status == MessageStatus.SENT  # urgent
    delivered = got["delivered"]
    assert delivered.status == MessageStatus.PENDING and delivered.deferred and delivered.attempts == 0
    end = dt.datetime.now(ZoneInfo("Europe/Moscow")) + dt.timedelta(minutes=60)
    assert abs((delivered.next_attempt_at - end).total_seconds()) < 120
    # Come due by hand while still quiet: it is held again, no try spent, nothing sent.
    send_due(app, kernel, later_s=7200)
    delivered = by_event(kernel.db)["delivered"]
    assert delivered.status == MessageStatus.PENDING and delivered.attempts == 0 and len(sms.accepted) == 2


def test_a_replay_and_a_second_late_run_write_nothing_twice(app, kernel, orders, sms):
    client_with(kernel, consent=True)
    hours_ago = utcnow() - dt.timedelta(hours=3)
    order = orders.place(now=hours_ago)
    orders.move(order.id, "confirmed")
    ran = kernel.jobs.run_due(kernel.db, only={"notification-late-apologies"})
    assert ran == ["notification-late-apologies"]
    kernel.jobs.run_due(
        kernel.db, now=utcnow() + dt.timedelta(minutes=5), only={"notification-late-apologies"}
    )
    send_due(app, kernel)
    assert kernel.relay.replay() > 0
    send_due(app, kernel, later_s=3600)
    got = messages(kernel.db)
    assert sorted(m.event for m in got) == ["late", "order_taken"]
    late = by_event(kernel.db)["late"]
    assert late.status == MessageStatus.SENT and "min late" in late.body and "+78432000000" in late.body
    assert len(sms.accepted) == 2


@SQLITE_ONLY
def test_a_template_is_checked_edited_and_used(app, kernel, orders, client, users, sms):
    admin = users["admin"].headers
    url = "/api/v1/notifications/templates/order_taken/en"
    for body, why in (("", "empty"), ("Order {numbr}", "numbr"), ("Order {number", "brace")):
        resp = client.put(url, json={"body": body}, headers=admin)
        assert resp.status_code == 422 and resp.mimetype == "application/problem+json"
        [error] = resp.get_json()["errors"]
        assert error["field"] == "body" and why in error["message"].lower()
    assert (
        client.put(
            "/api/v1/notifications/templates/order_eaten/en", json={"body": "x"}, headers=admin
        ).status_code
        == 404
    )
    resp = client.put(
        url, json={"body": "Hi {client_name}, {number} is ours.\nTrack: {tracking_url}"}, headers=admin
    )
    assert resp.status_code == 200 and resp.get_json()["edited"] is True
    client_with(kernel, consent=False)
    order = orders.place(client_name="Ivan")
    send_due(app, kernel)
    assert sms.accepted[0]["msg"] == f"Hi Ivan, {order.number} is ours."
    listed = client.get("/api/v1/notifications/templates", headers=admin).get_json()
    assert {(t["event"], t["language"]) for t in listed["items"]} >= {("late", "ru"), ("delivered", "en")}
    reset = client.delete(url, headers=admin).get_json()
    assert reset["edited"] is False and reset["body"].startswith("Order {number} is taken.")
    log = client.get(f"/api/v1/notifications/messages?order_id={order.id}", headers=users["manager"].headers)
    assert [m["status"] for m in log.get_json()["items"]] == ["sent"]


@SQLITE_ONLY
def test_the_dossier_and_the_admin_page_show_the_messages(app, kernel, orders, client, users, auth, sms):
    client_with(kernel, consent=False)
    order = orders.place()
    orders.move(order.id, "confirmed", "cooking", "ready", "in_delivery", "delivered")
    send_due(app, kernel)
    dossier = client.get(f"/api/v1/callcentre/lookup?phone={PHONE}", headers=users["operator"].headers)
    section = dossier.get_json()["sections"]["notifications"]
    assert [(m["event"], m["status"]) for m in section] == [
        ("delivered", "skipped"),
        ("courier_on_the_way", "sent"),
        ("order_taken", "sent"),
    ]
    auth.login("admin")
    page = client.get("/admin/notifications")
    assert page.status_code == 200 and b"notification-messages" in page.data and b"no consent" in page.data
    editor = client.get("/admin/notifications/templates/late/ru")
    refused = client.post(
        "/admin/notifications/templates/late/ru",
        data={"csrf_token": auth.csrf(editor.data), "body": "{oops}"},
    )
    assert refused.status_code == 422 and b'data-field="body"' in refused.data and b"oops" in refused.data
