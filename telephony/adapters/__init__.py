"""The PBXes calls come from, behind one interface each way.

Incoming: each adapter turns what its PBX reports into the facts of :mod:`telephony.calls`
(``asterisk_ami.AmiLink`` from the AMI event stream, ``mango.facts_of`` from Mango's signed
notifications), which :mod:`telephony.live` records and shows. Outgoing: a :class:`Pbx` calls an
operator's extension and connects it to a client's number (click-to-call).
"""

from __future__ import annotations

from typing import Any, Protocol


class PbxError(Exception):
    """The PBX could not be reached or refused a command; ``message`` says why, for people."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class Pbx(Protocol):
    """A PBX that can ring an operator's extension and then dial a client from it."""

    #: ``asterisk`` or ``mango``: the ``source`` of the calls it reports.
    name: str

    def originate(self, extension: str, number: str, reference: str) -> None:
        """Ring ``extension``; once the operator picks up, dial ``number`` (digits, E.164 without
        ``+``). ``reference`` names the request (AMI ActionID, Mango command_id). Raises
        :class:`PbxError`."""


def make_pbx(settings: Any) -> Pbx | None:
    """The PBX the settings name (``FRONTOFFICE_TELEPHONY``), or None without one."""
    kind = (settings.telephony or "").strip().lower()
    if not kind:
        return None
    if kind == "asterisk":
        from telephony.adapters.asterisk_ami import AmiPbx, ami_config

        return AmiPbx(ami_config(settings))
    if kind == "mango":
        from telephony.adapters.mango import MangoPbx, mango_config

        return MangoPbx(mango_config(settings))
    raise ValueError(f"FRONTOFFICE_TELEPHONY must be asterisk or mango, not {kind!r}")
