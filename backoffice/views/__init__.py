"""Back-office pages: antifraud rules and blacklist, the held-order queue, tickets, bonuses.

One blueprint (``common.bp``, with the templates and static files); each module adds the pages
of one area to it.
"""

from __future__ import annotations

from flask import Flask

from backoffice.views import antifraud, bonuses, tickets
from backoffice.views.common import (
    BONUS_READERS,
    HOLD_DECIDERS,
    RULE_EDITORS,
    TICKET_READERS,
    bp,
)
from frontoffice.kernel import Kernel

__all__ = ["antifraud", "bonuses", "bp", "register_pages", "tickets"]


def register_pages(app: Flask, kernel: Kernel) -> None:
    """Serve the back-office pages and put them in the top bar."""
    app.register_blueprint(bp)
    # Titles stay English here; the top bar translates them when it renders.
    kernel.add_nav("Tickets", "backoffice.tickets_queue", TICKET_READERS, order=20)
    kernel.add_nav("Held orders", "backoffice.held_queue", HOLD_DECIDERS, order=21)
    kernel.add_nav("Antifraud", "backoffice.antifraud_rules", RULE_EDITORS, order=22)
    kernel.add_nav("Bonuses", "backoffice.bonuses_overview", BONUS_READERS, order=23)
