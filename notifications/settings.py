"""The notifications' settings, from ``FRONTOFFICE_NOTIFY_*`` environment variables (an app built
with ``create_app({...})`` may override each by its lower-case name, e.g. ``notify_smsru_api_id``).
docs/notifications.md lists them."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from notifications import rules


@dataclass(frozen=True)
class NotificationSettings:
    """Where messages go and when they may."""

    #: SMS.ru's send method (or a gateway answering like it); no api_id: no SMS channel.
    notify_smsru_url: str = "https://sms.ru/sms/send"
    notify_smsru_api_id: str = ""
    #: A sender name registered with SMS.ru (empty: the account's default).
    notify_sms_sender: str = ""
    #: The Bot API's address and the bot's token (no token: no Telegram channel).
    notify_telegram_url: str = "https://api.telegram.org"
    notify_telegram_token: str = ""
    #: Quiet hours on each branch's local clock ("22:00" to "09:00"); equal times: none.
    notify_quiet_start: str = "22:00"
    notify_quiet_end: str = "09:00"
    #: The language of messages to a client who has not chosen one (en, ru).
    notify_language: str = "ru"
    #: How long a provider may take to answer, and how many tries a message gets before it is parked.
    notify_timeout_s: float = 5.0
    notify_max_attempts: int = 6
    #: An open order this many minutes past its promise gets the "late" apology (once).
    notify_late_after_min: float = 5.0
    #: How often the late-order job looks (once per deployment).
    notify_late_every_s: float = 60.0

    @classmethod
    def read(cls, overrides: Mapping[str, Any]) -> NotificationSettings:
        """From the environment, then ``overrides`` (the app's extra settings), checked."""
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = overrides.get(f.name)
            if raw is None:
                raw = os.environ.get("FRONTOFFICE_" + f.name.upper()) or None
            if raw is None:
                continue
            kind = {"float": float, "int": int}.get(str(f.type), str)
            values[f.name] = kind(raw)
        settings = cls(**values)
        rules.parse_clock(settings.notify_quiet_start)
        rules.parse_clock(settings.notify_quiet_end)
        if settings.notify_language not in rules.LANGUAGES:
            raise ValueError(f"FRONTOFFICE_NOTIFY_LANGUAGE must be one of {', '.join(rules.LANGUAGES)}")
        return settings
