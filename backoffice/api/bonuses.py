"""The operator bonus endpoints: my totals and ledger, the rules, the report (JSON and CSV)."""

from __future__ import annotations

from flask import Response

from backoffice import services
from backoffice.api.common import (
    BONUS_EARNERS,
    BONUS_MANAGERS,
    bp,
)
from backoffice.bonuses import Operation, percent_to_bp
from backoffice.schemas import (
    BonusEntryOut,
    BonusReportOut,
    BonusReportQuery,
    BonusReportRowOut,
    BonusRuleIn,
    BonusRuleOut,
    BonusTotalsOut,
)
from frontoffice.api import endpoint
from frontoffice.csvexport import csv_response
from frontoffice.errors import InvalidInput, NotFound, field_error
from frontoffice.kernel import current_kernel
from frontoffice.models import User
from frontoffice.money import from_minor, to_minor


def english_title(operation: str) -> str:
    """The operation's name as the API gives it (English; pages show the label of the user's locale)."""
    return current_kernel().labels.text("bonus_operation", operation, locale="en")


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
    k = current_kernel()
    with k.db.reading() as s:
        totals = services.totals_for(s, actor.id, k.settings.timezone)
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
    with current_kernel().db.reading() as s:
        return [BonusEntryOut.of(e) for e in services.entries_for(s, actor.id)]


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
    with current_kernel().db.reading() as s:
        rules = services.list_bonus_rules(s)
    return [BonusRuleOut.of(op.value, english_title(op.value), rules.get(op.value)) for op in Operation]


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
        raise InvalidInput(str(exc), errors=[field_error("percent", str(exc))]) from None
    with current_kernel().db.unit_of_work() as s:
        rule = services.save_bonus_rule(
            s,
            operation,
            method=body.method,
            amount=to_minor(body.amount),
            percent_bp=percent_bp,
            params=body.params,
            active=body.active,
            actor_id=actor.id,
        )
        return BonusRuleOut.of(operation, english_title(operation), rule)


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
    k = current_kernel()
    with k.db.reading() as s:
        rows = services.report(s, query.date_from, query.date_to, k.settings.timezone)
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
    k = current_kernel()
    with k.db.reading() as s:
        rows = services.report(s, query.date_from, query.date_to, k.settings.timezone)
    header, lines = services.report_table(rows, query.date_from, query.date_to)
    name = f"bonuses_{query.date_from.isoformat()}_{query.date_to.isoformat()}.csv"
    return csv_response(header, lines, name)
