"""The back office's own facts (published after commit through the kernel's event bus)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class TicketResolved:
    """A ticket was resolved (published after commit; the bonus ledger listens)."""

    ticket_id: int
    kind: str
    actor_id: int | None
    at: dt.datetime
    order_id: int | None
    client_phone: str
