"""The dead letters over JSON: ``GET /api/v1/outbox/parked``, ``POST /api/v1/outbox/parked/{id}/retry``
(admins only)."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint
from pydantic import BaseModel, Field

from frontoffice.api import endpoint
from frontoffice.errors import NotFound
from frontoffice.kernel import current_kernel
from frontoffice.models import Role

bp = Blueprint("outbox_api", __name__, url_prefix="/api/v1/outbox")

ADMIN = frozenset({Role.ADMIN})


class ParkedOut(BaseModel):
    """An event whose delivery failed every try: parked until an admin retries it."""

    id: int = Field(description="The outbox row (the event's id).")
    topic: str = Field(description="The event's class, module.QualName.")
    payload: dict = Field(description="The event's fields.")
    created_at: dt.datetime
    attempts: int
    last_error: str | None


class ParkedList(BaseModel):
    """The parked events, newest first."""

    items: list[ParkedOut]


class RetryOut(BaseModel):
    """A parked event put back in line."""

    id: int
    state: str = Field(description="pending: the relay delivers it again, its tries counted afresh.")


def parked_out(row) -> ParkedOut:
    """A parked row as the API shows it."""
    return ParkedOut(
        id=row.id,
        topic=row.topic,
        payload=row.payload,
        created_at=row.created_at,
        attempts=row.attempts,
        last_error=row.last_error,
    )


@endpoint(
    bp, "/parked", roles=ADMIN, response=ParkedList, summary="List parked event deliveries", tags=["outbox"]
)
def list_parked() -> ParkedList:
    """Events the relay gave up on after the configured number of tries."""
    relay = current_kernel().relay
    return ParkedList(items=[parked_out(r) for r in relay.parked()])


@endpoint(
    bp,
    "/parked/<int:event_id>/retry",
    method="POST",
    roles=ADMIN,
    response=RetryOut,
    summary="Retry a parked event delivery",
    tags=["outbox"],
    errors=(404,),
)
def retry_parked(event_id: int) -> RetryOut:
    """Put a parked event back in line; its projectors that already applied it skip it."""
    if not current_kernel().relay.retry(event_id):
        raise NotFound(f"No parked event {event_id}.")
    return RetryOut(id=event_id, state="pending")
