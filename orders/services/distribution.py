"""Distribution and what serves it: which organization sells each line, the receipts an order
splits into (stored, as documents, previewed), each organization's revenue, and the backtest of
proposed distribution conditions over past orders."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from frontoffice.db import utcnow
from frontoffice.errors import Conflict, FieldError, InvalidInput, field_error
from nomenclature import distribution as dist
from nomenclature import receipts as rcpt
from nomenclature import services as catalogue
from nomenclature.models import Item
from nomenclature.modifiers import line_label
from nomenclature.taxes import TaxSystem, VatRate
from orders.models import REAL_ORDER, Branch, Order, OrderCharge, OrderLine, OrderReceipt
from orders.pricing import MAX_LINES, PricedLine, order_totals
from orders.services.cart import ORDER_KINDS, PAYMENT_KINDS, LineRequest, business_date, price_lines
from orders.services.lifecycle import get_order
from orders.services.revenue import UNSOLD, revenue_from_receipts, revenue_this_year


@dataclass(frozen=True)
class LineAssignment:
    """Who sells one line and its part of the order (minor units)."""

    assignment: dist.Assignment
    share: rcpt.LineShare


@dataclass(frozen=True)
class DeliveryAssignment:
    """Who sells the delivery of an order: the catalogue's delivery position, its fee and VAT."""

    assignment: dist.Assignment
    item_id: int
    sku: str
    sale: rcpt.DeliverySale

    @property
    def vat(self) -> int:
        """The VAT in the fee, in minor units."""
        return rcpt.vat_included(self.sale.fee, self.sale.vat_rate)


@dataclass(frozen=True)
class SplitOrder:
    """The lines of an order assigned to organizations and split into receipts."""

    lines: list[LineAssignment]
    receipts: list[rcpt.Receipt]
    organizations: Mapping[int, dist.OrganizationProfile]
    # None for pickup and a free delivery: no delivery position then.
    delivery: DeliveryAssignment | None = None


def receipt_label(line: PricedLine | OrderLine) -> str:
    """The name a receipt prints for a line: the item with its options."""
    mods = line.modifiers or ()
    return line_label(line.name, [_Named(m["name"]) for m in mods])


@dataclass(frozen=True)
class _Named:
    name: str


def _uncovered(where: str, what: str) -> FieldError:
    return field_error(
        where,
        f"No distribution condition says which organization sells {what}; an administrator must add one.",
    )


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
    """Assign every line, and the delivery when it costs something, to an organization and tax
    system, and split the order into receipts.

    Raises :class:`InvalidInput` naming every line no condition covers, and the delivery when
    nothing covers it (when no default organization is configured), and every line (or the
    delivery) whose seller cannot charge its VAT rate.
    """
    compiled = compiled or catalogue.rules(session)
    distributor = compiled.distributor
    limited = {o.id for o in distributor.organizations.values() if o.annual_revenue_limit is not None}
    errors: list[FieldError] = []
    item = compiled.delivery if delivery_fee > 0 else None
    if delivery_fee > 0 and item is None:
        errors.append(
            field_error(
                "delivery_fee",
                f"The catalogue has no delivery position (an item with SKU {catalogue.DELIVERY_SKU}), "
                "so the fee cannot go on a receipt; an administrator must add it.",
            )
        )
    # The delivery is assigned like one more line, after the cart's.
    sold = [(ln.item_id, ln.group_id, VatRate(ln.vat_rate)) for ln in lines]
    if item is not None:
        sold.append((item.item_id, item.group_id, VatRate(item.vat_rate)))

    def assign_all(revenue: Mapping[int, int]) -> list[dist.Assignment | None]:
        return [
            distributor.assign(
                item_id,
                group_id,
                rate,
                ctx,
                revenue=revenue,
                default_organization_id=default_organization_id,
            )
            for item_id, group_id, rate in sold
        ]

    # Without revenue nothing falls back, so this names the organizations the conditions chose;
    # the revenue is read only when one of them has a limit.
    found = assign_all({})
    chosen = {a.organization_id for a in found if a is not None}
    if chosen & limited:
        found = assign_all(revenue_this_year(session, sorted(limited), ctx.on))
    for_lines, for_delivery = found[: len(lines)], found[len(lines) :]
    for i, (ln, a) in enumerate(zip(lines, for_lines, strict=True)):
        errors += _refusals(f"lines.{i}", f"{ln.name} ({ln.sku})", a, distributor)
    if item is not None:
        errors += _refusals(
            "delivery_fee", f"the delivery ({item.name}, {item.sku})", for_delivery[0], distributor
        )
    if errors:
        raise InvalidInput(
            "The order cannot be taken: " + "; ".join(e["message"] for e in errors), errors=errors
        )
    assignments = [a for a in for_lines if a is not None]
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
    delivery = None
    if item is not None:
        a = for_delivery[0]
        assert a is not None  # refused above otherwise
        delivery = DeliveryAssignment(
            a,
            item.item_id,
            item.sku,
            rcpt.DeliverySale(item.name, delivery_fee, a.organization_id, a.tax_system, a.vat_rate),
        )
    try:
        shares = rcpt.share_lines(sale_lines, discount)
    except ValueError as exc:
        raise InvalidInput(f"The order cannot be taken: {exc}.") from None
    return SplitOrder(
        lines=[LineAssignment(a, sh) for a, sh in zip(assignments, shares, strict=True)],
        receipts=rcpt.receipts_of(sale_lines, shares, delivery.sale if delivery else None),
        organizations=distributor.organizations,
        delivery=delivery,
    )


def _refusals(
    where: str, what: str, a: dist.Assignment | None, distributor: dist.Distributor
) -> list[FieldError]:
    """Why ``what`` cannot be sold: no condition covers it, or its seller cannot charge its VAT
    rate (it is refused, not re-rated); empty when it can."""
    if a is None:
        return [_uncovered(where, what)]
    refusal = catalogue.vat_refusal(
        a,
        what,
        distributor.organizations[a.organization_id].name,
        f"condition #{a.condition_id}" if a.condition_id is not None else None,
    )
    if refusal is None:
        return []
    return [field_error(where, f"{refusal}; an administrator must change the item's rate or the condition.")]


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


def charge_position(charge: OrderCharge) -> rcpt.Position:
    """The receipt position of a stored delivery, exactly as it was recorded."""
    rate = VatRate(charge.vat_rate)
    return rcpt.Position(
        None, charge.name, 1, charge.amount, charge.amount, rate, charge.vat, rcpt.SUBJECT_SERVICE
    )


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
    # Orders taken before the delivery became a position have no charge: their lines carry the fee.
    for ch in order.charges:
        positions.setdefault((ch.organization_id, ch.tax_system), []).append(charge_position(ch))
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
        errors.append(field_error("branch_id", f"Unknown or closed branch {cmd.branch_id}."))
    if cmd.kind not in ORDER_KINDS:
        errors.append(field_error("kind", f"The kind must be one of {', '.join(ORDER_KINDS)}."))
    if cmd.payment_kind not in PAYMENT_KINDS:
        errors.append(field_error("payment_kind", f"The payment must be one of {', '.join(PAYMENT_KINDS)}."))
    compiled = catalogue.rules(session)
    lines, line_errors = price_lines(session, cmd.lines, cmd.branch_id, compiled)
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


def _sold_positions(session: Session, start: dt.date, end: dt.date) -> list[Any]:
    """The positions sold on business days ``start``..``end``, in the order they were taken: each
    order's lines, then its delivery. Rows: order id, business day, branch, kind, payment, item id,
    amount, recorded organization."""
    order = (Order.id, Order.business_date, Order.branch_id, Order.kind, Order.payment_kind)
    sold = (
        Order.business_date >= start,
        Order.business_date <= end,
        Order.status.not_in([st.value for st in UNSOLD]),
        REAL_ORDER,
    )
    lines = session.execute(
        select(Order.created_at, OrderLine.position, *order)
        .add_columns(OrderLine.item_id, OrderLine.amount, OrderLine.organization_id)
        .join(OrderLine, OrderLine.order_id == Order.id)
        .where(*sold, OrderLine.amount.is_not(None))
    ).all()
    charges = session.execute(
        select(Order.created_at, *order)
        .add_columns(OrderCharge.item_id, OrderCharge.amount, OrderCharge.organization_id)
        .join(OrderCharge, OrderCharge.order_id == Order.id)
        .where(*sold)
    ).all()
    # Replayed by (taken at, order id, position); the delivery after every line of its order.
    keyed = [((r[0], r[2], r[1]), tuple(r[2:])) for r in lines]
    keyed += [((r[0], r[1], MAX_LINES), tuple(r[1:])) for r in charges]
    return [row for _key, row in sorted(keyed, key=lambda kv: kv[0])]


def backtest(
    session: Session,
    proposed: Sequence[dist.Condition],
    *,
    start: dt.date,
    end: dt.date,
    replace: bool = False,
    default_organization_id: int | None = None,
) -> BacktestResult:
    """Redistribute the sold lines and deliveries of business days ``start``..``end`` under
    ``proposed`` conditions (with or instead of the current ones) and compare revenue per
    organization.

    Orders are replayed in the order they were taken, so revenue limits and fallbacks act as
    they would have; revenue earlier in each year counts as recorded. A delivery counts as one
    more line (of the catalogue's delivery position). Writes nothing.
    """
    current = [] if replace else [catalogue.condition_of(r) for r in catalogue.list_conditions(session)]
    distributor = catalogue.build_from_rows(session, conditions=[*current, *proposed])
    rows = _sold_positions(session, start, end)
    items = {i.id: i for i in session.scalars(select(Item).where(Item.id.in_({r[5] for r in rows})))}
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
