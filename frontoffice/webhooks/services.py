"""Webhook use cases: endpoints (register, change, list), the projector that writes a delivery per
endpoint for each journaled event, and the sender that posts due deliveries, signed, with a
timeout, retrying with backoff and parking after the last try."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests
from sqlalchemy import select
from sqlalchemy.orm import Session

from frontoffice.db import Database, upsert, utcnow
from frontoffice.errors import InvalidInput, NotFound
from frontoffice.outbox import RelayPolicy, current_event_id
from frontoffice.outbox.claims import back_in_line, claim_due
from frontoffice.realtime import event_payload
from frontoffice.webhooks import rules
from frontoffice.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint

log = logging.getLogger(__name__)

#: How much of a receiver's answer a delivery keeps.
RESPONSE_KEPT = 500


@dataclasses.dataclass(frozen=True)
class EndpointChange:
    """Fields of an endpoint to set (None: unchanged)."""

    url: str | None = None
    events: list[str] | None = None
    secret: str | None = None
    active: bool | None = None
    description: str | None = None


def _checked(change: EndpointChange, hosts: frozenset[str], known_events: Iterable[str]) -> None:
    errors = rules.check_endpoint(
        url=change.url, events=change.events, secret=change.secret, hosts=hosts, known_events=known_events
    )
    if errors:
        raise InvalidInput("The webhook endpoint is not valid.", errors=list(errors))


def register_endpoint(
    session: Session, change: EndpointChange, *, hosts: frozenset[str], known_events: Iterable[str]
) -> WebhookEndpoint:
    """Register an endpoint (url, events and secret required)."""
    missing = EndpointChange(
        url=change.url if change.url is not None else "",
        events=change.events if change.events is not None else [],
        secret=change.secret if change.secret is not None else "",
    )
    _checked(
        dataclasses.replace(change, url=missing.url, events=missing.events, secret=missing.secret),
        hosts,
        known_events,
    )
    endpoint = WebhookEndpoint(
        url=missing.url.strip(),
        events=sorted(set(missing.events)),
        secret=missing.secret,
        active=True if change.active is None else change.active,
        description=(change.description or "").strip(),
    )
    session.add(endpoint)
    session.flush()
    return endpoint


def change_endpoint(
    session: Session,
    endpoint_id: int,
    change: EndpointChange,
    *,
    hosts: frozenset[str],
    known_events: Iterable[str],
) -> WebhookEndpoint:
    """Change the given fields of an endpoint."""
    endpoint = get_endpoint(session, endpoint_id)
    _checked(change, hosts, known_events)
    if change.url is not None:
        endpoint.url = change.url.strip()
    if change.events is not None:
        endpoint.events = sorted(set(change.events))
    if change.secret is not None:
        endpoint.secret = change.secret
    if change.active is not None:
        endpoint.active = change.active
    if change.description is not None:
        endpoint.description = change.description.strip()
    endpoint.updated_at = utcnow()
    session.flush()
    return endpoint


def get_endpoint(session: Session, endpoint_id: int) -> WebhookEndpoint:
    """An endpoint, or 404."""
    endpoint = session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None:
        raise NotFound(f"No webhook endpoint {endpoint_id}.")
    return endpoint


def list_endpoints(session: Session) -> list[WebhookEndpoint]:
    """Every endpoint, oldest first."""
    return list(session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.id)))


def deliveries_of(session: Session, endpoint_id: int, limit: int = 100) -> list[WebhookDelivery]:
    """An endpoint's latest deliveries, newest first."""
    get_endpoint(session, endpoint_id)
    return list(
        session.scalars(
            select(WebhookDelivery)
            .where(WebhookDelivery.endpoint_id == endpoint_id)
            .order_by(WebhookDelivery.id.desc())
            .limit(limit)
        )
    )


def retry_delivery(session: Session, delivery_id: int) -> WebhookDelivery:
    """Put a parked delivery back in line, its tries counted afresh (404 when it is not parked)."""
    delivery = session.get(WebhookDelivery, delivery_id)
    if delivery is None or delivery.status != DeliveryStatus.PARKED:
        raise NotFound(f"No parked webhook delivery {delivery_id}.")
    back_in_line(delivery, DeliveryStatus.PENDING)
    session.flush()
    return delivery


# --- the projector: a delivery per endpoint, in the relay's transaction -------------------------


class Enqueuer:
    """The projector that hears every journaled event: one delivery row per active endpoint that
    names it, unique per (endpoint, event), so a replay adds none. Endpoints are read once per
    ``cache_s`` (a change shows within that)."""

    def __init__(self, cache_s: float = 2.0):
        self.cache_s = cache_s
        self._cached: tuple[float, list[tuple[int, frozenset[str]]]] | None = None
        self._lock = threading.Lock()

    def forget(self) -> None:
        """Read the endpoints again at the next event (after a change in this process)."""
        self._cached = None

    def _endpoints(self, session: Session) -> list[tuple[int, frozenset[str]]]:
        cached = self._cached
        if cached is not None and time.monotonic() - cached[0] < self.cache_s:
            return cached[1]
        with self._lock:
            rows = session.execute(
                select(WebhookEndpoint.id, WebhookEndpoint.events).where(WebhookEndpoint.active)
            ).all()
            endpoints = [(r.id, frozenset(r.events or ())) for r in rows]
            self._cached = (time.monotonic(), endpoints)
            return endpoints

    def __call__(self, session: Session, event: Any) -> None:
        event_id = current_event_id()
        if event_id is None:
            return  # not delivered by the relay (a replay by hand): no id to sign with
        name = rules.event_name(type(event))
        targets = [
            eid for eid, events in self._endpoints(session) if name in events or rules.ALL_EVENTS in events
        ]
        if not targets:
            return
        occurred = next(
            (
                v
                for v in (getattr(event, f, None) for f in ("at", "created_at"))
                if isinstance(v, dt.datetime)
            ),
            utcnow(),
        )
        body = rules.body_of(name, occurred.isoformat(), event_payload(event))
        now = utcnow()
        rows = [
            {
                "endpoint_id": endpoint_id,
                "event_id": event_id,
                "event_type": name,
                "body": body,
                "status": DeliveryStatus.PENDING,
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
            }
            for endpoint_id in targets
        ]
        session.execute(upsert(session, WebhookDelivery.__table__, rows, ["endpoint_id", "event_id"]))


# --- the sender ------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Outcome:
    """What one try got: a status code and the start of the answer, or an error."""

    status_code: int | None
    response: str | None
    error: str | None

    @property
    def delivered(self) -> bool:
        """A 2xx answer."""
        return self.status_code is not None and 200 <= self.status_code < 300


class WebhookSender:
    """Posts due deliveries from a few threads, so one slow receiver holds up only its own."""

    def __init__(
        self,
        db: Database,
        *,
        timeout_s: float,
        policy: RelayPolicy,
        threads: int = 4,
        post: Callable[..., Any] | None = None,
    ):
        self.db = db
        self.timeout_s = timeout_s
        self.policy = policy
        self.threads = threads
        self._pool: ThreadPoolExecutor | None = None
        self._in_flight: set[int] = set()
        self._lock = threading.Lock()
        self._http = threading.local()
        self._post = post

    def _session(self) -> requests.Session:
        http = getattr(self._http, "session", None)
        if http is None:
            http = self._http.session = requests.Session()
        return http

    def pump(self, wait: bool = False) -> int:
        """Claim the due deliveries and send them (in the pool; ``wait``: until they are done).
        How many were claimed."""
        claimed = self.claim()
        if not claimed:
            return 0
        if wait:
            for delivery_id in claimed:
                self.send(delivery_id)
            return len(claimed)
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="webhook-sender")
        for delivery_id in claimed:
            self._pool.submit(self.send, delivery_id)
        return len(claimed)

    def claim(self, limit: int = 50) -> list[int]:
        """Take due deliveries nobody works on (a conditional UPDATE each: one sender wins)."""
        with self._lock:
            busy = set(self._in_flight)
        taken = claim_due(
            self.db,
            WebhookDelivery,
            pending=DeliveryStatus.PENDING,
            hold_s=self.timeout_s + 30,
            limit=limit,
            skip=busy,
        )
        with self._lock:
            self._in_flight.update(taken)
        return taken

    def send(self, delivery_id: int) -> Outcome | None:
        """One try of a claimed delivery, and its outcome recorded."""
        try:
            with self.db.reading() as s:
                row = s.execute(
                    select(
                        WebhookDelivery.event_id,
                        WebhookDelivery.body,
                        WebhookEndpoint.url,
                        WebhookEndpoint.secret,
                    )
                    .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
                    .where(WebhookDelivery.id == delivery_id)
                ).one_or_none()
            if row is None:
                return None
            outcome = self._try(row.url, row.secret, row.event_id, row.body.encode())
            self._record(delivery_id, outcome)
            return outcome
        except Exception:
            log.exception("webhook delivery %s could not be sent or recorded", delivery_id)
            return None
        finally:
            with self._lock:
                self._in_flight.discard(delivery_id)

    def _try(self, url: str, secret: str, event_id: int, body: bytes) -> Outcome:
        headers = rules.headers(secret, event_id, int(time.time()), body)
        post = self._post or self._session().post
        try:
            resp = post(url, data=body, headers=headers, timeout=self.timeout_s, allow_redirects=False)
        except requests.Timeout:
            return Outcome(None, None, f"no answer within {self.timeout_s:g} s")
        except requests.RequestException as exc:
            return Outcome(None, None, f"{type(exc).__name__}: {exc}"[:500])
        return Outcome(resp.status_code, resp.text[:RESPONSE_KEPT], None)

    def _record(self, delivery_id: int, outcome: Outcome) -> None:
        now = utcnow()
        with self.db.unit_of_work() as s:
            delivery = s.get(WebhookDelivery, delivery_id)
            if delivery is None or delivery.status != DeliveryStatus.PENDING:
                return
            delivery.attempts += 1
            delivery.claimed_until = None
            delivery.last_status_code = outcome.status_code
            delivery.last_response = outcome.response
            delivery.last_error = outcome.error
            if outcome.delivered:
                delivery.status = DeliveryStatus.DELIVERED
                delivery.delivered_at = now
            elif delivery.attempts >= self.policy.max_attempts:
                delivery.status = DeliveryStatus.PARKED
                log.error("webhook delivery %s parked after %s tries", delivery_id, delivery.attempts)
            else:
                delivery.next_attempt_at = now + dt.timedelta(seconds=self.policy.delay(delivery.attempts))

    def shutdown(self) -> None:
        """Stop the pool (waits for the sends under way)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
