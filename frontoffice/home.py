"""The start page, language switch, favicon and health check."""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    send_from_directory,
    session,
    url_for,
)
from flask_login import current_user, login_required

from frontoffice.auth import safe_next
from frontoffice.dbhealth import HealthProbe
from frontoffice.errors import database_unavailable
from frontoffice.i18n import LANGUAGES
from frontoffice.kernel import current_kernel

bp = Blueprint("home", __name__)


@bp.route("/")
@login_required
def index():
    """Start page: the pages this user may open."""
    kernel = current_kernel()
    links = [n for n in kernel.nav if current_user.has_role(*n.roles)]
    if len(links) == 1:
        return redirect(url_for(links[0].endpoint))
    return render_template("index.html", links=links)


@bp.route("/lang/<code>", methods=["POST"])
def set_language(code: str):
    """Switch the interface language (en, ru) and go back to the page in ``next``.

    A POST with the CSRF token (the switch in the top bar is a small form): a GET changes nothing,
    so no link or image on another site can switch anyone's language.
    """
    if code in LANGUAGES:
        session["lang"] = code
    return redirect(safe_next(request.form.get("next")) or url_for("home.index"))


@bp.route("/healthz")
def healthz():
    """Liveness and database check, for load balancers: 503 when the database fails or does not
    answer within ``health_timeout_s``, whatever the database does."""
    kernel = current_kernel()
    probe = current_app.extensions.get(_PROBE)
    if probe is None:
        probe = current_app.extensions.setdefault(_PROBE, HealthProbe(kernel.db.reading))
    failure = probe.check(kernel.settings.health_timeout_s)
    if failure is not None:
        return database_unavailable(kernel.settings.db_retry_after_s, failure)
    return jsonify(status="ok", database=kernel.db.dialect)


#: Where the app keeps its /healthz probe.
_PROBE = "frontoffice.health_probe"


@bp.route("/favicon.ico")
def favicon():
    """The site icon at the address browsers ask for on their own (an SVG, cached for a day)."""
    return send_from_directory(
        current_app.static_folder, "favicon.svg", mimetype="image/svg+xml", max_age=86400
    )
