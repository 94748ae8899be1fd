"""Registers the notifications: the channels configured in the environment, the projectors that
write an order's messages (``OrderPlaced``, ``OrderStatusChanged``), the sender (a pump of the relay's
loop), the late-order job, the dossier section, the API and the admin page.

Dossier section contributed to the lookup (``callcentre.ports.DOSSIER_SECTIONS``):

- ``notifications``: the client's latest messages, newest first — ``[{"id", "order_number", "event",
  "event_label", "channel", "status", "status_label", "skip_reason", "created_at", "sent_at",
  "last_error", "message"}, …]``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask

from callcentre.ports import DOSSIER_SECTIONS
from frontoffice.kernel import Kernel
from frontoffice.models import Role
from frontoffice.outbox import RelayPolicy
from frontoffice.packages import DomainPackage
from frontoffice.settings import Settings
from notifications import labels, rules, services
from notifications.adapters import Channel
from notifications.adapters.smsru import SmsRu
from notifications.adapters.telegram import TelegramBot
from notifications.ports import TRACKING_LINK
from orders.events import OrderPlaced, OrderStatusChanged

#: Where ``register`` keeps the package's objects in ``app.extensions``.
EXTENSION_KEY = "notifications"


@dataclass
class Notifications:
    """The notifications of one app: settings, channels, the composer and the sender."""

    settings: Settings
    channels: dict[str, Channel]
    composer: services.Composer
    sender: services.MessageSender


def channels_of(settings: Settings) -> dict[str, Channel]:
    """The channels the settings configure (SMS with an api_id, Telegram with a token)."""
    out: dict[str, Channel] = {}
    if settings.notify_smsru_api_id:
        out["sms"] = SmsRu(
            settings.notify_smsru_url,
            settings.notify_smsru_api_id,
            settings.notify_sms_sender,
            settings.notify_timeout_s,
        )
    if settings.notify_telegram_token:
        out["telegram"] = TelegramBot(
            settings.notify_telegram_url, settings.notify_telegram_token, settings.notify_timeout_s
        )
    return out


def dossier_entry(message: Any, kernel: Kernel) -> dict[str, Any]:
    """A message as a dossier line."""
    event = kernel.labels.text("notification_event", message.event)
    status = kernel.labels.text("notification_status", message.status)
    return {
        "id": message.id,
        "order_number": message.order_number,
        "event": message.event,
        "event_label": event,
        "channel": message.channel,
        "status": message.status,
        "status_label": status,
        "skip_reason": message.skip_reason,
        "created_at": message.created_at.isoformat(),
        "sent_at": message.sent_at.isoformat() if message.sent_at else None,
        "last_error": message.last_error,
        "message": f"{message.order_number}: {event} — {status}",
    }


def register(app: Flask, kernel: Kernel) -> None:
    """Wire the notifications into the app."""
    from notifications import api, views

    kernel.labels.declare(*labels.VOCABULARIES)
    settings = kernel.settings
    rules.check_settings(settings.notify_quiet_start, settings.notify_quiet_end, settings.notify_language)
    channels = channels_of(settings)
    composer = services.Composer(settings, channels, lambda: kernel.extensions.get(TRACKING_LINK))
    policy = RelayPolicy(settings.notify_max_attempts, settings.relay_backoff_s, settings.relay_backoff_max_s)
    sender = services.MessageSender(kernel.db, composer, policy)
    app.extensions[EXTENSION_KEY] = Notifications(settings, channels, composer, sender)

    # Projectors: the message is written in the relay's transaction, once per event however often
    # it is replayed (and once per order and event by the table's unique key).
    kernel.bus.project(OrderPlaced, composer.on_placed)
    kernel.bus.project(OrderStatusChanged, composer.on_status)
    kernel.relay.pumps.append(sender.pump)
    kernel.jobs.every(
        "notification-late-apologies",
        settings.notify_late_every_s,
        lambda: services.write_late_apologies(kernel.db, composer),
        "Writes the late apology of each open order past its promise (once per order).",
    )

    def notifications_section(session: Any, client: Any, phone: str) -> dict[str, Any]:
        return {"notifications": [dossier_entry(m, kernel) for m in services.messages_of(session, phone)]}

    kernel.extensions.add(DOSSIER_SECTIONS, "notifications", notifications_section, order=30)
    app.register_blueprint(api.bp)
    app.register_blueprint(views.bp)
    # The title stays English here; the top bar translates it when it renders.
    kernel.add_nav("Notifications", "notification_pages.overview", frozenset({Role.ADMIN}), order=96)


PACKAGE = DomainPackage("notifications", register)
