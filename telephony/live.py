"""What the PBX reports, recorded and shown: the calls in the log, a ringing call on the screen of
the operator whose phone rings (``incoming_call`` on ``/callcentre``, to that operator alone)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import threading
import time

from callcentre.sockets import INCOMING_CALL, emit_to_user
from frontoffice.kernel import Kernel
from telephony import services
from telephony.calls import CallFact

log = logging.getLogger(__name__)


class LiveDesk:
    """Records call facts in one transaction each and rings operators' workspaces."""

    #: How long the list of extensions is trusted before it is read again.
    EXTENSIONS_TTL_S = 5.0

    def __init__(self, kernel: Kernel):
        self.kernel = kernel
        self._extensions: set[str] = set()
        self._read_at = 0.0
        self._lock = threading.Lock()

    def is_extension(self, text: str) -> bool:
        """True for an operator's extension (the list is re-read every few seconds)."""
        with self._lock:
            if time.monotonic() - self._read_at > self.EXTENSIONS_TTL_S:
                with self.kernel.db.reading() as s:
                    self._extensions = set(services.extension_map(s))
                self._read_at = time.monotonic()
            return text in self._extensions

    def forget_extensions(self) -> None:
        """The extensions changed: read them again next time."""
        with self._lock:
            self._read_at = 0.0

    def record(self, source: str, facts: list[CallFact]) -> None:
        """Record ``facts``; ring the workspaces of the operators whose phones ring."""
        if not facts:
            return
        with self.kernel.db.unit_of_work() as s:
            rings = services.record_facts(s, source, facts, self.kernel.settings.phone_region)
        for ring in rings:
            payload = dataclasses.asdict(ring)
            del payload["user_id"]
            emit_to_user(self.kernel.socketio, ring.user_id, INCOMING_CALL, payload)

    def settle(self, source: str, open_keys: set[str], at: dt.datetime) -> None:
        """Calls that ended while the PBX link was down are logged as ended."""
        with self.kernel.db.unit_of_work() as s:
            ended = services.settle_calls(s, source, open_keys, at)
        if ended:
            log.info("%s call(s) ended while the %s link was down", ended, source)
