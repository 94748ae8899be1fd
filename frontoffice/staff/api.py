"""The staff API for admins (``/api/v1/staff``) and one's own password (``/api/v1/account``)."""

from __future__ import annotations

from flask import Blueprint

from frontoffice.api import endpoint
from frontoffice.db import utcnow
from frontoffice.kernel import current_kernel
from frontoffice.models import Role, User
from frontoffice.ports import BRANCH_DIRECTORY, USER_DEVICES
from frontoffice.staff import schemas as sc
from frontoffice.staff import services

bp = Blueprint("staff_api", __name__, url_prefix="/api/v1/staff")
account_bp = Blueprint("account_api", __name__, url_prefix="/api/v1/account")

ADMIN = {Role.ADMIN}
EVERYONE = set(Role)
TAGS = ["staff"]


def _member(s, user_id: int) -> sc.StaffOut:
    return sc.StaffOut.of(services.member(s, services.get_user(s, user_id)))


@endpoint(
    bp,
    "/users",
    roles=ADMIN,
    query=sc.StaffQuery,
    response=sc.StaffList,
    summary="Every user with their role, branches and live tokens",
    tags=TAGS,
)
def list_users(query: sc.StaffQuery) -> sc.StaffList:
    """The staff list, admins first."""
    with current_kernel().db.reading() as s:
        members = services.list_staff(s, role=query.role, active=query.active)
        return sc.StaffList(items=[sc.StaffOut.of(m) for m in members])


@endpoint(
    bp,
    "/users",
    method="POST",
    roles=ADMIN,
    body=sc.StaffCreate,
    response=sc.StaffOut,
    status=201,
    summary="Add a user: role, branches, first password",
    tags=TAGS,
    errors=(409,),
    description="A taken username is a 409; a weak password, an unknown branch or a malformed "
    "username a 422 naming the field. Nothing is written then.",
)
def create_user(body: sc.StaffCreate) -> sc.StaffOut:
    """Add a user."""
    k = current_kernel()
    with k.db.unit_of_work() as s:
        user = services.create_staff(
            s,
            username=body.username,
            password=body.password,
            role=body.role,
            full_name=body.full_name,
            branch_ids=body.branch_ids,
            known_branches=k.extensions.get(BRANCH_DIRECTORY)(s),
        )
        return _member(s, user.id)


@endpoint(
    bp,
    "/users/<int:user_id>",
    roles=ADMIN,
    response=sc.StaffOut,
    summary="One user",
    tags=TAGS,
    errors=(404,),
)
def get_user(user_id: int) -> sc.StaffOut:
    """Read one user."""
    with current_kernel().db.reading() as s:
        return _member(s, user_id)


@endpoint(
    bp,
    "/users/<int:user_id>",
    method="PATCH",
    roles=ADMIN,
    body=sc.StaffPatch,
    response=sc.StaffOut,
    summary="Change a user's name, role, branches, or switch them off or on",
    tags=TAGS,
    errors=(404, 409),
    description="`active: false` ends the user's browser sessions and revokes their tokens. An admin "
    "cannot switch themselves off or drop their own admin role (409), so an active admin always remains.",
)
def patch_user(user_id: int, body: sc.StaffPatch, actor: User) -> sc.StaffOut:
    """Change a user."""
    k = current_kernel()
    sent = body.model_fields_set
    with k.db.unit_of_work() as s:
        services.update_staff(
            s,
            user_id,
            services.StaffChange(
                full_name=body.full_name if "full_name" in sent else None,
                role=body.role if "role" in sent else None,
                branch_ids=body.branch_ids if "branch_ids" in sent else None,
                active=body.active if "active" in sent else None,
            ),
            actor_id=actor.id,
            known_branches=k.extensions.get(BRANCH_DIRECTORY)(s),
        )
        return _member(s, user_id)


@endpoint(
    bp,
    "/users/<int:user_id>/password-reset",
    method="POST",
    roles=ADMIN,
    response=sc.PasswordResetOut,
    summary="Reset a user's password to a temporary one they must change at their next login",
    tags=TAGS,
    errors=(404, 409),
    idempotent=False,
    description="The temporary password is in this answer only. The user's browser sessions end and "
    "their tokens are revoked; their next login (page, token, courier app) must choose a new password. "
    "Your own password is changed with POST /api/v1/account/password (409 here).",
)
def reset_password(user_id: int, actor: User) -> sc.PasswordResetOut:
    """Reset a password."""
    with current_kernel().db.unit_of_work() as s:
        password = services.reset_password(s, user_id, actor_id=actor.id)
    return sc.PasswordResetOut(user_id=user_id, temporary_password=password)


@endpoint(
    bp,
    "/password-resets",
    method="POST",
    roles=ADMIN,
    body=sc.PasswordResetIn,
    response=sc.PasswordResetOut,
    summary="Reset the password of the user with this username",
    tags=TAGS,
    errors=(404, 409),
    idempotent=False,
    description="As `POST /users/{user_id}/password-reset`; an unknown username is a 404 naming the field.",
)
def reset_password_by_name(body: sc.PasswordResetIn, actor: User) -> sc.PasswordResetOut:
    """Reset a password by username."""
    with current_kernel().db.unit_of_work() as s:
        user_id, password = services.reset_password_named(s, body.username, actor_id=actor.id)
    return sc.PasswordResetOut(user_id=user_id, temporary_password=password)


@endpoint(
    bp,
    "/users/<int:user_id>/tokens",
    roles=ADMIN,
    response=sc.TokenList,
    summary="A user's bearer tokens (scripts, courier app sessions), newest first",
    tags=TAGS,
    errors=(404,),
)
def list_tokens(user_id: int) -> sc.TokenList:
    """A user's tokens."""
    now = utcnow()
    with current_kernel().db.reading() as s:
        return sc.TokenList(items=[sc.TokenInfo.of(t, now) for t in services.user_tokens(s, user_id)])


@endpoint(
    bp,
    "/users/<int:user_id>/tokens/<int:token_id>",
    method="DELETE",
    roles=ADMIN,
    status=204,
    summary="Revoke one token of a user",
    tags=TAGS,
    errors=(404,),
)
def revoke_token(user_id: int, token_id: int) -> None:
    """Revoke a token."""
    with current_kernel().db.unit_of_work() as s:
        services.revoke_user_token(s, user_id, token_id)


@endpoint(
    bp,
    "/users/<int:user_id>/devices",
    roles=ADMIN,
    response=sc.DeviceList,
    summary="Devices that act for a user without a password (a courier's Traccar Client)",
    tags=TAGS,
    errors=(404,),
)
def list_devices(user_id: int) -> sc.DeviceList:
    """A user's devices."""
    k = current_kernel()
    with k.db.reading() as s:
        devices = services.user_devices(s, user_id, k.extensions.all(USER_DEVICES))
        return sc.DeviceList(items=[sc.DeviceOut.of(d) for d in devices])


@endpoint(
    bp,
    "/users/<int:user_id>/devices/<device_key>",
    method="DELETE",
    roles=ADMIN,
    status=204,
    summary="Cut off one device of a user (it must be registered again to report)",
    tags=TAGS,
    errors=(404,),
)
def revoke_device(user_id: int, device_key: str) -> None:
    """Revoke a device."""
    k = current_kernel()
    with k.db.unit_of_work() as s:
        services.revoke_device(s, user_id, device_key, k.extensions.all(USER_DEVICES))


@endpoint(
    account_bp,
    "/password",
    method="POST",
    roles=EVERYONE,
    body=sc.PasswordChangeIn,
    status=204,
    summary="Change your own password (after an admin's reset, before anything else)",
    tags=["auth"],
    idempotent=False,
    before_password_change=True,
    description="The current password must match (422 on `current_password`) and the new one be "
    "strong enough (422 on `new_password`: at least 10 characters, 4 of them different, not the "
    "username nor a common password). Your browser sessions end; tokens keep working.",
)
def change_own_password(body: sc.PasswordChangeIn, actor: User) -> None:
    """Change one's password."""
    with current_kernel().db.unit_of_work() as s:
        services.change_own_password(s, actor.id, body.current_password, body.new_password)
