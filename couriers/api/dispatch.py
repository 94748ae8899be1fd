"""Dispatch for managers (``/api/v1/dispatch``): candidates, assign, unassign, auto-dispatch."""

from __future__ import annotations

from flask import Blueprint, Response, url_for

from couriers import schemas as sc
from couriers import services
from couriers.api.common import MANAGE, PROOF_READERS, signal_timeout
from couriers.ports import AUTO_DISPATCHER
from frontoffice.api import endpoint
from frontoffice.auth import branch_scope
from frontoffice.errors import NotFound
from frontoffice.kernel import current_kernel
from frontoffice.models import User
from frontoffice.money import from_minor

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
        services.order_in_scope(s, order_id, branch_scope())
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
        services.order_in_scope(s, order_id, branch_scope())
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
        services.order_in_scope(s, order_id, branch_scope())
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


# --- the dispatch screen ----------------------------------------------------------------------


def _default_minutes() -> float | None:
    loop = current_kernel().extensions.find(AUTO_DISPATCHER)
    return loop.default_minutes if loop is not None else None


def _rule_in_force(s) -> services.AutoDispatchRule:
    """The stored rule (the periodic auto-dispatch job reads the same one each round)."""
    return services.auto_dispatch_rule(s, default_minutes=_default_minutes())


@endpoint(
    dispatch_bp,
    "/board",
    roles=MANAGE,
    response=sc.DispatchBoardOut,
    summary="The dispatch screen: undelivered delivery orders of your branches with their lateness, "
    "trips ended in the last 3 hours with their proofs, and the auto-dispatch rule",
    tags=["dispatch"],
)
def board() -> sc.DispatchBoardOut:
    """The board."""
    scope = branch_scope()
    with current_kernel().db.reading() as s:
        orders = services.dispatch_board(s, within=scope)
        finished = services.recent_deliveries(s, within=scope)
        counts = services.proof_counts(s, [o.id for o in finished])
        rule = _rule_in_force(s)
        return sc.DispatchBoardOut(
            orders=[sc.BoardOrderOut.of(o) for o in orders],
            finished=[sc.BoardOrderOut.of(o, counts.get(o.id, 0)) for o in finished],
            auto_dispatch=sc.AutoDispatchRuleOut.of(rule),
        )


@endpoint(
    dispatch_bp,
    "/auto-rule",
    roles=MANAGE,
    response=sc.AutoDispatchRuleOut,
    summary="The auto-dispatch rule in force (on/off, minutes a ready order waits)",
    tags=["dispatch"],
)
def auto_rule() -> sc.AutoDispatchRuleOut:
    """Read the rule."""
    with current_kernel().db.reading() as s:
        return sc.AutoDispatchRuleOut.of(_rule_in_force(s))


@endpoint(
    dispatch_bp,
    "/auto-rule",
    method="PUT",
    roles=MANAGE,
    body=sc.AutoDispatchRuleIn,
    response=sc.AutoDispatchRuleOut,
    summary="Switch auto-dispatch on or off and set its minutes (kept in the database for every process)",
    tags=["dispatch"],
)
def set_auto_rule(body: sc.AutoDispatchRuleIn, actor: User) -> sc.AutoDispatchRuleOut:
    """Change the rule."""
    with current_kernel().db.unit_of_work() as s:
        rule = services.set_auto_dispatch_rule(
            s, enabled=body.enabled, after_minutes=body.after_minutes, actor_id=actor.id
        )
    return sc.AutoDispatchRuleOut.of(rule)


def proof_out(p: services.ProofOfDelivery) -> sc.ProofOfDeliveryOut:
    """A proof of delivery as the API shows it, each image with the address of its bytes."""
    return sc.ProofOfDeliveryOut(
        order_id=p.order_id,
        outcome=p.outcome,
        courier_id=p.courier_id,
        courier_name=p.courier_name,
        at=p.at,
        lat=p.lat,
        lon=p.lon,
        cash_collected=from_minor(p.cash_collected),
        reason_code=p.reason_code,
        comment=p.comment,
        images=[
            sc.ProofImageOut(
                id=i.id,
                kind=i.kind,
                content_type=i.content_type,
                size=i.size,
                created_at=i.created_at,
                url=url_for("dispatch_api.proof_image", proof_id=i.id),
            )
            for i in p.images
        ],
    )


@endpoint(
    dispatch_bp,
    "/orders/<int:order_id>/proof",
    roles=PROOF_READERS,
    response=sc.ProofOfDeliveryOut,
    summary="The proof of delivery of an order of your branches: where and when the trip ended, "
    "the cash taken, the photo and signature",
    tags=["dispatch"],
    errors=(404,),
)
def order_proof(order_id: int) -> sc.ProofOfDeliveryOut:
    """Read the proof."""
    with current_kernel().db.reading() as s:
        found = services.proof_of_delivery(s, order_id, within=branch_scope())
        if found is None:
            raise NotFound(f"Order {order_id} has no proof of delivery yet: its trip has not ended.")
        return proof_out(found)


@endpoint(
    dispatch_bp,
    "/proofs/<int:proof_id>",
    roles=PROOF_READERS,
    summary="The image of a proof of delivery (JPEG, PNG or WebP bytes), for the staff of its branch",
    tags=["dispatch"],
    errors=(404,),
    description="Answers the stored image with its content type, never cached by shared caches; "
    "an image of an order of another branch answers 404.",
)
def proof_image(proof_id: int) -> Response:
    """Serve the image."""
    with current_kernel().db.reading() as s:
        proof = services.proof_image(s, proof_id, within=branch_scope())
        resp = Response(proof.data, mimetype=proof.content_type)
    resp.headers["Cache-Control"] = "private, max-age=300"
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Content-Disposition"] = f'inline; filename="proof-{proof_id}"'
    return resp
