"""Tickets and the bonus ledger against the database: SLA, history, moves; one payment per operation."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import func, select

from backoffice import services
from backoffice.events import TicketResolved
from backoffice.models import BonusEntry, Ticket
from backoffice.services import TicketFilter
from backoffice.wiring import sla_overrides
from frontoffice.db import utcnow
from frontoffice.errors import Conflict, InvalidInput
from orders.events import OrderPlaced, OrderStatusChanged
from orders.services import LineRequest
from tests.backoffice_helpers import add_rule, ago, bonus_rule, move, place

pytestmark = pytest.mark.usefixtures("catalogue")


def ledger(db, user_id: int | None = None) -> list[tuple[str, int, int]]:
    with db.reading() as s:
        stmt = select(BonusEntry.operation, BonusEntry.subject_id, BonusEntry.amount).order_by(BonusEntry.id)
        if user_id is not None:
            stmt = stmt.where(BonusEntry.user_id == user_id)
        return [tuple(r) for r in s.execute(stmt)]


def open_ticket(kernel, **kw) -> Ticket:
    base = dict(kind="complaint", subject="Cold pizza", client_phone="+79123456789")
    base.update(kw)
    with kernel.db.unit_of_work() as s:
        return services.open_ticket(s, **base)


# --- tickets --------------------------------------------------------------------------------


def test_a_ticket_from_an_order_takes_the_client_phone_and_the_kind_sla(kernel, users):
    order = place(kernel)
    t0 = utcnow()
    ticket = open_ticket(
        kernel, kind="refund", client_phone="", order_id=order.id, actor_id=users["operator"].id, now=t0
    )
    assert ticket.client_phone == "+79123456789" and ticket.order_id == order.id
    assert ticket.status == "open" and ticket.due_at == t0 + dt.timedelta(hours=24)
    assert [e.kind for e in ticket.events] == ["created"]


def test_a_ticket_needs_a_known_kind_a_subject_and_a_client_or_an_order(kernel):
    with pytest.raises(InvalidInput) as err:
        open_ticket(kernel, kind="gossip", subject="", client_phone="", order_id=None)
    assert {e["field"] for e in err.value.errors} == {"kind", "subject", "client_phone"}
    with pytest.raises(InvalidInput) as err:
        open_ticket(kernel, order_id=999)
    assert err.value.errors[0]["field"] == "order_id"


def test_the_back_office_takes_resolves_and_the_history_keeps_every_step(kernel, db, users):
    bo = users["backoffice"].id
    ticket = open_ticket(kernel, actor_id=users["operator"].id)
    with db.unit_of_work() as s:
        services.move_ticket(s, ticket.id, "in_progress", actor_id=bo)
        services.add_comment(s, ticket.id, "Called the kitchen.", actor_id=bo)
    with pytest.raises(InvalidInput, match="Say how"), db.unit_of_work() as s:
        services.move_ticket(s, ticket.id, "resolved", actor_id=bo)
    with db.unit_of_work() as s:
        done = services.move_ticket(s, ticket.id, "resolved", note="Refunded the pizza.", actor_id=bo)
        assert done.assignee_id == bo and done.resolution == "Refunded the pizza." and done.closed_at
    with db.reading() as s:
        history = services.get_ticket(s, ticket.id).events
        assert [(e.kind, e.to_status) for e in history] == [
            ("created", "open"),
            ("status", "in_progress"),
            ("comment", None),
            ("status", "resolved"),
        ]


def test_illegal_moves_and_stale_versions_answer_conflict(kernel, db, users):
    ticket = open_ticket(kernel)
    with pytest.raises(Conflict, match="allowed"), db.unit_of_work() as s:
        services.move_ticket(s, ticket.id, "resolved", note="x", actor_id=users["backoffice"].id)
    with db.unit_of_work() as s:
        services.add_comment(s, ticket.id, "first", actor_id=users["operator"].id)
    with pytest.raises(Conflict, match="changed by someone else"), db.unit_of_work() as s:
        services.move_ticket(s, ticket.id, "in_progress", actor_id=users["backoffice"].id, expected_version=1)


def test_only_back_office_staff_can_be_assignees(kernel, db, users):
    ticket = open_ticket(kernel)
    with pytest.raises(InvalidInput), db.unit_of_work() as s:
        services.assign_ticket(s, ticket.id, users["operator"].id, actor_id=users["manager"].id)
    with db.unit_of_work() as s:
        assigned = services.assign_ticket(s, ticket.id, users["backoffice"].id, actor_id=users["manager"].id)
        assert assigned.assignee_id == users["backoffice"].id
        assert assigned.events[-1].body == "Assigned to Test Backoffice."


def test_overdue_tickets_are_found_and_counted_and_closed_ones_never_are(kernel, db, users):
    late = open_ticket(kernel, kind="complaint", now=ago(hours=3))
    fresh = open_ticket(kernel, kind="complaint")
    closed = open_ticket(kernel, kind="question", now=ago(hours=10))
    with db.unit_of_work() as s:
        services.move_ticket(s, closed.id, "rejected", note="spam", actor_id=users["backoffice"].id)
    with db.reading() as s:
        overdue, total = services.list_tickets(s, TicketFilter(overdue=True))
        counts = services.queue_counts(s)
        queue, _ = services.list_tickets(s, TicketFilter(status=["open", "in_progress"]))
        dossier = services.tickets_of_client(s, "+79123456789")
    assert [t.id for t in overdue] == [late.id] and total == 1
    assert counts == {"open": 2, "in_progress": 0, "overdue": 1}
    assert [t.id for t in queue] == [late.id, fresh.id]  # earliest deadline first
    assert [t.id for t in dossier] == [late.id, fresh.id, closed.id]


def test_sla_overrides_come_from_the_config_and_are_checked():
    assert sla_overrides({"TICKET_SLA_MINUTES": {"complaint": 30}}) == {"complaint": 30}
    assert sla_overrides({}) == {}
    with pytest.raises(ValueError):
        sla_overrides({"TICKET_SLA_MINUTES": {"gossip": 30}})
    with pytest.raises(ValueError):
        sla_overrides({"TICKET_SLA_MINUTES": {"refund": 0}})


# --- bonuses --------------------------------------------------------------------------------


@pytest.fixture
def rules(kernel):
    """The demo-like bonus rules."""
    bonus_rule(kernel, "order_taken", amount=1000)
    bonus_rule(kernel, "order_delivered", "percent", percent_bp=100)
    bonus_rule(kernel, "preorder_taken", amount=1500, min_lead_minutes=120)
    bonus_rule(kernel, "upsell", "percent", percent_bp=500, skus=["DR-COLA05"])
    bonus_rule(kernel, "ticket_resolved", amount=2000)
    bonus_rule(kernel, "penalty_cancelled", amount=5000, reason_codes=["operator_error"])


def heard(kernel, event_type) -> list:
    events: list = []
    kernel.bus.subscribe(event_type, events.append)
    return events


@pytest.mark.usefixtures("rules")
def test_taking_an_order_pays_once_however_often_the_event_is_replayed(kernel, db, users):
    placed = heard(kernel, OrderPlaced)
    op = users["operator"].id
    order = place(
        kernel,
        actor_id=op,
        promised_at=utcnow() + dt.timedelta(hours=3),
        lines=[LineRequest(quantity=1, sku="PZ-MARG"), LineRequest(quantity=2, sku="DR-COLA05")],
    )
    for _ in range(3):
        kernel.bus.dispatch(list(placed))
    assert sorted(ledger(db, op)) == [
        ("order_taken", order.id, 1000),
        ("preorder_taken", order.id, 1500),
        ("upsell", order.id, 1290),  # 5 % of 2 × 129.00
    ]


@pytest.mark.usefixtures("rules")
def test_replays_racing_in_threads_still_pay_once(kernel, db, users):
    placed = heard(kernel, OrderPlaced)
    order = place(kernel, actor_id=users["operator"].id)
    barrier = threading.Barrier(4)

    def replay():
        barrier.wait()
        with kernel.db.unit_of_work() as s:
            services.on_order_placed(s, placed[0])

    threads = [threading.Thread(target=replay) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert ledger(db) == [("order_taken", order.id, 1000)]


@pytest.mark.usefixtures("rules")
def test_delivery_pays_a_percentage_and_a_cancel_for_operator_error_docks(kernel, db, users):
    op = users["operator"].id
    changes = heard(kernel, OrderStatusChanged)
    delivered = place(kernel, actor_id=op)
    move(kernel, delivered.id, "confirmed", "cooking", "ready", "in_delivery", "delivered")
    cancelled = place(kernel, actor_id=op)
    move(kernel, cancelled.id, "cancelled", reason="operator_error: typed the wrong street")
    other = place(kernel, actor_id=op)
    move(kernel, other.id, "cancelled", reason="The client changed plans.")
    kernel.bus.dispatch(list(changes))  # every status event heard twice
    entries = ledger(db, op)
    assert ("order_delivered", delivered.id, 1298) in entries  # 1 % of 1298.00
    assert ("penalty_cancelled", cancelled.id, -5000) in entries
    assert not any(op_ == "penalty_cancelled" and sid == other.id for op_, sid, _ in entries)
    assert len(entries) == 5  # three taken, one delivered, one penalty


@pytest.mark.usefixtures("rules")
def test_a_held_order_pays_for_taking_only_once_a_manager_lets_it_go(kernel, db, users):
    op = users["operator"].id
    add_rule(kernel, "change_to_card", "hold")
    order = place(kernel, actor_id=op, comment="change to card")
    assert order.status == "on_hold" and ledger(db, op) == []
    with db.unit_of_work() as s:
        services.release_held(s, order.id, actor_id=users["manager"].id)
    assert ledger(db, op) == [("order_taken", order.id, 1000)]


@pytest.mark.usefixtures("rules")
def test_resolving_a_ticket_pays_the_resolver_once(kernel, db, users):
    bo = users["backoffice"].id
    resolved = heard(kernel, TicketResolved)
    ticket = open_ticket(kernel)
    with db.unit_of_work() as s:
        services.move_ticket(s, ticket.id, "in_progress", actor_id=bo)
    with db.unit_of_work() as s:
        services.move_ticket(s, ticket.id, "resolved", note="done", actor_id=bo)
    kernel.bus.dispatch(list(resolved))
    assert ledger(db, bo) == [("ticket_resolved", ticket.id, 2000)]


@pytest.mark.usefixtures("rules")
def test_managers_and_api_clients_without_a_person_earn_nothing(kernel, db, users):
    place(kernel, actor_id=users["manager"].id)
    place(kernel, actor_id=None)
    assert ledger(db) == []


@pytest.mark.usefixtures("rules")
def test_an_inactive_rule_pays_nothing(kernel, db, users):
    bonus_rule(kernel, "order_taken", amount=1000)
    with db.unit_of_work() as s:
        services.save_bonus_rule(s, "order_taken", method="fixed", amount=1000, active=False)
    place(kernel, actor_id=users["operator"].id)
    assert ledger(db) == []


@pytest.mark.usefixtures("rules")
def test_totals_and_the_report_per_person_and_period(kernel, db, users):
    op = users["operator"].id
    place(kernel, actor_id=op)
    place(kernel, actor_id=op, now=ago(days=40))
    tz = kernel.settings.timezone
    with db.reading() as s:
        totals = services.totals_for(s, op, tz)
        today = utcnow().date()
        rows = services.report(s, today - dt.timedelta(days=60), today + dt.timedelta(days=1), tz)
        header, lines = services.report_table(rows, today - dt.timedelta(days=60), today)
    assert totals == {"today": 1000, "month": 1000}  # 40 days ago is always an earlier month
    assert len(rows) == 1 and rows[0].counts == {"order_taken": 2} and rows[0].total == 2000
    assert header[:7] == [
        "from",
        "to",
        "user_id",
        "username",
        "full_name",
        "order_taken_count",
        "order_taken_amount",
    ]
    (line,) = lines
    assert line[3:7] == ["test-operator", "Test Operator", 2, "20.00"] and line[-1] == "20.00"


def test_a_report_period_must_make_sense(db):
    today = utcnow().date()
    with db.reading() as s, pytest.raises(InvalidInput):
        services.report(s, today, today - dt.timedelta(days=1), "Europe/Moscow")
    with db.reading() as s, pytest.raises(InvalidInput):
        services.report(s, today - dt.timedelta(days=400), today, "Europe/Moscow")


def test_bonus_rules_are_validated(db):
    with db.unit_of_work() as s, pytest.raises(InvalidInput) as err:
        services.save_bonus_rule(s, "ticket_resolved", method="percent", percent_bp=100)
    assert err.value.errors[0]["field"] == "method"
    with db.reading() as s:
        assert s.scalar(select(func.count()).select_from(BonusEntry)) == 0
