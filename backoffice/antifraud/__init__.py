"""Antifraud rules over plain values: the rule kinds, their parameters, and one evaluation.

A rule is a kind (``blacklist``, ``velocity`` …) with parameters, a score and an
action (``note`` < ``flag`` < ``hold`` < ``reject``). :func:`evaluate` checks a
:class:`Subject` (a caller at first contact, or an order being submitted) against
the active rules with the :class:`Facts` gathered for it — the phone's recent
orders, the recent orders to the same address, the blacklist hits — and returns a
:class:`Verdict`: every rule that fired, with the version that decided, the summed
score and the most severe action. Nothing here touches a database or Flask.

``facts`` holds the vocabulary (stages, actions, subjects, facts, addresses), ``kinds`` the
kinds of rule and their parameters, ``rules`` the verdicts and the evaluation; this package
is their public face (``antifraud.evaluate(...)``).
"""

from __future__ import annotations

from backoffice.antifraud.facts import (
    ACTIONS,
    BAD_STATUSES,
    BLACKLIST_KINDS,
    CONTACT,
    HISTORY_LIMIT,
    MAX_COUNT,
    MAX_SCORE,
    ORDER,
    RULE_ACTIONS,
    SEVERITY,
    STAGES,
    Facts,
    Needs,
    PastOrder,
    Subject,
    address_digest,
    name_key,
    nearest_km,
    normalize_address,
)
from backoffice.antifraud.kinds import (
    KINDS,
    ParamError,
    ParamSpec,
    RuleKind,
    check_rule_fields,
    compile_params,
    kind_of,
    normalize_params,
)
from backoffice.antifraud.rules import Hit, Rule, Verdict, evaluate, needs

__all__ = [
    "ACTIONS",
    "BAD_STATUSES",
    "BLACKLIST_KINDS",
    "CONTACT",
    "HISTORY_LIMIT",
    "KINDS",
    "MAX_COUNT",
    "MAX_SCORE",
    "ORDER",
    "RULE_ACTIONS",
    "SEVERITY",
    "STAGES",
    "Facts",
    "Hit",
    "Needs",
    "ParamError",
    "ParamSpec",
    "PastOrder",
    "Rule",
    "RuleKind",
    "Subject",
    "Verdict",
    "address_digest",
    "check_rule_fields",
    "compile_params",
    "evaluate",
    "kind_of",
    "name_key",
    "nearest_km",
    "needs",
    "normalize_address",
    "normalize_params",
]
