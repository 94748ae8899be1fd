"""Mango Office's virtual PBX (VPBX API): its signed call notifications and its callback command.

Every request either way is a form (``application/x-www-form-urlencoded``) of three fields:
``vpbx_api_key`` (the PBX's key), ``json`` (the payload) and ``sign`` =
``sha256(vpbx_api_key + json + vpbx_api_salt)`` in hex — Mango's API documentation
(https://retail.mango-office.ru/support/integratsiya-api/spisok_integratsiy/obshchie_voprosy_po_api_vats_mango_office/), as Mango's published examples and the
``mangoapi`` client (github.com/dasshit/Python-Mango-Office-API) sign them. The PBX posts
``<our base URL>/events/call`` at each change of a call leg (``call_state`` ``Appeared``,
``Connected``, ``OnHold``, ``Disconnected``; ``entry_id`` names the whole call, ``from``/``to``
carry ``number`` and, for an employee, ``extension``; ``to.line_number`` is the number dialled) and
``<our base URL>/events/summary`` once the call is over. Click-to-call is ``commands/callback``:
Mango rings the employee's extension, then dials ``to_number``; ``{"result": 1000}`` means accepted.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import requests

from telephony.adapters import PbxError
from telephony.calls import (
    INBOUND,
    OUTBOUND,
    CallAnswered,
    CallEnded,
    CallFact,
    CallRinging,
    CallStarted,
    digits,
)

#: Mango's result code of an accepted command.
ACCEPTED = 1000


@dataclass(frozen=True)
class MangoConfig:
    """The API's base URL, the key and salt that sign requests both ways, the time to wait."""

    api_url: str
    api_key: str
    api_salt: str
    timeout_s: float = 5.0


def mango_config(settings: Any) -> MangoConfig:
    """The Mango configuration of the app's settings (``FRONTOFFICE_MANGO_*``)."""
    return MangoConfig(
        api_url=settings.mango_api_url.rstrip("/"),
        api_key=settings.mango_api_key,
        api_salt=settings.mango_api_salt,
        timeout_s=float(settings.telephony_timeout_s),
    )


def sign(api_key: str, payload: str, salt: str) -> str:
    """Mango's signature of one request."""
    return hashlib.sha256((api_key + payload + salt).encode("utf-8")).hexdigest()


class BadSignature(Exception):
    """A notification that Mango did not sign with our key and salt."""


def verify(config: MangoConfig, form: Mapping[str, str]) -> dict[str, Any]:
    """The payload of a notification, after checking its key and signature; raises
    :class:`BadSignature` (also for a payload that is not a JSON object)."""
    if not config.api_key or not config.api_salt:
        raise BadSignature("Mango's key and salt are not configured.")
    key, payload, signature = form.get("vpbx_api_key", ""), form.get("json", ""), form.get("sign", "")
    if not hmac.compare_digest(key.encode(), config.api_key.encode()):
        raise BadSignature("The notification names another PBX's key.")
    expected = sign(config.api_key, payload, config.api_salt)
    if not hmac.compare_digest(signature.lower().encode(), expected.encode()):
        raise BadSignature("The notification's signature does not match its content.")
    try:
        data = json.loads(payload)
    except ValueError:
        raise BadSignature("The notification's json is not JSON.") from None
    if not isinstance(data, dict):
        raise BadSignature("The notification's json is not an object.")
    return data


def _side(data: Mapping[str, Any], name: str) -> dict[str, str]:
    side = data.get(name)
    if not isinstance(side, dict):
        return {}
    return {k: str(v) for k, v in side.items() if isinstance(v, str | int) and not isinstance(v, bool)}


def _at(data: Mapping[str, Any], field: str, fallback: dt.datetime) -> dt.datetime:
    stamp = data.get(field)
    if isinstance(stamp, int | float) and not isinstance(stamp, bool) and 0 < stamp < 2**33:
        return dt.datetime.fromtimestamp(stamp, dt.UTC)
    return fallback


def facts_of(
    kind: str, data: Mapping[str, Any], is_extension: Callable[[str], bool], now: dt.datetime
) -> list[CallFact]:
    """The call facts of one notification (``kind`` ``call`` or ``summary``). Each fact list says
    how the call started too, since notifications are not kept between requests."""
    key = str(data.get("entry_id") or "").strip()[:100]
    if not key:
        return []
    src, dst = _side(data, "from"), _side(data, "to")
    own_from = src.get("extension", "")
    outbound = bool(own_from) and is_extension(own_from)
    if outbound:
        started: CallFact = CallStarted(
            key, OUTBOUND, dst.get("number", ""), "", _at(data, "timestamp", now), extension=own_from
        )
    else:
        line = digits(dst.get("line_number") or data.get("line_number") or "")
        started = CallStarted(key, INBOUND, src.get("number", ""), line, _at(data, "timestamp", now))
    if kind == "summary":
        return [started, CallEnded(key, _at(data, "end_time", now))]
    at = _at(data, "timestamp", now)
    state = str(data.get("call_state") or "")
    ext = dst.get("extension", "")
    facts: list[CallFact] = [started]
    if outbound:
        if state == "Connected" and dst.get("number"):
            facts.append(CallAnswered(key, own_from, at))
    elif ext and is_extension(ext):
        if state == "Appeared":
            facts.append(CallRinging(key, ext, at))
        elif state == "Connected":
            facts.append(CallAnswered(key, ext, at))
    return facts


class MangoPbx:
    """Click-to-call through Mango's ``commands/callback``."""

    name = "mango"

    def __init__(self, config: MangoConfig):
        self.config = config

    def originate(self, extension: str, number: str, reference: str) -> None:
        """Ask Mango to ring ``extension`` and then dial ``number``; raises :class:`PbxError`."""
        c = self.config
        payload = json.dumps(
            {"command_id": reference, "from": {"extension": extension}, "to_number": number},
            separators=(",", ":"),
        )
        form = {"vpbx_api_key": c.api_key, "sign": sign(c.api_key, payload, c.api_salt), "json": payload}
        try:
            resp = requests.post(f"{c.api_url}/commands/callback", data=form, timeout=c.timeout_s)
        except requests.RequestException as exc:
            raise PbxError(f"Mango Office did not answer ({exc.__class__.__name__}).") from exc
        try:
            answer = resp.json()
        except ValueError:
            answer = {}
        result = answer.get("result") if isinstance(answer, dict) else None
        if resp.status_code != 200 or result != ACCEPTED:
            detail = (answer.get("message") if isinstance(answer, dict) else None) or resp.reason
            raise PbxError(
                f"Mango Office refused the call (HTTP {resp.status_code}, result {result}: {detail})."
            )
