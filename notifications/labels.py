"""What users read for the notifications' codes: events, message states, channels, skip reasons
(see frontoffice.labels; declared in wiring)."""

from __future__ import annotations

from flask_babel import lazy_pgettext

from frontoffice.labels import Vocabulary
from notifications import rules
from notifications.models import MessageStatus

E = rules.NotificationEvent

NOTIFICATION_EVENT = Vocabulary(
    "notification_event",
    rules.NotificationEvent,
    {
        E.ORDER_TAKEN: lazy_pgettext("notification event", "Order taken"),
        E.COURIER_ON_THE_WAY: lazy_pgettext("notification event", "Courier on the way"),
        E.DELIVERED: lazy_pgettext("notification event", "Delivered"),
        E.LATE: lazy_pgettext("notification event", "Late, with an apology"),
        E.CANCELLED: lazy_pgettext("notification event", "Cancelled"),
    },
)

NOTIFICATION_STATUS = Vocabulary(
    "notification_status",
    MessageStatus.ALL,
    {
        MessageStatus.PENDING: lazy_pgettext("notification state", "Waiting"),
        MessageStatus.SENT: lazy_pgettext("notification state", "Sent"),
        MessageStatus.FAILED: lazy_pgettext("notification state", "Refused"),
        MessageStatus.PARKED: lazy_pgettext("notification state", "Parked"),
        MessageStatus.SKIPPED: lazy_pgettext("notification state", "Not sent"),
    },
)

NOTIFICATION_CHANNEL = Vocabulary(
    "notification_channel",
    ("sms", "telegram"),
    {
        "sms": lazy_pgettext("notification channel", "SMS"),
        "telegram": lazy_pgettext("notification channel", "Telegram"),
    },
)

SKIP_REASON = Vocabulary(
    "notification_skip_reason",
    ("no_consent", "no_channel"),
    {
        "no_consent": lazy_pgettext("notification skipped", "no consent to messages"),
        "no_channel": lazy_pgettext("notification skipped", "no channel configured"),
    },
)

VOCABULARIES = (NOTIFICATION_EVENT, NOTIFICATION_STATUS, NOTIFICATION_CHANNEL, SKIP_REASON)
