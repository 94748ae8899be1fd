"""Receipts: an order split into one receipt per (organization, tax system), exact to the kopeck (pure).

The order-level discount is spread over the lines in proportion to their totals by the
largest-remainder method, so the parts add up to the order exactly. A line whose amount
does not divide by its quantity becomes two receipt positions (some units a kopeck dearer)
so that price × quantity = amount holds on every position. The delivery fee is not spread:
it is a position of its own (one service at the fee, tag 1212 = 4) on the receipt of the
organization that sells the delivery, so food keeps its menu prices. VAT is included in
prices: ``vat = round_half_up(amount × rate / (100 + rate))`` per position.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from frontoffice.money import from_minor, round_half_up
from nomenclature.taxes import TaxSystem, VatRate

SETTLEMENT_INCOME = 1  # tag 1054: приход
SUBJECT_GOODS = 1  # tag 1212: товар
SUBJECT_SERVICE = 4  # tag 1212: услуга
METHOD_FULL_PREPAYMENT = 1  # tag 1214: предоплата 100 %
METHOD_FULL_SETTLEMENT = 4  # tag 1214: полный расчёт
MEASURE_PIECES = 0  # tag 2108: штуки


@dataclass(frozen=True)
class SaleLine:
    """An order line as the receipts see it: total before order-level discount and fee."""

    position: int
    name: str
    quantity: int
    total: int
    organization_id: int
    tax_system: TaxSystem
    vat_rate: VatRate


@dataclass(frozen=True)
class DeliverySale:
    """The delivery of an order as the receipts see it: its fee and who sells it."""

    name: str
    fee: int
    organization_id: int
    tax_system: TaxSystem
    vat_rate: VatRate


@dataclass(frozen=True)
class LineShare:
    """A line's part of the order: its discount share, amount and VAT."""

    position: int
    total: int
    discount: int
    amount: int
    vat: int


@dataclass(frozen=True)
class Position:
    """One receipt position; ``price * quantity == amount`` exactly.

    ``line`` is the order line it comes from; None for the delivery, which is no cart line.
    """

    line: int | None
    name: str
    quantity: int
    price: int
    amount: int
    vat_rate: VatRate
    vat: int
    subject: int = SUBJECT_GOODS


@dataclass(frozen=True)
class Receipt:
    """The receipt of one (organization, tax system)."""

    organization_id: int
    tax_system: TaxSystem
    positions: tuple[Position, ...]

    @property
    def total(self) -> int:
        """What this receipt charges, in minor units."""
        return sum(p.amount for p in self.positions)

    @property
    def vat(self) -> int:
        """The VAT in this receipt, in minor units."""
        return sum(p.vat for p in self.positions)

    def vat_by_rate(self) -> dict[VatRate, tuple[int, int]]:
        """``{rate: (amount, vat)}`` over the positions, in the order the rates first appear."""
        out: dict[VatRate, tuple[int, int]] = {}
        for p in self.positions:
            amount, vat = out.get(p.vat_rate, (0, 0))
            out[p.vat_rate] = (amount + p.amount, vat + p.vat)
        return out


def vat_included(amount: int, rate: VatRate) -> int:
    """VAT contained in ``amount`` minor units at ``rate``, rounded half up to the kopeck."""
    percent = rate.percent
    if percent is None or percent == 0:
        return 0
    return round_half_up(Decimal(amount) * percent / (100 + percent))


def allocate(total: int, weights: Sequence[int]) -> list[int]:
    """Split ``total`` minor units in proportion to ``weights`` by the largest remainder.

    Every share is the floor of its exact quota or one more; the shares add up to
    ``total``. Ties go to the larger weight, then to the earlier position. With all
    weights zero the split is even.
    """
    if total < 0:
        raise ValueError("cannot allocate a negative amount")
    if any(w < 0 for w in weights):
        raise ValueError("weights cannot be negative")
    if not weights:
        if total:
            raise ValueError("nothing to allocate to")
        return []
    if sum(weights) == 0:
        weights = [1] * len(weights)
    whole = sum(weights)
    shares = []
    remainders = []
    for i, w in enumerate(weights):
        share, rest = divmod(total * w, whole)
        shares.append(share)
        remainders.append((-rest, -w, i))
    left = total - sum(shares)
    for _rest, _w, i in sorted(remainders)[:left]:
        shares[i] += 1
    return shares


def share_lines(lines: Sequence[SaleLine], discount: int) -> list[LineShare]:
    """Each line's discount share, final amount and VAT."""
    totals = [ln.total for ln in lines]
    if any(t < 0 for t in totals):
        raise ValueError("a line total cannot be negative")
    if discount < 0:
        raise ValueError("the discount cannot be negative")
    if discount > sum(totals):
        raise ValueError("the discount is larger than the items")
    out = []
    for ln, d in zip(lines, allocate(discount, totals), strict=True):
        amount = ln.total - d
        out.append(
            LineShare(
                position=ln.position,
                total=ln.total,
                discount=d,
                amount=amount,
                vat=sum(p.vat for p in positions_of(ln.position, ln.name, ln.quantity, amount, ln.vat_rate)),
            )
        )
    return out


def positions_of(line: int, name: str, quantity: int, amount: int, rate: VatRate) -> list[Position]:
    """The receipt positions of a line: one, or two when ``amount`` does not divide by ``quantity``."""
    if quantity < 1:
        raise ValueError("a quantity must be positive")
    price, odd = divmod(amount, quantity)
    parts = [(quantity - odd, price), (odd, price + 1)] if odd else [(quantity, price)]
    return [Position(line, name, q, p, q * p, rate, vat_included(q * p, rate)) for q, p in parts if q > 0]


def delivery_position(delivery: DeliverySale | None) -> Position | None:
    """The receipt position of a delivery: one service at the fee; None for a free delivery."""
    if delivery is None or delivery.fee == 0:
        return None
    if delivery.fee < 0:
        raise ValueError("the delivery fee cannot be negative")
    fee, rate = delivery.fee, delivery.vat_rate
    return Position(None, delivery.name, 1, fee, fee, rate, vat_included(fee, rate), SUBJECT_SERVICE)


def split_receipts(
    lines: Sequence[SaleLine], discount: int = 0, delivery: DeliverySale | None = None
) -> list[Receipt]:
    """The receipts of an order, one per (organization, tax system) in order of first appearance;
    the delivery, if any, is the last position of its seller's receipt."""
    return receipts_of(lines, share_lines(lines, discount), delivery)


def receipts_of(
    lines: Sequence[SaleLine], shares: Sequence[LineShare], delivery: DeliverySale | None = None
) -> list[Receipt]:
    """The receipts of lines whose shares :func:`share_lines` has already computed, and of the delivery."""
    grouped: dict[tuple[int, TaxSystem], list[Position]] = {}
    for ln, share in zip(lines, shares, strict=True):
        key = (ln.organization_id, ln.tax_system)
        grouped.setdefault(key, []).extend(
            positions_of(ln.position, ln.name, ln.quantity, share.amount, ln.vat_rate)
        )
    fee = delivery_position(delivery)
    if delivery is not None and fee is not None:
        grouped.setdefault((delivery.organization_id, delivery.tax_system), []).append(fee)
    return [Receipt(org, ts, tuple(ps)) for (org, ts), ps in grouped.items()]


def payment_method(payment_kind: str) -> int:
    """Tag 1214 for an order paid this way: prepaid orders are a 100 % prepayment."""
    return METHOD_FULL_PREPAYMENT if payment_kind == "prepaid" else METHOD_FULL_SETTLEMENT


def _money(minor: int) -> str:
    return str(from_minor(minor))


def receipt_document(
    receipt: Receipt,
    organization: dict[str, Any],
    payment_kind: str,
) -> dict[str, Any]:
    """The receipt as JSON close to FFD 1.2: readable fields and an ``ffd`` object keyed by tag.

    ``organization`` carries ``id``, ``name``, ``inn`` and ``kpp``.
    """
    method = payment_method(payment_kind)
    total = receipt.total
    cash = total if payment_kind == "cash" else 0
    electronic = total - cash
    return {
        "organization": {k: organization.get(k) for k in ("id", "name", "inn", "kpp")},
        "tax_system": receipt.tax_system.value,
        "tax_system_code": receipt.tax_system.ffd_code,
        "settlement": SETTLEMENT_INCOME,
        "payment_method": method,
        "total": _money(total),
        "cash": _money(cash),
        "electronic": _money(electronic),
        "vat": [
            {"vat_rate": rate.value, "vat_code": rate.ffd_code, "amount": _money(amount), "vat": _money(vat)}
            for rate, (amount, vat) in receipt.vat_by_rate().items()
        ],
        "items": [
            {
                "line": p.line,
                "name": p.name,
                "quantity": p.quantity,
                "price": _money(p.price),
                "amount": _money(p.amount),
                "vat_rate": p.vat_rate.value,
                "vat_code": p.vat_rate.ffd_code,
                "vat": _money(p.vat),
                "subject": p.subject,
                "payment_method": method,
            }
            for p in receipt.positions
        ],
        "ffd": {
            "1054": SETTLEMENT_INCOME,
            "1055": receipt.tax_system.ffd_code,
            "1018": organization.get("inn"),
            "1048": organization.get("name"),
            "1020": _money(total),
            "1031": _money(cash),
            "1081": _money(electronic),
            "1059": [
                {
                    "1030": p.name,
                    "1079": _money(p.price),
                    "1023": p.quantity,
                    "2108": MEASURE_PIECES,
                    "1043": _money(p.amount),
                    "1199": p.vat_rate.ffd_code,
                    "1200": _money(p.vat),
                    "1212": p.subject,
                    "1214": method,
                }
                for p in receipt.positions
            ],
        },
    }
