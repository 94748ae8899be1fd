"""The JSON API of the back office: antifraud rules, blacklist, held orders, tickets, bonuses."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app
from sqlalchemy import select

from callcentre import antifraud, antifraud_services, bonus_services, ticket_services
from callcentre.backoffice_ports import RULEBOOK, TICKET_SLA_MINUTES
from callcentre.backoffice_schemas import (
    AntifraudBacktestIn,
    AntifraudBacktestOut,
    AntifraudCheckQuery,
    AntifraudKindOut,
    AntifraudRuleEdit,
    AntifraudRuleIn,
    AntifraudRuleOut,
    AntifraudRuleSwitch,
    AntifraudRuleVersionOut,
    AntifraudVerdictOut,
    BlacklistEntryIn,
    BlacklistEntryOut,
    BonusEntryOut,
    BonusReportOut,
    BonusReportQuery,
    BonusReportRowOut,
    BonusRuleIn,
    BonusRuleOut,
    BonusTotalsOut,
    HeldOrderOut,
    HeldRejectIn,
    HeldReleaseIn,
    TicketAssignIn,
    TicketCommentIn,
    TicketEventOut,
    TicketIn,
    TicketMoveIn,
    TicketOut,
    TicketPage,
    TicketQuery,
)
from callcentre.bonuses import Operation, percent_to_bp
from frontoffice.api import endpoint
from frontoffice.db import utcnow
from frontoffice.errors import InvalidInput, NotFound
from frontoffice.models import Role, User
from frontoffice.money import from_minor, to_minor
from frontoffice.phones import InvalidPhone, normalize_phone
from orders.schemas import OrderOut

bp = Blueprint("callcentre_backoffice_api", __name__, url_prefix="/api/v1")

RULE_EDITORS = {Role.MANAGER}
SCREENERS = {Role.OPERATOR, Role.MANAGER}
HOLD_DECIDERS = {Role.MANAGER}
TICKET_READERS = {Role.OPERATOR, Role.MANAGER, Role.BACKOFFICE}
TICKET_WORKERS = {Role.MANAGER, Role.BACKOFFICE}
BONUS_EARNERS = {Role.OPERATOR, Role.BACKOFFICE, Role.MANAGER}
BONUS_MANAGERS = {Role.MANAGER}


def _kernel() -> Any:
    return current_app.extensions["frontoffice"]


def rulebook() -> antifraud_services.RuleBook:
    """The app's cached rule book."""
    return _kernel().extensions.get(RULEBOOK)


def _phone(raw: str, field: str) -> str:
    try:
        return normalize_phone(raw, _kernel().settings.phone_region)
    except InvalidPhone as exc:
        raise InvalidInput(
            str(exc), errors=[{"field": field, "message": str(exc), "type": "value_error"}]
        ) from None


def user_names(session, ids) -> dict[int, str]:
    """Display names of users by id."""
    wanted = {i for i in ids if i}
    if not wanted:
        return {}
    return {
        uid: name for uid, name in session.execute(select(User.id, User.full_name).where(User.id.in_(wanted)))
    }


# --- antifraud rules ------------------------------------------------------------------------


@endpoint(
    bp,
    "/antifraud/kinds",
    roles=RULE_EDITORS,
    response=list[AntifraudKindOut],
    summary="The rule kinds and their parameters",
    tags=["antifraud"],
)
def antifraud_kinds() -> list[AntifraudKindOut]:
    """What rules can check, with each kind's parameters and defaults."""
    return [AntifraudKindOut.of(k) for k in antifraud.KINDS.values()]


@endpoint(
    bp,
    "/antifraud/rules",
    roles=RULE_EDITORS,
    response=list[AntifraudRuleOut],
    summary="Every antifraud rule with its current version",
    tags=["antifraud"],
)
def list_rules() -> list[AntifraudRuleOut]:
    """Rules on and off."""
    with _kernel().db.reading() as s:
        return [AntifraudRuleOut.of(v) for v in antifraud_services.list_rules(s)]


@endpoint(
    bp,
    "/antifraud/rules",
    method="POST",
    roles=RULE_EDITORS,
    body=AntifraudRuleIn,
    response=AntifraudRuleOut,
    status=201,
    summary="Create an antifraud rule",
    tags=["antifraud"],
)
def create_rule(body: AntifraudRuleIn, actor: User) -> AntifraudRuleOut:
    """A new rule, version 1."""
    with _kernel().db.unit_of_work() as s:
        view = antifraud_services.create_rule(
            s,
            kind=body.kind,
            name=body.name,
            params=body.params,
            score=body.score,
            action=body.action,
            active=body.active,
            note=body.note,
            actor_id=actor.id,
        )
        return AntifraudRuleOut.of(view)


@endpoint(
    bp,
    "/antifraud/rules/<int:rule_id>",
    roles=RULE_EDITORS,
    response=AntifraudRuleOut,
    summary="One antifraud rule",
    tags=["antifraud"],
    errors=(404,),
)
def get_rule(rule_id: int) -> AntifraudRuleOut:
    """A rule with its current version."""
    with _kernel().db.reading() as s:
        return AntifraudRuleOut.of(antifraud_services.get_rule(s, rule_id))


@endpoint(
    bp,
    "/antifraud/rules/<int:rule_id>",
    method="PUT",
    roles=RULE_EDITORS,
    body=AntifraudRuleEdit,
    response=AntifraudRuleOut,
    summary="Edit a rule (saved as a new version)",
    tags=["antifraud"],
    errors=(404, 409),
)
def edit_rule(rule_id: int, body: AntifraudRuleEdit, actor: User) -> AntifraudRuleOut:
    """Save a new version; verdicts already given keep naming the version that decided."""
    with _kernel().db.unit_of_work() as s:
        view = antifraud_services.edit_rule(
            s,
            rule_id,
            name=body.name,
            params=body.params,
            score=body.score,
            action=body.action,
            note=body.note,
            expected_version=body.expected_version,
            actor_id=actor.id,
        )
        return AntifraudRuleOut.of(view)


@endpoint(
    bp,
    "/antifraud/rules/<int:rule_id>/active",
    method="POST",
    roles=RULE_EDITORS,
    body=AntifraudRuleSwitch,
    response=AntifraudRuleOut,
    summary="Switch a rule on or off",
    tags=["antifraud"],
    errors=(404,),
)
def switch_rule(rule_id: int, body: AntifraudRuleSwitch) -> AntifraudRuleOut:
    """On or off; not a new version."""
    with _kernel().db.unit_of_work() as s:
        return AntifraudRuleOut.of(antifraud_services.set_rule_active(s, rule_id, body.active))


@endpoint(
    bp,
    "/antifraud/rules/<int:rule_id>/versions",
    roles=RULE_EDITORS,
    response=list[AntifraudRuleVersionOut],
    summary="Every version of a rule, newest first",
    tags=["antifraud"],
    errors=(404,),
)
def rule_versions(rule_id: int) -> list[AntifraudRuleVersionOut]:
    """The history of a rule."""
    with _kernel().db.reading() as s:
        return [AntifraudRuleVersionOut.of(v) for v in antifraud_services.rule_versions(s, rule_id)]


@endpoint(
    bp,
    "/antifraud/backtest",
    method="POST",
    roles=RULE_EDITORS,
    body=AntifraudBacktestIn,
    response=AntifraudBacktestOut,
    summary="Run a rule over past orders",
    tags=["antifraud"],
    errors=(404,),
    idempotent=False,
    description="How many orders of the last `days` the rule would have fired on, and how many of "
    "those were in fact cancelled or failed. Name a stored rule, or a kind with parameters.",
)
def backtest(body: AntifraudBacktestIn) -> AntifraudBacktestOut:
    """A read-only simulation."""
    with _kernel().db.reading() as s:
        kind, params, name = body.kind, body.params, "unsaved rule"
        if body.rule_id is not None:
            view = antifraud_services.get_rule(s, body.rule_id)
            kind, name = view.rule.kind, view.current.name
            params = body.params if body.params is not None else view.current.params
        if kind is None:
            raise InvalidInput(
                "Name a stored rule (rule_id) or a kind with parameters.",
                errors=[{"field": "rule_id", "message": "rule_id or kind is required", "type": "missing"}],
            )
        result = antifraud_services.backtest(s, kind=kind, params=params, days=body.days, name=name)
        return AntifraudBacktestOut.of(result)


@endpoint(
    bp,
    "/antifraud/check",
    roles=SCREENERS,
    query=AntifraudCheckQuery,
    response=AntifraudVerdictOut,
    summary="Screen a caller at first contact",
    tags=["antifraud"],
    description="The verdict of the phone-level rules before any order is taken; the dossier "
    "lookup shows the same under `sections.warnings`.",
)
def check_caller(query: AntifraudCheckQuery) -> AntifraudVerdictOut:
    """Evaluate the rules that apply to a caller."""
    phone = _phone(query.phone, "query.phone")
    with _kernel().db.reading() as s:
        verdict = antifraud_services.screen_contact(s, rulebook(), phone, query.name)
    return AntifraudVerdictOut.model_validate(verdict.to_dict())


# --- blacklist ------------------------------------------------------------------------------


@endpoint(
    bp,
    "/antifraud/blacklist",
    roles=RULE_EDITORS,
    response=list[BlacklistEntryOut],
    summary="The blacklist, newest first",
    tags=["antifraud"],
)
def list_blacklist() -> list[BlacklistEntryOut]:
    """Every listed phone, address and device."""
    with _kernel().db.reading() as s:
        return [BlacklistEntryOut.of(e) for e in antifraud_services.list_blacklist(s)]


@endpoint(
    bp,
    "/antifraud/blacklist",
    method="POST",
    roles=RULE_EDITORS,
    body=BlacklistEntryIn,
    response=BlacklistEntryOut,
    status=201,
    summary="Blacklist a phone, an address or a device",
    tags=["antifraud"],
    errors=(409,),
)
def add_blacklist(body: BlacklistEntryIn, actor: User) -> BlacklistEntryOut:
    """Phones are stored in E.164, addresses normalized."""
    with _kernel().db.unit_of_work() as s:
        entry = antifraud_services.add_to_blacklist(
            s, body.kind, body.value, body.reason, actor_id=actor.id, region=_kernel().settings.phone_region
        )
        return BlacklistEntryOut.of(entry)


@endpoint(
    bp,
    "/antifraud/blacklist/<int:entry_id>",
    method="DELETE",
    roles=RULE_EDITORS,
    status=204,
    summary="Take an entry off the blacklist",
    tags=["antifraud"],
    errors=(404,),
)
def remove_blacklist(entry_id: int) -> None:
    """Delete one entry."""
    with _kernel().db.unit_of_work() as s:
        antifraud_services.remove_from_blacklist(s, entry_id)


# --- held orders ----------------------------------------------------------------------------


@endpoint(
    bp,
    "/antifraud/held",
    roles=HOLD_DECIDERS,
    response=list[HeldOrderOut],
    summary="Orders on hold, oldest first",
    tags=["antifraud"],
)
def list_held() -> list[HeldOrderOut]:
    """The queue a manager works through."""
    with _kernel().db.reading() as s:
        return [HeldOrderOut.of(h) for h in antifraud_services.held_orders(s)]


@endpoint(
    bp,
    "/antifraud/held/<int:order_id>/release",
    method="POST",
    roles=HOLD_DECIDERS,
    body=HeldReleaseIn,
    response=OrderOut,
    summary="Let a held order go on (on_hold → confirmed)",
    tags=["antifraud"],
    errors=(404, 409),
)
def release_held(order_id: int, body: HeldReleaseIn, actor: User) -> OrderOut:
    """Confirm; the move is in the order's audit trail."""
    with _kernel().db.unit_of_work() as s:
        order = antifraud_services.release_held(
            s, order_id, actor_id=actor.id, note=body.note, expected_version=body.expected_version
        )
        return OrderOut.of(order)


@endpoint(
    bp,
    "/antifraud/held/<int:order_id>/reject",
    method="POST",
    roles=HOLD_DECIDERS,
    body=HeldRejectIn,
    response=OrderOut,
    summary="Refuse a held order (on_hold → rejected)",
    tags=["antifraud"],
    errors=(404, 409),
)
def reject_held(order_id: int, body: HeldRejectIn, actor: User) -> OrderOut:
    """Reject with a reason; the move is in the order's audit trail."""
    with _kernel().db.unit_of_work() as s:
        order = antifraud_services.reject_held(
            s, order_id, body.reason, actor_id=actor.id, expected_version=body.expected_version
        )
        return OrderOut.of(order)


# --- tickets --------------------------------------------------------------------------------


def _ticket_out(s, ticket, with_events: bool = False) -> TicketOut:
    ids = [ticket.assignee_id] + ([e.actor_id for e in ticket.events] if with_events else [])
    return TicketOut.of(ticket, utcnow(), user_names(s, ids), with_events=with_events)


@endpoint(
    bp,
    "/tickets",
    roles=TICKET_READERS,
    query=TicketQuery,
    response=TicketPage,
    summary="The ticket queue, earliest deadline first",
    tags=["tickets"],
)
def list_tickets(query: TicketQuery, actor: User) -> TicketPage:
    """Filter by status, kind, overdue, phone, order, or your own."""
    statuses = query.status if isinstance(query.status, list) else [query.status] if query.status else []
    flt = ticket_services.TicketFilter(
        status=[st.value for st in statuses],
        kind=query.kind.value if query.kind else None,
        overdue=query.overdue,
        phone=_phone(query.phone, "query.phone") if query.phone else None,
        order_id=query.order_id,
        assignee_id=actor.id if query.mine else None,
        page=query.page,
        per_page=query.per_page,
    )
    now = utcnow()
    with _kernel().db.reading() as s:
        rows, total = ticket_services.list_tickets(s, flt, now)
        names = user_names(s, [t.assignee_id for t in rows])
        return TicketPage(
            items=[TicketOut.of(t, now, names) for t in rows],
            total=total,
            page=query.page,
            per_page=query.per_page,
        )


@endpoint(
    bp,
    "/tickets",
    method="POST",
    roles=TICKET_READERS,
    body=TicketIn,
    response=TicketOut,
    status=201,
    summary="Open a ticket for the back office",
    tags=["tickets"],
)
def open_ticket(body: TicketIn, actor: User) -> TicketOut:
    """From the dossier (client phone) or an order; the deadline follows the kind's SLA."""
    k = _kernel()
    with k.db.unit_of_work() as s:
        ticket = ticket_services.open_ticket(
            s,
            kind=body.kind.value,
            subject=body.subject,
            body=body.body,
            client_phone=body.client_phone,
            order_id=body.order_id,
            actor_id=actor.id,
            region=k.settings.phone_region,
            sla_minutes=k.extensions.get(TICKET_SLA_MINUTES),
        )
        return _ticket_out(s, ticket, with_events=True)


@endpoint(
    bp,
    "/tickets/<int:ticket_id>",
    roles=TICKET_READERS,
    response=TicketOut,
    summary="One ticket with its history",
    tags=["tickets"],
    errors=(404,),
)
def get_ticket(ticket_id: int) -> TicketOut:
    """The ticket, its comments and moves."""
    with _kernel().db.reading() as s:
        return _ticket_out(s, ticket_services.get_ticket(s, ticket_id), with_events=True)


@endpoint(
    bp,
    "/tickets/<int:ticket_id>/comments",
    method="POST",
    roles=TICKET_READERS,
    body=TicketCommentIn,
    response=TicketEventOut,
    status=201,
    summary="Comment on a ticket",
    tags=["tickets"],
    errors=(404,),
)
def comment_ticket(ticket_id: int, body: TicketCommentIn, actor: User) -> TicketEventOut:
    """Add a line to the history."""
    with _kernel().db.unit_of_work() as s:
        event = ticket_services.add_comment(s, ticket_id, body.body, actor_id=actor.id)
        return TicketEventOut.of(event, {actor.id: actor.full_name})


@endpoint(
    bp,
    "/tickets/<int:ticket_id>/status",
    method="POST",
    roles=TICKET_WORKERS,
    body=TicketMoveIn,
    response=TicketOut,
    summary="Move a ticket (open → in_progress → resolved | rejected)",
    tags=["tickets"],
    errors=(404, 409),
)
def move_ticket(ticket_id: int, body: TicketMoveIn, actor: User) -> TicketOut:
    """Closing needs a note; taking into work assigns the back-office taker."""
    with _kernel().db.unit_of_work() as s:
        ticket = ticket_services.move(
            s,
            ticket_id,
            body.status.value,
            note=body.note,
            actor_id=actor.id,
            expected_version=body.expected_version,
        )
        return _ticket_out(s, ticket, with_events=True)


@endpoint(
    bp,
    "/tickets/<int:ticket_id>/assign",
    method="POST",
    roles=TICKET_WORKERS,
    body=TicketAssignIn,
    response=TicketOut,
    summary="Assign a ticket to a back-office person",
    tags=["tickets"],
    errors=(404, 409),
)
def assign_ticket(ticket_id: int, body: TicketAssignIn, actor: User) -> TicketOut:
    """Only active users with the backoffice role may be assignees."""
    with _kernel().db.unit_of_work() as s:
        ticket = ticket_services.assign(
            s, ticket_id, body.assignee_id, actor_id=actor.id, expected_version=body.expected_version
        )
        return _ticket_out(s, ticket, with_events=True)


# --- bonuses --------------------------------------------------------------------------------


@endpoint(
    bp,
    "/bonuses/me",
    roles=BONUS_EARNERS,
    response=BonusTotalsOut,
    summary="My bonus today and this month",
    tags=["bonuses"],
)
def my_bonus(actor: User) -> BonusTotalsOut:
    """Decimal strings in the business time zone's day and month."""
    k = _kernel()
    with k.db.reading() as s:
        totals = bonus_services.totals_for(s, actor.id, k.settings.timezone)
    return BonusTotalsOut(today=from_minor(totals["today"]), month=from_minor(totals["month"]))


@endpoint(
    bp,
    "/bonuses/me/entries",
    roles=BONUS_EARNERS,
    response=list[BonusEntryOut],
    summary="My latest bonus ledger lines",
    tags=["bonuses"],
)
def my_entries(actor: User) -> list[BonusEntryOut]:
    """The last 50 lines."""
    with _kernel().db.reading() as s:
        return [BonusEntryOut.of(e) for e in bonus_services.entries_for(s, actor.id)]


@endpoint(
    bp,
    "/bonuses/rules",
    roles=BONUS_MANAGERS,
    response=list[BonusRuleOut],
    summary="The bonus rule of every operation",
    tags=["bonuses"],
)
def bonus_rules() -> list[BonusRuleOut]:
    """Operations without a rule show as inactive zero rules."""
    with _kernel().db.reading() as s:
        rules = bonus_services.list_rules(s)
    return [BonusRuleOut.of(op.value, rules.get(op.value)) for op in Operation]


@endpoint(
    bp,
    "/bonuses/rules/<operation>",
    method="PUT",
    roles=BONUS_MANAGERS,
    body=BonusRuleIn,
    response=BonusRuleOut,
    summary="Set the bonus rule of an operation",
    tags=["bonuses"],
    errors=(404,),
)
def save_bonus_rule(operation: str, body: BonusRuleIn, actor: User) -> BonusRuleOut:
    """A fixed amount or a percentage; penalties are entered positive and taken off."""
    if operation not in {o.value for o in Operation}:
        raise NotFound(f"Unknown operation {operation!r}; known: {', '.join(o.value for o in Operation)}.")
    try:
        percent_bp = percent_to_bp(body.percent)
    except ValueError as exc:
        raise InvalidInput(
            str(exc), errors=[{"field": "percent", "message": str(exc), "type": "value_error"}]
        ) from None
    with _kernel().db.unit_of_work() as s:
        rule = bonus_services.save_rule(
            s,
            operation,
            method=body.method,
            amount=to_minor(body.amount),
            percent_bp=percent_bp,
            params=body.params,
            active=body.active,
            actor_id=actor.id,
        )
        return BonusRuleOut.of(operation, rule)


@endpoint(
    bp,
    "/bonuses/report",
    roles=BONUS_MANAGERS,
    query=BonusReportQuery,
    response=BonusReportOut,
    summary="Bonuses per person over a period",
    tags=["bonuses"],
    description="`from` and `to` are business days (inclusive), YYYY-MM-DD.",
)
def bonus_report(query: BonusReportQuery) -> BonusReportOut:
    """Counts and sums per operation, and totals, per person."""
    k = _kernel()
    with k.db.reading() as s:
        rows = bonus_services.report(s, query.date_from, query.date_to, k.settings.timezone)
    return BonusReportOut(
        date_from=query.date_from, date_to=query.date_to, rows=[BonusReportRowOut.of(r) for r in rows]
    )


@endpoint(
    bp,
    "/bonuses/report.csv",
    roles=BONUS_MANAGERS,
    query=BonusReportQuery,
    summary="The bonus report as CSV",
    tags=["bonuses"],
)
def bonus_report_csv(query: BonusReportQuery) -> Response:
    """One line per person: count and amount per operation, and the total."""
    k = _kernel()
    with k.db.reading() as s:
        rows = bonus_services.report(s, query.date_from, query.date_to, k.settings.timezone)
    text = bonus_services.report_csv(rows, query.date_from, query.date_to)
    name = f"bonuses_{query.date_from.isoformat()}_{query.date_to.isoformat()}.csv"
    return Response(
        text, mimetype="text/csv", headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )
