"""The back office's shared objects, as declared slots (provided by ``backoffice.wiring``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from frontoffice.extensions import Slot

if TYPE_CHECKING:
    from backoffice.services import RuleBook

RULEBOOK: Slot[RuleBook] = Slot(
    "backoffice.rulebook", "The process's cache of active antifraud rules (reloaded when they change)."
)
TICKET_SLA_MINUTES: Slot[Mapping[str, int]] = Slot(
    "backoffice.ticket_sla_minutes",
    "Per-kind ticket SLA overrides in minutes from the TICKET_SLA_MINUTES setting (empty: the defaults).",
    default=dict,
)
