"""Request and response models of the audit log API (``GET /api/v1/audit``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, Field, model_validator

from frontoffice.models import AuditEntry
from frontoffice.schemas import Day, Strict

MAX_PAGE = 500


class AuditQuery(Strict):
    """Filters of the log; every one optional."""

    actor: str | None = Field(default=None, max_length=80, description="Username of who acted.")
    entity: str | None = Field(
        default=None, max_length=60, description="Kind of record: item, organization, user, token …"
    )
    entity_id: str | None = Field(default=None, max_length=80, description="The record's id.")
    date_from: Day | None = Field(default=None, description="First day (business time zone), included.")
    date_to: Day | None = Field(default=None, description="Last day (business time zone), included.")
    limit: int = Field(default=100, ge=1, le=MAX_PAGE)
    offset: int = Field(default=0, ge=0, le=10_000_000)

    @model_validator(mode="after")
    def _days_in_order(self) -> AuditQuery:
        if self.date_from and self.date_to and self.date_to < self.date_from:
            raise ValueError("date_to must not be before date_from")
        return self


class FieldChange(BaseModel):
    """One changed field."""

    before: Any = Field(description="The value before (null: none, e.g. at a creation).")
    after: Any = Field(description="The value after (null: none, e.g. at a deletion).")


class AuditEntryOut(BaseModel):
    """One admin action."""

    id: int
    at: dt.datetime
    actor_id: int | None = Field(description="Null: the CLI or the demo loader, or a deleted user.")
    actor: str = Field(description="The username when they acted (empty: not a logged-in user).")
    action: str
    entity: str
    entity_id: str | None
    changes: dict[str, FieldChange] = Field(description="Only the fields that changed.")
    request_id: str | None
    address: str | None = Field(description="The client's address (the real one behind trusted proxies).")

    @classmethod
    def of(cls, entry: AuditEntry) -> AuditEntryOut:
        """The API view of a stored entry."""
        return cls(
            id=entry.id,
            at=entry.at,
            actor_id=entry.actor_id,
            actor=entry.actor_name,
            action=entry.action,
            entity=entry.entity,
            entity_id=entry.entity_id,
            changes={k: FieldChange(**v) for k, v in (entry.changes or {}).items()},
            request_id=entry.request_id,
            address=entry.address,
        )


class AuditList(BaseModel):
    """A page of the log, newest first."""

    items: list[AuditEntryOut]
    total: int = Field(description="How many entries match the filters in all.")
