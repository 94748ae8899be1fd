"""Antifraud rule kinds over plain values: each kind fires when it should and stays quiet otherwise."""

from __future__ import annotations

import datetime as dt

import pytest
from geopy.distance import great_circle

from backoffice import antifraud
from backoffice.antifraud import CONTACT, ORDER, Facts, PastOrder, Rule, Subject

NOW = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)
PHONE = "+79123456789"


def rule(kind: str, action: str = "flag", score: int = 10, rule_id: int = 1, **params) -> Rule:
    stored = antifraud.normalize_params(kind, params)
    return Rule(
        rule_id, rule_id * 10, 1, f"{kind} rule", kind, antifraud.compile_params(kind, stored), score, action
    )


def order_subject(**kw) -> Subject:
    base = dict(stage=ORDER, phone=PHONE, client_name="Ivan", total=150000, payment_kind="card_on_delivery")
    base.update(kw)
    return Subject(**base)


def past(minutes_ago: float = 0, days_ago: float = 0, status: str = "delivered", **kw) -> PastOrder:
    return PastOrder(NOW - dt.timedelta(minutes=minutes_ago, days=days_ago), status, **kw)


def facts(history=(), address_times=(), blacklisted=None) -> Facts:
    ordered = sorted(history, key=lambda o: o.created_at, reverse=True)
    return Facts(
        now=NOW, phone_history=ordered, address_times=list(address_times), blacklisted=blacklisted or {}
    )


def fires(r: Rule, subject: Subject, f: Facts) -> str | None:
    verdict = antifraud.evaluate([r], subject, f)
    return verdict.hits[0].reason if verdict.hits else None


# --- blacklist ------------------------------------------------------------------------------


def test_a_blacklisted_phone_fires_at_first_contact_with_the_listed_reason():
    r = rule("blacklist", action="reject", lists=["phone"])
    f = facts(blacklisted={("phone", PHONE): "three no-shows"})
    reason = fires(r, Subject(stage=CONTACT, phone=PHONE), f)
    assert reason is not None and "three no-shows" in reason and PHONE in reason


def test_a_blacklisted_address_matches_however_the_caller_spells_it():
    listed = antifraud.normalize_address("Kazan, Nekrasova St., 10, apt. 13")
    r = rule("blacklist", lists=["address"])
    f = facts(blacklisted={("address", listed): "prank orders"})
    assert fires(r, order_subject(address_text="kazan  NEKRASOVA street 10 apartment 13"), f)
    assert fires(r, order_subject(address_text="Kazan, Nekrasova St, 12, apt 13"), f) is None


def test_a_device_blacklist_fires_only_on_the_listed_device_and_only_when_checked():
    f = facts(blacklisted={("device", "dev-42"): ""})
    assert fires(rule("blacklist", lists=["device"]), order_subject(device="dev-42"), f)
    assert fires(rule("blacklist", lists=["device"]), order_subject(device="dev-43"), f) is None
    assert fires(rule("blacklist", lists=["phone"]), order_subject(device="dev-42"), f) is None


# --- velocity -------------------------------------------------------------------------------


def test_velocity_by_phone_fires_when_the_window_already_holds_the_allowed_count():
    r = rule("velocity", by="phone", count=3, minutes=30)
    two = facts([past(5), past(20), past(45)])
    three = facts([past(5), past(20), past(29)])
    assert fires(r, order_subject(), two) is None
    reason = fires(r, order_subject(), three)
    assert reason is not None and "3 orders from this phone in the last 30 min" in reason


def test_velocity_by_address_counts_orders_to_the_same_address_and_needs_an_address():
    r = rule("velocity", by="address", count=2, minutes=60)
    f = facts(address_times=[NOW - dt.timedelta(minutes=10), NOW - dt.timedelta(minutes=50)])
    assert fires(r, order_subject(address_text="Kazan, Baumana 5"), f)
    assert fires(r, order_subject(address_text=""), f) is None
    assert fires(r, Subject(stage=CONTACT, phone=PHONE), f) is None


# --- large cash from a new client ------------------------------------------------------------


def test_a_large_cash_order_from_a_new_client_fires():
    r = rule("large_cash_new_client", min_total="5000.00", max_delivered=0, days=365)
    big_cash = order_subject(total=600000, payment_kind="cash")
    assert fires(r, big_cash, facts([past(days_ago=3, status="cancelled")]))
    assert fires(r, big_cash, facts([past(days_ago=3, status="delivered")])) is None
    assert fires(r, order_subject(total=600000, payment_kind="prepaid"), facts()) is None
    assert fires(r, order_subject(total=400000, payment_kind="cash"), facts()) is None


def test_large_cash_is_an_order_rule_not_a_contact_rule():
    r = rule("large_cash_new_client")
    assert fires(r, Subject(stage=CONTACT, phone=PHONE), facts()) is None


# --- bad history ----------------------------------------------------------------------------


def test_a_history_of_cancelled_or_failed_deliveries_fires_within_its_window():
    r = rule("bad_history", statuses=["cancelled", "failed"], min_count=2, days=180)
    assert fires(
        r, order_subject(), facts([past(days_ago=10, status="failed"), past(days_ago=20, status="cancelled")])
    )
    assert (
        fires(
            r,
            order_subject(),
            facts([past(days_ago=10, status="failed"), past(days_ago=200, status="cancelled")]),
        )
        is None
    )
    assert fires(r, order_subject(), facts([past(days_ago=1, status="rejected")] * 3)) is None


# --- far address ----------------------------------------------------------------------------


def test_an_address_far_from_the_usual_ones_fires_and_a_near_one_does_not():
    r = rule("far_address", km=15, min_history=2, days=365)
    home = [past(days_ago=d, lat=55.7963, lon=49.1088) for d in (5, 30)]
    zelenodolsk = order_subject(lat=55.847, lon=48.516)
    reason = fires(r, zelenodolsk, facts(home))
    assert reason is not None and "km from the nearest" in reason
    assert fires(r, order_subject(lat=55.79, lon=49.12), facts(home)) is None


def test_far_address_needs_enough_history_with_locations():
    r = rule("far_address", km=15, min_history=2)
    one = [past(days_ago=5, lat=55.7963, lon=49.1088), past(days_ago=6)]
    assert fires(r, order_subject(lat=55.847, lon=48.516), facts(one)) is None


def test_nearest_km_measures_geodesic_distance():
    km = antifraud.nearest_km(55.7887, 49.1221, [(55.7570, 49.2070), (10.0, 10.0)])
    # The two Kazan branches, checked against the spherical formula (within its 0.5 % error).
    assert km == pytest.approx(great_circle((55.7887, 49.1221), (55.7570, 49.2070)).km, rel=0.005)
    assert antifraud.nearest_km(55.0, 49.0, []) is None


# --- change to card -------------------------------------------------------------------------


def test_change_to_card_fires_on_a_keyword_in_the_comment_in_any_case():
    r = rule("change_to_card")
    assert fires(r, order_subject(comment="Курьер, СДАЧУ НА КАРТУ переведите пожалуйста"), facts())
    assert fires(r, order_subject(comment="Ring twice, please"), facts()) is None


def test_change_to_card_fires_on_cash_with_change_from_a_large_note():
    r = rule("change_to_card", min_note="5000.00", min_change="3000.00")
    reason = fires(r, order_subject(payment_kind="cash", total=70000, change_from=500000), facts())
    assert reason is not None and "change 4" in reason
    assert fires(r, order_subject(payment_kind="cash", total=300000, change_from=500000), facts()) is None


# --- many names -----------------------------------------------------------------------------


def test_a_phone_used_under_many_names_fires_counting_the_name_given_now():
    r = rule("many_names", max_names=2, days=365)
    history = [
        past(days_ago=3, client_name="Ivan"),
        past(days_ago=9, client_name="ivan "),
        past(days_ago=20, client_name="Petr"),
    ]
    assert fires(r, order_subject(client_name="Ivan"), facts(history)) is None
    reason = fires(r, order_subject(client_name="Anna"), facts(history))
    assert reason is not None and "3 different names" in reason


# --- the verdict ----------------------------------------------------------------------------


def test_the_verdict_takes_the_most_severe_action_sums_scores_and_names_versions():
    rules = [
        rule("bad_history", action="flag", score=40, rule_id=1, min_count=1),
        rule("blacklist", action="reject", score=100, rule_id=2, lists=["phone"]),
        rule("many_names", action="note", score=5, rule_id=3, max_names=1),
    ]
    f = facts(
        [past(days_ago=2, status="cancelled", client_name="A"), past(days_ago=3, client_name="B")],
        blacklisted={("phone", PHONE): ""},
    )
    verdict = antifraud.evaluate(rules, order_subject(client_name="C"), f)
    assert verdict.action == "reject"
    assert verdict.score == 145
    assert [h.action for h in verdict.hits] == ["reject", "flag", "note"]
    assert verdict.to_dict()["hits"][0]["version_id"] == 20


def test_a_clean_subject_gets_action_none():
    verdict = antifraud.evaluate([rule("velocity")], order_subject(), facts())
    assert verdict.action == "none" and verdict.score == 0 and verdict.hits == ()


def test_needs_reads_only_as_far_back_as_the_rules_look():
    rules = [
        rule("velocity", by="phone", minutes=60),
        rule("velocity", by="address", minutes=90, rule_id=2),
        rule("bad_history", days=180, rule_id=3),
        rule("blacklist", lists=["phone", "device"], rule_id=4),
        rule("far_address", days=400, rule_id=5),
    ]
    at_order = antifraud.needs(rules, ORDER)
    assert at_order.phone_days == 400 and at_order.address_minutes == 90
    assert at_order.blacklist_kinds == {"phone", "device"}
    assert antifraud.needs(rules, CONTACT).phone_days == 180  # far_address is an order rule


# --- parameters -----------------------------------------------------------------------------


def test_parameters_take_defaults_and_are_stored_json_safe():
    params = antifraud.normalize_params("large_cash_new_client", {"min_total": "7000"})
    assert params == {"min_total": "7000.00", "max_delivered": 0, "days": 365}
    assert antifraud.compile_params("large_cash_new_client", params)["min_total"] == 700000


def test_bad_parameters_are_refused_field_by_field():
    with pytest.raises(antifraud.ParamError) as err:
        antifraud.normalize_params("velocity", {"count": 0, "by": "email", "minutes": "x", "extra": 1})
    fields = {e["field"] for e in err.value.errors}
    assert fields == {"params.count", "params.by", "params.minutes", "params.extra"}
    with pytest.raises(antifraud.ParamError):
        antifraud.normalize_params("no_such_kind", {})


def test_keywords_may_be_typed_one_per_line():
    params = antifraud.normalize_params(
        "change_to_card", {"keywords": "Change to card\n\n сдачу на карту \n"}
    )
    assert params["keywords"] == ["Change to card", "сдачу на карту"]
    assert antifraud.compile_params("change_to_card", params)["keywords"] == (
        "change to card",
        "сдачу на карту",
    )


def test_score_and_action_are_checked():
    assert antifraud.check_rule_fields(50, "hold") == []
    fields = {e["field"] for e in antifraud.check_rule_fields(-1, "ban")}
    assert fields == {"score", "action"}


def test_address_digest_is_stable_and_empty_without_an_address():
    assert antifraud.address_digest("Kazan, Baumana St, 5") == antifraud.address_digest("kazan baumana 5")
    assert antifraud.address_digest("  , . ") == ""
