"""The dispatch pages for managers (there is no separate dispatcher role: a dispatcher is a manager,
admins may do everything): the dispatch screen (``/couriers/dispatch``) and the courier register
(``/couriers/register``).

The dispatch screen is a shell; ``static/couriers/dispatch.js`` polls ``/api/v1/dispatch/board``
and acts through the dispatch API. The register is plain server-rendered forms through the same
services as ``/api/v1/couriers``: a refusal re-renders the form with each reason next to its field,
in the reader's language, and nothing is written. Both show the reader's branches only.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import get_locale, gettext

from couriers import services
from couriers.models import VEHICLES, Courier
from couriers.ports import COURIER_DIRECTORY
from frontoffice.auth import branch_scope, page
from frontoffice.errors import DomainError, FieldError, InvalidInput, NotFound, field_error
from frontoffice.forms import messages_by_field, ticked_ids
from frontoffice.i18n import N_
from frontoffice.kernel import current_kernel
from frontoffice.models import Role
from frontoffice.ports import BRANCH_DIRECTORY

bp = Blueprint(
    "courier_pages",
    __name__,
    url_prefix="/couriers",
    root_path=str(Path(__file__).resolve().parent),
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)

#: Dispatchers are managers; admins have every role.
PAGE_ROLES = frozenset({Role.MANAGER})

#: A refusal's reasons in the reader's language, by their ``type``.
TEXTS = {
    "name_missing": N_("Give the courier a name."),
    "vehicle_unknown": N_("Choose on foot, bike or car."),
    "max_active_range": N_("From %(low)s to %(high)s orders at a time."),
    "invalid_phone": N_("This is not a phone number: check the digits."),
    "branch_unknown": N_("There is no branch %(branch)s."),
    "branch_missing": N_("Tick at least one branch the courier takes orders from."),
    "branch_outside": N_("You work for other branches: tick only yours."),
    "user_unknown": N_("There is no such user."),
    "user_not_courier": N_("This user is not a courier."),
    "user_taken": N_("This user is already another courier."),
    "device_format": N_(
        "A device id has 1 to 100 letters, digits, “.”, “_”, “:” or “-”, as Traccar Client shows it."
    ),
    "device_taken": N_("This device is registered to courier %(courier)s."),
    "not_a_number": N_("Type a whole number."),
}


def dispatch_strings() -> dict[str, str]:
    """Texts the dispatch script shows, translated for the current locale."""
    return {
        "no_orders": gettext("No undelivered orders in your branches."),
        "no_finished": gettext("No trip ended in the last 3 hours."),
        "no_candidates": gettext("No free courier with a fresh position serves this branch."),
        "pick_order": gettext("Select an order (↑ ↓) to see the couriers for it."),
        "late_by": gettext("+{n} min"),
        "on_time": gettext("on time"),
        "no_promise": gettext("no promise"),
        "no_courier": gettext("no courier"),
        "assign": gettext("Assign"),
        "unassign": gettext("Unassign"),
        "assigned": gettext("Order {number} → {courier}."),
        "unassigned": gettext("Order {number} has no courier now."),
        "km": gettext("{n} km"),
        "eta": gettext("at the branch in {n} min"),
        "eta_client": gettext("at the client in {n} min"),
        "proofs": gettext("{n} proof(s)"),
        "proof_of": gettext("Proof of delivery of order {number}"),
        "no_proof": gettext("No proof of delivery yet."),
        "position": gettext("Position"),
        "cash": gettext("Cash taken"),
        "courier": gettext("Courier"),
        "outcome": gettext("Outcome"),
        "reason": gettext("Reason"),
        "comment": gettext("Comment"),
        "at": gettext("At"),
        "auto_on": gettext("Auto-dispatch is on"),
        "auto_off": gettext("Auto-dispatch is off"),
        "auto_rule": gettext(
            "A delivery order ready and unclaimed for {n} min goes to the free courier of its branch "
            "who reaches the branch first."
        ),
        "saved": gettext("Saved."),
        "auto_minutes_range": gettext("Type a whole number of minutes from 1 to 240."),
        "updated": gettext("Updated {time}"),
        "network_error": gettext("The server does not answer: check the connection."),
        "server_error": gettext("The server failed; try again."),
        "session_expired": gettext("The session has expired: log in again."),
        "forbidden": gettext("You may not do this."),
    }


@bp.route("/dispatch")
@page(PAGE_ROLES)
def dispatch():
    """The dispatch screen."""
    k = current_kernel()
    config: dict[str, Any] = {
        "locale": str(get_locale() or "en"),
        "timezone": k.settings.timezone,
        "currency": k.settings.currency,
        "poll_ms": 5000,
        "api": {
            "board": url_for("dispatch_api.board"),
            "candidates": "/api/v1/dispatch/orders/{id}/candidates",
            "assign": "/api/v1/dispatch/orders/{id}/assign",
            "unassign": "/api/v1/dispatch/orders/{id}/unassign",
            "proof": "/api/v1/dispatch/orders/{id}/proof",
            "auto_rule": url_for("dispatch_api.set_auto_rule"),
            "order_page": "/orders/{id}",
        },
        "labels": k.labels.table("order_status", "vehicle", "proof_kind", "delivery_outcome"),
        "strings": dispatch_strings(),
    }
    return render_template("couriers/dispatch.html", config=config)


# --- the courier register ------------------------------------------------------------------------


def _branches() -> dict[int, str]:
    """The branches the reader may give couriers, id → name."""
    scope = branch_scope()
    with current_kernel().db.reading() as s:
        names = current_kernel().extensions.get(BRANCH_DIRECTORY)(s)
    return {bid: name for bid, name in names.items() if scope is None or bid in scope}


def _visible(courier: Courier) -> bool:
    scope = branch_scope()
    return scope is None or bool(scope & set(courier.branch_ids))


def _values(courier: Courier | None = None, form: Any = None) -> dict[str, Any]:
    if form is not None:
        return {
            "name": form.get("name", ""),
            "phone": form.get("phone", ""),
            "vehicle": form.get("vehicle", "car"),
            "max_active_orders": form.get("max_active_orders", ""),
            "device_id": form.get("device_id", ""),
            "branch_ids": [str(b) for b in form.getlist("branch_ids")],
            "active": bool(form.get("active")),
            "user_id": form.get("user_id", ""),
        }
    if courier is None:
        return {
            "name": "",
            "phone": "",
            "vehicle": "car",
            "max_active_orders": "3",
            "device_id": "",
            "user_id": "",
        }
    return {
        "name": courier.name,
        "phone": courier.phone,
        "vehicle": courier.vehicle,
        "max_active_orders": str(courier.max_active_orders),
        "device_id": "",
        "branch_ids": [str(b) for b in courier.branch_ids],
        "active": courier.active,
        "user_id": str(courier.user_id or ""),
    }


def _form_data(
    form: Any, allowed: dict[int, str], *, creating: bool
) -> tuple[services.CourierData, list[FieldError]]:
    """The form as the service's data, with the problems a service cannot see (not a number, a
    branch the reader does not work for). A new courier's form names its first device; a courier's
    devices are added and removed one by one afterwards."""
    errors: list[FieldError] = []
    raw_max = form.get("max_active_orders", "").strip()
    max_active = None
    if raw_max:
        try:
            max_active = int(raw_max)
        except ValueError:
            errors.append(field_error("max_active_orders", "Not a whole number.", "not_a_number"))
    else:
        errors.append(
            field_error(
                "max_active_orders", "From 1 to 20 orders at a time.", "max_active_range", low=1, high=20
            )
        )
    branch_ids = ticked_ids(form.getlist("branch_ids"))
    if any(b not in allowed for b in branch_ids):
        errors.append(field_error("branch_ids", "A branch outside the reader's branches.", "branch_outside"))
    device = form.get("device_id", "").strip() if creating else ""
    # The login the phone app uses: a courier-role user of the staff page ("": none).
    raw_user = form.get("user_id", "").strip()
    user_id = None
    if raw_user:
        try:
            user_id = int(raw_user)
        except ValueError:
            errors.append(field_error("user_id", "There is no such user.", "user_unknown"))
    data = services.CourierData(
        name=form.get("name", ""),
        phone=form.get("phone", "").strip(),
        vehicle=form.get("vehicle", ""),
        max_active_orders=max_active,
        branch_ids=branch_ids,
        device_id=device or None,
        active=bool(form.get("active")),
        user_id=user_id,
        unlink_user=not creating and "user_id" in form and not raw_user,
    )
    return data, errors


def _refuse(parse_errors: list[FieldError], data: services.CourierData, current: Courier | None) -> None:
    """422 with every problem of the form at once (those of fields that parsed, too) before writing."""
    if not parse_errors:
        return
    bad = {e["field"] for e in parse_errors}
    k = current_kernel()
    with k.db.reading() as s:
        problems = services.courier_problems(s, data, k.settings.phone_region, current)
    raise InvalidInput("refused", errors=parse_errors + [p for p in problems if p["field"] not in bad])


def _register_page(
    values: dict[str, Any],
    errors: list[FieldError],
    status: int,
    courier: Courier | None = None,
    device_errors: list[FieldError] | None = None,
):
    scope = branch_scope()
    with current_kernel().db.reading() as s:
        listed = [
            o
            for o in services.overview(
                s, signal_timeout_s=current_kernel().settings.courier_signal_timeout_s, include_inactive=True
            )
            if scope is None or scope & set(o.courier.branch_ids)
        ]
        logins = services.courier_logins(s, courier)
    return render_template(
        "couriers/register.html",
        couriers=listed,
        courier=courier,
        values=values,
        errors=messages_by_field(errors, TEXTS),
        device_errors=messages_by_field(device_errors or [], TEXTS),
        branches=_branches(),
        vehicles=VEHICLES,
        logins=logins,
    ), status


def _forget_devices() -> None:
    directory = current_kernel().extensions.find(COURIER_DIRECTORY)
    if directory is not None:
        directory.invalidate()


@bp.route("/register", methods=["GET", "POST"])
@page(PAGE_ROLES)
def register():
    """The couriers of the reader's branches with their state, and the form that registers one."""
    if request.method == "GET":
        return _register_page(_values(), [], 200)
    data, errors = _form_data(request.form, _branches(), creating=True)
    k = current_kernel()
    try:
        _refuse(errors, data, None)
        with k.db.unit_of_work() as s:
            courier_id = services.create_courier(s, data, region=k.settings.phone_region).id
    except DomainError as err:
        return _register_page(_values(form=request.form), list(err.errors or []), 422)
    _forget_devices()
    flash(N_("The courier is registered."))
    return redirect(url_for(".courier", courier_id=courier_id))


@bp.route("/register/<int:courier_id>", methods=["GET", "POST"])
@page(PAGE_ROLES)
def courier(courier_id: int):
    """One courier's form: name, phone, vehicle, branches, maximum orders, device id, on/off."""
    k = current_kernel()
    stored = _visible_courier(courier_id)
    if request.method == "GET":
        return _register_page(_values(stored), [], 200, stored)
    data, errors = _form_data(request.form, _branches(), creating=False)
    branches = services.scoped_branches(data.branch_ids, stored.branch_ids, branch_scope())
    data = dataclasses.replace(data, branch_ids=branches)
    try:
        _refuse(errors, data, stored)
        with k.db.unit_of_work() as s:
            services.update_courier(s, courier_id, data, region=k.settings.phone_region)
    except DomainError as err:
        return _register_page(_values(form=request.form), list(err.errors or []), 422, stored)
    _forget_devices()
    flash(N_("Saved."))
    return redirect(url_for(".courier", courier_id=courier_id))


def _visible_courier(courier_id: int) -> Courier:
    """The courier, 404 when it does not exist or serves none of the reader's branches."""
    with current_kernel().db.reading() as s:
        stored = services.get_courier(s, courier_id)
    if not _visible(stored):
        raise NotFound(f"There is no courier {courier_id}.")
    return stored


@bp.route("/register/<int:courier_id>/devices", methods=["POST"])
@page(PAGE_ROLES)
def add_device(courier_id: int):
    """Register one more Traccar Client device to a courier."""
    stored = _visible_courier(courier_id)
    try:
        with current_kernel().db.unit_of_work() as s:
            services.add_device(s, courier_id, request.form.get("device_id", ""))
    except DomainError as err:
        return _register_page(_values(stored), [], err.status, stored, list(err.errors or []))
    _forget_devices()
    flash(N_("The device is registered."))
    return redirect(url_for(".courier", courier_id=courier_id))


@bp.route("/register/<int:courier_id>/devices/remove", methods=["POST"])
@page(PAGE_ROLES)
def remove_device(courier_id: int):
    """Cut a device off a courier: its reports are refused from then on."""
    _visible_courier(courier_id)
    with current_kernel().db.unit_of_work() as s:
        services.remove_device(s, courier_id, request.form.get("device_id", ""))
    _forget_devices()
    flash(N_("The device is removed: its reports are refused from now on."))
    return redirect(url_for(".courier", courier_id=courier_id))
