"""Back-office tickets as plain rules: kinds, states, the moves between them, SLA deadlines."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping


class TicketKind(enum.StrEnum):
    """What the client came with."""

    COMPLAINT = "complaint"
    QUESTION = "question"
    REFUND = "refund"
    QUALITY = "quality"


class TicketStatus(enum.StrEnum):
    """Where a ticket is in its life."""

    OPEN = "open"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    REJECTED = "rejected"


T = TicketStatus

#: Every allowed move: taken into work, then resolved or rejected (spam can be rejected at once).
TRANSITIONS: dict[TicketStatus, frozenset[TicketStatus]] = {
    T.OPEN: frozenset({T.IN_PROGRESS, T.REJECTED}),
    T.IN_PROGRESS: frozenset({T.RESOLVED, T.REJECTED, T.OPEN}),
    T.RESOLVED: frozenset(),
    T.REJECTED: frozenset(),
}
OPEN_STATES = frozenset({T.OPEN, T.IN_PROGRESS})
CLOSED_STATES = frozenset({T.RESOLVED, T.REJECTED})
#: Closing needs a word on how (it goes to the client's dossier).
NEEDS_NOTE = CLOSED_STATES

#: Minutes the back office has to close a ticket of each kind.
DEFAULT_SLA_MINUTES: dict[str, int] = {
    TicketKind.COMPLAINT: 120,
    TicketKind.QUESTION: 240,
    TicketKind.REFUND: 24 * 60,
    TicketKind.QUALITY: 8 * 60,
}


class IllegalTicketMove(ValueError):
    """The ticket cannot move from its state to the requested one."""

    def __init__(self, current: TicketStatus, target: TicketStatus):
        self.current = current
        self.target = target
        self.allowed = sorted(TRANSITIONS[current])
        allowed = ", ".join(self.allowed) or "none (the ticket is closed)"
        super().__init__(f"A ticket in state {current} cannot move to {target}; allowed: {allowed}.")


def check_move(current: TicketStatus, target: TicketStatus) -> None:
    """Raise :class:`IllegalTicketMove` unless ``current → target`` is allowed."""
    if target not in TRANSITIONS[current]:
        raise IllegalTicketMove(current, target)


def sla_minutes(kind: str, overrides: Mapping[str, int] | None = None) -> int:
    """The SLA of a kind in minutes: the configured one, else the default."""
    if overrides and kind in overrides:
        return int(overrides[kind])
    return DEFAULT_SLA_MINUTES[TicketKind(kind)]


def due_at(kind: str, created_at: dt.datetime, overrides: Mapping[str, int] | None = None) -> dt.datetime:
    """When a ticket of ``kind`` opened at ``created_at`` must be closed."""
    return created_at + dt.timedelta(minutes=sla_minutes(kind, overrides))


def is_overdue(status: str, due: dt.datetime, now: dt.datetime) -> bool:
    """True for a ticket still open past its deadline."""
    return status in OPEN_STATES and now > due


def minutes_left(due: dt.datetime, now: dt.datetime) -> int:
    """Whole minutes to the deadline; negative once it has passed."""
    return int((due - now).total_seconds() // 60)
