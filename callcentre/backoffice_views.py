"""Back-office pages: antifraud rules and blacklist, the held-order queue, tickets, bonuses.

Server-rendered forms (POST, CSRF token, redirect back with a message); a refused
form shows the reason as a message, never an error page.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Flask, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.datastructures import MultiDict

from callcentre import antifraud, antifraud_services, bonus_services, sla, ticket_services
from callcentre.backoffice_api import user_names
from callcentre.backoffice_ports import TICKET_SLA_MINUTES
from callcentre.bonuses import OPERATION_TITLES, Operation, bp_to_percent, percent_to_bp
from frontoffice.db import utcnow
from frontoffice.errors import DomainError, Forbidden, InvalidInput
from frontoffice.models import Role
from frontoffice.money import format_money, from_minor, to_minor
from frontoffice.phones import InvalidPhone, display_phone, normalize_phone
from orders.models import Order

bp = Blueprint(
    "callcentre_backoffice",
    __name__,
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


def _kernel() -> Any:
    return current_app.extensions["frontoffice"]


def _require(roles: frozenset[str]) -> None:
    if not current_user.has_role(*roles):
        raise Forbidden(_("This page is for the roles: %(roles)s.", roles=", ".join(sorted(roles))))


def _refused(err: DomainError) -> None:
    """Show why a form was refused, field by field when the service said which."""
    flash(err.detail)
    for e in err.errors or []:
        flash(f"{e.get('field')}: {e.get('message')}")


def _back(default: str, **values: Any):
    target = request.form.get("next") or ""
    if target.startswith("/") and not target.startswith("//"):
        return redirect(target)
    return redirect(url_for(default, **values))


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


@bp.app_template_filter("bo_time")
def bo_time(value: dt.datetime | None, fmt: str = "%d.%m %H:%M") -> str:
    """A UTC moment in the business time zone."""
    if value is None:
        return ""
    return value.astimezone(ZoneInfo(_kernel().settings.timezone)).strftime(fmt)


@bp.app_template_filter("bo_money")
def bo_money(minor: int | None) -> str:
    """Minor units for display."""
    return "" if minor is None else format_money(minor, _kernel().settings.currency)


@bp.app_template_filter("bo_phone")
def bo_phone(e164: str) -> str:
    """E.164 in the international display form."""
    return display_phone(e164) if e164 else ""


# --- antifraud ------------------------------------------------------------------------------


def params_from_form(kind: str, form: MultiDict) -> dict[str, Any]:
    """The parameters of a rule kind as typed in the form (validated by the service)."""
    out: dict[str, Any] = {}
    for spec in antifraud.kind_of(kind).params:
        if spec.type == "choices":
            out[spec.name] = form.getlist(f"p_{spec.name}")
        elif spec.type == "words":
            out[spec.name] = form.get(f"p_{spec.name}", "").splitlines()
        else:
            out[spec.name] = form.get(f"p_{spec.name}", "")
    return out


def _score(form: MultiDict) -> int:
    value = _int(form.get("score"))
    if value is None:
        raise InvalidInput(_("The score must be a whole number."))
    return value


@bp.route("/antifraud")
@login_required
def antifraud_rules():
    """Rules, the blacklist and the latest verdicts."""
    _require(RULE_EDITORS)
    with _kernel().db.reading() as s:
        rules = antifraud_services.list_rules(s)
        blacklist = antifraud_services.list_blacklist(s, limit=200)
        verdicts = antifraud_services.recent_verdicts(s, limit=20)
        held = len(antifraud_services.held_orders(s))
    return render_template(
        "callcentre/antifraud_rules.html",
        rules=rules,
        kinds=antifraud.KINDS,
        blacklist=blacklist,
        verdicts=verdicts,
        held=held,
        actions=antifraud.RULE_ACTIONS,
    )


@bp.route("/antifraud/rules/new", methods=["GET", "POST"])
@login_required
def antifraud_new_rule():
    """A new rule of the chosen kind."""
    _require(RULE_EDITORS)
    kind_code = request.values.get("kind", "velocity")
    if kind_code not in antifraud.KINDS:
        abort(404)
    kind = antifraud.KINDS[kind_code]
    if request.method == "POST":
        form = request.form
        try:
            with _kernel().db.unit_of_work() as s:
                view = antifraud_services.create_rule(
                    s,
                    kind=kind_code,
                    name=form.get("name", ""),
                    params=params_from_form(kind_code, form),
                    score=_score(form),
                    action=form.get("action", ""),
                    active=bool(form.get("active")),
                    note=form.get("note", ""),
                    actor_id=current_user.id,
                )
                rule_id = view.rule.id
        except DomainError as err:
            _refused(err)
            return render_template(
                "callcentre/antifraud_rule.html",
                kind=kind,
                view=None,
                values=_form_values(kind, form),
                versions=[],
                result=None,
                actions=antifraud.RULE_ACTIONS,
            ), 422
        flash(_("Rule saved as version 1."))
        return redirect(url_for(".antifraud_rule", rule_id=rule_id))
    values = {"name": kind.title, "score": 50, "action": "flag", "active": True, "params": kind.defaults()}
    return render_template(
        "callcentre/antifraud_rule.html",
        kind=kind,
        view=None,
        values=values,
        versions=[],
        result=None,
        actions=antifraud.RULE_ACTIONS,
    )


def _form_values(kind: antifraud.RuleKind, form: MultiDict) -> dict[str, Any]:
    params = params_from_form(kind.code, form)
    return {
        "name": form.get("name", ""),
        "score": form.get("score", ""),
        "action": form.get("action", ""),
        "active": bool(form.get("active")),
        "note": form.get("note", ""),
        "params": params,
    }


@bp.route("/antifraud/rules/<int:rule_id>", methods=["GET", "POST"])
@login_required
def antifraud_rule(rule_id: int):
    """Edit a rule (a new version), see its versions, backtest it."""
    _require(RULE_EDITORS)
    db = _kernel().db
    status = 200
    posted: dict[str, Any] | None = None
    if request.method == "POST":
        form = request.form
        try:
            with db.unit_of_work() as s:
                kind_code = antifraud_services.get_rule(s, rule_id).rule.kind
                before = antifraud_services.get_rule(s, rule_id).rule.current_version
                view = antifraud_services.edit_rule(
                    s,
                    rule_id,
                    name=form.get("name", ""),
                    params=params_from_form(kind_code, form),
                    score=_score(form),
                    action=form.get("action", ""),
                    note=form.get("note", ""),
                    expected_version=_int(form.get("expected_version")),
                    actor_id=current_user.id,
                )
                after = view.rule.current_version
        except DomainError as err:
            if err.status == 404:
                raise
            _refused(err)
            status = 422
            with db.reading() as s:
                kind = antifraud.KINDS[antifraud_services.get_rule(s, rule_id).rule.kind]
            posted = _form_values(kind, form)
        else:
            flash(
                _("Saved as version %(n)s; version %(old)s is kept.", n=after, old=before)
                if after != before
                else _("Nothing changed.")
            )
            return redirect(url_for(".antifraud_rule", rule_id=rule_id))
    result = None
    with db.reading() as s:
        view = antifraud_services.get_rule(s, rule_id)
        versions = antifraud_services.rule_versions(s, rule_id)
        names = user_names(s, [v.created_by for v in versions])
        days = _int(request.args.get("days"))
        if days is not None:
            try:
                result = antifraud_services.backtest(
                    s, kind=view.rule.kind, params=view.current.params, days=days, name=view.current.name
                )
            except DomainError as err:
                _refused(err)
    current = view.current
    values = posted or {
        "name": current.name,
        "score": current.score,
        "action": current.action,
        "active": view.rule.active,
        "note": "",
        "params": current.params,
    }
    return render_template(
        "callcentre/antifraud_rule.html",
        kind=antifraud.KINDS[view.rule.kind],
        view=view,
        values=values,
        versions=versions,
        names=names,
        result=result,
        days=days or 30,
        actions=antifraud.RULE_ACTIONS,
    ), status


@bp.route("/antifraud/rules/<int:rule_id>/active", methods=["POST"])
@login_required
def antifraud_switch(rule_id: int):
    """Switch a rule on or off."""
    _require(RULE_EDITORS)
    active = request.form.get("active") == "1"
    with _kernel().db.unit_of_work() as s:
        view = antifraud_services.set_rule_active(s, rule_id, active)
        name = view.current.name
    flash(_("“%(name)s” is on.", name=name) if active else _("“%(name)s” is off.", name=name))
    return _back(".antifraud_rules")


@bp.route("/antifraud/blacklist", methods=["POST"])
@login_required
def antifraud_blacklist_add():
    """Blacklist a phone, address or device."""
    _require(RULE_EDITORS)
    form = request.form
    try:
        with _kernel().db.unit_of_work() as s:
            entry = antifraud_services.add_to_blacklist(
                s,
                form.get("kind", ""),
                form.get("value", ""),
                form.get("reason", ""),
                actor_id=current_user.id,
                region=_kernel().settings.phone_region,
            )
            flash(_("Blacklisted: %(value)s.", value=entry.display or entry.value))
    except DomainError as err:
        _refused(err)
    return redirect(url_for(".antifraud_rules") + "#blacklist")


@bp.route("/antifraud/blacklist/<int:entry_id>/delete", methods=["POST"])
@login_required
def antifraud_blacklist_delete(entry_id: int):
    """Take an entry off the blacklist."""
    _require(RULE_EDITORS)
    try:
        with _kernel().db.unit_of_work() as s:
            antifraud_services.remove_from_blacklist(s, entry_id)
        flash(_("Taken off the blacklist."))
    except DomainError as err:
        _refused(err)
    return redirect(url_for(".antifraud_rules") + "#blacklist")


@bp.route("/held")
@login_required
def held_queue():
    """Orders on hold waiting for a manager."""
    _require(HOLD_DECIDERS)
    with _kernel().db.reading() as s:
        held = antifraud_services.held_orders(s)
    return render_template("callcentre/antifraud_held.html", held=held)


@bp.route("/held/<int:order_id>/release", methods=["POST"])
@login_required
def held_release(order_id: int):
    """Confirm a held order."""
    _require(HOLD_DECIDERS)
    try:
        with _kernel().db.unit_of_work() as s:
            order = antifraud_services.release_held(
                s,
                order_id,
                actor_id=current_user.id,
                note=request.form.get("note", ""),
                expected_version=_int(request.form.get("expected_version")),
            )
            flash(_("Order %(number)s is confirmed and goes on.", number=order.number))
    except DomainError as err:
        _refused(err)
    return redirect(url_for(".held_queue"))


@bp.route("/held/<int:order_id>/reject", methods=["POST"])
@login_required
def held_reject(order_id: int):
    """Refuse a held order with a reason."""
    _require(HOLD_DECIDERS)
    try:
        with _kernel().db.unit_of_work() as s:
            order = antifraud_services.reject_held(
                s,
                order_id,
                request.form.get("reason", ""),
                actor_id=current_user.id,
                expected_version=_int(request.form.get("expected_version")),
            )
            flash(_("Order %(number)s is rejected.", number=order.number))
    except DomainError as err:
        _refused(err)
    return redirect(url_for(".held_queue"))


# --- tickets --------------------------------------------------------------------------------


@bp.route("/tickets", methods=["GET", "POST"])
@login_required
def tickets_queue():
    """The back-office queue; operators open tickets here (or from the dossier)."""
    _require(TICKET_READERS)
    k = _kernel()
    form_values: dict[str, Any] = {
        "kind": request.args.get("kind", "complaint"),
        "client_phone": request.args.get("phone", ""),
        "order_id": request.args.get("order_id", ""),
        "subject": "",
        "body": "",
    }
    if request.method == "POST":
        form = request.form
        form_values = {
            key: form.get(key, "") for key in ("kind", "client_phone", "order_id", "subject", "body")
        }
        order_id = _int(form.get("order_id"))
        try:
            if form.get("order_id") and order_id is None:
                raise InvalidInput(_("The order number must be the order's id, a whole number."))
            with k.db.unit_of_work() as s:
                ticket = ticket_services.open_ticket(
                    s,
                    kind=form.get("kind", ""),
                    subject=form.get("subject", ""),
                    body=form.get("body", ""),
                    client_phone=form.get("client_phone", ""),
                    order_id=order_id,
                    actor_id=current_user.id,
                    region=k.settings.phone_region,
                    sla_minutes=k.extensions.get(TICKET_SLA_MINUTES),
                )
                ticket_id, due = ticket.id, ticket.due_at
            flash(_("Ticket #%(id)s opened; due %(due)s.", id=ticket_id, due=bo_time(due)))
            return redirect(url_for(".ticket_detail", ticket_id=ticket_id))
        except DomainError as err:
            _refused(err)
    args = request.args
    view = args.get("view", "open")
    statuses = {
        "open": [sla.TicketStatus.OPEN, sla.TicketStatus.IN_PROGRESS],
        "closed": [sla.TicketStatus.RESOLVED, sla.TicketStatus.REJECTED],
        "all": [],
    }.get(view, [sla.TicketStatus.OPEN, sla.TicketStatus.IN_PROGRESS])
    phone = None
    if args.get("phone_filter"):
        try:
            phone = normalize_phone(args["phone_filter"], k.settings.phone_region)
        except InvalidPhone as exc:
            flash(str(exc))
    flt = ticket_services.TicketFilter(
        status=[st.value for st in statuses],
        kind=args.get("kind_filter") or None,
        overdue=args.get("overdue") == "1",
        phone=phone,
        assignee_id=current_user.id if args.get("mine") == "1" else None,
        per_page=200,
    )
    now = utcnow()
    with k.db.reading() as s:
        rows, total = ticket_services.list_tickets(s, flt, now)
        counts = ticket_services.queue_counts(s, now)
        names = user_names(s, [t.assignee_id for t in rows])
    return render_template(
        "callcentre/tickets_queue.html",
        tickets=rows,
        total=total,
        counts=counts,
        names=names,
        now=now,
        kinds=[kd.value for kd in sla.TicketKind],
        sla_minutes={
            kd.value: sla.sla_minutes(kd.value, k.extensions.get(TICKET_SLA_MINUTES)) for kd in sla.TicketKind
        },
        is_overdue=sla.is_overdue,
        minutes_left=sla.minutes_left,
        form=form_values,
        view=view,
        args=args,
    ), (422 if request.method == "POST" else 200)


@bp.route("/tickets/<int:ticket_id>", methods=["GET", "POST"])
@login_required
def ticket_detail(ticket_id: int):
    """A ticket: its history and comments, and what can be done with it."""
    _require(TICKET_READERS)
    k = _kernel()
    if request.method == "POST":
        form = request.form
        action = form.get("action", "")
        version = _int(form.get("expected_version"))
        try:
            if action in {"comment"}:
                with k.db.unit_of_work() as s:
                    ticket_services.add_comment(s, ticket_id, form.get("body", ""), actor_id=current_user.id)
                flash(_("Comment added."))
            else:
                if not current_user.has_role(*TICKET_WORKERS):
                    raise Forbidden(_("Only the back office and managers work on tickets; you may comment."))
                with k.db.unit_of_work() as s:
                    if action == "assign":
                        ticket_services.assign(
                            s,
                            ticket_id,
                            _int(form.get("assignee_id")),
                            actor_id=current_user.id,
                            expected_version=version,
                        )
                        flash(_("Assignee changed."))
                    elif action in {st.value for st in sla.TicketStatus}:
                        ticket = ticket_services.move(
                            s,
                            ticket_id,
                            action,
                            note=form.get("note", ""),
                            actor_id=current_user.id,
                            expected_version=version,
                        )
                        flash(_("Ticket #%(id)s is now %(status)s.", id=ticket_id, status=_(ticket.status)))
                    else:
                        raise InvalidInput(_("Unknown action."))
        except DomainError as err:
            if err.status == 404:
                raise
            _refused(err)
        return redirect(url_for(".ticket_detail", ticket_id=ticket_id))
    now = utcnow()
    with k.db.reading() as s:
        ticket = ticket_services.get_ticket(s, ticket_id)
        events = list(ticket.events)
        names = user_names(s, [ticket.assignee_id, ticket.created_by, *(e.actor_id for e in events)])
        staff = ticket_services.back_office_staff(s)
        order = s.get(Order, ticket.order_id) if ticket.order_id else None
        order_number = order.number if order is not None else ""
    allowed = sorted(sla.TRANSITIONS[sla.TicketStatus(ticket.status)])
    return render_template(
        "callcentre/tickets_detail.html",
        ticket=ticket,
        events=events,
        names=names,
        staff=staff,
        order_number=order_number,
        overdue=sla.is_overdue(ticket.status, ticket.due_at, now),
        left=sla.minutes_left(ticket.due_at, now),
        allowed=[str(a) for a in allowed],
        needs_note=[str(st) for st in sla.NEEDS_NOTE],
        can_work=current_user.has_role(*TICKET_WORKERS),
    )


# --- bonuses --------------------------------------------------------------------------------


def _period(args: MultiDict, timezone: str) -> tuple[dt.date, dt.date]:
    today = dt.datetime.now(ZoneInfo(timezone)).date()
    try:
        start = dt.date.fromisoformat(args["from"]) if args.get("from") else today.replace(day=1)
        end = dt.date.fromisoformat(args["to"]) if args.get("to") else today
    except ValueError:
        raise InvalidInput(_("Dates are YYYY-MM-DD.")) from None
    return start, end


@bp.route("/bonuses")
@login_required
def bonuses_overview():
    """My bonus today and this month; for managers also the rules and the report."""
    _require(BONUS_READERS)
    k = _kernel()
    tz = k.settings.timezone
    report_rows: list[bonus_services.ReportRow] = []
    is_manager = current_user.has_role(*BONUS_MANAGERS)
    try:
        start, end = _period(request.args, tz)
    except DomainError as err:
        _refused(err)
        start = end = dt.datetime.now(ZoneInfo(tz)).date()
    with k.db.reading() as s:
        totals = bonus_services.totals_for(s, current_user.id, tz)
        entries = bonus_services.entries_for(s, current_user.id, limit=30)
        rules = bonus_services.list_rules(s) if is_manager else {}
        if is_manager:
            try:
                report_rows = bonus_services.report(s, start, end, tz)
            except DomainError as err:
                _refused(err)
    return render_template(
        "callcentre/bonuses_overview.html",
        totals=totals,
        entries=entries,
        is_manager=is_manager,
        is_earner=current_user.role in bonus_services.EARNER_ROLES,
        rules=rules,
        operations=[o.value for o in Operation],
        titles={o.value: t for o, t in OPERATION_TITLES.items()},
        report=report_rows,
        start=start,
        end=end,
        bp_to_percent=bp_to_percent,
        from_minor=from_minor,
    )


@bp.route("/bonuses/rules/<operation>", methods=["POST"])
@login_required
def bonuses_save_rule(operation: str):
    """Save the rule of one operation."""
    _require(BONUS_MANAGERS)
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
            lead = _int(form.get("min_lead_minutes"))
            params["min_lead_minutes"] = lead if lead is not None else form.get("min_lead_minutes", "")
        elif operation == Operation.UPSELL:
            params["skus"] = form.get("skus", "")
        elif operation == Operation.PENALTY_CANCELLED:
            params["reason_codes"] = form.get("reason_codes", "")
        with _kernel().db.unit_of_work() as s:
            bonus_services.save_rule(
                s,
                operation,
                method=form.get("method", "fixed"),
                amount=amount,
                percent_bp=percent_bp,
                params=params,
                active=bool(form.get("active")),
                actor_id=current_user.id,
            )
        flash(_("Rule “%(op)s” saved.", op=_(OPERATION_TITLES[Operation(operation)])))
    except DomainError as err:
        _refused(err)
    return redirect(url_for(".bonuses_overview") + "#rules")


def register_pages(app: Flask, kernel: Any) -> None:
    """Serve the back-office pages and put them in the top bar."""
    app.register_blueprint(bp)
    # Titles stay English here; the top bar translates them when it renders.
    kernel.add_nav("Tickets", "callcentre_backoffice.tickets_queue", TICKET_READERS, order=20)
    kernel.add_nav("Held orders", "callcentre_backoffice.held_queue", HOLD_DECIDERS, order=21)
    kernel.add_nav("Antifraud", "callcentre_backoffice.antifraud_rules", RULE_EDITORS, order=22)
    kernel.add_nav("Bonuses", "callcentre_backoffice.bonuses_overview", BONUS_READERS, order=23)
