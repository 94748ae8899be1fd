"""Admin pages: organizations and distribution conditions (list, create, edit), the lint, the
explanation of a cart, and the catalogue with its stop-list.

Plain server-rendered forms: every submission goes through the same pydantic models and
services as the JSON API, and a refusal re-renders the form with the reasons next to it.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from pydantic import ValidationError
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from frontoffice.api import validation_errors
from frontoffice.errors import DomainError, Forbidden
from frontoffice.models import Role
from frontoffice.money import format_money, to_minor
from nomenclature import services
from nomenclature.api import explain_cart, lint_report, service_fields, today
from nomenclature.distribution import ORDER_KINDS, PAYMENT_KINDS
from nomenclature.models import Item
from nomenclature.ports import DISTRIBUTION_BACKTEST
from nomenclature.schemas import ConditionIn, ExplainIn, GroupIn, ItemIn, ModifierGroupIn, OrganizationIn
from nomenclature.taxes import TaxSystem, VatRate

bp = Blueprint(
    "nomenclature_pages",
    __name__,
    url_prefix="/admin/nomenclature",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)

VIEW_ROLES = frozenset({Role.ADMIN, Role.MANAGER})
EDIT_ROLES = frozenset({Role.ADMIN})
STOP_ROLES = frozenset({Role.ADMIN, Role.MANAGER, Role.OPERATOR})


def _kernel():
    return current_app.extensions["frontoffice"]


def _allow(roles: frozenset[str]):
    """None to go on; a redirect to the login page for strangers; 403 for other roles."""
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    if not current_user.has_role(*roles):
        raise Forbidden(_("This page is for the roles: %(roles)s.", roles=", ".join(sorted(roles))))
    return None


def _problems(exc: Exception) -> list[str]:
    """Readable lines for a refusal: ``field: message``."""
    if isinstance(exc, ValidationError):
        errors = validation_errors(exc)
    elif isinstance(exc, DomainError):
        errors = exc.errors or [{"field": "", "message": exc.detail}]
    else:
        raise exc
    return [f"{e['field']}: {e['message']}" if e.get("field") else e["message"] for e in errors]


def _rubles(text: str, field: str) -> Decimal | None:
    text = text.strip().replace(" ", "").replace("\u202f", "").replace(",", ".")
    if not text:
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        raise ValueError(f"{field}: {text!r} is not an amount") from None


def _common(s: Any) -> dict[str, Any]:
    orgs = services.list_organizations(s)
    return {
        "tax_systems": list(TaxSystem),
        "ts_labels": {t.value: t.label for t in TaxSystem},
        "ts_codes": {t.value: t.ffd_code for t in TaxSystem},
        "org_names": {o.id: o.name for o in orgs},
        "vat_rates": list(VatRate),
        "organizations": orgs,
        "order_kinds": ORDER_KINDS,
        "payment_kinds": PAYMENT_KINDS,
        "branches": services.branch_names(s),
        "can_edit": current_user.has_role(*EDIT_ROLES),
        "money": format_money,
    }


@bp.route("/")
def index():
    """The nomenclature start page: organizations."""
    return redirect(url_for(".organizations"))


# --- organizations -------------------------------------------------------------------------------


def _organization_data(form: MultiDict) -> dict[str, Any]:
    limit = _rubles(form.get("annual_revenue_limit", ""), "annual_revenue_limit")
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
        with _kernel().db.unit_of_work() as s:
            org = services.save_organization(s, org_id, service_fields(body, partial=False), on=today())
        return org, []
    except ValueError as exc:
        return None, _problems(exc) if isinstance(exc, ValidationError) else [str(exc)]
    except DomainError as exc:
        return None, _problems(exc)


@bp.route("/organizations", methods=["GET", "POST"])
def organizations():
    """The organizations, and a form to add one."""
    denied = _allow(VIEW_ROLES if request.method == "GET" else EDIT_ROLES)
    if denied:
        return denied
    problems: list[str] = []
    if request.method == "POST":
        org, problems = _save_organization(None)
        if org is not None:
            return redirect(url_for(".organizations", saved=org.id))
    with _kernel().db.reading() as s:
        ctx = _common(s)
    return render_template(
        "nomenclature/organizations.html",
        problems=problems,
        values=_org_values(form=request.form if problems else None),
        saved=request.args.get("saved", type=int),
        **ctx,
    ), (422 if problems else 200)


@bp.route("/organizations/<int:org_id>", methods=["GET", "POST"])
def organization(org_id: int):
    """Edit one organization."""
    denied = _allow(VIEW_ROLES if request.method == "GET" else EDIT_ROLES)
    if denied:
        return denied
    problems: list[str] = []
    if request.method == "POST":
        org, problems = _save_organization(org_id)
        if org is not None:
            return redirect(url_for(".organizations", saved=org.id))
    with _kernel().db.reading() as s:
        org = services.get_organization(s, org_id)
        ctx = _common(s)
    return render_template(
        "nomenclature/organization.html",
        org=org,
        problems=problems,
        values=_org_values(org, request.form if problems else None),
        **ctx,
    ), (422 if problems else 200)


# --- conditions ----------------------------------------------------------------------------------


def _int_or_none(value: str | None) -> int | str | None:
    if not value:
        return None
    return int(value) if value.strip().lstrip("-").isdigit() else value


def _condition_data(form: MultiDict) -> dict[str, Any]:
    scope = form.get("scope", "all")
    return {
        "name": form.get("name", ""),
        "scope": scope,
        "group_id": _int_or_none(form.get("group_id")) if scope == "group" else None,
        "item_id": _int_or_none(form.get("item_id")) if scope == "item" else None,
        "organization_id": _int_or_none(form.get("organization_id")),
        "tax_system": form.get("tax_system", ""),
        "vat_rate": form.get("vat_rate") or None,
        "branch_ids": [_int_or_none(b) for b in form.getlist("branch_ids")],
        "order_kinds": form.getlist("order_kinds"),
        "payment_kinds": form.getlist("payment_kinds"),
        "valid_from": form.get("valid_from") or None,
        "valid_to": form.get("valid_to") or None,
        "priority": _int_or_none(form.get("priority")) or 0,
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
        with _kernel().db.unit_of_work() as s:
            cond = services.save_condition(
                s, condition_id, service_fields(body, partial=False), actor_id=current_user.id
            )
        return cond, []
    except ValidationError as exc:
        return None, _problems(exc)
    except DomainError as exc:
        return None, _problems(exc)


def _condition_context(s: Any) -> dict[str, Any]:
    groups = services.list_groups(s)
    parents = {g.id: g.parent_id for g in groups}
    names = {g.id: g.name for g in groups}

    def path(gid: int) -> str:
        chain, node = [], gid
        while node is not None and len(chain) < 20:
            chain.append(names[node])
            node = parents.get(node)
        return " › ".join(reversed(chain))

    items = list(s.scalars(select(Item).order_by(Item.name)))
    return {
        **_common(s),
        "groups": sorted(((g.id, path(g.id)) for g in groups), key=lambda p: p[1]),
        "group_paths": {g.id: path(g.id) for g in groups},
        "items": items,
        "item_names": {i.id: f"{i.name} ({i.sku})" for i in items},
    }


@bp.route("/conditions", methods=["GET", "POST"])
def conditions():
    """The distribution conditions, and a form to add one."""
    denied = _allow(VIEW_ROLES if request.method == "GET" else EDIT_ROLES)
    if denied:
        return denied
    problems: list[str] = []
    if request.method == "POST":
        cond, problems = _save_condition(None)
        if cond is not None:
            return redirect(url_for(".conditions", saved=cond.id))
    with _kernel().db.reading() as s:
        ctx = _condition_context(s)
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
def condition(condition_id: int):
    """Edit one condition."""
    denied = _allow(VIEW_ROLES if request.method == "GET" else EDIT_ROLES)
    if denied:
        return denied
    problems: list[str] = []
    if request.method == "POST":
        cond, problems = _save_condition(condition_id)
        if cond is not None:
            return redirect(url_for(".conditions", saved=cond.id))
    with _kernel().db.reading() as s:
        cond = services.get_condition(s, condition_id)
        ctx = _condition_context(s)
    return render_template(
        "nomenclature/condition.html",
        cond=cond,
        problems=problems,
        values=_condition_values(cond, request.form if problems else None),
        **ctx,
    ), (422 if problems else 200)


@bp.route("/conditions/<int:condition_id>/delete", methods=["POST"])
def delete_condition(condition_id: int):
    """Delete a condition."""
    denied = _allow(EDIT_ROLES)
    if denied:
        return denied
    with _kernel().db.unit_of_work() as s:
        services.delete_condition(s, condition_id)
    return redirect(url_for(".conditions"))


# --- lint and explain ----------------------------------------------------------------------------


@bp.route("/lint")
def lint():
    """Ambiguous conditions, uncovered items, conditions that cannot decide."""
    denied = _allow(VIEW_ROLES)
    if denied:
        return denied
    problems: list[str] = []
    on = today()
    if request.args.get("on"):
        try:
            on = dt.date.fromisoformat(request.args["on"])
        except ValueError:
            problems.append(_("The day must look like 2026-12-31."))
    with _kernel().db.reading() as s:
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
def explain():
    """Explain who sells each line of a cart, and why."""
    denied = _allow(VIEW_ROLES)
    if denied:
        return denied
    problems: list[str] = []
    result = None
    form = request.form if request.method == "POST" else MultiDict({"lines": "PZ-MARG\nDR-COLA05\nDS-CHEES"})
    if request.method == "POST":
        data = {
            "branch_id": _int_or_none(form.get("branch_id")),
            "kind": form.get("kind") or None,
            "payment_kind": form.get("payment_kind") or None,
            "on": form.get("on") or None,
            "lines": _cart_lines(form.get("lines", "")),
        }
        try:
            body = ExplainIn.model_validate(data)
            with _kernel().db.reading() as s:
                result = explain_cart(s, body)
        except (ValidationError, DomainError) as exc:
            problems = _problems(exc)
    with _kernel().db.reading() as s:
        ctx = _common(s)
    return render_template("nomenclature/explain.html", result=result, problems=problems, form=form, **ctx), (
        422 if problems else 200
    )


@bp.route("/backtest", methods=["GET", "POST"])
def backtest():
    """Try a proposed condition on the last days of orders: revenue per organization before and after."""
    denied = _allow(VIEW_ROLES)
    if denied:
        return denied
    problems: list[str] = []
    result = None
    form = request.form if request.method == "POST" else MultiDict({"days": "30", "mode": "add"})
    values = _condition_values(form=form) if request.method == "POST" else _condition_values()
    run = _kernel().extensions.find(DISTRIBUTION_BACKTEST)
    if request.method == "POST" and run is not None:
        proposal = []
        if form.get("scope") and form.get("organization_id"):
            proposal.append({**_condition_data(form), "active": True})
        data = {
            "days": _int_or_none(form.get("days")) or 30,
            "mode": form.get("mode", "add"),
            "conditions": proposal,
        }
        try:
            with _kernel().db.reading() as s:
                result = run(s, data)
        except (ValidationError, DomainError) as exc:
            problems = _problems(exc)
    with _kernel().db.reading() as s:
        ctx = _condition_context(s)
    return render_template(
        "nomenclature/backtest.html",
        result=result,
        problems=problems,
        form=form,
        values=values,
        available=run is not None,
        **ctx,
    ), (422 if problems else 200)


# --- catalogue and stop-list ---------------------------------------------------------------------


@bp.route("/catalogue", methods=["GET", "POST"])
def catalogue():
    """The group tree with items, prices and modifiers; the stop-list of a branch with toggles."""
    denied = _allow(STOP_ROLES)
    if denied:
        return denied
    with _kernel().db.reading() as s:
        branches = services.branch_names(s)
    branch_id = request.values.get("branch_id", type=int) or (next(iter(branches), None))
    problems: list[str] = []
    if request.method == "POST":
        item_id = request.form.get("item_id", type=int)
        try:
            if branch_id is None or item_id is None:
                raise DomainError(_("Choose a branch and an item."))
            with _kernel().db.unit_of_work() as s:
                if request.form.get("action") == "stop":
                    services.stop_item(
                        s, branch_id, item_id, request.form.get("reason", "")[:300], actor_id=current_user.id
                    )
                else:
                    services.resume_item(s, branch_id, item_id, actor_id=current_user.id)
            return redirect(url_for(".catalogue", branch_id=branch_id))
        except DomainError as exc:
            problems = _problems(exc)
    with _kernel().db.reading() as s:
        menu = services.menu(s, branch_id) if branch_id is not None else services.menu(s)
        stops = {e.item_id: e for e, _i in services.stop_list(s, branch_id)} if branch_id else {}
    children: dict[int | None, list[dict[str, Any]]] = {}
    for g in menu["groups"]:
        children.setdefault(g["parent_id"], []).append(g)
    by_group: dict[int | None, list[dict[str, Any]]] = {}
    for item in menu["items"]:
        by_group.setdefault(item["group_id"], []).append(item)
    return render_template(
        "nomenclature/catalogue.html",
        children=children,
        by_group=by_group,
        branches=branches,
        branch_id=branch_id,
        stops=stops,
        problems=problems,
        money=format_money,
    ), (422 if problems else 200)


# --- items, groups and modifiers -----------------------------------------------------------------


def _item_values(item: Any = None, form: MultiDict | None = None) -> dict[str, Any]:
    """What the item form shows: the submitted values, the stored ones, or defaults."""
    if form is not None:
        return {
            "sku": form.get("sku", ""),
            "name": form.get("name", ""),
            "price": form.get("price", ""),
            "vat_rate": form.get("vat_rate", "vat22"),
            "group_id": form.get("group_id", ""),
            "unit": form.get("unit", "pcs"),
            "description": form.get("description", ""),
            "active": form.get("active") == "on",
            "modifier_group_ids": form.getlist("modifier_group_ids"),
        }
    if item is not None:
        return {
            "sku": item.sku,
            "name": item.name,
            "price": f"{item.price // 100}.{item.price % 100:02d}",
            "vat_rate": item.vat_rate,
            "group_id": str(item.group_id or ""),
            "unit": item.unit,
            "description": item.description,
            "active": item.active,
            "modifier_group_ids": [str(link.modifier_group_id) for link in item.modifier_links],
        }
    return {
        "sku": "",
        "name": "",
        "price": "",
        "vat_rate": "vat22",
        "group_id": "",
        "unit": "pcs",
        "description": "",
        "active": True,
        "modifier_group_ids": [],
    }


def _item_data(form: MultiDict) -> dict[str, Any]:
    return {
        "sku": form.get("sku", ""),
        "name": form.get("name", ""),
        "price": _rubles(form.get("price", ""), "price"),
        "vat_rate": form.get("vat_rate", "vat22"),
        "group_id": _int_or_none(form.get("group_id")),
        "unit": form.get("unit") or "pcs",
        "description": form.get("description", ""),
        "active": form.get("active") == "on",
        "modifier_group_ids": [_int_or_none(m) for m in form.getlist("modifier_group_ids")],
    }


def _save_item(item_id: int | None) -> tuple[Any, list[str]]:
    try:
        body = ItemIn.model_validate(_item_data(request.form))
        with _kernel().db.unit_of_work() as s:
            item = services.save_item(s, item_id, service_fields(body, partial=False))
        return item, []
    except ValidationError as exc:
        return None, _problems(exc)
    except ValueError as exc:
        return None, [str(exc)]
    except DomainError as exc:
        return None, _problems(exc)


def _items_context(s: Any) -> dict[str, Any]:
    ctx = _condition_context(s)
    items = list(s.scalars(select(Item).order_by(Item.name)))
    paths = ctx["group_paths"]
    items.sort(key=lambda i: (paths.get(i.group_id, "~"), i.name.casefold()))
    return {**ctx, "items": items, "modifier_groups": services.list_modifier_groups(s)}


@bp.route("/items", methods=["GET", "POST"])
def items():
    """Every item (on sale or not) by group, with forms to add an item and a group."""
    denied = _allow(VIEW_ROLES if request.method == "GET" else EDIT_ROLES)
    if denied:
        return denied
    problems: list[str] = []
    group_problems: list[str] = []
    if request.method == "POST" and request.form.get("form") == "group":
        try:
            body = GroupIn.model_validate(
                {
                    "name": request.form.get("name", ""),
                    "parent_id": _int_or_none(request.form.get("parent_id")),
                }
            )
            with _kernel().db.unit_of_work() as s:
                services.save_group(s, None, service_fields(body, partial=False))
            return redirect(url_for(".items"))
        except (ValidationError, DomainError) as exc:
            group_problems = _problems(exc)
    elif request.method == "POST":
        item, problems = _save_item(None)
        if item is not None:
            return redirect(url_for(".items", saved=item.id))
    with _kernel().db.reading() as s:
        ctx = _items_context(s)
    posted_item = request.method == "POST" and bool(problems)
    return render_template(
        "nomenclature/items.html",
        problems=problems,
        group_problems=group_problems,
        values=_item_values(form=request.form if posted_item else None),
        saved=request.args.get("saved", type=int),
        **ctx,
    ), (422 if problems or group_problems else 200)


@bp.route("/items/<int:item_id>", methods=["GET", "POST"])
def item(item_id: int):
    """Edit one item: name, price, VAT, group, modifiers, on sale or not."""
    denied = _allow(VIEW_ROLES if request.method == "GET" else EDIT_ROLES)
    if denied:
        return denied
    problems: list[str] = []
    if request.method == "POST":
        saved, problems = _save_item(item_id)
        if saved is not None:
            return redirect(url_for(".items", saved=saved.id))
    with _kernel().db.reading() as s:
        found = services.get_item(s, item_id)
        values = _item_values(found, request.form if problems else None)
        ctx = _items_context(s)
    return render_template("nomenclature/item.html", item=found, problems=problems, values=values, **ctx), (
        422 if problems else 200
    )


def _options_from_text(text: str) -> list[dict[str, Any]]:
    """``name`` or ``name; price change`` per line, e.g. ``35 cm; 150``."""
    options = []
    for raw in text.splitlines():
        if not raw.strip():
            continue
        name, _sep, delta = raw.partition(";")
        options.append(
            {"name": name.strip(), "price_delta": _rubles(delta, f"option {name.strip()}") or Decimal(0)}
        )
    return options


@bp.route("/modifiers", methods=["GET", "POST"])
def modifiers():
    """Modifier groups with their options; add a group, switch options on and off."""
    denied = _allow(VIEW_ROLES if request.method == "GET" else EDIT_ROLES)
    if denied:
        return denied
    problems: list[str] = []
    if request.method == "POST":
        try:
            with _kernel().db.unit_of_work() as s:
                if request.form.get("form") == "option":
                    services.save_option(
                        s,
                        request.form.get("group_id", type=int) or 0,
                        request.form.get("option_id", type=int) or 0,
                        {"active": request.form.get("active") == "1"},
                    )
                else:
                    body = ModifierGroupIn.model_validate(
                        {
                            "name": request.form.get("name", ""),
                            "min": _int_or_none(request.form.get("min")) or 0,
                            "max": _int_or_none(request.form.get("max")) or 1,
                            "options": _options_from_text(request.form.get("options", "")),
                        }
                    )
                    data = service_fields(body, partial=False)
                    data["options"] = [
                        {**o, "price_delta": to_minor(o["price_delta"])} for o in data["options"]
                    ]
                    services.save_modifier_group(s, None, data)
            return redirect(url_for(".modifiers"))
        except (ValidationError, DomainError) as exc:
            problems = _problems(exc)
        except ValueError as exc:
            problems = [str(exc)]
    with _kernel().db.reading() as s:
        groups = services.list_modifier_groups(s)
    return render_template(
        "nomenclature/modifiers.html",
        groups=groups,
        problems=problems,
        form=request.form,
        can_edit=current_user.has_role(*EDIT_ROLES),
        money=format_money,
    ), (422 if problems else 200)
