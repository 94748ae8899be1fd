"""Training use cases: write and assign scripted calls, record a trainee's call, read the trainer's
report."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from frontoffice.db import utcnow
from frontoffice.errors import Forbidden, InvalidInput, NotFound, field_error
from frontoffice.models import Role, User
from frontoffice.phones import InvalidPhone, normalize_phone
from frontoffice.staff.services import set_trainee
from nomenclature.models import Item
from orders.models import Order
from orders.services import ORDER_KINDS, PAYMENT_KINDS
from orders.states import OrderStatus
from training.comparison import ExpectedOrder, compare
from training.mistakes import Mistake, mistakes_of
from training.models import TrainingAssignment, TrainingCall, TrainingScenario

#: The calls of each trainee the trainer's page shows, newest first.
CALLS_SHOWN = 50


@dataclass(frozen=True)
class ScenarioData:
    """A scripted call as a trainer writes it."""

    title: str
    caller_phone: str
    lines: Sequence[tuple[str, int]]
    caller_name: str = ""
    request_text: str = ""
    kind: str = "delivery"
    address: str = ""
    payment_kind: str = "cash"


def create_scenario(
    session: Session, data: ScenarioData, *, actor_id: int | None, region: str = "RU"
) -> TrainingScenario:
    """Write a scripted call; :class:`InvalidInput` naming every bad field (nothing written)."""
    errors = []
    if not data.title.strip():
        errors.append(field_error("title", "Give the scenario a title.", "required"))
    phone = ""
    try:
        phone = normalize_phone(data.caller_phone, region)
    except InvalidPhone as exc:
        errors.append(field_error("caller_phone", str(exc), "invalid_phone"))
    if data.kind not in ORDER_KINDS:
        errors.append(field_error("kind", "Choose delivery or pickup.", "value_error"))
    if data.kind == "delivery" and not data.address.strip():
        errors.append(
            field_error("address", "A delivery scenario needs the address the caller gives.", "required")
        )
    if data.payment_kind not in PAYMENT_KINDS:
        errors.append(
            field_error(
                "payment_kind", f"The payment must be one of {', '.join(PAYMENT_KINDS)}.", "value_error"
            )
        )
    if not data.lines:
        errors.append(field_error("lines", "Name at least one item the caller wants.", "required"))
    skus = {sku for sku, _ in data.lines}
    known = set(session.scalars(select(Item.sku).where(Item.sku.in_(sorted(skus))))) if skus else set()
    for i, (sku, quantity) in enumerate(data.lines):
        if sku not in known:
            errors.append(
                field_error(f"lines.{i}.sku", f"There is no item {sku!r} in the menu.", "unknown_item")
            )
        if quantity < 1:
            errors.append(
                field_error(f"lines.{i}.quantity", "The quantity must be at least 1.", "value_error")
            )
    if errors:
        raise InvalidInput("The scenario cannot be saved.", errors=errors)
    scenario = TrainingScenario(
        title=data.title.strip()[:200],
        caller_phone=phone,
        caller_name=data.caller_name.strip()[:200],
        request_text=data.request_text.strip(),
        kind=data.kind,
        address=data.address.strip()[:500],
        payment_kind=data.payment_kind,
        lines=[{"sku": sku, "quantity": q} for sku, q in data.lines],
        created_by=actor_id,
        created_at=utcnow(),
    )
    session.add(scenario)
    session.flush()
    return scenario


def _trainee(session: Session, user_id: int, where: str) -> User:
    user = session.get(User, user_id)
    if user is None or not user.trainee or not user.active:
        raise InvalidInput(
            f"User {user_id} is not an active trainee.",
            errors=[
                field_error(
                    where, "Not an active trainee; mark the operator as a trainee in the staff pages."
                )
            ],
        )
    return user


def assign(
    session: Session, scenario_id: int, trainee_id: int, *, actor_id: int | None
) -> TrainingAssignment:
    """Give a scenario to a trainee to play (again); 404 for an unknown scenario, 422 for a user who
    is not an active trainee."""
    if session.get(TrainingScenario, scenario_id) is None:
        raise NotFound(f"There is no scenario {scenario_id}.")
    _trainee(session, trainee_id, "trainee_id")
    given = TrainingAssignment(
        scenario_id=scenario_id, trainee_id=trainee_id, assigned_by=actor_id, assigned_at=utcnow()
    )
    session.add(given)
    session.flush()
    return given


def next_assignment(session: Session, trainee_id: int) -> tuple[TrainingAssignment, TrainingScenario] | None:
    """The trainee's oldest scenario not yet played, with its script; None when none waits."""
    row = session.execute(
        select(TrainingAssignment, TrainingScenario)
        .join(TrainingScenario, TrainingScenario.id == TrainingAssignment.scenario_id)
        .where(TrainingAssignment.trainee_id == trainee_id, TrainingAssignment.done_at.is_(None))
        .order_by(TrainingAssignment.assigned_at, TrainingAssignment.id)
        .limit(1)
    ).first()
    return (row[0], row[1]) if row is not None else None


def expected_of(scenario: TrainingScenario) -> ExpectedOrder:
    """The order a scenario expects."""
    return ExpectedOrder(
        lines={ln["sku"]: int(ln["quantity"]) for ln in scenario.lines},
        kind=scenario.kind,
        address=scenario.address,
        payment_kind=scenario.payment_kind,
    )


@dataclass(frozen=True)
class CallReport:
    """What the workspace tells of a finished call."""

    started_at: dt.datetime
    duration_s: float
    keystrokes: int
    refusals: Sequence[Mapping[str, Any]] = field(default_factory=tuple)
    order_id: int | None = None
    assignment_id: int | None = None


def record_call(session: Session, trainee: User, report: CallReport) -> TrainingCall:
    """Record a trainee's call: the mistakes among its refusals (an order antifraud held is one too)
    and, for a scripted call, the differences from the expected order (the assignment is then done).

    403 for a user who is not a trainee; 422 for an order that is not this trainee's training order or
    an assignment that is not theirs or already played."""
    if not trainee.trainee:
        raise Forbidden("Only a trainee's calls are recorded.")
    errors = []
    order = session.get(Order, report.order_id) if report.order_id is not None else None
    if report.order_id is not None and (
        order is None or not order.training or order.created_by != trainee.id
    ):
        errors.append(field_error("order_id", "Not a training order you took.", "value_error"))
    given = (
        session.get(TrainingAssignment, report.assignment_id) if report.assignment_id is not None else None
    )
    if report.assignment_id is not None and (
        given is None or given.trainee_id != trainee.id or given.done_at is not None
    ):
        errors.append(field_error("assignment_id", "Not a scenario waiting for you.", "value_error"))
    if errors:
        raise InvalidInput("The call cannot be recorded.", errors=errors)
    mistakes = mistakes_of(report.refusals)
    if order is not None and order.status == OrderStatus.ON_HOLD:
        mistakes.append(Mistake("antifraud", "antifraud_hold", "The order was held by antifraud."))
    differences: list[dict[str, str]] = []
    now = utcnow()
    if given is not None:
        scenario = session.get(TrainingScenario, given.scenario_id)
        assert scenario is not None
        if order is None:
            taken: tuple[list[tuple[str, int]], str, str, str] = ([], "", "", "")
        else:
            taken = (
                [(ln.sku, ln.quantity) for ln in order.lines],
                order.kind,
                order.address_text,
                order.payment_kind,
            )
        differences = [d.to_dict() for d in compare(expected_of(scenario), *taken)]
        given.done_at = now
    call = TrainingCall(
        trainee_id=trainee.id,
        started_at=report.started_at,
        duration_s=round(report.duration_s, 1),
        keystrokes=report.keystrokes,
        order_id=order.id if order is not None else None,
        assignment_id=given.id if given is not None else None,
        mistakes=[m.to_dict() for m in mistakes],
        differences=differences,
        created_at=now,
    )
    session.add(call)
    session.flush()
    return call


@dataclass(frozen=True)
class CallRow:
    """One call on the trainer's page."""

    call: TrainingCall
    order_number: str | None
    scenario_title: str | None


@dataclass(frozen=True)
class TraineeReport:
    """A trainee with their latest calls and open assignments."""

    trainee: User
    calls: list[CallRow]
    waiting: list[str]


def trainees_report(session: Session) -> list[TraineeReport]:
    """Every trainee (active first, by name) with their latest calls and the scenarios waiting."""
    out = []
    for user in session.scalars(
        select(User).where(User.trainee.is_(True)).order_by(User.active.desc(), User.username)
    ):
        rows = session.execute(
            select(TrainingCall, Order.number, TrainingScenario.title)
            .outerjoin(Order, Order.id == TrainingCall.order_id)
            .outerjoin(TrainingAssignment, TrainingAssignment.id == TrainingCall.assignment_id)
            .outerjoin(TrainingScenario, TrainingScenario.id == TrainingAssignment.scenario_id)
            .where(TrainingCall.trainee_id == user.id)
            .order_by(TrainingCall.started_at.desc(), TrainingCall.id.desc())
            .limit(CALLS_SHOWN)
        ).all()
        waiting = list(
            session.scalars(
                select(TrainingScenario.title)
                .join(TrainingAssignment, TrainingAssignment.scenario_id == TrainingScenario.id)
                .where(TrainingAssignment.trainee_id == user.id, TrainingAssignment.done_at.is_(None))
                .order_by(TrainingAssignment.id)
            )
        )
        out.append(TraineeReport(user, [CallRow(c, n, t) for c, n, t in rows], waiting))
    return out


def operators_to_train(session: Session) -> list[User]:
    """Active operators who are not trainees (those a trainer may put in training mode)."""
    return list(
        session.scalars(
            select(User)
            .where(User.role == Role.OPERATOR, User.active.is_(True), User.trainee.is_(False))
            .order_by(User.username)
        )
    )


def put_in_training(session: Session, user_id: int, trainee: bool) -> User:
    """Put an operator in training mode or take them out (audited); 422 on ``user_id`` for a user who
    is not an operator (a trainer manages operators; an admin switches anyone on the staff page)."""
    user = session.get(User, user_id)
    if user is None or user.role != Role.OPERATOR:
        raise InvalidInput(
            f"User {user_id} is not an operator.",
            errors=[field_error("user_id", "Only an operator can be put in training mode here.")],
        )
    set_trainee(session, user_id, trainee)
    return user


def scenarios(session: Session) -> list[TrainingScenario]:
    """Every scenario, newest first."""
    return list(session.scalars(select(TrainingScenario).order_by(TrainingScenario.id.desc())))
