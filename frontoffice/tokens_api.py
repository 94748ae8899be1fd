"""Bearer tokens for staff scripts and integrations: ``/api/v1/tokens``."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint
from pydantic import BaseModel, ConfigDict, Field

from frontoffice.api import endpoint
from frontoffice.auth import authenticate, bearer_token, new_token, revoke_token
from frontoffice.errors import Unauthorized
from frontoffice.kernel import current_kernel
from frontoffice.models import STAFF_ROLES, Role

bp = Blueprint("tokens_api", __name__, url_prefix="/api/v1/tokens")


class TokenRequest(BaseModel):
    """Credentials of a staff user."""

    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=1, max_length=80)
    password: str = Field(min_length=1, max_length=200)
    name: str = Field(default="", max_length=120, description="What the token is for (shown to admins).")


class TokenOut(BaseModel):
    """A new bearer token: shown once, stored only as a hash."""

    token: str
    user_id: int
    role: str
    expires_at: dt.datetime | None = Field(description="When it stops working (null: when revoked).")
    must_change_password: bool = Field(
        default=False,
        description="An admin reset the password: every other call answers 403 until the user sets a "
        "new one with POST /api/v1/account/password.",
    )


@endpoint(
    bp,
    "",
    method="POST",
    public=True,
    body=TokenRequest,
    response=TokenOut,
    status=201,
    summary="Exchange a staff login for a bearer token",
    tags=["auth"],
    errors=(401, 429),
    idempotent=False,
)
def create_token(body: TokenRequest) -> TokenOut:
    """Log in with a password, get a token for the API."""
    kernel = current_kernel()
    with kernel.db.unit_of_work() as s:
        user = authenticate(s, body.username, body.password)
        if user is None:
            raise Unauthorized("Unknown username or wrong password.")
        if user.role == Role.COURIER:
            raise Unauthorized("Couriers sign in through /api/courier/v1/session.")
        raw, token = new_token(s, user, body.name or "api", lifetime=kernel.settings.token_lifetime)
        return TokenOut(
            token=raw,
            user_id=user.id,
            role=user.role,
            expires_at=token.expires_at,
            must_change_password=user.must_change_password,
        )


@endpoint(
    bp,
    "/current",
    method="DELETE",
    roles=STAFF_ROLES,
    status=204,
    summary="Revoke the token of this call",
    tags=["auth"],
    idempotent=False,
    before_password_change=True,
)
def revoke_current() -> None:
    """Log out a script: the token stops working at once."""
    raw = bearer_token()
    if raw is not None:
        with current_kernel().db.unit_of_work() as s:
            revoke_token(s, raw)
    return None
