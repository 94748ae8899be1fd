"""The event bus: who hears which domain event.

Services queue events with :func:`frontoffice.db.publish`; the outbox (:mod:`frontoffice.outbox`)
journals them in the same transaction and its relay delivers them after the commit, so nobody
hears of a change that was rolled back and nothing committed goes unheard. Events declared
*live only* (:meth:`EventBus.live_only`, e.g. courier positions: too many to journal) skip the
journal and go straight to their handlers after the commit. A failing handler is logged and never
undoes the commit or stops the other subscribers.

Three kinds of subscriber:

* handlers (:meth:`EventBus.subscribe`) get ``handler(event)`` and do what they like
  (relay to sockets, wake a thread, open their own transaction);
* nudges (:meth:`EventBus.nudge`) get ``nudge(event)`` right after the commit, in the committing
  process, before the relay delivers the event: for a screen that only needs to hear *that*
  something changed and re-reads the database (the monitor's coalesced updates), where the relay's
  round trip would be the larger part of the latency. Never journaled nor replayed: a nudge lost in
  a crash is healed by the screen's next heartbeat;
* projectors (:meth:`EventBus.project`) keep bookkeeping tables in step with the events:
  they get ``projector(session, event)`` and write through that session. Every projector
  of one commit's events runs in ONE write transaction opened by the bus, instead of one
  transaction each. Projectors must only touch the database and be idempotent per event:
  if any of them fails, that shared transaction is rolled back and every projector is run
  again in a transaction of its own, so the failure is logged and the others still land.

Training events (an event whose ``training`` field is true: an order a trainee took) are journaled
like any other, but every kind of subscriber hears them only if it subscribed with
``training=True``: the one place that keeps a trainee's orders away from screens, metrics, loyalty,
bonuses, webhooks and anything that leaves the process (docs/architecture.md, "Durable events").
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

log = logging.getLogger(__name__)

Handler = Callable[[Any], None]
Projector = Callable[[Any, Any], None]
UnitOfWork = Callable[[], AbstractContextManager[Any]]


def is_training(event: Any) -> bool:
    """True for a training event (its ``training`` field is true): only opted-in subscribers hear it."""
    return getattr(event, "training", False) is True


class EventBus:
    """Maps event classes to their subscribers (handlers and projectors)."""

    def __init__(self, unit_of_work: UnitOfWork | None = None) -> None:
        self._handlers: dict[type, list[Handler]] = defaultdict(list)
        self._projectors: dict[type, list[Projector]] = defaultdict(list)
        self._unit_of_work = unit_of_work
        self._types: dict[str, type] = {}
        self._live: set[type] = set()
        self._nudges: dict[type, list[Handler]] = defaultdict(list)
        #: ``(kind, subscriber)`` of the subscriptions that opted in to training events.
        self._training: set[tuple[str, Any]] = set()

    def known_types(self) -> dict[str, type]:
        """Every event class somebody hears, by its journal name (``module.QualName``)."""
        return self._types

    def declare(self, *event_types: type) -> None:
        """Name events a package publishes that no subscriber of this app hears (yet): they are
        journaled all the same, and webhooks may offer them."""
        for event_type in event_types:
            self._know(event_type)

    def live_only(self, event_type: type) -> None:
        """Deliver ``event_type`` to its handlers right after the commit, without journaling it
        (for facts too frequent to keep and useless late: positions). It may have no projectors."""
        self._live.add(event_type)
        self._know(event_type)

    def journaled_types(self) -> list[type]:
        """Every event class somebody hears that goes through the outbox (not live only)."""
        return [t for t in self._types.values() if t not in self._live and t is not object]

    def is_live(self, event: Any) -> bool:
        """True when ``event`` is not journaled (see :meth:`live_only`)."""
        return type(event) in self._live

    def _know(self, event_type: type) -> None:
        self._types[f"{event_type.__module__}.{event_type.__qualname__}"] = event_type

    def subscribe(self, event_type: type, handler: Handler, *, training: bool = False) -> None:
        """Call ``handler(event)`` for every committed event of ``event_type`` (or a subclass);
        training events too only with ``training=True``."""
        self._handlers[event_type].append(handler)
        self._opt_in("handler", handler, training)
        self._know(event_type)

    def _opt_in(self, kind: str, subscriber: Any, training: bool) -> None:
        if training:
            self._training.add((kind, subscriber))

    def _hears(self, kind: str, subscriber: Any, event: Any) -> bool:
        return not is_training(event) or (kind, subscriber) in self._training

    def nudge(self, event_type: type, handler: Handler, *, training: bool = False) -> None:
        """Call ``handler(event)`` right after each commit of an ``event_type`` (or a subclass), in the
        committing process, before the relay delivers it (see the module docstring: fast, not durable);
        training events too only with ``training=True``."""
        self._nudges[event_type].append(handler)
        self._opt_in("nudge", handler, training)
        self._know(event_type)

    def nudge_all(self, events: list[Any]) -> None:
        """Give just-committed events to their nudges; a failing one is logged and skipped."""
        for ev in events:
            for klass in type(ev).__mro__:
                for handler in self._nudges.get(klass, ()):
                    if not self._hears("nudge", handler, ev):
                        continue
                    try:
                        handler(ev)
                    except Exception:
                        log.exception("nudge %r failed on %r", handler, ev)

    def project(self, event_type: type, projector: Projector, *, training: bool = False) -> None:
        """Call ``projector(session, event)`` for every committed event of ``event_type``
        (training events too only with ``training=True``).

        The session is a write transaction shared by all projectors of the same commit;
        it commits after the last of them. Needs a bus built with a ``unit_of_work``.
        """
        if self._unit_of_work is None:
            raise RuntimeError("this EventBus has no unit_of_work: projectors cannot run")
        if event_type in self._live:
            raise RuntimeError(f"{event_type.__name__} is live only: it cannot have projectors")
        self._projectors[event_type].append(projector)
        self._opt_in("projector", projector, training)
        self._know(event_type)

    def handlers_for(self, event_type: type) -> list[Handler]:
        """Every handler that hears ``event_type``, most general class last."""
        out: list[Handler] = []
        for klass in event_type.__mro__:
            out.extend(self._handlers.get(klass, ()))
        return out

    def projectors_for(self, event_type: type) -> list[Projector]:
        """Every projector that hears ``event_type``, most general class last."""
        out: list[Projector] = []
        for klass in event_type.__mro__:
            out.extend(self._projectors.get(klass, ()))
        return out

    def handlers_of(self, event: Any) -> list[Handler]:
        """The handlers that hear this event: :meth:`handlers_for` its class, less those that did not
        opt in when it is a training event."""
        return [h for h in self.handlers_for(type(event)) if self._hears("handler", h, event)]

    def projectors_of(self, event: Any) -> list[Projector]:
        """The projectors that hear this event (see :meth:`handlers_of`)."""
        return [p for p in self.projectors_for(type(event)) if self._hears("projector", p, event)]

    def table(self) -> list[tuple[str, str, str]]:
        """Who hears which event: ``(event class, "projector" | "nudge" | "handler", subscriber)`` rows, sorted
        by event; the source of the event table in docs/architecture.md."""
        rows: list[tuple[str, str, str]] = []
        registries = (("projector", self._projectors), ("nudge", self._nudges), ("handler", self._handlers))
        for kind, registry in registries:
            for event_type, subscribers in registry.items():
                shown = "handler (live only)" if kind == "handler" and event_type in self._live else kind
                # ``object``: heard of every journaled event (the webhooks' projector).
                named = (
                    "* (every journaled event)"
                    if event_type is object
                    else f"{event_type.__module__}.{event_type.__qualname__}"
                )
                for sub in subscribers:
                    rows.append((named, shown, subscriber_name(sub)))
        order = {"projector": 0, "nudge": 1}
        return sorted(rows, key=lambda r: (r[0], order.get(r[1], 2)))

    def dispatch(self, events: list[Any]) -> None:
        """Deliver events to everyone, as a commit and its relay would: the nudges, the projectors'
        bookkeeping, then the handlers (a replay of the events by hand; the relay delivers the journal)."""
        self.nudge_all(events)
        self._project(events)
        self.handle(events)

    def handle(self, events: list[Any]) -> None:
        """Give events to their handlers, in order; a failing handler is logged and skipped."""
        for ev in events:
            for handler in self.handlers_of(ev):
                try:
                    handler(ev)
                except Exception:  # a subscriber's failure must not affect the caller
                    log.exception("subscriber %r failed on %r", handler, ev)

    def _project(self, events: list[Any]) -> None:
        work = [(projector, ev) for ev in events for projector in self.projectors_of(ev)]
        if not work or self._unit_of_work is None:
            return
        try:
            with self._unit_of_work() as session:
                for projector, ev in work:
                    projector(session, ev)
            return
        except Exception:  # rolled back as a whole: retry one by one so the others still land
            log.warning("shared projector transaction failed; running projectors one by one", exc_info=True)
        for projector, ev in work:
            try:
                with self._unit_of_work() as session:
                    projector(session, ev)
            except Exception:
                log.exception("projector %r failed on %r", projector, ev)


def subscriber_name(subscriber: Any) -> str:
    """A subscriber's dotted name, bound methods as ``Class.method``."""
    target = getattr(subscriber, "__func__", subscriber)
    module = getattr(target, "__module__", type(subscriber).__module__)
    name = getattr(target, "__qualname__", type(subscriber).__qualname__)
    return f"{module}.{name}".replace(".<locals>", "")
