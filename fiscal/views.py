"""Pages: the fiscal registers (admins, ``/admin/fiscal/registers``) and the receipts queue
(managers and admins, ``/fiscal/receipts``) with a resend button. A refused form is shown again
with each reason next to its field; nothing is written."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext

from fiscal import services
from fiscal.adapters import KINDS
from fiscal.models import ReceiptState
from frontoffice.auth import branch_scope, page
from frontoffice.errors import DomainError
from frontoffice.forms import messages_by_field
from frontoffice.i18n import N_
from frontoffice.ids import parse_id
from frontoffice.kernel import current_kernel
from frontoffice.models import Role
from nomenclature.taxes import TaxSystem

bp = Blueprint("fiscal_pages", __name__, template_folder="templates")

ADMIN = frozenset({Role.ADMIN})
QUEUE_ROLES = frozenset({Role.ADMIN, Role.MANAGER})

#: What a refused form says next to a field, by the error's type.
TEXTS = {
    "fiscal_organization": N_("Choose an organization."),
    "fiscal_kind": N_("Choose the kind of register."),
    "fiscal_name": N_("Name the register."),
    "fiscal_inn_invalid": N_("This is not a valid INN (10 or 12 digits with check digits)."),
    "fiscal_inn_mismatch": N_(
        "The organization's INN is %(expected)s: a register fiscalizes for the taxpayer it is registered to."
    ),
    "fiscal_no_tax_system": N_("Tick at least one tax system."),
    "fiscal_tax_system_foreign": N_("The organization does not apply %(names)s."),
    "fiscal_address": N_("Give the point of sale (tag 1009)."),
    "fiscal_url": N_("The address must start with http:// or https://."),
    "fiscal_group": N_("ATOL Online needs the group code."),
    "fiscal_login": N_("ATOL Online needs the login."),
    "fiscal_email": N_("ATOL Online needs the seller's e-mail."),
    "fiscal_env": N_("An environment variable name has A-Z, 0-9 and _ only."),
    "fiscal_secret": N_("ATOL Online needs the password, or the environment variable that holds it."),
}
FIELDS = (
    "kind",
    "name",
    "inn",
    "payment_address",
    "company_email",
    "base_url",
    "group_code",
    "login",
    "secret_env",
)


def _form_data(form: Any, *, editing: bool) -> services.RegisterData:
    secret = form.get("secret", "")
    values = {name: form.get(name, "").strip() for name in FIELDS}
    return services.RegisterData(
        organization_id=form.get("organization_id", type=parse_id) or 0,
        tax_systems=form.getlist("tax_systems"),
        secret=None if editing and not secret else secret,
        active=form.get("active") == "1" if editing else True,
        **values,
    )


def _context(**extra: Any) -> dict[str, Any]:
    with current_kernel().db.reading() as s:
        organizations = services.organization_choices(s)
    context: dict[str, Any] = {
        "organizations": organizations,
        "kinds": KINDS,
        "tax_systems": [t.value for t in TaxSystem],
        "values": {"tax_systems": [], "kind": "atol_online"},
        "errors": {},
    }
    context.update(extra)
    return context


@bp.route("/admin/fiscal/registers", methods=["GET", "POST"])
@page(ADMIN)
def registers_page():
    """The registers, and a form to add one."""
    kernel = current_kernel()
    if request.method == "POST":
        data = _form_data(request.form, editing=False)
        try:
            with kernel.db.unit_of_work() as s:
                created = services.create_register(s, data, app_secret=kernel.settings.secret_key)
        except DomainError as err:
            return _list(err.status, values=_values(data), errors=messages_by_field(err.errors or [], TEXTS))
        flash(N_("The fiscal register is added."))
        return redirect(url_for(".register_page", register_id=created.id))
    return _list()


def secret_hint(encrypted: str | None, env_name: str) -> str:
    """Where a register's password comes from, in the reader's language (never the password)."""
    if env_name:
        return gettext("from $%(name)s", name=env_name)
    return gettext("stored encrypted") if encrypted else gettext("none")


def _values(data: services.RegisterData) -> dict[str, Any]:
    return {k: v for k, v in vars(data).items() if k != "secret"}


def _list(status: int = 200, **extra: Any):
    with current_kernel().db.reading() as s:
        regs = [(r, secret_hint(r.secret_encrypted, r.secret_env)) for r in services.list_registers(s)]
    return render_template("fiscal/registers.html", **_context(registers=regs, **extra)), status


@bp.route("/admin/fiscal/registers/<int:register_id>", methods=["GET", "POST"])
@page(ADMIN)
def register_page(register_id: int):
    """One register: change it."""
    kernel = current_kernel()
    if request.method == "POST":
        data = _form_data(request.form, editing=True)
        try:
            with kernel.db.unit_of_work() as s:
                services.change_register(s, register_id, data, app_secret=kernel.settings.secret_key)
        except DomainError as err:
            if err.status == 404:
                raise
            return _one(
                register_id,
                err.status,
                values=_values(data),
                errors=messages_by_field(err.errors or [], TEXTS),
            )
        flash(N_("The fiscal register is saved."))
        return redirect(url_for(".register_page", register_id=register_id))
    return _one(register_id)


def _one(register_id: int, status: int = 200, **extra: Any):
    with current_kernel().db.reading() as s:
        reg = services.get_register(s, register_id)
        hint = secret_hint(reg.secret_encrypted, reg.secret_env)
        values = {name: getattr(reg, name) for name in (*FIELDS, "organization_id", "tax_systems", "active")}
    extra.setdefault("values", values)
    return render_template(
        "fiscal/register.html", **_context(register=reg, secret_hint=hint, **extra)
    ), status


@bp.route("/fiscal/receipts")
@page(QUEUE_ROLES)
def queue_page():
    """Receipts not fiscalized yet: failed first, each with the reason; a resend button."""
    state = request.args.get("state", "")
    states = (
        [state]
        if state in ReceiptState.ALL
        else list((ReceiptState.PENDING, ReceiptState.SENT, ReceiptState.FAILED))
    )
    with current_kernel().db.reading() as s:
        receipts = services.queue(s, states, within=branch_scope())
    return render_template("fiscal/queue.html", receipts=receipts, state=state, states=ReceiptState.ALL)


@bp.route("/fiscal/receipts/<int:receipt_id>/resend", methods=["POST"])
@page(QUEUE_ROLES)
def resend(receipt_id: int):
    """Put a receipt back in line."""
    kernel = current_kernel()
    try:
        with kernel.db.unit_of_work() as s:
            services.resend(s, receipt_id, within=branch_scope())
    except DomainError:
        flash(N_("That receipt cannot be resent (it is fiscalized, or not yours to see)."))
        return redirect(url_for(".queue_page"))
    kernel.relay.notify()
    flash(N_("The receipt is back in line."))
    return redirect(url_for(".queue_page"))
