"""What the nomenclature admin pages share: the blueprint, the roles, the role guard of a page
with a form, reading form values, and the context every form shows."""

from __future__ import annotations

import functools
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, TypeVar

from flask import Blueprint, request
from flask_login import current_user
from pydantic import ValidationError
from sqlalchemy import select

from frontoffice.api import validation_errors
from frontoffice.auth import page
from frontoffice.errors import DomainError
from frontoffice.models import Role
from frontoffice.money import format_money
from nomenclature import services
from nomenclature.distribution import ORDER_KINDS, PAYMENT_KINDS
from nomenclature.models import Item
from nomenclature.taxes import TaxSystem, VatRate

bp = Blueprint(
    "nomenclature_pages",
    __name__,
    url_prefix="/admin/nomenclature",
    # The templates and static files live in the nomenclature package, beside this folder.
    root_path=str(Path(__file__).resolve().parent.parent),
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)

VIEW_ROLES = frozenset({Role.ADMIN, Role.MANAGER})
EDIT_ROLES = frozenset({Role.ADMIN})
STOP_ROLES = frozenset({Role.ADMIN, Role.MANAGER, Role.OPERATOR})

F = TypeVar("F", bound=Callable[..., Any])


def form_page(read: frozenset[str], write: frozenset[str]) -> Callable[[F], F]:
    """A :func:`~frontoffice.auth.page` that ``read`` roles may open (GET) and only ``write``
    roles may submit (any other method)."""

    def decorate(view: F) -> F:
        reading, writing = page(read)(view), page(write)(view)

        @functools.wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            return (reading if request.method == "GET" else writing)(*args, **kwargs)

        guarded.page_roles = reading.page_roles  # type: ignore[attr-defined]
        guarded.form_roles = writing.page_roles  # type: ignore[attr-defined]
        return guarded  # type: ignore[return-value]

    return decorate


def problems_of(exc: Exception) -> list[str]:
    """Readable lines for a refusal: ``field: message``."""
    if isinstance(exc, ValidationError):
        errors = validation_errors(exc)
    elif isinstance(exc, DomainError):
        errors = exc.errors or [{"field": "", "message": exc.detail}]
    else:
        raise exc
    return [f"{e['field']}: {e['message']}" if e.get("field") else e["message"] for e in errors]


def parse_rubles(text: str, field: str) -> Decimal | None:
    """An amount typed in a form (spaces and a decimal comma allowed); None when empty."""
    text = text.strip().replace(" ", "").replace("\u202f", "").replace(",", ".")
    if not text:
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        raise ValueError(f"{field}: {text!r} is not an amount") from None


def int_or_none(value: str | None) -> int | str | None:
    """A form value as an int, None when empty, or the text itself for validation to refuse."""
    if not value:
        return None
    return int(value) if value.strip().lstrip("-").isdigit() else value


def form_context(s: Any) -> dict[str, Any]:
    """What every distribution form shows: tax systems, VAT rates, organizations, branches."""
    orgs = services.list_organizations(s)
    return {
        "tax_systems": list(TaxSystem),
        "ts_labels": {t.value: t.label for t in TaxSystem},
        "ts_codes": {t.value: t.ffd_code for t in TaxSystem},
        "org_names": {o.id: o.name for o in orgs},
        "vat_rates": list(VatRate),
        "vat_labels": {r.value: r.label for r in VatRate},
        "organizations": orgs,
        "order_kinds": ORDER_KINDS,
        "payment_kinds": PAYMENT_KINDS,
        "branches": services.branch_names(s),
        "can_edit": current_user.has_role(*EDIT_ROLES),
        "money": format_money,
    }


def catalogue_context(s: Any) -> dict[str, Any]:
    """:func:`form_context` plus the groups (by their path in the tree) and the items."""
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
        **form_context(s),
        "groups": sorted(((g.id, path(g.id)) for g in groups), key=lambda p: p[1]),
        "group_paths": {g.id: path(g.id) for g in groups},
        "items": items,
        "item_names": {i.id: f"{i.name} ({i.sku})" for i in items},
    }
