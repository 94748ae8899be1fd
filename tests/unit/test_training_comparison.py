"""The comparison of a trainee's order with a scripted call's expected order, and what counts as a mistake."""

from __future__ import annotations

from training.comparison import ExpectedOrder, compare, same_place
from training.mistakes import kind_of, mistakes_of

EXPECTED = ExpectedOrder(
    lines={"PZ-MARG": 2, "DR-COLA05": 1}, address="ул. Кремлёвская, д. 21", payment_kind="cash"
)


def test_the_same_order_has_no_differences():
    taken = [("DR-COLA05", 1), ("PZ-MARG", 1), ("PZ-MARG", 1)]
    assert compare(EXPECTED, taken, "delivery", "Kazan, Kremlyovskaya 21, entrance 2", "cash") == []


def test_every_difference_is_listed_lines_first():
    diffs = compare(EXPECTED, [("PZ-MARG", 1), ("SU-PHIL", 1)], "delivery", "Baumana 5", "prepaid")
    assert [d.to_dict() for d in diffs] == [
        {"field": "lines.DR-COLA05", "expected": "1", "actual": ""},
        {"field": "lines.PZ-MARG", "expected": "2", "actual": "1"},
        {"field": "lines.SU-PHIL", "expected": "", "actual": "1"},
        {"field": "address", "expected": "ул. Кремлёвская, д. 21", "actual": "Baumana 5"},
        {"field": "payment_kind", "expected": "cash", "actual": "prepaid"},
    ]


def test_pickup_instead_of_delivery_is_a_difference_and_no_address_is_compared():
    diffs = compare(EXPECTED, [("PZ-MARG", 2), ("DR-COLA05", 1)], "pickup", "", "cash")
    assert [d.field for d in diffs] == ["kind"]


def test_another_house_is_another_place():
    assert not same_place("Кремлёвская 21", "Кремлёвская 12")
    assert same_place("Kremlyovskaya 21", "улица Кремлевская, 21")


def test_the_checks_refusals_map_to_mistake_kinds():
    assert kind_of("below_minimum", "lines") == "minimum"
    assert kind_of("outside_zones", "address") == "zone"
    assert kind_of("stopped", "lines.0") == "stop_list"
    assert kind_of("required", "address.text") == "address"
    assert kind_of("invalid_phone", "phone") is None


def test_a_refusal_repeated_by_every_quote_is_one_mistake():
    refusal = {"type": "below_minimum", "field": "lines", "message": "Add 100.00 more."}
    found = mistakes_of([refusal, refusal, {"type": "empty_cart", "field": "lines", "message": "x"}])
    assert [m.to_dict() for m in found] == [
        {"kind": "minimum", "code": "below_minimum", "message": "Add 100.00 more."}
    ]
