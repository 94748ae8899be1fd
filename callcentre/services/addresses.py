"""A client's delivery addresses: add (without doubling), read, change."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from callcentre.matching import address_key, normalize_text
from callcentre.models import (
    ClientAddress,
)
from callcentre.services.clients import get_client
from callcentre.zones import ZoneIndex
from frontoffice.db import utcnow
from frontoffice.errors import InvalidInput, NotFound, field_error

DOSSIER_ADDRESSES = 20

_ADDRESSES = (
    select(ClientAddress)
    .where(ClientAddress.client_id == bindparam("client_id"))
    .order_by(ClientAddress.last_used_at.desc().nulls_last(), ClientAddress.id.desc())
    .limit(bindparam("limit"))
)

ADDRESS_FIELDS = ("text", "street", "house", "entrance", "floor", "apartment", "intercom", "comment")


@dataclass(frozen=True)
class AddressData:
    """An address as typed: the text, its parts, optional coordinates."""

    text: str = ""
    street: str = ""
    house: str = ""
    entrance: str = ""
    floor: str = ""
    apartment: str = ""
    intercom: str = ""
    comment: str = ""
    lat: float | None = None
    lon: float | None = None

    def display(self) -> str:
        """One line for the courier: the text plus the details that are not in it already."""
        parts = [self.text.strip() or ", ".join(p for p in (self.street, self.house) if p)]
        for label, value in (
            ("apt", self.apartment),
            ("entrance", self.entrance),
            ("floor", self.floor),
            ("intercom", self.intercom),
        ):
            if value.strip():
                parts.append(f"{label} {value.strip()}")
        text = ", ".join(p for p in parts if p)
        if self.comment.strip():
            text += f" ({self.comment.strip()})"
        return text[:500]


def _check_coordinates(lat: float | None, lon: float | None, field_name: str) -> None:
    if (lat is None) != (lon is None):
        raise InvalidInput(
            "Give both coordinates or none.",
            errors=[field_error(field_name, "Give both latitude and longitude, or neither.", "coordinates")],
        )


def _same_place(a: ClientAddress, data: AddressData) -> bool:
    return address_key(a.text) == address_key(data.text) and normalize_text(a.apartment) == normalize_text(
        data.apartment
    )


def add_address(
    session: Session,
    client_id: int,
    data: AddressData,
    *,
    zone_id: int | None = None,
    used: bool = False,
    now: dt.datetime | None = None,
) -> ClientAddress:
    """Save an address of a client; the same text and apartment updates the saved one instead of doubling it."""
    now = now or utcnow()
    client = get_client(session, client_id)
    if not data.text.strip():
        raise InvalidInput(
            "An address needs its text.",
            errors=[field_error("address.text", "Type the address.", "required")],
        )
    _check_coordinates(data.lat, data.lon, "address.lat")
    existing = next(
        (
            a
            for a in session.scalars(select(ClientAddress).where(ClientAddress.client_id == client.id))
            if _same_place(a, data)
        ),
        None,
    )
    address = existing or ClientAddress(client_id=client.id, created_at=now, text="")
    for name in ADDRESS_FIELDS:
        value = getattr(data, name).strip()
        if value or existing is None:
            setattr(address, name, value)
    if data.lat is not None:
        address.lat, address.lon = data.lat, data.lon
    if zone_id is not None or data.lat is not None:
        address.zone_id = zone_id
    if used:
        address.last_used_at = now
    if existing is None:
        session.add(address)
    session.flush()
    return address


def get_address(session: Session, client_id: int, address_id: int) -> ClientAddress:
    """One address of a client, or :class:`NotFound`."""
    address = session.get(ClientAddress, address_id)
    if address is None or address.client_id != client_id:
        raise NotFound(f"Client {client_id} has no address {address_id}.")
    return address


def update_address(
    session: Session,
    client_id: int,
    address_id: int,
    changes: dict[str, Any],
    *,
    zones: ZoneIndex | None = None,
) -> ClientAddress:
    """Change the given fields of an address; new coordinates re-resolve its zone."""
    address = get_address(session, client_id, address_id)
    for name in ADDRESS_FIELDS:
        if name in changes and changes[name] is not None:
            setattr(address, name, str(changes[name]).strip())
    if not address.text:
        raise InvalidInput(
            "An address needs its text.", errors=[field_error("text", "Type the address.", "required")]
        )
    if "lat" in changes or "lon" in changes:
        lat, lon = changes.get("lat", address.lat), changes.get("lon", address.lon)
        _check_coordinates(lat, lon, "lat")
        address.lat, address.lon = lat, lon
        zone = zones.locate(lat, lon) if zones is not None and lat is not None and lon is not None else None
        address.zone_id = zone.id if zone else None
    session.flush()
    return address


def addresses_of(session: Session, client_id: int, limit: int = DOSSIER_ADDRESSES) -> list[ClientAddress]:
    """A client's addresses, the most recently used first."""
    return list(session.scalars(_ADDRESSES, {"client_id": client_id, "limit": limit}))
