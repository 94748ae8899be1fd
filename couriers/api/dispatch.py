"""Dispatch for managers (``/api/v1/dispatch``): candidates, assign, unassign, auto-dispatch."""

from __future__ import annotations

from flask import Blueprint

from couriers import schemas as sc
from couriers import services
from couriers.api.common import MANAGE, signal_timeout
from frontoffice.api import endpoint
from frontoffice.kernel import current_kernel
from frontoffice.models import User

dispatch_bp = Blueprint("dispatch_api", __name__, url_prefix="/api/v1/dispatch")


@endpoint(
    dispatch_bp,
    "/orders/<int:order_id>/candidates",
    roles=MANAGE,
    response=sc.CandidatesOut,
    summary="Free couriers for an order, best first (distance and estimated arrival at the branch)",
    tags=["dispatch"],
    errors=(404, 409),
)
def candidates(order_id: int) -> sc.CandidatesOut:
    """Rank free couriers."""
    with current_kernel().db.reading() as s:
        found = services.dispatch_candidates(s, order_id, signal_timeout_s=signal_timeout())
        return sc.CandidatesOut(
            order_id=order_id,
            items=[
                sc.CandidateOut(
                    courier_id=c.courier.id,
                    name=c.courier.name,
                    vehicle=c.courier.vehicle,
                    lat=c.lat,
                    lon=c.lon,
                    position_at=c.recorded_at,
                    battery=c.battery,
                    distance_m=c.distance_m,
                    eta_s=c.eta_s,
                    eta_to_client_s=c.eta_to_client_s,
                )
                for c in found
            ],
        )


@endpoint(
    dispatch_bp,
    "/orders/<int:order_id>/assign",
    method="POST",
    roles=MANAGE,
    body=sc.AssignIn,
    response=sc.CourierOrderOut,
    summary="Give an unclaimed order to a courier",
    tags=["dispatch"],
    errors=(404, 409),
    description="The same guard as a courier's claim: the courier must be on shift, serve the branch "
    "and have room under its maximum; an order that already has a courier answers 409 (unassign first).",
)
def assign(order_id: int, body: sc.AssignIn, actor: User) -> sc.CourierOrderOut:
    """Assign."""
    with current_kernel().db.unit_of_work() as s:
        order = services.assign_courier(s, order_id, body.courier_id, actor_id=actor.id)
        return sc.CourierOrderOut.of(services.describe(s, order.courier_id, order))


@endpoint(
    dispatch_bp,
    "/orders/<int:order_id>/unassign",
    method="POST",
    roles=MANAGE,
    body=sc.UnassignIn,
    response=sc.CourierOrderOut,
    summary="Take an order back from its courier (before pickup)",
    tags=["dispatch"],
    errors=(404, 409),
)
def unassign(order_id: int, body: sc.UnassignIn, actor: User) -> sc.CourierOrderOut:
    """Unassign."""
    with current_kernel().db.unit_of_work() as s:
        order = services.unassign_courier(s, order_id, actor_id=actor.id, reason=body.reason)
        return sc.CourierOrderOut.of(services.describe(s, None, order))


@endpoint(
    dispatch_bp,
    "/auto",
    method="POST",
    roles=MANAGE,
    body=sc.AutoDispatchIn,
    response=sc.AutoDispatchOut,
    summary="Run auto-dispatch once: ready orders unclaimed for N minutes go to the nearest free courier",
    tags=["dispatch"],
)
def auto(body: sc.AutoDispatchIn, actor: User) -> sc.AutoDispatchOut:
    """Auto-dispatch now."""
    with current_kernel().db.unit_of_work() as s:
        done = services.auto_dispatch(
            s, after_minutes=body.after_minutes, signal_timeout_s=signal_timeout(), actor_id=actor.id
        )
        return sc.AutoDispatchOut(assigned=[{"order_id": o, "courier_id": c} for o, c in done])
