"""What happens to calls, told from the PBX's reports (pure: no Flask, no session).

Both adapters turn what their PBX says into the same facts — a call started, rang an operator's
extension, was answered, ended — and :func:`outcome` says how an ended call is logged. The AMI
side is :class:`AmiCallTracker`: Asterisk reports channels, not calls, so it follows the channels of
one call (their common ``Linkedid``) through ``Newchannel``, ``DialBegin``, ``BridgeEnter`` and
``Hangup`` (https://docs.asterisk.org/Asterisk_20_Documentation/API_Documentation/AMI_Events/).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

INBOUND = "in"
OUTBOUND = "out"

RINGING = "ringing"
TALKING = "talking"
ANSWERED = "answered"
MISSED = "missed"
ABANDONED = "abandoned"
#: The states of a call that is over.
FINAL = frozenset({ANSWERED, MISSED, ABANDONED})
#: Every state, in the order a call goes through them (the label family ``call_status``).
STATUSES = (RINGING, TALKING, ANSWERED, MISSED, ABANDONED)
DIRECTIONS = (INBOUND, OUTBOUND)

#: What PBXes put in the caller id when the caller withheld the number.
WITHHELD = frozenset(
    {"", "<unknown>", "unknown", "anonymous", "restricted", "private", "unavailable", "withheld", "null"}
)


def is_withheld(number: str | None) -> bool:
    """True when the caller id says nothing about who calls."""
    return (number or "").strip().lower() in WITHHELD


def digits(number: str | None) -> str:
    """Only the digits of a number as the PBX writes it (``+7 (843) 200-10-10`` → ``78432001010``)."""
    return "".join(ch for ch in (number or "") if ch.isdigit())


def outcome(answered: bool, rang: bool) -> str:
    """How a call that ended is logged: answered, missed (an operator's phone rang, nobody took
    it) or abandoned (the caller gave up before any operator's phone rang)."""
    if answered:
        return ANSWERED
    return MISSED if rang else ABANDONED


@dataclass(frozen=True)
class CallStarted:
    """A call began: ``number`` is the client's (the caller's, or the one an operator dials)."""

    key: str
    direction: str
    number: str
    line: str
    at: dt.datetime
    extension: str = ""


@dataclass(frozen=True)
class CallRinging:
    """An operator's extension rings with the call."""

    key: str
    extension: str
    at: dt.datetime


@dataclass(frozen=True)
class CallAnswered:
    """The call was taken at ``extension``."""

    key: str
    extension: str
    at: dt.datetime


@dataclass(frozen=True)
class CallEnded:
    """The call is over; ``observed`` is False when it ended while nobody listened (the PBX link was
    down) and ``at`` is when that was found out."""

    key: str
    at: dt.datetime
    observed: bool = True


CallFact = CallStarted | CallRinging | CallAnswered | CallEnded

_CHANNEL = re.compile(r"^[A-Za-z0-9_]+/(?P<peer>[^-@;/]+)")


def peer_of(channel: str | None) -> str:
    """The device part of an Asterisk channel name (``PJSIP/101-0000002a`` → ``101``)."""
    match = _CHANNEL.match(channel or "")
    return match.group("peer") if match else ""


@dataclass
class _Call:
    key: str
    direction: str
    extension: str = ""
    rung: set[str] = field(default_factory=set)
    answered: bool = False
    #: Uniqueid of a channel → the extension it rings.
    legs: dict[str, str] = field(default_factory=dict)


class AmiCallTracker:
    """Follows the AMI event stream and tells the call facts it implies, one event at a time.

    ``is_extension(text)`` says whether a number or device is an operator's extension (the
    operators' extensions change while the link is up, so it is asked each time)."""

    def __init__(self, is_extension: Callable[[str], bool]):
        self.is_extension = is_extension
        self.calls: dict[str, _Call] = {}

    def _extension(self, channel: str | None, *numbers: str | None) -> str:
        for candidate in (peer_of(channel), *numbers):
            if candidate and self.is_extension(candidate):
                return candidate
        return ""

    def feed(self, event: Mapping[str, str], at: dt.datetime) -> list[CallFact]:
        """The facts one AMI event implies (none for events that change no call)."""
        name = event.get("Event", "")
        handler = {
            "Newchannel": self._new_channel,
            "DialBegin": self._dial_begin,
            "BridgeEnter": self._bridge_enter,
            "Hangup": self._hangup,
        }.get(name)
        return handler(event, at) if handler else []

    def _new_channel(self, ev: Mapping[str, str], at: dt.datetime) -> list[CallFact]:
        unique, linked = ev.get("Uniqueid", ""), ev.get("Linkedid") or ev.get("Uniqueid", "")
        if not unique or unique != linked or linked in self.calls:
            return []  # a later leg of a call already followed
        own = self._extension(ev.get("Channel"), ev.get("CallerIDNum"))
        if own:  # an operator's phone starts it: an outgoing call (dialled or originated)
            self.calls[linked] = _Call(linked, OUTBOUND, extension=own)
            return [CallStarted(linked, OUTBOUND, ev.get("Exten", ""), "", at, extension=own)]
        self.calls[linked] = _Call(linked, INBOUND)
        return [CallStarted(linked, INBOUND, ev.get("CallerIDNum", ""), digits(ev.get("Exten")), at)]

    def _dial_begin(self, ev: Mapping[str, str], at: dt.datetime) -> list[CallFact]:
        call = self.calls.get(ev.get("Linkedid") or ev.get("Uniqueid", ""))
        if call is None or call.direction != INBOUND:
            return []
        ext = self._extension(ev.get("DestChannel"), ev.get("DestCallerIDNum"), ev.get("DestExten"))
        if not ext:
            return []  # a queue, a ring group or another trunk: its own legs ring the phones
        call.legs[ev.get("DestUniqueid", "")] = ext
        if ext in call.rung:
            return []
        call.rung.add(ext)
        return [CallRinging(call.key, ext, at)]

    def _bridge_enter(self, ev: Mapping[str, str], at: dt.datetime) -> list[CallFact]:
        call = self.calls.get(ev.get("Linkedid") or ev.get("Uniqueid", ""))
        unique = ev.get("Uniqueid", "")
        if call is None or call.answered or unique == call.key:
            return []
        if call.direction == OUTBOUND:
            call.answered = True  # the client's leg joined the operator's
            return [CallAnswered(call.key, call.extension, at)]
        ext = call.legs.get(unique) or self._extension(ev.get("Channel"), ev.get("CallerIDNum"))
        if not ext:
            return []
        call.answered = True
        call.extension = ext
        return [CallAnswered(call.key, ext, at)]

    def _hangup(self, ev: Mapping[str, str], at: dt.datetime) -> list[CallFact]:
        unique = ev.get("Uniqueid", "")
        if unique not in self.calls:
            return []  # one leg of a call that goes on (an operator's phone that stopped ringing)
        del self.calls[unique]
        return [CallEnded(unique, at)]

    def resync(self, channels: Iterable[Mapping[str, str]], at: dt.datetime) -> list[CallFact]:
        """After the link was down: the facts that bring the calls followed in line with the
        channels Asterisk lists now (``CoreShowChannel`` events). Calls that ended meanwhile end;
        calls that began meanwhile start (and are answered when their channels share a bridge)."""
        listed = list(channels)
        by_call: dict[str, list[Mapping[str, str]]] = {}
        for ch in listed:
            by_call.setdefault(ch.get("Linkedid") or ch.get("Uniqueid", ""), []).append(ch)
        facts: list[CallFact] = [
            CallEnded(key, at, observed=False) for key in list(self.calls) if key not in by_call
        ]
        for key in [f.key for f in facts]:
            del self.calls[key]
        for key, legs in by_call.items():
            first = next((ch for ch in legs if ch.get("Uniqueid") == key), None)
            if first is None:
                continue
            if key not in self.calls:
                facts += self._new_channel({**first, "Linkedid": key}, at)
            call = self.calls.get(key)
            if call is None or call.answered:
                continue
            bridged = [ch for ch in legs if ch.get("BridgeId") and ch.get("Uniqueid") != key]
            for ch in legs:
                ext = self._extension(ch.get("Channel"), ch.get("CallerIDNum"))
                if call.direction == INBOUND and ext and ch.get("Uniqueid") != key:
                    call.legs[ch.get("Uniqueid", "")] = ext
                    if ext not in call.rung:
                        call.rung.add(ext)
                        facts.append(CallRinging(key, ext, at))
            if bridged:
                facts += self._bridge_enter({**bridged[0], "Linkedid": key}, at)
        return facts

    def open_keys(self) -> set[str]:
        """The calls followed now."""
        return set(self.calls)
