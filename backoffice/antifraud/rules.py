"""Rules ready to evaluate, what they find (hits) and the verdict they give; the evaluation itself."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from backoffice.antifraud.facts import SEVERITY, Facts, Needs, Subject
from backoffice.antifraud.kinds import KINDS

# --- rules and verdicts ---------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """One version of a rule, ready to evaluate (``params`` already compiled by :func:`compile_params`)."""

    rule_id: int
    version_id: int
    version: int
    name: str
    kind: str
    params: Mapping[str, Any]
    score: int
    action: str


@dataclass(frozen=True)
class Hit:
    """A rule that fired, the version that decided, and why."""

    rule_id: int
    version_id: int
    version: int
    rule: str
    kind: str
    score: int
    action: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        """JSON form (stored with the order and shown to the operator)."""
        return {
            "rule": self.rule,
            "rule_id": self.rule_id,
            "version": self.version,
            "version_id": self.version_id,
            "kind": self.kind,
            "score": self.score,
            "action": self.action,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class Verdict:
    """The outcome of one evaluation: the hits, their summed score and the most severe action."""

    stage: str
    hits: tuple[Hit, ...] = ()

    @property
    def score(self) -> int:
        """The sum of the scores of the rules that fired."""
        return sum(h.score for h in self.hits)

    @property
    def action(self) -> str:
        """The most severe action of the rules that fired, ``none`` when none did."""
        return max((h.action for h in self.hits), key=SEVERITY.__getitem__, default="none")

    def reasons(self, at_least: str = "note") -> list[str]:
        """The reasons of the hits whose action is at least ``at_least``."""
        floor = SEVERITY[at_least]
        return [h.reason for h in self.hits if SEVERITY[h.action] >= floor]

    def to_dict(self) -> dict[str, Any]:
        """JSON form: ``{stage, action, score, hits: [...]}``."""
        return {
            "stage": self.stage,
            "action": self.action,
            "score": self.score,
            "hits": [h.to_dict() for h in self.hits],
        }


# --- evaluation -----------------------------------------------------------------------------


def needs(rules: Iterable[Rule], stage: str) -> Needs:
    """The facts the rules applying at ``stage`` need."""
    phone_days = 0.0
    address_minutes = 0.0
    kinds: set[str] = set()
    for rule in rules:
        if stage not in KINDS[rule.kind].stages:
            continue
        p = rule.params
        if rule.kind == "blacklist":
            kinds.update(p["lists"])
        elif rule.kind == "velocity":
            if p["by"] == "phone":
                phone_days = max(phone_days, p["minutes"] / 1440)
            else:
                address_minutes = max(address_minutes, p["minutes"])
        elif "days" in p:
            phone_days = max(phone_days, float(p["days"]))
    return Needs(phone_days, address_minutes, frozenset(kinds))


def evaluate(rules: Iterable[Rule], subject: Subject, facts: Facts) -> Verdict:
    """Check ``subject`` against every rule that applies at its stage."""
    hits = []
    for rule in rules:
        kind = KINDS[rule.kind]
        if subject.stage not in kind.stages:
            continue
        reason = kind.check(rule.params, subject, facts)
        if reason:
            hits.append(
                Hit(
                    rule_id=rule.rule_id,
                    version_id=rule.version_id,
                    version=rule.version,
                    rule=rule.name,
                    kind=rule.kind,
                    score=rule.score,
                    action=rule.action,
                    reason=reason,
                )
            )
    hits.sort(key=lambda h: (-SEVERITY[h.action], -h.score, h.rule_id))
    return Verdict(stage=subject.stage, hits=tuple(hits))
