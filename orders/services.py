"""Order use cases: place, move through the state machine, cancel, read."""

from __future__ import annotations

import datetime as dt
import functools
import math
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from frontoffice.db import dialect_of, insert_new, publish, upsert, utcnow
from frontoffice.errors import Conflict, InvalidInput, NotFound
from frontoffice.phones import InvalidPhone, normalize_phone
from nomenclature import distribution as dist
from nomenclature import receipts as rcpt
from nomenclature import services as catalogue
from nomenclature.models import Item
from nomenclature.modifiers import line_label
from nomenclature.taxes import TaxSystem, VatRate
from orders.events import OrderPlaced, OrderStatusChanged
from orders.models import (
    Branch,
    Order,
    OrderCounter,
    OrderEvent,
    OrderLine,
    OrderReceipt,
    OrganizationRevenue,
)
from orders.pricing import MAX_LINES, MAX_QUANTITY, PricedLine, order_totals
from orders.states import NEEDS_REASON, IllegalTransition, OrderStatus, check_transition

ORDER_KINDS = ("delivery", "pickup")
PAYMENT_KINDS = ("cash", "card_on_delivery", "prepaid")
DEFAULT_LEAD = {"delivery": dt.timedelta(minutes=60), "pickup": dt.timedelta(minutes=30)}


@dataclass(frozen=True)
class LineRequest:
    """A line as asked for: an item by SKU or id, a quantity, the chosen modifier option ids."""

    quantity: int
    sku: str | None = None
    item_id: int | None = None
    comment: str = ""
    modifiers: tuple[int, ...] = ()


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
    delivery_fee: int = 0
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

    def on_written(self, hook: Callable[[Session, int], None]) -> None:
        """Run ``hook(session, order_id)`` right after the order is inserted, in the same transaction
        (a policy stores what it decided, e.g. the antifraud verdict, in its own table)."""
        self.written_hooks.append(hook)

    @property
    def items_total(self) -> int:
        """Sum of the lines in minor units."""
        return sum(line.total for line in self.lines)


class PlacementPolicy(Protocol):
    """A rule other packages plug into placement (zones and fees, antifraud, …)."""

    def __call__(self, session: Session, draft: OrderDraft) -> None:
        """Adjust ``draft`` or raise a domain error to refuse the order."""


def _field_error(field_name: str, message: str) -> dict[str, str]:
    return {"field": field_name, "message": message, "type": "value_error"}


def business_date(at: dt.datetime, timezone: str) -> dt.date:
    """The business day of a moment in a branch's time zone."""
    return at.astimezone(ZoneInfo(timezone)).date()


def valid_coordinates(lat: float | None, lon: float | None) -> bool:
    """True for a finite WGS84 pair."""
    return (
        lat is not None
        and lon is not None
        and math.isfinite(lat)
        and math.isfinite(lon)
        and -90 <= lat <= 90
        and -180 <= lon <= 180
    )


def _price_lines(
    session: Session,
    requests: Sequence[LineRequest],
    branch_id: int | None = None,
    compiled: catalogue.CatalogueRules | None = None,
) -> tuple[list[PricedLine], list[dict]]:
    """Price lines from the catalogue: modifiers add their deltas, the branch's stop-list refuses."""
    choices = [
        catalogue.LineChoice(quantity=r.quantity, sku=r.sku, item_id=r.item_id, modifiers=tuple(r.modifiers))
        for r in requests
    ]
    found, errors = catalogue.price_items(session, choices, branch_id, MAX_QUANTITY, compiled=compiled)
    priced = [
        PricedLine(
            item_id=p.item_id,
            sku=p.sku,
            name=p.name,
            quantity=req.quantity,
            unit_price=p.unit_price,
            vat_rate=p.catalogue_vat_rate,
            comment=req.comment,
            group_id=p.group_id,
            modifiers=tuple(m.as_dict() for m in p.modifiers),
        )
        for req, p in zip(requests, found, strict=True)
        if p is not None
    ]
    return priced, errors


# --- distribution and receipts -------------------------------------------------------------------


@dataclass(frozen=True)
class LineAssignment:
    """Who sells one line and its part of the order (minor units)."""

    assignment: dist.Assignment
    share: rcpt.LineShare


@dataclass(frozen=True)
class SplitOrder:
    """The lines of an order assigned to organizations and split into receipts."""

    lines: list[LineAssignment]
    receipts: list[rcpt.Receipt]
    organizations: Mapping[int, dist.OrganizationProfile]


#: Orders that end in these states sold nothing: their receipts leave the revenue.
UNSOLD = frozenset({OrderStatus.CANCELLED, OrderStatus.REJECTED, OrderStatus.FAILED})


def revenue_this_year(session: Session, organization_ids: Sequence[int], on: dt.date) -> dict[int, int]:
    """Each organization's sales in ``on``'s calendar year (orders that ended unsold left out)."""
    ids = list(organization_ids)
    if not ids:
        return {}
    rows = session.execute(
        select(OrganizationRevenue.organization_id, OrganizationRevenue.total).where(
            OrganizationRevenue.organization_id.in_(ids), OrganizationRevenue.year == on.year
        )
    ).all()
    return {org: int(total) for org, total in rows}


def revenue_from_receipts(
    session: Session, organization_ids: Sequence[int], start: dt.date, end: dt.date
) -> dict[int, int]:
    """Each organization's receipts total over business days ``start``..``end`` (unsold left out)."""
    ids = list(organization_ids)
    if not ids:
        return {}
    rows = session.execute(
        select(OrderReceipt.organization_id, func.sum(OrderReceipt.total))
        .join(Order, Order.id == OrderReceipt.order_id)
        .where(
            OrderReceipt.organization_id.in_(ids),
            OrderReceipt.business_date >= start,
            OrderReceipt.business_date <= end,
            Order.status.not_in([s.value for s in UNSOLD]),
        )
        .group_by(OrderReceipt.organization_id)
    ).all()
    return {org: int(total or 0) for org, total in rows}


@functools.cache
def _add_revenue_statement(dialect: str) -> Any:
    """The revenue upsert, built once per dialect (it runs for every order taken)."""
    table = OrganizationRevenue.__table__
    return upsert(
        dialect,
        table,
        {
            "organization_id": bindparam("revenue_org"),
            "year": bindparam("revenue_year"),
            "total": bindparam("revenue_amount"),
        },
        ["organization_id", "year"],
        update={"total": lambda st: table.c.total + st.excluded.total},
    )


def _add_revenue(session: Session, year: int, amounts: Mapping[int, int]) -> None:
    """Add (or with negative amounts take back) sales to the organizations' yearly revenue."""
    if not amounts:
        return
    session.execute(
        _add_revenue_statement(dialect_of(session)),
        [
            {"revenue_org": org, "revenue_year": year, "revenue_amount": amount}
            for org, amount in sorted(amounts.items())
        ],
    )


def receipt_label(line: PricedLine | OrderLine) -> str:
    """The name a receipt prints for a line: the item with its options."""
    mods = line.modifiers or ()
    return line_label(line.name, [_Named(m["name"]) for m in mods])


@dataclass(frozen=True)
class _Named:
    name: str


def split_order(
    session: Session,
    lines: Sequence[PricedLine],
    ctx: dist.SaleContext,
    *,
    discount: int,
    delivery_fee: int,
    default_organization_id: int | None = None,
    compiled: catalogue.CatalogueRules | None = None,
) -> SplitOrder:
    """Assign every line to an organization and tax system and split the order into receipts.

    Raises :class:`InvalidInput` naming every line no condition covers (when no default
    organization is configured).
    """
    distributor = (compiled or catalogue.rules(session)).distributor
    limited = {o.id for o in distributor.organizations.values() if o.annual_revenue_limit is not None}

    def assign_all(revenue: Mapping[int, int]) -> list[dist.Assignment | None]:
        return [
            distributor.assign(
                ln.item_id,
                ln.group_id,
                VatRate(ln.vat_rate),
                ctx,
                revenue=revenue,
                default_organization_id=default_organization_id,
            )
            for ln in lines
        ]

    # Without revenue nothing falls back, so this names the organizations the conditions chose;
    # the revenue is read only when one of them has a limit.
    found = assign_all({})
    chosen = {a.organization_id for a in found if a is not None}
    if chosen & limited:
        found = assign_all(revenue_this_year(session, sorted(limited), ctx.on))
    errors = [
        _field_error(
            f"lines.{i}",
            f"No distribution condition says which organization sells {ln.name} ({ln.sku}); "
            "an administrator must add one.",
        )
        for i, (ln, a) in enumerate(zip(lines, found, strict=True))
        if a is None
    ]
    if errors:
        raise InvalidInput(
            "The order cannot be taken: " + "; ".join(e["message"] for e in errors), errors=errors
        )
    assignments = [a for a in found if a is not None]
    sale_lines = [
        rcpt.SaleLine(
            position=i,
            name=receipt_label(ln),
            quantity=ln.quantity,
            total=ln.total,
            organization_id=a.organization_id,
            tax_system=a.tax_system,
            vat_rate=a.vat_rate,
        )
        for i, (ln, a) in enumerate(zip(lines, assignments, strict=True))
    ]
    try:
        shares = rcpt.share_lines(sale_lines, discount, delivery_fee)
    except ValueError as exc:
        raise InvalidInput(f"The order cannot be taken: {exc}.") from None
    receipts = rcpt.receipts_of(sale_lines, shares)
    return SplitOrder(
        lines=[LineAssignment(a, sh) for a, sh in zip(assignments, shares, strict=True)],
        receipts=receipts,
        organizations=distributor.organizations,
    )


def organization_card(org: dist.OrganizationProfile | OrderReceipt) -> dict[str, Any]:
    """The organization block of a receipt document."""
    if isinstance(org, OrderReceipt):
        return {"id": org.organization_id, "name": org.organization_name, "inn": org.inn, "kpp": org.kpp}
    return {"id": org.id, "name": org.name, "inn": org.inn, "kpp": org.kpp}


def receipt_documents(split: SplitOrder, payment_kind: str) -> list[dict[str, Any]]:
    """The receipts of a split order as FFD-1.2-like JSON."""
    return [
        rcpt.receipt_document(r, organization_card(split.organizations[r.organization_id]), payment_kind)
        for r in split.receipts
    ]


def order_receipts(session: Session, order_id: int) -> tuple[Order, list[dict[str, Any]]]:
    """The stored receipts of an order as FFD-1.2-like JSON; 409 for an order taken before
    distribution existed."""
    order = get_order(session, order_id)
    if not order.receipts or any(ln.organization_id is None or ln.amount is None for ln in order.lines):
        raise Conflict(f"Order {order.number} was taken before receipts were recorded; it has none.")
    positions: dict[tuple[int, str], list[rcpt.Position]] = {}
    for ln in order.lines:
        assert ln.organization_id is not None and ln.tax_system is not None and ln.amount is not None
        positions.setdefault((ln.organization_id, ln.tax_system), []).extend(
            rcpt.positions_of(ln.position, receipt_label(ln), ln.quantity, ln.amount, VatRate(ln.vat_rate))
        )
    docs = []
    for stored in order.receipts:
        receipt = rcpt.Receipt(
            stored.organization_id,
            TaxSystem(stored.tax_system),
            tuple(positions.get((stored.organization_id, stored.tax_system), ())),
        )
        docs.append(rcpt.receipt_document(receipt, organization_card(stored), order.payment_kind))
    return order, docs


@dataclass(frozen=True)
class PreviewReceipts:
    """A cart to split into receipts before the order exists."""

    branch_id: int
    lines: Sequence[LineRequest]
    kind: str = "delivery"
    payment_kind: str = "cash"
    delivery_fee: int = 0
    discount: int = 0


def preview_receipts(
    session: Session,
    cmd: PreviewReceipts,
    *,
    default_organization_id: int | None = None,
    now: dt.datetime | None = None,
) -> tuple[int, SplitOrder, list[PricedLine]]:
    """Price a cart and split it into receipts as placing it now would; writes nothing.

    Returns the order total (minor units), the split and the priced lines.
    """
    now = now or utcnow()
    errors: list[dict] = []
    branch = session.get(Branch, cmd.branch_id)
    if branch is None or not branch.active:
        errors.append(_field_error("branch_id", f"Unknown or closed branch {cmd.branch_id}."))
    if cmd.kind not in ORDER_KINDS:
        errors.append(_field_error("kind", f"The kind must be one of {', '.join(ORDER_KINDS)}."))
    if cmd.payment_kind not in PAYMENT_KINDS:
        errors.append(_field_error("payment_kind", f"The payment must be one of {', '.join(PAYMENT_KINDS)}."))
    compiled = catalogue.rules(session)
    lines, line_errors = _price_lines(session, cmd.lines, cmd.branch_id, compiled)
    errors += line_errors
    if errors:
        raise InvalidInput(
            "The receipts cannot be shown: " + "; ".join(e["message"] for e in errors), errors=errors
        )
    assert branch is not None
    fee = cmd.delivery_fee if cmd.kind == "delivery" else 0
    try:
        totals = order_totals(lines, cmd.discount, fee)
    except ValueError as exc:
        raise InvalidInput(f"The receipts cannot be shown: {exc}.") from None
    ctx = dist.SaleContext(business_date(now, branch.timezone), branch.id, cmd.kind, cmd.payment_kind)
    split = split_order(
        session,
        lines,
        ctx,
        discount=totals.discount,
        delivery_fee=totals.delivery_fee,
        default_organization_id=default_organization_id,
        compiled=compiled,
    )
    return totals.total, split, lines


@dataclass(frozen=True)
class BacktestResult:
    """Revenue per organization over a window, recorded and under proposed conditions."""

    start: dt.date
    end: dt.date
    orders: int
    lines: int
    before: dict[int, int]
    after: dict[int, int]
    moved_lines: int
    moved_amount: int
    # item id -> (lines, amount) of lines the proposal leaves uncovered
    uncovered: dict[int, tuple[int, int]]


def backtest(
    session: Session,
    proposed: Sequence[dist.Condition],
    *,
    start: dt.date,
    end: dt.date,
    replace: bool = False,
    default_organization_id: int | None = None,
) -> BacktestResult:
    """Redistribute the sold lines of business days ``start``..``end`` under ``proposed``
    conditions (with or instead of the current ones) and compare revenue per organization.

    Orders are replayed in the order they were taken, so revenue limits and fallbacks act as
    they would have; revenue earlier in each year counts as recorded. Writes nothing.
    """
    current = [] if replace else [catalogue.condition_of(r) for r in catalogue.list_conditions(session)]
    distributor = catalogue.build_from_rows(session, conditions=[*current, *proposed])
    items = {
        i.id: i
        for i in session.scalars(
            select(Item).where(
                Item.id.in_(
                    select(OrderLine.item_id)
                    .join(Order, Order.id == OrderLine.order_id)
                    .where(Order.business_date >= start, Order.business_date <= end)
                )
            )
        )
    }
    rows = session.execute(
        select(
            Order.id,
            Order.business_date,
            Order.branch_id,
            Order.kind,
            Order.payment_kind,
            OrderLine.item_id,
            OrderLine.amount,
            OrderLine.organization_id,
        )
        .join(OrderLine, OrderLine.order_id == Order.id)
        .where(
            Order.business_date >= start,
            Order.business_date <= end,
            Order.status.not_in([st.value for st in UNSOLD]),
            OrderLine.amount.is_not(None),
        )
        .order_by(Order.created_at, Order.id, OrderLine.position)
    ).all()
    limited = [o.id for o in distributor.organizations.values() if o.annual_revenue_limit is not None]
    running: dict[int, dict[int, int]] = {}  # year -> organization -> revenue so far
    before: dict[int, int] = defaultdict(int)
    after: dict[int, int] = defaultdict(int)
    uncovered: dict[int, tuple[int, int]] = {}
    moved_lines = moved_amount = 0
    orders: set[int] = set()
    for order_id, day, branch_id, kind, payment, item_id, amount, recorded_org in rows:
        year = running.get(day.year)
        if year is None:
            year = running[day.year] = defaultdict(
                int,
                revenue_from_receipts(
                    session, limited, dt.date(day.year, 1, 1), start - dt.timedelta(days=1)
                ),
            )
        orders.add(order_id)
        before[recorded_org] += amount
        item = items.get(item_id)
        a = (
            distributor.assign(
                item_id,
                item.group_id,
                VatRate(item.vat_rate),
                dist.SaleContext(day, branch_id, kind, payment),
                revenue=year,
                default_organization_id=default_organization_id,
            )
            if item is not None
            else None
        )
        if a is None:
            n, total = uncovered.get(item_id, (0, 0))
            uncovered[item_id] = (n + 1, total + amount)
            continue
        after[a.organization_id] += amount
        year[a.organization_id] += amount
        if a.organization_id != recorded_org:
            moved_lines += 1
            moved_amount += amount
    return BacktestResult(
        start=start,
        end=end,
        orders=len(orders),
        lines=len(rows),
        before=dict(before),
        after=dict(after),
        moved_lines=moved_lines,
        moved_amount=moved_amount,
        uncovered=uncovered,
    )


class DefaultOrganization:
    """Placement policy: lines no condition covers go to the configured default organization."""

    def __init__(self, organization_id: int | None):
        self.organization_id = organization_id

    def __call__(self, session: Session, draft: OrderDraft) -> None:
        """Set the draft's default organization unless the caller already chose one."""
        if draft.default_organization_id is None:
            draft.default_organization_id = self.organization_id


def _validate(session: Session, cmd: PlaceOrder, region: str) -> tuple[Branch | None, str, list[dict]]:
    errors: list[dict] = []
    branch = session.get(Branch, cmd.branch_id)
    if branch is None or not branch.active:
        errors.append(_field_error("branch_id", f"Unknown or closed branch {cmd.branch_id}."))
    phone = ""
    try:
        phone = normalize_phone(cmd.client_phone, region)
    except InvalidPhone as exc:
        errors.append(_field_error("client.phone", str(exc)))
    if cmd.kind not in ORDER_KINDS:
        errors.append(_field_error("kind", f"The kind must be one of {', '.join(ORDER_KINDS)}."))
    if cmd.payment_kind not in PAYMENT_KINDS:
        errors.append(_field_error("payment.kind", f"The payment must be one of {', '.join(PAYMENT_KINDS)}."))
    if cmd.kind == "delivery":
        if not cmd.address_text.strip():
            errors.append(_field_error("address.text", "A delivery order needs an address."))
        if (cmd.lat is None) != (cmd.lon is None) or (
            cmd.lat is not None and not valid_coordinates(cmd.lat, cmd.lon)
        ):
            errors.append(
                _field_error(
                    "address", "Coordinates must be a finite lat in [-90, 90] and lon in [-180, 180]."
                )
            )
    if cmd.change_from is not None and cmd.payment_kind != "cash":
        errors.append(_field_error("payment.change_from", "Change is only for cash payments."))
    if not cmd.lines:
        errors.append(_field_error("lines", "An order needs at least one line."))
    if len(cmd.lines) > MAX_LINES:
        errors.append(_field_error("lines", f"An order can have at most {MAX_LINES} lines."))
    return branch, phone, errors


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
    seq = session.connection().execute(stmt, {"counter_branch": branch.id, "counter_day": day}).scalar_one()
    return seq, f"{branch.code}-{seq:03d}"


def place_order(
    session: Session,
    cmd: PlaceOrder,
    *,
    actor_id: int | None = None,
    policies: Sequence[PlacementPolicy] = (),
    region: str = "RU",
    now: dt.datetime | None = None,
    default_organization_id: int | None = None,
) -> Order:
    """Validate, price from the catalogue, apply the policies, assign every line to an
    organization, split it into receipts, number and store an order.

    Raises :class:`InvalidInput` listing every problem at once; writes nothing then.
    """
    now = now or utcnow()
    branch, phone, errors = _validate(session, cmd, region)
    compiled = catalogue.rules(session)
    lines, line_errors = (
        _price_lines(session, cmd.lines, branch.id if branch is not None else None, compiled)
        if 0 < len(cmd.lines) <= MAX_LINES
        else ([], [])
    )
    errors += line_errors
    if cmd.promised_at is not None:
        if cmd.promised_at.tzinfo is None:
            errors.append(_field_error("promised_at", "The promised time needs a time zone offset."))
        elif cmd.promised_at < now - dt.timedelta(minutes=1):
            errors.append(_field_error("promised_at", "The promised time is in the past."))
        elif cmd.promised_at > now + dt.timedelta(days=30):
            errors.append(_field_error("promised_at", "The promised time is more than 30 days ahead."))
    if errors:
        raise InvalidInput(
            "The order cannot be taken: " + "; ".join(e["message"] for e in errors), errors=errors
        )
    assert branch is not None
    draft = OrderDraft(
        command=cmd,
        branch=branch,
        client_phone=phone,
        lines=lines,
        delivery_fee=cmd.delivery_fee if cmd.kind == "delivery" else 0,
        discount=cmd.discount,
        promised_at=cmd.promised_at or now + DEFAULT_LEAD.get(cmd.kind, DEFAULT_LEAD["delivery"]),
        now=now,
        default_organization_id=default_organization_id,
    )
    for policy in policies:
        policy(session, draft)
    try:
        totals = order_totals(draft.lines, draft.discount, draft.delivery_fee)
    except ValueError as exc:
        raise InvalidInput(f"The order cannot be taken: {exc}.") from None
    if cmd.change_from is not None and cmd.change_from < totals.total:
        raise InvalidInput(
            "Change from an amount smaller than the order total makes no sense.",
            errors=[_field_error("payment.change_from", "Smaller than the order total.")],
        )

    day = business_date(now, branch.timezone)
    split = split_order(
        session,
        draft.lines,
        dist.SaleContext(day, branch.id, cmd.kind, cmd.payment_kind),
        discount=totals.discount,
        delivery_fee=totals.delivery_fee,
        default_organization_id=draft.default_organization_id,
        compiled=compiled,
    )
    seq, number = next_number(session, branch, day)
    order = Order(
        number=number,
        seq=seq,
        business_date=day,
        branch_id=branch.id,
        kind=cmd.kind,
        status=draft.status,
        client_phone=phone,
        client_name=cmd.client_name.strip(),
        address_text=cmd.address_text.strip(),
        lat=cmd.lat,
        lon=cmd.lon,
        payment_kind=cmd.payment_kind,
        change_from=cmd.change_from,
        comment=cmd.comment.strip(),
        promised_at=draft.promised_at,
        items_total=totals.items,
        discount_total=totals.discount,
        delivery_fee=totals.delivery_fee,
        total=totals.total,
        created_by=actor_id,
        created_at=now,
        status_changed_at=now,
    )
    order.lines = [
        OrderLine(
            position=i,
            item_id=ln.item_id,
            sku=ln.sku,
            name=ln.name,
            quantity=ln.quantity,
            unit_price=ln.unit_price,
            total=ln.total,
            vat_rate=la.assignment.vat_rate.value,
            comment=ln.comment,
            modifiers=[dict(m) for m in ln.modifiers],
            organization_id=la.assignment.organization_id,
            tax_system=la.assignment.tax_system.value,
            condition_id=la.assignment.condition_id,
            discount_share=la.share.discount,
            delivery_fee_share=la.share.delivery_fee,
            amount=la.share.amount,
            vat=la.share.vat,
        )
        for i, (ln, la) in enumerate(zip(draft.lines, split.lines, strict=True))
    ]
    order.receipts = [
        OrderReceipt(
            position=n,
            organization_id=r.organization_id,
            tax_system=r.tax_system.value,
            organization_name=split.organizations[r.organization_id].name,
            inn=split.organizations[r.organization_id].inn,
            kpp=split.organizations[r.organization_id].kpp,
            business_date=day,
            total=r.total,
            vat=r.vat,
        )
        for n, r in enumerate(split.receipts)
    ]
    order.events = [
        OrderEvent(
            at=now,
            actor_id=actor_id,
            kind="created",
            to_status=draft.status,
            reason=draft.hold_reason,
            payload={"notes": draft.notes, **draft.extra},
        )
    ]
    # The hottest write path: a few Core INSERTs instead of a unit-of-work flush.
    insert_new(session, order)
    for hook in draft.written_hooks:
        hook(session, order.id)
    sold: dict[int, int] = {}
    for r in split.receipts:
        sold[r.organization_id] = sold.get(r.organization_id, 0) + r.total
    _add_revenue(session, day.year, sold)
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
        ),
    )
    return order


def get_order(session: Session, order_id: int) -> Order:
    """The order, or :class:`NotFound`."""
    order = session.get(Order, order_id)
    if order is None:
        raise NotFound(f"There is no order {order_id}.")
    return order


def change_status(
    session: Session,
    order_id: int,
    target: str,
    *,
    actor_id: int | None = None,
    reason: str | None = None,
    expected_version: int | None = None,
    now: dt.datetime | None = None,
    payload: dict[str, Any] | None = None,
) -> Order:
    """Move an order through the state machine, with an audit event; 409 on an illegal move."""
    try:
        to = OrderStatus(target)
    except ValueError:
        raise InvalidInput(
            f"Unknown status {target!r}; known: {', '.join(s.value for s in OrderStatus)}.",
            errors=[_field_error("status", "Unknown status.")],
        ) from None
    order = get_order(session, order_id)
    if expected_version is not None and order.version != expected_version:
        raise Conflict(
            f"Order {order.number} was changed by someone else (version {order.version}, "
            f"you had {expected_version}); reload it.",
            current_version=order.version,
        )
    current = OrderStatus(order.status)
    try:
        check_transition(current, to)
    except IllegalTransition as exc:
        raise Conflict(
            str(exc), allowed=[s.value for s in exc.allowed], current_status=current.value
        ) from None
    reason = (reason or "").strip() or None
    if to in NEEDS_REASON and not reason:
        raise InvalidInput(
            f"Moving an order to {to} needs a reason.",
            errors=[_field_error("reason", "A reason is required.")],
        )
    now = now or utcnow()
    history = order.events  # load the trail before changing the row (a lazy load autoflushes)
    taken_back: dict[int, int] = {}
    if to in UNSOLD and current not in UNSOLD:
        for r in order.receipts:  # an order that ends unsold takes its sales back out of the revenue
            taken_back[r.organization_id] = taken_back.get(r.organization_id, 0) - r.total
    order.status = to
    order.status_changed_at = now
    if to is OrderStatus.DELIVERED:
        order.delivered_at = now
    history.append(
        OrderEvent(
            at=now,
            actor_id=actor_id,
            kind="status",
            from_status=current,
            to_status=to,
            reason=reason,
            payload=payload or {},
        )
    )
    number = order.number
    try:
        session.flush()
    except StaleDataError:
        raise Conflict(f"Order {number} was changed at the same moment by someone else; reload it.") from None
    _add_revenue(session, order.business_date.year, taken_back)
    publish(
        session,
        OrderStatusChanged(
            order_id=order.id,
            branch_id=order.branch_id,
            number=order.number,
            from_status=current,
            to_status=to,
            reason=reason,
            at=now,
            actor_id=actor_id,
            courier_id=order.courier_id,
        ),
    )
    return order


def cancel(session: Session, order_id: int, reason: str, *, actor_id: int | None = None) -> Order:
    """Cancel an order that has not left with a courier; a reason is required."""
    return change_status(session, order_id, OrderStatus.CANCELLED, actor_id=actor_id, reason=reason)


@dataclass(frozen=True)
class OrderFilter:
    """Filters of the order list."""

    status: Sequence[str] = ()
    branch_id: int | None = None
    business_date: dt.date | None = None
    phone: str | None = None
    page: int = 1
    per_page: int = 50


def list_orders(session: Session, flt: OrderFilter) -> tuple[list[Order], int]:
    """A page of orders, newest first, and the number of matching orders."""
    conditions = []
    if flt.status:
        conditions.append(Order.status.in_(list(flt.status)))
    if flt.branch_id is not None:
        conditions.append(Order.branch_id == flt.branch_id)
    if flt.business_date is not None:
        conditions.append(Order.business_date == flt.business_date)
    if flt.phone:
        conditions.append(Order.client_phone == flt.phone)
    total = session.scalar(select(func.count()).select_from(Order).where(*conditions)) or 0
    rows = (
        session.scalars(
            select(Order)
            .where(*conditions)
            .order_by(Order.created_at.desc(), Order.id.desc())
            .limit(flt.per_page)
            .offset((flt.page - 1) * flt.per_page)
        )
        .unique()
        .all()
    )
    return list(rows), total
