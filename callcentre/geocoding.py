"""Geocoding through geopy: the geocoder named in settings, with a timeout and clear failures.

``FRONTOFFICE_GEOCODER`` names a geopy service (``nominatim``, ``yandex``, ``photon`` …),
``FRONTOFFICE_GEOCODER_DOMAIN`` / ``_SCHEME`` / ``_TIMEOUT_S`` point it at a server
(for example a self-hosted Nominatim). Without a geocoder, or when it fails or times
out, :class:`GeocoderUnavailable` is raised and the operator picks a known address or
drops a pin on the map. Answers are cached in the database by the service layer
(``callcentre.services.cached_geocode`` and ``store_geocode``), keyed by :func:`cache_key`.
"""

from __future__ import annotations

import functools
import inspect
import logging
from dataclasses import dataclass
from typing import Any

from geopy.adapters import RequestsAdapter
from geopy.exc import GeocoderNotFound, GeopyError
from geopy.geocoders import Nominatim, get_geocoder_for_service

from callcentre.matching import normalize_text

log = logging.getLogger(__name__)

USER_AGENT = "delivery-frontoffice/0.1 (call centre)"
MAX_CANDIDATES = 5
MAX_QUERY = 300


class GeocoderUnavailable(Exception):
    """No geocoder is configured, or it failed; the message says which, for the operator."""


@dataclass(frozen=True)
class Candidate:
    """One answer of the geocoder: a display text and WGS84 coordinates."""

    text: str
    lat: float
    lon: float

    def to_json(self) -> dict[str, Any]:
        """As stored in the cache and sent to the browser."""
        return {"text": self.text, "lat": self.lat, "lon": self.lon}


@dataclass(frozen=True)
class GeocoderConfig:
    """Which geocoder to use and how to reach it."""

    service: str | None
    domain: str | None = None
    scheme: str = "https"
    timeout_s: float = 3.0
    api_key: str | None = None
    country_codes: str | None = None

    @property
    def provider(self) -> str:
        """The cache namespace: service and domain, so two servers never share answers."""
        return f"{(self.service or '').lower()}:{self.domain or ''}"[:60]


def cache_key(query: str) -> str:
    """The normalized form of a query under which its answer is cached."""
    return normalize_text(query)[:MAX_QUERY]


class Geocoding:
    """A configured geopy geocoder, built once and reused (it is thread-safe for lookups)."""

    def __init__(self, config: GeocoderConfig):
        self.config = config
        self.error: str | None = None
        self.geocoder: Any = None
        if not config.service:
            self.error = "No geocoder is configured (set FRONTOFFICE_GEOCODER, e.g. nominatim)."
            return
        try:
            klass = get_geocoder_for_service(config.service.lower())
        except GeocoderNotFound:
            self.error = f"Unknown geocoder {config.service!r} in the settings."
            return
        accepted = inspect.signature(klass.__init__).parameters
        offered: dict[str, Any] = {
            "timeout": config.timeout_s,
            "scheme": config.scheme,
            "user_agent": USER_AGENT,
            "api_key": config.api_key,
            # No silent retries: the timeout is what the operator waits, at most.
            "adapter_factory": functools.partial(RequestsAdapter, max_retries=0),
        }
        if config.domain:
            offered["domain"] = config.domain
        kwargs = {k: v for k, v in offered.items() if k in accepted and v is not None}
        try:
            self.geocoder = klass(**kwargs)
        except (GeopyError, TypeError, ValueError) as exc:
            self.error = f"The geocoder {config.service!r} cannot be set up: {exc}"
            self.geocoder = None

    @property
    def available(self) -> bool:
        """True when a geocoder is configured and could be built."""
        return self.geocoder is not None

    def search(
        self, query: str, *, bounds: tuple[float, float, float, float] | None = None
    ) -> list[Candidate]:
        """Ask the geocoder; at most :data:`MAX_CANDIDATES` answers. ``bounds`` (lon/lat box) biases them.

        Raises :class:`GeocoderUnavailable` when there is no geocoder or it fails.
        """
        if self.geocoder is None:
            raise GeocoderUnavailable(self.error or "No geocoder is configured.")
        kwargs: dict[str, Any] = {"exactly_one": False}
        if isinstance(self.geocoder, Nominatim):
            kwargs["limit"] = MAX_CANDIDATES
            if self.config.country_codes:
                kwargs["country_codes"] = self.config.country_codes
            if bounds is not None:
                min_lon, min_lat, max_lon, max_lat = bounds
                kwargs["viewbox"] = [(min_lat, min_lon), (max_lat, max_lon)]
        try:
            found = self.geocoder.geocode(query[:MAX_QUERY], **kwargs)
        except GeopyError as exc:
            log.warning("geocoder %s failed on %r: %s", self.config.provider, query, exc)
            raise GeocoderUnavailable(
                f"The geocoder did not answer ({type(exc).__name__}); use a known address or a pin on the map."
            ) from None
        out: list[Candidate] = []
        for location in found or []:
            try:
                out.append(
                    Candidate(str(location.address), float(location.latitude), float(location.longitude))
                )
            except (TypeError, ValueError):
                continue
        return out[:MAX_CANDIDATES]


def config_from(settings: Any, extra: dict[str, Any] | None = None) -> GeocoderConfig:
    """The geocoder configuration of the app's settings (``GEOCODER_API_KEY`` may come from app config)."""
    extra = extra or {}
    region = (getattr(settings, "phone_region", "") or "").lower() or None
    return GeocoderConfig(
        service=settings.geocoder,
        domain=settings.geocoder_domain,
        scheme=settings.geocoder_scheme or "https",
        timeout_s=float(settings.geocoder_timeout_s),
        api_key=getattr(settings, "geocoder_api_key", None) or extra.get("GEOCODER_API_KEY"),
        country_codes=region,
    )
