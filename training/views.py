"""The trainer's page: each trainee's calls (time, keystrokes, mistakes, differences from the
scripted order), the scenarios, and the forms to write one and give it to a trainee."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from frontoffice.auth import page
from frontoffice.errors import DomainError
from frontoffice.forms import messages_by_field
from frontoffice.ids import parse_id
from frontoffice.kernel import current_kernel
from training import services
from training.api import TRAINERS
from training.mistakes import MISTAKE_KINDS

bp = Blueprint("training", __name__, url_prefix="/training", template_folder="templates")


#: What the scenario form says next to a refused field, in the reader's language.
FIELD_MESSAGES = {
    "title": _l("Give the scenario a title."),
    "caller_phone": _l("Type the caller's phone number in full, e.g. +7 912 345-67-89."),
    "kind": _l("Choose delivery or pickup."),
    "address": _l("A delivery scenario needs the address the caller gives."),
    "payment_kind": _l("Choose how the caller pays."),
    "lines": _l("One item per line: a SKU of the menu and a quantity of at least 1."),
}


def parse_lines(text: str) -> list[tuple[str, int]]:
    """``SKU quantity`` per line (quantity 1 when left out; a bad quantity reads as 0 and is refused)."""
    out = []
    for raw in text.splitlines():
        parts = raw.split()
        if not parts:
            continue
        quantity = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else (1 if len(parts) == 1 else 0)
        out.append((parts[0], quantity))
    return out


def _render(errors: dict[str, str] | None = None, status: int = 200):
    with current_kernel().db.reading() as s:
        report = services.trainees_report(s)
        scenarios = services.scenarios(s)
        return render_template(
            "training/trainer.html",
            candidates=services.operators_to_train(s),
            report=report,
            scenarios=scenarios,
            kinds=MISTAKE_KINDS,
            errors=errors or {},
            form=request.form,
        ), status


@bp.route("")
@page(TRAINERS)
def trainer():
    """Each trainee's calls and the scenarios."""
    return _render()


@bp.route("/scenarios", methods=["POST"])
@page(TRAINERS)
def create_scenario():
    """Write a scripted call; the refusal's messages next to their fields."""
    k = current_kernel()
    f = request.form
    data = services.ScenarioData(
        title=f.get("title", ""),
        caller_phone=f.get("caller_phone", ""),
        caller_name=f.get("caller_name", ""),
        request_text=f.get("request_text", ""),
        kind=f.get("kind", "delivery"),
        address=f.get("address", ""),
        payment_kind=f.get("payment_kind", "cash"),
        lines=parse_lines(f.get("lines", "")),
    )
    try:
        with k.db.unit_of_work() as s:
            services.create_scenario(s, data, actor_id=current_user.id, region=k.settings.phone_region)
    except DomainError as err:
        errors = {
            key.split(".")[0]: str(FIELD_MESSAGES.get(key.split(".")[0], msg))
            for key, msg in messages_by_field(err.errors or [], {}).items()
        }
        return _render(errors, 422)
    flash(_("Scenario saved."))
    return redirect(url_for("training.trainer"))


@bp.route("/trainees", methods=["POST"])
@page(TRAINERS)
def put_in_training():
    """Put an operator in training mode, or end it."""
    trainee = request.form.get("trainee") == "1"
    try:
        user_id = parse_id(request.form.get("user_id"))
        with current_kernel().db.unit_of_work() as s:
            services.put_in_training(s, user_id, trainee)
    except (ValueError, DomainError):
        flash(_("Choose an operator."), "error")
        return redirect(url_for("training.trainer"))
    flash(_("The user is now a trainee.") if trainee else _("The user is no longer a trainee."))
    return redirect(url_for("training.trainer"))


@bp.route("/scenarios/<int:scenario_id>/assign", methods=["POST"])
@page(TRAINERS)
def assign(scenario_id: int):
    """Give a scenario to the chosen trainee."""
    try:
        trainee_id = parse_id(request.form.get("trainee_id"))
    except ValueError:
        flash(_("Choose an active trainee."), "error")
        return redirect(url_for("training.trainer"))
    try:
        with current_kernel().db.unit_of_work() as s:
            services.assign(s, scenario_id, trainee_id, actor_id=current_user.id)
    except DomainError as err:
        flash(str(err.detail) if not err.errors else _("Choose an active trainee."), "error")
        return redirect(url_for("training.trainer"))
    flash(_("Scenario given to the trainee."))
    return redirect(url_for("training.trainer"))
