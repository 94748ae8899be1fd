"""The rules of a notification, as plain functions over plain values: which events exist, which are
transactional (sent without the client's consent) and urgent (sent in quiet hours), the default
texts, how a template renders (empty-safe), and when quiet hours let a message go."""

from __future__ import annotations

import datetime as dt
import enum
import string
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from frontoffice.errors import FieldError, field_error


class NotificationEvent(enum.StrEnum):
    """What the client is told about."""

    ORDER_TAKEN = "order_taken"
    COURIER_ON_THE_WAY = "courier_on_the_way"
    DELIVERED = "delivered"
    LATE = "late"
    CANCELLED = "cancelled"


E = NotificationEvent


@dataclass(frozen=True)
class EventRule:
    """How an event's message is treated.

    ``transactional``: the client needs it to receive what they ordered, so it is sent whether or
    not they consented to messages. ``urgent``: useless later, so quiet hours do not hold it back."""

    transactional: bool
    urgent: bool


#: docs/notifications.md explains each choice.
EVENT_RULES: dict[NotificationEvent, EventRule] = {
    E.ORDER_TAKEN: EventRule(transactional=True, urgent=True),
    E.COURIER_ON_THE_WAY: EventRule(transactional=True, urgent=True),
    E.CANCELLED: EventRule(transactional=True, urgent=True),
    E.LATE: EventRule(transactional=False, urgent=True),
    E.DELIVERED: EventRule(transactional=False, urgent=False),
}

LANGUAGES = ("en", "ru")

#: What a template may name.
PLACEHOLDERS = (
    "number",
    "client_name",
    "branch_name",
    "branch_phone",
    "promised_time",
    "tracking_url",
    "minutes_late",
)
#: Placeholders that may render empty: a line whose such placeholder is empty is left out.
OPTIONAL = frozenset({"tracking_url", "branch_phone", "promised_time"})
MAX_BODY = 1000

DEFAULT_TEMPLATES: dict[tuple[str, str], str] = {
    (E.ORDER_TAKEN, "en"): "Order {number} is taken.\nExpected by {promised_time}.\nTrack it: {tracking_url}",
    (E.ORDER_TAKEN, "ru"): "Заказ {number} принят.\nОжидайте к {promised_time}.\nОтследить: {tracking_url}",
    (E.COURIER_ON_THE_WAY, "en"): "Order {number}: the courier is on the way.\n{tracking_url}",
    (E.COURIER_ON_THE_WAY, "ru"): "Заказ {number}: курьер уже в пути.\n{tracking_url}",
    (E.DELIVERED, "en"): "Order {number} is delivered. Thank you, enjoy your meal!",
    (E.DELIVERED, "ru"): "Заказ {number} доставлен. Спасибо, приятного аппетита!",
    (E.LATE, "en"): "Order {number} is running {minutes_late} min late, we are sorry. "
    "It is on its way.\nQuestions: {branch_phone}",
    (E.LATE, "ru"): "Заказ {number} задерживается на {minutes_late} мин, просим прощения. "
    "Мы уже везём его.\nВопросы: {branch_phone}",
    (E.CANCELLED, "en"): "Order {number} is cancelled. Questions: {branch_phone}",
    (E.CANCELLED, "ru"): "Заказ {number} отменён. Вопросы: {branch_phone}",
}


def default_template(event: str, language: str) -> str:
    """The text an event's message has until an admin changes it."""
    return DEFAULT_TEMPLATES[(NotificationEvent(event), language)]


def placeholders_of(body: str) -> list[str]:
    """The placeholder names of a template, in order (raises ValueError on a malformed brace)."""
    return [name for _, name, _, _ in string.Formatter().parse(body) if name is not None]


def check_template(body: str) -> list[FieldError]:
    """What is wrong with a template's text (empty, too long, a malformed brace, an unknown name)."""
    if not body.strip():
        return [field_error("body", "The text is empty.", "notification_body_empty")]
    if len(body) > MAX_BODY:
        return [
            field_error(
                "body", f"The text is over {MAX_BODY} characters.", "notification_body_long", limit=MAX_BODY
            )
        ]
    try:
        names = placeholders_of(body)
    except ValueError:
        return [
            field_error(
                "body", "A { or } is not closed: write {{ or }} for a brace.", "notification_body_braces"
            )
        ]
    unknown = sorted({n for n in names if n not in PLACEHOLDERS})
    if unknown:
        return [
            field_error(
                "body",
                f"Unknown placeholder(s): {', '.join(unknown)}; known: {', '.join(PLACEHOLDERS)}.",
                "notification_body_unknown",
                names=", ".join(unknown),
                known=", ".join(PLACEHOLDERS),
            )
        ]
    return []


def render(body: str, values: dict[str, str | None]) -> str:
    """The text of a message: each placeholder filled; a line whose empty placeholders are all
    optional (no tracking link yet, no promise) is left out rather than sent half-empty."""
    lines = []
    for line in body.splitlines():
        names = placeholders_of(line)
        empty = [n for n in names if not values.get(n)]
        if empty and all(n in OPTIONAL for n in empty):
            continue
        lines.append(line.format_map({n: values.get(n) or "" for n in names}))
    return "\n".join(lines).strip()


def parse_clock(value: str) -> dt.time:
    """``"22:00"`` as a time (ValueError otherwise)."""
    hours, _, minutes = value.strip().partition(":")
    return dt.time(int(hours), int(minutes or 0))


def check_settings(quiet_start: str, quiet_end: str, language: str) -> None:
    """Refuse, at start-up, quiet hours that are not ``HH:MM`` or a language there are no texts in."""
    for name, value in (
        ("FRONTOFFICE_NOTIFY_QUIET_START", quiet_start),
        ("FRONTOFFICE_NOTIFY_QUIET_END", quiet_end),
    ):
        try:
            parse_clock(value)
        except ValueError:
            raise ValueError(f"{name} must be a time of day like 22:00, not {value!r}") from None
    if language not in LANGUAGES:
        raise ValueError(
            f"FRONTOFFICE_NOTIFY_LANGUAGE must be one of {', '.join(LANGUAGES)}, not {language!r}"
        )


def in_quiet_hours(local: dt.time, start: dt.time, end: dt.time) -> bool:
    """True when ``local`` falls in the quiet hours [start, end), which may wrap past midnight."""
    if start == end:
        return False
    if start < end:
        return start <= local < end
    return local >= start or local < end


def release_at(
    now: dt.datetime, timezone: str, start: dt.time, end: dt.time, urgent: bool
) -> dt.datetime | None:
    """When a message may be sent: None for now, else the UTC end of the quiet hours it falls in
    (the branch's local clock; urgent messages are never held)."""
    if urgent:
        return None
    tz = ZoneInfo(timezone)
    local = now.astimezone(tz)
    if not in_quiet_hours(local.time(), start, end):
        return None
    day = local.date() if local.time() < end else local.date() + dt.timedelta(days=1)
    return dt.datetime.combine(day, end, tzinfo=tz).astimezone(dt.UTC)


def event_of_status(from_status: str, to_status: str) -> NotificationEvent | None:
    """The message an order's move deserves: a held order released is "taken" now; on the way,
    delivered, cancelled. Rejected (antifraud) and failed orders are told nothing."""
    if from_status == "on_hold" and to_status == "confirmed":
        return E.ORDER_TAKEN
    return {
        "in_delivery": E.COURIER_ON_THE_WAY,
        "delivered": E.DELIVERED,
        "cancelled": E.CANCELLED,
    }.get(to_status)


def should_send(event: str, consented: bool) -> bool:
    """A client who did not consent gets only transactional messages."""
    return consented or EVENT_RULES[NotificationEvent(event)].transactional
