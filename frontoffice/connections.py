"""Who holds a realtime connection: limits per client address and in all, and the grace a new
connection has to join an authorised namespace.

Plain bookkeeping, no Flask and no Socket.IO: :mod:`frontoffice.realtime` asks the ledger when a
connection opens, tells it when one is admitted (it joined a namespace that checked who it is) or
closes, and closes what :meth:`ConnectionLedger.overdue` returns.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

#: Why a connection was refused (the Engine.IO handshake answers 401 with it).
PER_ADDRESS = "too many connections from this address"
FULL = "too many connections"


@dataclass(frozen=True)
class ConnectionLimits:
    """``per_address`` and ``total`` open connections (0: no limit); seconds to join a namespace."""

    per_address: int = 256
    total: int = 10_000
    join_grace_s: float = 10.0


@dataclass
class _Connection:
    address: str
    deadline: float
    admitted: bool = False


class ConnectionLedger:
    """The open connections of one process, by id; safe to call from several threads."""

    def __init__(self, limits: ConnectionLimits, clock: Callable[[], float] = time.monotonic):
        self.limits = limits
        self._clock = clock
        self._lock = threading.Lock()
        self._open: dict[str, _Connection] = {}
        self._per_address: Counter[str] = Counter()
        self.refused = 0

    def open(self, sid: str, address: str) -> str | None:
        """Record a new connection from ``address``; the reason to refuse it, or None if it may stay."""
        limits = self.limits
        with self._lock:
            if limits.total and len(self._open) >= limits.total:
                self.refused += 1
                return FULL
            if limits.per_address and self._per_address[address] >= limits.per_address:
                self.refused += 1
                return PER_ADDRESS
            self._open[sid] = _Connection(address, self._clock() + limits.join_grace_s)
            self._per_address[address] += 1
        return None

    def admit(self, sid: str) -> None:
        """The connection joined an authorised namespace: it may stay past the grace."""
        with self._lock:
            found = self._open.get(sid)
            if found is not None:
                found.admitted = True

    def close(self, sid: str) -> None:
        """The connection is gone."""
        with self._lock:
            found = self._open.pop(sid, None)
            if found is None:
                return
            self._per_address[found.address] -= 1
            if self._per_address[found.address] <= 0:
                del self._per_address[found.address]

    def overdue(self) -> list[str]:
        """Connections past their grace that joined no authorised namespace, each listed once."""
        now = self._clock()
        with self._lock:
            late = [sid for sid, c in self._open.items() if not c.admitted and c.deadline <= now]
            for sid in late:
                self._open[sid].deadline = float("inf")  # being closed; not listed again
        return late

    @property
    def count(self) -> int:
        """Open connections."""
        return len(self._open)

    def from_address(self, address: str) -> int:
        """Open connections from one address."""
        with self._lock:
            return self._per_address[address]
