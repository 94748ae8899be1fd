"""Telephony's pages: the call log, the call-back list (one key calls back), the operators'
extensions and the named lines (linked from the staff admin), and the click-to-call form other
pages post (a ticket's client …)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from frontoffice.auth import page, safe_next
from frontoffice.errors import DomainError
from frontoffice.forms import messages_by_field
from frontoffice.i18n import N_
from frontoffice.ids import parse_id
from frontoffice.kernel import Kernel, current_kernel
from frontoffice.models import Role
from frontoffice.phones import display_phone
from frontoffice.ports import STAFF_PAGES, StaffPage
from telephony import calls, services
from telephony.api import ADMIN, CALLERS, day_bounds, dial_phone, extension_rows, today

bp = Blueprint(
    "telephony_pages",
    __name__,
    url_prefix="/telephony",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)

#: What a refused form says next to a field, by the error's type.
TEXTS = {
    "extension_format": N_("An extension is 2 to 10 digits."),
    "extension_taken": N_("This extension already rings another operator."),
    "line_format": N_("A line is a number of 3 to 20 digits."),
    "name_missing": N_("Name the line in 1 to 200 characters."),
    "line_taken": N_("This line is already named."),
}
#: What a click-to-call that did not happen says, by the problem's code.
DIAL_PROBLEMS = {
    "no_extension": N_("You have no extension: an admin gives you one on the staff pages (Telephony)."),
    "no_pbx": N_("No telephone exchange is configured: dial the number on your phone."),
    "pbx_failed": N_("The telephone exchange did not take the call: dial the number on your phone."),
    "invalid_phone": N_("This is not a phone number: check the digits."),
}


@bp.route("/calls")
@page(CALLERS)
def call_log():
    """The calls of one day: who called on which line, who answered, how long, the order taken."""
    k = current_kernel()
    try:
        day = dt.date.fromisoformat(request.args.get("day", ""))
    except ValueError:
        day = today(k.settings.timezone)
    status = request.args.get("status", "")
    status = status if status in calls.STATUSES else ""
    since, until = day_bounds(day, k.settings.timezone)
    with k.db.reading() as s:
        rows = services.call_log(s, since, until, status or None)
    return render_template(
        "telephony/calls.html",
        rows=rows,
        day=day,
        status=status,
        statuses=calls.STATUSES,
        display_phone=display_phone,
        previous_day=day - dt.timedelta(days=1),
        next_day=day + dt.timedelta(days=1),
    )


@bp.route("/callbacks")
@page(CALLERS)
def callback_list():
    """Clients nobody answered, latest first; a digit key or a click calls one back."""
    with current_kernel().db.reading() as s:
        items = services.callbacks(s)
        has_extension = services.extension_of(s, current_user.id) is not None
    return render_template(
        "telephony/callbacks.html", items=items, display_phone=display_phone, has_extension=has_extension
    )


@bp.route("/dial", methods=["POST"])
@page(CALLERS)
def dial():
    """Call the posted ``phone`` from the user's extension, then go back to ``next``."""
    back = safe_next(request.form.get("next")) or url_for(".callback_list")
    try:
        dial_phone(current_user.id, request.form.get("phone", ""))
    except DomainError as err:
        code = err.extra.get("code") or next((e.get("type") for e in err.errors or []), "")
        flash(DIAL_PROBLEMS.get(str(code), DIAL_PROBLEMS["pbx_failed"]))
        return redirect(back)
    flash(N_("Your phone rings first; pick it up and the client is dialled."))
    return redirect(back)


def _settings_page(status: int = 200, **extra: Any):
    with current_kernel().db.reading() as s:
        context = {
            "members": extension_rows(s),
            "lines": services.list_lines(s),
            "errors": {},
            "error_user": None,
            "values": {},
            "pbx": current_kernel().settings.telephony or "",
            **extra,
        }
    return render_template("telephony/settings.html", **context), status


@bp.route("/settings", methods=["GET", "POST"])
@page(ADMIN)
def settings_page():
    """Operators' extensions and the named lines."""
    if request.method == "GET":
        return _settings_page()
    k = current_kernel()
    form = request.form
    action = form.get("action", "")
    user_id = form.get("user_id", type=parse_id) if action == "extension" else None
    try:
        with k.db.unit_of_work() as s:
            if action == "extension" and user_id is not None:
                services.set_extension(s, user_id, form.get("extension", ""))
            elif action == "add_line":
                services.add_line(s, form.get("number", ""), form.get("name", ""))
            elif action == "remove_line" and (line_id := form.get("line_id", type=parse_id)) is not None:
                services.remove_line(s, line_id)
            else:
                return _settings_page(400)
    except DomainError as err:
        return _settings_page(
            err.status,
            errors=messages_by_field(err.errors or [], TEXTS),
            error_user=user_id,
            values={
                "number": form.get("number", ""),
                "name": form.get("name", ""),
                "extension": form.get("extension", ""),
            },
        )
    from telephony.ports import TELEPHONY

    k.extensions.get(TELEPHONY).desk.forget_extensions()
    flash(N_("Saved."))
    return redirect(url_for(".settings_page"))


def register_pages(app, kernel: Kernel) -> None:
    """Serve the pages, put them in the top bar, link the extensions from the staff admin."""
    app.register_blueprint(bp)
    kernel.add_nav("Calls", "telephony_pages.call_log", CALLERS, order=12)
    kernel.add_nav("Call back", "telephony_pages.callback_list", CALLERS - {Role.BACKOFFICE}, order=13)
    kernel.extensions.add(
        STAFF_PAGES,
        "telephony",
        StaffPage(_l("Telephone extensions and lines"), "telephony_pages.settings_page"),
        order=10,
    )
