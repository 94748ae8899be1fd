"""Placing an order, one pipeline for every entry point: prepare a draft (or take one its caller
resolved), let the placement policies settle it, write it."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from frontoffice.db import dialect_of, execute_fast, get_detached, insert_new, publish, upsert, utcnow
from frontoffice.errors import FieldError, InvalidInput, field_error
from frontoffice.models import User
from frontoffice.phones import InvalidPhone, normalize_phone
from nomenclature import distribution as dist
from nomenclature import services as catalogue
from orders.events import OrderPlaced
from orders.models import Branch, Order, OrderCharge, OrderCounter, OrderLine, OrderReceipt
from orders.ports import PlacementPolicy
from orders.pricing import MAX_LINES, PricedLine, Totals, order_totals
from orders.services.cart import (
    DEFAULT_LEAD,
    ORDER_KINDS,
    PAYMENT_KINDS,
    LineRequest,
    business_date,
    price_lines,
    valid_coordinates,
)
from orders.services.distribution import DeliveryAssignment, SplitOrder, split_order
from orders.services.revenue import add_revenue
from orders.states import OrderStatus


@dataclass(frozen=True)
class PlaceOrder:
    """Everything needed to take an order; prices come from the catalogue, never from here."""

    branch_id: int
    client_phone: str
    lines: Sequence[LineRequest]
    kind: str = "delivery"
    client_name: str = ""
    address_text: str = ""
    lat: float | None = None
    lon: float | None = None
    payment_kind: str = "cash"
    change_from: int | None = None
    comment: str = ""
    promised_at: dt.datetime | None = None
    # None: the fee the delivery zone sets, or 0 where none does; a value is refused where a zone differs.
    delivery_fee: int | None = None
    discount: int = 0


@dataclass
class OrderDraft:
    """An order being placed; placement policies may adjust it or refuse it."""

    command: PlaceOrder
    branch: Branch
    client_phone: str
    lines: list[PricedLine]
    delivery_fee: int
    discount: int
    promised_at: dt.datetime
    now: dt.datetime
    status: OrderStatus = OrderStatus.NEW
    hold_reason: str | None = None
    notes: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    # Sells the lines no distribution condition covers; None refuses such orders.
    default_organization_id: int | None = None
    # What policies write about the order once it has an id, in the order's own transaction.
    written_hooks: list[Callable[[Session, int], None]] = field(default_factory=list)
    # True once whoever built the draft resolved where it goes (zone and fee): location
    # policies then leave it alone instead of locating it again.
    located: bool = False
    # The compiled catalogue the lines were priced with; distribution reuses it.
    rules: catalogue.CatalogueRules | None = field(default=None, repr=False)
    # The order this draft changes (an edit re-quoted through the same pipeline); None: a new order.
    # Policies that store something per order replace what they stored for it then.
    order_id: int | None = None

    def on_written(self, hook: Callable[[Session, int], None]) -> None:
        """Run ``hook(session, order_id)`` right after the order is inserted, in the same transaction
        (a policy stores what it decided, e.g. the antifraud verdict, in its own table)."""
        self.written_hooks.append(hook)

    @property
    def items_total(self) -> int:
        """Sum of the lines in minor units."""
        return sum(line.total for line in self.lines)


class DefaultOrganization:
    """Placement policy: lines no condition covers go to the configured default organization."""

    def __init__(self, organization_id: int | None):
        self.organization_id = organization_id

    def __call__(self, session: Session, draft: OrderDraft) -> None:
        """Set the draft's default organization unless the caller already chose one."""
        if draft.default_organization_id is None:
            draft.default_organization_id = self.organization_id


def command_errors(cmd: PlaceOrder) -> list[FieldError]:
    """What is wrong with a command's own fields: kind, payment, address, change, number of lines."""
    errors: list[FieldError] = []
    if cmd.kind not in ORDER_KINDS:
        errors.append(field_error("kind", f"The kind must be one of {', '.join(ORDER_KINDS)}."))
    if cmd.payment_kind not in PAYMENT_KINDS:
        errors.append(field_error("payment.kind", f"The payment must be one of {', '.join(PAYMENT_KINDS)}."))
    if cmd.kind == "delivery":
        if not cmd.address_text.strip():
            errors.append(field_error("address.text", "A delivery order needs an address."))
        if (cmd.lat is None) != (cmd.lon is None) or (
            cmd.lat is not None and not valid_coordinates(cmd.lat, cmd.lon)
        ):
            errors.append(
                field_error(
                    "address", "Coordinates must be a finite lat in [-90, 90] and lon in [-180, 180]."
                )
            )
    if cmd.kind != "delivery" and cmd.delivery_fee:
        errors.append(field_error("delivery_fee", "Only a delivery has a delivery fee.", "read_only"))
    if cmd.change_from is not None and cmd.payment_kind != "cash":
        errors.append(field_error("payment.change_from", "Change is only for cash payments."))
    if not cmd.lines:
        errors.append(field_error("lines", "An order needs at least one line."))
    if len(cmd.lines) > MAX_LINES:
        errors.append(field_error("lines", f"An order can have at most {MAX_LINES} lines."))
    return errors


def promise_errors(promised_at: dt.datetime | None, now: dt.datetime) -> list[FieldError]:
    """What is wrong with a promised time (none is fine: the default lead applies)."""
    if promised_at is None:
        return []
    if promised_at.tzinfo is None:
        return [field_error("promised_at", "The promised time needs a time zone offset.")]
    if promised_at < now - dt.timedelta(minutes=1):
        return [field_error("promised_at", "The promised time is in the past.")]
    if promised_at > now + dt.timedelta(days=30):
        return [field_error("promised_at", "The promised time is more than 30 days ahead.")]
    return []


def _branch_error(branch: Branch | None, branch_id: int) -> list[FieldError]:
    if branch is None or not branch.active:
        return [field_error("branch_id", f"Unknown or closed branch {branch_id}.")]
    return []


def _refuse_if(errors: Sequence[FieldError]) -> None:
    if errors:
        raise InvalidInput(
            "The order cannot be taken: " + "; ".join(e["message"] for e in errors), errors=list(errors)
        )


@functools.cache
def _next_number_statement(dialect: str) -> Any:
    """The counter upsert, built once per dialect (it runs for every order taken)."""
    table = OrderCounter.__table__
    return upsert(
        dialect,
        table,
        {
            "branch_id": bindparam("counter_branch"),
            "business_date": bindparam("counter_day"),
            "last_seq": 1,
        },
        ["branch_id", "business_date"],
        update={"last_seq": lambda st: table.c.last_seq + 1},
    ).returning(table.c.last_seq)


def next_number(session: Session, branch: Branch, day: dt.date) -> tuple[int, str]:
    """Take the next order number of a branch's business day, atomically."""
    stmt = _next_number_statement(dialect_of(session))
    seq = execute_fast(session, stmt, {"counter_branch": branch.id, "counter_day": day}).scalar_one()
    return seq, f"{branch.code}-{seq:03d}"


def prepare_draft(
    session: Session,
    cmd: PlaceOrder,
    *,
    region: str = "RU",
    now: dt.datetime | None = None,
    default_organization_id: int | None = None,
) -> OrderDraft:
    """Validate a command, normalise its phone and price its lines from the catalogue: the draft the
    placement policies then adjust.

    Raises :class:`InvalidInput` listing every problem at once.
    """
    now = now or utcnow()
    branch = get_detached(session, Branch, cmd.branch_id)
    errors = _branch_error(branch, cmd.branch_id)
    phone = ""
    try:
        phone = normalize_phone(cmd.client_phone, region)
    except InvalidPhone as exc:
        errors.append(field_error("client.phone", str(exc)))
    errors += command_errors(cmd)
    compiled = catalogue.rules(session)
    lines, line_errors = (
        price_lines(session, cmd.lines, branch.id if branch is not None else None, compiled)
        if 0 < len(cmd.lines) <= MAX_LINES
        else ([], [])
    )
    errors += line_errors
    errors += promise_errors(cmd.promised_at, now)
    _refuse_if(errors)
    assert branch is not None
    return _draft(cmd, branch, phone, lines, now, default_organization_id, compiled)


def resolved_draft(
    cmd: PlaceOrder,
    *,
    branch: Branch,
    client_phone: str,
    lines: Sequence[PricedLine],
    now: dt.datetime,
    rules: catalogue.CatalogueRules | None = None,
    default_organization_id: int | None = None,
) -> OrderDraft:
    """The draft of an order whose caller already resolved it: the branch, the E.164 phone, the lines
    priced from the catalogue (``rules``: the compiled catalogue they were priced with).

    Only the command's own fields are checked; nothing is looked up, normalised or priced again.
    Raises :class:`InvalidInput` listing every problem at once.
    """
    _refuse_if(
        _branch_error(branch, cmd.branch_id) + command_errors(cmd) + promise_errors(cmd.promised_at, now)
    )
    return _draft(cmd, branch, client_phone, list(lines), now, default_organization_id, rules)


def _draft(
    cmd: PlaceOrder,
    branch: Branch,
    phone: str,
    lines: list[PricedLine],
    now: dt.datetime,
    default_organization_id: int | None,
    rules: catalogue.CatalogueRules | None,
) -> OrderDraft:
    return OrderDraft(
        command=cmd,
        branch=branch,
        client_phone=phone,
        lines=lines,
        delivery_fee=(cmd.delivery_fee or 0) if cmd.kind == "delivery" else 0,
        discount=cmd.discount,
        promised_at=cmd.promised_at or now + DEFAULT_LEAD.get(cmd.kind, DEFAULT_LEAD["delivery"]),
        now=now,
        default_organization_id=default_organization_id,
        rules=rules,
    )


def apply_policies(session: Session, draft: OrderDraft, policies: Sequence[PlacementPolicy]) -> None:
    """Run the placement policies on a draft, in their order; one may refuse the order by raising."""
    for policy in policies:
        policy(session, draft)


def place_order(
    session: Session,
    cmd: PlaceOrder,
    *,
    actor_id: int | None = None,
    policies: Sequence[PlacementPolicy] = (),
    region: str = "RU",
    now: dt.datetime | None = None,
    default_organization_id: int | None = None,
    training: bool | None = None,
) -> Order:
    """Place an order from a command: prepare the draft, apply the policies, write it
    (``training``: whether the actor is a trainee, when the caller knows; else it is read).

    Raises :class:`InvalidInput` listing every problem at once; writes nothing then.
    """
    draft = settle_draft(
        session,
        cmd,
        policies=policies,
        region=region,
        now=now,
        default_organization_id=default_organization_id,
    )
    return write_draft(session, draft, actor_id=actor_id, training=training)


def settle_draft(
    session: Session,
    cmd: PlaceOrder,
    *,
    policies: Sequence[PlacementPolicy] = (),
    region: str = "RU",
    now: dt.datetime | None = None,
    default_organization_id: int | None = None,
) -> OrderDraft:
    """The reading half of :func:`place_order`: the draft prepared and settled by the policies,
    nothing written (the policies' own rows wait in ``draft.written_hooks``).

    It may run in a read session and :func:`write_draft` in a write transaction after it, as the
    order API does: on SQLite the writer's lock is then held only while the order is written, not
    while it is priced, located and screened. What it read may be a few milliseconds older than the
    write — as every statement of a PostgreSQL transaction at READ COMMITTED already sees it — and
    what must be atomic stays in the write: the number, the revenue and the distribution it limits.
    """
    draft = prepare_draft(
        session, cmd, region=region, now=now, default_organization_id=default_organization_id
    )
    apply_policies(session, draft, policies)
    return draft


def charge_values(delivery: DeliveryAssignment) -> dict[str, Any]:
    """The stored delivery position of an order, as column values: what its receipt prints, who
    sells it and why."""
    sale = delivery.sale
    return {
        "kind": "delivery",
        "item_id": delivery.item_id,
        "sku": delivery.sku,
        "name": sale.name,
        "amount": sale.fee,
        "vat_rate": sale.vat_rate.value,
        "vat": delivery.vat,
        "organization_id": sale.organization_id,
        "tax_system": sale.tax_system.value,
        "condition_id": delivery.assignment.condition_id,
    }


def charge_of(delivery: DeliveryAssignment) -> OrderCharge:
    """The stored delivery position of an order (see :func:`charge_values`)."""
    return OrderCharge(**charge_values(delivery))


def draft_totals(draft: OrderDraft) -> Totals:
    """The money of a settled draft; :class:`InvalidInput` when it does not add up or the cash
    note is smaller than the total."""
    try:
        totals = order_totals(draft.lines, draft.discount, draft.delivery_fee)
    except ValueError as exc:
        raise InvalidInput(f"The order cannot be taken: {exc}.") from None
    change_from = draft.command.change_from
    if change_from is not None and change_from < totals.total:
        raise InvalidInput(
            "Change from an amount smaller than the order total makes no sense.",
            errors=[field_error("payment.change_from", "Smaller than the order total.")],
        )
    return totals


def line_values(lines: Sequence[PricedLine], split: SplitOrder) -> list[dict[str, Any]]:
    """The stored lines of an order, as column values: each priced line with who sells it and its share."""
    return [
        {
            "position": i,
            "item_id": ln.item_id,
            "sku": ln.sku,
            "name": ln.name,
            "quantity": ln.quantity,
            "unit_price": ln.unit_price,
            "total": ln.total,
            "vat_rate": la.assignment.vat_rate.value,
            "comment": ln.comment,
            "modifiers": [dict(m) for m in ln.modifiers],
            "organization_id": la.assignment.organization_id,
            "tax_system": la.assignment.tax_system.value,
            "condition_id": la.assignment.condition_id,
            "discount_share": la.share.discount,
            "amount": la.share.amount,
            "vat": la.share.vat,
        }
        for i, (ln, la) in enumerate(zip(lines, split.lines, strict=True))
    ]


def line_rows(lines: Sequence[PricedLine], split: SplitOrder) -> list[OrderLine]:
    """The stored lines of an order (see :func:`line_values`)."""
    return [OrderLine(**values) for values in line_values(lines, split)]


def receipt_values(split: SplitOrder, day: dt.date) -> list[dict[str, Any]]:
    """The stored receipts of an order split on business day ``day``, as column values."""
    return [
        {
            "position": n,
            "organization_id": r.organization_id,
            "tax_system": r.tax_system.value,
            "organization_name": split.organizations[r.organization_id].name,
            "inn": split.organizations[r.organization_id].inn,
            "kpp": split.organizations[r.organization_id].kpp,
            "business_date": day,
            "total": r.total,
            "vat": r.vat,
        }
        for n, r in enumerate(split.receipts)
    ]


def receipt_rows(split: SplitOrder, day: dt.date) -> list[OrderReceipt]:
    """The stored receipts of an order split on business day ``day`` (see :func:`receipt_values`)."""
    return [OrderReceipt(**values) for values in receipt_values(split, day)]


def sold_by_organization(split: SplitOrder) -> dict[int, int]:
    """What each organization sells in a split order (its receipts' totals, minor units)."""
    sold: dict[int, int] = {}
    for r in split.receipts:
        sold[r.organization_id] = sold.get(r.organization_id, 0) + r.total
    return sold


def taken_in_training(session: Session, actor_id: int | None, known: bool | None = None) -> bool:
    """True when the user taking an order is a trainee: the order is then a training order.

    ``known``: what the caller already knows of the actor (the request's user), so no read is made."""
    if known is not None:
        return known
    if actor_id is None:
        return False
    return bool(session.scalar(select(User.trainee).where(User.id == actor_id)))


def write_draft(
    session: Session, draft: OrderDraft, *, actor_id: int | None = None, training: bool | None = None
) -> Order:
    """Write a draft the policies have settled: totals, each line assigned to an organization and
    the order split into receipts, a number, the rows, the policies' hooks, the revenue, ``OrderPlaced``.

    An order a trainee takes is a training order (``Order.training``): numbered ``T-…``, counted in
    no revenue, no policy hook run, its events heard only by subscribers that opted in to training
    events.

    Raises :class:`InvalidInput` (nothing written) when the totals or the distribution refuse it.
    """
    cmd, branch, now, phone = draft.command, draft.branch, draft.now, draft.client_phone
    totals = draft_totals(draft)

    day = business_date(now, branch.timezone)
    split = split_order(
        session,
        draft.lines,
        dist.SaleContext(day, branch.id, cmd.kind, cmd.payment_kind),
        discount=totals.discount,
        delivery_fee=totals.delivery_fee,
        default_organization_id=draft.default_organization_id,
        compiled=draft.rules,
    )
    training = taken_in_training(session, actor_id, training)
    seq, number = next_number(session, branch, day)
    if training:
        number = f"T-{number}"
    order = insert_new(
        session,
        Order,
        {
            "number": number,
            "seq": seq,
            "business_date": day,
            "branch_id": branch.id,
            "kind": cmd.kind,
            "status": draft.status,
            "client_phone": phone,
            "client_name": cmd.client_name.strip(),
            "address_text": cmd.address_text.strip(),
            "lat": cmd.lat,
            "lon": cmd.lon,
            "payment_kind": cmd.payment_kind,
            "change_from": cmd.change_from,
            "comment": cmd.comment.strip(),
            "promised_at": draft.promised_at,
            "items_total": totals.items,
            "discount_total": totals.discount,
            "delivery_fee": totals.delivery_fee,
            "total": totals.total,
            "created_by": actor_id,
            "created_at": now,
            "status_changed_at": now,
            "training": training,
        },
        {
            "lines": line_values(draft.lines, split),
            "charges": [charge_values(split.delivery)] if split.delivery is not None else [],
            "receipts": receipt_values(split, day),
            "events": [
                {
                    "at": now,
                    "actor_id": actor_id,
                    "kind": "created",
                    "to_status": draft.status,
                    "reason": draft.hold_reason,
                    "payload": {"notes": draft.notes, **draft.extra},
                }
            ],
        },
    )
    # What policies keep of an order in their own tables (antifraud's address index and verdict)
    # would let a trainee's practice weigh on real callers: a training order leaves none.
    for hook in () if training else draft.written_hooks:
        hook(session, order.id)
    if not training:
        add_revenue(session, day.year, sold_by_organization(split))
    publish(
        session,
        OrderPlaced(
            order_id=order.id,
            branch_id=branch.id,
            number=number,
            status=order.status,
            kind=order.kind,
            total=order.total,
            client_phone=phone,
            client_name=order.client_name,
            payment_kind=order.payment_kind,
            created_at=now,
            promised_at=order.promised_at,
            lat=order.lat,
            lon=order.lon,
            actor_id=actor_id,
            training=training,
        ),
    )
    return order
