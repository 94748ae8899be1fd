"""Socket payloads write money as REST does: decimal strings in major units."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from frontoffice.money import Minor
from frontoffice.realtime import event_payload, money_fields
from orders.events import OrderPlaced


@dataclass(frozen=True)
class _Paid:
    order_id: int
    amount: Minor
    refund: Minor | None
    tip: Minor | None = None
    count: int = 3


def test_fields_typed_minor_become_decimal_strings_and_others_stay():
    payload = event_payload(_Paid(order_id=7, amount=140600, refund=5, tip=None))
    assert payload == {"order_id": 7, "amount": "1406.00", "refund": "0.05", "tip": None, "count": 3}


def test_the_order_placed_total_is_marked_as_money():
    assert money_fields(OrderPlaced) == {"total"}
    at = dt.datetime(2026, 12, 5, 12, 0, tzinfo=dt.UTC)
    placed = OrderPlaced(
        1, 1, "KZ1-001", "new", "delivery", 90600, "+79", "", "cash", at, None, None, None, 3
    )
    assert event_payload(placed)["total"] == "906.00"
