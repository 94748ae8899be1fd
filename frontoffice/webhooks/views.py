"""The admin pages of webhooks: endpoints (``/admin/webhooks``) and one endpoint with its deliveries.

A refused form is shown again with each reason next to its field; nothing is written."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for

from frontoffice.auth import page
from frontoffice.errors import DomainError
from frontoffice.forms import messages_by_field
from frontoffice.i18n import N_
from frontoffice.kernel import current_kernel
from frontoffice.models import Role
from frontoffice.webhooks import services

bp = Blueprint("webhook_pages", __name__)

ADMIN = frozenset({Role.ADMIN})

#: What a refused form says next to a field, by the error's type.
TEXTS = {
    "webhook_url_scheme": N_("The URL must start with http:// or https:// and name a host."),
    "webhook_host_not_allowed": N_(
        "Host %(host)s is not allowed: ask for it in FRONTOFFICE_WEBHOOK_ALLOWED_HOSTS."
    ),
    "webhook_no_events": N_("Tick at least one event."),
    "webhook_unknown_event": N_("Unknown event(s): %(names)s."),
    "webhook_secret_length": N_("A secret has %(min_length)s to %(max_length)s characters."),
    "webhook_secret_format": N_("A whsec_ secret is base64 of at least 24 bytes."),
}


def _form_change(form: Any, *, keep_blank_secret: bool) -> services.EndpointChange:
    secret = form.get("secret", "")
    return services.EndpointChange(
        url=form.get("url", "").strip(),
        events=form.getlist("events"),
        secret=None if keep_blank_secret and not secret else secret,
        active=form.get("active") == "1" if keep_blank_secret else True,
        description=form.get("description", ""),
    )


def _rules() -> dict[str, Any]:
    hooks = current_kernel().webhooks
    return {"hosts": hooks.hosts, "known_events": hooks.known_events()}


def _list_page(status: int = 200, **extra: Any):
    kernel = current_kernel()
    with kernel.db.reading() as s:
        endpoints = services.list_endpoints(s)
    context = {
        "endpoints": endpoints,
        "known_events": kernel.webhooks.known_events(),
        "values": {},
        "errors": {},
    }
    context.update(extra)
    return render_template("webhooks/endpoints.html", **context), status


@bp.route("/admin/webhooks", methods=["GET", "POST"])
@page(ADMIN)
def endpoints():
    """The endpoints, and a form to register one."""
    if request.method == "GET":
        return _list_page()
    kernel = current_kernel()
    change = _form_change(request.form, keep_blank_secret=False)
    try:
        with kernel.db.unit_of_work() as s:
            created = services.register_endpoint(s, change, **_rules())
    except DomainError as err:
        values = {"url": change.url, "events": change.events, "description": change.description}
        return _list_page(err.status, values=values, errors=messages_by_field(err.errors or [], TEXTS))
    kernel.webhooks.enqueuer.forget()
    flash(N_("The webhook endpoint is registered."))
    return redirect(url_for(".endpoint_page", endpoint_id=created.id))


def _endpoint_page(endpoint_id: int, status: int = 200, **extra: Any):
    kernel = current_kernel()
    with kernel.db.reading() as s:
        hook = services.get_endpoint(s, endpoint_id)
        deliveries = services.deliveries_of(s, endpoint_id)
    context = {
        "hook": hook,
        "deliveries": deliveries,
        "known_events": kernel.webhooks.known_events(),
        "values": {
            "url": hook.url,
            "events": hook.events,
            "description": hook.description,
            "active": hook.active,
        },
        "errors": {},
    }
    context.update(extra)
    return render_template("webhooks/endpoint.html", **context), status


@bp.route("/admin/webhooks/<int:endpoint_id>", methods=["GET", "POST"])
@page(ADMIN)
def endpoint_page(endpoint_id: int):
    """One endpoint: change it; its latest deliveries with status, tries and last answer."""
    if request.method == "GET":
        return _endpoint_page(endpoint_id)
    kernel = current_kernel()
    change = _form_change(request.form, keep_blank_secret=True)
    try:
        with kernel.db.unit_of_work() as s:
            services.change_endpoint(s, endpoint_id, change, **_rules())
    except DomainError as err:
        values = {
            "url": change.url,
            "events": change.events,
            "description": change.description,
            "active": change.active,
        }
        return _endpoint_page(
            endpoint_id, err.status, values=values, errors=messages_by_field(err.errors or [], TEXTS)
        )
    kernel.webhooks.enqueuer.forget()
    flash(N_("The webhook endpoint is saved."))
    return redirect(url_for(".endpoint_page", endpoint_id=endpoint_id))


@bp.route("/admin/webhooks/deliveries/<int:delivery_id>/retry", methods=["POST"])
@page(ADMIN)
def retry(delivery_id: int):
    """Put a parked delivery back in line."""
    kernel = current_kernel()
    try:
        with kernel.db.unit_of_work() as s:
            endpoint_id = services.retry_delivery(s, delivery_id).endpoint_id
    except DomainError:
        flash(N_("That delivery is not parked (any more)."))
        return redirect(url_for(".endpoints"))
    kernel.relay.notify()
    flash(N_("The delivery is back in line."))
    return redirect(url_for(".endpoint_page", endpoint_id=endpoint_id))
