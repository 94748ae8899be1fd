"""The channels a message can leave by, behind one interface: :class:`Channel` takes an address
(a phone in E.164, a Telegram chat id) and a text and answers a :class:`SendResult`. One module per
outside system: ``smsru`` (SMS.ru's HTTP API), ``telegram`` (the Telegram Bot API)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class SendResult:
    """What one try of a send got.

    ``sent``: the provider accepted the message (``provider_id`` is its id). Otherwise ``error``
    says why, ``retry`` whether another try may succeed (a 5xx, a timeout, an empty balance, a rate
    limit) or never will (an unknown number, a chat that does not exist), and ``retry_after_s`` how
    long the provider asked us to wait (Telegram's 429), if it did."""

    sent: bool
    provider_id: str | None = None
    error: str | None = None
    retry: bool = False
    retry_after_s: float | None = None


class Channel(Protocol):
    """One way to reach a client."""

    #: The channel's code in the message log: ``sms``, ``telegram``.
    name: str

    def send(self, to: str, text: str) -> SendResult:
        """Send ``text`` to ``to``; never raises for what the provider or the network did."""


#: How much of a provider's answer an error keeps.
ANSWER_KEPT = 300


def transport_error(exc: BaseException, timeout_s: float) -> SendResult:
    """A try that got no answer: worth another (the provider may not have seen it)."""
    import requests

    if isinstance(exc, requests.Timeout):
        return SendResult(False, error=f"no answer within {timeout_s:g} s", retry=True)
    return SendResult(False, error=f"{type(exc).__name__}: {exc}"[:ANSWER_KEPT], retry=True)
