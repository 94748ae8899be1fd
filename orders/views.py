"""The branch pages for admins (``/admin/branches``): the list, opening a branch, changing one —
name, address, place picked on the map, time zone, hours per weekday, on/off — and what it serves.

Plain server-rendered forms through the same services as ``/api/v1/branches``; a refusal
re-renders the form with each reason next to its field, in the reader's language, and nothing
is written. The map (``static/orders/branch.js``) only fills the coordinate fields.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale, gettext
from flask_babel import lazy_gettext as _l

from frontoffice.auth import page
from frontoffice.errors import DomainError, FieldError, field_error
from frontoffice.forms import messages_by_field
from frontoffice.i18n import N_
from frontoffice.kernel import current_kernel
from frontoffice.models import Role
from nomenclature import services as catalogue
from orders import services
from orders.branches import branch_problems
from orders.hours import (
    MAX_INTERVALS,
    WEEKDAYS,
    HoursError,
    WeeklyHours,
    day_groups,
    intervals_of,
    time_zones,
)
from orders.models import Branch
from orders.ports import BRANCH_SECTIONS, BranchSection

bp = Blueprint(
    "branch_pages",
    __name__,
    url_prefix="/admin/branches",
    root_path=str(Path(__file__).resolve().parent),
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)

ADMIN = frozenset({Role.ADMIN})
#: Interval rows a weekday gets on the form (more when the stored hours have more).
FORM_SLOTS = 2

DAY_NAMES = {
    "mon": _l("Monday"),
    "tue": _l("Tuesday"),
    "wed": _l("Wednesday"),
    "thu": _l("Thursday"),
    "fri": _l("Friday"),
    "sat": _l("Saturday"),
    "sun": _l("Sunday"),
}
DAY_SHORT = {
    "mon": _l("Mon"),
    "tue": _l("Tue"),
    "wed": _l("Wed"),
    "thu": _l("Thu"),
    "fri": _l("Fri"),
    "sat": _l("Sat"),
    "sun": _l("Sun"),
}

#: What a refused form says next to a field, by the error's code (``%(name)s`` from its params).
TEXTS = {
    "code_format": N_("A code is 1 to 10 letters, digits, - or _ (KZ1)."),
    "code_taken": N_("Another branch has the code %(code)s."),
    "code_missing": N_("Give the branch a code."),
    "name_missing": N_("Give the branch a name."),
    "name_empty": N_("Give the branch a name."),
    "name_too_long": N_("A name has at most 200 characters."),
    "address_too_long": N_("An address has at most 500 characters."),
    "not_a_number": N_("Type a number, e.g. 55.7887."),
    "latitude_range": N_("The latitude is a number from -90 to 90."),
    "longitude_range": N_("The longitude is a number from -180 to 180."),
    "null_island": N_("0, 0 is in the ocean: pick the branch on the map."),
    "place_missing": N_("Pick the branch on the map or type its coordinates."),
    "place_half": N_("Give the latitude and the longitude together."),
    "unknown_timezone": N_("%(timezone)s is not a time zone: choose one from the list."),
    "time_format": N_("Write the times as HH:MM, e.g. 09:30."),
    "closes_before_opens": N_(
        "It closes at %(closes)s, before it opens at %(opens)s: tick “next day” if it closes after midnight."
    ),
    "over_a_day": N_("Closing at %(closes)s the next day is more than a day after opening at %(opens)s."),
    "overlap": N_("The intervals overlap."),
    "closed_every_day": N_("Give the hours of at least one day, or tick “around the clock”."),
    "invalid_phone": N_("This is not a phone number: check the digits."),
    "open_orders": N_(
        "The branch has %(count)s open order(s) (%(orders)s): finish, cancel or move them before "
        "switching it off."
    ),
}


def hours_summary(raw: dict[str, Any]) -> str:
    """The hours in one line: "Mon–Fri 10:00–23:00; Sat–Sun 11:00–02:00"."""
    try:
        hours = WeeklyHours.parse(raw)
    except HoursError:
        return "?"
    if hours.always:
        return gettext("around the clock")
    parts = []
    for first, last, intervals in day_groups(hours):
        days = str(DAY_SHORT[first]) if first == last else f"{DAY_SHORT[first]}–{DAY_SHORT[last]}"
        parts.append(f"{days} " + ", ".join(f"{o}–{c}" for o, c in intervals))
    return "; ".join(parts)


# --- the form --------------------------------------------------------------------------------


def _coordinate(text: str | None, name: str, errors: list[FieldError]) -> float | None:
    text = (text or "").strip().replace(",", ".")
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        errors.append(field_error(name, f"{text!r} is not a number.", "not_a_number"))
        return None
    return value


def _form_hours(form: Any) -> dict[str, list[dict[str, Any]]]:
    if form.get("around_the_clock"):
        return {}
    hours: dict[str, list[dict[str, Any]]] = {}
    for day in WEEKDAYS:
        rows = form.get(f"{day}_slots", "")
        for slot in range(min(int(rows), MAX_INTERVALS) if rows.isdigit() else FORM_SLOTS):
            opens, closes = (
                form.get(f"{day}_{slot}_opens", "").strip(),
                form.get(f"{day}_{slot}_closes", "").strip(),
            )
            if opens or closes:
                hours.setdefault(day, []).append(
                    {"opens": opens, "closes": closes, "next_day": bool(form.get(f"{day}_{slot}_next"))}
                )
    return hours


def form_data(form: Any) -> tuple[services.BranchData, list[FieldError]]:
    """The branch the form describes, and the fields that are not even numbers."""
    errors: list[FieldError] = []
    lat = _coordinate(form.get("lat"), "lat", errors)
    lon = _coordinate(form.get("lon"), "lon", errors)
    data = services.BranchData(
        code=form.get("code", ""),
        name=form.get("name", ""),
        address=form.get("address", ""),
        lat=lat,
        lon=lon,
        timezone=form.get("timezone", ""),
        opening_hours=_form_hours(form),
        phone=form.get("phone", ""),
        active=bool(form.get("active")),
    )
    return data, errors


def _form_values(branch: Branch | None = None, form: Any = None) -> dict[str, Any]:
    """What the form shows: the submitted values, the stored branch's, or a new branch's."""
    if form is not None:
        hours = _form_hours(form)
        return {
            **{k: form.get(k, "") for k in ("code", "name", "address", "lat", "lon", "timezone", "phone")},
            "active": bool(form.get("active")),
            "around_the_clock": bool(form.get("around_the_clock")),
            "hours": hours,
        }
    if branch is not None:
        try:
            hours = {
                day: [_as_typed(i) for i in rows]
                for day, rows in intervals_of(WeeklyHours.parse(branch.opening_hours)).items()
            }
        except HoursError:
            hours = {}
        return {
            "code": branch.code,
            "name": branch.name,
            "address": branch.address,
            "lat": f"{branch.lat:.6f}",
            "lon": f"{branch.lon:.6f}",
            "timezone": branch.timezone,
            "phone": branch.phone,
            "active": branch.active,
            "around_the_clock": not branch.opening_hours,
            "hours": hours,
        }
    everyday = [{"opens": "10:00", "closes": "23:00", "next_day": False}]
    return {
        "code": "",
        "name": "",
        "address": "",
        "lat": "",
        "lon": "",
        "timezone": current_kernel().settings.timezone,
        "phone": "",
        "active": True,
        "around_the_clock": False,
        "hours": {day: everyday for day in WEEKDAYS},
    }


def _as_typed(interval: dict[str, Any]) -> dict[str, Any]:
    """An interval as a time field can show it: a time field has no 24:00, so closing at the end of
    the day is 00:00 of the next."""
    if interval["closes"] == "24:00":
        return interval | {"closes": "00:00", "next_day": True}
    return interval


def _slots(values: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Each weekday's interval rows: its intervals, padded with empty rows to :data:`FORM_SLOTS`."""
    empty = {"opens": "", "closes": "", "next_day": False}
    out = {}
    for day in WEEKDAYS:
        given = list(values["hours"].get(day, []))
        out[day] = given + [empty] * max(0, FORM_SLOTS - len(given))
    return out


def _errors(errors: list[FieldError]) -> tuple[dict[str, str], dict[str, str]]:
    """Messages by field, and the hours' messages by weekday."""
    messages = messages_by_field(errors, TEXTS)
    by_day: dict[str, str] = {}
    for field, message in messages.items():
        parts = field.split(".")
        if len(parts) > 1 and parts[0] == "opening_hours" and parts[1] in WEEKDAYS:
            by_day[parts[1]] = f"{by_day[parts[1]]} {message}" if parts[1] in by_day else message
    return messages, by_day


def _config(branch: Branch | None, map_urls: list[str]) -> dict[str, Any]:
    settings = current_kernel().settings
    return {
        "locale": str(get_locale() or "en"),
        "branch_id": branch.id if branch else None,
        "branch_name": branch.name if branch else "",
        "map_urls": map_urls,
        "tiles_url": settings.map_tiles_url or "",
        "tiles_attribution": current_app.config.get("MAP_TILES_ATTRIBUTION", "© OpenStreetMap contributors"),
        "strings": {
            "pin": gettext("The branch: drag the pin or click the map"),
            "new_branch": gettext("New branch"),
            "no_tiles": gettext(
                "No map background is configured: the pin and the zones are drawn on a blank map."
            ),
        },
    }


def _form_page(
    branch: Branch | None, values: dict[str, Any], errors: list[FieldError], status: int, **extra: Any
):
    messages, by_day = _errors(errors)
    return render_template(
        "orders/branch.html",
        branch=branch,
        values=values,
        slots=_slots(values),
        errors=messages,
        hour_errors=by_day,
        weekdays=WEEKDAYS,
        day_names=DAY_NAMES,
        time_zones=time_zones(),
        config=_config(branch, extra.pop("map_urls", [])),
        sections=extra.pop("sections", []),
        **extra,
    ), status


def _refused(data: services.BranchData, parse_errors: list[FieldError], creating: bool) -> list[FieldError]:
    """The errors of a form with fields that are not numbers, with every other problem it has."""
    bad = {e["field"] for e in parse_errors}
    problems, _hours = branch_problems(data, creating=creating)
    return parse_errors + [
        field_error(p.field, p.message, p.code, **p.params) for p in problems if p.field not in bad
    ]


# --- the pages -------------------------------------------------------------------------------


@bp.route("")
@page(ADMIN)
def branches():
    """Every branch with its place, hours, state and open orders."""
    with current_kernel().db.reading() as s:
        rows = services.list_branches(s)
        counts = services.open_order_counts(s)
    return render_template("orders/branches.html", branches=rows, counts=counts, hours_summary=hours_summary)


@bp.route("/new", methods=["GET", "POST"])
@page(ADMIN)
def new_branch():
    """Open a branch."""
    if request.method == "GET":
        return _form_page(None, _form_values(), [], 200)
    data, parse_errors = form_data(request.form)
    if parse_errors:
        return _form_page(None, _form_values(form=request.form), _refused(data, parse_errors, True), 422)
    k = current_kernel()
    try:
        with k.db.unit_of_work() as s:
            branch = services.create_branch(
                s, data, region=k.settings.phone_region, timezone=k.settings.timezone
            )
            branch_id = branch.id
    except DomainError as err:
        return _form_page(None, _form_values(form=request.form), list(err.errors or []), err.status)
    flash(N_("The branch is open."))
    return redirect(url_for(".branch", branch_id=branch_id))


@bp.route("/<int:branch_id>", methods=["GET", "POST"])
@page(ADMIN)
def branch(branch_id: int):
    """One branch: its form, its place on the map with its zones, and what it serves."""
    k = current_kernel()
    with k.db.reading() as s:
        stored = services.get_branch(s, branch_id)
        sections = [source(s, branch_id) for source in k.extensions.all(BRANCH_SECTIONS)]
    extra = {"sections": sections, "map_urls": [sec.map_url for sec in sections if sec.map_url]}
    if request.method == "GET":
        return _form_page(stored, _form_values(stored), [], 200, **extra)
    data, parse_errors = form_data(request.form)
    if parse_errors:
        errors = _refused(data, parse_errors, False)
        return _form_page(stored, _form_values(form=request.form), errors, 422, **extra)
    try:
        with k.db.unit_of_work() as s:
            services.update_branch(s, branch_id, data, region=k.settings.phone_region)
    except DomainError as err:
        return _form_page(
            stored, _form_values(form=request.form), list(err.errors or []), err.status, **extra
        )
    flash(N_("Saved."))
    return redirect(url_for(".branch", branch_id=branch_id))


def stop_list_section(session: Any, branch_id: int) -> BranchSection:
    """The branch's stop-list (the nomenclature's), for its page."""
    stopped = catalogue.stop_list(session, branch_id)
    return BranchSection(
        title=gettext("Stop-list"),
        summary=gettext("%(n)s item(s) stopped today.", n=len(stopped))
        if stopped
        else gettext("Nothing is stopped."),
        items=tuple(item.name for _entry, item in stopped),
        url=url_for("nomenclature_pages.catalogue", branch_id=branch_id),
    )


def register_pages(app: Any, kernel: Any) -> None:
    """Serve the branch pages, show them to admins, and put the stop-list on a branch's page."""
    app.register_blueprint(bp)
    # The title stays English here; the top bar translates it when it renders.
    kernel.add_nav("Branches", "branch_pages.branches", ADMIN, order=91)
    kernel.extensions.add(BRANCH_SECTIONS, "stop_list", stop_list_section, order=20)
