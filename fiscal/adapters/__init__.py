"""The registers the product fiscalizes on, behind one interface: send a document under an
external id the register dedupes on, then poll its result. One module per kind of register:
``atol_online`` (the cloud service, API v5) and ``atol_webserver`` (ATOL Web Server's Web Requests
on a till). docs/fiscal.md cites each protocol."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import requests


@dataclass(frozen=True)
class Connection:
    """How to reach one register: its address, account and the seller's facts it prints."""

    base_url: str
    group_code: str
    login: str
    secret: str
    inn: str
    payment_address: str
    company_email: str
    timeout_s: float


@dataclass(frozen=True)
class Accepted:
    """The register took the document (or already had it under this external id)."""

    uuid: str


@dataclass(frozen=True)
class Waiting:
    """The register has not fiscalized it yet."""


@dataclass(frozen=True)
class Fiscalized:
    """The receipt is in the fiscal drive: its fiscal sign (tag 1077), document (1040) and receipt
    (1042) numbers, the drive's number (1041) and the date and time (1012)."""

    fiscal_sign: str
    document_number: str
    receipt_number: str
    fn_number: str
    at: str


class Unavailable(Exception):
    """No usable answer (timeout, connection refused, a server error): try again later, with the
    same external id."""


class Refused(Exception):
    """The register refused the document for good (its message says why): a person must look."""


Outcome = Waiting | Fiscalized


def call(provider: str, method: str, url: str, timeout_s: float, **kwargs: Any) -> requests.Response:
    """One HTTP call to a register; :class:`Unavailable` for no answer in time, no connection or a
    server error (the call may be repeated with the same external id)."""
    try:
        resp = requests.request(method, url, timeout=timeout_s, allow_redirects=False, **kwargs)
    except requests.Timeout:
        raise Unavailable(f"{provider} did not answer within {timeout_s:g} s") from None
    except requests.RequestException as exc:
        raise Unavailable(f"{provider} cannot be reached: {type(exc).__name__}") from None
    if resp.status_code >= 500:
        raise Unavailable(f"{provider} answered HTTP {resp.status_code}")
    return resp


class Register(Protocol):
    """One kind of register."""

    #: The most positions one receipt may have.
    max_items: int
    #: Whether the seller's e-mail must be set.
    requires_email: bool

    def send(self, conn: Connection, external_id: str, doc: Mapping[str, Any]) -> Accepted:
        """Send ``doc`` (fiscal.ffd's shape); raise :class:`Unavailable` or :class:`Refused`."""

    def result(self, conn: Connection, uuid: str) -> Outcome:
        """Where the accepted document stands; raise :class:`Unavailable` or :class:`Refused`."""


def registers() -> dict[str, Register]:
    """Every kind of register by its code."""
    from fiscal.adapters.atol_online import AtolOnline
    from fiscal.adapters.atol_webserver import AtolWebServer

    return {"atol_online": AtolOnline(), "atol_webserver": AtolWebServer()}


KINDS = ("atol_online", "atol_webserver")
