"""Antifraud pages: rules and their versions, backtests, the blacklist, the held-order queue."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from backoffice import antifraud, services
from backoffice.api.common import user_names
from backoffice.views.common import (
    HOLD_DECIDERS,
    RULE_EDITORS,
    back,
    bp,
    int_or_none,
    refused,
)
from frontoffice.auth import page
from frontoffice.errors import DomainError, InvalidInput
from frontoffice.kernel import current_kernel


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
    value = int_or_none(form.get("score"))
    if value is None:
        raise InvalidInput(_("The score must be a whole number."))
    return value


@bp.route("/antifraud")
@page(RULE_EDITORS)
def antifraud_rules():
    """Rules, the blacklist and the latest verdicts."""
    with current_kernel().db.reading() as s:
        rules = services.list_rules(s)
        blacklist = services.list_blacklist(s, limit=200)
        verdicts = services.recent_verdicts(s, limit=20)
        held = len(services.held_orders(s))
    return render_template(
        "backoffice/antifraud_rules.html",
        rules=rules,
        blacklist=blacklist,
        verdicts=verdicts,
        held=held,
        actions=antifraud.RULE_ACTIONS,
    )


@bp.route("/antifraud/rules/new", methods=["GET", "POST"])
@page(RULE_EDITORS)
def antifraud_new_rule():
    """A new rule of the chosen kind."""
    kind_code = request.values.get("kind", "velocity")
    if kind_code not in antifraud.KINDS:
        abort(404)
    kind = antifraud.KINDS[kind_code]
    if request.method == "POST":
        form = request.form
        try:
            with current_kernel().db.unit_of_work() as s:
                view = services.create_rule(
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
            refused(err)
            return render_template(
                "backoffice/antifraud_rule.html",
                kind=kind,
                view=None,
                values=_form_values(kind, form),
                versions=[],
                result=None,
                actions=antifraud.RULE_ACTIONS,
            ), 422
        flash(_("Rule saved as version 1."))
        return redirect(url_for(".antifraud_rule", rule_id=rule_id))
    name = current_kernel().labels.text("antifraud_kind", kind.code)
    values = {"name": name, "score": 50, "action": "flag", "active": True, "params": kind.defaults()}
    return render_template(
        "backoffice/antifraud_rule.html",
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
@page(RULE_EDITORS)
def antifraud_rule(rule_id: int):
    """Edit a rule (a new version), see its versions, backtest it."""
    db = current_kernel().db
    status = 200
    posted: dict[str, Any] | None = None
    if request.method == "POST":
        form = request.form
        try:
            with db.unit_of_work() as s:
                kind_code = services.get_rule(s, rule_id).rule.kind
                before = services.get_rule(s, rule_id).rule.current_version
                view = services.edit_rule(
                    s,
                    rule_id,
                    name=form.get("name", ""),
                    params=params_from_form(kind_code, form),
                    score=_score(form),
                    action=form.get("action", ""),
                    note=form.get("note", ""),
                    expected_version=int_or_none(form.get("expected_version")),
                    actor_id=current_user.id,
                )
                after = view.rule.current_version
        except DomainError as err:
            if err.status == 404:
                raise
            refused(err)
            status = 422
            with db.reading() as s:
                kind = antifraud.KINDS[services.get_rule(s, rule_id).rule.kind]
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
        view = services.get_rule(s, rule_id)
        versions = services.rule_versions(s, rule_id)
        names = user_names(s, [v.created_by for v in versions])
        days = int_or_none(request.args.get("days"))
        if days is not None:
            try:
                result = services.backtest(
                    s, kind=view.rule.kind, params=view.current.params, days=days, name=view.current.name
                )
            except DomainError as err:
                refused(err)
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
        "backoffice/antifraud_rule.html",
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
@page(RULE_EDITORS)
def antifraud_switch(rule_id: int):
    """Switch a rule on or off."""
    active = request.form.get("active") == "1"
    with current_kernel().db.unit_of_work() as s:
        view = services.set_rule_active(s, rule_id, active)
        name = view.current.name
    flash(_("“%(name)s” is on.", name=name) if active else _("“%(name)s” is off.", name=name))
    return back(".antifraud_rules")


@bp.route("/antifraud/blacklist", methods=["POST"])
@page(RULE_EDITORS)
def antifraud_blacklist_add():
    """Blacklist a phone, address or device."""
    form = request.form
    try:
        with current_kernel().db.unit_of_work() as s:
            entry = services.add_to_blacklist(
                s,
                form.get("kind", ""),
                form.get("value", ""),
                form.get("reason", ""),
                actor_id=current_user.id,
                region=current_kernel().settings.phone_region,
            )
            flash(_("Blacklisted: %(value)s.", value=entry.display or entry.value))
    except DomainError as err:
        refused(err)
    return redirect(url_for(".antifraud_rules") + "#blacklist")


@bp.route("/antifraud/blacklist/<int:entry_id>/delete", methods=["POST"])
@page(RULE_EDITORS)
def antifraud_blacklist_delete(entry_id: int):
    """Take an entry off the blacklist."""
    try:
        with current_kernel().db.unit_of_work() as s:
            services.remove_from_blacklist(s, entry_id)
        flash(_("Taken off the blacklist."))
    except DomainError as err:
        refused(err)
    return redirect(url_for(".antifraud_rules") + "#blacklist")


@bp.route("/held")
@page(HOLD_DECIDERS)
def held_queue():
    """Orders on hold waiting for a manager."""
    with current_kernel().db.reading() as s:
        held = services.held_orders(s)
    return render_template("backoffice/antifraud_held.html", held=held)


@bp.route("/held/<int:order_id>/release", methods=["POST"])
@page(HOLD_DECIDERS)
def held_release(order_id: int):
    """Confirm a held order."""
    try:
        with current_kernel().db.unit_of_work() as s:
            order = services.release_held(
                s,
                order_id,
                actor_id=current_user.id,
                note=request.form.get("note", ""),
                expected_version=int_or_none(request.form.get("expected_version")),
            )
            flash(_("Order %(number)s is confirmed and goes on.", number=order.number))
    except DomainError as err:
        refused(err)
    return redirect(url_for(".held_queue"))


@bp.route("/held/<int:order_id>/reject", methods=["POST"])
@page(HOLD_DECIDERS)
def held_reject(order_id: int):
    """Refuse a held order with a reason."""
    try:
        with current_kernel().db.unit_of_work() as s:
            order = services.reject_held(
                s,
                order_id,
                request.form.get("reason", ""),
                actor_id=current_user.id,
                expected_version=int_or_none(request.form.get("expected_version")),
            )
            flash(_("Order %(number)s is rejected.", number=order.number))
    except DomainError as err:
        refused(err)
    return redirect(url_for(".held_queue"))
