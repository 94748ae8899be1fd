"""The kernel object every package's wiring receives, and the one typed way to reach it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import Flask, current_app
from flask_socketio import SocketIO

from frontoffice.db import Database
from frontoffice.events import EventBus
from frontoffice.extensions import Extensions
from frontoffice.labels import Labels
from frontoffice.metrics import Metrics
from frontoffice.outbox import Jobs, Relay
from frontoffice.ratelimits import RateLimits
from frontoffice.settings import Settings

#: Where ``create_app`` keeps the kernel in ``app.extensions``.
EXTENSION_KEY = "frontoffice"


@dataclass
class NavLink:
    """A link in the top bar, shown to the roles that may open it."""

    title: str
    endpoint: str
    roles: frozenset[str]
    order: int = 100


@dataclass
class Kernel:
    """The shared services of one app: settings, database, event bus and outbox relay, periodic
    jobs, sockets, navigation, the label table and the declared extension points (see
    :mod:`frontoffice.extensions`)."""

    settings: Settings
    db: Database
    bus: EventBus
    socketio: SocketIO
    nav: list[NavLink] = field(default_factory=list)
    extensions: Extensions = field(default_factory=Extensions)
    #: What users read for each code; packages declare their vocabularies (see frontoffice.labels).
    labels: Labels = field(default_factory=Labels)
    #: This process's Prometheus registry; packages add collectors to it.
    metrics: Metrics | None = None
    #: The rate limits (logins, tokens, OsmAnd devices); see frontoffice.ratelimits.
    rate_limits: RateLimits | None = None
    #: The deployment's periodic jobs (run once per deployment by the relay; see frontoffice.outbox).
    jobs: Jobs = field(default_factory=Jobs)
    #: The outbox relay: journals each commit's events and delivers them.
    relay: Relay | None = None
    #: The webhooks' projector and sender (frontoffice.webhooks.Webhooks).
    webhooks: Any = None

    def add_nav(self, title: str, endpoint: str, roles: set[str] | frozenset[str], order: int = 100) -> None:
        """Show a page in the top bar to ``roles``."""
        self.nav.append(NavLink(title, endpoint, frozenset(roles), order))
        self.nav.sort(key=lambda n: n.order)


def kernel_of(app: Flask) -> Kernel:
    """The kernel of ``app``."""
    return app.extensions[EXTENSION_KEY]


def current_kernel() -> Kernel:
    """The kernel of the app handling the current request (or app context)."""
    return current_app.extensions[EXTENSION_KEY]
