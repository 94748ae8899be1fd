"""The branch JSON API, ``/api/v1/branches``: staff read the branches they work for, admins open
and change them."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from pydantic import BaseModel

from frontoffice.api import endpoint
from frontoffice.auth import branch_scope
from frontoffice.kernel import current_kernel
from frontoffice.models import Role
from orders import services
from orders.schemas import BranchIn, BranchList, BranchOut, BranchPatch, BranchQuery

bp = Blueprint("branches_api", __name__, url_prefix="/api/v1/branches")

READ = {Role.OPERATOR, Role.MANAGER, Role.BACKOFFICE}
ADMIN = {Role.ADMIN}
TAGS = ["branches"]


def branch_data(body: BaseModel, *, partial: bool) -> services.BranchData:
    """The service's data of a request: on a PATCH only the fields sent."""
    sent = body.model_fields_set if partial else set(type(body).model_fields)
    values: dict[str, Any] = {name: getattr(body, name) for name in sent}
    if values.get("opening_hours") is not None:
        values["opening_hours"] = {
            day: [i.model_dump() for i in intervals] for day, intervals in values["opening_hours"].items()
        }
    return services.BranchData(**values)


@endpoint(
    bp,
    "",
    roles=READ,
    query=BranchQuery,
    response=BranchList,
    summary="The branches you work for (admins: every branch), by code",
    tags=TAGS,
)
def list_branches(query: BranchQuery) -> BranchList:
    """The branch list."""
    scope = branch_scope()
    with current_kernel().db.reading() as s:
        rows = services.list_branches(s, within=scope, active=query.active)
        return BranchList(items=[BranchOut.of(b) for b in rows])


@endpoint(
    bp,
    "",
    method="POST",
    roles=ADMIN,
    body=BranchIn,
    response=BranchOut,
    status=201,
    summary="Open a branch: code, name, place, time zone, opening hours",
    tags=TAGS,
    errors=(409,),
    description="Every problem is answered at once (422 naming each field: coordinates, a time zone "
    "unknown to IANA, an interval that closes before it opens without `next_day`, intervals that "
    "overlap); a code in use is a 409. Nothing is written then.",
)
def create_branch(body: BranchIn) -> BranchOut:
    """Open a branch."""
    k = current_kernel()
    with k.db.unit_of_work() as s:
        branch = services.create_branch(
            s, branch_data(body, partial=False), region=k.settings.phone_region, timezone=k.settings.timezone
        )
        return BranchOut.of(branch)


@endpoint(
    bp,
    "/<int:branch_id>",
    roles=READ,
    response=BranchOut,
    summary="One branch",
    tags=TAGS,
    errors=(404,),
)
def get_branch(branch_id: int) -> BranchOut:
    """Read one branch (404 for a branch you do not work for)."""
    scope = branch_scope()
    with current_kernel().db.reading() as s:
        return BranchOut.of(services.get_branch(s, branch_id, within=scope))


@endpoint(
    bp,
    "/<int:branch_id>",
    method="PATCH",
    roles=ADMIN,
    body=BranchPatch,
    response=BranchOut,
    summary="Change a branch, or switch it off",
    tags=TAGS,
    errors=(404, 409),
    description="`active: false` is refused (409, naming the orders) while the branch has orders "
    "that are not finished. Problems of the fields are answered as on POST.",
)
def patch_branch(branch_id: int, body: BranchPatch) -> BranchOut:
    """Change a branch."""
    k = current_kernel()
    with k.db.unit_of_work() as s:
        branch = services.update_branch(
            s, branch_id, branch_data(body, partial=True), region=k.settings.phone_region
        )
        return BranchOut.of(branch)
