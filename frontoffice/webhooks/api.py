"""Webhook endpoints and their deliveries over JSON (admins only): ``/api/v1/webhooks``."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint
from pydantic import BaseModel, ConfigDict, Field

from frontoffice.api import endpoint
from frontoffice.kernel import current_kernel
from frontoffice.models import Role
from frontoffice.webhooks import rules, services
from frontoffice.webhooks.models import WebhookDelivery, WebhookEndpoint

bp = Blueprint("webhooks_api", __name__, url_prefix="/api/v1/webhooks")

ADMIN = frozenset({Role.ADMIN})


class EndpointIn(BaseModel):
    """A new endpoint. The URL's host must be allowed by FRONTOFFICE_WEBHOOK_ALLOWED_HOSTS."""

    model_config = ConfigDict(extra="forbid")
    url: str = Field(
        max_length=rules.MAX_URL, description="http:// or https:// URL the deliveries are POSTed to."
    )
    events: list[str] = Field(max_length=50, description='Event names (order_placed, …) or ["*"] for all.')
    secret: str = Field(
        max_length=rules.MAX_SECRET,
        description=f"Signing secret, {rules.MIN_SECRET} to {rules.MAX_SECRET} characters (or whsec_ + base64).",
    )
    active: bool = True
    description: str = Field(default="", max_length=200)


class EndpointPatch(BaseModel):
    """Fields of an endpoint to change."""

    model_config = ConfigDict(extra="forbid")
    url: str | None = Field(default=None, max_length=rules.MAX_URL)
    events: list[str] | None = Field(default=None, max_length=50)
    secret: str | None = Field(default=None, max_length=rules.MAX_SECRET)
    active: bool | None = None
    description: str | None = Field(default=None, max_length=200)


class EndpointOut(BaseModel):
    """An endpoint (its secret is never shown again)."""

    id: int
    url: str
    events: list[str]
    active: bool
    description: str
    created_at: dt.datetime


class EndpointList(BaseModel):
    """Every endpoint, and the events they may name."""

    items: list[EndpointOut]
    known_events: list[str]


class DeliveryOut(BaseModel):
    """One event sent (or being sent) to one endpoint."""

    id: int
    event_id: int = Field(description="The webhook-id is evt_<event_id>.")
    event_type: str
    status: str = Field(description="pending, delivered or parked (an admin may retry it).")
    attempts: int
    next_attempt_at: dt.datetime
    last_status_code: int | None
    last_response: str | None = Field(description="The start of the receiver's last answer.")
    last_error: str | None = Field(description="Why the last try got no answer (timeout, refused …).")
    created_at: dt.datetime
    delivered_at: dt.datetime | None


class DeliveryList(BaseModel):
    """An endpoint's latest deliveries, newest first."""

    items: list[DeliveryOut]


def endpoint_out(e: WebhookEndpoint) -> EndpointOut:
    """An endpoint as the API shows it."""
    return EndpointOut(
        id=e.id,
        url=e.url,
        events=list(e.events),
        active=e.active,
        description=e.description,
        created_at=e.created_at,
    )


def delivery_out(d: WebhookDelivery) -> DeliveryOut:
    """A delivery as the API shows it."""
    return DeliveryOut(
        id=d.id,
        event_id=d.event_id,
        event_type=d.event_type,
        status=d.status,
        attempts=d.attempts,
        next_attempt_at=d.next_attempt_at,
        last_status_code=d.last_status_code,
        last_response=d.last_response,
        last_error=d.last_error,
        created_at=d.created_at,
        delivered_at=d.delivered_at,
    )


def _rules() -> dict:
    hooks = current_kernel().webhooks
    return {"hosts": hooks.hosts, "known_events": hooks.known_events()}


@endpoint(bp, "", roles=ADMIN, response=EndpointList, summary="List webhook endpoints", tags=["webhooks"])
def list_endpoints() -> EndpointList:
    """Every endpoint, and the event names they may hear."""
    kernel = current_kernel()
    with kernel.db.reading() as s:
        items = [endpoint_out(e) for e in services.list_endpoints(s)]
    return EndpointList(items=items, known_events=kernel.webhooks.known_events())


@endpoint(
    bp,
    "",
    method="POST",
    roles=ADMIN,
    body=EndpointIn,
    response=EndpointOut,
    status=201,
    summary="Register a webhook endpoint",
    tags=["webhooks"],
    errors=(422,),
    description="422 names the field: a URL that is not http(s) or whose host is not allowed, an unknown "
    "event, a secret too short.",
)
def create_endpoint(body: EndpointIn) -> EndpointOut:
    """Register an endpoint."""
    kernel = current_kernel()
    change = services.EndpointChange(**body.model_dump())
    with kernel.db.unit_of_work() as s:
        out = endpoint_out(services.register_endpoint(s, change, **_rules()))
    kernel.webhooks.enqueuer.forget()
    return out


@endpoint(
    bp,
    "/<int:endpoint_id>",
    roles=ADMIN,
    response=EndpointOut,
    summary="Read a webhook endpoint",
    tags=["webhooks"],
    errors=(404,),
)
def read_endpoint(endpoint_id: int) -> EndpointOut:
    """One endpoint."""
    with current_kernel().db.reading() as s:
        return endpoint_out(services.get_endpoint(s, endpoint_id))


@endpoint(
    bp,
    "/<int:endpoint_id>",
    method="PATCH",
    roles=ADMIN,
    body=EndpointPatch,
    response=EndpointOut,
    summary="Change a webhook endpoint",
    tags=["webhooks"],
    errors=(404, 422),
)
def patch_endpoint(endpoint_id: int, body: EndpointPatch) -> EndpointOut:
    """Change the given fields (switch it off with ``{"active": false}``)."""
    kernel = current_kernel()
    change = services.EndpointChange(**body.model_dump(exclude_unset=True))
    with kernel.db.unit_of_work() as s:
        out = endpoint_out(services.change_endpoint(s, endpoint_id, change, **_rules()))
    kernel.webhooks.enqueuer.forget()
    return out


@endpoint(
    bp,
    "/<int:endpoint_id>/deliveries",
    roles=ADMIN,
    response=DeliveryList,
    summary="List an endpoint's deliveries",
    tags=["webhooks"],
    errors=(404,),
)
def list_deliveries(endpoint_id: int) -> DeliveryList:
    """The latest 100, newest first, with status, tries and the last answer."""
    with current_kernel().db.reading() as s:
        return DeliveryList(items=[delivery_out(d) for d in services.deliveries_of(s, endpoint_id)])


@endpoint(
    bp,
    "/deliveries/<int:delivery_id>/retry",
    method="POST",
    roles=ADMIN,
    response=DeliveryOut,
    summary="Retry a parked webhook delivery",
    tags=["webhooks"],
    errors=(404,),
)
def retry_delivery(delivery_id: int) -> DeliveryOut:
    """Put a parked delivery back in line; the relay's loop sends it again."""
    kernel = current_kernel()
    with kernel.db.unit_of_work() as s:
        out = delivery_out(services.retry_delivery(s, delivery_id))
    kernel.relay.notify()
    return out
