"""Receipts: exact to the kopeck for any prices, quantities, discounts and fees; VAT by the hand formula;
the delivery a position of its own, so food keeps its menu prices."""

from __future__ import annotations

import math
from collections import Counter
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nomenclature.modifiers import ChosenModifier, ModifierGroupView, OptionView, choose, line_label
from nomenclature.receipts import (
    SUBJECT_GOODS,
    SUBJECT_SERVICE,
    DeliverySale,
    SaleLine,
    allocate,
    positions_of,
    receipt_document,
    share_lines,
    split_receipts,
    vat_included,
)
from nomenclature.taxes import TaxSystem, VatRate

OSN, USN, PSN = TaxSystem.OSN, TaxSystem.USN_INCOME, TaxSystem.PSN


def hand_vat(amount: int, rate: VatRate) -> int:
    """VAT included in ``amount`` kopecks, rounded half up, with exact fractions."""
    percent = rate.percent
    if not percent:
        return 0
    return math.floor(Fraction(amount) * Fraction(int(percent), 100 + int(percent)) + Fraction(1, 2))


sellers = st.sampled_from([(1, OSN), (2, USN), (3, PSN), (1, TaxSystem.USN_INCOME_EXPENSE)])
rates = st.sampled_from(list(VatRate))
lines_strategy = st.lists(
    st.tuples(st.integers(0, 500_000), st.integers(1, 999), sellers, rates), min_size=1, max_size=12
)


def build(lines) -> list[SaleLine]:
    return [
        SaleLine(
            position=i,
            name=f"line {i}",
            quantity=q,
            total=price * q,
            organization_id=org,
            tax_system=ts,
            vat_rate=r,
        )
        for i, (price, q, (org, ts), r) in enumerate(lines)
    ]


@settings(max_examples=300, deadline=None)
@given(
    lines=lines_strategy,
    discount_share=st.fractions(0, 1),
    fee=st.integers(0, 100_000),
    delivery_seller=sellers,
    delivery_rate=rates,
)
def test_receipts_add_up_to_the_order_exactly_with_vat_by_the_hand_formula(
    lines, discount_share, fee, delivery_seller, delivery_rate
):
    sale = build(lines)
    items = sum(ln.total for ln in sale)
    discount = math.floor(items * discount_share)
    delivery = DeliverySale("Delivery", fee, *delivery_seller, delivery_rate)
    receipts = split_receipts(sale, discount, delivery)

    assert sum(r.total for r in receipts) == items - discount + fee
    sellers_of = {(ln.organization_id, ln.tax_system) for ln in sale} | ({delivery_seller} if fee else set())
    assert len(receipts) == len(sellers_of)
    by_line = {ln.position: ln for ln in sale}
    deliveries = []
    for r in receipts:
        assert r.total == sum(p.amount for p in r.positions)
        for p in r.positions:
            assert p.price * p.quantity == p.amount and p.amount >= 0 and p.price >= 0
            assert p.vat == hand_vat(p.amount, p.vat_rate)
            if p.line is None:
                deliveries.append(p)
                assert (r.organization_id, r.tax_system) == delivery_seller
                assert (p.quantity, p.price, p.vat_rate, p.subject) == (
                    1,
                    fee,
                    delivery_rate,
                    SUBJECT_SERVICE,
                )
                continue
            line = by_line[p.line]
            assert (line.organization_id, line.tax_system) == (r.organization_id, r.tax_system)
            assert p.vat_rate is line.vat_rate and p.subject == SUBJECT_GOODS
        assert r.vat == sum(p.vat for p in r.positions)
        assert sum(a for a, _v in r.vat_by_rate().values()) == r.total
    assert len(deliveries) == (1 if fee else 0)
    # every unit of every line is on exactly one receipt
    units = Counter()
    for r in receipts:
        for p in r.positions:
            if p.line is not None:
                units[p.line] += p.quantity
    assert units == Counter({ln.position: ln.quantity for ln in sale})


@settings(max_examples=300, deadline=None)
@given(lines=lines_strategy, discount_share=st.fractions(0, 1))
def test_each_line_gets_its_proportional_share_of_the_discount_within_a_kopeck(lines, discount_share):
    sale = build(lines)
    items = sum(ln.total for ln in sale)
    discount = math.floor(items * discount_share)
    shares = share_lines(sale, discount)
    assert sum(s.discount for s in shares) == discount
    for ln, s in zip(sale, shares, strict=True):
        if items:
            exact_discount = Fraction(discount * ln.total, items)
            assert math.floor(exact_discount) <= s.discount <= math.ceil(exact_discount)
        assert 0 <= s.discount <= ln.total
        assert s.amount == ln.total - s.discount


@given(total=st.integers(0, 10**9), weights=st.lists(st.integers(0, 10**6), min_size=1, max_size=30))
def test_largest_remainder_allocation_is_exact_and_fair(total, weights):
    shares = allocate(total, weights)
    assert sum(shares) == total
    whole = sum(weights) or len(weights)
    used = weights if sum(weights) else [1] * len(weights)
    for w, share in zip(used, shares, strict=True):
        quota = Fraction(total * w, whole)
        assert math.floor(quota) <= share <= math.ceil(quota)


def test_allocation_ties_go_to_the_larger_weight_then_the_earlier_line():
    assert allocate(1, [1, 1]) == [1, 0]
    assert allocate(1, [1, 2, 1]) == [0, 1, 0]
    assert allocate(3, [0, 0, 0]) == [1, 1, 1]
    assert allocate(0, []) == []
    with pytest.raises(ValueError):
        allocate(5, [])
    with pytest.raises(ValueError):
        allocate(-1, [1])


def test_a_discount_larger_than_the_items_is_refused():
    with pytest.raises(ValueError, match="larger than the items"):
        share_lines(build([(100, 1, (1, OSN), VatRate.VAT22)]), 101)


@pytest.mark.parametrize(
    ("amount", "rate", "vat"),
    [
        (54900, VatRate.VAT22, 9900),  # 549.00 × 22/122 = 99.00 exactly
        (59900, VatRate.VAT22, 10802),  # 108.0163… → 108.02
        (12200, VatRate.VAT22, 2200),
        (11000, VatRate.VAT10, 1000),
        (12000, VatRate.VAT20, 2000),
        (10500, VatRate.VAT5, 500),
        (10700, VatRate.VAT7, 700),
        (61, VatRate.VAT22, 11),  # 0.61 × 22/122 = 0.11
        (5, VatRate.VAT22, 1),  # 0.9016… → 1
        (99999, VatRate.NONE, 0),
        (99999, VatRate.VAT0, 0),
    ],
)
def test_vat_included_in_a_price(amount, rate, vat):
    assert vat_included(amount, rate) == vat == hand_vat(amount, rate)


def test_a_line_that_does_not_divide_by_its_quantity_becomes_two_positions():
    ps = positions_of(1, "Cola", 3, 38672, VatRate.NONE)
    assert [(p.quantity, p.price, p.amount) for p in ps] == [(1, 12890, 12890), (2, 12891, 25782)]
    assert [(p.quantity, p.price) for p in positions_of(0, "Pizza", 2, 1000, VatRate.VAT22)] == [(2, 500)]


def test_a_typical_order_splits_between_the_llc_and_the_sole_proprietor():
    # Margherita 549.00 and Philadelphia 599.00 from the LLC (ОСН, 22 %), two colas 129.00 from the IP.
    sale = [
        SaleLine(0, "Pizza Margherita 30 cm", 1, 54900, 1, OSN, VatRate.VAT22),
        SaleLine(1, "Cola 0.5 l", 2, 25800, 2, USN, VatRate.NONE),
        SaleLine(2, "Philadelphia roll, 8 pcs", 1, 59900, 1, OSN, VatRate.VAT22),
    ]
    llc, ip = split_receipts(sale)
    assert (llc.organization_id, llc.total, llc.vat) == (1, 114800, 9900 + 10802)
    assert (ip.organization_id, ip.total, ip.vat) == (2, 25800, 0)
    assert [(p.line, p.quantity, p.price) for p in ip.positions] == [(1, 2, 12900)]


def test_the_discount_is_spread_by_largest_remainder_and_the_fee_is_a_position_of_its_own():
    # Items 1375.00 (pizza with options 739.00, 3 colas 387.00, chak-chak 249.00), discount 100.00, fee 99.00.
    sale = [
        SaleLine(0, "Pizza Margherita 30 cm (35 cm, Jalapeño)", 1, 73900, 1, OSN, VatRate.VAT22),
        SaleLine(1, "Cola 0.5 l", 3, 38700, 2, USN, VatRate.NONE),
        SaleLine(2, "Chak-chak", 1, 24900, 3, PSN, VatRate.NONE),
    ]
    shares = share_lines(sale, 10000)
    # discount quotas 5374.5…, 2814.5…, 1810.9…: chak-chak's remainder is largest, then pizza beats
    # cola on the tie by its larger total. 685.25 × 22/122 = 123.569… → 123.57.
    assert [(s.discount, s.amount, s.vat) for s in shares] == [
        (5375, 68525, 12357),
        (2814, 35886, 0),
        (1811, 23089, 0),
    ]
    receipts = split_receipts(sale, 10000, DeliverySale("Delivery", 9900, 1, OSN, VatRate.VAT22))
    # The LLC also sells the delivery: 99.00 × 22/122 = 17.852… → 17.85.
    assert [r.total for r in receipts] == [68525 + 9900, 35886, 23089]
    assert [(p.line, p.price, p.vat) for p in receipts[0].positions] == [
        (0, 68525, 12357),
        (None, 9900, 1785),
    ]
    assert sum(r.total for r in receipts) == 137500 - 10000 + 9900


def test_a_hand_computed_order_delivered_by_the_llc_with_food_split_between_osn_and_usn():
    # 2 pizzas at 549.00 (ОСН, 22 %) and a cola at 99.00 (УСН, no VAT); discount 50.00; delivery 150.00
    # sold by the LLC on ОСН at 22 %.
    sale = [
        SaleLine(0, "Pizza Margherita 30 cm", 2, 2 * 54900, 1, OSN, VatRate.VAT22),
        SaleLine(1, "Cola 0.33 l", 1, 9900, 2, USN, VatRate.NONE),
    ]
    llc, ip = split_receipts(sale, 5000, DeliverySale("Delivery", 15000, 1, OSN, VatRate.VAT22))
    # Discount 50.00 over 1098.00 and 99.00: quotas 45.8646… and 4.1353…; the last kopeck goes to
    # the larger remainder, the cola's: 45.86 and 4.14. Pizzas 1052.14 = 2 × 526.07.
    # VAT 1052.14 × 22/122 = 189.7301… → 189.73; 150.00 × 22/122 = 27.0491… → 27.05.
    assert [(p.line, p.name, p.quantity, p.price, p.amount, p.vat, p.subject) for p in llc.positions] == [
        (0, "Pizza Margherita 30 cm", 2, 52607, 105214, 18973, SUBJECT_GOODS),
        (None, "Delivery", 1, 15000, 15000, 2705, SUBJECT_SERVICE),
    ]
    assert (llc.organization_id, llc.tax_system, llc.total, llc.vat) == (1, OSN, 120214, 18973 + 2705)
    assert [(p.line, p.quantity, p.price, p.amount, p.vat) for p in ip.positions] == [(1, 1, 9486, 9486, 0)]
    assert (ip.organization_id, ip.tax_system, ip.total) == (2, USN, 9486)
    assert llc.total + ip.total == 2 * 54900 + 9900 - 5000 + 15000
    for p in (*llc.positions, *ip.positions):
        assert p.price * p.quantity == p.amount and p.vat == hand_vat(p.amount, p.vat_rate)


def test_food_keeps_its_menu_price_on_the_receipt_when_the_order_has_a_delivery_fee():
    sale = [SaleLine(0, "Pizza Margherita 30 cm", 2, 2 * 54900, 1, OSN, VatRate.VAT22)]
    (receipt,) = split_receipts(sale, 0, DeliverySale("Delivery", 15000, 1, OSN, VatRate.VAT22))
    assert [(p.name, p.quantity, p.price) for p in receipt.positions] == [
        ("Pizza Margherita 30 cm", 2, 54900),
        ("Delivery", 1, 15000),
    ]


def test_a_delivery_sold_by_an_organization_selling_no_food_gets_a_receipt_of_its_own():
    sale = [SaleLine(0, "Cola 0.5 l", 1, 12900, 2, USN, VatRate.NONE)]
    food, delivery = split_receipts(sale, 0, DeliverySale("Delivery", 9900, 1, OSN, VatRate.VAT22))
    assert (food.organization_id, food.total) == (2, 12900)
    assert (delivery.organization_id, delivery.tax_system, delivery.total, delivery.vat) == (
        1,
        OSN,
        9900,
        1785,
    )


def test_a_free_delivery_and_no_delivery_print_no_delivery_position():
    sale = [SaleLine(0, "Pizza", 1, 54900, 1, OSN, VatRate.VAT22)]
    free = DeliverySale("Delivery", 0, 1, OSN, VatRate.VAT22)
    for receipts in (split_receipts(sale, 0, free), split_receipts(sale)):
        assert [[p.line for p in r.positions] for r in receipts] == [[0]]


def test_the_receipt_document_carries_the_ffd_tags():
    sale = [
        SaleLine(0, "Pizza", 1, 54900, 1, OSN, VatRate.VAT22),
        SaleLine(1, "Cola", 3, 38700, 1, OSN, VatRate.VAT10),
    ]
    (receipt,) = split_receipts(sale, 100)
    doc = receipt_document(
        receipt, {"id": 1, "name": "LLC", "inn": "1655012344", "kpp": "165501001"}, "card_on_delivery"
    )
    ffd = doc["ffd"]
    assert (ffd["1054"], ffd["1055"], ffd["1018"], ffd["1048"]) == (1, 1, "1655012344", "LLC")
    assert ffd["1020"] == doc["total"] == "935.00" and ffd["1081"] == "935.00" and ffd["1031"] == "0.00"
    first = ffd["1059"][0]
    assert (first["1199"], first["1212"], first["1214"]) == (11, 1, 4)
    assert first["1043"] == "548.41" and first["1200"] == "98.89"
    assert {p["1199"] for p in ffd["1059"]} == {11, 2}
    assert receipt_document(receipt, {"id": 1}, "prepaid")["payment_method"] == 1


def test_the_delivery_position_is_a_service_in_the_receipt_document():
    sale = [SaleLine(0, "Pizza", 1, 54900, 1, OSN, VatRate.VAT22)]
    (receipt,) = split_receipts(sale, 0, DeliverySale("Delivery", 15000, 1, OSN, VatRate.VAT22))
    doc = receipt_document(receipt, {"id": 1, "name": "LLC", "inn": "1655012344"}, "cash")
    assert [(i["line"], i["name"], i["price"], i["subject"]) for i in doc["items"]] == [
        (0, "Pizza", "549.00", 1),
        (None, "Delivery", "150.00", 4),
    ]
    pizza, delivery = doc["ffd"]["1059"]
    assert (pizza["1212"], delivery["1212"]) == (1, 4)
    assert (delivery["1030"], delivery["1079"], delivery["1023"], delivery["1043"]) == (
        "Delivery",
        "150.00",
        1,
        "150.00",
    )
    assert (delivery["1199"], delivery["1200"]) == (11, "27.05")
    assert doc["ffd"]["1020"] == doc["total"] == "699.00"


# --- modifiers --------------------------------------------------------------------------------------

SIZE = ModifierGroupView(1, "Size", 1, 1, (OptionView(1, "25 cm", -10000), OptionView(2, "35 cm", 15000)))
EXTRAS = ModifierGroupView(
    2,
    "Extras",
    0,
    2,
    (OptionView(3, "Cheese", 5000), OptionView(4, "Bacon", 7000), OptionView(5, "Old", 1, False)),
)


@pytest.mark.parametrize(
    ("chosen", "problem"),
    [
        ([2], None),
        ([2, 3, 4], None),
        ([], "at least 1 of Size"),
        ([1, 2], "at most 1 of Size"),
        ([2, 3, 4, 3], "chosen twice"),
        ([2, 99], "not offered"),
        ([2, 5], "not available"),
    ],
)
def test_modifier_choices_respect_min_and_max(chosen, problem):
    picked, problems = choose("Pizza", [SIZE, EXTRAS], chosen)
    if problem is None:
        assert problems == [] and [c.id for c in picked] == chosen
    else:
        assert any(problem in p for p in problems)


def test_the_receipt_names_the_item_with_its_options():
    mods = [ChosenModifier(2, "35 cm", 1, "Size", 15000), ChosenModifier(3, "Cheese", 2, "Extras", 5000)]
    assert line_label("Pizza", mods) == "Pizza (35 cm, Cheese)"
    assert line_label("Pizza", []) == "Pizza"
