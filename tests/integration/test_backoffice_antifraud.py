"""Antifraud against the database: the placement policy, verdicts, versions, the held queue, backtests."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import func, select

from backoffice import services
from backoffice.antifraud import ORDER, PastOrder, Subject
from backoffice.models import AntifraudRuleVersion, AntifraudVerdict, OrderAddressKey
from backoffice.ports import RULEBOOK
from backoffice.services import FraudRejected
from backoffice.services.screening import gather_facts
from frontoffice.db import utcnow
from frontoffice.errors import Conflict, InvalidInput
from orders.models import Order, OrderCounter, OrderEvent
from tests.backoffice_helpers import add_rule, ago, blacklist, move, place

pytestmark = pytest.mark.usefixtures("catalogue")


def count(db, model) -> int:
    with db.reading() as s:
        return s.scalar(select(func.count()).select_from(model))


def test_a_reject_rule_refuses_the_order_and_writes_nothing(kernel, db):
    add_rule(kernel, "blacklist", "reject", 100, lists=["phone"])
    blacklist(kernel, "phone", "8 (912) 345-67-89", "chargebacks")
    with pytest.raises(FraudRejected) as err:
        place(kernel)
    assert "chargebacks" in err.value.detail
    assert err.value.extra["antifraud"]["hits"][0]["version"] == 1
    assert count(db, Order) == 0 and count(db, OrderCounter) == 0 and count(db, OrderEvent) == 0


def test_a_hold_rule_parks_the_order_with_the_reason_and_keeps_the_verdict(kernel, db):
    rule_id = add_rule(kernel, "large_cash_new_client", "hold", 70, min_total="1000.00")
    order = place(kernel, payment_kind="cash")
    assert order.status == "on_hold"
    with db.reading() as s:
        created = s.scalar(select(OrderEvent).where(OrderEvent.order_id == order.id))
        verdict = s.scalar(select(AntifraudVerdict).where(AntifraudVerdict.order_id == order.id))
        version_id = s.scalar(select(AntifraudRuleVersion.id).where(AntifraudRuleVersion.rule_id == rule_id))
    assert created.to_status == "on_hold" and created.reason.startswith("Antifraud hold: Cash order of")
    assert "antifraud" not in created.payload  # the verdict lives in its own table
    assert verdict.action == "hold" and verdict.score == 70 and verdict.version_ids == [version_id]


def test_note_and_flag_leave_the_order_new_with_notes(kernel, db):
    add_rule(kernel, "change_to_card", "flag", 30)
    add_rule(kernel, "many_names", "note", 5, max_names=1)
    assert place(kernel, client_name="Petr").status == "new"
    order = place(kernel, comment="Please send the change to my card")
    assert order.status == "new"
    with db.reading() as s:
        payload = s.scalar(select(OrderEvent.payload).where(OrderEvent.order_id == order.id))
        verdict = s.scalar(select(AntifraudVerdict).where(AntifraudVerdict.order_id == order.id))
    assert [n.split(" (")[0] for n in payload["notes"]] == ["Antifraud flag", "Antifraud note"]
    assert verdict.action == "flag" and verdict.score == 35
    assert [h["action"] for h in verdict.hits] == ["flag", "note"]


def test_a_clean_order_leaves_no_verdict_but_its_address_is_indexed(kernel, db):
    add_rule(kernel, "velocity", "hold", by="phone", count=5, minutes=30)
    order = place(kernel)
    assert order.status == "new"
    assert count(db, AntifraudVerdict) == 0
    with db.reading() as s:
        key = s.get(OrderAddressKey, order.id)
    assert key is not None and len(key.address_key) == 40


def test_velocity_by_address_reads_the_address_index_across_phones(kernel):
    add_rule(kernel, "velocity", "hold", by="address", count=2, minutes=60)
    first = place(kernel, client_phone="+79031110001", address_text="Kazan, Baumana St, 5, apt 1")
    second = place(kernel, client_phone="+79031110002", address_text="kazan baumana 5 apt 1")
    third = place(kernel, client_phone="+79031110003", address_text="Kazan, Baumana street 5, apartment 1")
    assert [first.status, second.status, third.status] == ["new", "new", "on_hold"]


def test_velocity_by_phone_counts_recent_orders_of_that_phone_only(kernel):
    add_rule(kernel, "velocity", "hold", by="phone", count=2, minutes=30)
    place(kernel, now=ago(minutes=50))
    place(kernel, now=ago(minutes=20))
    assert place(kernel).status == "new"  # one order in the window
    assert place(kernel).status == "on_hold"
    assert place(kernel, client_phone="+79035550000").status == "new"


def test_an_edit_is_a_new_version_and_the_next_order_is_judged_by_it(kernel, db):
    rule_id = add_rule(kernel, "large_cash_new_client", "flag", 10, min_total="5000.00")
    assert place(kernel, payment_kind="cash").status == "new"
    with db.unit_of_work() as s:
        view = services.edit_rule(
            s, rule_id, name="cash", params={"min_total": "1000.00"}, score=60, action="hold", note="tighter"
        )
        assert view.rule.current_version == 2
    held = place(kernel, payment_kind="cash")
    assert held.status == "on_hold"
    with db.reading() as s:
        versions = services.rule_versions(s, rule_id)
        verdict = s.scalar(select(AntifraudVerdict).where(AntifraudVerdict.order_id == held.id))
    assert [v.version for v in versions] == [2, 1]
    assert versions[1].params["min_total"] == "5000.00"
    assert verdict.hits[0]["version"] == 2 and verdict.version_ids == [versions[0].id]


def test_a_rule_switched_off_does_not_fire_and_switched_on_fires_again(kernel, db):
    rule_id = add_rule(kernel, "change_to_card", "hold")
    with db.unit_of_work() as s:
        services.set_rule_active(s, rule_id, False)
    assert place(kernel, comment="сдачу на карту").status == "new"
    with db.unit_of_work() as s:
        services.set_rule_active(s, rule_id, True)
    assert place(kernel, comment="сдачу на карту").status == "on_hold"


def test_first_contact_screening_sees_phone_rules_only(kernel, db):
    add_rule(kernel, "bad_history", "flag", 40, min_count=1)
    add_rule(kernel, "large_cash_new_client", "hold", 50, min_total="0.00")
    order = place(kernel)
    move(kernel, order.id, "cancelled", reason="client changed plans")
    with db.reading() as s:
        verdict = services.screen_contact(s, kernel.extensions.get(RULEBOOK), "+79123456789")
    assert verdict.stage == "contact"
    assert [h.kind for h in verdict.hits] == ["bad_history"]


def test_a_held_order_released_by_a_manager_moves_on_with_an_audit_trail(kernel, db, users):
    add_rule(kernel, "change_to_card", "hold")
    order = place(kernel, comment="change to card please")
    with db.reading() as s:
        queue = services.held_orders(s)
    assert [h.order.id for h in queue] == [order.id] and queue[0].verdict["action"] == "hold"
    with db.unit_of_work() as s:
        services.release_held(s, order.id, actor_id=users["manager"].id, note="called the client back")
    move(kernel, order.id, "cooking")
    with db.reading() as s:
        events = s.scalars(
            select(OrderEvent).where(OrderEvent.order_id == order.id).order_by(OrderEvent.id)
        ).all()
        assert services.held_orders(s) == []
    assert [(e.from_status, e.to_status) for e in events] == [
        (None, "on_hold"),
        ("on_hold", "confirmed"),
        ("confirmed", "cooking"),
    ]
    assert events[1].actor_id == users["manager"].id and events[1].reason == "called the client back"


def test_a_held_order_can_be_rejected_with_a_reason_but_only_while_on_hold(kernel, db, users):
    add_rule(kernel, "change_to_card", "hold")
    order = place(kernel, comment="change to card")
    with pytest.raises(InvalidInput), db.unit_of_work() as s:
        services.reject_held(s, order.id, "  ", actor_id=users["manager"].id)
    with db.unit_of_work() as s:
        rejected = services.reject_held(s, order.id, "fake order", actor_id=users["manager"].id)
        assert rejected.status == "rejected"
    with pytest.raises(Conflict, match="not on hold"), db.unit_of_work() as s:
        services.release_held(s, order.id, actor_id=users["manager"].id)


def test_backtest_counts_what_a_rule_would_have_flagged_and_what_went_wrong(kernel, db):
    # A phone with a bad record: two cancelled orders, then two more orders (one failed).
    bad = "+79037770000"
    for days in (20, 15):
        o = place(kernel, client_phone=bad, now=ago(days=days))
        move(kernel, o.id, "cancelled", reason="no answer", at=ago(days=days, minutes=-10))
    o3 = place(kernel, client_phone=bad, now=ago(days=10))
    move(kernel, o3.id, "confirmed", "cooking", "ready", "in_delivery", at=ago(days=10, minutes=-20))
    move(kernel, o3.id, "failed", reason="nobody home", at=ago(days=10, minutes=-60))
    o4 = place(kernel, client_phone=bad, now=ago(days=5))
    move(kernel, o4.id, "cancelled", reason="no answer", at=ago(days=5, minutes=-5))
    # A good client.
    for days in (12, 3):
        o = place(kernel, client_phone="+79038880000", now=ago(days=days))
        move(kernel, o.id, "confirmed", at=ago(days=days, minutes=-5))
    with db.reading() as s:
        result = services.backtest(s, kind="bad_history", params={"min_count": 2, "days": 60}, days=30)
    assert result.orders == 6
    assert result.went_wrong == 4  # three cancelled, one failed
    assert result.flagged == 2  # o3 and o4: by then two earlier orders had gone wrong
    assert result.flagged_went_wrong == 2
    assert {e["order_id"] for e in result.examples} == {o3.id, o4.id}
    assert result.precision == 1.0 and result.recall == 0.5


def test_backtest_does_not_count_a_cancel_that_happened_after_the_order(kernel, db):
    phone = "+79036660000"
    first = place(kernel, client_phone=phone, now=ago(days=4))
    second = place(kernel, client_phone=phone, now=ago(days=3))
    move(kernel, first.id, "cancelled", reason="late cancel")  # cancelled now, after the second order
    with db.reading() as s:
        result = services.backtest(s, kind="bad_history", params={"min_count": 1}, days=10)
    assert result.orders == 2 and result.flagged == 0
    assert second.id  # placed while the first was still open


def test_backtest_refuses_bad_windows_and_parameters(kernel, db):
    with db.reading() as s, pytest.raises(InvalidInput):
        services.backtest(s, kind="velocity", params={}, days=0)
    with db.reading() as s, pytest.raises(InvalidInput) as err:
        services.backtest(s, kind="velocity", params={"count": -1}, days=5)
    assert err.value.errors[0]["field"] == "params.count"


def test_two_managers_saving_the_same_version_at_once_get_one_new_version_and_one_conflict(kernel, db):
    rule_id = add_rule(kernel, "velocity", "flag", by="phone", count=3, minutes=30)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def save(count: int) -> None:
        barrier.wait()
        try:
            with db.unit_of_work() as s:
                services.edit_rule(
                    s,
                    rule_id,
                    name="velocity",
                    params={"by": "phone", "count": count, "minutes": 30},
                    score=50,
                    action="flag",
                    expected_version=1,
                )
            outcomes.append("saved")
        except Conflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=save, args=(n,)) for n in (4, 5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(outcomes) == ["conflict", "saved"]
    with db.reading() as s:
        assert [v.version for v in services.rule_versions(s, rule_id)] == [2, 1]


def test_the_callers_history_reaches_the_rules_as_stored_newest_first(kernel, db):
    """Antifraud reads a caller's orders straight from the index's columns, by position: each
    PastOrder holds exactly what the order row holds, on either database."""
    add_rule(kernel, "many_names", "note", 5, max_names=3)
    first = place(kernel, client_name="Ivan", payment_kind="cash", now=ago(hours=3))
    second = place(kernel, client_name="Ivan P.", lat=55.8, lon=49.2, now=ago(hours=2))
    third = place(kernel, client_name="Petr", address_text="Kazan, Baumana St, 1", lat=None, lon=None)
    move(kernel, second.id, "cancelled", reason="client changed plans")
    subject = Subject(stage=ORDER, phone="+79123456789")
    with db.reading() as s:
        rules = kernel.extensions.get(RULEBOOK).active(s)
        facts = gather_facts(s, rules, subject, utcnow())
        stored = s.scalars(select(Order).order_by(Order.created_at.desc())).all()
    assert [o.id for o in stored] == [third.id, second.id, first.id]
    assert list(facts.phone_history) == [
        PastOrder(
            created_at=o.created_at.replace(tzinfo=dt.UTC) if o.created_at.tzinfo is None else o.created_at,
            status=o.status,
            client_name=o.client_name,
            lat=o.lat,
            lon=o.lon,
            total=o.total,
            payment_kind=o.payment_kind,
        )
        for o in stored
    ]
    assert facts.phone_history[1].status == "cancelled" and facts.phone_history[2].payment_kind == "cash"
    assert all(p.created_at.utcoffset() == dt.timedelta(0) for p in facts.phone_history)
