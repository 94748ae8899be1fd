"""The in-process event bus: domain events are dispatched to subscribers after commit.

Services queue events with :func:`frontoffice.db.publish`; the database calls
:meth:`EventBus.dispatch` once the transaction commits, so nobody hears of a change
that was rolled back. A failing subscriber is logged and never undoes the commit or
stops the other subscribers.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

Handler = Callable[[Any], None]


class EventBus:
    """Maps event classes to their subscribers."""

    def __init__(self) -> None:
        self._handlers: dict[type, list[Handler]] = defaultdict(list)

    def subscribe(self, event_type: type, handler: Handler) -> None:
        """Call ``handler(event)`` for every committed event of ``event_type`` (or a subclass)."""
        self._handlers[event_type].append(handler)

    def handlers_for(self, event_type: type) -> list[Handler]:
        """Every handler that hears ``event_type``, most general class last."""
        out: list[Handler] = []
        for klass in event_type.__mro__:
            out.extend(self._handlers.get(klass, ()))
        return out

    def dispatch(self, events: list[Any]) -> None:
        """Deliver committed events in order."""
        for ev in events:
            for handler in self.handlers_for(type(ev)):
                try:
                    handler(ev)
                except Exception:  # a subscriber's failure must not affect the caller
                    log.exception("subscriber %r failed on %r", handler, ev)
