"""Bonus pages: my bonus, and for managers the rules of every operation and the report."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from backoffice import services
from backoffice.bonuses import Operation, bp_to_percent, percent_to_bp
from backoffice.views.common import (
    BONUS_MANAGERS,
    BONUS_READERS,
    bp,
    int_or_none,
    refused,
)
from frontoffice.auth import page
from frontoffice.errors import DomainError, InvalidInput
from frontoffice.kernel import current_kernel
from frontoffice.money import from_minor, to_minor


def _period(args: MultiDict, timezone: str) -> tuple[dt.date, dt.date]:
    today = dt.datetime.now(ZoneInfo(timezone)).date()
    try:
        start = dt.date.fromisoformat(args["from"]) if args.get("from") else today.replace(day=1)
        end = dt.date.fromisoformat(args["to"]) if args.get("to") else today
    except ValueError:
        raise InvalidInput(_("Dates are YYYY-MM-DD.")) from None
    return start, end


@bp.route("/bonuses")
@page(BONUS_READERS)
def bonuses_overview():
    """My bonus today and this month; for managers also the rules and the report."""
    k = current_kernel()
    tz = k.settings.timezone
    report_rows: list[services.ReportRow] = []
    is_manager = current_user.has_role(*BONUS_MANAGERS)
    try:
        start, end = _period(request.args, tz)
    except DomainError as err:
        refused(err)
        start = end = dt.datetime.now(ZoneInfo(tz)).date()
    with k.db.reading() as s:
        totals = services.totals_for(s, current_user.id, tz)
        entries = services.entries_for(s, current_user.id, limit=30)
        rules = services.list_bonus_rules(s) if is_manager else {}
        if is_manager:
            try:
                report_rows = services.report(s, start, end, tz)
            except DomainError as err:
                refused(err)
    return render_template(
        "backoffice/bonuses_overview.html",
        totals=totals,
        entries=entries,
        is_manager=is_manager,
        is_earner=current_user.role in services.EARNER_ROLES,
        rules=rules,
        operations=[o.value for o in Operation],
        report=report_rows,
        start=start,
        end=end,
        bp_to_percent=bp_to_percent,
        from_minor=from_minor,
    )


@bp.route("/bonuses/rules/<operation>", methods=["POST"])
@page(BONUS_MANAGERS)
def bonuses_save_rule(operation: str):
    """Save the rule of one operation."""
    if operation not in {o.value for o in Operation}:
        abort(404)
    form = request.form
    try:
        try:
            amount = to_minor(form.get("amount", "0").strip() or "0")
            percent_bp = percent_to_bp(form.get("percent", "0").strip() or "0")
        except ValueError as exc:
            raise InvalidInput(str(exc)) from None
        params: dict[str, Any] = {}
        if operation == Operation.PREORDER_TAKEN:
            lead = int_or_none(form.get("min_lead_minutes"))
            params["min_lead_minutes"] = lead if lead is not None else form.get("min_lead_minutes", "")
        elif operation == Operation.UPSELL:
            params["skus"] = form.get("skus", "")
        elif operation == Operation.PENALTY_CANCELLED:
            params["reason_codes"] = form.get("reason_codes", "")
        with current_kernel().db.unit_of_work() as s:
            services.save_bonus_rule(
                s,
                operation,
                method=form.get("method", "fixed"),
                amount=amount,
                percent_bp=percent_bp,
                params=params,
                active=bool(form.get("active")),
                actor_id=current_user.id,
            )
        title = current_kernel().labels.text("bonus_operation", operation)
        flash(_("Rule “%(op)s” saved.", op=title))
    except DomainError as err:
        refused(err)
    return redirect(url_for(".bonuses_overview") + "#rules")
