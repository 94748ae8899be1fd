"""The antifraud endpoints: rule kinds, rules and their versions, backtests, screening a caller,
the blacklist and the queue of held orders."""

from __future__ import annotations

from backoffice import antifraud, services
from backoffice.api.common import (
    HOLD_DECIDERS,
    RULE_EDITORS,
    SCREENERS,
    bp,
    phone_of,
    rulebook,
)
from backoffice.schemas import (
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
    HeldOrderOut,
    HeldRejectIn,
    HeldReleaseIn,
)
from frontoffice.api import endpoint
from frontoffice.errors import InvalidInput, field_error
from frontoffice.kernel import current_kernel
from frontoffice.models import User
from orders.schemas import OrderOut

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
    """What rules can check, with each kind's parameters and defaults (titles in English)."""
    labels = current_kernel().labels
    return [
        AntifraudKindOut.of(k, labels.text("antifraud_kind", k.code, locale="en"))
        for k in antifraud.KINDS.values()
    ]


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
    with current_kernel().db.reading() as s:
        return [AntifraudRuleOut.of(v) for v in services.list_rules(s)]


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
    with current_kernel().db.unit_of_work() as s:
        view = services.create_rule(
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
    with current_kernel().db.reading() as s:
        return AntifraudRuleOut.of(services.get_rule(s, rule_id))


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
    with current_kernel().db.unit_of_work() as s:
        view = services.edit_rule(
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
    with current_kernel().db.unit_of_work() as s:
        return AntifraudRuleOut.of(services.set_rule_active(s, rule_id, body.active))


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
    with current_kernel().db.reading() as s:
        return [AntifraudRuleVersionOut.of(v) for v in services.rule_versions(s, rule_id)]


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
    with current_kernel().db.reading() as s:
        kind, params, name = body.kind, body.params, "unsaved rule"
        if body.rule_id is not None:
            view = services.get_rule(s, body.rule_id)
            kind, name = view.rule.kind, view.current.name
            params = body.params if body.params is not None else view.current.params
        if kind is None:
            raise InvalidInput(
                "Name a stored rule (rule_id) or a kind with parameters.",
                errors=[field_error("rule_id", "rule_id or kind is required", type="missing")],
            )
        result = services.backtest(s, kind=kind, params=params, days=body.days, name=name)
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
    phone = phone_of(query.phone, "query.phone")
    with current_kernel().db.reading() as s:
        verdict = services.screen_contact(s, rulebook(), phone, query.name)
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
    with current_kernel().db.reading() as s:
        return [BlacklistEntryOut.of(e) for e in services.list_blacklist(s)]


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
    with current_kernel().db.unit_of_work() as s:
        entry = services.add_to_blacklist(
            s,
            body.kind,
            body.value,
            body.reason,
            actor_id=actor.id,
            region=current_kernel().settings.phone_region,
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
    with current_kernel().db.unit_of_work() as s:
        services.remove_from_blacklist(s, entry_id)


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
    with current_kernel().db.reading() as s:
        return [HeldOrderOut.of(h) for h in services.held_orders(s)]


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
    with current_kernel().db.unit_of_work() as s:
        order = services.release_held(
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
    with current_kernel().db.unit_of_work() as s:
        order = services.reject_held(
            s, order_id, body.reason, actor_id=actor.id, expected_version=body.expected_version
        )
        return OrderOut.of(order)
