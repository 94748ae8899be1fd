"""Admin pages of the catalogue: the group tree with its stop-list toggles, items, groups and
modifier groups."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from flask import redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from pydantic import ValidationError
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from frontoffice.auth import page
from frontoffice.errors import DomainError
from frontoffice.ids import parse_id
from frontoffice.kernel import current_kernel
from frontoffice.money import format_money
from nomenclature import services
from nomenclature.api.common import options_in_minor_units, service_fields, today
from nomenclature.models import Item
from nomenclature.schemas import GroupIn, ItemIn, ModifierGroupIn
from nomenclature.taxes import VatRate, standard_rate_note
from nomenclature.views.common import (
    EDIT_ROLES,
    STOP_ROLES,
    VIEW_ROLES,
    bp,
    catalogue_context,
    form_page,
    int_or_none,
    parse_rubles,
    problems_of,
)

# --- catalogue and stop-list ---------------------------------------------------------------------


@bp.route("/catalogue", methods=["GET", "POST"])
@page(STOP_ROLES)
def catalogue():
    """The group tree with items, prices and modifiers; the stop-list of a branch with toggles."""
    with current_kernel().db.reading() as s:
        branches = services.branch_names(s)
    branch_id = request.values.get("branch_id", type=parse_id) or (next(iter(branches), None))
    problems: list[str] = []
    if request.method == "POST":
        item_id = request.form.get("item_id", type=parse_id)
        try:
            if branch_id is None or item_id is None:
                raise DomainError(_("Choose a branch and an item."))
            with current_kernel().db.unit_of_work() as s:
                if request.form.get("action") == "stop":
                    services.stop_item(
                        s, branch_id, item_id, request.form.get("reason", "")[:300], actor_id=current_user.id
                    )
                else:
                    services.resume_item(s, branch_id, item_id, actor_id=current_user.id)
            return redirect(url_for(".catalogue", branch_id=branch_id))
        except DomainError as exc:
            problems = problems_of(exc)
    with current_kernel().db.reading() as s:
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
        "price": parse_rubles(form.get("price", ""), "price"),
        "vat_rate": form.get("vat_rate", "vat22"),
        "group_id": int_or_none(form.get("group_id")),
        "unit": form.get("unit") or "pcs",
        "description": form.get("description", ""),
        "active": form.get("active") == "on",
        "modifier_group_ids": [int_or_none(m) for m in form.getlist("modifier_group_ids")],
    }


def _save_item(item_id: int | None) -> tuple[Any, list[str]]:
    try:
        body = ItemIn.model_validate(_item_data(request.form))
        with current_kernel().db.unit_of_work() as s:
            item = services.save_item(s, item_id, service_fields(body, partial=False), on=today())
        return item, []
    except ValidationError as exc:
        return None, problems_of(exc)
    except ValueError as exc:
        return None, [str(exc)]
    except DomainError as exc:
        return None, problems_of(exc)


def _items_context(s: Any) -> dict[str, Any]:
    ctx = catalogue_context(s)
    items = list(s.scalars(select(Item).order_by(Item.name)))
    paths = ctx["group_paths"]
    items.sort(key=lambda i: (paths.get(i.group_id, "~"), i.name.casefold()))
    return {**ctx, "items": items, "modifier_groups": services.list_modifier_groups(s)}


@bp.route("/items", methods=["GET", "POST"])
@form_page(VIEW_ROLES, EDIT_ROLES)
def items():
    """Every item (on sale or not) by group, with forms to add an item and a group."""
    problems: list[str] = []
    group_problems: list[str] = []
    if request.method == "POST" and request.form.get("form") == "group":
        try:
            body = GroupIn.model_validate(
                {
                    "name": request.form.get("name", ""),
                    "parent_id": int_or_none(request.form.get("parent_id")),
                }
            )
            with current_kernel().db.unit_of_work() as s:
                services.save_group(s, None, service_fields(body, partial=False))
            return redirect(url_for(".items"))
        except (ValidationError, DomainError) as exc:
            group_problems = problems_of(exc)
    elif request.method == "POST":
        item, problems = _save_item(None)
        if item is not None:
            return redirect(url_for(".items", saved=item.id))
    with current_kernel().db.reading() as s:
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
@form_page(VIEW_ROLES, EDIT_ROLES)
def item(item_id: int):
    """Edit one item: name, price, VAT, group, modifiers, on sale or not."""
    problems: list[str] = []
    if request.method == "POST":
        saved, problems = _save_item(item_id)
        if saved is not None:
            return redirect(url_for(".items", saved=saved.id))
    with current_kernel().db.reading() as s:
        found = services.get_item(s, item_id)
        values = _item_values(found, request.form if problems else None)
        ctx = _items_context(s)
    statement = vat_statement(VatRate(found.vat_rate), today())
    return render_template(
        "nomenclature/item.html", item=found, problems=problems, values=values, vat_statement=statement, **ctx
    ), (422 if problems else 200)


def vat_statement(rate: VatRate, on: dt.date) -> str | None:
    """What an item's page says of a standard rate that is not charged as it reads (None: it is).

    20 % is the legacy standard rate: said always, since it is charged as 22 % from 2026."""
    if rate is VatRate.VAT20:
        return _("%(rate)s (legacy): charged as %(current)s from 1 January 2026", rate="20 %", current="22 %")
    if standard_rate_note(rate, on) is not None:
        return _(
            "%(rate)s is in force from 1 January 2026: charged as %(before)s until then",
            rate="22 %",
            before="20 %",
        )
    return None


def _options_from_text(text: str) -> list[dict[str, Any]]:
    """``name`` or ``name; price change`` per line, e.g. ``35 cm; 150``."""
    options = []
    for raw in text.splitlines():
        if not raw.strip():
            continue
        name, _sep, delta = raw.partition(";")
        options.append(
            {"name": name.strip(), "price_delta": parse_rubles(delta, f"option {name.strip()}") or Decimal(0)}
        )
    return options


@bp.route("/modifiers", methods=["GET", "POST"])
@form_page(VIEW_ROLES, EDIT_ROLES)
def modifiers():
    """Modifier groups with their options; add a group, switch options on and off."""
    problems: list[str] = []
    if request.method == "POST":
        try:
            with current_kernel().db.unit_of_work() as s:
                if request.form.get("form") == "option":
                    services.save_option(
                        s,
                        request.form.get("group_id", type=parse_id) or 0,
                        request.form.get("option_id", type=parse_id) or 0,
                        {"active": request.form.get("active") == "1"},
                    )
                else:
                    body = ModifierGroupIn.model_validate(
                        {
                            "name": request.form.get("name", ""),
                            "min": int_or_none(request.form.get("min")) or 0,
                            "max": int_or_none(request.form.get("max")) or 1,
                            "options": _options_from_text(request.form.get("options", "")),
                        }
                    )
                    data = options_in_minor_units(service_fields(body, partial=False))
                    services.save_modifier_group(s, None, data)
            return redirect(url_for(".modifiers"))
        except (ValidationError, DomainError) as exc:
            problems = problems_of(exc)
        except ValueError as exc:
            problems = [str(exc)]
    with current_kernel().db.reading() as s:
        groups = services.list_modifier_groups(s)
    return render_template(
        "nomenclature/modifiers.html",
        groups=groups,
        problems=problems,
        form=request.form,
        can_edit=current_user.has_role(*EDIT_ROLES),
        money=format_money,
    ), (422 if problems else 200)
