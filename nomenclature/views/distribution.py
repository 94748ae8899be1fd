"""Admin pages of distribution: organizations and distribution conditions (list, create,
edit), the lint, the explanation of a cart, and the backtest of a proposed condition."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from pydantic import ValidationError
from werkzeug.datastructures import MultiDict

from frontoffice.auth import page
from frontoffice.errors import DomainError
from frontoffice.kernel import current_kernel
from nomenclature import services
from nomenclature.api import explain_cart, lint_report, service_fields, today
from nomenclature.ports import DISTRIBUTION_BACKTEST
from nomenclature.schemas import ConditionIn, ExplainIn, OrganizationIn
from nomenclature.taxes import TaxSystem
from nomenclature.views.common import (
    EDIT_ROLES,
    VIEW_ROLES,
    bp,
    catalogue_context,
    form_context,
    form_page,
    int_or_none,
    parse_rubles,
    problems_of,
)


@bp.route("/")
def index():
    """The nomenclature start page: organizations."""
    return redirect(url_for(".organizations"))


# --- organizations -------------------------------------------------------------------------------


def _organization_data(form: MultiDict) -> dict[str, Any]:
    limit = parse_rubles(form.get("annual_revenue_limit", ""), "annual_revenue_limit")
    fallback = form.get("fallback_organization_id") or None
    return {
        "name": form.get("name", ""),
        "inn": form.get("inn", "").strip(),
        "kpp": form.get("kpp", "").strip(),
        "tax_systems": [t.value for t in TaxSystem if t.value in form.getlist("tax_systems")],
        "pays_vat": form.get("pays_vat") == "on",
        "default_vat_rate": form.get("default_vat_rate", "none"),
        "annual_revenue_limit": limit,
        "fallback_organization_id": int(fallback) if fallback and fallback.isdigit() else fallback,
        "fallback_tax_system": form.get("fallback_tax_system") or None,
        "active": form.get("active") == "on",
    }


def _org_values(org: Any = None, form: MultiDict | None = None) -> dict[str, Any]:
    """What the organization form shows: the submitted values, the stored ones, or defaults."""
    if form is not None:
        return {
            "name": form.get("name", ""),
            "inn": form.get("inn", ""),
            "kpp": form.get("kpp", ""),
            "tax_systems": form.getlist("tax_systems"),
            "pays_vat": form.get("pays_vat") == "on",
            "default_vat_rate": form.get("default_vat_rate", "none"),
            "annual_revenue_limit": form.get("annual_revenue_limit", ""),
            "fallback_organization_id": form.get("fallback_organization_id", ""),
            "fallback_tax_system": form.get("fallback_tax_system", ""),
            "active": form.get("active") == "on",
        }
    if org is not None:
        limit = org.annual_revenue_limit
        return {
            "name": org.name,
            "inn": org.inn,
            "kpp": org.kpp,
            "tax_systems": list(org.tax_systems),
            "pays_vat": org.pays_vat,
            "default_vat_rate": org.default_vat_rate,
            "annual_revenue_limit": f"{limit // 100}.{limit % 100:02d}" if limit is not None else "",
            "fallback_organization_id": str(org.fallback_organization_id or ""),
            "fallback_tax_system": org.fallback_tax_system or "",
            "active": org.active,
        }
    return {
        "name": "",
        "inn": "",
        "kpp": "",
        "tax_systems": [],
        "pays_vat": False,
        "default_vat_rate": "none",
        "annual_revenue_limit": "",
        "fallback_organization_id": "",
        "fallback_tax_system": "",
        "active": True,
    }


def _save_organization(org_id: int | None) -> tuple[Any, list[str]]:
    """Validate the submitted form and save; ``(organization or None, problems)``."""
    try:
        body = OrganizationIn.model_validate(_organization_data(request.form))
        with current_kernel().db.unit_of_work() as s:
            org = services.save_organization(s, org_id, service_fields(body, partial=False), on=today())
        return org, []
    except ValueError as exc:
        return None, problems_of(exc) if isinstance(exc, ValidationError) else [str(exc)]
    except DomainError as exc:
        return None, problems_of(exc)


@bp.route("/organizations", methods=["GET", "POST"])
@form_page(VIEW_ROLES, EDIT_ROLES)
def organizations():
    """The organizations, and a form to add one."""
    problems: list[str] = []
    if request.method == "POST":
        org, problems = _save_organization(None)
        if org is not None:
            return redirect(url_for(".organizations", saved=org.id))
    with current_kernel().db.reading() as s:
        ctx = form_context(s)
    return render_template(
        "nomenclature/organizations.html",
        problems=problems,
        values=_org_values(form=request.form if problems else None),
        saved=request.args.get("saved", type=int),
        **ctx,
    ), (422 if problems else 200)


@bp.route("/organizations/<int:org_id>", methods=["GET", "POST"])
@form_page(VIEW_ROLES, EDIT_ROLES)
def organization(org_id: int):
    """Edit one organization."""
    problems: list[str] = []
    if request.method == "POST":
        org, problems = _save_organization(org_id)
        if org is not None:
            return redirect(url_for(".organizations", saved=org.id))
    with current_kernel().db.reading() as s:
        org = services.get_organization(s, org_id)
        ctx = form_context(s)
    return render_template(
        "nomenclature/organization.html",
        org=org,
        problems=problems,
        values=_org_values(org, request.form if problems else None),
        **ctx,
    ), (422 if problems else 200)


# --- conditions ----------------------------------------------------------------------------------


def _condition_data(form: MultiDict) -> dict[str, Any]:
    scope = form.get("scope", "all")
    return {
        "name": form.get("name", ""),
        "scope": scope,
        "group_id": int_or_none(form.get("group_id")) if scope == "group" else None,
        "item_id": int_or_none(form.get("item_id")) if scope == "item" else None,
        "organization_id": int_or_none(form.get("organization_id")),
        "tax_system": form.get("tax_system", ""),
        "vat_rate": form.get("vat_rate") or None,
        "branch_ids": [int_or_none(b) for b in form.getlist("branch_ids")],
        "order_kinds": form.getlist("order_kinds"),
        "payment_kinds": form.getlist("payment_kinds"),
        "valid_from": form.get("valid_from") or None,
        "valid_to": form.get("valid_to") or None,
        "priority": int_or_none(form.get("priority")) or 0,
        "active": form.get("active") == "on",
    }


def _condition_values(cond: Any = None, form: MultiDict | None = None) -> dict[str, Any]:
    """What the condition form shows: the submitted values, the stored ones, or defaults."""
    if form is not None:
        return {
            "name": form.get("name", ""),
            "scope": form.get("scope", "all"),
            "group_id": form.get("group_id", ""),
            "item_id": form.get("item_id", ""),
            "organization_id": form.get("organization_id", ""),
            "tax_system": form.get("tax_system", ""),
            "vat_rate": form.get("vat_rate", ""),
            "branch_ids": form.getlist("branch_ids"),
            "order_kinds": form.getlist("order_kinds"),
            "payment_kinds": form.getlist("payment_kinds"),
            "valid_from": form.get("valid_from", ""),
            "valid_to": form.get("valid_to", ""),
            "priority": form.get("priority", "0"),
            "active": form.get("active") == "on",
        }
    if cond is not None:
        return {
            "name": cond.name,
            "scope": cond.scope,
            "group_id": str(cond.group_id or ""),
            "item_id": str(cond.item_id or ""),
            "organization_id": str(cond.organization_id),
            "tax_system": cond.tax_system,
            "vat_rate": cond.vat_rate or "",
            "branch_ids": [str(b) for b in cond.branch_ids or []],
            "order_kinds": list(cond.order_kinds or []),
            "payment_kinds": list(cond.payment_kinds or []),
            "valid_from": cond.valid_from.isoformat() if cond.valid_from else "",
            "valid_to": cond.valid_to.isoformat() if cond.valid_to else "",
            "priority": str(cond.priority),
            "active": cond.active,
        }
    return {
        "name": "",
        "scope": "group",
        "group_id": "",
        "item_id": "",
        "organization_id": "",
        "tax_system": "",
        "vat_rate": "",
        "branch_ids": [],
        "order_kinds": [],
        "payment_kinds": [],
        "valid_from": "",
        "valid_to": "",
        "priority": "0",
        "active": True,
    }


def _save_condition(condition_id: int | None) -> tuple[Any, list[str]]:
    try:
        body = ConditionIn.model_validate(_condition_data(request.form))
        with current_kernel().db.unit_of_work() as s:
            cond = services.save_condition(
                s, condition_id, service_fields(body, partial=False), actor_id=current_user.id, on=today()
            )
        return cond, []
    except ValidationError as exc:
        return None, problems_of(exc)
    except DomainError as exc:
        return None, problems_of(exc)


@bp.route("/conditions", methods=["GET", "POST"])
@form_page(VIEW_ROLES, EDIT_ROLES)
def conditions():
    """The distribution conditions, and a form to add one."""
    problems: list[str] = []
    if request.method == "POST":
        cond, problems = _save_condition(None)
        if cond is not None:
            return redirect(url_for(".conditions", saved=cond.id))
    with current_kernel().db.reading() as s:
        ctx = catalogue_context(s)
        rows = services.list_conditions(s)
    return render_template(
        "nomenclature/conditions.html",
        conditions=rows,
        problems=problems,
        values=_condition_values(form=request.form if problems else None),
        saved=request.args.get("saved", type=int),
        **ctx,
    ), (422 if problems else 200)


@bp.route("/conditions/<int:condition_id>", methods=["GET", "POST"])
@form_page(VIEW_ROLES, EDIT_ROLES)
def condition(condition_id: int):
    """Edit one condition."""
    problems: list[str] = []
    if request.method == "POST":
        cond, problems = _save_condition(condition_id)
        if cond is not None:
            return redirect(url_for(".conditions", saved=cond.id))
    with current_kernel().db.reading() as s:
        cond = services.get_condition(s, condition_id)
        ctx = catalogue_context(s)
    return render_template(
        "nomenclature/condition.html",
        cond=cond,
        problems=problems,
        values=_condition_values(cond, request.form if problems else None),
        **ctx,
    ), (422 if problems else 200)


@bp.route("/conditions/<int:condition_id>/delete", methods=["POST"])
@page(EDIT_ROLES)
def delete_condition(condition_id: int):
    """Delete a condition."""
    with current_kernel().db.unit_of_work() as s:
        services.delete_condition(s, condition_id)
    return redirect(url_for(".conditions"))


# --- lint and explain ----------------------------------------------------------------------------


@bp.route("/lint")
@page(VIEW_ROLES)
def lint():
    """Ambiguous conditions, uncovered items, conditions that cannot decide."""
    problems: list[str] = []
    on = today()
    if request.args.get("on"):
        try:
            on = dt.date.fromisoformat(request.args["on"])
        except ValueError:
            problems.append(_("The day must look like 2026-12-31."))
    with current_kernel().db.reading() as s:
        report = lint_report(s, on)
    return render_template("nomenclature/lint.html", report=report, on=on, problems=problems)


def _cart_lines(text: str) -> list[dict[str, Any]]:
    """``SKU`` or ``SKU quantity`` per line (the quantity is shown, not needed to explain)."""
    lines = []
    for raw in text.splitlines():
        parts = raw.split()
        if parts:
            lines.append({"sku": parts[0]})
    return lines


@bp.route("/explain", methods=["GET", "POST"])
@page(VIEW_ROLES)
def explain():
    """Explain who sells each line of a cart, and why."""
    problems: list[str] = []
    result = None
    form = request.form if request.method == "POST" else MultiDict({"lines": "PZ-MARG\nDR-COLA05\nDS-CHEES"})
    if request.method == "POST":
        data = {
            "branch_id": int_or_none(form.get("branch_id")),
            "kind": form.get("kind") or None,
            "payment_kind": form.get("payment_kind") or None,
            "on": form.get("on") or None,
            "lines": _cart_lines(form.get("lines", "")),
        }
        try:
            body = ExplainIn.model_validate(data)
            with current_kernel().db.reading() as s:
                result = explain_cart(s, body)
        except (ValidationError, DomainError) as exc:
            problems = problems_of(exc)
    with current_kernel().db.reading() as s:
        ctx = form_context(s)
    return render_template("nomenclature/explain.html", result=result, problems=problems, form=form, **ctx), (
        422 if problems else 200
    )


@bp.route("/backtest", methods=["GET", "POST"])
@page(VIEW_ROLES)
def backtest():
    """Try a proposed condition on the last days of orders: revenue per organization before and after."""
    problems: list[str] = []
    result = None
    form = request.form if request.method == "POST" else MultiDict({"days": "30", "mode": "add"})
    values = _condition_values(form=form) if request.method == "POST" else _condition_values()
    run = current_kernel().extensions.find(DISTRIBUTION_BACKTEST)
    if request.method == "POST" and run is not None:
        proposal = []
        if form.get("scope") and form.get("organization_id"):
            proposal.append({**_condition_data(form), "active": True})
        data = {
            "days": int_or_none(form.get("days")) or 30,
            "mode": form.get("mode", "add"),
            "conditions": proposal,
        }
        try:
            with current_kernel().db.reading() as s:
                result = run(s, data)
        except (ValidationError, DomainError) as exc:
            problems = problems_of(exc)
    with current_kernel().db.reading() as s:
        ctx = catalogue_context(s)
    return render_template(
        "nomenclature/backtest.html",
        result=result,
        problems=problems,
        form=form,
        values=values,
        available=run is not None,
        **ctx,
    ), (422 if problems else 200)
