"""The training JSON API: a trainee's calls and next scripted call; scenarios and assignments."""

from __future__ import annotations

from flask import Blueprint

from frontoffice.api import endpoint
from frontoffice.kernel import current_kernel
from frontoffice.models import Role, User
from orders.services import TRAINERS
from training import schemas as sc
from training import services
from training.models import TrainingAssignment, TrainingScenario

bp = Blueprint("training_api", __name__, url_prefix="/api/v1/training")

#: Who takes calls (a trainee is an operator or manager with the trainee switch on).
CALLERS = frozenset({Role.OPERATOR, Role.MANAGER})
#: Who trains: writes scenarios, gives them out, reads the trainees' calls.


def scenario_out(s: object) -> sc.ScenarioOut:
    """A stored scenario as the API shows it."""
    return sc.ScenarioOut.model_validate(s, from_attributes=True)


def waiting(given: TrainingAssignment, scenario: TrainingScenario) -> sc.AssignmentWaiting:
    """A scenario given to a trainee as the trainee reads it: the caller and what they say."""
    return sc.AssignmentWaiting(
        assignment=sc.AssignmentOut(
            id=given.id,
            title=scenario.title,
            caller_phone=scenario.caller_phone,
            caller_name=scenario.caller_name,
            request_text=scenario.request_text,
        )
    )


@endpoint(
    bp,
    "/calls",
    method="POST",
    roles=CALLERS,
    body=sc.CallIn,
    response=sc.CallOut,
    status=201,
    summary="Record a trainee's finished call",
    tags=["training"],
    errors=(403, 422),
    description="Sent by the workspace of a trainee: duration, keystrokes, the refusals the quote and "
    "placement gave, the training order taken. A scripted call is compared with its expected order.",
)
def record_call(body: sc.CallIn, actor: User) -> sc.CallOut:
    """Record the call; its mistakes and differences in the answer."""
    with current_kernel().db.unit_of_work() as s:
        call = services.record_call(
            s,
            actor,
            services.CallReport(
                started_at=body.started_at,
                duration_s=body.duration_s,
                keystrokes=body.keystrokes,
                refusals=[r.model_dump() for r in body.refusals],
                order_id=body.order_id,
                assignment_id=body.assignment_id,
            ),
        )
        return sc.CallOut.model_validate(call, from_attributes=True)


@endpoint(
    bp,
    "/assignment",
    roles=CALLERS,
    response=sc.AssignmentWaiting,
    summary="The trainee's next scripted call",
    tags=["training"],
)
def next_assignment(actor: User) -> sc.AssignmentWaiting:
    """The oldest scenario given to the caller and not yet played (null when none)."""
    with current_kernel().db.reading() as s:
        found = services.next_assignment(s, actor.id) if actor.trainee else None
        if found is None:
            return sc.AssignmentWaiting(assignment=None)
        given, scenario = found
        return waiting(given, scenario)


@endpoint(
    bp,
    "/scenarios",
    method="POST",
    roles=TRAINERS,
    body=sc.ScenarioIn,
    response=sc.ScenarioOut,
    status=201,
    summary="Write a scripted call",
    tags=["training"],
    errors=(422,),
)
def create_scenario(body: sc.ScenarioIn, actor: User) -> sc.ScenarioOut:
    """Store a scenario: caller, what they want, the expected order."""
    k = current_kernel()
    with k.db.unit_of_work() as s:
        scenario = services.create_scenario(
            s,
            services.ScenarioData(
                title=body.title,
                caller_phone=body.caller_phone,
                caller_name=body.caller_name,
                request_text=body.request_text,
                kind=body.kind,
                address=body.address,
                payment_kind=body.payment_kind,
                lines=[(ln.sku, ln.quantity) for ln in body.lines],
            ),
            actor_id=actor.id,
            region=k.settings.phone_region,
        )
        return scenario_out(scenario)


@endpoint(
    bp,
    "/scenarios/<int:scenario_id>/assignments",
    method="POST",
    roles=TRAINERS,
    body=sc.AssignIn,
    response=sc.AssignmentWaiting,
    status=201,
    summary="Give a scripted call to a trainee",
    tags=["training"],
    errors=(404, 422),
)
def assign(scenario_id: int, body: sc.AssignIn, actor: User) -> sc.AssignmentWaiting:
    """The trainee plays it on their next call."""
    with current_kernel().db.unit_of_work() as s:
        given = services.assign(s, scenario_id, body.trainee_id, actor_id=actor.id)
        scenario = s.get(TrainingScenario, scenario_id)
        assert scenario is not None
        return waiting(given, scenario)
