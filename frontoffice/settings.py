"""Settings read from environment variables (prefix ``FRONTOFFICE_``) and overridable per app."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any


def _default_instance_path() -> Path:
    return Path(os.environ.get("FRONTOFFICE_INSTANCE_PATH", Path.cwd() / "instance"))


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
    testing: bool = False
    geocoder: str | None = None
    geocoder_domain: str | None = None
    geocoder_scheme: str = "https"
    geocoder_timeout_s: float = 3.0
    map_tiles_url: str | None = None
    courier_signal_timeout_s: int = 300
    default_organization_id: int | None = None
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
    if text == "float":
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
