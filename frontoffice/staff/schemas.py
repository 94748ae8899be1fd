"""Request and response models of the staff API (``/api/v1/staff``) and of one's own password."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from frontoffice.models import ApiToken, Role
from frontoffice.passwords import MAX_LENGTH
from frontoffice.ports import Device
from frontoffice.schemas import Id, Strict
from frontoffice.staff.services import MAX_BRANCHES, StaffMember


class StaffCreate(Strict):
    """A new user: a login, a role, the branches they work for and a first password."""

    # A password is kept as typed: no stripping of its spaces.
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=80, description="Unique, without spaces.")
    full_name: str = Field(default="", max_length=200)
    role: Role
    password: str = Field(
        min_length=1,
        max_length=MAX_LENGTH,
        description="At least 10 characters, 4 of them different, not the username nor a common "
        "password (docs/deploy.md).",
    )
    branch_ids: list[Id] = Field(
        default_factory=list,
        max_length=MAX_BRANCHES,
        description="The branches they see and act on; none: every branch.",
    )


class StaffPatch(Strict):
    """What an admin changes about a user; fields not sent stay as they are."""

    full_name: str | None = Field(default=None, max_length=200)
    role: Role | None = None
    branch_ids: list[Id] | None = Field(default=None, max_length=MAX_BRANCHES)
    active: bool | None = Field(
        default=None, description="false switches the user off: sessions end, tokens are revoked."
    )


class StaffQuery(Strict):
    """Filters of the staff list."""

    role: Role | None = None
    active: bool | None = None


class StaffOut(BaseModel):
    """A user as the staff admin sees them."""

    id: int
    username: str
    full_name: str
    role: str
    active: bool
    must_change_password: bool
    branch_ids: list[int] = Field(description="Empty: every branch.")
    live_tokens: int
    created_at: dt.datetime

    @classmethod
    def of(cls, m: StaffMember) -> StaffOut:
        """From the service's view of a user."""
        u = m.user
        return cls(
            id=u.id,
            username=u.username,
            full_name=u.full_name,
            role=u.role,
            active=u.active,
            must_change_password=u.must_change_password,
            branch_ids=list(m.branch_ids),
            live_tokens=m.live_tokens,
            created_at=u.created_at,
        )


class StaffList(BaseModel):
    """Every user."""

    items: list[StaffOut]


class PasswordResetIn(Strict):
    """Whose password to reset."""

    username: str = Field(min_length=1, max_length=80)


class PasswordResetOut(BaseModel):
    """A temporary password, shown once: the user must change it at their next login."""

    user_id: int
    temporary_password: str
    must_change_password: bool = True


class TokenInfo(BaseModel):
    """One bearer token of a user (the token itself is never shown again)."""

    id: int
    name: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    expires_at: dt.datetime | None
    revoked_at: dt.datetime | None
    live: bool

    @classmethod
    def of(cls, t: ApiToken, now: dt.datetime) -> TokenInfo:
        """From the stored token."""
        return cls(
            id=t.id,
            name=t.name,
            created_at=t.created_at,
            last_used_at=t.last_used_at,
            expires_at=t.expires_at,
            revoked_at=t.revoked_at,
            live=t.revoked_at is None and (t.expires_at is None or t.expires_at > now),
        )


class TokenList(BaseModel):
    """A user's tokens, newest first."""

    items: list[TokenInfo]


class DeviceOut(BaseModel):
    """A device that acts for a user without a password (a courier's Traccar Client)."""

    key: str
    kind: str
    detail: str

    @classmethod
    def of(cls, d: Device) -> DeviceOut:
        """From a provider's device."""
        return cls(key=d.key, kind=d.kind, detail=d.detail)


class DeviceList(BaseModel):
    """A user's devices."""

    items: list[DeviceOut]


class PasswordChangeIn(Strict):
    """One's own new password."""

    model_config = ConfigDict(extra="forbid")
    current_password: str = Field(min_length=1, max_length=MAX_LENGTH)
    new_password: str = Field(
        min_length=1, max_length=MAX_LENGTH, description="At least 10 characters, see docs/deploy.md."
    )
