"""Request and response models of the address directory's API."""

from __future__ import annotations

from pydantic import BaseModel, Field

from frontoffice.schemas import Strict


class AddressSuggestQuery(Strict):
    """What the operator has typed of an address so far."""

    q: str = Field(min_length=2, max_length=300)
    limit: int = Field(default=10, ge=1, le=30)


class AddressSuggestion(BaseModel):
    """A house of the directory that answers the typed text."""

    text: str
    street: str
    house: str
    city: str
    lat: float
    lon: float
    score: float = Field(description="How well the street matched, 0…1 (1: the exact house).")
    zone_id: int | None = Field(default=None, description="The delivery zone of the house, if any.")


class AddressSuggestOut(BaseModel):
    """Directory houses for the typed text, best first (empty when none match)."""

    query: str
    candidates: list[AddressSuggestion]


class AddressImportQuery(Strict):
    """How to read the uploaded file (the body is the file itself)."""

    name: str = Field(
        min_length=1,
        max_length=200,
        description="The file's name: `.osm` (OpenStreetMap XML), `.osm.pbf` or `.csv` say how to read it.",
    )


class AddressImportOut(BaseModel):
    """What the import did; the directory's size after it."""

    rows: int
    streets_added: int
    houses_added: int
    houses_updated: int
    streets: int
    houses: int
