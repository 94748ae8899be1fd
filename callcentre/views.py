"""The operators' pages: the call-centre workspace and the live order board.

Both pages are server-rendered shells; their ES modules (``static/callcentre/``) talk to
the JSON API with the cookie session and the CSRF header. Everything a script needs
to know at start (API addresses, branches, the transition table, translated strings)
is rendered once into a JSON blob, so the scripts hold no hard-coded text.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Flask, current_app, render_template, request, url_for
from flask_babel import get_locale, pgettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from callcentre.ports import WORKSPACE_ENDPOINTS
from frontoffice.auth import branch_scope, page
from frontoffice.ids import parse_id
from frontoffice.kernel import Kernel, current_kernel
from frontoffice.models import Role
from frontoffice.money import MINOR_PER_MAJOR
from orders.hours import WEEKDAYS
from orders.models import Branch
from orders.states import (
    MANAGER_EDITABLE,
    NEEDS_REASON,
    OPERATOR_EDITABLE,
    TERMINAL,
    TRANSITIONS,
    OrderStatus,
)
from orders.views import DAY_NAMES

bp = Blueprint(
    "callcentre_pages",
    __name__,
    url_prefix="/callcentre",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)

#: Who may take calls in the workspace.
WORKSPACE_ROLES = frozenset({Role.OPERATOR, Role.MANAGER})
#: Who may watch the board; only MOVE_ROLES see the buttons that change an order.
BOARD_ROLES = frozenset({Role.OPERATOR, Role.MANAGER, Role.BACKOFFICE})
MOVE_ROLES = frozenset({Role.OPERATOR, Role.MANAGER})

#: The addresses of the JSON API the pages call (other packages own them).
API = {
    "lookup": "/api/v1/callcentre/lookup",
    "quote": "/api/v1/callcentre/quote",
    "take_order": "/api/v1/callcentre/orders",
    "repeat_cart": "/api/v1/callcentre/orders/{id}/repeat-cart",
    "geocode": "/api/v1/geocode",
    "address_suggest": "/api/v1/callcentre/addresses/suggest",
    "zones": "/api/v1/zones/geojson",
    "menu": "/api/v1/menu",
    "receipts": "/api/v1/receipts/preview",
    "orders": "/api/v1/orders",
    "order": "/api/v1/orders/{id}",
    "status": "/api/v1/orders/{id}/status",
    "cancel": "/api/v1/orders/{id}/cancel",
    "client": "/api/v1/clients/{id}",
    "edit_order": "/api/v1/callcentre/orders/{id}",
}

#: The verb on the button that moves an order into a state.
STATUS_ACTIONS = {
    OrderStatus.ON_HOLD: _l("Hold"),
    OrderStatus.CONFIRMED: _l("Confirm"),
    OrderStatus.COOKING: _l("Start cooking"),
    OrderStatus.READY: _l("Mark ready"),
    OrderStatus.IN_DELIVERY: _l("Hand to courier"),
    OrderStatus.DELIVERED: _l("Delivered"),
    OrderStatus.FAILED: _l("Not delivered"),
    OrderStatus.REJECTED: _l("Reject"),
    OrderStatus.CANCELLED: _l("Cancel…"),
}


def active_branches() -> list[dict[str, Any]]:
    """The open branches the user works for (read-only: the pickup choice, the map, the board's filter)."""
    scope = branch_scope()
    query = select(Branch).where(Branch.active.is_(True)).order_by(Branch.id)
    if scope is not None:
        query = query.where(Branch.id.in_(list(scope)))
    with current_kernel().db.reading() as s:
        rows = s.scalars(query)
        return [
            {"id": b.id, "code": b.code, "name": b.name, "address": b.address, "lat": b.lat, "lon": b.lon}
            for b in rows
        ]


def business_today() -> dt.date:
    """Today's date in the configured business time zone."""
    return dt.datetime.now(ZoneInfo(current_kernel().settings.timezone)).date()


def transitions_table() -> dict[str, list[str]]:
    """orders.states.TRANSITIONS as plain JSON: state → the states it may move to."""
    return {str(state): sorted(str(t) for t in targets) for state, targets in TRANSITIONS.items()}


def common_strings() -> dict[str, str]:
    """Texts both pages' scripts show, translated for the current locale."""
    return {
        "network_error": _("The server did not answer. Check the connection and try again."),
        "server_error": _("The server failed to process the request; it was logged."),
        "forbidden": _("Your role may not do this."),
        "session_expired": _("Your session has expired. Log in again in another tab, then retry."),
        "live": _("Live"),
        "offline": _("Offline — reconnecting…"),
        "cancel": _("Cancel"),
        "close": _("Close"),
        "minutes": _("{n} min"),
        "dial": _("Call the client from my phone"),
        "dialing": _("Your phone rings first; pick it up and {phone} is dialled."),
    }


def workspace_strings() -> dict[str, str]:
    """Texts of the workspace script, translated for the current locale."""
    return {
        **common_strings(),
        "phone_required": _("Type the caller's phone number."),
        "looking_up": _("Looking up…"),
        "new_client": _("New client"),
        "new_client_hint": _("No client with this number yet: type the name and take the order."),
        "known_client": _("Returning client"),
        "client_since": _("Client since {date}"),
        "no_orders": _("No orders yet."),
        "no_addresses": _("No saved addresses."),
        "repeat": _("Repeat"),
        "repeat_last": _("Repeat last order"),
        "repeated": _("Order {number} copied into the cart."),
        "repeat_skipped": _("Not available now: {names}"),
        "stats_orders": _("Orders"),
        "stats_delivered": _("Delivered"),
        "stats_cancelled": _("Cancelled"),
        "stats_spent": _("Total spent"),
        "stats_average": _("Average check"),
        "stats_last": _("Last order"),
        "warnings": _("Warnings"),
        "tickets": _("Open tickets"),
        "ticket": _("Ticket"),
        "ticket_key": _("I"),
        "ticket_about": _("About the caller {phone}"),
        "ticket_no_order": _("No order: about the caller"),
        "order_named": _("{number} of {date}"),
        "ticket_needs_caller": _(
            "Look the caller up first: a ticket is about a caller or one of their orders."
        ),
        "ticket_opened": _("Ticket #{id} opened."),
        "ticket_subject_required": _("Say in a few words what it is about."),
        "problem_unknown_order": _("There is no order {number} of {date}."),
        "notes": _("Notes"),
        "marketing_consent": _("agrees to offers"),
        "consent_saved": _("Consent to messages saved."),
        "messages_sent": _("Messages to the client"),
        "bonus": _("Bonuses"),
        "bonus_today": _("My bonus today {amount}"),
        "bonus_month": _("this month {amount}"),
        "menu_empty": _("Nothing matches “{q}”. Try part of the name or the SKU."),
        "menu_unavailable": _("The menu could not be loaded."),
        "stopped": _("stop-list"),
        "stopped_refused": _("{name} is on the stop-list today and cannot be added."),
        "all_groups": _("All"),
        "cart_empty": _("The cart is empty. Find a dish in the menu (Alt+2) and press Enter."),
        "removed": _("Removed {name}."),
        "remove": _("Remove"),
        "modifiers_title": _("Options for {name}"),
        "modifiers_min": _("choose at least {n}"),
        "modifiers_max": _("up to {n}"),
        "modifiers_exactly": _("choose {n}"),
        "modifiers_free": _("optional"),
        "add_to_cart": _("Add to cart"),
        "new_address": _("New address"),
        "address_required": _("Type the delivery address or choose a saved one."),
        "geocoding": _("Searching the address…"),
        "geocode_none": _("The address was not found. Check it, or put a pin on the map (Alt+M)."),
        "geocode_unavailable": _(
            "Address search is unavailable. Choose a saved address or put a pin on the map (Alt+M)."
        ),
        "located": _("Located: {lat}, {lon}"),
        "pinned": _("Pinned on the map: {lat}, {lon}"),
        "not_located": _("Not located yet: press Enter in the address to search it, or pin it (Alt+M)."),
        "map_no_tiles": _("No map background is configured: zones and branches are drawn on a blank map."),
        "map_hint": _("Click the map to put the pin where the client is, then Enter to use it."),
        "use_point": _("Use this point"),
        "map_point": _("Point on the map {lat}, {lon}"),
        "quote_wait": _("Fill the cart and the address to see the zone, fee and delivery time."),
        "quoting": _("Checking zone and price…"),
        "zone": _("Zone"),
        "branch": _("Branch"),
        "delivery_fee": _("Delivery"),
        "free": pgettext("delivery fee", "free"),
        "free_from": _("free from {amount}"),
        "min_order": _("Minimum order {amount}"),
        "eta": _("Delivery in about {n} min, by {time}"),
        "pickup_eta": _("Ready for pickup in about {n} min, by {time}"),
        "asap": _("As soon as possible"),
        "pickup_offer": _("Offer pickup at {branch}, {address} ({km} km away)"),
        "switch_to_pickup": _("Switch to pickup"),
        "items_total": _("Items"),
        "total": _("Total"),
        "receipts": _("Receipts"),
        "inn": _("INN"),
        "change_from_low": _("The note must be at least the total ({total})."),
        "submitting": _("Placing the order…"),
        "submitted": _("Order placed"),
        "submitted_hint": _("Press Esc for the next call."),
        "fix_errors": _("The order was not placed: fix the fields marked in red."),
        "clear_confirm": _("Drop the order being taken and start a new call?"),
        "yes_clear": _("Yes, clear"),
        "keep": _("Keep"),
        "pickup_branch_required": _("Choose the branch."),
        "field_unknown": _("{field}: {message}"),
        "risk_score": _("risk {n}"),
        "antifraud_note": _("Note the remarks below."),
        "antifraud_flag": _("Check the remarks below before taking the order."),
        "antifraud_hold": _("An order from this caller will be held for a manager's check."),
        "antifraud_reject": _("An order from this caller will be refused."),
        "overdue": _("overdue"),
        "branch_delivering": _("Branch that delivers"),
        "call_on_line": _("Call on the line {line}"),
        "call_withheld": _("A call from a withheld number: ask the caller's number and type it."),
        "call_not_a_number": _(
            "A call from “{number}”, which is not a phone number: ask the caller's number."
        ),
        "call_waiting": _("{phone} is calling you: finish or clear this order (Esc), then look them up."),
        "pickup_branch": _("Pickup branch"),
        **problem_strings(),
    }


def problem_strings() -> dict[str, str]:
    """Translations of the problems the call-centre API names by code (``problem_<code>``)."""
    return {
        "problem_outside_zones": _("The address is outside every delivery zone; offer pickup from {branch}."),
        "problem_below_minimum": _("The minimum order here is {min_order}; add {missing} more."),
        "problem_closed": _("The branch is closed now: choose a pre-order time (the first is {next_slot})."),
        "problem_promised_at": _("The branch cannot deliver at that time: choose another."),
        "problem_no_coordinates": _(
            "Locate the address (Enter), pick a search answer or put a pin on the map: "
            "the zone check needs the point."
        ),
        "problem_unknown_item": _("Unknown item {item}."),
        "problem_item_unavailable": _("{sku} is not on sale now."),
        "problem_unknown_address": _("This address is not one of the caller's."),
        "problem_invalid_phone": _("This is not a phone number: check the digits."),
        "problem_unknown_branch": _("This branch is unknown or closed."),
        "problem_branch_out_of_scope": _(
            "This order would go to {branch}, a branch you do not work for: "
            "hand the call to a colleague of that branch."
        ),
        "problem_empty_cart": _("The cart is empty."),
        "problem_stopped": _("{name} is on the stop-list."),
        **edit_strings(),
    }


def editable_states() -> list[str]:
    """The states in which the current user may change an order (a manager: until it is closed)."""
    states = OPERATOR_EDITABLE | (MANAGER_EDITABLE if current_user.has_role(Role.MANAGER) else frozenset())
    return sorted(str(s) for s in states)


def edit_strings() -> dict[str, str]:
    """Texts of changing a taken order, shared by the workspace and the board."""
    return {
        "edit": _("Change"),
        "editing": _("Changing order {number}"),
        "edit_hint": _("Ctrl+Enter saves the change, Esc leaves the order as it was."),
        "edit_reason": _("Why (required once the kitchen has started)"),
        "edit_save": _("Save the change"),
        "edit_saved": _("Order {number} changed: {total}."),
        "edit_loading": _("Opening order {number}…"),
        "edit_stale": _(
            "Someone changed order {number} meanwhile ({fields}); it is opened again as it is now."
        ),
        "edit_failed": _("The order cannot be opened for a change."),
        "edited": _("changed {time}"),
        "edit_field_lines": _("lines"),
        "edit_field_address": _("address"),
        "edit_field_promised_at": _("time"),
        "edit_field_payment_kind": _("payment"),
        "edit_field_change_from": pgettext("cash given back", "change"),
        "edit_field_comment": _("comment"),
        "edit_field_delivery_fee": _("delivery fee"),
        "edit_field_total": _("total"),
        "edit_field_receipts": _("receipts"),
        "edit_field_status": _("status"),
        "edit_field_courier": _("courier"),
    }


def board_strings() -> dict[str, str]:
    """Texts of the board script, translated for the current locale."""
    return {
        **common_strings(),
        "empty_column": _("No orders"),
        "loading": _("Loading today's orders…"),
        "not_found": _("No order matches “{q}”."),
        "cancel_title": _("Cancel order {number}"),
        "reason_title": _("{action}: order {number}"),
        "reason": _("Reason"),
        "reason_required": _("Say why: the reason goes to the order's history."),
        "confirm_cancel": _("Cancel the order"),
        "apply": _("Apply"),
        "moved": _("Order {number}: {status}."),
        "conflict": _("Order {number} changed meanwhile; the board is refreshed."),
        "courier": _("courier #{id}"),
        "due": _("due {time}"),
        "closed_today": _("Closed today"),
        "truncated": _("Showing the newest {shown} of {total} orders."),
        **edit_strings(),
    }


#: The code families whose labels the pages' scripts show (frontoffice.labels).
WORKSPACE_LABELS = (
    "order_status",
    "order_kind",
    "payment_kind",
    "ticket_state",
    "ticket_kind",
    "tax_system",
    "vat_rate",
)
BOARD_LABELS = ("order_status", "order_kind")


def _page_config(strings: dict[str, str], labels: tuple[str, ...], **extra: Any) -> dict[str, Any]:
    kernel = current_kernel()
    settings = kernel.settings
    offered = kernel.extensions.contributions(WORKSPACE_ENDPOINTS)
    return {
        "api": {**API, **{c.name: url_for(c.value) for c in offered}},
        "locale": str(get_locale() or "en"),
        "currency": settings.currency,
        "minor_per_major": MINOR_PER_MAJOR,
        "timezone": settings.timezone,
        "labels": kernel.labels.table(*labels),
        "strings": strings,
        "user": {"name": current_user.full_name, "role": current_user.role},
        **extra,
    }


@bp.route("")
@page(WORKSPACE_ROLES)
def workspace():
    """The operator's one window: caller, dossier, menu, cart, address, quote, payment, submit."""
    settings = current_kernel().settings
    config = _page_config(
        workspace_strings(),
        WORKSPACE_LABELS,
        phone=request.args.get("phone", "")[:40],
        branches=active_branches(),
        tiles_url=settings.map_tiles_url or "",
        tiles_attribution=current_app.config.get("MAP_TILES_ATTRIBUTION", "© OpenStreetMap contributors"),
        board_url="/callcentre/board",
        edit_order_id=request.args.get("edit", type=parse_id),
        editable=editable_states(),
    )
    return render_template("callcentre/workspace.html", config=config)


@bp.route("/board")
@page(BOARD_ROLES)
def board():
    """Today's orders by status, live over the ``/callcentre`` socket."""
    config = _page_config(
        board_strings(),
        BOARD_LABELS,
        today=business_today().isoformat(),
        branches=active_branches(),
        transitions=transitions_table(),
        needs_reason=sorted(str(s) for s in NEEDS_REASON),
        terminal=sorted(str(s) for s in TERMINAL),
        actions={str(k): str(v) for k, v in STATUS_ACTIONS.items()},
        can_move=current_user.has_role(*MOVE_ROLES),
        workspace_url="/callcentre" if current_user.has_role(*WORKSPACE_ROLES) else "",
        editable=editable_states() if current_user.has_role(*WORKSPACE_ROLES) else [],
    )
    return render_template("callcentre/board.html", config=config)


def register_pages(app: Flask, kernel: Kernel) -> None:
    """Serve the workspace and the board and put them in the top bar."""
    app.register_blueprint(bp)
    # Titles stay English here; the top bar translates them when it renders.
    kernel.add_nav("Call centre", "callcentre_pages.workspace", WORKSPACE_ROLES, order=10)
    kernel.add_nav("Order board", "callcentre_pages.board", BOARD_ROLES, order=11)
    kernel.add_nav("Delivery zones", "callcentre_pages.zones", ZONE_EDITORS, order=92)


# --- the zones editor --------------------------------------------------------------------------

#: Who draws and changes delivery zones.
ZONE_EDITORS = frozenset({Role.ADMIN})

#: The zone API's problems in the reader's language, by code (``{name}`` from the problem's params).
ZONE_PROBLEMS = {
    "self_intersection": _l(
        "The outline crosses itself at {lat}, {lon}: move a point so that no two edges cross."
    ),
    "invalid_polygon": _l("This outline is not a valid polygon: redraw it."),
    "coordinates_range": _l("A point is outside the world (latitude −90…90, longitude −180…180)."),
    "not_a_number": _l("Type a number, e.g. 150.00."),
    "too_few_points": _l("A zone needs at least three points."),
    "no_area": _l("The outline has no area: redraw it."),
    "geometry_missing": _l("Draw the zone on the map first."),
    "invalid_geometry": _l("This outline is not a valid polygon: redraw it."),
    "name_missing": _l("Give the zone a name."),
    "name_too_long": _l("A name has at most 200 characters."),
    "duplicate_zone": _l("Another zone of this branch has this name."),
    "branch_missing": _l("Choose the branch that delivers."),
    "unknown_branch": _l("There is no such branch."),
    "closed_branch": _l("This branch is closed: open it first, or choose another."),
    "negative": _l("A sum cannot be negative."),
    "greater_than_equal": _l("The value is too small."),
    "less_than_equal": _l("The value is too large."),
    "too_precise": _l("A sum has at most two decimal places."),
    "free_below_minimum": _l("Free delivery cannot start below the minimum order."),
    "minutes_range": _l("Delivery takes a whole number of minutes, from 1 to 600."),
    "priority_range": _l("The priority is a whole number from −1000 to 1000."),
    "time_format": _l("Write the times as HH:MM, e.g. 09:30."),
    "closes_before_opens": _l(
        "It closes at {closes}, before it opens at {opens}: tick “next day” if it closes after midnight."
    ),
    "over_a_day": _l("Closing at {closes} the next day is more than a day after opening at {opens}."),
    "overlap": _l("The intervals overlap."),
    "closed_every_day": _l("Give the hours of at least one day, or tick “branch hours”."),
}


def zone_strings() -> dict[str, str]:
    """The zones editor's texts, translated."""
    return {
        "new_zone": _("New zone"),
        "editing": _("Editing {name}"),
        "drawn": _("Outline drawn: fill in the terms and save."),
        "draw_first": _("Draw the zone on the map first."),
        "saved": _("Zone {name} saved."),
        "deleted": _("Zone {name} deleted."),
        "confirm_delete": _("Delete zone {name}?"),
        "imported": _("Imported: {created} new, {updated} changed."),
        "no_zones": _("No zones yet: draw the first one on the map."),
        "no_overlaps": _("No zones overlap."),
        "overlap": _("{first} and {second} overlap ({area} km²): {winner} delivers there"),
        "reason_priority": _("higher priority"),
        "reason_smaller_area": _("same priority, smaller zone"),
        "reason_lower_id": _("same priority and size, created first"),
        "wins_over": _("wins over {names}"),
        "loses_to": _("{names} delivers where they overlap"),
        "off": pgettext("zone", "off"),
        "free_from": _("free from {sum}"),
        "no_tiles": _("No map background is configured: the zones are drawn on a blank map."),
        "fix_fields": _("The zone was not saved: see the marked fields."),
        "field_unknown": _("{field}: {message}"),
        **{f"problem_{code}": str(text) for code, text in ZONE_PROBLEMS.items()},
    }


@bp.route("/zones")
@page(ZONE_EDITORS)
def zones():
    """Draw and edit delivery zones on the map, their terms beside it, the overlaps with the zone that
    wins; GeoJSON import and export."""
    settings = current_kernel().settings
    with current_kernel().db.reading() as s:
        branches = [
            {"id": b.id, "code": b.code, "name": b.name, "active": b.active, "lat": b.lat, "lon": b.lon}
            for b in s.scalars(select(Branch).order_by(Branch.code))
        ]
    config = _page_config(
        zone_strings(),
        (),
        branches=branches,
        branch_id=request.args.get("branch_id", type=int),
        tiles_url=settings.map_tiles_url or "",
        tiles_attribution=current_app.config.get("MAP_TILES_ATTRIBUTION", "© OpenStreetMap contributors"),
        zone_api={
            "list": "/api/v1/zones",
            "one": "/api/v1/zones/{id}",
            "overlaps": "/api/v1/zones/overlaps",
            "geojson": "/api/v1/zones/geojson",
        },
    )
    return render_template(
        "callcentre/zones.html", config=config, branches=branches, weekdays=WEEKDAYS, day_names=DAY_NAMES
    )
