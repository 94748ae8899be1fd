"""The courier's app: an installable web app (PWA) at ``/courier/`` on the public courier API.

The page is a shell with no data of anyone: it works for whoever holds a courier's bearer token,
which the phone keeps (``localStorage``) after logging in through ``POST /api/courier/v1/session``.
So every route here is public; the API decides what a token may see and do. The shell's texts and
label tables come translated in its JSON config blob; the scripts (``static/courierapp/``) are ES
modules with no build step. The service worker is served from ``/courier/sw.js`` so that its scope
is the app, prefixed with the list of the shell's files and a version made of their contents (a
change of any file installs a new worker).
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

import frontoffice
from couriers.services.pool import MAX_PROOF_BYTES
from frontoffice.kernel import current_kernel
from frontoffice.money import MINOR_PER_MAJOR

STATIC = Path(__file__).parent / "static" / "courierapp"
#: The kernel's browser module the app imports (part of the shell, so of its version).
SHARED_JS = Path(frontoffice.__file__).parent / "static" / "js" / "shared.js"

bp = Blueprint(
    "courier_app",
    __name__,
    url_prefix="/courier",
    template_folder="templates",
    static_folder="static/courierapp",
    static_url_path="/static",
)

#: The shell's own files (under /courier/static/), cached by the service worker.
SHELL_FILES = (
    "app.js",
    "forms.js",
    "outbox.js",
    "parts.js",
    "positions.js",
    "proofs.js",
    "app.css",
    "icon.svg",
    "icon-192.png",
    "icon-512.png",
)
#: Label families the app shows.
LABELS = ("order_status", "payment_kind", "fail_reason")
#: The public courier API calls the app makes (name → path; {id} is the order).
API = {
    "session": "/api/courier/v1/session",
    "refresh": "/api/courier/v1/session/refresh",
    "me": "/api/courier/v1/me",
    "shift": "/api/courier/v1/shift",
    "shift_start": "/api/courier/v1/shift/start",
    "shift_end": "/api/courier/v1/shift/end",
    "locations": "/api/courier/v1/locations",
    "available": "/api/courier/v1/orders/available",
    "active": "/api/courier/v1/orders/active",
    "claim": "/api/courier/v1/orders/{id}/claim",
    "pickup": "/api/courier/v1/orders/{id}/pickup",
    "deliver": "/api/courier/v1/orders/{id}/deliver",
    "fail": "/api/courier/v1/orders/{id}/fail",
    # after an admin's password reset the login answer says must_change_password: the one call
    # outside the courier API, the kernel's own "change your password" (open to every role)
    "password": "/api/v1/account/password",
}


def app_strings() -> dict[str, str]:
    """Texts the app's scripts show, translated for the current locale."""
    return {
        "login": _("Log in"),
        "username": _("Username"),
        "password": _("Password"),
        "device_name": _("Device name"),
        "logging_in": _("Logging in…"),
        "login_failed": _("Wrong username or password."),
        "not_a_courier": _("This login has no courier profile: ask your manager."),
        "password_reset": _("An admin reset your password: choose a new one to go on."),
        "new_password": _("New password"),
        "weak_password": _(
            "Choose a stronger password: at least 10 characters, 4 of them different, "
            "not your username nor a common one."
        ),
        "save_password": _("Save and go on"),
        "logout_confirm": _("Log out? Actions still waiting to be sent will be lost."),
        "network_error": _("No network: try again when you are online."),
        "session_expired": _("Your session has expired: log in again."),
        "live": _("Live"),
        "offline": _("Offline"),
        "pool": _("Pool"),
        "mine": _("My orders"),
        "shift": _("Shift"),
        "no_shift": _("You are off shift."),
        "change_float": _("Change float taken from the branch"),
        "start_shift": _("Start shift"),
        "end_shift": _("End shift"),
        "cash_handed_in": _("Cash handed in at the branch"),
        "shift_report": _("Shift report"),
        "started": _("Started {time}"),
        "orders_delivered": _("Delivered"),
        "orders_failed": _("Failed"),
        "cash_on_hand": _("Cash to hand in"),
        "cash_expected": _("Cash expected"),
        "discrepancy": _("Discrepancy"),
        "distance_km": _("{km} km driven"),
        "shift_closed": _("Shift closed."),
        "pool_empty": _("No orders are waiting. New ones appear here by themselves."),
        "mine_empty": _("You carry no orders."),
        "new_order": _("New order {number}"),
        "km": _("{km} km"),
        "m": _("{m} m"),
        "distance_unknown": _("distance unknown"),
        "due": _("due {time}"),
        "minutes_left": _("{n} min left"),
        "minutes_late": _("{n} min late"),
        "hours_left": _("{h} h {m} min left"),
        "hours_late": _("{h} h {m} min late"),
        "change_for": _("change from {amount}: give {change}"),
        "claim": _("Take"),
        "claim_lost": _("Order {number} was already taken by another courier."),
        "claimed": _("Order {number} is yours."),
        "not_ready": _("The kitchen is still cooking: wait until the order is ready."),
        "not_yours": _("Order {number} is not yours any more (or was cancelled)."),
        "pickup": _("Picked up"),
        "deliver": _("Delivered"),
        "fail": _("Not delivered"),
        "navigate": _("Navigate"),
        "map": _("Map"),
        "call": _("Call client"),
        "from_branch": _("From {branch}"),
        "cash_taken": _("Cash taken from the client"),
        "change_given": _("Change given"),
        "cash_counted": _("Counts as collected: {amount}"),
        "bad_amount": _("Enter an amount like 1500 or 1500.50."),
        "photo": _("Photo (optional)"),
        "photo_ready": _("Photo ready: {kb} KB"),
        "photo_too_big": _("This picture cannot be made small enough: take another one."),
        "not_a_picture": _("This file is not a picture."),
        "signature": _("Client's signature (optional)"),
        "clear": _("Clear"),
        "comment": _("Comment"),
        "confirm_delivery": _("Confirm delivery"),
        "reason": _("Why was it not delivered?"),
        "comment_needed": _("Explain the reason in the comment."),
        "confirm_fail": _("Confirm: not delivered"),
        "back": _("Back"),
        "outbox_sending": _("{n} action(s) waiting to be sent"),
        "outbox_refused": _("Refused by the server"),
        "dismiss": _("OK"),
        "action_shift_start": _("Start shift"),
        "action_shift_end": _("End shift"),
        "action_claim": _("Take {number}"),
        "action_pickup": _("Pick up {number}"),
        "action_deliver": _("Deliver {number}"),
        "action_fail": _("Not delivered {number}"),
        "waiting": _("waiting to be sent"),
    }


def app_config() -> dict[str, Any]:
    """The JSON config blob of the shell: API paths, texts, labels, money and time settings."""
    kernel = current_kernel()
    settings = kernel.settings
    return {
        "api": API,
        "namespace": "/courier",
        "locale": str(get_locale() or "en"),
        "currency": settings.currency,
        "minor_per_major": MINOR_PER_MAJOR,
        "timezone": settings.timezone,
        "max_proof_bytes": MAX_PROOF_BYTES,
        "service_worker": url_for("courier_app.service_worker"),
        "scope": url_for("courier_app.shell"),
        "labels": kernel.labels.table(*LABELS),
        "strings": app_strings(),
    }


@bp.route("/")
def shell():
    """The app's one page (public: the app authenticates with its bearer token)."""
    return render_template("courierapp/app.html", config=app_config())


@bp.route("/manifest.webmanifest")
def manifest():
    """The web app manifest: what the phone installs to its home screen."""
    icons = [
        {"src": url_for("courier_app.static", filename=name), "sizes": size, "type": kind, "purpose": purpose}
        for name, size, kind, purpose in (
            ("icon.svg", "any", "image/svg+xml", "any"),
            ("icon-192.png", "192x192", "image/png", "any"),
            ("icon-512.png", "512x512", "image/png", "any maskable"),
        )
    ]
    body = {
        "name": _("Courier — delivery front office"),
        "short_name": _("Courier"),
        "description": _("Take orders from the pool, deliver them, hand in the cash."),
        "lang": str(get_locale() or "en"),
        "id": url_for("courier_app.shell"),
        "start_url": url_for("courier_app.shell"),
        "scope": url_for("courier_app.shell"),
        "display": "standalone",
        "orientation": "portrait",
        "background_color": "#000000",
        "theme_color": "#000000",
        "icons": icons,
    }
    return Response(json.dumps(body, ensure_ascii=False), mimetype="application/manifest+json")


def shell_urls() -> list[str]:
    """Everything the app needs to start without a network."""
    return [
        url_for("courier_app.shell"),
        url_for("courier_app.manifest"),
        *(url_for("courier_app.static", filename=name) for name in SHELL_FILES),
        url_for("static", filename="js/shared.js"),
        url_for("static", filename="vendor/socket.io/socket.io.min.js"),
    ]


@cache
def _shell_version() -> str:
    digest = hashlib.sha256()
    for path in (*(STATIC / name for name in (*SHELL_FILES, "sw.js")), SHARED_JS):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


@bp.route("/sw.js")
def service_worker():
    """The service worker, served at the app's root so its scope is ``/courier/``."""
    head = f"const SHELL = {json.dumps(shell_urls())};\nconst VERSION = {json.dumps(_shell_version())};\n"
    resp = Response(head + (STATIC / "sw.js").read_text(), mimetype="text/javascript")
    resp.headers["Service-Worker-Allowed"] = url_for("courier_app.shell")
    resp.headers["Cache-Control"] = "no-cache"
    return resp
