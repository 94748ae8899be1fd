"""What a call does with the record it finds under its Idempotency-Key (frontoffice.idempotency)."""

from __future__ import annotations

import datetime as dt

import pytest

from frontoffice.idempotency import MAX_KEY_LENGTH, Found, Verdict, fingerprint, judge, key_problem

NOW = dt.datetime(2026, 12, 5, 12, 0, tzinfo=dt.UTC)
TAKEOVER = dt.timedelta(seconds=30)


def found(*, answered: bool, started_ago_s: float, fingerprint: str = "same") -> Found:
    return Found(
        fingerprint=fingerprint, answered=answered, started_at=NOW - dt.timedelta(seconds=started_ago_s)
    )


@pytest.mark.parametrize("started_ago_s", [0, 29, 3600])
def test_an_answered_key_is_replayed_however_old(started_ago_s):
    assert judge(found(answered=True, started_ago_s=started_ago_s), "same", NOW, TAKEOVER) is Verdict.REPLAY


def test_a_key_in_progress_within_the_takeover_timeout_is_in_flight():
    assert judge(found(answered=False, started_ago_s=29.9), "same", NOW, TAKEOVER) is Verdict.IN_FLIGHT


@pytest.mark.parametrize("started_ago_s", [30, 31, 86400])
def test_a_key_in_progress_past_the_takeover_timeout_is_taken_over(started_ago_s):
    assert (
        judge(found(answered=False, started_ago_s=started_ago_s), "same", NOW, TAKEOVER) is Verdict.TAKE_OVER
    )


@pytest.mark.parametrize("answered", [True, False])
def test_another_request_under_the_same_key_is_a_mismatch_whatever_the_state(answered):
    record = found(answered=answered, started_ago_s=3600, fingerprint="first")
    assert judge(record, "second", NOW, TAKEOVER) is Verdict.MISMATCH


def test_the_fingerprint_tells_method_path_and_body_apart():
    base = fingerprint("POST", "/api/v1/orders", b'{"a": 1}')
    assert base == fingerprint("POST", "/api/v1/orders", b'{"a": 1}')
    assert base != fingerprint("PUT", "/api/v1/orders", b'{"a": 1}')
    assert base != fingerprint("POST", "/api/v1/order", b's{"a": 1}')
    assert base != fingerprint("POST", "/api/v1/orders", b'{"a": 2}')


@pytest.mark.parametrize("key", ["", "x" * (MAX_KEY_LENGTH + 1)])
def test_an_empty_or_too_long_key_is_refused(key):
    assert "1 to 200 characters" in key_problem(key)


def test_a_uuid_is_a_good_key():
    assert key_problem("5f1c2e0a-7c1e-4f4e-9b1a-0e6d2f3c4b5a") is None
