"""The admin page of notifications (``/admin/notifications``): each event's template per language,
an editor per template, and the latest messages with the parked ones to retry.

A refused text is shown again with the reason next to it; nothing is written."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for

from frontoffice.auth import page
from frontoffice.errors import DomainError
from frontoffice.forms import messages_by_field
from frontoffice.i18n import N_
from frontoffice.kernel import current_kernel
from frontoffice.models import Role
from notifications import rules, services

bp = Blueprint("notification_pages", __name__, template_folder="templates")

ADMIN = frozenset({Role.ADMIN})

#: What a refused template says next to its text, by the error's type.
TEXTS = {
    "notification_body_empty": N_("Write the text of the message."),
    "notification_body_long": N_("The text is over %(limit)s characters."),
    "notification_body_braces": N_("A { or } is not closed: write {{ or }} for a brace."),
    "notification_body_unknown": N_("Unknown placeholder(s): %(names)s. Known: %(known)s."),
}


@bp.route("/admin/notifications")
@page(ADMIN)
def overview():
    """Every template, and the latest messages."""
    with current_kernel().db.reading() as s:
        templates = services.list_templates(s)
        messages = services.list_messages(s, limit=100)
    return render_template("notifications/overview.html", templates=templates, messages=messages)


def _editor(event: str, language: str, status: int = 200, **extra: Any):
    with current_kernel().db.reading() as s:
        template = services.get_template(s, event, language)
    context = {
        "template": template,
        "body": template.body,
        "default": rules.default_template(event, language),
        "placeholders": rules.PLACEHOLDERS,
        "errors": {},
    }
    context.update(extra)
    return render_template("notifications/template.html", **context), status


@bp.route("/admin/notifications/templates/<event>/<language>", methods=["GET", "POST"])
@page(ADMIN)
def template(event: str, language: str):
    """One template: change its text."""
    if request.method == "GET":
        return _editor(event, language)
    body = request.form.get("body", "")
    try:
        with current_kernel().db.unit_of_work() as s:
            services.save_template(s, event, language, body)
    except DomainError as err:
        if err.status == 404:
            raise
        return _editor(
            event, language, err.status, body=body, errors=messages_by_field(err.errors or [], TEXTS)
        )
    flash(N_("The template is saved."))
    return redirect(url_for(".overview"))


@bp.route("/admin/notifications/templates/<event>/<language>/reset", methods=["POST"])
@page(ADMIN)
def reset(event: str, language: str):
    """Go back to the default text."""
    with current_kernel().db.unit_of_work() as s:
        services.reset_template(s, event, language)
    flash(N_("The template is back to its default text."))
    return redirect(url_for(".overview"))


@bp.route("/admin/notifications/messages/<int:message_id>/retry", methods=["POST"])
@page(ADMIN)
def retry(message_id: int):
    """Put a parked message back in line."""
    kernel = current_kernel()
    try:
        with kernel.db.unit_of_work() as s:
            services.retry_message(s, message_id)
    except DomainError:
        flash(N_("That message is not parked (any more)."))
        return redirect(url_for(".overview"))
    kernel.relay.notify()
    flash(N_("The message is back in line."))
    return redirect(url_for(".overview"))
