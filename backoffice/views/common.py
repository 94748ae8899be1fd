"""What the back-office pages share: the blueprint (pages, templates, static files), who may open
what, template filters, and how a refused form is answered.

Server-rendered forms (POST, CSRF token, redirect back with a message); a refused
form shows the reason as a message, never an error page.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, flash, redirect, request, url_for
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from frontoffice.errors import DomainError, InvalidInput, field_error
from frontoffice.ids import parse_id
from frontoffice.kernel import current_kernel
from frontoffice.models import Role
from frontoffice.money import format_money
from frontoffice.phones import display_phone

bp = Blueprint(
    "backoffice",
    __name__,
    root_path=str(Path(__file__).resolve().parent.parent),
    url_prefix="/callcentre",
    template_folder="templates",
    static_folder="static",
    static_url_path="/backoffice-static",
)

RULE_EDITORS = frozenset({Role.MANAGER})
HOLD_DECIDERS = frozenset({Role.MANAGER})
TICKET_READERS = frozenset({Role.OPERATOR, Role.MANAGER, Role.BACKOFFICE})
TICKET_WORKERS = frozenset({Role.MANAGER, Role.BACKOFFICE})
BONUS_READERS = frozenset({Role.OPERATOR, Role.BACKOFFICE, Role.MANAGER})
BONUS_MANAGERS = frozenset({Role.MANAGER})


def refused(err: DomainError) -> None:
    """Show why a form was refused, field by field when the service said which."""
    flash(err.detail)
    for e in err.errors or []:
        flash(f"{e.get('field')}: {e.get('message')}")


def back(default: str, **values: Any) -> Response:
    """Redirect to the form's ``next`` (a local path) or else to the ``default`` endpoint."""
    target = request.form.get("next") or ""
    if target.startswith("/") and not target.startswith("//"):
        return redirect(target)
    return redirect(url_for(default, **values))


def int_or_none(value: str | None) -> int | None:
    """A form field as a whole number; None when empty or not a number."""
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


def id_field(form: MultiDict[str, str], name: str, message: str) -> int | None:
    """Form field ``name`` as an id (1 to 2^31-1); None when empty, else ``InvalidInput`` naming it."""
    text = form.get(name, "").strip()
    if not text:
        return None
    try:
        return parse_id(text)
    except ValueError:
        raise InvalidInput(message, errors=[field_error(name, message)]) from None


def day_field(form: MultiDict[str, str], name: str, message: str) -> dt.date | None:
    """Form field ``name`` as a calendar day (YYYY-MM-DD, as a date input sends it); None when empty,
    else ``InvalidInput`` naming it."""
    text = form.get(name, "").strip()
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(message, errors=[field_error(name, message)]) from None


def field_errors(err: DomainError) -> dict[str, str]:
    """A refusal's messages by field, for a form to show next to each input."""
    return {str(e.get("field")): str(e.get("message")) for e in err.errors or [] if e.get("field")}


@bp.app_template_filter("bo_time")
def bo_time(value: dt.datetime | None, fmt: str = "%d.%m %H:%M") -> str:
    """A UTC moment in the business time zone."""
    if value is None:
        return ""
    return value.astimezone(ZoneInfo(current_kernel().settings.timezone)).strftime(fmt)


@bp.app_template_filter("bo_money")
def bo_money(minor: int | None) -> str:
    """Minor units for display."""
    return "" if minor is None else format_money(minor, current_kernel().settings.currency)


@bp.app_template_filter("bo_phone")
def bo_phone(e164: str) -> str:
    """E.164 in the international display form."""
    return display_phone(e164) if e164 else ""
