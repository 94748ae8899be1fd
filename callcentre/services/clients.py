"""Clients: find one by any of their numbers, create, update, and the phone checks they share."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from callcentre.matching import InvalidPhone, match_phone
from callcentre.models import (
    Client,
    ClientPhone,
)
from frontoffice.db import upsert, utcnow
from frontoffice.errors import Conflict, InvalidInput, NotFound, field_error

log = logging.getLogger(__name__)

MAX_MERGE_DEPTH = 5


def phone_or_422(raw: str, region: str, field_name: str = "phone") -> str:
    """The E.164 form of ``raw``, or a 422 naming ``field_name``."""
    try:
        return match_phone(raw, region)
    except InvalidPhone as exc:
        raise InvalidInput(str(exc), errors=[field_error(field_name, str(exc), "invalid_phone")]) from None


def follow_merges(session: Session, client: Client | None) -> Client | None:
    """The live client a (possibly merged) client ended up in."""
    depth = 0
    while client is not None and client.merged_into_id is not None and depth < MAX_MERGE_DEPTH:
        client = session.get(Client, client.merged_into_id)
        depth += 1
    return client


# Built once: the caller lookup is the hottest read of the operator's screen.
_CLIENT_BY_PHONE = select(Client).where(Client.phone == bindparam("phone"))
_CLIENT_BY_EXTRA_PHONE = (
    select(Client)
    .join(ClientPhone, ClientPhone.client_id == Client.id)
    .where(ClientPhone.phone == bindparam("phone"))
)
_EXTRA_PHONES = (
    select(ClientPhone).where(ClientPhone.client_id == bindparam("client_id")).order_by(ClientPhone.id)
)


def find_client(session: Session, phone: str) -> Client | None:
    """The live client with this E.164 number, as main or extra phone (merged duplicates resolved)."""
    client = session.scalars(_CLIENT_BY_PHONE, {"phone": phone}).first()
    if client is None:
        client = session.scalars(_CLIENT_BY_EXTRA_PHONE, {"phone": phone}).first()
    return follow_merges(session, client)


def get_client(session: Session, client_id: int) -> Client:
    """The client, or :class:`NotFound`."""
    client = session.get(Client, client_id)
    if client is None:
        raise NotFound(f"There is no client {client_id}.")
    return client


def extra_phones(session: Session, client_id: int) -> list[ClientPhone]:
    """A client's other numbers, oldest first."""
    return list(session.scalars(_EXTRA_PHONES, {"client_id": client_id}))


def phone_owner(session: Session, phone: str) -> int | None:
    """The id of the client whose main or extra number ``phone`` is, or None."""
    owner = session.scalar(select(Client.id).where(Client.phone == phone))
    if owner is None:
        owner = session.scalar(select(ClientPhone.client_id).where(ClientPhone.phone == phone))
    return owner


def _check_phone_free(session: Session, phone: str, client_id: int | None, field_name: str) -> None:
    owner = phone_owner(session, phone)
    if owner is not None and owner != client_id:
        raise Conflict(
            f"The number {phone} already belongs to client {owner}.",
            errors=[field_error(field_name, f"Already the number of client {owner}.", "phone_taken")],
            client_id=owner,
        )


def clean_tags(tags: Iterable[str]) -> list[str]:
    """Tags trimmed, de-duplicated and capped (40 characters each, 30 tags)."""
    out: list[str] = []
    for tag in tags:
        tag = " ".join(str(tag).split())[:40]
        if tag and tag not in out:
            out.append(tag)
    return out[:30]


@dataclass(frozen=True)
class PhoneEntry:
    """An extra phone as asked for."""

    phone: str
    label: str = ""


def create_client(
    session: Session,
    phone: str,
    *,
    name: str = "",
    notes: str = "",
    tags: Sequence[str] = (),
    marketing_consent: bool = False,
    phones: Sequence[PhoneEntry] = (),
    region: str = "RU",
    now: dt.datetime | None = None,
) -> Client:
    """A new client; 409 if the number (or an extra one) is already someone's."""
    now = now or utcnow()
    main = phone_or_422(phone, region)
    _check_phone_free(session, main, None, "phone")
    extras: list[tuple[str, str]] = []
    for i, entry in enumerate(phones):
        number = phone_or_422(entry.phone, region, f"phones.{i}.phone")
        if number == main or number in (e[0] for e in extras):
            continue
        _check_phone_free(session, number, None, f"phones.{i}.phone")
        extras.append((number, entry.label.strip()[:60]))
    client = Client(
        phone=main,
        name=name.strip(),
        notes=notes.strip(),
        tags=clean_tags(tags),
        marketing_consent=marketing_consent,
        created_at=now,
        updated_at=now,
    )
    session.add(client)
    session.flush()
    for number, label in extras:
        session.add(ClientPhone(client_id=client.id, phone=number, label=label, created_at=now))
    session.flush()
    return client


def ensure_client(session: Session, phone: str, name: str = "", now: dt.datetime | None = None) -> Client:
    """The client of an E.164 number, created (race-free) when the number is new."""
    client = find_client(session, phone)
    if client is not None:
        return client
    now = now or utcnow()
    table = Client.__table__
    session.execute(
        upsert(
            session,
            table,
            {
                "phone": phone,
                "name": name.strip()[:200],
                "notes": "",
                "tags": [],
                "marketing_consent": False,
                "created_at": now,
                "updated_at": now,
            },
            ["phone"],
        )
    )
    client = find_client(session, phone)
    assert client is not None
    return client


_UNSET: Any = object()


def update_client(
    session: Session,
    client_id: int,
    *,
    phone: str = _UNSET,
    name: str = _UNSET,
    notes: str = _UNSET,
    tags: Sequence[str] = _UNSET,
    marketing_consent: bool = _UNSET,
    phones: Sequence[PhoneEntry] = _UNSET,
    region: str = "RU",
    now: dt.datetime | None = None,
) -> Client:
    """Change what is given. A new main number keeps the old one as an extra phone; ``phones`` replaces the extras."""
    now = now or utcnow()
    client = get_client(session, client_id)
    if client.merged_into_id is not None:
        raise Conflict(
            f"Client {client_id} was merged into client {client.merged_into_id}; edit that one.",
            merged_into_id=client.merged_into_id,
        )
    current_extras = extra_phones(session, client.id)
    if phones is not _UNSET:
        wanted: list[tuple[str, str]] = []
        for i, entry in enumerate(phones):
            number = phone_or_422(entry.phone, region, f"phones.{i}.phone")
            if number == client.phone or number in (w[0] for w in wanted):
                continue
            _check_phone_free(session, number, client.id, f"phones.{i}.phone")
            wanted.append((number, entry.label.strip()[:60]))
        by_number = {p.phone: p for p in current_extras}
        for p in current_extras:
            if p.phone not in {w[0] for w in wanted}:
                session.delete(p)
        for number, label in wanted:
            if number in by_number:
                by_number[number].label = label
            else:
                session.add(ClientPhone(client_id=client.id, phone=number, label=label, created_at=now))
        session.flush()
        current_extras = extra_phones(session, client.id)
    if phone is not _UNSET:
        number = phone_or_422(phone, region)
        if number != client.phone:
            _check_phone_free(session, number, client.id, "phone")
            old = client.phone
            for p in current_extras:
                if p.phone == number:
                    session.delete(p)
            session.flush()
            client.phone = number
            session.flush()
            session.add(
                ClientPhone(client_id=client.id, phone=old, label="previous main number", created_at=now)
            )
    if name is not _UNSET:
        client.name = name.strip()
    if notes is not _UNSET:
        client.notes = notes.strip()
    if tags is not _UNSET:
        client.tags = clean_tags(tags)
    if marketing_consent is not _UNSET:
        client.marketing_consent = marketing_consent
    client.updated_at = now
    session.flush()
    return client
