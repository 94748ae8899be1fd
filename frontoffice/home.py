"""The start page, language switch, favicon, liveness (/healthz) and readiness (/readyz)."""

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
from frontoffice.errors import UNAVAILABLE, database_unavailable, problem
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


@bp.route("/readyz")
def readyz():
    """Readiness, for load balancers and orchestrators: 200 when the database answers within
    ``health_timeout_s`` and Redis (when configured) answers a PING; else 503 problem+json naming
    what failed. ``/healthz`` stays the liveness check."""
    kernel = current_kernel()
    probe = current_app.extensions.get(_PROBE)
    if probe is None:
        probe = current_app.extensions.setdefault(_PROBE, HealthProbe(kernel.db.reading))
    checks: dict[str, str] = {}
    failures: list[str] = []
    failure = probe.check(kernel.settings.health_timeout_s)
    checks["database"] = "ok" if failure is None else "failing"
    if failure is not None:
        failures.append(failure)
    if kernel.settings.redis_url:
        redis_failure = _redis_failure(kernel.settings.redis_url, kernel.settings.health_timeout_s)
        checks["redis"] = "ok" if redis_failure is None else "failing"
        if redis_failure is not None:
            failures.append(redis_failure)
    if failures:
        return problem(
            503,
            UNAVAILABLE,
            " ".join(failures),
            headers={"Retry-After": str(kernel.settings.db_retry_after_s)},
            checks=checks,
        )
    return jsonify(status="ok", checks=checks)


def _redis_failure(url: str, timeout_s: float) -> str | None:
    """Why Redis at ``url`` does not answer a PING within ``timeout_s``, or None when it does."""
    import redis

    client = redis.Redis.from_url(url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s)
    try:
        client.ping()
    except redis.RedisError as exc:
        return f"Redis is not answering: {exc.__class__.__name__}."
    finally:
        client.close()
    return None
