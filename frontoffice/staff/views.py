"""The staff pages for admins (``/admin/staff``) and one's own password (``/account/password``).

Plain server-rendered forms through the same services as the JSON API; a refusal re-renders
the form with each reason next to its field, in the reader's language, and nothing is written.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user, login_user

from frontoffice.auth import page, safe_next
from frontoffice.db import utcnow
from frontoffice.errors import DomainError
from frontoffice.forms import messages_by_field, ticked_ids
from frontoffice.i18n import N_
from frontoffice.kernel import current_kernel
from frontoffice.models import STAFF_ROLES, Role, User
from frontoffice.passwords import MIN_DISTINCT, MIN_LENGTH
from frontoffice.ports import BRANCH_DIRECTORY, STAFF_PAGES, USER_DEVICES
from frontoffice.staff import services

bp = Blueprint("staff_pages", __name__)

ADMIN = frozenset({Role.ADMIN})

#: What a refused form says next to a field, by the error's code (``%(name)s`` from its params).
TEXTS = {
    "username_empty": N_("Type a username."),
    "username_format": N_("A username is 1 to 80 characters without spaces."),
    "username_taken": N_("This username is taken: choose another."),
    "unknown_user": N_("There is no user with this username."),
    "unknown_role": N_("Choose one of the roles."),
    "unknown_branch": N_("Branch %(branch)s does not exist."),
    "too_many_branches": N_("Too many branches."),
    "name_too_long": N_("A name has at most 200 characters."),
    "password_too_short": N_("A password needs at least %(min_length)s characters."),
    "password_too_long": N_("A password has at most %(max_length)s characters."),
    "password_repetitive": N_("A password needs at least %(min_distinct)s different characters."),
    "password_is_username": N_("A password must not be, or contain, the username."),
    "password_common": N_("This password is on every list of common passwords: choose another."),
    "own_admin_role": N_("You cannot take your own admin role; another admin can."),
    "own_account_off": N_("You cannot switch yourself off; another admin can."),
    "own_password_reset": N_("Your own password is changed on your account page, not reset."),
    "wrong_password": N_("The current password is wrong."),
    "passwords_differ": N_("The two new passwords differ."),
    "same_password": N_("Choose a password other than the current one."),
}


@bp.app_template_filter("staff_time")
def staff_time(value: dt.datetime | None) -> str:
    """A UTC moment in the business time zone (empty for none)."""
    if value is None:
        return ""
    return value.astimezone(ZoneInfo(current_kernel().settings.timezone)).strftime("%d.%m.%Y %H:%M")


@bp.app_template_global("password_rule")
def password_rule() -> dict[str, int]:
    """The numbers of the password rule, for the forms' hints."""
    return {"min_length": MIN_LENGTH, "min_distinct": MIN_DISTINCT}


def field_messages(err: DomainError) -> dict[str, str]:
    """A refusal's messages by field, translated (a refusal naming no field goes under ``""``)."""
    return messages_by_field(err.errors or [{"field": "", "message": err.detail}], TEXTS)


def _branch_names() -> dict[int, str]:
    k = current_kernel()
    with k.db.reading() as s:
        return k.extensions.get(BRANCH_DIRECTORY)(s)


def _new_user_values(form: Any = None) -> dict[str, Any]:
    form = form or {}
    return {
        "username": form.get("username", ""),
        "full_name": form.get("full_name", ""),
        "role": form.get("role", Role.OPERATOR),
        "branch_ids": [str(b) for b in ticked_ids(form.getlist("branch_ids"))] if form else [],
    }


def _users_page(status: int = 200, **extra: Any):
    with current_kernel().db.reading() as s:
        members = services.list_staff(s)
    context = {
        "members": members,
        "branches": _branch_names(),
        "roles": list(Role),
        "values": _new_user_values(),
        "errors": {},
        "reset_errors": {},
        "reset": None,
        "staff_pages": current_kernel().extensions.all(STAFF_PAGES),
        **extra,
    }
    return render_template("staff/users.html", **context), status


@bp.route("/admin/staff", methods=["GET", "POST"])
@page(ADMIN)
def users():
    """Every user, a form to add one and a password reset by username."""
    if request.method == "GET":
        return _users_page()
    form = request.form
    k = current_kernel()
    try:
        with k.db.unit_of_work() as s:
            user = services.create_staff(
                s,
                username=form.get("username", ""),
                password=form.get("password", ""),
                role=form.get("role", ""),
                full_name=form.get("full_name", ""),
                branch_ids=ticked_ids(form.getlist("branch_ids")),
                known_branches=k.extensions.get(BRANCH_DIRECTORY)(s),
            )
            user_id, username = user.id, user.username
    except DomainError as err:
        return _users_page(err.status, values=_new_user_values(form), errors=field_messages(err))
    flash(gettext("User %(name)s is added.", name=username))
    return redirect(url_for(".user", user_id=user_id))


@bp.route("/admin/staff/password-reset", methods=["POST"])
@page(ADMIN)
def reset_by_username():
    """Reset the password of the user named in the form; the temporary password is shown once."""
    username = request.form.get("username", "")
    try:
        with current_kernel().db.unit_of_work() as s:
            user_id, password = services.reset_password_named(s, username, actor_id=current_user.id)
    except DomainError as err:
        return _users_page(err.status, reset_errors=field_messages(err), reset_username=username)
    return _users_page(reset={"user_id": user_id, "username": username.strip(), "password": password})


def _user_page(user_id: int, status: int = 200, **extra: Any):
    k = current_kernel()
    with k.db.reading() as s:
        user = services.get_user(s, user_id)
        member = services.member(s, user)
        tokens = services.user_tokens(s, user_id)
        devices = services.user_devices(s, user_id, k.extensions.all(USER_DEVICES))
        names = k.extensions.get(BRANCH_DIRECTORY)(s)
    context = {
        "user": user,
        "member": member,
        "tokens": tokens,
        "devices": devices,
        "branches": names,
        "roles": list(Role),
        "now": utcnow(),
        "values": {
            "full_name": user.full_name,
            "role": user.role,
            "branch_ids": [str(b) for b in member.branch_ids],
        },
        "errors": {},
        "reset": None,
        **extra,
    }
    return render_template("staff/user.html", **context), status


@bp.route("/admin/staff/<int:user_id>", methods=["GET", "POST"])
@page(ADMIN)
def user(user_id: int):
    """One user: name, role and branches; on/off, password reset, tokens and devices."""
    if request.method == "GET":
        return _user_page(user_id)
    form = request.form
    k = current_kernel()
    change = services.StaffChange(
        full_name=form.get("full_name", ""),
        role=form.get("role", ""),
        branch_ids=ticked_ids(form.getlist("branch_ids")),
    )
    try:
        with k.db.unit_of_work() as s:
            services.update_staff(
                s,
                user_id,
                change,
                actor_id=current_user.id,
                known_branches=k.extensions.get(BRANCH_DIRECTORY)(s),
            )
    except DomainError as err:
        values = {
            "full_name": change.full_name,
            "role": change.role,
            "branch_ids": [str(b) for b in change.branch_ids or ()],
        }
        return _user_page(user_id, err.status, values=values, errors=field_messages(err))
    flash(N_("Saved."))
    return redirect(url_for(".user", user_id=user_id))


@bp.route("/admin/staff/<int:user_id>/active", methods=["POST"])
@page(ADMIN)
def switch(user_id: int):
    """Switch a user off (sessions end, tokens are revoked) or on again."""
    k = current_kernel()
    active = request.form.get("active") == "1"
    try:
        with k.db.unit_of_work() as s:
            services.update_staff(
                s,
                user_id,
                services.StaffChange(active=active),
                actor_id=current_user.id,
                known_branches={},
            )
    except DomainError as err:
        return _user_page(user_id, err.status, errors=field_messages(err))
    flash(
        N_("The user is switched on.")
        if active
        else N_("The user is switched off: sessions and tokens ended.")
    )
    return redirect(url_for(".user", user_id=user_id))


@bp.route("/admin/staff/<int:user_id>/password-reset", methods=["POST"])
@page(ADMIN)
def reset(user_id: int):
    """Reset a user's password; the temporary password is shown on this answer only."""
    try:
        with current_kernel().db.unit_of_work() as s:
            password = services.reset_password(s, user_id, actor_id=current_user.id)
    except DomainError as err:
        return _user_page(user_id, err.status, errors=field_messages(err))
    return _user_page(user_id, reset={"password": password})


@bp.route("/admin/staff/<int:user_id>/tokens/<int:token_id>/revoke", methods=["POST"])
@page(ADMIN)
def revoke_token(user_id: int, token_id: int):
    """Revoke one token of a user."""
    with current_kernel().db.unit_of_work() as s:
        services.revoke_user_token(s, user_id, token_id)
    flash(N_("The token is revoked."))
    return redirect(url_for(".user", user_id=user_id))


@bp.route("/admin/staff/<int:user_id>/devices/<device_key>/revoke", methods=["POST"])
@page(ADMIN)
def revoke_device(user_id: int, device_key: str):
    """Cut off one device of a user."""
    k = current_kernel()
    with k.db.unit_of_work() as s:
        services.revoke_device(s, user_id, device_key, k.extensions.all(USER_DEVICES))
    flash(N_("The device is cut off."))
    return redirect(url_for(".user", user_id=user_id))


@bp.route("/account/password", methods=["GET", "POST"])
@page(STAFF_ROLES)
def account_password():
    """Change one's own password (the first page after an admin's reset)."""
    errors: dict[str, str] = {}
    if request.method == "POST":
        form = request.form
        try:
            with current_kernel().db.unit_of_work() as s:
                services.change_own_password(
                    s,
                    current_user.id,
                    form.get("current_password", ""),
                    form.get("new_password", ""),
                    form.get("repeat_password", ""),
                )
        except DomainError as err:
            errors = field_messages(err)
        else:
            # The change ended every session, this one too: carry on in a new one.
            with current_kernel().db.reading() as s:
                login_user(s.get(User, current_user.id))
            flash(N_("Your password is changed."))
            return redirect(safe_next(request.args.get("next")) or url_for("home.index"))
    return render_template(
        "staff/password.html", errors=errors, must_change=current_user.must_change_password
    ), (422 if errors else 200)


#: Where a user who must change their password may still go.
OPEN_BEFORE_PASSWORD_CHANGE = frozenset(
    {
        "staff_pages.account_password",
        "auth.logout",
        "auth.login",
        "static",
        "home.set_language",
        "home.favicon",
    }
)


def password_change_first():
    """Send a user whose password an admin reset to the password page before anything else (the
    JSON API answers them 403 itself, see ``frontoffice.api.endpoint``)."""
    endpoint = request.endpoint or ""
    if (
        endpoint not in OPEN_BEFORE_PASSWORD_CHANGE
        and not endpoint.endswith(".static")
        and not request.path.startswith("/api/")
        and current_user.is_authenticated
        and current_user.must_change_password
    ):
        return redirect(url_for("staff_pages.account_password", next=request.full_path.rstrip("?")))
    return None
