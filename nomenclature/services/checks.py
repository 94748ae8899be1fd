"""What every nomenclature use case checks the same way: money bounds and refusing with reasons."""

from __future__ import annotations

from frontoffice.errors import FieldError, InvalidInput

MAX_PRICE = 1_000_000_00


def refuse(what: str, errors: list[FieldError]) -> None:
    """Raise :class:`InvalidInput` listing every problem, if there are any."""
    if errors:
        raise InvalidInput(f"{what}: " + "; ".join(e["message"] for e in errors) + ".", errors=errors)
