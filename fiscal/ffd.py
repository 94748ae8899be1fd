"""Fiscal documents in FFD 1.2 terms, built from the receipts the order already holds (pure).

An order's receipts (``nomenclature.receipts.receipt_document``: one per organization and tax
system, exact to the kopeck, the delivery a position of its own) become, at each moment money
moves, one fiscal document per receipt:

- **prepayment** — a prepaid order at payment: operation "sell" (tag 1054 = 1), every position
  "full prepayment" (tag 1214 = 1) at the *calculated* VAT rate (tag 1199: 22/122, 10/110, …),
  paid electronically (tag 1081);
- **settlement** — when the order is delivered: "sell", "full settlement" (tag 1214 = 4) at the
  ordinary rates; paid in cash (tag 1031) or by card (tag 1081), or — after a prepayment — by
  offsetting it (tag 1215), so the money is not counted twice;
- **refund** — a prepaid order cancelled (or not delivered), or edited after its prepayment may
  have been printed: "sell_refund" (tag 1054 = 2) of the prepayment, mirror of it
  (:func:`refund_of`); after an edit the changed receipts are prepaid again.

docs/fiscal.md cites the sources. :func:`problems` is what a register refuses before anything is
sent (wrong INN, a tax system it does not serve, the provider's limits).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from frontoffice.money import from_minor, round_half_up, to_minor

PREPAYMENT = "prepayment"
SETTLEMENT = "settlement"
REFUND = "refund"
PURPOSES = (PREPAYMENT, SETTLEMENT, REFUND)

SELL = "sell"
SELL_REFUND = "sell_refund"
OPERATION_TAG_1054 = {SELL: 1, SELL_REFUND: 2}

METHOD_FULL_PREPAYMENT = 1  # tag 1214: предоплата 100 %
METHOD_FULL_SETTLEMENT = 4  # tag 1214: полный расчёт

#: Payment kinds (ATOL's payment types): tag 1031 cash, 1081 electronic, 1215 prepayment offset.
PAY_CASH = 0
PAY_ELECTRONIC = 1
PAY_PREPAYMENT_OFFSET = 2
PAYMENT_TAGS = {PAY_CASH: "1031", PAY_ELECTRONIC: "1081", PAY_PREPAYMENT_OFFSET: "1215"}

#: Tag 1199 codes (FFD 1.2 as amended for 2026) by the rate name the registers use.
VAT_1199: dict[str, int] = {
    "vat20": 1,
    "vat10": 2,
    "vat120": 3,
    "vat110": 4,
    "vat0": 5,
    "none": 6,
    "vat5": 7,
    "vat7": 8,
    "vat105": 9,
    "vat107": 10,
    "vat22": 11,
    "vat122": 12,
}
#: The calculated rate (rate / (100 + rate)) a prepayment carries instead of the rate itself.
CALCULATED: dict[str, str] = {
    "vat22": "vat122",
    "vat20": "vat120",
    "vat10": "vat110",
    "vat5": "vat105",
    "vat7": "vat107",
}
#: The percentage behind each rate name (None: without VAT).
PERCENT: dict[str, int | None] = {
    "vat22": 22,
    "vat20": 20,
    "vat10": 10,
    "vat7": 7,
    "vat5": 5,
    "vat0": 0,
    "none": None,
    "vat122": 22,
    "vat120": 20,
    "vat110": 10,
    "vat107": 7,
    "vat105": 5,
}

#: FFD 1.2 length limits (tag → characters): 1030 item name, 1009 settlement address, 1117 e-mail.
MAX_NAME = 128
MAX_ADDRESS = 256
MAX_EMAIL = 64


def calculated_vat(amount: int, rate: str) -> int:
    """VAT in ``amount`` minor units at ``rate`` (``vat122`` is 22/122 of the amount), half up."""
    percent = PERCENT[rate]
    if not percent:
        return 0
    return round_half_up(Decimal(amount) * percent / (100 + percent))


def prepayment_rate(rate: str) -> str:
    """The rate a prepayment position carries: the calculated one (22 → 22/122); 0 % and none stand."""
    return CALCULATED.get(rate, rate)


@dataclass(frozen=True)
class Purpose:
    """What a fiscal document is for: its operation, tag 1214 and how it is paid."""

    name: str
    operation: str
    method: int
    calculated: bool


def purpose_of(name: str) -> Purpose:
    """The purpose named ``name``."""
    if name == PREPAYMENT:
        return Purpose(PREPAYMENT, SELL, METHOD_FULL_PREPAYMENT, True)
    if name == SETTLEMENT:
        return Purpose(SETTLEMENT, SELL, METHOD_FULL_SETTLEMENT, False)
    if name == REFUND:
        return Purpose(REFUND, SELL_REFUND, METHOD_FULL_PREPAYMENT, True)
    raise ValueError(f"unknown receipt purpose {name!r}")


def payment_type(purpose: str, payment_kind: str) -> int:
    """How a document is paid: a prepayment and its refund electronically; a settlement in cash or
    by card, or by offsetting the prepayment of a prepaid order."""
    if purpose in (PREPAYMENT, REFUND):
        return PAY_ELECTRONIC
    if payment_kind == "prepaid":
        return PAY_PREPAYMENT_OFFSET
    return PAY_CASH if payment_kind == "cash" else PAY_ELECTRONIC


def _money(minor: int) -> str:
    return str(from_minor(minor))


def document(
    receipt: Mapping[str, Any], purpose: str, payment_kind: str, client_phone: str
) -> dict[str, Any]:
    """The fiscal document of one stored receipt (``nomenclature.receipts.receipt_document``) for
    ``purpose``: positions with tags 1212/1214/1199, payments, VAT totals, FFD tags."""
    p = purpose_of(purpose)
    items = []
    vats: dict[str, int] = {}
    total = 0
    for it in receipt["items"]:
        amount = to_minor(Decimal(it["amount"]))
        rate = prepayment_rate(it["vat_rate"]) if p.calculated else it["vat_rate"]
        vat = calculated_vat(amount, rate)
        vats[rate] = vats.get(rate, 0) + vat
        total += amount
        items.append(
            {
                "name": it["name"],
                "price": it["price"],
                "quantity": it["quantity"],
                "sum": _money(amount),
                "vat_rate": rate,
                "vat_1199": VAT_1199[rate],
                "vat_sum": _money(vat),
                "payment_method_1214": p.method,
                "payment_object_1212": it["subject"],
                "measure_2108": 0,
            }
        )
    pay = payment_type(purpose, payment_kind)
    return {
        "purpose": purpose,
        "operation": p.operation,
        "operation_1054": OPERATION_TAG_1054[p.operation],
        "organization": dict(receipt["organization"]),
        "tax_system": receipt["tax_system"],
        "tax_system_1055": receipt["tax_system_code"],
        "client_phone": client_phone,
        "items": items,
        "payments": [{"type": pay, "tag": PAYMENT_TAGS[pay], "sum": _money(total)}],
        "vats": [{"type": rate, "vat_1199": VAT_1199[rate], "sum": _money(v)} for rate, v in vats.items()],
        "total": _money(total),
    }


def refund_of(prepayment: Mapping[str, Any]) -> dict[str, Any]:
    """The refund of a prepayment document: the same positions, rates, payments and total, as
    "sell_refund" (tag 1054 = 2) — what the register printed is returned as it was printed."""
    if prepayment["purpose"] != PREPAYMENT:
        raise ValueError(f"only a prepayment is refunded, not a {prepayment['purpose']}")
    p = purpose_of(REFUND)
    return {
        **prepayment,
        "purpose": REFUND,
        "operation": p.operation,
        "operation_1054": OPERATION_TAG_1054[p.operation],
    }


def same_document(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Whether two documents say the same (as stored: JSON, so tuples and lists are alike)."""
    return json.dumps(a, sort_keys=True, default=str) == json.dumps(b, sort_keys=True, default=str)


@dataclass(frozen=True)
class RegisterFacts:
    """What the checks need of a register: its INN, tax systems, point of sale, e-mail, limits."""

    inn: str
    tax_systems: Sequence[str]
    payment_address: str
    company_email: str
    max_items: int
    requires_email: bool


def problems(doc: Mapping[str, Any], register: RegisterFacts | None, organization_inn: str) -> list[str]:
    """Why ``doc`` cannot be sent to ``register`` (empty: it can). Checked before sending, so a
    register never prints a receipt it should not have."""
    org = doc["organization"]
    if register is None:
        return [
            f"No active fiscal register of {org.get('name')} serves the tax system {doc['tax_system']}: "
            "an administrator adds one (Fiscal registers)."
        ]
    out: list[str] = []
    if register.inn != organization_inn:
        out.append(
            f"The register is registered to INN {register.inn}, but {org.get('name')} has INN "
            f"{organization_inn}: the receipt would be fiscalized for another taxpayer."
        )
    if doc["tax_system"] not in register.tax_systems:
        out.append(
            f"The register does not serve the tax system {doc['tax_system']} "
            f"(it serves {', '.join(register.tax_systems) or 'none'})."
        )
    out += limit_problems(doc["items"], register)
    return out


def limit_problems(items: Iterable[Mapping[str, Any]], register: RegisterFacts) -> list[str]:
    """The provider's limits a document exceeds: positions, the length of names and addresses."""
    out: list[str] = []
    items = list(items)
    if len(items) > register.max_items:
        out.append(
            f"The receipt has {len(items)} positions; the register takes at most {register.max_items}."
        )
    for n, it in enumerate(items, start=1):
        if len(it["name"]) > MAX_NAME:
            out.append(
                f"Position {n} is named with {len(it['name'])} characters; FFD tag 1030 takes at most {MAX_NAME}."
            )
    if len(register.payment_address) > MAX_ADDRESS:
        out.append(f"The point of sale (tag 1009) is longer than {MAX_ADDRESS} characters.")
    if register.requires_email and not register.company_email:
        out.append("The register needs the seller's e-mail (tag 1117).")
    if len(register.company_email) > MAX_EMAIL:
        out.append(f"The seller's e-mail (tag 1117) is longer than {MAX_EMAIL} characters.")
    return out
