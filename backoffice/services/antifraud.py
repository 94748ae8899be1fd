"""Antifraud use cases: the rule book and its versions, and the blacklist."""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backoffice import antifraud
from backoffice.antifraud import Rule
from backoffice.models import AntifraudRule, AntifraudRuleVersion, BlacklistEntry
from frontoffice import audit
from frontoffice.db import execute_fast, utcnow
from frontoffice.errors import Conflict, InvalidInput, NotFound, field_error
from frontoffice.phones import InvalidPhone, normalize_phone


def _flush_or_conflict(session: Session, message: str) -> None:
    """Flush; a unique key taken by a concurrent writer is a 409, not a 500."""
    try:
        session.flush()
    except IntegrityError:
        raise Conflict(message) from None


# --- the rule book --------------------------------------------------------------------------


def _compiled(rule_id: int, kind: str, version_id: int, version: int, name: str, params, score, action):
    return Rule(
        rule_id=rule_id,
        version_id=version_id,
        version=version,
        name=name,
        kind=kind,
        params=antifraud.compile_params(kind, params),
        score=score,
        action=action,
    )


_ACTIVE_RULES = (
    select(
        AntifraudRule.id,
        AntifraudRule.kind,
        AntifraudRuleVersion.id,
        AntifraudRuleVersion.version,
        AntifraudRuleVersion.name,
        AntifraudRuleVersion.params,
        AntifraudRuleVersion.score,
        AntifraudRuleVersion.action,
    )
    .join(
        AntifraudRuleVersion,
        and_(
            AntifraudRuleVersion.rule_id == AntifraudRule.id,
            AntifraudRuleVersion.version == AntifraudRule.current_version,
        ),
    )
    .where(AntifraudRule.active.is_(True))
    .order_by(AntifraudRule.id)
)
_STAMP = select(func.count(AntifraudRule.id), func.coalesce(func.sum(AntifraudRule.revision), 0))


def load_active_rules(session: Session) -> list[Rule]:
    """The current version of every switched-on rule, compiled for evaluation."""
    return [_compiled(*row) for row in session.execute(_ACTIVE_RULES)]


class RuleBook:
    """The active rules, cached per process and reloaded when any rule changed.

    The cache key is the number of rules and the sum of their ``revision`` counters,
    which every change increases — one tiny query instead of reloading every rule,
    and correct across processes sharing one database.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._rules: list[Rule] = []

    def active(self, session: Session) -> list[Rule]:
        """The active rules as of this session's view of the database."""
        count, total = execute_fast(session, _STAMP).one()
        stamp = (int(count), int(total))
        if stamp != self._stamp:
            rules = load_active_rules(session)
            with self._lock:
                self._stamp, self._rules = stamp, rules
            return rules
        return self._rules


@dataclass(frozen=True)
class RuleView:
    """A rule with its current version, for lists and forms."""

    rule: AntifraudRule
    current: AntifraudRuleVersion


def _check_rule_input(kind: str, name: str, params: Any, score: Any, action: Any) -> dict[str, Any]:
    errors = antifraud.check_rule_fields(score, action)
    if not name.strip() or len(name.strip()) > 200:
        errors.append(field_error("name", "must have 1 to 200 characters"))
    normalized: dict[str, Any] = {}
    try:
        normalized = antifraud.normalize_params(kind, params)
    except antifraud.ParamError as exc:
        errors += [{**e, "type": "value_error"} for e in exc.errors]
    if errors:
        raise InvalidInput(
            "The rule cannot be saved: " + "; ".join(f"{e['field']}: {e['message']}" for e in errors),
            errors=errors,
        )
    return normalized


def create_rule(
    session: Session,
    *,
    kind: str,
    name: str,
    params: dict[str, Any] | None,
    score: int,
    action: str,
    active: bool = True,
    note: str = "",
    actor_id: int | None = None,
    now: dt.datetime | None = None,
) -> RuleView:
    """Create a rule with its first version."""
    normalized = _check_rule_input(kind, name, params, score, action)
    now = now or utcnow()
    rule = AntifraudRule(
        kind=kind, active=active, current_version=1, revision=1, created_at=now, updated_at=now
    )
    version = AntifraudRuleVersion(
        version=1,
        name=name.strip(),
        params=normalized,
        score=score,
        action=action,
        note=note.strip()[:500],
        created_at=now,
        created_by=actor_id,
    )
    rule.versions.append(version)
    session.add(rule)
    session.flush()
    audit.record(session, audit.Action.CREATE, "antifraud_rule", rule.id, None, _rule_state(rule, version))
    return RuleView(rule, version)


def _rule_state(rule: AntifraudRule, version: AntifraudRuleVersion) -> dict[str, Any]:
    """What the audit log keeps of a rule: its switch and its current version's content."""
    return {
        "kind": rule.kind,
        "active": rule.active,
        "version": version.version,
        "name": version.name,
        "params": version.params,
        "score": version.score,
        "action": version.action,
    }


def get_rule(session: Session, rule_id: int) -> RuleView:
    """A rule with its current version, or :class:`NotFound`."""
    rule = session.get(AntifraudRule, rule_id)
    if rule is None:
        raise NotFound(f"There is no antifraud rule {rule_id}.")
    current = session.scalar(
        select(AntifraudRuleVersion).where(
            AntifraudRuleVersion.rule_id == rule.id, AntifraudRuleVersion.version == rule.current_version
        )
    )
    assert current is not None
    return RuleView(rule, current)


def list_rules(session: Session) -> list[RuleView]:
    """Every rule (on and off) with its current version, in creation order."""
    rows = session.execute(
        select(AntifraudRule, AntifraudRuleVersion)
        .join(
            AntifraudRuleVersion,
            and_(
                AntifraudRuleVersion.rule_id == AntifraudRule.id,
                AntifraudRuleVersion.version == AntifraudRule.current_version,
            ),
        )
        .order_by(AntifraudRule.id)
    ).all()
    return [RuleView(r, v) for r, v in rows]


def rule_versions(session: Session, rule_id: int) -> list[AntifraudRuleVersion]:
    """Every version of a rule, newest first."""
    get_rule(session, rule_id)
    return list(
        session.scalars(
            select(AntifraudRuleVersion)
            .where(AntifraudRuleVersion.rule_id == rule_id)
            .order_by(AntifraudRuleVersion.version.desc())
        )
    )


def edit_rule(
    session: Session,
    rule_id: int,
    *,
    name: str,
    params: dict[str, Any] | None,
    score: int,
    action: str,
    note: str = "",
    expected_version: int | None = None,
    actor_id: int | None = None,
    now: dt.datetime | None = None,
) -> RuleView:
    """Save an edit as a new version; the old versions stay, so past verdicts still name theirs."""
    view = get_rule(session, rule_id)
    rule = view.rule
    if expected_version is not None and expected_version != rule.current_version:
        raise Conflict(
            f"The rule was changed meanwhile (now version {rule.current_version}, you edited "
            f"{expected_version}); reload it.",
            current_version=rule.current_version,
        )
    normalized = _check_rule_input(rule.kind, name, params, score, action)
    current = view.current
    if (current.name, current.params, current.score, current.action) == (
        name.strip(),
        normalized,
        score,
        action,
    ):
        return view
    now = now or utcnow()
    version = AntifraudRuleVersion(
        rule_id=rule.id,
        version=rule.current_version + 1,
        name=name.strip(),
        params=normalized,
        score=score,
        action=action,
        note=note.strip()[:500],
        created_at=now,
        created_by=actor_id,
    )
    session.add(version)
    rule.current_version = version.version
    rule.revision += 1
    rule.updated_at = now
    _flush_or_conflict(session, f"Rule {rule_id} was saved by someone else at the same moment; reload it.")
    audit.record(
        session,
        audit.Action.UPDATE,
        "antifraud_rule",
        rule.id,
        _rule_state(rule, current),
        _rule_state(rule, version),
    )
    return RuleView(rule, version)


def set_rule_active(
    session: Session, rule_id: int, active: bool, *, now: dt.datetime | None = None
) -> RuleView:
    """Switch a rule on or off (not a new version: what it checks does not change)."""
    view = get_rule(session, rule_id)
    if view.rule.active != active:
        before = _rule_state(view.rule, view.current)
        view.rule.active = active
        view.rule.revision += 1
        view.rule.updated_at = now or utcnow()
        session.flush()
        audit.record(
            session,
            audit.Action.UPDATE,
            "antifraud_rule",
            rule_id,
            before,
            _rule_state(view.rule, view.current),
        )
    return view


# --- the blacklist --------------------------------------------------------------------------


def blacklist_value(kind: str, raw: str, region: str = "RU") -> str:
    """The stored form of a blacklisted value: E.164 phone, normalized address, trimmed device id."""
    text = (raw or "").strip()
    if kind == "phone":
        try:
            return normalize_phone(text, region)
        except InvalidPhone as exc:
            raise InvalidInput(str(exc), errors=[field_error("value", str(exc))]) from None
    if kind == "address":
        value = antifraud.normalize_address(text)
    elif kind == "device":
        value = text[:200]
    else:
        raise InvalidInput(
            f"Unknown blacklist kind {kind!r}.",
            errors=[field_error("kind", f"must be one of {', '.join(antifraud.BLACKLIST_KINDS)}")],
        )
    if not value:
        raise InvalidInput("The value is empty.", errors=[field_error("value", "must not be empty")])
    return value


def add_to_blacklist(
    session: Session,
    kind: str,
    raw: str,
    reason: str = "",
    *,
    actor_id: int | None = None,
    region: str = "RU",
) -> BlacklistEntry:
    """List a phone, address or device; 409 when it is listed already."""
    value = blacklist_value(kind, raw, region)
    existing = session.scalar(
        select(BlacklistEntry).where(BlacklistEntry.kind == kind, BlacklistEntry.value == value)
    )
    if existing is not None:
        raise Conflict(
            f"This {kind} is on the blacklist already (entry {existing.id}).", entry_id=existing.id
        )
    entry = BlacklistEntry(
        kind=kind,
        value=value,
        display=raw.strip()[:500],
        reason=reason.strip()[:500],
        created_by=actor_id,
    )
    session.add(entry)
    _flush_or_conflict(session, f"This {kind} was blacklisted by someone else at the same moment.")
    audit.record(session, audit.Action.CREATE, "blacklist_entry", entry.id, None, audit.state(entry))
    return entry


def remove_from_blacklist(session: Session, entry_id: int) -> None:
    """Take an entry off the blacklist."""
    entry = session.get(BlacklistEntry, entry_id)
    if entry is None:
        raise NotFound(f"There is no blacklist entry {entry_id}.")
    before = audit.state(entry)
    session.delete(entry)
    session.flush()
    audit.record(session, audit.Action.DELETE, "blacklist_entry", entry_id, before, None)


def list_blacklist(session: Session, kind: str | None = None, limit: int = 500) -> list[BlacklistEntry]:
    """Blacklist entries, newest first."""
    stmt = select(BlacklistEntry).order_by(BlacklistEntry.id.desc()).limit(limit)
    if kind:
        stmt = stmt.where(BlacklistEntry.kind == kind)
    return list(session.scalars(stmt))
