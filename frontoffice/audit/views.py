"""The audit log page for admins (``/admin/audit``): filters by who, what and when, and each
action's changed fields, before → after."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, render_template, request
from pydantic import ValidationError

from frontoffice.api import validation_errors
from frontoffice.audit import services
from frontoffice.audit.api import matching
from frontoffice.audit.schemas import AuditQuery
from frontoffice.auth import page
from frontoffice.forms import messages_by_field
from frontoffice.i18n import N_
from frontoffice.kernel import current_kernel
from frontoffice.models import Role

bp = Blueprint("audit_pages", __name__)

ADMIN = frozenset({Role.ADMIN})
PAGE_SIZE = 50
FILTERS = ("actor", "entity", "entity_id", "date_from", "date_to")

#: What a refused filter says next to its field, by pydantic's error type.
TEXTS = {
    "date_from_datetime_parsing": N_("Type a day as YYYY-MM-DD."),
    "date_parsing": N_("Type a day as YYYY-MM-DD."),
    "date_type": N_("Type a day as YYYY-MM-DD."),
    "greater_than_equal": N_("This is out of range."),
    "less_than_equal": N_("This is out of range."),
    "string_too_long": N_("This is too long."),
    "int_parsing": N_("Type a whole number."),
    "days_out_of_order": N_("The last day is before the first day."),
}


def _query(args: dict[str, str]) -> tuple[AuditQuery | None, dict[str, str]]:
    """The filters of the page's query string, or the reasons they are refused by field."""
    try:
        query = AuditQuery.model_validate(args)
    except ValidationError as err:
        errors = validation_errors(err)
        for e in errors:
            if e["field"] == "body":  # the model's own check: the days' order
                e.update(field="date_to", type="days_out_of_order")
        return None, messages_by_field(errors, TEXTS)
    return query, {}


def _render(**context: Any):
    return render_template("audit/log.html", **context)


@bp.route("/admin/audit")
@page(ADMIN)
def log():
    """The log, newest first, filtered by the form's fields."""
    args = {k: v.strip() for k, v in request.args.items() if k in (*FILTERS, "offset") and v.strip()}
    query, errors = _query({**args, "limit": str(PAGE_SIZE)})
    k = current_kernel()
    with k.db.reading() as s:
        actors, kinds = services.actor_names(s), services.entities(s)
        if query is None:
            return _render(page=None, args=args, errors=errors, actors=actors, kinds=kinds), 422
        found = matching(s, query, k.settings.timezone)
    filters = {k: v for k, v in args.items() if k != "offset"}
    newer = max(query.offset - PAGE_SIZE, 0) if query.offset > 0 else None
    older = query.offset + PAGE_SIZE if query.offset + PAGE_SIZE < found.total else None
    return _render(
        page=found,
        args=args,
        filters=filters,
        errors={},
        actors=actors,
        kinds=kinds,
        offset=query.offset,
        newer=newer,
        older=older,
    )


@bp.app_template_filter("audit_value")
def audit_value(value: Any) -> str:
    """A logged value as text: strings as they are, none as a dash, the rest as JSON."""
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)
