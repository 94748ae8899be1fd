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
from sqlalchemy import text

from frontoffice.auth import safe_next
from frontoffice.errors import problem
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
    """Liveness and database check, for load balancers."""
    db = current_kernel().db
    try:
        with db.reading() as s:
            s.execute(text("SELECT 1"))
    except Exception as exc:  # the check reports any database failure
        return problem(503, "Database unavailable", str(exc.__class__.__name__))
    return jsonify(status="ok", database=db.dialect)


@bp.route("/favicon.ico")
def favicon():
    """The site icon at the address browsers ask for on their own (an SVG, cached for a day)."""
    return send_from_directory(
        current_app.static_folder, "favicon.svg", mimetype="image/svg+xml", max_age=86400
    )
