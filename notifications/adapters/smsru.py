"""SMS through SMS.ru's HTTP API: ``POST https://sms.ru/sms/send`` with ``api_id``, ``to``, ``msg``,
``json=1`` (and ``from``, a registered sender name, when set).

The answer (https://sms.ru/api/send): ``{"status": "OK", "status_code": 100, "sms": {"<phone>":
{"status": "OK", "status_code": 100, "sms_id": "000000-10000000"}}, "balance": 4122.56}``; a
request refused as a whole has ``"status": "ERROR"`` and its ``status_code`` / ``status_text``
at the top (200 a wrong api_id, 201 not enough money on the account, 220 the service briefly
unavailable), a number refused has them in its ``sms`` entry (202 a wrong number, 207 a number
messages may not go to). Codes the account or the service can heal are retried, a number's are
final."""

from __future__ import annotations

from typing import Any

import requests

from notifications.adapters import ANSWER_KEPT, SendResult, transport_error

#: The codes of SMS.ru's answer after which another try never helps: the number itself is refused
#: (202 wrong number or no route, 203 no text, 204 sender not approved, 207 number not allowed,
#: 208 a bad time, 209 the number is on the stop-list).
FINAL_CODES = frozenset({202, 203, 204, 207, 208, 209})
OK_CODE = 100


class SmsRu:
    """The SMS channel over SMS.ru (or any gateway answering the same way at ``url``)."""

    name = "sms"

    def __init__(self, url: str, api_id: str, sender: str = "", timeout_s: float = 5.0):
        self.url = url
        self.api_id = api_id
        self.sender = sender
        self.timeout_s = timeout_s
        self._http = requests.Session()

    def send(self, to: str, text: str) -> SendResult:
        """Send one SMS to ``to`` (E.164; SMS.ru takes the digits)."""
        number = to.lstrip("+")
        form = {"api_id": self.api_id, "to": number, "msg": text, "json": "1"}
        if self.sender:
            form["from"] = self.sender
        try:
            resp = self._http.post(self.url, data=form, timeout=self.timeout_s)
        except requests.RequestException as exc:
            return transport_error(exc, self.timeout_s)
        if resp.status_code >= 500:
            return SendResult(False, error=f"HTTP {resp.status_code}: {resp.text[:ANSWER_KEPT]}", retry=True)
        try:
            answer = resp.json()
        except ValueError:
            return SendResult(
                False, error=f"HTTP {resp.status_code}, not JSON: {resp.text[:ANSWER_KEPT]}", retry=True
            )
        return outcome(answer, number)


def _code(entry: dict[str, Any]) -> int | None:
    try:
        return int(entry.get("status_code"))
    except (TypeError, ValueError):
        return None


def _error(entry: dict[str, Any]) -> str:
    return f"SMS.ru {entry.get('status_code')}: {entry.get('status_text') or entry.get('status')}"[
        :ANSWER_KEPT
    ]


def outcome(answer: Any, number: str) -> SendResult:
    """What an SMS.ru answer to one number means."""
    if not isinstance(answer, dict):
        return SendResult(False, error="SMS.ru answered something that is not an object", retry=True)
    if answer.get("status") != "OK":
        code = _code(answer)
        return SendResult(False, error=_error(answer), retry=code not in FINAL_CODES)
    entry = (answer.get("sms") or {}).get(number)
    if not isinstance(entry, dict):
        return SendResult(False, error=f"SMS.ru's answer does not name {number}", retry=True)
    if entry.get("status") == "OK" and _code(entry) == OK_CODE and entry.get("sms_id"):
        return SendResult(True, provider_id=str(entry["sms_id"]))
    return SendResult(False, error=_error(entry), retry=_code(entry) not in FINAL_CODES)
