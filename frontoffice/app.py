"""The composition root: ``create_app`` builds the kernel (settings, database, auth, events,
sockets) and wires every domain package into it.

This is the one module of the kernel that names the domain packages (the import contract in
``pyproject.toml`` allows exactly these imports); every other kernel module knows none of them.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, request, session
from flask_babel import Babel, get_locale
from werkzeug.middleware.proxy_fix import ProxyFix

import backoffice.wiring
import callcentre.wiring
import couriers.wiring
import fiscal.wiring
import monitor.wiring
import nomenclature.wiring
import notifications.wiring
import orders.wiring
import telephony.wiring
import tracking.wiring
import training.wiring
from couriers.osmand import OsmandMiddleware
from frontoffice.auth import init_auth
from frontoffice.csp import install_content_security_policy
from frontoffice.db import Database, make_engine
from frontoffice.errors import register_error_handlers
from frontoffice.events import EventBus
from frontoffice.guards import install_request_guards
from frontoffice.i18n import LANGUAGES, USER_ROLE
from frontoffice.ids import install_id_converter
from frontoffice.kernel import EXTENSION_KEY, Kernel, kernel_of
from frontoffice.labels import install_label_filters
from frontoffice.metrics import init_metrics
from frontoffice.outbox import Jobs, Relay
from frontoffice.outbox.wiring import register_kernel_jobs, register_outbox_pages
from frontoffice.packages import DomainPackage
from frontoffice.ports import BACKGROUND_SERVICES
from frontoffice.ratelimits import RateLimits
from frontoffice.realtime import make_socketio
from frontoffice.requestlog import RequestIdMiddleware, configure_logging
from frontoffice.settings import Settings

__all__ = [
    "LOGIN_ENDPOINTS",
    "PACKAGES",
    "Kernel",
    "create_app",
    "kernel_of",
    "load_all_models",
    "package_names",
]

#: Every domain package, in the order they are wired: a package comes after those it imports.
PACKAGES: tuple[DomainPackage, ...] = (
    nomenclature.wiring.PACKAGE,
    orders.wiring.PACKAGE,
    callcentre.wiring.PACKAGE,
    couriers.wiring.PACKAGE,
    notifications.wiring.PACKAGE,
    telephony.wiring.PACKAGE,
    fiscal.wiring.PACKAGE,
    tracking.wiring.PACKAGE,
    backoffice.wiring.PACKAGE,
    training.wiring.PACKAGE,
    monitor.wiring.PACKAGE,
)


#: The endpoints that take a password or hand out a token: rate-limited (frontoffice.ratelimits).
LOGIN_ENDPOINTS = (
    "auth.login",
    "tokens_api.create_token",
    "courier_api.open_session",
    "courier_api.refresh_session",
)


def package_names() -> tuple[str, ...]:
    """The names of the domain packages (their Alembic branches too)."""
    return tuple(p.name for p in PACKAGES)


def load_all_models() -> None:
    """Import every package's models so the metadata knows all tables."""
    import frontoffice.models  # noqa: F401
    import frontoffice.outbox.models  # noqa: F401
    import frontoffice.webhooks.models  # noqa: F401

    for package in PACKAGES:
        package.import_models()


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the WSGI app. ``config`` overrides environment settings (lower-case keys)."""
    settings = Settings.from_env(config)
    configure_logging(settings.log_format, settings.log_level)
    app = Flask("frontoffice", instance_path=str(settings.instance_path.resolve()))
    install_id_converter(app)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=settings.max_content_length,
        TESTING=settings.testing,
        JSON_SORT_KEYS=False,
    )
    for key, value in settings.extra.items():
        app.config[key.upper()] = value

    load_all_models()
    db = Database(
        make_engine(
            settings.database_url,
            busy_timeout_ms=settings.sqlite_busy_timeout_ms,
            timeouts=settings.database_timeouts,
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
            # With the relay off, `frontoffice worker` delivers and checkpoints SQLite's WAL (see
            # frontoffice.cli.worker_cmd): the web processes' commits never copy the WAL back.
            wal_autocheckpoint=0 if settings.relay == "off" else 1000,
        )
    )
    bus = EventBus(db.unit_of_work)
    jobs = Jobs()
    relay = Relay(db, bus, settings, jobs)  # journals every commit's events, then delivers them
    socketio = make_socketio(
        app,
        settings.redis_url,
        settings.socketio_channel,
        settings,
        write_only=bool(settings.extra.get("socketio_write_only")),  # frontoffice worker
    )
    kernel = Kernel(settings=settings, db=db, bus=bus, socketio=socketio, jobs=jobs, relay=relay)
    register_kernel_jobs(kernel)
    app.extensions[EXTENSION_KEY] = kernel

    Babel(app, locale_selector=_select_locale)
    kernel.labels.declare(USER_ROLE)
    install_label_filters(app, kernel.labels)
    register_error_handlers(app, retry_after_s=settings.db_retry_after_s)
    install_request_guards(app)
    install_content_security_policy(app, settings.map_tiles_url)
    init_auth(app, settings)
    kernel.metrics = init_metrics(app, kernel)

    from frontoffice import apidocs, audit, home, staff, tokens_api, webhooks

    app.register_blueprint(home.bp)
    app.register_blueprint(apidocs.bp)
    app.register_blueprint(tokens_api.bp)
    staff.register(app, kernel)
    audit.register(app, kernel)
    register_outbox_pages(app, kernel)
    webhooks.register(app, kernel)

    @app.context_processor
    def _inject() -> dict[str, Any]:
        return {
            "kernel_nav": kernel.nav,
            "languages": LANGUAGES,
            "settings": settings,
            "get_locale": get_locale,
        }

    for package in PACKAGES:
        package.register(app, kernel)

    kernel.rate_limits = RateLimits(app, settings)
    kernel.rate_limits.guard_logins(app, LOGIN_ENDPOINTS)

    # What wraps the whole app is installed here, where it can be seen: location pings are the
    # hottest path and are answered in front of Flask (see couriers.osmand); every request gets its
    # id (frontoffice.requestlog); behind nginx, ProxyFix makes the client's address, scheme and
    # host the real ones for everything inside (limits, logs, cookies).
    app.wsgi_app = OsmandMiddleware(app.wsgi_app, kernel)  # type: ignore[method-assign]
    if settings.relay == "thread":
        relay.start()  # delivers what an earlier process journaled and did not deliver
    if settings.extra.get("background_services", True):  # off in commands, the arbiter and tests
        for start in kernel.extensions.all(BACKGROUND_SERVICES):
            start(kernel)  # each decides from the settings whether this process runs it
    app.wsgi_app = RequestIdMiddleware(app.wsgi_app)  # type: ignore[method-assign]
    if settings.trusted_proxies > 0:
        n = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n, x_port=n)  # type: ignore[method-assign]
    return app


def _select_locale() -> str:
    chosen = session.get("lang")
    if chosen in LANGUAGES:
        return chosen
    best = request.accept_languages.best_match(LANGUAGES)
    return best or kernel_of(current_app).settings.locale
