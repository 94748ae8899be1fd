"""The AMI event stream told as calls, and how a call that ended is logged (no app, no database)."""

from __future__ import annotations

import datetime as dt

from telephony.calls import (
    AmiCallTracker,
    CallAnswered,
    CallEnded,
    CallRinging,
    CallStarted,
    is_withheld,
    outcome,
    peer_of,
)
from tests.telephony_fixtures import ami_call

AT = dt.datetime(2026, 12, 5, 18, 0, tzinfo=dt.UTC)


def tracker() -> AmiCallTracker:
    return AmiCallTracker(lambda text: text in {"201", "202"})


def test_an_inbound_call_starts_rings_the_extension_is_answered_and_ends_once():
    t, call = tracker(), ami_call("1.1", "+79123456789", "78432001010", "201")
    facts = [f for key in ("new", "dial", "bridge", "hangup_leg", "hangup") for f in t.feed(call[key], AT)]
    assert facts == [
        CallStarted("1.1", "in", "+79123456789", "78432001010", AT),
        CallRinging("1.1", "201", AT),
        CallAnswered("1.1", "201", AT),
        CallEnded("1.1", AT),
    ]
    assert t.open_keys() == set()


def test_a_call_started_on_an_operators_phone_is_outgoing():
    t = tracker()
    facts = t.feed(
        {
            "Event": "Newchannel",
            "Channel": "PJSIP/202-0001",
            "Uniqueid": "2.1",
            "Linkedid": "2.1",
            "CallerIDNum": "202",
            "Exten": "79123456789",
        },
        AT,
    )
    assert facts == [CallStarted("2.1", "out", "79123456789", "", AT, extension="202")]
    assert t.feed({"Event": "BridgeEnter", "Uniqueid": "2.2", "Linkedid": "2.1"}, AT) == [
        CallAnswered("2.1", "202", AT)
    ]


def test_a_queue_leg_is_not_an_operator_and_unknown_events_change_nothing():
    t, call = tracker(), ami_call("3.1", "+79123456789", "78432001010", "600")
    t.feed(call["new"], AT)
    assert t.feed(call["dial"], AT) == []
    assert t.feed({"Event": "VarSet", "Uniqueid": "3.1"}, AT) == []


def test_after_a_break_resync_ends_vanished_calls_and_starts_new_ones():
    t = tracker()
    gone = ami_call("4.1", "+79120000001", "78432001010", "201")
    t.feed(gone["new"], AT)
    t.feed(gone["dial"], AT)
    channels = [
        {
            "Channel": "PJSIP/trunk-5",
            "Uniqueid": "5.1",
            "Linkedid": "5.1",
            "CallerIDNum": "+79120000002",
            "Exten": "78432001010",
            "BridgeId": "b",
        },
        {
            "Channel": "PJSIP/202-5",
            "Uniqueid": "5.2",
            "Linkedid": "5.1",
            "CallerIDNum": "202",
            "Exten": "202",
            "BridgeId": "b",
        },
    ]
    facts = t.resync(channels, AT)
    assert facts == [
        CallEnded("4.1", AT, observed=False),
        CallStarted("5.1", "in", "+79120000002", "78432001010", AT),
        CallRinging("5.1", "202", AT),
        CallAnswered("5.1", "202", AT),
    ]
    assert t.resync(channels, AT) == []  # nothing new the second time


def test_withheld_numbers_channel_names_and_outcomes():
    assert (
        is_withheld("anonymous") and is_withheld("<unknown>") and is_withheld("") and not is_withheld("+7912")
    )
    assert peer_of("PJSIP/101-0000002a") == "101" and peer_of("SIP/trunk-1") == "trunk" and peer_of("") == ""
    assert (outcome(True, True), outcome(False, True), outcome(False, False)) == (
        "answered",
        "missed",
        "abandoned",
    )
