"""Webhooks: admins register endpoints (``/admin/webhooks``, ``/api/v1/webhooks``); every journaled
event an endpoint names becomes a delivery, written by the outbox relay with the event's other
bookkeeping (once per endpoint and event), then posted, signed per Standard Webhooks, by the relay's
loop (thread or worker) with a timeout, retries with backoff, and a parked state an admin can retry.
See docs/webhooks.md."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask

from frontoffice.kernel import Kernel
from frontoffice.models import Role
from frontoffice.outbox import RelayPolicy
from frontoffice.webhooks import rules
from frontoffice.webhooks.services import Enqueuer, WebhookSender


@dataclass
class Webhooks:
    """The webhooks of one app: the projector that writes deliveries, the sender that posts them."""

    enqueuer: Enqueuer
    sender: WebhookSender
    kernel: Kernel

    @property
    def hosts(self) -> frozenset[str]:
        """The hosts endpoints may point at (``FRONTOFFICE_WEBHOOK_ALLOWED_HOSTS``)."""
        return rules.allowed_hosts(self.kernel.settings.webhook_allowed_hosts)

    def known_events(self) -> list[str]:
        """The names of the events an endpoint may hear, sorted."""
        return sorted({rules.event_name(t) for t in self.kernel.bus.journaled_types()})


def register(app: Flask, kernel: Kernel) -> None:
    """The projector (hears every journaled event), the sender (a pump of the relay's loop), the
    API and the admin pages."""
    from frontoffice.webhooks import api, views

    settings = kernel.settings
    enqueuer = Enqueuer()
    policy = RelayPolicy(
        settings.webhook_max_attempts, settings.relay_backoff_s, settings.relay_backoff_max_s
    )
    sender = WebhookSender(kernel.db, timeout_s=settings.webhook_timeout_s, policy=policy)
    kernel.webhooks = Webhooks(enqueuer, sender, kernel)
    kernel.bus.project(object, enqueuer)
    kernel.relay.pumps.append(sender.pump)
    app.register_blueprint(api.bp)
    app.register_blueprint(views.bp)
    # The title stays English here; the top bar translates it when it renders.
    kernel.add_nav("Webhooks", "webhook_pages.endpoints", frozenset({Role.ADMIN}), order=95)
