"""Prometheus metrics at ``/metrics``: requests and latencies, open sockets, and what packages add.

The kernel measures every HTTP request (count by method, route and status; latency by
method and route) and counts the open Socket.IO connections per namespace. Packages add
their own gauges through :meth:`Metrics.add_collector` (the kernel stays free of domain
imports): a collector is a function returning ``prometheus_client`` metric families, called
on each scrape. Each app has its own registry, so several apps in one process (tests) do
not clash.

Who may scrape ``/metrics`` (its figures tell outsiders what the business does):

- with ``FRONTOFFICE_METRICS_TOKEN`` set, a scraper sending ``Authorization: Bearer <token>``;
- without one, a scraper on this host — a loopback peer whose request no proxy forwarded
  (a proxy on the same host is a loopback peer too, so a request carrying ``X-Forwarded-For``,
  ``X-Real-IP`` or ``Forwarded`` is treated as an outsider's);
- everyone, with ``FRONTOFFICE_METRICS_PUBLIC=1``.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask, Response, g, request
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from frontoffice.errors import problem

log = logging.getLogger(__name__)

Collect = Callable[[], Iterable[Metric]]
#: The classic text format every Prometheus server reads.
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class _FunctionCollector:
    """Adapts a function to prometheus_client's collector protocol; a failing one is logged and skipped."""

    def __init__(self, fn: Collect):
        self.fn = fn

    def describe(self) -> list[Metric]:
        return []

    def collect(self) -> Iterable[Metric]:
        try:
            return list(self.fn())
        except Exception:  # one broken collector must not break the scrape
            log.exception("metrics collector %r failed", self.fn)
            return []


class Metrics:
    """One app's metrics registry with the kernel's request metrics."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self.requests = Counter(
            "frontoffice_http_requests",
            "HTTP requests answered, by method, route and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "frontoffice_http_request_duration_seconds",
            "Time to answer an HTTP request, by method and route.",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )

    def add_collector(self, collect: Collect) -> None:
        """Call ``collect()`` on every scrape and publish the metric families it returns."""
        self.registry.register(_FunctionCollector(collect))

    def render(self) -> bytes:
        """The text exposition format of every metric."""
        return generate_latest(self.registry)


def _route() -> str:
    rule = request.url_rule
    return rule.rule if rule is not None else "<unmatched>"


def socket_connections(socketio: Any) -> Collect:
    """A collector of the open Socket.IO connections per namespace of this process."""

    def collect() -> Iterable[Metric]:
        family = GaugeMetricFamily(
            "frontoffice_socketio_connections",
            "Socket.IO connections open on this process, by namespace.",
            labels=["namespace"],
        )
        rooms = getattr(getattr(socketio.server, "manager", None), "rooms", {}) or {}
        for namespace, by_room in list(rooms.items()):
            family.add_metric([namespace], len(by_room.get(None, {})))
        return [family]

    return collect


def group_commits(group: Any) -> Collect:
    """A collector of this process's shared write transactions (:mod:`frontoffice.db.grouped`):
    writes divided by transactions is the mean batch."""

    def collect() -> Iterable[Metric]:
        return [
            CounterMetricFamily(
                "frontoffice_group_commit_transactions",
                "Write transactions committed by the group commit of this process.",
                value=group.batches,
            ),
            CounterMetricFamily(
                "frontoffice_group_commit_writes",
                "Callers' writes those transactions carried (several per transaction when they arrived together).",
                value=group.calls,
            ),
        ]

    return collect


PROXY_HEADERS = ("X-Forwarded-For", "X-Real-IP", "Forwarded")


def is_local_caller(remote_addr: str | None, headers: Any) -> bool:
    """True for a request from this host that no proxy forwarded."""
    try:
        address = ipaddress.ip_address(remote_addr or "")
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    local = (mapped or address).is_loopback
    return local and not any(h in headers for h in PROXY_HEADERS)


def refuse_scrape(settings: Any) -> Response | None:
    """The refusal a scrape of ``/metrics`` gets under ``settings``, or None to let it in."""
    if settings.metrics_public:
        return None
    if settings.metrics_token:
        given = request.headers.get("Authorization", "")
        if hmac.compare_digest(given.encode(), f"Bearer {settings.metrics_token}".encode()):
            return None
        return problem(401, "Unauthorized", "Send the metrics token as a bearer token.")
    if is_local_caller(request.remote_addr, request.headers):
        return None
    return problem(
        403,
        "Forbidden",
        "Metrics are served to this host only; set FRONTOFFICE_METRICS_TOKEN to scrape from elsewhere.",
    )


def init_metrics(app: Flask, kernel: Any) -> Metrics:
    """Measure every request, count sockets, serve ``/metrics``; packages find it as ``kernel.metrics``."""
    metrics = Metrics()
    metrics.add_collector(socket_connections(kernel.socketio))
    metrics.add_collector(group_commits(kernel.db.group_commit))

    @app.before_request
    def _start_timer() -> None:
        g._metrics_started = time.perf_counter()

    @app.after_request
    def _observe(response: Response) -> Response:
        route = _route()
        metrics.requests.labels(request.method, route, str(response.status_code)).inc()
        started = g.pop("_metrics_started", None)
        if started is not None:
            metrics.latency.labels(request.method, route).observe(time.perf_counter() - started)
        return response

    def serve_metrics() -> Response:
        """Prometheus text exposition of this process's metrics, for the scrapers let in."""
        refusal = refuse_scrape(kernel.settings)
        if refusal is not None:
            return refusal
        return Response(metrics.render(), headers={"Content-Type": CONTENT_TYPE})

    app.add_url_rule("/metrics", "metrics", serve_metrics)
    return metrics
