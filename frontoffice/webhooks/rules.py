"""The rules of a webhook, as plain functions: what an endpoint may be, the event names, the body,
and the Standard Webhooks signature (``webhook-id``, ``webhook-timestamp``, ``webhook-signature``:
``v1,`` + base64 of HMAC-SHA256 over ``id.timestamp.body``)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from frontoffice.errors import FieldError, field_error

MIN_SECRET = 24
MAX_SECRET = 200
MAX_URL = 2000
#: Standard Webhooks' serialized secrets: ``whsec_`` + base64 of the key bytes.
SECRET_PREFIX = "whsec_"
#: Every event an endpoint may name in its ``events``.
ALL_EVENTS = "*"


def event_name(event_type: type) -> str:
    """A webhook's name for an event class: ``OrderPlaced`` → ``order_placed``."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", event_type.__name__).lower()


def allowed_hosts(setting: str) -> frozenset[str]:
    """``FRONTOFFICE_WEBHOOK_ALLOWED_HOSTS`` as a set of lower-case names and ``*.suffix`` patterns."""
    return frozenset(h.strip().lower() for h in setting.split(",") if h.strip())


def host_allowed(host: str, allowed: Iterable[str]) -> bool:
    """True when ``host`` is one of ``allowed`` or a subdomain of a ``*.name`` there."""
    host = host.lower().rstrip(".")
    for pattern in allowed:
        if pattern.startswith("*."):
            if host.endswith(pattern[1:]) and host != pattern[2:]:
                return True
        elif host == pattern:
            return True
    return False


def check_endpoint(
    *,
    url: str | None,
    events: list[str] | None,
    secret: str | None,
    hosts: frozenset[str],
    known_events: Iterable[str],
) -> list[FieldError]:
    """What is wrong with an endpoint's fields (those given: None is "unchanged"), field by field."""
    errors: list[FieldError] = []
    if url is not None:
        parts = urlsplit(url.strip()) if len(url) <= MAX_URL else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
            errors.append(
                field_error("url", "The URL must be http:// or https:// with a host.", "webhook_url_scheme")
            )
        elif not host_allowed(parts.hostname, hosts):
            errors.append(
                field_error(
                    "url",
                    f"Host {parts.hostname} is not in FRONTOFFICE_WEBHOOK_ALLOWED_HOSTS.",
                    "webhook_host_not_allowed",
                    host=parts.hostname,
                )
            )
    if events is not None:
        known = set(known_events)
        unknown = [e for e in events if e != ALL_EVENTS and e not in known]
        if not events:
            errors.append(field_error("events", "Name at least one event (or *).", "webhook_no_events"))
        elif unknown:
            errors.append(
                field_error(
                    "events",
                    f"Unknown event(s): {', '.join(unknown)}.",
                    "webhook_unknown_event",
                    names=", ".join(unknown),
                )
            )
    if secret is not None:
        if not MIN_SECRET <= len(secret) <= MAX_SECRET:
            errors.append(
                field_error(
                    "secret",
                    f"A secret has {MIN_SECRET} to {MAX_SECRET} characters.",
                    "webhook_secret_length",
                    min_length=MIN_SECRET,
                    max_length=MAX_SECRET,
                )
            )
        elif secret.startswith(SECRET_PREFIX) and len(_decoded(secret) or b"") < MIN_SECRET:
            errors.append(
                field_error(
                    "secret", "A whsec_ secret is base64 of at least 24 bytes.", "webhook_secret_format"
                )
            )
    return errors


def _decoded(secret: str) -> bytes | None:
    try:
        return base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        return None


def signing_key(secret: str) -> bytes:
    """The HMAC key of a secret: a ``whsec_`` secret's base64-decoded bytes (Standard Webhooks),
    any other secret's UTF-8 bytes."""
    if secret.startswith(SECRET_PREFIX):
        decoded = _decoded(secret)
        if decoded:
            return decoded
    return secret.encode()


def signature(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header: ``v1,<base64 HMAC-SHA256 of id.timestamp.body>``."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(signing_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def message_id(event_id: int) -> str:
    """The ``webhook-id`` of an event: the same for every try and every endpoint."""
    return f"evt_{event_id}"


def body_of(event_type: str, occurred_at: str, data: dict[str, Any]) -> str:
    """The JSON a delivery sends: ``{"type", "timestamp", "data"}`` (Standard Webhooks' payload shape)."""
    return json.dumps(
        {"type": event_type, "timestamp": occurred_at, "data": data},
        separators=(",", ":"),
        ensure_ascii=False,
    )


def headers(secret: str, event_id: int, timestamp: int, body: bytes) -> dict[str, str]:
    """The headers of one try."""
    msg_id = message_id(event_id)
    return {
        "content-type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(secret, msg_id, timestamp, body),
        "user-agent": "delivery-frontoffice-webhooks/1",
    }
