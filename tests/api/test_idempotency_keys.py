"""The life of an ``Idempotency-Key`` (issue 14, item 3), on SQLite and PostgreSQL: a key whose
call died is taken over once its attempt is older than the takeover timeout, a key whose call may
still be running answers 409 with Retry-After, an attempt overtaken by a retry keeps nothing, and
old records are purged."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.pool import NullPool

from frontoffice import idempotency
from frontoffice.db import utcnow
from frontoffice.models import IdempotencyRecord
from orders.models import Order
from tests.conftest import _make_app, make_users, order_body

TAKEOVER_S = 2.0
ORDERS = "/api/v1/orders"


@pytest.fixture
def app(database_url, tmp_path):
    """The app with this module's takeover timeout."""
    application = _make_app(database_url, tmp_path, idempotency_takeover_s=TAKEOVER_S)
    yield application
    application.extensions["frontoffice"].db.dispose()


@pytest.fixture
def operator(app, catalogue):
    return make_users(app)["operator"]


def post(client, operator, key: str, raw: bytes):
    return client.post(
        ORDERS,
        data=raw,
        content_type="application/json",
        headers={**operator.headers, "Idempotency-Key": key},
    )


def orders_with(db, comment: str) -> int:
    with db.reading() as s:
        return s.execute(select(func.count()).select_from(Order).where(Order.comment == comment)).scalar_one()


def claimed_by_a_call_that_died(db, operator, key: str, raw: bytes, started_ago_s: float) -> None:
    """The record a call leaves when its process dies after claiming the key: an attempt without
    an answer (its writes, uncommitted, died with it)."""
    started = utcnow() - dt.timedelta(seconds=started_ago_s)
    with db.unit_of_work() as s:
        s.add(
            IdempotencyRecord(
                user_id=operator.id,
                key=key,
                fingerprint=idempotency.fingerprint("POST", ORDERS, raw),
                created_at=started,
                locked_at=started,
            )
        )


def test_a_retry_takes_over_a_key_whose_call_died_once_the_timeout_has_passed(client, db, operator):
    raw = json.dumps(order_body(comment="died")).encode()
    claimed_by_a_call_that_died(db, operator, "k-died", raw, started_ago_s=TAKEOVER_S + 1)
    resp = post(client, operator, "k-died", raw)
    assert resp.status_code == 201, resp.json
    assert "Idempotent-Replayed" not in resp.headers
    assert orders_with(db, "died") == 1
    again = post(client, operator, "k-died", raw)
    assert again.headers["Idempotent-Replayed"] == "true" and again.json == resp.json
    with db.reading() as s:
        record = s.execute(select(IdempotencyRecord).where(IdempotencyRecord.key == "k-died")).scalar_one()
    assert (record.attempt, record.status_code) == (2, 201)


def test_a_retry_while_the_first_call_may_still_run_answers_409_with_retry_after(client, db, operator):
    raw = json.dumps(order_body(comment="running")).encode()
    claimed_by_a_call_that_died(db, operator, "k-running", raw, started_ago_s=0)
    resp = post(client, operator, "k-running", raw)
    assert resp.status_code == 409 and "still being processed" in resp.json["detail"]
    assert resp.headers["Retry-After"] == "1"
    assert orders_with(db, "running") == 0


def test_a_different_request_under_a_claimed_key_is_refused_even_after_the_timeout(client, db, operator):
    raw = json.dumps(order_body(comment="first")).encode()
    claimed_by_a_call_that_died(db, operator, "k-other", raw, started_ago_s=TAKEOVER_S + 1)
    resp = post(client, operator, "k-other", json.dumps(order_body(comment="second")).encode())
    assert resp.status_code == 422 and "different request" in resp.json["detail"]


def test_records_older_than_the_retention_are_purged_by_the_periodic_job(client, db, kernel, operator):
    raw = json.dumps(order_body(comment="old")).encode()
    claimed_by_a_call_that_died(db, operator, "k-yesterday", raw, started_ago_s=25 * 3600)
    claimed_by_a_call_that_died(db, operator, "k-this-morning", raw, started_ago_s=3 * 3600)
    assert post(client, operator, "k-now", json.dumps(order_body(comment="now")).encode()).status_code == 201
    with db.reading() as s:
        assert len(s.execute(select(IdempotencyRecord.key)).all()) == 3  # a call purges nothing itself
    assert "idempotency-purge" in kernel.relay.run_jobs()
    with db.reading() as s:
        keys = set(s.execute(select(IdempotencyRecord.key)).scalars())
    assert keys == {"k-this-morning", "k-now"}


def test_an_attempt_overtaken_by_a_retry_keeps_nothing_and_the_key_orders_once(
    app, db, operator, backend, database_url
):
    """The first call is held up (another transaction locks the order counters) past the takeover
    timeout; a retry takes the key over and waits behind it. When the lock goes, only one of them
    may commit its order: the one that still holds the key."""
    if backend != "postgresql":
        pytest.skip("SQLite runs one writer at a time: a retry cannot claim while a call writes")
    raw = json.dumps(order_body(comment="overtaken")).encode()
    answers: dict[str, tuple[int, dict]] = {}

    def call(name: str) -> None:
        resp = post(app.test_client(), operator, "k-overtaken", raw)
        answers[name] = (resp.status_code, resp.json)

    blocker = create_engine(database_url, poolclass=NullPool)
    try:
        with blocker.connect() as conn:
            conn.execute(text("LOCK TABLE order_counters IN EXCLUSIVE MODE"))
            first = threading.Thread(target=call, args=("first",))
            first.start()
            time.sleep(TAKEOVER_S + 0.5)
            retry = threading.Thread(target=call, args=("retry",))
            retry.start()
            time.sleep(0.5)
            conn.rollback()
        first.join(30)
        retry.join(30)
    finally:
        blocker.dispose()
    assert orders_with(db, "overtaken") == 1
    assert answers["retry"][0] == 201, answers
    assert answers["first"][0] in {201, 409}, answers
    if answers["first"][0] == 201:
        assert answers["first"][1] == answers["retry"][1]
