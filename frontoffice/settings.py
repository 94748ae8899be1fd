"""Settings read from environment variables (prefix ``FRONTOFFICE_``) and overridable per app."""

from __future__ import annotations

import datetime as dt
import os
import secrets
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from frontoffice.dbhealth import DatabaseTimeouts


def _default_instance_path() -> Path:
    return Path(os.environ.get("FRONTOFFICE_INSTANCE_PATH", Path.cwd() / "instance"))


#: The ways a process can run the outbox relay (``FRONTOFFICE_RELAY``).
RELAY_MODES = ("thread", "inline", "off")


@dataclass(frozen=True)
class Settings:
    """Everything the running service needs to know about its environment."""

    database_url: str = ""
    secret_key: str = ""
    redis_url: str | None = None
    # Redis pub/sub channel of the Socket.IO message queue; processes sharing it hear each other.
    socketio_channel: str = "frontoffice-socketio"
    # Socket.IO connections (docs/deploy.md, "Realtime"): Engine.IO pings every interval and a
    # client silent for interval + timeout is closed; a connection that has not joined an
    # authorised namespace within the grace is closed; connections per client address and in all
    # (0 = no limit); the request header naming the client's address behind a proxy (X-Real-IP).
    socket_ping_interval_s: float = 25.0
    socket_ping_timeout_s: float = 20.0
    socket_join_grace_s: float = 10.0
    socket_per_address: int = 256
    socket_max_connections: int = 10_000
    socket_address_header: str | None = None
    timezone: str = "Europe/Moscow"
    locale: str = "en"
    phone_region: str = "RU"
    currency: str = "RUB"
    instance_path: Path = field(default_factory=_default_instance_path)
    max_content_length: int = 2 * 1024 * 1024
    sqlite_busy_timeout_ms: int = 10_000
    # How long to wait on the database (frontoffice.dbhealth); 0 turns a limit off.
    db_connect_timeout_s: float = 3.0
    db_statement_timeout_s: float = 10.0
    db_pool_timeout_s: float = 5.0
    # Pooled connections each process keeps open, and how many more it may open under load.
    db_pool_size: int = 20
    db_max_overflow: int = 80
    # Retry-After of the 503 answered while the database is unavailable.
    db_retry_after_s: int = 5
    health_timeout_s: float = 2.0
    # An Idempotency-Key's attempt older than this is taken over by a retry (frontoffice.idempotency);
    # records older than the retention are purged.
    idempotency_takeover_s: float = 30.0
    idempotency_retention_h: float = 24.0
    testing: bool = False
    geocoder: str | None = None
    geocoder_domain: str | None = None
    geocoder_scheme: str = "https"
    geocoder_timeout_s: float = 3.0
    geocoder_api_key: str | None = None
    map_tiles_url: str | None = None
    courier_signal_timeout_s: int = 300
    default_organization_id: int | None = None
    # Browser cookies only over HTTPS (set it wherever the service is reached through TLS); also on
    # whenever public_url is https.
    secure_cookies: bool = False
    # The address users reach the service at (https://delivery.example.com); optional.
    public_url: str | None = None
    # How long a browser session lasts without "Keep me logged in" (hours).
    session_lifetime_h: float = 12.0
    # How many proxies (nginx) stand in front of the service: X-Forwarded-For/-Proto/-Host of that
    # many hops are trusted (werkzeug's ProxyFix); 0 trusts none.
    trusted_proxies: int = 0
    # Rate limits (Flask-Limiter notation, "10/minute"; storage: Redis when redis_url is set):
    # failed logins per username and client address; every login or token call per address;
    # location reports per OsmAnd device id. "off" turns one off.
    rate_limit_login_failures: str = "10/minute"
    rate_limit_login_address: str = "100/minute"
    rate_limit_osmand_device: str = "120/minute"
    # Logs: "json" (one object per line, with the request id) or "text".
    log_format: str = "json"
    log_level: str = "INFO"
    # How long "Keep me logged in" keeps a browser logged in.
    remember_days: int = 14
    # How long a bearer token works after it is issued (the courier app refreshes its own); 0: forever.
    token_ttl_days: float = 30.0
    # /metrics: a scraper sends this as a bearer token; without one only loopback callers get in,
    # unless metrics_public opens it to everyone.
    metrics_token: str | None = None
    metrics_public: bool = False
    # The outbox relay (frontoffice.outbox): ``thread`` (a thread of this process, the embedded
    # default), ``inline`` (delivered in the committing thread right after the commit: tests), ``off``
    # (this process only writes the outbox; ``frontoffice worker`` delivers).
    relay: str = "thread"
    # A delivery that fails is retried after relay_backoff_s, doubling up to relay_backoff_max_s; after
    # relay_max_attempts tries it is parked (a dead letter an admin can retry).
    relay_max_attempts: int = 8
    relay_backoff_s: float = 2.0
    relay_backoff_max_s: float = 600.0
    # How often an idle relay looks for rows written by other processes and for due periodic jobs.
    relay_poll_s: float = 1.0
    # Delivered outbox rows are kept this long (for `frontoffice outbox replay`), then purged.
    outbox_retention_days: float = 7.0
    # Courier track points older than this are purged by a periodic job; 0 keeps them forever.
    track_retention_days: float = 90.0
    # Auto-dispatch (a periodic job): the rule's wait until a manager sets one on the dispatch screen
    # (unset: off until switched on there), and how often a round looks for ready orders nobody took.
    courier_auto_dispatch_minutes: float | None = None
    courier_auto_dispatch_interval_s: float = 30.0
    # Webhooks (docs/webhooks.md): the hosts endpoints may point at (comma-separated names, or
    # ``*.example.com`` for its subdomains; none: no endpoint can be registered), how long a receiver
    # may take to answer, and how many tries a delivery gets before it is parked.
    webhook_allowed_hosts: str = ""
    webhook_timeout_s: float = 5.0
    webhook_max_attempts: int = 8
    # Notifications to clients (docs/notifications.md): SMS through SMS.ru's send method (no api_id: no
    # SMS), Telegram through the Bot API (no token: no Telegram), quiet hours on each branch's clock
    # (equal times: none), the language of a client who chose none, a provider's time to answer,
    # tries before a message is parked, minutes past the promise that make an order "late", and
    # how often the late-order job looks.
    notify_smsru_url: str = "https://sms.ru/sms/send"
    notify_smsru_api_id: str = ""
    notify_sms_sender: str = ""
    notify_telegram_url: str = "https://api.telegram.org"
    notify_telegram_token: str = ""
    notify_quiet_start: str = "22:00"
    notify_quiet_end: str = "09:00"
    notify_language: str = "ru"
    notify_timeout_s: float = 5.0
    notify_max_attempts: int = 6
    notify_late_after_min: float = 5.0
    notify_late_every_s: float = 60.0
    # Telephony (docs/telephony.md): which PBX the calls come from (``asterisk``, ``mango``; empty:
    # none, the operators type numbers by hand), how long a PBX may take to answer a command.
    telephony: str = ""
    telephony_timeout_s: float = 5.0
    # Asterisk AMI: where it listens, the manager account, the channel an operator's extension is
    # rung on for click-to-call (``{extension}`` is filled in), the dialplan context the client's
    # number is dialled in, and the longest wait between reconnection attempts.
    ami_host: str = "127.0.0.1"
    ami_port: int = 5038
    ami_username: str = ""
    ami_secret: str = ""
    ami_channel: str = "PJSIP/{extension}"
    ami_context: str = "from-internal"
    ami_reconnect_max_s: float = 30.0
    # Who keeps the AMI link (one per deployment, or every call is recorded and rung twice):
    # ``thread`` (a background task of the serving web process, ringing through its own Socket.IO
    # server: the embedded default), ``process`` (``frontoffice telephony`` beside the web processes,
    # ringing through the Redis queue; the web processes do not connect), ``off`` (nobody), ``auto``
    # (``thread`` without redis_url, ``process`` with it).
    telephony_listener: str = "auto"
    # Mango Office's virtual PBX: the API's base URL and the key and salt that sign requests both ways.
    mango_api_url: str = "https://app.mango-office.ru/vpbx"
    mango_api_key: str = ""
    mango_api_salt: str = ""
    # Fiscal registers (docs/fiscal.md): how long a register may take to answer, how soon an accepted
    # receipt's result is asked for again, and how many unanswered tries a receipt gets before it
    # fails (a manager resends it); tries back off as the relay's do.
    fiscal_timeout_s: float = 10.0
    fiscal_poll_s: float = 2.0
    fiscal_max_attempts: int = 8
    # The customer's tracking page (tracking/, docs/tracking.md): a link works until this many hours
    # after its order was delivered, failed or cancelled; its absolute address is built on public_url.
    tracking_link_ttl_h: float = 24.0
    # How the live ETA measures travel: ``straight_line`` (the straight distance × route_detour_factor
    # at the courier's vehicle speed) or ``osrm`` (an OSRM ``table`` service at osrm_url, with the
    # straight line whenever it fails or takes longer than osrm_timeout_s); the OSRM profile.
    travel_time: str = "straight_line"
    route_detour_factor: float = 1.35
    osrm_url: str | None = None
    osrm_profile: str = "driving"
    osrm_timeout_s: float = 2.0
    # A courier's moves reach the tracking pages at most once per this many seconds (the latest wins).
    tracking_push_interval_s: float = 2.0
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_env(cls, overrides: dict[str, Any] | None = None) -> Settings:
        """Build settings from ``FRONTOFFICE_*`` variables, then apply ``overrides`` (lower-case keys)."""
        values: dict[str, Any] = {}
        for f in fields(cls):
            if f.name == "extra":
                continue
            raw = os.environ.get("FRONTOFFICE_" + f.name.upper())
            if raw is None or raw == "":
                continue
            values[f.name] = _coerce(f.type, raw)
        settings = cls(**values)
        if overrides:
            known = {f.name for f in fields(cls)}
            direct = {k.lower(): v for k, v in overrides.items() if k.lower() in known}
            extra = {k: v for k, v in overrides.items() if k.lower() not in known}
            settings = replace(settings, **direct, extra={**settings.extra, **extra})
        if settings.relay not in RELAY_MODES:
            raise ValueError(
                f"FRONTOFFICE_RELAY must be one of {', '.join(RELAY_MODES)}, not {settings.relay!r}"
            )
        return settings.completed()

    def completed(self) -> Settings:
        """Fill the defaults that depend on other settings (database path, secret key)."""
        changes: dict[str, Any] = {}
        instance = Path(self.instance_path)
        if not self.database_url:
            instance.mkdir(parents=True, exist_ok=True)
            changes["database_url"] = f"sqlite:///{instance / 'frontoffice.sqlite3'}"
        if not self.secret_key:
            changes["secret_key"] = _persistent_secret(instance)
        return replace(self, **changes) if changes else self

    @property
    def database_timeouts(self) -> DatabaseTimeouts:
        """The limits on waiting for the database."""
        return DatabaseTimeouts(
            connect_s=self.db_connect_timeout_s,
            statement_s=self.db_statement_timeout_s,
            pool_s=self.db_pool_timeout_s,
        )

    @property
    def token_lifetime(self) -> dt.timedelta | None:
        """How long a new bearer token works; None when tokens do not expire."""
        return dt.timedelta(days=self.token_ttl_days) if self.token_ttl_days > 0 else None

    @property
    def cookies_secure(self) -> bool:
        """True when browser cookies must be Secure: set so, or served at an https public URL."""
        return self.secure_cookies or (self.public_url or "").lower().startswith("https://")

    @property
    def session_lifetime(self) -> dt.timedelta:
        """How long a browser session lasts."""
        return dt.timedelta(hours=self.session_lifetime_h)

    @property
    def is_sqlite(self) -> bool:
        """True when the database is the embedded SQLite default."""
        return self.database_url.startswith("sqlite")


def _coerce(type_name: Any, raw: str) -> Any:
    text = str(type_name)
    if "bool" in text:
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if "int" in text and "None" in text:
        return int(raw)
    if text == "int":
        return int(raw)
    if text == "float" or ("float" in text and "None" in text):
        return float(raw)
    if "Path" in text:
        return Path(raw)
    return raw


def _persistent_secret(instance: Path) -> str:
    """A random secret kept in the instance folder so sessions survive restarts."""
    instance.mkdir(parents=True, exist_ok=True)
    path = instance / "secret_key"
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_urlsafe(48)
    path.write_text(key)
    path.chmod(0o600)
    return key
