"""The JSON API of the back office: antifraud rules, blacklist, held orders, tickets, bonuses.

One blueprint (``common.bp``); each module adds the endpoints of one area to it.
"""

from __future__ import annotations

from backoffice.api import antifraud, bonuses, tickets
from backoffice.api.common import bp

__all__ = ["antifraud", "bonuses", "bp", "tickets"]
