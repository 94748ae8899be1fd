"""The admin page "Event deliveries" (``/admin/outbox``): how the outbox stands, the parked
events, and a button to retry one."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for

from frontoffice.auth import page
from frontoffice.i18n import N_
from frontoffice.kernel import current_kernel
from frontoffice.models import Role

bp = Blueprint("outbox_pages", __name__)

ADMIN = frozenset({Role.ADMIN})


@bp.route("/admin/outbox")
@page(ADMIN)
def parked():
    """The outbox's counts, the periodic jobs and the parked events."""
    relay = current_kernel().relay
    return render_template("outbox/parked.html", status=relay.status(), parked=relay.parked())


@bp.route("/admin/outbox/<int:event_id>/retry", methods=["POST"])
@page(ADMIN)
def retry(event_id: int):
    """Put a parked event back in line."""
    if current_kernel().relay.retry(event_id):
        flash(N_("The event is back in line: the relay delivers it again."))
    else:
        flash(N_("That event is not parked (any more)."))
    return redirect(url_for(".parked"))
