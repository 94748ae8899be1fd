"""Branch use cases: list, read, open, change, switch off (refused while it has open orders)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from frontoffice import audit
from frontoffice.errors import Conflict, FieldError, InvalidInput, NotFound, field_error
from frontoffice.phones import InvalidPhone, normalize_phone
from orders.branches import BranchFacts, branch_problems
from orders.hours import WeeklyHours
from orders.models import REAL_ORDER, Branch, Order
from orders.states import ACTIVE

#: How many open orders a refusal to switch a branch off names.
NAMED_OPEN_ORDERS = 5


@dataclass(frozen=True)
class BranchData(BranchFacts):
    """:class:`~orders.branches.BranchFacts` plus what only the service checks (phone, on/off)."""

    phone: str | None = None
    active: bool | None = None


def list_branches(
    session: Session, *, within: Collection[int] | None = None, active: bool | None = None
) -> list[Branch]:
    """The branches by code (only those ``within`` when given; on or off when ``active`` is given)."""
    query = select(Branch).order_by(Branch.code)
    if within is not None:
        query = query.where(Branch.id.in_(list(within)))
    if active is not None:
        query = query.where(Branch.active.is_(active))
    return list(session.scalars(query))


def get_branch(session: Session, branch_id: int, *, within: Collection[int] | None = None) -> Branch:
    """The branch, or :class:`NotFound` (also for one outside ``within``)."""
    branch = session.get(Branch, branch_id)
    if branch is None or (within is not None and branch.id not in within):
        raise NotFound(f"There is no branch {branch_id}.")
    return branch


def open_orders(session: Session, branch_id: int) -> tuple[int, list[str]]:
    """How many orders of the branch are not finished, and the numbers of the oldest few."""
    condition = (Order.branch_id == branch_id, Order.status.in_([s.value for s in ACTIVE]), REAL_ORDER)
    count = session.scalar(select(func.count()).select_from(Order).where(*condition)) or 0
    numbers = session.scalars(
        select(Order.number).where(*condition).order_by(Order.id).limit(NAMED_OPEN_ORDERS)
    )
    return count, list(numbers)


def open_order_counts(session: Session) -> dict[int, int]:
    """Open orders per branch id (branches without any are absent)."""
    rows = session.execute(
        select(Order.branch_id, func.count())
        .where(Order.status.in_([s.value for s in ACTIVE]), REAL_ORDER)
        .group_by(Order.branch_id)
    )
    return dict(rows.all())


def _checked(data: BranchData, region: str, *, creating: bool, what: str) -> WeeklyHours | None:
    """The parsed hours (None when not given), or a 422 with every problem of ``data``."""
    problems, hours = branch_problems(data, creating=creating)
    errors: list[FieldError] = [field_error(p.field, p.message, p.code, **p.params) for p in problems]
    if data.phone:
        try:
            normalize_phone(data.phone, region)
        except InvalidPhone as exc:
            errors.append(field_error("phone", str(exc), "invalid_phone"))
    if errors:
        raise InvalidInput(
            f"The branch cannot be {what}. " + " ".join(e["message"] for e in errors), errors=errors
        )
    return hours


def _code_taken(session: Session, code: str, current: Branch | None) -> None:
    other = session.scalar(select(Branch.id).where(func.upper(Branch.code) == code.upper()))
    if other is not None and (current is None or other != current.id):
        message = f"Another branch has the code {code}."
        raise Conflict(message, errors=[field_error("code", message, "code_taken", code=code)])


def _apply(branch: Branch, data: BranchData, region: str, hours: WeeklyHours | None) -> None:
    if data.code is not None:
        branch.code = data.code.strip().upper()
    if data.name is not None:
        branch.name = data.name.strip()
    if data.address is not None:
        branch.address = data.address.strip()
    if data.lat is not None and data.lon is not None:
        branch.lat, branch.lon = float(data.lat), float(data.lon)
    if data.timezone is not None:
        branch.timezone = data.timezone
    if hours is not None:
        branch.opening_hours = hours.to_json()
    if data.phone is not None:
        branch.phone = normalize_phone(data.phone, region) if data.phone.strip() else ""


def create_branch(
    session: Session, data: BranchData, *, region: str = "RU", timezone: str = "Europe/Moscow"
) -> Branch:
    """Open a branch: code, name and place are needed; every problem is reported at once (422), a
    code in use is a 409. Nothing is written when it is refused."""
    hours = _checked(data, region, creating=True, what="opened")
    _code_taken(session, (data.code or "").strip(), None)
    branch = Branch(code="", name="", lat=0.0, lon=0.0, timezone=timezone, opening_hours={})
    branch.active = True if data.active is None else data.active
    _apply(branch, data, region, hours)
    session.add(branch)
    session.flush()
    audit.record(session, audit.Action.CREATE, "branch", branch.id, None, audit.state(branch))
    return branch


def update_branch(session: Session, branch_id: int, data: BranchData, *, region: str = "RU") -> Branch:
    """Change a branch; switching it off is refused (409, naming the orders) while it has open orders."""
    branch = get_branch(session, branch_id)
    before = audit.state(branch)
    hours = _checked(data, region, creating=False, what="changed")
    if data.code is not None:
        _code_taken(session, data.code.strip(), branch)
    if data.active is False and branch.active:
        count, numbers = open_orders(session, branch.id)
        if count:
            listed = ", ".join(numbers) + (" …" if count > len(numbers) else "")
            message = (
                f"Branch {branch.code} has {count} open order(s) ({listed}): finish, cancel or move them "
                "before switching it off."
            )
            raise Conflict(
                message, errors=[field_error("active", message, "open_orders", count=count, orders=listed)]
            )
    _apply(branch, data, region, hours)
    if data.active is not None:
        branch.active = data.active
    session.flush()
    audit.record(session, audit.Action.UPDATE, "branch", branch.id, before, audit.state(branch))
    return branch
