"""Notifications over JSON: ``/api/v1/notifications`` — templates (admins), the message log and its
dead letters, and how a client is reached (their Telegram chat, their language)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from flask import Blueprint
from pydantic import BaseModel, ConfigDict, Field

from frontoffice.api import endpoint
from frontoffice.kernel import current_kernel
from frontoffice.models import Role
from frontoffice.schemas import Id
from notifications import rules, services
from notifications.models import NotificationMessage

bp = Blueprint("notifications_api", __name__, url_prefix="/api/v1/notifications")

ADMIN = frozenset({Role.ADMIN})
STAFF = frozenset({Role.ADMIN, Role.MANAGER})
DESK = frozenset({Role.ADMIN, Role.MANAGER, Role.OPERATOR})
TAGS = ["notifications"]

Language = Literal["en", "ru"]
Status = Literal["pending", "sent", "failed", "parked", "skipped"]


class TemplateOut(BaseModel):
    """An event's message in one language."""

    event: str
    language: str
    body: str = Field(description="The text, with {placeholders}.")
    edited: bool = Field(description="An admin changed it (false: the default text).")
    transactional: bool = Field(description="Sent whether or not the client consented to messages.")
    urgent: bool = Field(description="Sent in quiet hours too.")


class TemplateList(BaseModel):
    """Every template, and the placeholders a text may name."""

    items: list[TemplateOut]
    placeholders: list[str]


class TemplateIn(BaseModel):
    """A template's new text."""

    model_config = ConfigDict(extra="forbid")
    body: str = Field(max_length=rules.MAX_BODY * 2, description="The text; {placeholders} as listed.")


class MessageOut(BaseModel):
    """One message about one order."""

    id: int
    order_id: int
    order_number: str
    event: str
    phone: str
    channel: str = Field(description="sms or telegram (empty when skipped for want of a channel).")
    recipient: str = Field(description="The phone, or the Telegram chat id.")
    language: str
    body: str
    status: str = Field(
        description="pending, sent, failed (refused for good), parked (an admin may retry), skipped."
    )
    skip_reason: str | None = Field(description="no_consent or no_channel.")
    attempts: int
    next_attempt_at: dt.datetime
    deferred: bool = Field(description="Held back by quiet hours until next_attempt_at.")
    provider_id: str | None
    last_error: str | None
    created_at: dt.datetime
    sent_at: dt.datetime | None


class MessageList(BaseModel):
    """The latest messages, newest first."""

    items: list[MessageOut]


class MessageQuery(BaseModel):
    """Which messages."""

    model_config = ConfigDict(extra="forbid")
    status: Status | None = None
    order_id: Id | None = None


class RecipientIn(BaseModel):
    """How a client is reached."""

    model_config = ConfigDict(extra="forbid")
    phone: str = Field(max_length=40)
    telegram_chat_id: int | None = Field(
        default=None,
        ge=-(2**52),
        le=2**52,
        description="The chat the client started with the bot; null: SMS.",
    )
    language: Language | None = Field(default=None, description="null: the default language.")


class RecipientOut(BaseModel):
    """How a client is reached."""

    phone: str
    telegram_chat_id: int | None
    language: str | None


def template_out(t: services.TemplateView) -> TemplateOut:
    """A template as the API shows it."""
    return TemplateOut(**t.__dict__)


def message_out(m: NotificationMessage) -> MessageOut:
    """A message as the API shows it."""
    return MessageOut.model_validate(m, from_attributes=True)


@endpoint(bp, "/templates", roles=ADMIN, response=TemplateList, summary="List message templates", tags=TAGS)
def list_templates() -> TemplateList:
    """Every event's template in every language."""
    with current_kernel().db.reading() as s:
        items = [template_out(t) for t in services.list_templates(s)]
    return TemplateList(items=items, placeholders=list(rules.PLACEHOLDERS))


@endpoint(
    bp,
    "/templates/<event>/<language>",
    method="PUT",
    roles=ADMIN,
    body=TemplateIn,
    response=TemplateOut,
    summary="Change a message template",
    tags=TAGS,
    errors=(404, 422),
    description="422 names `body`: empty, too long, a brace not closed, an unknown placeholder.",
)
def save_template(event: str, language: str, body: TemplateIn) -> TemplateOut:
    """Set an event's text in a language."""
    with current_kernel().db.unit_of_work() as s:
        return template_out(services.save_template(s, event, language, body.body))


@endpoint(
    bp,
    "/templates/<event>/<language>",
    method="DELETE",
    roles=ADMIN,
    response=TemplateOut,
    summary="Reset a message template to its default",
    tags=TAGS,
    errors=(404,),
)
def reset_template(event: str, language: str) -> TemplateOut:
    """Go back to the default text."""
    with current_kernel().db.unit_of_work() as s:
        return template_out(services.reset_template(s, event, language))


@endpoint(
    bp, "/messages", roles=STAFF, query=MessageQuery, response=MessageList, summary="List messages", tags=TAGS
)
def list_messages(query: MessageQuery) -> MessageList:
    """The latest 200 messages (of a status, of an order), newest first."""
    with current_kernel().db.reading() as s:
        rows = services.list_messages(s, status=query.status, order_id=query.order_id)
        return MessageList(items=[message_out(m) for m in rows])


@endpoint(
    bp,
    "/messages/<int:message_id>/retry",
    method="POST",
    roles=ADMIN,
    response=MessageOut,
    summary="Retry a parked message",
    tags=TAGS,
    errors=(404,),
)
def retry_message(message_id: int) -> MessageOut:
    """Put a parked message back in line; the relay's loop sends it again."""
    kernel = current_kernel()
    with kernel.db.unit_of_work() as s:
        out = message_out(services.retry_message(s, message_id))
    kernel.relay.notify()
    return out


@endpoint(
    bp,
    "/recipients",
    method="PUT",
    roles=DESK,
    body=RecipientIn,
    response=RecipientOut,
    summary="Set how a client is reached",
    tags=TAGS,
    errors=(422,),
    description="422 names `phone` when it is not a phone number.",
)
def set_recipient(body: RecipientIn) -> RecipientOut:
    """The client's Telegram chat (messages go there instead of SMS) and language."""
    kernel = current_kernel()
    with kernel.db.unit_of_work() as s:
        row = services.set_recipient(
            s,
            body.phone,
            telegram_chat_id=body.telegram_chat_id,
            language=body.language,
            region=kernel.settings.phone_region,
        )
        return RecipientOut(phone=row.phone, telegram_chat_id=row.telegram_chat_id, language=row.language)
