"""The order JSON API, ``/api/v1/orders``."""

from __future__ import annotations

from flask import Blueprint, current_app

from frontoffice.api import endpoint
from frontoffice.errors import InvalidInput
from frontoffice.models import Role, User
from frontoffice.money import to_minor
from frontoffice.phones import InvalidPhone, normalize_phone
from orders import services
from orders.schemas import CancelIn, OrderCreate, OrderOut, OrderPage, OrderQuery, StatusChange

bp = Blueprint("orders_api", __name__, url_prefix="/api/v1/orders")

TAKE = {Role.OPERATOR, Role.MANAGER}
READ = {Role.OPERATOR, Role.MANAGER, Role.BACKOFFICE}
MOVE = {Role.OPERATOR, Role.MANAGER}


def _kernel():
    return current_app.extensions["frontoffice"]


def command_from(body: OrderCreate) -> services.PlaceOrder:
    """The service command of an API request."""
    address = body.address
    return services.PlaceOrder(
        branch_id=body.branch_id,
        kind=body.kind,
        client_phone=body.client.phone,
        client_name=body.client.name,
        address_text=address.text if address else "",
        lat=address.lat if address else None,
        lon=address.lon if address else None,
        payment_kind=body.payment.kind,
        change_from=to_minor(body.payment.change_from) if body.payment.change_from is not None else None,
        comment=body.comment,
        promised_at=body.promised_at,
        delivery_fee=to_minor(body.delivery_fee),
        discount=to_minor(body.discount),
        lines=[
            services.LineRequest(quantity=ln.quantity, sku=ln.sku, item_id=ln.item_id, comment=ln.comment)
            for ln in body.lines
        ],
    )


@endpoint(
    bp,
    "",
    method="POST",
    roles=TAKE,
    body=OrderCreate,
    response=OrderOut,
    status=201,
    summary="Take an order",
    tags=["orders"],
    errors=(404,),
)
def create_order(body: OrderCreate, actor: User) -> OrderOut:
    """Place an order; lines are priced from the catalogue."""
    k = _kernel()
    with k.db.unit_of_work() as s:
        order = services.place_order(
            s,
            command_from(body),
            actor_id=actor.id,
            policies=k.placement_policies,
            region=k.settings.phone_region,
        )
        return OrderOut.of(order)


@endpoint(
    bp,
    "/<int:order_id>",
    roles=READ,
    response=OrderOut,
    summary="One order with its lines and audit trail",
    tags=["orders"],
    errors=(404,),
)
def get_order(order_id: int) -> OrderOut:
    """Read one order."""
    with _kernel().db.reading() as s:
        return OrderOut.of(services.get_order(s, order_id))


@endpoint(
    bp,
    "",
    roles=READ,
    query=OrderQuery,
    response=OrderPage,
    summary="List orders, newest first",
    tags=["orders"],
)
def list_orders(query: OrderQuery) -> OrderPage:
    """Filter by status, branch, business date, phone; paginated."""
    k = _kernel()
    phone = None
    if query.phone:
        try:
            phone = normalize_phone(query.phone, k.settings.phone_region)
        except InvalidPhone as exc:
            raise InvalidInput(
                str(exc), errors=[{"field": "query.phone", "message": str(exc), "type": "value_error"}]
            ) from None
    statuses = query.status if isinstance(query.status, list) else [query.status] if query.status else []
    flt = services.OrderFilter(
        status=[s.value for s in statuses],
        branch_id=query.branch_id,
        business_date=query.date,
        phone=phone,
        page=query.page,
        per_page=query.per_page,
    )
    with k.db.reading() as s:
        rows, total = services.list_orders(s, flt)
        return OrderPage(
            items=[OrderOut.of(o, with_events=False) for o in rows],
            total=total,
            page=query.page,
            per_page=query.per_page,
        )


@endpoint(
    bp,
    "/<int:order_id>/status",
    method="POST",
    roles=MOVE,
    body=StatusChange,
    response=OrderOut,
    summary="Move an order to another state",
    tags=["orders"],
    errors=(404, 409),
    description="An illegal transition answers 409 with `allowed`, the states reachable from the current one.",
)
def change_status(order_id: int, body: StatusChange, actor: User) -> OrderOut:
    """Apply one transition of the state machine."""
    with _kernel().db.unit_of_work() as s:
        order = services.change_status(
            s,
            order_id,
            body.status,
            actor_id=actor.id,
            reason=body.reason,
            expected_version=body.expected_version,
        )
        return OrderOut.of(order)


@endpoint(
    bp,
    "/<int:order_id>/cancel",
    method="POST",
    roles=MOVE,
    body=CancelIn,
    response=OrderOut,
    summary="Cancel an order (before it leaves with a courier)",
    tags=["orders"],
    errors=(404, 409),
)
def cancel_order(order_id: int, body: CancelIn, actor: User) -> OrderOut:
    """Cancel with a reason."""
    with _kernel().db.unit_of_work() as s:
        return OrderOut.of(services.cancel(s, order_id, body.reason, actor_id=actor.id))
