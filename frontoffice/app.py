"""The composition root: ``create_app`` wires settings, database, auth, events, sockets and
every domain package's blueprints, namespaces and subscribers."""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, request, session
from flask_babel import Babel, get_locale
from flask_socketio import SocketIO

from frontoffice.auth import init_auth
from frontoffice.db import Database, make_engine
from frontoffice.errors import register_error_handlers
from frontoffice.events import EventBus
from frontoffice.metrics import init_metrics
from frontoffice.migrate import DOMAIN_PACKAGES
from frontoffice.realtime import make_socketio
from frontoffice.settings import Settings

LANGUAGES = ("en", "ru")


@dataclass
class NavLink:
    """A link in the top bar, shown to the roles that may open it."""

    title: str
    endpoint: str
    roles: frozenset[str]
    order: int = 100


@dataclass
class Kernel:
    """What every package's wiring receives: the shared services of one app."""

    settings: Settings
    db: Database
    bus: EventBus
    socketio: SocketIO
    nav: list[NavLink] = field(default_factory=list)
    # Checks/adjusters orders.services.place_order runs on a draft (zones, antifraud, …).
    placement_policies: list[Any] = field(default_factory=list)
    services: dict[str, Any] = field(default_factory=dict)

    def add_nav(self, title: str, endpoint: str, roles: set[str] | frozenset[str], order: int = 100) -> None:
        """Show a page in the top bar to ``roles``."""
        self.nav.append(NavLink(title, endpoint, frozenset(roles), order))
        self.nav.sort(key=lambda n: n.order)


def load_all_models() -> None:
    """Import every package's models so the metadata knows all tables."""
    importlib.import_module("frontoffice.models")
    for name in DOMAIN_PACKAGES:
        try:
            importlib.import_module(f"{name}.models")
        except ModuleNotFoundError as exc:
            if exc.name != f"{name}.models":
                raise


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the WSGI app. ``config`` overrides environment settings (lower-case keys)."""
    settings = Settings.from_env(config)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = Flask("frontoffice", instance_path=str(settings.instance_path.resolve()))
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=settings.max_content_length,
        TESTING=settings.testing,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        JSON_SORT_KEYS=False,
    )
    for key, value in settings.extra.items():
        app.config[key.upper()] = value

    load_all_models()
    db = Database(make_engine(settings.database_url, busy_timeout_ms=settings.sqlite_busy_timeout_ms))
    bus = EventBus(db.unit_of_work)
    db.on_commit(bus.dispatch)
    socketio = make_socketio(app, settings.redis_url, settings.socketio_channel)
    kernel = Kernel(settings=settings, db=db, bus=bus, socketio=socketio)
    app.extensions["frontoffice"] = kernel

    Babel(app, locale_selector=_select_locale)
    register_error_handlers(app)
    init_auth(app)
    init_metrics(app, kernel)

    from frontoffice import apidocs, home, tokens_api

    app.register_blueprint(home.bp)
    app.register_blueprint(apidocs.bp)
    app.register_blueprint(tokens_api.bp)

    @app.context_processor
    def _inject() -> dict[str, Any]:
        return {
            "kernel_nav": kernel.nav,
            "languages": LANGUAGES,
            "settings": settings,
            "get_locale": get_locale,
        }

    for name in DOMAIN_PACKAGES:
        wiring = importlib.import_module(f"{name}.wiring")
        wiring.register(app, kernel)
    return app


def _select_locale() -> str:
    from flask import current_app

    chosen = session.get("lang")
    if chosen in LANGUAGES:
        return chosen
    best = request.accept_languages.best_match(LANGUAGES)
    return best or current_app.extensions["frontoffice"].settings.locale


def kernel_of(app: Flask) -> Kernel:
    """The kernel of an app."""
    return app.extensions["frontoffice"]
