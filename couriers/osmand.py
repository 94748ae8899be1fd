"""The OsmAnd location endpoint ``/api/osmand``, compatible with Traccar Client.

Accepted, as Traccar's own server accepts them: GET or POST with the parameters in the
query string, POST with them as a form (or any body in query-string form), and the JSON body
of newer Traccar Client versions. The device id is the only credential; it must be
registered to an active courier. Answers: 200 with an empty body when stored — also for an
old buffered point or a skewed clock, stored flagged (Traccar Client resends a refused point
forever); 400 for an unknown device (404 for an unknown device in a JSON report, as Traccar
answers); 400 problem+json for a report that cannot be read or holds a malformed point (a
time without an offset included, see :func:`couriers.tracking.parse_timestamp`).

A phone pings every few seconds, so this is the hottest path of the service. It is served by
a small WSGI middleware in front of Flask (:class:`OsmandMiddleware`): no Flask request
machinery, no session or CSRF hooks (the endpoint has neither), a rate limit per device id (``rate_limit_osmand_device``: 429 with
``Retry-After``), a cached device lookup and one
short unit of work per report (:func:`couriers.services.record_track`: Core statements, the move
published after the commit as every event is). The composition root installs it
(``frontoffice.app.create_app``). The Flask routes below declare the endpoint for the OpenAPI
document and run the very same :func:`handle` when the app is used without the middleware.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl

from flask import Blueprint, Response, request
from werkzeug.exceptions import RequestEntityTooLarge

from couriers import services
from couriers.ports import COURIER_DIRECTORY
from couriers.tracking import OsmandError, TrackPoint, parse_osmand_params, parse_traccar_json, point_problems
from frontoffice.api import endpoint
from frontoffice.db import utcnow
from frontoffice.errors import PROBLEM_MIME
from frontoffice.guards import GuardedRequest
from frontoffice.inputs import JsonTooDeep, load_json, nul_fields
from frontoffice.kernel import Kernel, current_kernel
from frontoffice.ratelimits import TooManyRequests
from frontoffice.requestlog import current_request_id

log = logging.getLogger(__name__)

PATH = "/api/osmand"
#: A report is a few hundred bytes; a batch-syncing client sends a few kilobytes.
MAX_BODY = 256 * 1024

bp = Blueprint("osmand", __name__)

DESCRIPTION = (
    "OsmAnd protocol, as sent by Traccar Client: parameters `id` (or `deviceid`), `timestamp` "
    "(Unix seconds, milliseconds, or ISO 8601 with an offset), `lat` and `lon` (or `location=lat,lon`), `speed` "
    "(knots), `bearing` (or `heading`), `altitude`, `accuracy`, `batt` — in the query string of a "
    "GET or POST, or as a form body; or the JSON body of newer clients (`device_id`, "
    "`location.timestamp`, `location.coords.latitude|longitude|speed (m/s)|heading|accuracy|altitude`, "
    "`location.battery.level` 0–1). The device id must be registered to a courier. Success: 200 "
    "with an empty body; an unknown device: 400 (404 for a JSON report), as Traccar answers."
)

Answer = tuple[int, bytes, str | None]


def _problem(status: int, title: str, detail: str, **extra: Any) -> Answer:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    rid = current_request_id()
    if rid:
        body["request_id"] = rid
    return status, json.dumps(body).encode(), PROBLEM_MIME


def _first_values(multi: Any) -> dict[str, str]:
    return {k: multi.get(k, "") for k in multi}


def handle(
    kernel: Kernel, args: Mapping[str, str], mimetype: str, body: bytes, form: Callable[[], Mapping[str, str]]
) -> Answer:
    """Read one OsmAnd/Traccar report, store it, and say what to answer: (status, body, mimetype)."""
    now = utcnow()
    is_json = mimetype == "application/json" and not args
    try:
        if is_json:
            try:
                data, nul_in = load_json(body or b"null")
            except JsonTooDeep as exc:
                raise OsmandError(str(exc).rstrip(".").lower()) from None
            except (ValueError, UnicodeDecodeError):
                raise OsmandError("the body is not valid JSON") from None
            _refuse_nul(nul_in)
            device, points = parse_traccar_json(data, now)
        else:
            if args:
                params = args
            elif mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
                params = form()
            else:
                params = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
            _refuse_nul(nul_fields(params.items()))
            device, point = parse_osmand_params(params, now)
            points = [point]
    except OsmandError as exc:
        return _problem(400, "Unreadable location report", str(exc).capitalize() + ".")
    if kernel.rate_limits is not None:
        wait = kernel.rate_limits.osmand_wait(device)
        if wait is not None:
            raise TooManyRequests(
                f"Device {device!r} sends more location reports than "
                f"{kernel.settings.rate_limit_osmand_device} allows; retry after {wait} s.",
                wait,
            )
    problems = [p for point in points for p in point_problems(point)]
    if problems:
        return _problem(400, "Malformed location", "; ".join(p["message"] for p in problems), errors=problems)

    db = kernel.db
    directory: services.CourierDirectory = kernel.extensions.get(COURIER_DIRECTORY)

    def load() -> services.DeviceEntry | None:
        with db.reading() as s:
            return services.load_device(s, device)

    entry = directory.device(device, load)
    if entry is None:
        return _problem(
            404 if is_json else 400, "Unknown device", f"Device {device!r} is not registered to a courier."
        )
    _store(kernel, entry, points, now)
    return 200, b"", None


def _refuse_nul(fields: list[str]) -> None:
    """The kernel's rule (:mod:`frontoffice.inputs`) on this path in front of Flask: no NUL anywhere."""
    if fields:
        raise OsmandError(f"a null character is in {', '.join(fields)}")


def _store(kernel: Kernel, entry: services.DeviceEntry, points: list[TrackPoint], now: dt.datetime) -> None:
    """Store the points in one unit of work, like every other write: the move is published with
    :func:`frontoffice.db.publish` and heard only once the transaction has committed."""
    with kernel.db.unit_of_work() as session:
        services.record_track(
            session,
            entry.courier_id,
            points,
            now=now,
            source="osmand",
            branch_ids=entry.branch_ids,
            read_current=False,  # Traccar Client gets an empty 200: nothing to read back
        )


class OsmandMiddleware:
    """Serves ``/api/osmand`` before Flask sees the request; everything else goes on to ``app``."""

    def __init__(self, app: Callable[..., Iterable[bytes]], kernel: Kernel):
        self.app = app
        self.kernel = kernel

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != PATH or environ.get("REQUEST_METHOD") not in ("GET", "POST"):
            return self.app(environ, start_response)
        req = GuardedRequest(environ)  # the kernel's body limit, chunked bodies included
        req.max_content_length = MAX_BODY
        too_large = _problem(413, "Payload too large", f"A location report has at most {MAX_BODY} bytes.")
        extra_headers: list[tuple[str, str]] = []
        try:
            length = req.content_length or 0
            if length > MAX_BODY:
                answer = too_large
            else:
                body = req.get_data(cache=True) if req.method == "POST" else b""
                answer = handle(
                    self.kernel, _first_values(req.args), req.mimetype, body, lambda: _first_values(req.form)
                )
        except RequestEntityTooLarge:
            answer = too_large
        except TooManyRequests as exc:
            answer = _problem(429, exc.title, exc.detail, **exc.extra)
            extra_headers = list(exc.headers.items())
        except Exception:  # the one place a failure of this path is turned into an answer
            log.exception("OsmAnd report failed")
            answer = _problem(
                500, "Internal server error", "The server failed to store the report; it was logged."
            )
        status, payload, mimetype = answer
        headers = [("Content-Length", str(len(payload))), *extra_headers]
        if mimetype:
            headers.append(("Content-Type", mimetype))
        start_response(f"{status} {_REASONS.get(status, 'Error')}", headers)
        return [payload]


_REASONS = {
    200: "OK",
    400: "BAD REQUEST",
    404: "NOT FOUND",
    413: "REQUEST ENTITY TOO LARGE",
    429: "TOO MANY REQUESTS",
    500: "INTERNAL SERVER ERROR",
}


def _flask_answer() -> Response:
    status, payload, mimetype = handle(
        current_kernel(),
        _first_values(request.args),
        request.mimetype,
        request.get_data(cache=True),
        lambda: _first_values(request.form),
    )
    return Response(payload, status=status, mimetype=mimetype)


@endpoint(
    bp,
    PATH,
    method="POST",
    public=True,
    idempotent=False,
    summary="OsmAnd / Traccar Client location report (POST: query, form or JSON)",
    tags=["courier tracking"],
    errors=(400, 404, 429),
    description=DESCRIPTION,
)
def osmand_post() -> Response:
    """A report sent with POST."""
    return _flask_answer()


@endpoint(
    bp,
    PATH,
    method="GET",
    public=True,
    summary="OsmAnd / Traccar Client location report (GET with query parameters)",
    tags=["courier tracking"],
    errors=(400, 429),
    description=DESCRIPTION,
)
def osmand_get() -> Response:
    """A report sent with GET."""
    return _flask_answer()
