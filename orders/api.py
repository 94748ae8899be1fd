"""The order JSON API, ``/api/v1/orders``."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from flask import Blueprint
from sqlalchemy import select

from frontoffice.api import endpoint
from frontoffice.auth import branch_scope, in_scope
from frontoffice.db import utcnow
from frontoffice.errors import InvalidInput, field_error
from frontoffice.kernel import current_kernel
from frontoffice.models import Role, User
from frontoffice.money import from_minor, to_minor
from frontoffice.phones import InvalidPhone, normalize_phone
from nomenclature import services as catalogue
from nomenclature.distribution import SaleContext
from nomenclature.models import Item
from nomenclature.schemas import ExplainOut
from orders import services
from orders.ports import PLACEMENT_POLICIES
from orders.schemas import (
    BacktestIn,
    BacktestOut,
    CancelIn,
    DeliveryOut,
    ModifierOut,
    OrderCreate,
    OrderExplainOut,
    OrderOut,
    OrderPage,
    OrderQuery,
    OrderReceiptsOut,
    PreviewLineOut,
    ReceiptsPreviewIn,
    ReceiptsPreviewOut,
    RecordedLineOut,
    StatusChange,
)

bp = Blueprint("orders_api", __name__, url_prefix="/api/v1/orders")
receipts_bp = Blueprint("receipts_api", __name__, url_prefix="/api/v1/receipts")
backtest_bp = Blueprint("backtest_api", __name__, url_prefix="/api/v1/distribution")

TAKE = {Role.OPERATOR, Role.MANAGER}
READ = {Role.OPERATOR, Role.MANAGER, Role.BACKOFFICE}
MOVE = {Role.OPERATOR, Role.MANAGER}


#: Who trains: sees trainees' orders by id (the order list never shows them but to their trainee).
training_view = services.training_view


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
        delivery_fee=to_minor(body.delivery_fee) if body.delivery_fee is not None else None,
        discount=to_minor(body.discount),
        lines=[
            services.LineRequest(
                quantity=ln.quantity,
                sku=ln.sku,
                item_id=ln.item_id,
                comment=ln.comment,
                modifiers=tuple(ln.modifiers),
            )
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
    k = current_kernel()
    if not in_scope(branch_scope(actor), body.branch_id):
        message = f"You do not work for branch {body.branch_id}."
        raise InvalidInput(message, errors=[field_error("branch_id", message, "branch_out_of_scope")])
    # Priced, located and screened in a read session; only the write holds SQLite's writer's lock.
    with k.db.reading() as r:
        draft = services.settle_draft(
            r,
            command_from(body),
            policies=k.extensions.all(PLACEMENT_POLICIES),
            region=k.settings.phone_region,
        )
    # Written in a transaction it may share with other orders taken at the same moment (group
    # commit): one commit, and on SQLite one turn of the writer's lock, for all of them.
    return k.db.grouped(
        lambda s: OrderOut.of(services.write_draft(s, draft, actor_id=actor.id, training=actor.trainee))
    )


@endpoint(
    bp,
    "/<int:order_id>",
    roles=READ,
    response=OrderOut,
    summary="One order with its lines and audit trail",
    tags=["orders"],
    errors=(404,),
)
def get_order(order_id: int, actor: User) -> OrderOut:
    """Read one order (404 for an order of a branch you do not work for)."""
    scope = branch_scope(actor)
    with current_kernel().db.reading() as s:
        return OrderOut.of(services.get_order(s, order_id, within=scope, training=training_view(actor)))


@endpoint(
    bp,
    "",
    roles=READ,
    query=OrderQuery,
    response=OrderPage,
    summary="List orders, newest first",
    tags=["orders"],
    description="Only orders of the branches you work for (admins and staff linked to no branch: every "
    "branch). Never training orders, except to a trainee, who sees only the training orders they took.",
)
def list_orders(query: OrderQuery, actor: User) -> OrderPage:
    """Filter by status, branch, business date, phone; paginated; within the caller's branches."""
    k = current_kernel()
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
        branch_ids=branch_scope(actor),
        business_date=query.date,
        phone=phone,
        trainee_id=actor.id if actor.trainee else None,
        page=query.page,
        per_page=query.per_page,
    )
    with k.db.reading() as s:
        rows, total = services.list_orders(s, flt)
        trails = services.edit_trails(s, [o.id for o in rows])
        return OrderPage(
            items=[OrderOut.of(o, with_events=False, edits=trails.get(o.id, [])) for o in rows],
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
    with current_kernel().db.unit_of_work() as s:
        order = services.change_status(
            s,
            order_id,
            body.status,
            actor_id=actor.id,
            reason=body.reason,
            expected_version=body.expected_version,
            within=branch_scope(actor),
            training=training_view(actor),
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
    with current_kernel().db.unit_of_work() as s:
        return OrderOut.of(
            services.cancel(
                s,
                order_id,
                body.reason,
                actor_id=actor.id,
                within=branch_scope(actor),
                training=training_view(actor),
            )
        )


@endpoint(
    bp,
    "/<int:order_id>/receipts",
    roles=READ,
    response=OrderReceiptsOut,
    summary="The receipts of an order, one per organization and tax system",
    tags=["orders", "receipts"],
    errors=(404, 409),
    description="FFD-1.2-like JSON (tags 1054, 1055, 1018, 1048, 1020, 1031, 1081 and per position 1030, "
    "1079, 1023, 1043, 1199, 1200, 1212, 1214). Food positions cost the menu price less their share of "
    "the discount; the delivery fee is a service position of its own (1212 = 4, `line` null) on the "
    "receipt of the organization that sells the delivery. The receipts add up to the order total to the "
    "kopeck.",
)
def get_receipts(order_id: int, actor: User) -> OrderReceiptsOut:
    """Read the receipts recorded when the order was taken."""
    scope = branch_scope(actor)
    with current_kernel().db.reading() as s:
        services.get_order(s, order_id, within=scope, training=training_view(actor))
        order, docs = services.order_receipts(s, order_id)
        return OrderReceiptsOut.model_validate(
            {"order_id": order.id, "number": order.number, "total": from_minor(order.total), "receipts": docs}
        )


@endpoint(
    bp,
    "/<int:order_id>/explain",
    roles={Role.MANAGER},
    response=OrderExplainOut,
    summary="Explain who sells each line of an order",
    tags=["orders", "distribution"],
    errors=(404,),
    description="The lines as recorded, and how today's conditions decide them in the order's context "
    "(its branch, kind, payment and business day).",
)
def explain_order(order_id: int, actor: User) -> OrderExplainOut:
    """Recorded decisions next to the explanation under the current conditions."""
    k = current_kernel()
    scope = branch_scope(actor)
    with k.db.reading() as s:
        order = services.get_order(s, order_id, within=scope)
        # The delivery, when the order has one, is explained after the lines, like one more line.
        sold = [*order.lines, *order.charges]
        items = {i.id: i for i in s.scalars(select(Item).where(Item.id.in_({p.item_id for p in sold})))}
        ctx = SaleContext(order.business_date, order.branch_id, order.kind, order.payment_kind)
        dist = catalogue.distributor(s)
        limited = [o.id for o in dist.organizations.values() if o.annual_revenue_limit is not None]
        lines = catalogue.explain_lines(
            s,
            [items[p.item_id] for p in sold],
            ctx,
            revenue=services.revenue_this_year(s, limited, order.business_date),
            default_organization_id=k.settings.default_organization_id,
        )
        return OrderExplainOut(
            order_id=order.id,
            number=order.number,
            recorded=[
                RecordedLineOut(
                    position=n,
                    sku=p.sku,
                    organization_id=p.organization_id,
                    tax_system=p.tax_system,
                    vat_rate=p.vat_rate,
                    condition_id=p.condition_id,
                )
                for n, p in enumerate(sold)
            ],
            explanation=ExplainOut.model_validate(
                {
                    "on": order.business_date,
                    "branch_id": order.branch_id,
                    "kind": order.kind,
                    "payment_kind": order.payment_kind,
                    "lines": lines,
                }
            ),
        )


@endpoint(
    receipts_bp,
    "/preview",
    method="POST",
    roles=TAKE,
    body=ReceiptsPreviewIn,
    response=ReceiptsPreviewOut,
    summary="Split a cart into receipts before taking the order",
    tags=["receipts"],
    idempotent=False,
    description="Prices the lines with their modifiers, honours the branch's stop-list and the "
    "distribution conditions, and answers the receipts the order would get, the delivery fee as a "
    "position of its own. 422 names an item (or the delivery) no condition covers, or whose seller "
    "cannot charge its VAT rate. Writes nothing.",
)
def preview_receipts(body: ReceiptsPreviewIn) -> ReceiptsPreviewOut:
    """What the receipts of this cart would be if it were ordered now."""
    k = current_kernel()
    cmd = services.PreviewReceipts(
        branch_id=body.branch_id,
        kind=body.kind,
        payment_kind=body.payment_kind,
        delivery_fee=to_minor(body.delivery_fee),
        discount=to_minor(body.discount),
        lines=[
            services.LineRequest(
                quantity=ln.quantity, sku=ln.sku, item_id=ln.item_id, modifiers=tuple(ln.modifiers)
            )
            for ln in body.lines
        ],
    )
    with k.db.reading() as s:
        total, split, priced = services.preview_receipts(
            s, cmd, default_organization_id=k.settings.default_organization_id
        )
        docs = services.receipt_documents(split, body.payment_kind)
    return ReceiptsPreviewOut(
        total=from_minor(total),
        receipts=docs,
        lines=[
            PreviewLineOut(
                position=n,
                item_id=ln.item_id,
                sku=ln.sku,
                name=ln.name,
                quantity=ln.quantity,
                unit_price=from_minor(ln.unit_price),
                total=from_minor(ln.total),
                modifiers=[
                    ModifierOut(**{**m, "price_delta": from_minor(m["price_delta"])}) for m in ln.modifiers
                ],
                organization_id=la.assignment.organization_id,
                organization=split.organizations[la.assignment.organization_id].name,
                tax_system=la.assignment.tax_system.value,
                vat_rate=la.assignment.vat_rate.value,
                condition_id=la.assignment.condition_id,
                discount_share=from_minor(la.share.discount),
                amount=from_minor(la.share.amount),
                vat=from_minor(la.share.vat),
            )
            for n, (ln, la) in enumerate(zip(priced, split.lines, strict=True))
        ],
        # As the order would store it.
        delivery=DeliveryOut.of(services.charge_of(split.delivery)) if split.delivery is not None else None,
    )


def business_today() -> dt.date:
    """The business day now in the configured time zone."""
    return dt.datetime.now(ZoneInfo(current_kernel().settings.timezone)).date()


def run_backtest(s, body: BacktestIn) -> BacktestOut:
    """Validate a proposal and replay the window inside an open session (API and admin page)."""
    k = current_kernel()
    errors = []
    proposed = []
    now = utcnow()
    for n, c in enumerate(body.conditions):
        values = c.model_dump()
        for e in catalogue.condition_problems(s, values):
            errors.append({**e, "field": f"conditions.{n}.{e['field']}"})
        proposed.append(values)
    if errors:
        raise InvalidInput(
            "The proposed conditions have problems: " + "; ".join(e["message"] for e in errors) + ".",
            errors=errors,
        )
    conditions = [
        catalogue.proposed_condition(-(n + 1), values, now + dt.timedelta(microseconds=n))
        for n, values in enumerate(proposed)
    ]
    end = business_today()
    start = end - dt.timedelta(days=body.days - 1)
    result = services.backtest(
        s,
        conditions,
        start=start,
        end=end,
        replace=body.mode == "replace",
        default_organization_id=k.settings.default_organization_id,
    )
    names = catalogue.organization_names(s)
    items = {i.id: i for i in s.scalars(select(Item).where(Item.id.in_(result.uncovered)))}
    orgs = sorted(set(result.before) | set(result.after), key=lambda o: names.get(o, ""))
    return BacktestOut(
        start=result.start,
        end=result.end,
        orders=result.orders,
        lines=result.lines,
        moved_lines=result.moved_lines,
        moved_amount=from_minor(result.moved_amount),
        organizations=[
            {
                "organization_id": o,
                "name": names.get(o, str(o)),
                "before": from_minor(result.before.get(o, 0)),
                "after": from_minor(result.after.get(o, 0)),
                "delta": from_minor(result.after.get(o, 0) - result.before.get(o, 0)),
            }
            for o in orgs
        ],
        uncovered=[
            {
                "item_id": item_id,
                "sku": items[item_id].sku if item_id in items else "",
                "name": items[item_id].name if item_id in items else str(item_id),
                "lines": n,
                "amount": from_minor(amount),
            }
            for item_id, (n, amount) in sorted(result.uncovered.items())
        ],
    )


def backtest_for_page(s, data: dict) -> BacktestOut:
    """The backtest for the nomenclature admin page, from plain form data (raises
    ``pydantic.ValidationError`` or a domain error on bad input)."""
    return run_backtest(s, BacktestIn.model_validate(data))


@endpoint(
    backtest_bp,
    "/backtest",
    method="POST",
    roles={Role.MANAGER},
    body=BacktestIn,
    response=BacktestOut,
    summary="Backtest proposed conditions on recent orders",
    tags=["distribution"],
    idempotent=False,
    description="Replays the sold lines of the last `days` business days under the proposal (added to "
    "or replacing the current conditions) and answers revenue per organization before and after. "
    "Writes nothing.",
)
def backtest(body: BacktestIn) -> BacktestOut:
    """Revenue per organization, recorded and under the proposal."""
    with current_kernel().db.reading() as s:
        return run_backtest(s, body)
