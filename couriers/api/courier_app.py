"""The courier mobile API (``/api/courier/v1``): the app's session, shifts, positions and the
order pool.

Every endpoint acts only for the courier of the bearer token: another courier's order is
answered 404, as if it did not exist.
"""

from __future__ import annotations

from flask import Blueprint, g

from couriers import schemas as sc
from couriers import services
from couriers.api.common import COURIER, courier_of, signal_timeout
from couriers.tracking import TrackPoint
from frontoffice.api import endpoint
from frontoffice.auth import bearer_token, revoke_token
from frontoffice.db import utcnow
from frontoffice.errors import NotFound
from frontoffice.kernel import current_kernel
from frontoffice.models import Role, User
from frontoffice.money import to_minor

courier_bp = Blueprint("courier_api", __name__, url_prefix="/api/courier/v1")
TAGS = ["courier app"]


# --- session --------------------------------------------------------------------------------


@endpoint(
    courier_bp,
    "/session",
    method="POST",
    public=True,
    body=sc.SessionIn,
    response=sc.SessionOut,
    status=201,
    summary="Log the courier app in: login and password give a bearer token",
    tags=TAGS,
    errors=(401, 403, 429),
    idempotent=False,
    description="Only users with the courier role and a courier profile get a token. Send it as "
    "`Authorization: Bearer <token>` on every other call; `DELETE /session` revokes it.",
)
def open_session(body: sc.SessionIn) -> sc.SessionOut:
    """Exchange a courier's login for a token."""
    k = current_kernel()
    with k.db.unit_of_work() as s:
        app_session = services.open_app_session(
            s, body.login, body.password, body.device_name, lifetime=k.settings.token_lifetime
        )
        return _session_out(app_session)


def _session_out(app_session: services.AppSession) -> sc.SessionOut:
    return sc.SessionOut(
        token=app_session.raw,
        courier=sc.CourierOut.of(app_session.courier),
        expires_at=app_session.token.expires_at,
        must_change_password=app_session.must_change_password,
    )


@endpoint(
    courier_bp,
    "/session/refresh",
    method="POST",
    roles=COURIER,
    response=sc.SessionOut,
    status=201,
    summary="Swap this session's token for a new one before it expires",
    tags=TAGS,
    errors=(409, 429),
    idempotent=False,
    description="Call it with the app's bearer token while it still works: the answer holds a new "
    "token (and when it expires); the token of this call is revoked at once. An expired token "
    "cannot be refreshed (401): log in again.",
)
def refresh_session(actor: User) -> sc.SessionOut:
    """Refresh the app's token."""
    k = current_kernel()
    with k.db.unit_of_work() as s:
        app_session = services.refresh_app_session(
            s, actor, g.get("api_token_id"), lifetime=k.settings.token_lifetime
        )
        return _session_out(app_session)


@endpoint(
    courier_bp,
    "/session",
    method="DELETE",
    roles=COURIER,
    status=204,
    summary="Log the courier app out (revoke this token)",
    tags=TAGS,
    idempotent=False,
    before_password_change=True,
)
def close_session(actor: User) -> None:
    """Revoke the token of this call (a courier may always log out, even when switched off)."""
    raw = bearer_token()
    with current_kernel().db.unit_of_work() as s:
        if actor.role != Role.COURIER:
            courier_of(s, actor)  # an admin without a courier profile gets the same 403 as elsewhere
        if raw is not None:
            revoke_token(s, raw)


@endpoint(
    courier_bp,
    "/me",
    roles=COURIER,
    response=sc.MeOut,
    summary="The courier of this token: profile, state, shift, position",
    tags=TAGS,
)
def me(actor: User) -> sc.MeOut:
    """Who am I and what am I doing."""
    with current_kernel().db.reading() as s:
        courier = courier_of(s, actor)
        state = services.courier_states(
            s, utcnow(), signal_timeout_s=signal_timeout(), courier_ids=[courier.id]
        )
        shift = services.open_shift(s, courier.id)
        return sc.MeOut(
            courier=sc.CourierOut.of(courier),
            state=state.get(courier.id, services.CourierState.OFFLINE),
            shift=sc.ShiftOut.of(shift) if shift else None,
            position=sc.position_out(services.current_position(s, courier.id)),
            carried=services.carried_count(s, courier.id),
        )


# --- shifts ---------------------------------------------------------------------------------


@endpoint(
    courier_bp,
    "/shift/start",
    method="POST",
    roles=COURIER,
    body=sc.ShiftStartIn,
    response=sc.ShiftOut,
    status=201,
    summary="Start a shift with the change float taken along",
    tags=TAGS,
    errors=(409,),
)
def start_shift(body: sc.ShiftStartIn, actor: User) -> sc.ShiftOut:
    """Open a shift."""
    with current_kernel().db.unit_of_work() as s:
        shift = services.start_shift(s, courier_of(s, actor), opening_cash=to_minor(body.opening_cash))
        return sc.ShiftOut.of(shift)


@endpoint(
    courier_bp,
    "/shift/end",
    method="POST",
    roles=COURIER,
    body=sc.ShiftEndIn,
    response=sc.ShiftReportOut,
    summary="End the shift, handing in the cash; answers the shift report",
    tags=TAGS,
    errors=(409,),
)
def end_shift(body: sc.ShiftEndIn, actor: User) -> sc.ShiftReportOut:
    """Close the shift."""
    now = utcnow()
    cash = to_minor(body.cash_handed_in) if body.cash_handed_in is not None else None
    with current_kernel().db.unit_of_work() as s:
        report = services.end_shift(s, courier_of(s, actor), closing_cash=cash, now=now)
        return sc.ShiftReportOut.of(report, now)


@endpoint(
    courier_bp,
    "/shift",
    roles=COURIER,
    response=sc.ShiftReportOut,
    summary="The report of the open shift so far",
    tags=TAGS,
    errors=(404,),
)
def current_shift(actor: User) -> sc.ShiftReportOut:
    """The open shift's report."""
    now = utcnow()
    with current_kernel().db.reading() as s:
        courier = courier_of(s, actor)
        shift = services.open_shift(s, courier.id)
        if shift is None:
            raise NotFound("No shift is open.")
        return sc.ShiftReportOut.of(services.shift_report(s, shift, now), now)


@endpoint(
    courier_bp,
    "/shifts/<int:shift_id>",
    roles=COURIER,
    response=sc.ShiftReportOut,
    summary="The report of one of your shifts",
    tags=TAGS,
    errors=(404,),
)
def shift_report(shift_id: int, actor: User) -> sc.ShiftReportOut:
    """A past (or the open) shift's report."""
    now = utcnow()
    with current_kernel().db.reading() as s:
        courier = courier_of(s, actor)
        shift = services.get_shift(s, courier.id, shift_id)
        return sc.ShiftReportOut.of(services.shift_report(s, shift, now), now)


# --- locations ------------------------------------------------------------------------------


@endpoint(
    courier_bp,
    "/locations",
    method="POST",
    roles=COURIER,
    body=sc.LocationBatchIn,
    response=sc.LocationBatchOut,
    summary="Report a batch of positions",
    tags=TAGS,
    description="Send the points collected since the last successful report (up to 1000). A point "
    "sent twice is stored once (`duplicates`); a second fix with the same `recorded_at` replaces the "
    "first. A malformed point (bad coordinates, a time without an offset, a value outside its "
    "domain such as battery outside 0–100) is refused alone and listed in `rejected` with its "
    "index, the others are kept; drop rejected points, do not resend them. An implausible point "
    "(more than 7 days old, more than 5 minutes ahead, faster than 100 m/s) is stored and listed "
    "in `flagged`. `current` is the latest position: it never moves back in time, and never to a "
    "point flagged `old` or `ahead`.",
)
def report_locations(body: sc.LocationBatchIn, actor: User) -> sc.LocationBatchOut:
    """Store points; per-point errors."""
    points = [
        TrackPoint(
            recorded_at=p.recorded_at,
            lat=p.lat,
            lon=p.lon,
            accuracy=p.accuracy,
            speed=p.speed,
            bearing=p.bearing,
            altitude=p.altitude,
            battery=p.battery,
        )
        for p in body.points
    ]
    with current_kernel().db.unit_of_work() as s:
        courier = courier_of(s, actor)
        result = services.record_track(s, courier.id, points, source="api", branch_ids=courier.branch_ids)
        return sc.LocationBatchOut(
            accepted=result.accepted,
            duplicates=result.duplicates,
            rejected=[sc.PointErrorOut(**r) for r in result.rejected],
            flagged=[sc.PointFlagsOut(**f) for f in result.flagged],
            current=sc.position_out(result.current),
        )


# --- orders ---------------------------------------------------------------------------------


@endpoint(
    courier_bp,
    "/orders/available",
    roles=COURIER,
    response=sc.OrderListOut,
    summary="The pool: unclaimed delivery orders of your branches",
    tags=TAGS,
    description="Confirmed, cooking or ready delivery orders with no courier, soonest promised first, "
    "with the distance from you (last reported position) and from the branch to the client.",
)
def available(actor: User) -> sc.OrderListOut:
    """The pool."""
    with current_kernel().db.reading() as s:
        courier = courier_of(s, actor)
        return sc.OrderListOut(
            items=[sc.CourierOrderOut.of(e) for e in services.available_orders(s, courier)]
        )


@endpoint(
    courier_bp,
    "/orders/active",
    roles=COURIER,
    response=sc.OrderListOut,
    summary="Orders you carry (taken, not finished)",
    tags=TAGS,
)
def active(actor: User) -> sc.OrderListOut:
    """My current orders."""
    with current_kernel().db.reading() as s:
        courier = courier_of(s, actor)
        return sc.OrderListOut(items=[sc.CourierOrderOut.of(e) for e in services.active_orders(s, courier)])


@endpoint(
    courier_bp,
    "/orders/history",
    roles=COURIER,
    query=sc.HistoryQuery,
    response=sc.HistoryOut,
    summary="Orders you finished (delivered, failed, or cancelled while yours), newest first",
    tags=TAGS,
)
def history(query: sc.HistoryQuery, actor: User) -> sc.HistoryOut:
    """My past orders."""
    with current_kernel().db.reading() as s:
        courier = courier_of(s, actor)
        rows, total = services.order_history(s, courier, page=query.page, per_page=query.per_page)
        return sc.HistoryOut(
            items=[sc.CourierOrderOut.of(o) for o in rows],
            total=total,
            page=query.page,
            per_page=query.per_page,
        )


@endpoint(
    courier_bp,
    "/orders/<int:order_id>",
    roles=COURIER,
    response=sc.CourierOrderOut,
    summary="One order: yours, or one in your pool",
    tags=TAGS,
    errors=(404,),
)
def get_order(order_id: int, actor: User) -> sc.CourierOrderOut:
    """Read one order."""
    with current_kernel().db.reading() as s:
        return sc.CourierOrderOut.of(services.visible_order(s, courier_of(s, actor), order_id))


@endpoint(
    courier_bp,
    "/orders/<int:order_id>/claim",
    method="POST",
    roles=COURIER,
    response=sc.CourierOrderOut,
    summary="Take an order from the pool",
    tags=TAGS,
    errors=(404, 409),
    description="Exactly one courier wins an order; the others get 409. Needs an open shift and "
    "fewer orders than your maximum. Claiming an order you already have answers it again.",
)
def claim(order_id: int, actor: User) -> sc.CourierOrderOut:
    """Claim."""
    with current_kernel().db.unit_of_work() as s:
        courier = courier_of(s, actor)
        order = services.claim_order(s, courier, order_id, actor_id=actor.id)
        return sc.CourierOrderOut.of(services.describe(s, courier.id, order))


@endpoint(
    courier_bp,
    "/orders/<int:order_id>/release",
    method="POST",
    roles=COURIER,
    body=sc.ReleaseIn,
    response=sc.CourierOrderOut,
    summary="Give an order back to the pool (before pickup)",
    tags=TAGS,
    errors=(404, 409),
)
def release(order_id: int, body: sc.ReleaseIn, actor: User) -> sc.CourierOrderOut:
    """Release."""
    with current_kernel().db.unit_of_work() as s:
        courier = courier_of(s, actor)
        order = services.release_order(s, courier, order_id, actor_id=actor.id, reason=body.reason)
        return sc.CourierOrderOut.of(services.describe(s, courier.id, order))


@endpoint(
    courier_bp,
    "/orders/<int:order_id>/pickup",
    method="POST",
    roles=COURIER,
    response=sc.CourierOrderOut,
    summary="Leave the branch with a ready order (ready → in_delivery)",
    tags=TAGS,
    errors=(404, 409),
)
def pickup(order_id: int, actor: User) -> sc.CourierOrderOut:
    """Pick up."""
    with current_kernel().db.unit_of_work() as s:
        courier = courier_of(s, actor)
        order = services.pickup_order(s, courier, order_id, actor_id=actor.id)
        return sc.CourierOrderOut.of(services.describe(s, courier.id, order))


@endpoint(
    courier_bp,
    "/orders/<int:order_id>/deliver",
    method="POST",
    roles=COURIER,
    body=sc.DeliverIn,
    response=sc.CourierOrderOut,
    summary="Hand the order over (cash taken, optional photo/signature, position)",
    tags=TAGS,
    errors=(404, 409),
    description="Cash orders need `cash_collected` (it joins the shift's cash on hand); other orders "
    "must not send it. `proofs`: at most one photo and one signature, each a base64 JPEG, PNG or "
    "WebP of at most 512 KiB. `lat`/`lon` stamp where it happened (default: your last position).",
)
def deliver(order_id: int, body: sc.DeliverIn, actor: User) -> sc.CourierOrderOut:
    """Deliver."""
    proofs = [services.ProofUpload(p.kind, p.content_type, p.data_base64) for p in body.proofs]
    with current_kernel().db.unit_of_work() as s:
        courier = courier_of(s, actor)
        order = services.deliver_order(
            s,
            courier,
            order_id,
            actor_id=actor.id,
            cash_collected=to_minor(body.cash_collected) if body.cash_collected is not None else None,
            lat=body.lat,
            lon=body.lon,
            proofs=proofs,
            comment=body.comment,
        )
        return sc.CourierOrderOut.of(services.describe(s, courier.id, order))


@endpoint(
    courier_bp,
    "/orders/<int:order_id>/fail",
    method="POST",
    roles=COURIER,
    body=sc.FailIn,
    response=sc.CourierOrderOut,
    summary="The delivery failed: a reason code",
    tags=TAGS,
    errors=(404, 409),
    description="Reason codes: " + "; ".join(f"`{k}` — {v}" for k, v in services.FAIL_REASONS.items()) + ".",
)
def fail(order_id: int, body: sc.FailIn, actor: User) -> sc.CourierOrderOut:
    """Fail."""
    with current_kernel().db.unit_of_work() as s:
        courier = courier_of(s, actor)
        order = services.fail_order(
            s,
            courier,
            order_id,
            actor_id=actor.id,
            reason_code=body.reason_code,
            comment=body.comment,
            lat=body.lat,
            lon=body.lon,
        )
        return sc.CourierOrderOut.of(services.describe(s, courier.id, order))
