"""The call-centre JSON API of changing a taken order: the edited order re-quoted and written over it."""

from __future__ import annotations

from callcentre import services
from callcentre.api.common import TAKE, bp, zone_index
from callcentre.schemas import EditOrderIn
from frontoffice.api import endpoint
from frontoffice.auth import branch_scope
from frontoffice.kernel import current_kernel
from frontoffice.models import Role, User
from orders.ports import PLACEMENT_POLICIES
from orders.schemas import OrderOut


@endpoint(
    bp,
    "/callcentre/orders/<int:order_id>",
    method="PATCH",
    roles=TAKE,
    body=EditOrderIn,
    response=OrderOut,
    summary="Change a taken order: lines, address, time, payment, comment",
    tags=["callcentre"],
    errors=(403, 404, 409),
    description="The fields sent replace the order's (`lines` is the whole new cart); the order is "
    "re-quoted as a new one would be — the address's zone sets the fee, minimum and promised time, "
    "the branch's stop-list refuses added items (lines the order already had stay), antifraud screens "
    "it again — then its lines and receipts are written again, `version` goes up by one and the "
    "change (who, when, every field before → after) joins the order's trail (`events`, kind `edited`). "
    "Lines the order already had keep their price. An operator may change an order until the kitchen "
    "starts (`new`, `on_hold`, `confirmed`); then only a manager, with a `reason`; a closed order "
    "(delivered, cancelled …) is a 409. `version` must be the order's current one: otherwise 409 "
    "with `current_version`, `changed_fields` and `changed` (the trail entries since). An emptied "
    "cart or one below the zone's minimum is a 422 on `lines`, an item added from the stop-list on "
    "`lines.N`, an address outside every zone (with `pickup_offer`) or delivered by another branch on "
    "`address`; nothing is written then.",
)
def edit_order(order_id: int, body: EditOrderIn, actor: User) -> OrderOut:
    """Change an order."""
    k = current_kernel()
    scope = branch_scope(actor)
    with k.db.unit_of_work() as s:
        order = services.edit_order(
            s,
            body.to_service(order_id),
            zones=zone_index(s),
            policies=k.extensions.all(PLACEMENT_POLICIES),
            actor_id=actor.id,
            manager=actor.has_role(Role.MANAGER),
            currency=k.settings.currency,
            scope=scope,
        )
        return OrderOut.of(order)
