"""The transactional outbox and its relay: events journaled in the change's transaction, delivered
once to projectors however often replayed, failures retried with backoff and parked, parked rows
listed and retried by admins, periodic jobs run once."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import delete, event, func, select, text

from frontoffice.db import publish, utcnow
from frontoffice.outbox import OutboxEvent, OutboxProcessed, OutboxState, ScheduledJob
from orders.events import OrderPlaced, OrderStatusChanged
from tests.backoffice_helpers import bonus_rule, move, place

pytestmark = pytest.mark.usefixtures("catalogue")

#: Every projection the order events keep.
PROJECTIONS = (
    "client_stats",
    "client_order_facts",
    "bonus_ledger",
    "monitor_loyalty_facts",
    "monitor_client_totals",
)


def outbox_rows(db) -> list[OutboxEvent]:
    with db.reading() as s:
        return list(s.scalars(select(OutboxEvent).order_by(OutboxEvent.id)))


def projections(db) -> dict[str, list[tuple]]:
    with db.reading() as s:
        return {t: sorted(tuple(r) for r in s.execute(text(f"SELECT * FROM {t}"))) for t in PROJECTIONS}


def placed_event(order_id: int = 1) -> OrderPlaced:
    return OrderPlaced(
        order_id=order_id,
        branch_id=1,
        number=f"T-{order_id}",
        status="confirmed",
        kind="delivery",
        total=129900,
        client_phone="+79123456789",
        client_name="Test",
        payment_kind="cash",
        created_at=utcnow(),
        promised_at=None,
        lat=55.79,
        lon=49.12,
        actor_id=None,
    )


@pytest.fixture
def bonus_rules(kernel):
    bonus_rule(kernel, "order_taken", amount=1000)
    bonus_rule(kernel, "order_delivered", method="percent", percent_bp=100)


def test_an_order_and_its_events_commit_together_with_one_insert(kernel, db, users, monkeypatch):
    inserts: list[str] = []

    def count(conn, cursor, statement, params, context, executemany):
        if statement.lstrip().upper().startswith("INSERT INTO OUTBOX "):
            inserts.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        with db.unit_of_work() as s:
            publish(s, placed_event(900))
            publish(s, placed_event(901))
            # Inside the transaction, nothing is journaled yet: the journal is written at the commit.
            assert s.scalar(select(func.count()).select_from(OutboxEvent)) == 0
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert len(inserts) == 1  # both events of the commit in one statement
    rows = outbox_rows(db)
    assert [(r.topic, r.payload["order_id"], r.state) for r in rows] == [
        ("orders.events.OrderPlaced", 900, OutboxState.DONE),
        ("orders.events.OrderPlaced", 901, OutboxState.DONE),
    ]


def test_a_rolled_back_change_leaves_no_event(kernel, db, users):
    heard: list = []
    kernel.bus.subscribe(OrderPlaced, heard.append)
    with pytest.raises(RuntimeError), db.unit_of_work() as s:
        publish(s, placed_event(902))
        raise RuntimeError("the change fails")
    assert outbox_rows(db) == [] and heard == []


def test_a_placed_order_is_journaled_and_projected(kernel, db, users):
    order = place(kernel, actor_id=users["operator"].id)
    rows = outbox_rows(db)
    assert [(r.topic, r.payload["order_id"], r.state) for r in rows] == [
        ("orders.events.OrderPlaced", order.id, OutboxState.DONE)
    ]
    with db.reading() as s:
        consumers = set(
            s.scalars(select(OutboxProcessed.consumer).where(OutboxProcessed.event_id == rows[0].id))
        )
    assert "callcentre.wiring.register_clients_and_zones.count_placed" in consumers
    assert "backoffice.wiring.register.pay_placed" in consumers


@pytest.mark.usefixtures("bonus_rules")
def test_replaying_the_whole_outbox_twice_changes_no_projection(kernel, db, users):
    op = users["operator"].id
    for _ in range(3):
        order = place(kernel, actor_id=op)
        move(kernel, order.id, "confirmed", "cooking", "ready", "in_delivery", "delivered")
    cancelled = place(kernel, actor_id=op)
    move(kernel, cancelled.id, "cancelled", reason="The client changed plans.")
    before = projections(db)
    assert len(before["bonus_ledger"]) == 7 and len(before["monitor_loyalty_facts"]) == 3
    relay = kernel.relay
    total = len(outbox_rows(db))
    assert relay.replay() == total
    assert relay.replay() == total
    assert projections(db) == before
    # Even with the relay's memory of who applied what gone, the projectors themselves count once.
    with db.unit_of_work() as s:
        s.execute(delete(OutboxProcessed))
    relay.replay()
    relay.replay()
    assert projections(db) == before


class Flaky:
    """A projector that fails its first ``failures`` calls."""

    def __init__(self, failures: int):
        self.failures = failures
        self.calls = 0
        self.applied: list[int] = []

    def __call__(self, session, ev: OrderPlaced) -> None:
        self.calls += 1
        if self.calls <= self.failures:
            raise RuntimeError(f"failure {self.calls}")
        self.applied.append(ev.order_id)


def test_a_failing_delivery_is_retried_with_backoff_then_parked_and_an_admin_retry_delivers_once(
    kernel, db, users, client
):
    flaky = Flaky(failures=3)
    kernel.bus.project(OrderPlaced, flaky)
    relay = kernel.relay
    relay.policy = type(relay.policy)(max_attempts=3, backoff_s=10, backoff_max_s=100)
    other = place(kernel)  # its other projectors ran: the row failed as a whole, nothing of it kept
    [row] = outbox_rows(db)
    assert row.state == OutboxState.PENDING and row.attempts == 1 and "failure 1" in row.last_error
    assert 9 < (row.next_attempt_at - utcnow()).total_seconds() <= 10
    with db.reading() as s:
        assert s.scalar(select(func.count()).select_from(OutboxProcessed)) == 0
        assert s.scalar(text("SELECT orders_count FROM client_stats")) is None  # not counted while failing

    relay.deliver_batch(now=utcnow() + dt.timedelta(seconds=11))
    [row] = outbox_rows(db)
    assert row.attempts == 2 and 19 < (row.next_attempt_at - utcnow()).total_seconds() <= 20  # doubled
    assert relay.deliver_batch(now=utcnow()) == 0  # not due yet
    relay.deliver_batch(now=utcnow() + dt.timedelta(seconds=30))
    [row] = outbox_rows(db)
    assert row.state == OutboxState.PARKED and row.attempts == 3 and flaky.applied == []
    assert relay.deliver_batch(now=utcnow() + dt.timedelta(days=1)) == 0  # parked rows wait for an admin

    listed = client.get("/api/v1/outbox/parked", headers=users["admin"].headers)
    assert listed.status_code == 200
    [item] = listed.get_json()["items"]
    assert item["id"] == row.id and item["attempts"] == 3 and item["payload"]["order_id"] == other.id
    assert client.get("/api/v1/outbox/parked", headers=users["manager"].headers).status_code == 403
    assert (
        client.post(f"/api/v1/outbox/parked/{row.id}/retry", headers=users["manager"].headers).status_code
        == 403
    )

    retried = client.post(f"/api/v1/outbox/parked/{row.id}/retry", headers=users["admin"].headers)
    assert retried.status_code == 200 and retried.get_json() == {"id": row.id, "state": "pending"}
    assert flaky.applied == [other.id]  # delivered (inline) at once, once
    [row] = outbox_rows(db)
    assert row.state == OutboxState.DONE
    again = client.post(f"/api/v1/outbox/parked/{row.id}/retry", headers=users["admin"].headers)
    assert again.status_code == 404 and again.mimetype == "application/problem+json"
    relay.replay()
    assert flaky.applied == [other.id]
    with db.reading() as s:
        assert s.scalar(text("SELECT orders_count FROM client_stats")) == 1


def test_one_bad_row_does_not_hold_up_the_others(kernel, db, users):
    kernel.bus.project(
        OrderPlaced, lambda s, ev: (_ for _ in ()).throw(ValueError("bad")) if ev.order_id == 700 else None
    )
    with db.unit_of_work() as s:
        publish(s, placed_event(700))
        publish(s, placed_event(701))
    states = {r.payload["order_id"]: r.state for r in outbox_rows(db)}
    assert states == {700: OutboxState.PENDING, 701: OutboxState.DONE}


def test_the_admin_page_lists_parked_events_and_retries_one(kernel, db, users, client, auth):
    kernel.bus.project(OrderPlaced, Flaky(failures=1))
    kernel.relay.policy = type(kernel.relay.policy)(max_attempts=1)
    place(kernel)
    [row] = outbox_rows(db)
    assert row.state == OutboxState.PARKED
    auth.login("admin")
    page = client.get("/admin/outbox")
    assert page.status_code == 200 and f'data-event="{row.id}"'.encode() in page.data
    done = client.post(f"/admin/outbox/{row.id}/retry", data={"csrf_token": auth.csrf(page.data)})
    assert done.status_code == 302
    assert outbox_rows(db)[0].state == OutboxState.DONE
    assert b"data-event=" not in client.get("/admin/outbox").data


def test_the_status_counts_rows_by_state(kernel, db, users):
    place(kernel)
    status = kernel.relay.status()
    assert (status.pending, status.done, status.parked) == (0, 1, 0)


def test_a_periodic_job_runs_once_per_occurrence_whichever_process_asks(kernel, db):
    runs: list[int] = []
    kernel.jobs.every("test-job", 60.0, lambda: runs.append(1))
    assert "test-job" in kernel.relay.run_jobs()
    assert "test-job" not in kernel.relay.run_jobs()  # not due again for a minute
    assert runs == [1]
    with db.reading() as s:
        row = s.get(ScheduledJob, "test-job")
    assert row.runs == 1 and (row.next_run_at - utcnow()).total_seconds() > 50
    later = utcnow() + dt.timedelta(seconds=61)
    job = next(j for j in kernel.jobs.all() if j.name == "test-job")
    assert kernel.jobs.claim(db, job, later)  # the first process to ask a minute later wins
    assert not kernel.jobs.claim(db, job, later)  # a second one, asking at the same time, does not


def test_the_idempotency_purge_is_a_periodic_job(kernel, db, users):
    from frontoffice.models import IdempotencyRecord

    with db.unit_of_work() as s:
        s.add(
            IdempotencyRecord(
                user_id=users["admin"].id,
                key="old",
                fingerprint="f",
                created_at=utcnow() - dt.timedelta(days=3),
            )
        )
        s.add(IdempotencyRecord(user_id=users["admin"].id, key="new", fingerprint="f"))
    assert "idempotency-purge" in kernel.relay.run_jobs()
    with db.reading() as s:
        assert list(s.scalars(select(IdempotencyRecord.key))) == ["new"]


def test_positions_are_live_only_and_never_journaled(kernel, db):
    from couriers.events import CourierMoved

    heard: list = []
    kernel.bus.subscribe(CourierMoved, heard.append)
    with db.unit_of_work() as s:
        publish(s, CourierMoved(courier_id=1, lat=55.0, lon=49.0, at=utcnow()))
    assert len(heard) == 1 and outbox_rows(db) == []


def test_the_thread_relay_delivers_soon_after_the_commit(app, kernel, db, users):
    import threading

    delivered = threading.Event()
    kernel.bus.subscribe(OrderStatusChanged, lambda ev: ev.to_status == "cooking" and delivered.set())
    order = place(kernel)
    kernel.relay.mode = "thread"
    try:
        move(kernel, order.id, "confirmed", "cooking")
        assert delivered.wait(5)
    finally:
        kernel.relay.stop()
    assert [r.state for r in outbox_rows(db)] == [OutboxState.DONE] * 3


def test_a_nudge_hears_the_commit_at_once_and_the_relay_never_calls_it(kernel, db):
    nudged: list = []
    handled: list = []
    kernel.bus.nudge(OrderPlaced, nudged.append)
    kernel.bus.subscribe(OrderPlaced, handled.append)
    kernel.relay.mode = "off"  # web processes beside a worker: only the journal here
    with db.unit_of_work() as s:
        publish(s, placed_event(41))
    assert [e.order_id for e in nudged] == [41] and handled == []  # before any relay ran
    kernel.relay.drain()  # the worker's delivery
    assert [e.order_id for e in handled] == [41] and len(nudged) == 1
    kernel.relay.replay()  # nor a replay
    assert len(nudged) == 1
    with pytest.raises(RuntimeError), db.unit_of_work() as s:
        publish(s, placed_event(42))
        raise RuntimeError("the change fails: rolled back")
    assert len(nudged) == 1  # nothing rolled back is heard
