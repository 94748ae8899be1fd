"""What every order use case shares: the kinds of orders and payments, lines as asked for and
priced from the catalogue, the business day."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from nomenclature import services as catalogue
from orders.pricing import MAX_QUANTITY, PricedLine

ORDER_KINDS = ("delivery", "pickup")
PAYMENT_KINDS = ("cash", "card_on_delivery", "prepaid")
DEFAULT_LEAD = {"delivery": dt.timedelta(minutes=60), "pickup": dt.timedelta(minutes=30)}


@dataclass(frozen=True)
class LineRequest:
    """A line as asked for: an item by SKU or id, a quantity, the chosen modifier option ids."""

    quantity: int
    sku: str | None = None
    item_id: int | None = None
    comment: str = ""
    modifiers: tuple[int, ...] = ()


def business_date(at: dt.datetime, timezone: str) -> dt.date:
    """The business day of a moment in a branch's time zone."""
    return at.astimezone(ZoneInfo(timezone)).date()


def valid_coordinates(lat: float | None, lon: float | None) -> bool:
    """True for a finite WGS84 pair."""
    return (
        lat is not None
        and lon is not None
        and math.isfinite(lat)
        and math.isfinite(lon)
        and -90 <= lat <= 90
        and -180 <= lon <= 180
    )


def price_lines(
    session: Session,
    requests: Sequence[LineRequest],
    branch_id: int | None = None,
    compiled: catalogue.CatalogueRules | None = None,
) -> tuple[list[PricedLine], list[dict]]:
    """Price lines from the catalogue: modifiers add their deltas, the branch's stop-list refuses."""
    choices = [
        catalogue.LineChoice(quantity=r.quantity, sku=r.sku, item_id=r.item_id, modifiers=tuple(r.modifiers))
        for r in requests
    ]
    found, errors = catalogue.price_items(session, choices, branch_id, MAX_QUANTITY, compiled=compiled)
    priced = [
        PricedLine(
            item_id=p.item_id,
            sku=p.sku,
            name=p.name,
            quantity=req.quantity,
            unit_price=p.unit_price,
            vat_rate=p.catalogue_vat_rate,
            comment=req.comment,
            group_id=p.group_id,
            modifiers=tuple(m.as_dict() for m in p.modifiers),
        )
        for req, p in zip(requests, found, strict=True)
        if p is not None
    ]
    return priced, errors
