"""The rules of a notification (pure): which events need consent and which wait out quiet hours,
empty-safe rendering, template checks, quiet hours across midnight, what an order's move says."""

from __future__ import annotations

import datetime as dt

import pytest

from notifications import rules
from notifications.rules import NotificationEvent as E


def test_a_client_without_consent_gets_only_transactional_events():
    assert {e for e in E if rules.should_send(e, consented=False)} == {
        E.ORDER_TAKEN,
        E.COURIER_ON_THE_WAY,
        E.CANCELLED,
    }
    assert all(rules.should_send(e, consented=True) for e in E)


def test_a_missing_tracking_link_leaves_its_line_out_and_nothing_else():
    body = rules.default_template(E.ORDER_TAKEN, "en")
    values = {"number": "K-007", "promised_time": "19:30", "tracking_url": None}
    assert rules.render(body, values) == "Order K-007 is taken.\nExpected by 19:30."
    linked = rules.render(body, {**values, "tracking_url": "https://t.example/t/abc"})
    assert linked.endswith("Track it: https://t.example/t/abc")
    # A required placeholder left empty does not drop its line.
    assert rules.render("Late by {minutes_late} min", {}) == "Late by  min"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ("", "notification_body_empty"),
        ("x" * (rules.MAX_BODY + 1), "notification_body_long"),
        ("Order {number", "notification_body_braces"),
        ("Order {id}", "notification_body_unknown"),
    ],
)
def test_a_bad_template_is_refused_naming_the_body(body, code):
    [error] = rules.check_template(body)
    assert error["field"] == "body" and error["type"] == code


def test_every_default_template_is_valid_in_every_language():
    for event in E:
        for language in rules.LANGUAGES:
            assert rules.check_template(rules.default_template(event, language)) == []


def test_quiet_hours_across_midnight_hold_until_their_end_on_the_branch_clock():
    start, end = dt.time(22), dt.time(9)
    moscow_23 = dt.datetime(2026, 12, 5, 20, 0, tzinfo=dt.UTC)  # 23:00 in Moscow (UTC+3)
    assert rules.release_at(moscow_23, "Europe/Moscow", start, end, urgent=False) == dt.datetime(
        2026, 12, 6, 6, 0, tzinfo=dt.UTC
    )
    moscow_02 = dt.datetime(2026, 12, 5, 23, 0, tzinfo=dt.UTC)  # 02:00 the next day
    assert rules.release_at(moscow_02, "Europe/Moscow", start, end, urgent=False) == dt.datetime(
        2026, 12, 6, 6, 0, tzinfo=dt.UTC
    )
    assert rules.release_at(moscow_23, "Europe/Moscow", start, end, urgent=True) is None
    moscow_noon = dt.datetime(2026, 12, 5, 9, 0, tzinfo=dt.UTC)
    assert rules.release_at(moscow_noon, "Europe/Moscow", start, end, urgent=False) is None
    assert not rules.in_quiet_hours(dt.time(3), dt.time(0), dt.time(0))  # equal ends: no quiet hours


@pytest.mark.parametrize(
    ("move", "event"),
    [
        (("on_hold", "confirmed"), E.ORDER_TAKEN),
        (("new", "confirmed"), None),
        (("ready", "in_delivery"), E.COURIER_ON_THE_WAY),
        (("in_delivery", "delivered"), E.DELIVERED),
        (("cooking", "cancelled"), E.CANCELLED),
        (("on_hold", "rejected"), None),
        (("in_delivery", "failed"), None),
    ],
)
def test_what_an_order_move_tells_the_client(move, event):
    assert rules.event_of_status(*move) == event
