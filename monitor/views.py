"""The managers' pages: the live monitor (a wall screen) and the reports.

The monitor page is a server-rendered shell; ``static/monitor/monitor.js`` connects to the
``/monitor`` namespace with the cookie session and redraws from each snapshot. The report
pages render their tables on the server (sortable by links, CSV by the same parameters)
and draw their charts from data embedded in the page.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from pydantic import BaseModel, ValidationError

from frontoffice.auth import branch_scope, page, scoped_branch
from frontoffice.csvexport import csv_response
from frontoffice.errors import problem
from frontoffice.kernel import current_kernel
from frontoffice.models import Role
from monitor.ports import MONITOR
from monitor.schemas import CLIENT_SORTS, ClientReportQuery, PerformanceQuery
from monitor.services import Monitor

bp = Blueprint(
    "monitor_pages",
    __name__,
    url_prefix="/monitor",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)

PAGE_ROLES = frozenset({Role.MANAGER})


def _monitor() -> Monitor:
    return current_kernel().extensions.get(MONITOR)


def _parse(model: type[BaseModel]) -> tuple[Any, list[str]]:
    """The query string as ``model``; on bad input the defaults and readable messages. Its
    ``branch_id`` is kept within the caller's branches (404 for another's, see ``scoped_branch``)."""
    data = {k: v for k, v in request.args.items() if v != "" and k in model.model_fields}
    try:
        query, messages = model.model_validate(data), []
    except ValidationError as err:
        messages = [f"{'.'.join(str(p) for p in e['loc']) or 'query'}: {e['msg']}" for e in err.errors()]
        query = model()
    branch = scoped_branch(branch_scope(), getattr(query, "branch_id", None))
    return query.model_copy(update={"branch_id": branch}), messages


def _branches_of_scope(branches: list[Any]) -> list[Any]:
    """The branches the caller may pick in a report's or the monitor's selector."""
    scope = branch_scope()
    return [b for b in branches if scope is None or b.id in scope]


def monitor_strings() -> dict[str, str]:
    """Texts the monitor script shows, translated for the current locale."""
    return {
        "live": _("Live"),
        "connecting": _("Connecting…"),
        "offline": _("Offline — reconnecting…"),
        "stale": _("No update for a while — reconnecting…"),
        "session_expired": _("The session has expired: log in again."),
        "updated": _("Updated {time}"),
        "na": _("n/a"),
        "min": _("{n} min"),
        "late_by": _("+{n} min"),
        "no_late": _("Nothing is late."),
        "no_clients": _("No deliveries in this period yet."),
        "today": _("Today"),
        "last_week": _("Same day last week"),
        "orders": _("orders"),
        "no_courier": _("no courier"),
        "branch": _("Branch"),
        "order": _("Order"),
        "late_orders": _("late orders"),
        "of": _("of"),
        "no_tiles": _("No map background configured: couriers, orders and zones on a blank map."),
    }


@bp.route("")
@page(PAGE_ROLES)
def board():
    """The live delivery monitor."""
    settings = current_kernel().settings
    scope = branch_scope()
    branch = scoped_branch(scope, request.args.get("branch", type=int))
    config: dict[str, Any] = {
        "namespace": "/monitor",
        "branch": branch,
        # the branches the selector offers (None: every branch, and "all branches")
        "branches": None if scope is None else sorted(scope),
        "snapshot_url": url_for("monitor_api.snapshot"),
        "loyalty_url": url_for("monitor_api.loyalty"),
        "zones_url": "/api/v1/zones/geojson",
        "tiles_url": settings.map_tiles_url,
        "locale": str(get_locale() or "en"),
        "currency": settings.currency,
        "timezone": settings.timezone,
        "labels": current_kernel().labels.table("order_status", "loyalty_segment", "courier_state"),
        "strings": monitor_strings(),
        "stale_after_s": 75,
    }
    return render_template("monitor/board.html", config=config)


@bp.route("/reports/clients")
@page(PAGE_ROLES)
def clients_report():
    """Deliveries by client: period, branch, sortable columns, CSV export."""
    query, errors = _parse(ClientReportQuery)
    m = _monitor()
    with m.db.reading() as s:
        report = m.deliveries_by_client(
            s,
            query.date_from,
            query.date_to,
            branch_id=query.branch_id,
            sort=query.sort,
            order=query.order,
            page=query.page,
            per_page=query.per_page,
        )
        branches = _branches_of_scope(m.snapshot_branches(s))
    params = {
        "date_from": report.date_from.isoformat(),
        "date_to": report.date_to.isoformat(),
        "branch_id": query.branch_id or "",
    }
    top = report.rows[:15]
    chart = {
        "labels": [r.name or r.phone for r in top],
        "revenue": [float(r.revenue) for r in top],
        "deliveries": [r.deliveries for r in top],
    }
    pages = max(1, -(-report.clients // report.per_page))
    settings = current_kernel().settings
    return render_template(
        "monitor/clients_report.html",
        report=report,
        params=params,
        sorts=CLIENT_SORTS,
        branches=branches,
        every_branch=branch_scope() is None,
        errors=errors,
        chart=chart,
        pages=pages,
        currency=settings.currency,
        tz=ZoneInfo(settings.timezone),
    )


@bp.route("/reports/clients.csv")
@page(PAGE_ROLES)
def clients_csv():
    """The deliveries-by-client report as CSV (every row, the page's sorting)."""
    query, errors = _parse(ClientReportQuery)
    if errors:
        return problem(422, "Unprocessable content", "; ".join(errors))
    m = _monitor()
    with m.db.reading() as s:
        report = m.deliveries_by_client(
            s,
            query.date_from,
            query.date_to,
            branch_id=query.branch_id,
            sort=query.sort,
            order=query.order,
            page=None,
        )

    header = [
        "phone",
        "name",
        "deliveries",
        "revenue",
        "average_check",
        "first_at",
        "last_at",
        "share_percent",
    ]
    lines = (
        [
            r.phone,
            r.name,
            r.deliveries,
            r.revenue,
            r.average_check,
            r.first_at.isoformat(),
            r.last_at.isoformat(),
            r.share,
        ]
        for r in report.rows
    )
    return csv_response(header, lines, f"deliveries-by-client_{report.date_from}_{report.date_to}.csv")


@bp.route("/reports/performance.csv")
@page(PAGE_ROLES)
def performance_csv():
    """The delivery performance report as CSV: one line per group, then the total."""
    query, errors = _parse(PerformanceQuery)
    if errors:
        return problem(422, "Unprocessable content", "; ".join(errors))
    m = _monitor()
    with m.db.reading() as s:
        report = m.delivery_performance(
            s, query.date_from, query.date_to, branch_id=query.branch_id, group=query.group
        )
    header = [
        report.group,
        "delivered",
        "failed",
        "revenue",
        "average_min",
        "median_min",
        "p90_min",
        "on_time_percent",
        "late",
    ]
    lines = (
        [
            r.label,
            r.delivered,
            r.failed,
            r.revenue,
            r.average_min,
            r.median_min,
            r.p90_min,
            None if r.on_time_rate is None else round(r.on_time_rate * 100, 1),
            r.late,
        ]
        for r in [*report.rows, report.total.model_copy(update={"label": "total"})]
    )
    return csv_response(
        header, lines, f"delivery-performance_{report.group}_{report.date_from}_{report.date_to}.csv"
    )


@bp.route("/reports/performance")
@page(PAGE_ROLES)
def performance_report():
    """Delivery performance per courier, zone, branch or day, with charts."""
    query, errors = _parse(PerformanceQuery)
    m = _monitor()
    with m.db.reading() as s:
        report = m.delivery_performance(
            s, query.date_from, query.date_to, branch_id=query.branch_id, group=query.group
        )
        branches = _branches_of_scope(m.snapshot_branches(s))
    chart = {
        "labels": [r.label for r in report.rows],
        "delivered": [r.delivered for r in report.rows],
        "failed": [r.failed for r in report.rows],
        "average": [r.average_min for r in report.rows],
        "p90": [r.p90_min for r in report.rows],
        "on_time": [None if r.on_time_rate is None else round(r.on_time_rate * 100, 1) for r in report.rows],
    }
    params = {
        "date_from": report.date_from.isoformat(),
        "date_to": report.date_to.isoformat(),
        "branch_id": query.branch_id or "",
        "group": report.group,
    }
    return render_template(
        "monitor/performance_report.html",
        report=report,
        params=params,
        branches=branches,
        every_branch=branch_scope() is None,
        errors=errors,
        chart=chart,
        currency=current_kernel().settings.currency,
    )
