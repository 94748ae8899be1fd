"""The customer's tracking page ``/t/<token>``: public (the token is the only key), mobile first,
in the browser's language.

The page is rendered with the order's view in its config blob and kept live by
``static/tracking/track.js`` over the ``/track`` namespace. A malformed, unknown or expired token
gets a plain 404 page that says nothing of any order. The page sets no cookie, is not cached,
and sends no ``Referer`` (its address is the key; map tiles come from another host).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, Response, make_response, render_template
from flask_babel import get_locale, gettext, pgettext

from frontoffice.kernel import current_kernel
from frontoffice.phones import display_phone
from tracking import services
from tracking.ports import TRAVEL_TIME
from tracking.sockets import NAMESPACE

bp = Blueprint(
    "tracking_pages",
    __name__,
    root_path=str(Path(__file__).resolve().parent),
    template_folder="templates",
    static_folder="static/tracking",
    static_url_path="/tracking/static",
)

#: Headers of every answer of the page: never cached, never indexed, no Referer to leak the token.
PRIVATE_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
}


def page_strings() -> dict[str, str]:
    """Texts the page's script shows, translated for the current locale."""
    return {
        "step_placed": gettext("Order taken"),
        "step_cooking": gettext("Cooking"),
        "step_in_delivery": gettext("On the way"),
        "step_delivered": gettext("Delivered"),
        "eta": gettext("Arrives in about {n} min, by {time}"),
        "eta_soon": gettext("Arrives in a minute or two"),
        "eta_after": gettext("Your courier has {n} delivery(ies) to make before yours."),
        "promised": gettext("Promised by {time}"),
        "no_promise": gettext("No delivery time was promised."),
        "courier": gettext("{name} is bringing your order"),
        "courier_no_position": gettext("{name} is bringing your order; the position is not known yet."),
        "position_at": gettext("Position at {time}"),
        "delivered": gettext("Delivered. Enjoy your meal!"),
        "ended": gettext("This order was not delivered: {status}. Call the branch if you have questions."),
        "you": gettext("Delivery address"),
        "live": pgettext("tracking page connection", "Live"),
        "offline": gettext("Reconnecting…"),
        "expired": gettext("This link no longer works."),
    }


def not_found() -> Response:
    """The plain 404 page of a link that does not (or no longer) work."""
    resp = make_response(render_template("tracking/not_found.html"), 404)
    resp.headers.update(PRIVATE_HEADERS)
    return resp


@bp.route("/t/<token>")
def track(token: str) -> Response:
    """The tracking page of the order a working link stands for."""
    k = current_kernel()
    with k.db.reading() as s:
        link = services.valid_link(s, token)
        view = (
            services.tracking_view(s, link.order_id, travel=k.extensions.get(TRAVEL_TIME))
            if link is not None
            else None
        )
    if view is None:
        return not_found()
    config: dict[str, Any] = {
        "locale": str(get_locale() or "en"),
        "timezone": k.settings.timezone,
        "tiles_url": k.settings.map_tiles_url or "",
        "namespace": NAMESPACE,
        "token": token,
        "view": view.as_json(),
        "strings": page_strings(),
        "labels": k.labels.table("order_status"),
    }
    resp = make_response(
        render_template(
            "tracking/track.html", config=config, view=view, branch_phone=display_phone(view.branch_phone)
        )
    )
    resp.headers.update(PRIVATE_HEADERS)
    return resp
