"""Request and response models of the antifraud, ticket and bonus APIs."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from backoffice import antifraud
from backoffice.bonuses import bp_to_percent
from backoffice.models import (
    AntifraudRuleVersion,
    BlacklistEntry,
    BonusEntry,
    BonusRule,
    Ticket,
    TicketEvent,
)
from backoffice.services import BacktestResult, HeldOrder, ReportRow, RuleView
from backoffice.sla import TicketKind, TicketStatus, is_overdue, minutes_left
from frontoffice.money import from_minor
from frontoffice.schemas import Day, Id, Money, Strict
from orders.schemas import OrderOut

Action = Literal["note", "flag", "hold", "reject"]
Kind = Literal[
    "blacklist",
    "velocity",
    "large_cash_new_client",
    "bad_history",
    "far_address",
    "change_to_card",
    "many_names",
]


# --- antifraud ------------------------------------------------------------------------------


class AntifraudRuleIn(Strict):
    """A new antifraud rule."""

    kind: Kind
    name: str = Field(min_length=1, max_length=200)
    params: dict[str, Any] = Field(default_factory=dict, description="Per kind; see GET /antifraud/kinds.")
    score: int = Field(ge=0, le=antifraud.MAX_SCORE)
    action: Action
    active: bool = True
    note: str = Field(default="", max_length=500)


class AntifraudRuleEdit(Strict):
    """An edit of a rule: saved as a new version, the old one kept."""

    name: str = Field(min_length=1, max_length=200)
    params: dict[str, Any] = Field(default_factory=dict)
    score: int = Field(ge=0, le=antifraud.MAX_SCORE)
    action: Action
    note: str = Field(default="", max_length=500)
    expected_version: int | None = Field(
        default=None, ge=1, description="Refuse (409) if someone saved a newer version meanwhile."
    )


class AntifraudRuleSwitch(Strict):
    """Switch a rule on or off."""

    active: bool


class AntifraudRuleVersionOut(BaseModel):
    """One version of a rule."""

    id: int
    version: int
    name: str
    params: dict[str, Any]
    score: int
    action: str
    note: str
    created_at: dt.datetime
    created_by: int | None

    @classmethod
    def of(cls, v: AntifraudRuleVersion) -> AntifraudRuleVersionOut:
        """From a stored version."""
        return cls(
            id=v.id,
            version=v.version,
            name=v.name,
            params=v.params,
            score=v.score,
            action=v.action,
            note=v.note,
            created_at=v.created_at,
            created_by=v.created_by,
        )


class AntifraudRuleOut(BaseModel):
    """A rule with its current version."""

    id: int
    kind: str
    active: bool
    current_version: int
    version_id: int
    name: str
    params: dict[str, Any]
    score: int
    action: str
    updated_at: dt.datetime

    @classmethod
    def of(cls, view: RuleView) -> AntifraudRuleOut:
        """From a rule and its current version."""
        r, v = view.rule, view.current
        return cls(
            id=r.id,
            kind=r.kind,
            active=r.active,
            current_version=r.current_version,
            version_id=v.id,
            name=v.name,
            params=v.params,
            score=v.score,
            action=v.action,
            updated_at=r.updated_at,
        )


class AntifraudParamOut(BaseModel):
    """One parameter of a rule kind."""

    name: str
    type: str
    label: str
    default: Any
    minimum: float | None = None
    maximum: float | None = None
    choices: list[str] = []


class AntifraudKindOut(BaseModel):
    """A rule kind and its parameters."""

    code: str
    title: str
    description: str
    stages: list[str]
    params: list[AntifraudParamOut]

    @classmethod
    def of(cls, k: antifraud.RuleKind, title: str) -> AntifraudKindOut:
        """From the pure kind table; ``title`` is the kind's name."""
        return cls(
            code=k.code,
            title=title,
            description=k.description,
            stages=sorted(k.stages),
            params=[
                AntifraudParamOut(
                    name=p.name,
                    type=p.type,
                    label=p.label,
                    default=p.default,
                    minimum=p.minimum,
                    maximum=p.maximum,
                    choices=list(p.choices),
                )
                for p in k.params
            ],
        )


class AntifraudBacktestIn(Strict):
    """Run a stored rule (``rule_id``) or unsaved parameters (``kind`` + ``params``) over past orders."""

    rule_id: Id | None = None
    kind: Kind | None = None
    params: dict[str, Any] | None = None
    days: int = Field(default=30, ge=1, le=365)


class AntifraudBacktestExample(BaseModel):
    """A past order the rule would have fired on."""

    order_id: int
    number: str
    created_at: dt.datetime
    status: str
    reason: str


class AntifraudBacktestOut(BaseModel):
    """What the rule would have done to the orders of the last ``days``."""

    days: int
    orders: int
    flagged: int
    flagged_went_wrong: int = Field(description="Flagged orders that were in fact cancelled or failed.")
    went_wrong: int = Field(description="All cancelled or failed orders in the window.")
    precision: float | None
    recall: float | None
    examples: list[AntifraudBacktestExample]

    @classmethod
    def of(cls, r: BacktestResult) -> AntifraudBacktestOut:
        """From a service result."""
        return cls(
            days=r.days,
            orders=r.orders,
            flagged=r.flagged,
            flagged_went_wrong=r.flagged_went_wrong,
            went_wrong=r.went_wrong,
            precision=r.precision,
            recall=r.recall,
            examples=[AntifraudBacktestExample(**e) for e in r.examples],
        )


class BlacklistEntryIn(Strict):
    """Put a phone, an address or a device id on the blacklist."""

    kind: Literal["phone", "address", "device"]
    value: str = Field(min_length=1, max_length=500)
    reason: str = Field(default="", max_length=500)


class BlacklistEntryOut(BaseModel):
    """A blacklist entry; ``value`` is the normalized form the rules compare."""

    id: int
    kind: str
    value: str
    display: str
    reason: str
    created_at: dt.datetime

    @classmethod
    def of(cls, e: BlacklistEntry) -> BlacklistEntryOut:
        """From a stored entry."""
        return cls(
            id=e.id, kind=e.kind, value=e.value, display=e.display, reason=e.reason, created_at=e.created_at
        )


class AntifraudHitOut(BaseModel):
    """A rule that fired and the version that decided."""

    rule: str
    rule_id: int
    version: int
    version_id: int
    kind: str
    score: int
    action: str
    reason: str


class AntifraudVerdictOut(BaseModel):
    """An antifraud verdict: the most severe action, the summed score, every rule that fired."""

    stage: str = "order"
    action: str
    score: int
    hits: list[AntifraudHitOut]


class AntifraudCheckQuery(Strict):
    """A caller to check at first contact."""

    phone: str = Field(min_length=1, max_length=40)
    name: str = Field(default="", max_length=200)


class HeldOrderOut(BaseModel):
    """An order on hold, why it waits, and the verdict that held it."""

    order: OrderOut
    reason: str
    verdict: AntifraudVerdictOut | None

    @classmethod
    def of(cls, h: HeldOrder) -> HeldOrderOut:
        """From a service result."""
        verdict = AntifraudVerdictOut(stage="order", **h.verdict) if h.verdict else None
        return cls(order=OrderOut.of(h.order, with_events=False), reason=h.reason, verdict=verdict)


class HeldReleaseIn(Strict):
    """Let a held order go on."""

    note: str = Field(default="", max_length=500)
    expected_version: int | None = Field(default=None, ge=1)


class HeldRejectIn(Strict):
    """Refuse a held order."""

    reason: str = Field(min_length=1, max_length=500)
    expected_version: int | None = Field(default=None, ge=1)


# --- tickets --------------------------------------------------------------------------------


class TicketIn(Strict):
    """A new ticket about a client (phone) or an order."""

    kind: TicketKind
    subject: str = Field(min_length=1, max_length=200)
    body: str = Field(default="", max_length=5000)
    client_phone: str = Field(default="", max_length=40)
    order_number: str | None = Field(
        default=None, max_length=32, description="The order's number as staff see it, e.g. `KZ1-007`."
    )
    order_date: Day | None = Field(
        default=None,
        description="The order's business day (numbers start again every day); with `order_number`.",
    )


class TicketEventOut(BaseModel):
    """One line of a ticket's history."""

    id: int
    at: dt.datetime
    actor_id: int | None
    actor: str
    kind: str
    from_status: str | None
    to_status: str | None
    body: str

    @classmethod
    def of(cls, e: TicketEvent, names: dict[int, str]) -> TicketEventOut:
        """From a stored event; ``names`` maps user ids to names."""
        return cls(
            id=e.id,
            at=e.at,
            actor_id=e.actor_id,
            actor=names.get(e.actor_id or 0, ""),
            kind=e.kind,
            from_status=e.from_status,
            to_status=e.to_status,
            body=e.body,
        )


class TicketOut(BaseModel):
    """A ticket, its deadline and (for one ticket) its history."""

    id: int
    kind: str
    status: str
    subject: str
    body: str
    client_phone: str
    order_number: str | None = Field(description="The order it is about, by its number (`KZ1-007`).")
    order_date: dt.date | None = Field(description="That order's business day.")
    assignee_id: int | None
    assignee: str
    created_by: int | None
    created_at: dt.datetime
    updated_at: dt.datetime
    due_at: dt.datetime
    closed_at: dt.datetime | None
    resolution: str
    overdue: bool
    minutes_left: int
    version: int
    events: list[TicketEventOut] | None = None

    @classmethod
    def of(cls, t: Ticket, now: dt.datetime, names: dict[int, str], with_events: bool = False) -> TicketOut:
        """From a stored ticket, judged against ``now``."""
        return cls(
            id=t.id,
            kind=t.kind,
            status=t.status,
            subject=t.subject,
            body=t.body,
            client_phone=t.client_phone,
            order_number=t.order.number if t.order is not None else None,
            order_date=t.order.business_date if t.order is not None else None,
            assignee_id=t.assignee_id,
            assignee=names.get(t.assignee_id or 0, ""),
            created_by=t.created_by,
            created_at=t.created_at,
            updated_at=t.updated_at,
            due_at=t.due_at,
            closed_at=t.closed_at,
            resolution=t.resolution,
            overdue=is_overdue(t.status, t.due_at, now),
            minutes_left=minutes_left(t.due_at, now),
            version=t.version,
            events=[TicketEventOut.of(e, names) for e in t.events] if with_events else None,
        )


class TicketQuery(Strict):
    """Filters and paging of the ticket queue."""

    status: list[TicketStatus] | TicketStatus | None = None
    kind: TicketKind | None = None
    overdue: bool = False
    phone: str | None = Field(default=None, max_length=40)
    order_number: str | None = Field(
        default=None, max_length=32, description="Tickets about this order number."
    )
    order_date: Day | None = Field(default=None, description="… of this business day.")
    mine: bool = Field(default=False, description="Only tickets assigned to the caller.")
    page: int = Field(default=1, ge=1, le=100000)
    per_page: int = Field(default=50, ge=1, le=200)


class TicketPage(BaseModel):
    """A page of tickets."""

    items: list[TicketOut]
    total: int
    page: int
    per_page: int


class TicketCommentIn(Strict):
    """A comment on a ticket."""

    body: str = Field(min_length=1, max_length=5000)


class TicketMoveIn(Strict):
    """Move a ticket to another state; closing needs a note."""

    status: TicketStatus
    note: str = Field(default="", max_length=5000)
    expected_version: int | None = Field(default=None, ge=1)


class TicketAssignIn(Strict):
    """Give a ticket to a back-office person (null: to nobody)."""

    assignee_id: Id | None = None
    expected_version: int | None = Field(default=None, ge=1)


# --- bonuses --------------------------------------------------------------------------------


class BonusTotalsOut(BaseModel):
    """The caller's bonus today and this month (business time zone), decimal strings."""

    today: Decimal
    month: Decimal


class BonusRuleIn(Strict):
    """How much an operation pays: a fixed amount or a percentage of the order."""

    method: Literal["fixed", "percent"]
    amount: Money = Decimal("0")
    percent: Decimal = Field(default=Decimal("0"), ge=0, le=100, decimal_places=2)
    params: dict[str, Any] = Field(default_factory=dict)
    active: bool = True


class BonusRuleOut(BaseModel):
    """The rule of one operation."""

    operation: str
    title: str
    method: str
    amount: Decimal
    percent: Decimal
    params: dict[str, Any]
    active: bool
    updated_at: dt.datetime | None

    @classmethod
    def of(cls, operation: str, title: str, rule: BonusRule | None) -> BonusRuleOut:
        """From a stored rule, or an inactive zero rule for an operation without one; ``title`` is
        the operation's name."""
        return cls(
            operation=operation,
            title=title,
            method=rule.method if rule else "fixed",
            amount=from_minor(rule.amount if rule else 0),
            percent=Decimal(bp_to_percent(rule.percent_bp if rule else 0)),
            params=(rule.params if rule else {}) or {},
            active=bool(rule and rule.active),
            updated_at=rule.updated_at if rule else None,
        )


class BonusEntryOut(BaseModel):
    """One ledger line."""

    id: int
    operation: str
    order_id: int | None
    ticket_id: int | None
    amount: Decimal
    base: Decimal
    note: str
    earned_at: dt.datetime

    @classmethod
    def of(cls, e: BonusEntry) -> BonusEntryOut:
        """From a ledger line."""
        return cls(
            id=e.id,
            operation=e.operation,
            order_id=e.order_id,
            ticket_id=e.ticket_id,
            amount=from_minor(e.amount),
            base=from_minor(e.base),
            note=e.note,
            earned_at=e.earned_at,
        )


class BonusReportQuery(Strict):
    """The period of a bonus report: business days, both inclusive."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    date_from: Day = Field(alias="from")
    date_to: Day = Field(alias="to")


class BonusReportRowOut(BaseModel):
    """One person's bonus over the period."""

    user_id: int
    username: str
    full_name: str
    counts: dict[str, int]
    amounts: dict[str, Decimal]
    total: Decimal

    @classmethod
    def of(cls, r: ReportRow) -> BonusReportRowOut:
        """From a service row."""
        return cls(
            user_id=r.user_id,
            username=r.username,
            full_name=r.full_name,
            counts=r.counts,
            amounts={k: from_minor(v) for k, v in r.amounts.items()},
            total=from_minor(r.total),
        )


class BonusReportOut(BaseModel):
    """Bonuses per person over a period."""

    date_from: dt.date
    date_to: dt.date
    rows: list[BonusReportRowOut]
