"""Rate limits on the endpoints that take credentials or reports from anyone (Flask-Limiter).

* **Failed logins**, per username and client address (``rate_limit_login_failures``, 10 a minute):
  only answers 401 count, so a wrong password from one address never locks the user out of
  another, and a right one costs nothing. Shared by every login endpoint (browser ``/login``, the
  token endpoints, the courier app's session).
* **Every login or token call** per client address (``rate_limit_login_address``): one address
  cannot spray passwords over many usernames.
* **Location reports** per OsmAnd device id (``rate_limit_osmand_device``): the OsmAnd endpoint
  is answered in front of Flask (``couriers.osmand``), so it asks :meth:`RateLimits.osmand_wait`.

A limit set to ``off`` (or ``0``) is not applied. Counters live in Redis when ``redis_url`` is set (every process of an installation shares them),
in memory otherwise. A refused call gets 429 problem+json with ``Retry-After`` (pages: the error
page, with the same header). The client address is ``REMOTE_ADDR``, which ``ProxyFix``
(``trusted_proxies``) sets to the real client behind nginx.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Iterable

from flask import Flask, request
from flask_limiter import Limiter
from flask_limiter.errors import RateLimitExceeded
from limits import parse as parse_limit

from frontoffice.errors import DomainError
from frontoffice.settings import Settings

log = logging.getLogger(__name__)

#: The scope all login endpoints share for failed attempts.
FAILURES_SCOPE = "login-failures"
ADDRESS_SCOPE = "login-address"
TITLE = "Too many requests"


class TooManyRequests(DomainError):
    """A rate limit refused the call (429); ``Retry-After`` says when to try again."""

    status = 429
    title = TITLE

    def __init__(self, detail: str, retry_after_s: int):
        super().__init__(detail, headers={"Retry-After": str(retry_after_s)}, retry_after=retry_after_s)


def client_address() -> str:
    """The address of the client of this request (the real one behind trusted proxies)."""
    return request.remote_addr or "unknown"


def login_name() -> str:
    """The username a login call names (form ``username``, JSON ``username`` or ``login``)."""
    name = request.form.get("username") if request.form else None
    if not name:
        body = request.get_json(silent=True)
        if isinstance(body, dict):
            name = body.get("username") or body.get("login")
    return str(name or "").strip().lower()[:200]


def _failures_key() -> str:
    return f"{client_address()}|{login_name()}"


#: What turns a limit off.
OFF = frozenset({"", "0", "off", "none"})


def _limit_or_none(text: str) -> str | None:
    """The limit ``text`` names, None when it turns the limit off (``off``, ``0`` or empty)."""
    text = (text or "").strip()
    return None if text.lower() in OFF else text


def _failed(response) -> bool:
    return response.status_code == 401


class RateLimits:
    """The app's limiter and the limits of the kernel; see the module's docstring."""

    def close(self) -> None:
        """Stop the in-memory storage's expiry timer (a thread). The serving command calls it before
        gunicorn forks its worker, which builds an app of its own: a thread of the parent left running
        would end in the child, where gevent no longer knows it (a KeyError at start-up)."""
        timer = getattr(self.limiter.storage, "timer", None)  # limits.storage.MemoryStorage
        if timer is not None:
            timer.cancel()
            timer.join(1.0)

    def __init__(self, app: Flask, settings: Settings):
        storage = settings.redis_url or "memory://"
        self.limiter = Limiter(
            key_func=client_address,
            app=app,
            storage_uri=storage,
            # The same Redis may serve several installations: the channel names this one.
            key_prefix=f"frontoffice-limits:{settings.socketio_channel}",
            strategy="moving-window",
            # A Redis outage must not lock everyone out: the call goes through, the failure is logged.
            swallow_errors=True,
            headers_enabled=False,
        )
        self.settings = settings
        login_failures = _limit_or_none(settings.rate_limit_login_failures)
        login_address = _limit_or_none(settings.rate_limit_login_address)
        self._failures = (
            self.limiter.shared_limit(
                login_failures,
                scope=FAILURES_SCOPE,
                key_func=_failures_key,
                deduct_when=_failed,
                methods=["POST"],
                error_message="Too many failed logins for this username from this address.",
            )
            if login_failures
            else None
        )
        self._address = (
            self.limiter.shared_limit(
                login_address,
                scope=ADDRESS_SCOPE,
                methods=["POST"],
                error_message="Too many login calls from this address.",
            )
            if login_address
            else None
        )
        osmand = _limit_or_none(settings.rate_limit_osmand_device)
        self._osmand = parse_limit(osmand) if osmand else None
        # Only the endpoints guard_logins guards have limits (there are no default or application
        # limits): every other request skips the limiter's resolution of its limits (~0.1 ms).
        self._guarded: set[str] = set()
        self.limiter.request_filter(lambda: request.endpoint not in self._guarded)

        @app.errorhandler(RateLimitExceeded)
        def _too_many(err: RateLimitExceeded):
            limit = self.limiter.current_limit
            wait = limit.reset_at - time.time() if limit is not None else err.limit.limit.get_expiry()
            detail = f"{err.description} Limit: {err.limit.limit}; retry after the time in Retry-After."
            # The kernel's handlers render it: problem+json for the API, the error page for pages.
            return app.handle_user_exception(TooManyRequests(detail, max(1, math.ceil(wait))))

    def guard_logins(self, app: Flask, endpoints: Iterable[str]) -> None:
        """Put the login limits on these endpoints (views registered already)."""
        for name in endpoints:
            self._guarded.add(name)
            view = app.view_functions[name]
            for limit in (self._failures, self._address):
                if limit is not None:
                    view = limit(view)
            app.view_functions[name] = view

    def osmand_wait(self, device_id: str) -> int | None:
        """Count one location report of ``device_id``: None when allowed, else the seconds to wait."""
        if self._osmand is None:
            return None
        keys = (f"frontoffice-limits:{self.settings.socketio_channel}", "osmand", device_id[:200])
        try:
            if self.limiter.limiter.hit(self._osmand, *keys):
                return None
            reset_at, _ = self.limiter.limiter.get_window_stats(self._osmand, *keys)
        except Exception:  # storage unreachable: a location report is never refused for that
            log.warning("rate limit storage unreachable; OsmAnd report let through", exc_info=True)
            return None
        return max(1, math.ceil(reset_at - time.time()))
