"""Extension points the fiscal package offers (to itself across its modules, and to tests)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from frontoffice.extensions import Slot

if TYPE_CHECKING:
    from fiscal.services import FiscalSender

SENDER: Slot[FiscalSender] = Slot(
    "fiscal.sender",
    "The process's fiscal sender: a pump of the outbox relay's loop that sends due receipts to their "
    "registers and polls the results; the API and pages wake it after a resend.",
)
