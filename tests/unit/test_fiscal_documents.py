"""The fiscal documents (pure): calculated VAT rates worked out by hand, the tags of a prepayment,
a settlement and a refund, and what is refused before sending."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from fiscal import ffd
from fiscal.adapters import Connection
from fiscal.adapters.atol_online import receipt_body
from fiscal.adapters.atol_webserver import task

# amount in kopecks, the rate, the VAT in kopecks worked out by hand
HAND_COMPUTED = [
    (100000, "vat122", 18033),  # 1000.00 × 22/122 = 180.327… → 180.33
    (99900, "vat122", 18015),  # 999.00 × 22/122 = 180.147… → 180.15
    (9900, "vat122", 1785),  # 99.00 × 22/122 = 17.852… → 17.85
    (55000, "vat110", 5000),  # 550.00 × 10/110 = 50.00
    (12345, "vat110", 1122),  # 123.45 × 10/110 = 11.222… → 11.22
    (12000, "vat120", 2000),  # 120.00 × 20/120 = 20.00
    (21000, "vat105", 1000),  # 210.00 × 5/105 = 10.00
    (10000, "vat105", 476),  # 100.00 × 5/105 = 4.7619… → 4.76
    (10700, "vat107", 700),  # 107.00 × 7/107 = 7.00
    (5000, "vat107", 327),  # 50.00 × 7/107 = 3.2710… → 3.27
    (5000, "vat0", 0),
    (5000, "none", 0),
]


@pytest.mark.parametrize(("amount", "rate", "vat"), HAND_COMPUTED)
def test_the_calculated_rates_give_the_vat_worked_out_by_hand(amount, rate, vat):
    assert ffd.calculated_vat(amount, rate) == vat


def test_a_prepayment_carries_the_calculated_rate_and_its_tag_1199_code():
    assert [ffd.prepayment_rate(r) for r in ("vat22", "vat20", "vat10", "vat5", "vat7", "vat0", "none")] == [
        "vat122",
        "vat120",
        "vat110",
        "vat105",
        "vat107",
        "vat0",
        "none",
    ]
    # FFD 1.2 tag 1199 (as amended for 22 %): 3 = 20/120, 4 = 10/110, 9 = 5/105, 10 = 7/107, 12 = 22/122.
    assert [ffd.VAT_1199[r] for r in ("vat120", "vat110", "vat105", "vat107", "vat122", "vat22")] == [
        3,
        4,
        9,
        10,
        12,
        11,
    ]


STORED = {
    "organization": {"id": 1, "name": "ООО Ромашка", "inn": "1655012344", "kpp": "165501001"},
    "tax_system": "osn",
    "tax_system_code": 1,
    "items": [
        {
            "name": "Маргарита",
            "quantity": 3,
            "price": "333.33",
            "amount": "999.99",
            "vat_rate": "vat22",
            "subject": 1,
        },
        {
            "name": "Доставка",
            "quantity": 1,
            "price": "99.00",
            "amount": "99.00",
            "vat_rate": "vat22",
            "subject": 4,
        },
    ],
}


def test_a_prepayment_an_offsetting_settlement_and_a_refund_of_one_receipt():
    pre = ffd.document(STORED, ffd.PREPAYMENT, "prepaid", "+79123456789")
    settle = ffd.document(STORED, ffd.SETTLEMENT, "prepaid", "+79123456789")
    refund = ffd.document(STORED, ffd.REFUND, "prepaid", "+79123456789")
    assert (pre["operation_1054"], settle["operation_1054"], refund["operation_1054"]) == (1, 1, 2)
    assert [(i["payment_method_1214"], i["vat_rate"], i["vat_sum"]) for i in pre["items"]] == [
        (1, "vat122", "180.33"),  # 999.99 × 22/122 = 180.3261… → 180.33
        (1, "vat122", "17.85"),
    ]
    assert [(i["payment_method_1214"], i["vat_rate"]) for i in settle["items"]] == [
        (4, "vat22"),
        (4, "vat22"),
    ]
    assert [i["payment_object_1212"] for i in pre["items"]] == [1, 4]
    assert pre["payments"] == [{"type": 1, "tag": "1081", "sum": "1098.99"}]
    assert settle["payments"] == [{"type": 2, "tag": "1215", "sum": "1098.99"}]
    assert refund["items"] == pre["items"] and refund["operation"] == "sell_refund"
    assert pre["vats"] == [{"type": "vat122", "vat_1199": 12, "sum": "198.18"}]
    cash = ffd.document(STORED, ffd.SETTLEMENT, "cash", "")
    assert cash["payments"] == [{"type": 0, "tag": "1031", "sum": "1098.99"}]


def test_the_registers_get_the_document_in_their_own_words():
    conn = Connection("http://x", "g", "cashier", "", "1655012344", "https://shop", "r@shop", 1.0)
    doc = ffd.document(STORED, ffd.PREPAYMENT, "prepaid", "+79123456789")
    body = receipt_body("ext-1", doc, conn, dt.datetime(2026, 12, 5, 12, 30))
    assert body["timestamp"] == "05.12.2026 12:30:00" and body["external_id"] == "ext-1"
    assert body["receipt"]["client"] == {"phone": "+79123456789"}
    assert body["receipt"]["items"][0] == {
        "name": "Маргарита",
        "price": 333.33,
        "quantity": 3,
        "measure": 0,
        "sum": 999.99,
        "payment_method": "full_prepayment",
        "payment_object": 1,
        "vat": {"type": "vat122", "sum": 180.33},
    }
    t = task(doc, conn)
    assert (t["type"], t["taxationType"], t["items"][1]["paymentObject"]) == ("sell", "osn", "service")
    assert t["operator"] == {"name": "cashier"} and t["payments"] == [
        {"type": "electronically", "sum": 1098.99}
    ]


FACTS = ffd.RegisterFacts("1655012344", ["osn"], "https://shop", "r@shop", 100, True)


def test_what_a_register_refuses_before_sending():
    doc = ffd.document(STORED, ffd.SETTLEMENT, "cash", "")
    assert ffd.problems(doc, FACTS, "1655012344") == []
    assert "No active fiscal register of ООО Ромашка" in ffd.problems(doc, None, "1655012344")[0]
    (wrong_inn,) = ffd.problems(doc, FACTS, "7707083893")
    assert "registered to INN 1655012344" in wrong_inn
    (other_system,) = ffd.problems(
        doc, ffd.RegisterFacts("1655012344", ["usn_income"], "x", "r@x", 100, True), "1655012344"
    )
    assert "does not serve the tax system osn" in other_system
    many = {**doc, "items": doc["items"] * 51}
    assert ffd.problems(many, FACTS, "1655012344") == [
        "The receipt has 102 positions; the register takes at most 100."
    ]
    long_name = {**doc, "items": [{**doc["items"][0], "name": "б" * 129}]}
    assert ffd.problems(long_name, FACTS, "1655012344") == [
        "Position 1 is named with 129 characters; FFD tag 1030 takes at most 128."
    ]
    no_email = ffd.RegisterFacts("1655012344", ["osn"], "https://shop", "", 100, True)
    assert ffd.problems(doc, no_email, "1655012344") == ["The register needs the seller's e-mail (tag 1117)."]


def test_the_refund_of_a_prepayment_mirrors_what_was_printed():
    pre = ffd.document(STORED, ffd.PREPAYMENT, "prepaid", "+79123456789")
    stored = json.loads(json.dumps(pre))  # as the receipt keeps it
    assert ffd.refund_of(stored) == ffd.document(STORED, ffd.REFUND, "prepaid", "+79123456789")
    assert ffd.same_document(stored, pre)
    changed = {**STORED, "items": STORED["items"][:1]}
    assert not ffd.same_document(stored, ffd.document(changed, ffd.PREPAYMENT, "prepaid", "+79123456789"))
    with pytest.raises(ValueError, match="only a prepayment is refunded"):
        ffd.refund_of(ffd.document(STORED, ffd.SETTLEMENT, "prepaid", ""))
