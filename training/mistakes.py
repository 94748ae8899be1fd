"""Which refusals of the quote and of placement count as a trainee's mistake, and of what kind."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

#: The kinds of mistakes a trainer reads, in the order the trainer's page lists them.
MISTAKE_KINDS = ("minimum", "zone", "stop_list", "antifraud", "address")

_BY_TYPE = {
    "below_minimum": "minimum",
    "outside_zones": "zone",
    "branch_out_of_scope": "zone",
    "stopped": "stop_list",
    "item_unavailable": "stop_list",
    "antifraud": "antifraud",
    "no_coordinates": "address",
    "unknown_address": "address",
}


@dataclass(frozen=True)
class Mistake:
    """One refusal a check gave during a call: its kind, the check's code and what it said."""

    kind: str
    code: str
    message: str

    def to_dict(self) -> dict[str, str]:
        """As stored and shown."""
        return {"kind": self.kind, "code": self.code, "message": self.message}


def kind_of(code: str, field: str) -> str | None:
    """The kind of mistake a refusal (its ``type`` code and ``field``) is, None when none of
    minimum, zone, stop-list, antifraud or a missing address part caught it."""
    if code in _BY_TYPE:
        return _BY_TYPE[code]
    if field.split(".")[0] == "address" and code in ("required", "value_error"):
        return "address"
    return None


def mistakes_of(refusals: Iterable[Mapping[str, Any]]) -> list[Mistake]:
    """The mistakes among refusals (``{"type", "field", "message"}``), each (kind, code, message) once."""
    seen: set[tuple[str, str, str]] = set()
    out: list[Mistake] = []
    for r in refusals:
        code, field = str(r.get("type") or ""), str(r.get("field") or "")
        kind = kind_of(code, field)
        if kind is None:
            continue
        key = (kind, code, str(r.get("message") or "")[:300])
        if key not in seen:
            seen.add(key)
            out.append(Mistake(*key))
    return out
