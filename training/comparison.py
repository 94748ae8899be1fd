"""The comparison of a trainee's order with the order a scripted call expects."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from callcentre.addressing import address_key


@dataclass(frozen=True)
class ExpectedOrder:
    """What a scripted call should end in: items by SKU and quantity, the kind, address, payment."""

    lines: Mapping[str, int]
    kind: str = "delivery"
    address: str = ""
    payment_kind: str = "cash"


@dataclass(frozen=True)
class Difference:
    """One way the trainee's order differs: the field (``lines.<sku>``, ``kind``, ``address``,
    ``payment_kind``), what was expected and what was taken (empty: nothing)."""

    field: str
    expected: str
    actual: str

    def to_dict(self) -> dict[str, str]:
        """As stored and shown."""
        return {"field": self.field, "expected": self.expected, "actual": self.actual}


def quantities(lines: Sequence[tuple[str, int]]) -> dict[str, int]:
    """``(sku, quantity)`` pairs summed per SKU (an item on two lines counts once)."""
    out: dict[str, int] = {}
    for sku, quantity in lines:
        out[sku] = out.get(sku, 0) + quantity
    return out


def same_place(expected: str, taken: str) -> bool:
    """True when the taken address names every word of the expected one, compared as normalised keys
    (spelling, script, "ул."/"улица" folded; a city, entrance or flat added around it is fine)."""
    want = address_key(expected).split()
    got = set(address_key(taken).split())
    return bool(want) and all(w in got for w in want)


def compare(
    expected: ExpectedOrder, lines: Sequence[tuple[str, int]], kind: str, address: str, payment_kind: str
) -> list[Difference]:
    """Every difference between the expected order and the one taken, lines (by SKU) first; none
    when they match. Addresses are compared by :func:`same_place`."""
    out: list[Difference] = []
    taken = quantities(lines)
    for sku in sorted(set(expected.lines) | set(taken)):
        want, got = expected.lines.get(sku, 0), taken.get(sku, 0)
        if want != got:
            out.append(Difference(f"lines.{sku}", str(want) if want else "", str(got) if got else ""))
    if expected.kind != kind:
        out.append(Difference("kind", expected.kind, kind))
    if expected.kind == "delivery" and kind == "delivery" and not same_place(expected.address, address):
        out.append(Difference("address", expected.address, address))
    if expected.payment_kind != payment_kind:
        out.append(Difference("payment_kind", expected.payment_kind, payment_kind))
    return out
