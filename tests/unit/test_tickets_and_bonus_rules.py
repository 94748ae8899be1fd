"""Ticket states and SLA deadlines; bonus amounts, pre-orders, upsells and penalty codes (pure)."""

from __future__ import annotations

import datetime as dt

import pytest

from backoffice import bonuses, sla
from backoffice.bonuses import BonusRuleSpec, Operation
from backoffice.sla import TicketStatus

T0 = dt.datetime(2026, 3, 10, 9, 0, tzinfo=dt.UTC)


def test_each_ticket_kind_has_its_own_deadline_and_config_overrides_it():
    assert sla.due_at("complaint", T0) == T0 + dt.timedelta(hours=2)
    assert sla.due_at("refund", T0) == T0 + dt.timedelta(hours=24)
    assert sla.due_at("complaint", T0, {"complaint": 30}) == T0 + dt.timedelta(minutes=30)
    with pytest.raises(ValueError):
        sla.due_at("gossip", T0)


def test_only_open_tickets_past_their_deadline_are_overdue():
    due = T0 + dt.timedelta(hours=1)
    later = T0 + dt.timedelta(hours=2)
    assert sla.is_overdue("open", due, later)
    assert sla.is_overdue("in_progress", due, later)
    assert not sla.is_overdue("resolved", due, later)
    assert not sla.is_overdue("open", due, T0)
    assert sla.minutes_left(due, later) == -60


def test_tickets_go_open_to_in_progress_to_resolved_or_rejected():
    sla.check_move(TicketStatus.OPEN, TicketStatus.IN_PROGRESS)
    sla.check_move(TicketStatus.IN_PROGRESS, TicketStatus.RESOLVED)
    sla.check_move(TicketStatus.OPEN, TicketStatus.REJECTED)
    with pytest.raises(sla.IllegalTicketMove) as err:
        sla.check_move(TicketStatus.OPEN, TicketStatus.RESOLVED)
    assert "in_progress" in str(err.value)
    with pytest.raises(sla.IllegalTicketMove):
        sla.check_move(TicketStatus.RESOLVED, TicketStatus.OPEN)


def test_a_fixed_bonus_pays_its_amount_and_a_percentage_rounds_half_up():
    fixed = BonusRuleSpec(1, Operation.ORDER_TAKEN, "fixed", amount=1000)
    percent = BonusRuleSpec(2, Operation.ORDER_DELIVERED, "percent", percent_bp=150)
    assert bonuses.amount_for(fixed, 123456) == 1000
    assert bonuses.amount_for(percent, 10050) == 151  # 150.75 kopecks
    assert bonuses.amount_for(percent, 10030) == 150  # 150.45


def test_a_penalty_is_taken_off():
    penalty = BonusRuleSpec(3, Operation.PENALTY_CANCELLED, "fixed", amount=5000)
    assert bonuses.amount_for(penalty, 99900) == -5000


def test_a_pre_order_is_one_asked_for_far_enough_ahead():
    assert bonuses.is_preorder(T0, T0 + dt.timedelta(hours=3), 120)
    assert not bonuses.is_preorder(T0, T0 + dt.timedelta(minutes=60), 120)
    assert not bonuses.is_preorder(T0, None, 120)


def test_upsell_counts_only_lines_from_the_configured_list():
    lines = [("PZ-MARG", 54900), ("DR-COLA05", 25800), ("ds-chees", 29900)]
    assert bonuses.upsell_base(lines, ["DR-COLA05", "DS-CHEES"]) == 55700
    assert bonuses.upsell_base(lines, ["SC-SOY"]) is None


def test_the_penalty_code_is_the_first_word_of_the_cancel_reason():
    assert bonuses.reason_code("operator_error: wrong street") == "operator_error"
    assert bonuses.reason_code("  Wrong_Address typed 12 instead of 21") == "wrong_address"
    assert bonuses.is_penalized("operator_error: wrong street", ["operator_error"])
    assert not bonuses.is_penalized("The client changed plans.", ["operator_error"])
    assert not bonuses.is_penalized(None, ["operator_error"])


def test_percentages_are_basis_points_with_two_decimals_at_most():
    assert bonuses.percent_to_bp("1.5") == 150
    assert bonuses.bp_to_percent(150) == "1.50"
    for bad in ("1.555", "-1", "101", "abc"):
        with pytest.raises(ValueError):
            bonuses.percent_to_bp(bad)


def test_rule_parameters_and_methods_are_checked():
    assert bonuses.normalize_params("upsell", {"skus": "dr-cola05, ds-chees"}) == {
        "skus": ["DR-COLA05", "DS-CHEES"]
    }
    assert bonuses.normalize_params("order_taken", None) == {}
    with pytest.raises(bonuses.BonusRuleError):
        bonuses.normalize_params("preorder_taken", {"min_lead_minutes": 0})
    with pytest.raises(bonuses.BonusRuleError):
        bonuses.normalize_params("order_taken", {"skus": []})
    fields = {e["field"] for e in bonuses.check_rule("ticket_resolved", "percent", 0, 100)}
    assert fields == {"method"}
    assert bonuses.check_rule("order_taken", "fixed", 1000, 0) == []
