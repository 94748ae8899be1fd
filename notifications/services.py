"""Notification use cases: templates (read, change, reset), recipients (Telegram chat, language),
writing an order's message once per event (the relay's projector and the late-order job), the
sender that sends due messages with retries, backoff and parking, and the message log."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from zoneinfo import ZoneInfo

from sqlalchemy import and_, exists, select, update
from sqlalchemy.orm import Session

from callcentre.services import find_client
from frontoffice import audit
from frontoffice.db import Database, upsert, utcnow
from frontoffice.errors import InvalidInput, NotFound, field_error
from frontoffice.outbox import RelayPolicy
from frontoffice.outbox.claims import back_in_line, claim_due
from frontoffice.phones import InvalidPhone, normalize_phone
from frontoffice.settings import Settings
from notifications import rules
from notifications.adapters import Channel, SendResult
from notifications.models import (
    MessageStatus,
    NotificationMessage,
    NotificationRecipient,
    NotificationTemplate,
)
from notifications.ports import TrackingLink
from orders.events import OrderPlaced, OrderStatusChanged
from orders.lateness import minutes_late
from orders.models import Branch, Order
from orders.states import ACTIVE, OrderStatus

log = logging.getLogger(__name__)

#: Open orders that may be late for the client: not one held by antifraud (they were never told it
#: was taken).
LATE_CANDIDATES = ACTIVE - {OrderStatus.ON_HOLD}
#: The audit log's name for a template.
TEMPLATE_ENTITY = audit.Entity.NOTIFICATION_TEMPLATE


# --- templates -------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class TemplateView:
    """An event's template in one language: its text, and whether an admin changed it."""

    event: str
    language: str
    body: str
    edited: bool
    transactional: bool
    urgent: bool


def _checked_key(event: str, language: str) -> rules.NotificationEvent:
    try:
        kind = rules.NotificationEvent(event)
    except ValueError:
        raise NotFound(f"No notification event {event!r}.") from None
    if language not in rules.LANGUAGES:
        raise NotFound(f"No notification language {language!r}.")
    return kind


def list_templates(session: Session) -> list[TemplateView]:
    """Every event's template in every language, by event then language."""
    edited = {(t.event, t.language): t.body for t in session.scalars(select(NotificationTemplate))}
    out = []
    for event in rules.NotificationEvent:
        rule = rules.EVENT_RULES[event]
        for language in rules.LANGUAGES:
            body = edited.get((event.value, language))
            out.append(
                TemplateView(
                    event.value,
                    language,
                    body if body is not None else rules.default_template(event, language),
                    body is not None,
                    rule.transactional,
                    rule.urgent,
                )
            )
    return out


def get_template(session: Session, event: str, language: str) -> TemplateView:
    """One template (404 for an unknown event or language)."""
    _checked_key(event, language)
    return next(t for t in list_templates(session) if t.event == event and t.language == language)


def save_template(session: Session, event: str, language: str, body: str) -> TemplateView:
    """Set an event's text in a language (422 naming ``body`` when it is not a valid template)."""
    _checked_key(event, language)
    errors = rules.check_template(body)
    if errors:
        raise InvalidInput("The template is not valid.", errors=list(errors))
    before = get_template(session, event, language)
    row = session.scalars(
        select(NotificationTemplate).where(
            NotificationTemplate.event == event, NotificationTemplate.language == language
        )
    ).first()
    if row is None:
        row = NotificationTemplate(event=event, language=language, body=body)
        session.add(row)
    row.body = body
    row.updated_at = utcnow()
    session.flush()
    audit.record(
        session,
        audit.Action.UPDATE,
        TEMPLATE_ENTITY,
        f"{event}/{language}",
        {"body": before.body},
        {"body": body},
    )
    return get_template(session, event, language)


def reset_template(session: Session, event: str, language: str) -> TemplateView:
    """Go back to the default text."""
    before = get_template(session, event, language)
    for row in session.scalars(
        select(NotificationTemplate).where(
            NotificationTemplate.event == event, NotificationTemplate.language == language
        )
    ):
        session.delete(row)
    session.flush()
    after = get_template(session, event, language)
    audit.record(
        session,
        audit.Action.UPDATE,
        TEMPLATE_ENTITY,
        f"{event}/{language}",
        {"body": before.body},
        {"body": after.body},
    )
    return after


# --- recipients ------------------------------------------------------------------------------------


def set_recipient(
    session: Session, phone: str, *, telegram_chat_id: int | None, language: str | None, region: str
) -> NotificationRecipient:
    """Record how a client is reached: the Telegram chat they started with the bot (None: SMS), the
    language of their messages (None: the default)."""
    try:
        e164 = normalize_phone(phone, region)
    except InvalidPhone as exc:
        raise InvalidInput(str(exc), errors=[field_error("phone", str(exc), "phone_invalid")]) from None
    if language is not None and language not in rules.LANGUAGES:
        message = f"The language is one of {', '.join(rules.LANGUAGES)}."
        raise InvalidInput(message, errors=[field_error("language", message, "notification_language")])
    row = session.scalars(select(NotificationRecipient).where(NotificationRecipient.phone == e164)).first()
    if row is None:
        row = NotificationRecipient(phone=e164)
        session.add(row)
    row.telegram_chat_id = telegram_chat_id
    row.language = language
    row.updated_at = utcnow()
    session.flush()
    return row


# --- writing a message: once per order and event ---------------------------------------------------


class Composer:
    """Writes an order's message for an event, in the caller's transaction, unless one exists: the
    text from the template, the channel from what the client has and what is configured, skipped
    (and logged so) when the client did not consent to a non-transactional one, held to the end of
    the quiet hours when it is not urgent."""

    def __init__(
        self,
        settings: Settings,
        channels: Mapping[str, Channel],
        tracking_link: Callable[[], TrackingLink],
    ):
        self.settings = settings
        self.channels = channels
        self.tracking_link = tracking_link
        self.quiet = (
            rules.parse_clock(settings.notify_quiet_start),
            rules.parse_clock(settings.notify_quiet_end),
        )

    def on_placed(self, session: Session, event: OrderPlaced) -> None:
        """A new order: "taken", unless antifraud holds it (then when it is released)."""
        if event.status != "on_hold":
            self.write(session, event.order_id, rules.NotificationEvent.ORDER_TAKEN)

    def on_status(self, session: Session, event: OrderStatusChanged) -> None:
        """An order moved: the message the move deserves, if any."""
        kind = rules.event_of_status(event.from_status, event.to_status)
        if kind is not None:
            self.write(session, event.order_id, kind)

    def write(
        self,
        session: Session,
        order_id: int,
        event: rules.NotificationEvent,
        *,
        now: dt.datetime | None = None,
        minutes_late: int | None = None,
    ) -> bool:
        """Write the message (True) unless the order already has one for this event or has no phone."""
        now = now or utcnow()
        order = session.get(Order, order_id)
        if order is None or not order.client_phone:
            return False
        branch: Branch = order.branch
        client = find_client(session, order.client_phone)
        consented = bool(client is not None and client.marketing_consent)
        recipient = session.scalars(
            select(NotificationRecipient).where(NotificationRecipient.phone == order.client_phone)
        ).first()
        language = (recipient.language if recipient else None) or self.settings.notify_language
        channel, address = self._channel(order.client_phone, recipient)
        rule = rules.EVENT_RULES[event]
        status, reason, next_at, deferred = MessageStatus.PENDING, None, now, False
        if not rules.should_send(event, consented):
            status, reason = MessageStatus.SKIPPED, "no_consent"
        elif not channel:
            status, reason = MessageStatus.SKIPPED, "no_channel"
        else:
            held = rules.release_at(now, branch.timezone, *self.quiet, urgent=rule.urgent)
            if held is not None:
                next_at, deferred = held, True
        values = self._values(session, order, branch, minutes_late, client)
        body = rules.render(self._template(session, event, language), values)
        row = {
            "order_id": order.id,
            "order_number": order.number,
            "branch_id": order.branch_id,
            "event": event.value,
            "phone": order.client_phone,
            "channel": channel,
            "recipient": address,
            "language": language,
            "body": body,
            "status": status,
            "skip_reason": reason,
            "attempts": 0,
            "next_attempt_at": next_at,
            "deferred": deferred,
            "created_at": now,
        }
        written = session.execute(
            upsert(session, NotificationMessage.__table__, row, ["order_id", "event"])
        ).rowcount
        return written == 1

    def _channel(self, phone: str, recipient: NotificationRecipient | None) -> tuple[str, str]:
        if recipient is not None and recipient.telegram_chat_id is not None and "telegram" in self.channels:
            return "telegram", str(recipient.telegram_chat_id)
        if "sms" in self.channels:
            return "sms", phone
        return "", ""

    def _template(self, session: Session, event: rules.NotificationEvent, language: str) -> str:
        body = session.scalar(
            select(NotificationTemplate.body).where(
                NotificationTemplate.event == event.value, NotificationTemplate.language == language
            )
        )
        return body if body is not None else rules.default_template(event, language)

    def _values(
        self, session: Session, order: Order, branch: Branch, minutes_late: int | None, client
    ) -> dict[str, str | None]:
        promised = (
            order.promised_at.astimezone(ZoneInfo(branch.timezone)).strftime("%H:%M")
            if order.promised_at is not None
            else None
        )
        return {
            "number": order.number,
            "client_name": (order.client_name or (client.name if client is not None else "")) or "",
            "branch_name": branch.name,
            "branch_phone": branch.phone or None,
            "promised_time": promised,
            "tracking_url": self.tracking_link()(session, order.id),
            "minutes_late": None if minutes_late is None else str(minutes_late),
        }


def write_late_apologies(db: Database, composer: Composer, now: dt.datetime | None = None) -> int:
    """The late-order job: every open order past its promise by the set minutes that has no "late"
    message yet gets one (the unique (order, event) makes it once, whoever runs the job); how many."""
    now = now or utcnow()
    cutoff = now - dt.timedelta(minutes=composer.settings.notify_late_after_min)
    already = exists().where(
        and_(NotificationMessage.order_id == Order.id, NotificationMessage.event == rules.E.LATE.value)
    )
    with db.reading() as s:
        late = list(
            s.execute(
                select(Order.id, Order.promised_at).where(
                    Order.status.in_([str(x) for x in LATE_CANDIDATES]),
                    Order.promised_at.is_not(None),
                    Order.promised_at < cutoff,
                    Order.promised_at > now - dt.timedelta(days=1),
                    ~already,
                )
            )
        )
    written = 0
    for order_id, promised_at in late:
        minutes = minutes_late(promised_at, now) or 0
        with db.unit_of_work() as s:
            written += composer.write(s, order_id, rules.E.LATE, now=now, minutes_late=minutes)
    return written


# --- sending ---------------------------------------------------------------------------------------


class MessageSender:
    """Sends due messages through their channel: one try each per round; a refusal for good is
    ``failed``, a failure worth another try waits ``policy.delay`` (or the provider's
    ``retry_after``) and is parked after the last try; a non-urgent message found inside the quiet
    hours waits for their end without spending a try."""

    def __init__(self, db: Database, composer: Composer, policy: RelayPolicy):
        self.db = db
        self.composer = composer
        self.policy = policy
        self._lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None

    def pump(self, wait: bool = False) -> int:
        """Send the due messages: in a thread of its own (the relay's loop calls it each round and
        must not wait on a slow provider), or here when ``wait``; how many were claimed (0 while a
        round is still under way)."""
        if not wait:
            if self._lock.locked():
                return 0
            if self._pool is None:
                self._pool = ThreadPoolExecutor(1, thread_name_prefix="notification-sender")
            self._pool.submit(self.pump, True)
            return 0
        with self._lock:
            claimed = self.claim()
            for message_id in claimed:
                self.send(message_id)
            return len(claimed)

    def shutdown(self) -> None:
        """Stop the sender's thread (waits for the round under way)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)

    def claim(self, limit: int = 50) -> list[int]:
        """Take due messages nobody works on (a conditional UPDATE each: one sender wins)."""
        hold_s = self.composer.settings.notify_timeout_s + 30
        return claim_due(
            self.db, NotificationMessage, pending=MessageStatus.PENDING, hold_s=hold_s, limit=limit
        )

    def send(self, message_id: int, now: dt.datetime | None = None) -> SendResult | None:
        """One try of a claimed message, and its outcome recorded."""
        try:
            with self.db.reading() as s:
                row = s.execute(
                    select(
                        NotificationMessage.channel,
                        NotificationMessage.recipient,
                        NotificationMessage.body,
                        NotificationMessage.event,
                        Branch.timezone,
                    )
                    .join(Branch, Branch.id == NotificationMessage.branch_id)
                    .where(NotificationMessage.id == message_id)
                ).one_or_none()
            if row is None:
                return None
            now = now or utcnow()
            urgent = rules.EVENT_RULES[rules.NotificationEvent(row.event)].urgent
            held = rules.release_at(now, row.timezone, *self.composer.quiet, urgent=urgent)
            if held is not None:
                self._defer(message_id, held)
                return None
            channel = self.composer.channels.get(row.channel)
            if channel is None:
                result = SendResult(False, error=f"the {row.channel} channel is not configured", retry=True)
            else:
                result = channel.send(row.recipient, row.body)
            self._record(message_id, result)
            return result
        except Exception:
            log.exception("notification %s could not be sent or recorded", message_id)
            return None

    def _defer(self, message_id: int, until: dt.datetime) -> None:
        with self.db.unit_of_work() as s:
            s.execute(
                update(NotificationMessage)
                .where(NotificationMessage.id == message_id)
                .values(next_attempt_at=until, deferred=True, claimed_until=None)
                .execution_options(synchronize_session=False)
            )

    def _record(self, message_id: int, result: SendResult) -> None:
        now = utcnow()
        with self.db.unit_of_work() as s:
            message = s.get(NotificationMessage, message_id)
            if message is None or message.status != MessageStatus.PENDING:
                return
            message.attempts += 1
            message.claimed_until = None
            message.last_error = result.error
            if result.sent:
                message.status = MessageStatus.SENT
                message.provider_id = result.provider_id
                message.sent_at = now
            elif not result.retry:
                message.status = MessageStatus.FAILED
            elif message.attempts >= self.policy.max_attempts:
                message.status = MessageStatus.PARKED
                log.error("notification %s parked after %s tries", message_id, message.attempts)
            else:
                wait = max(self.policy.delay(message.attempts), result.retry_after_s or 0)
                message.next_attempt_at = now + dt.timedelta(seconds=wait)


# --- the log -----------------------------------------------------------------------------------------


def messages_of(session: Session, phone: str, limit: int = 20) -> list[NotificationMessage]:
    """A client's latest messages, newest first."""
    return list(
        session.scalars(
            select(NotificationMessage)
            .where(NotificationMessage.phone == phone)
            .order_by(NotificationMessage.id.desc())
            .limit(limit)
        )
    )


def list_messages(
    session: Session, *, status: str | None = None, order_id: int | None = None, limit: int = 200
) -> list[NotificationMessage]:
    """The latest messages (of a status, of an order), newest first."""
    query = select(NotificationMessage).order_by(NotificationMessage.id.desc()).limit(limit)
    if status is not None:
        query = query.where(NotificationMessage.status == status)
    if order_id is not None:
        query = query.where(NotificationMessage.order_id == order_id)
    return list(session.scalars(query))


def retry_message(session: Session, message_id: int) -> NotificationMessage:
    """Put a parked message back in line, its tries counted afresh (404 when it is not parked)."""
    message = session.get(NotificationMessage, message_id)
    if message is None or message.status != MessageStatus.PARKED:
        raise NotFound(f"No parked notification {message_id}.")
    back_in_line(message, MessageStatus.PENDING)
    session.flush()
    return message
