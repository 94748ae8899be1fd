"""Distribution conditions: which organization and tax system sells each line, and why (pure).

A condition covers all nomenclature, a group (with its subgroups) or one item, and names a
target organization, tax system and optionally a VAT rate. It may be limited to branches,
order kinds and payment kinds, and to a validity period. For a line the most specific
scope wins (item > deeper group > shallower group > all), then the higher priority, then
the newer condition.

:class:`DistributionIndex` compiles the conditions once: for every group it keeps the
candidates of its whole chain (the group, its ancestors, then "all") in precedence order,
cut after the first candidate that applies to every sale, with equal chains and filters
shared; every item gets its chain (its own conditions, then its group's chain) on first use.
Resolving a line is one lookup and a walk of the first few candidates, and touches about
the same memory however many conditions there are.
"""

from __future__ import annotations

import datetime as dt
import enum
import itertools
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from nomenclature.taxes import TaxSystem, VatRate, effective_vat_rate

ORDER_KINDS = ("delivery", "pickup")
PAYMENT_KINDS = ("cash", "card_on_delivery", "prepaid")
MAX_GROUP_DEPTH = 12
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


class Scope(enum.StrEnum):
    """What a condition covers."""

    ALL = "all"
    GROUP = "group"
    ITEM = "item"


class GroupCycle(ValueError):
    """The group tree has a cycle (a group is its own ancestor)."""


@dataclass(frozen=True, slots=True)
class SaleContext:
    """Where and how a line is sold: the business day, branch, order kind and payment kind.

    ``None`` means "unknown": a condition limited to some branches does not apply to a sale
    whose branch is unknown.
    """

    on: dt.date
    branch_id: int | None = None
    order_kind: str | None = None
    payment_kind: str | None = None


@dataclass(frozen=True, slots=True)
class Condition:
    """One distribution condition as the rules see it."""

    id: int
    scope: Scope
    organization_id: int
    tax_system: TaxSystem
    target_id: int | None = None
    vat_rate: VatRate | None = None
    priority: int = 0
    branch_ids: frozenset[int] = frozenset()
    order_kinds: frozenset[str] = frozenset()
    payment_kinds: frozenset[str] = frozenset()
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    active: bool = True
    created_at: dt.datetime | None = None
    name: str = ""

    @property
    def outcome(self) -> tuple[int, TaxSystem, VatRate | None]:
        """What the condition decides: organization, tax system, VAT override."""
        return self.organization_id, self.tax_system, self.vat_rate

    @property
    def newness(self) -> tuple[float, int]:
        """Sort key of "newer": creation time, then id."""
        at = self.created_at or _EPOCH
        return (at - _EPOCH).total_seconds(), self.id

    @property
    def label(self) -> str:
        """``#12 "Drinks to the IP"`` for messages."""
        return f'#{self.id} "{self.name}"' if self.name else f"#{self.id}"

    def not_applicable(self, ctx: SaleContext) -> str | None:
        """Why this condition does not apply to a sale in ``ctx``, or None when it does."""
        if not self.active:
            return "inactive"
        if self.valid_from is not None and ctx.on < self.valid_from:
            return f"not valid yet on {ctx.on.isoformat()} (from {self.valid_from.isoformat()})"
        if self.valid_to is not None and ctx.on > self.valid_to:
            return f"expired on {ctx.on.isoformat()} (valid until {self.valid_to.isoformat()})"
        if self.branch_ids and ctx.branch_id not in self.branch_ids:
            return f"only for branches {_listed(self.branch_ids)}, not branch {ctx.branch_id}"
        if self.order_kinds and ctx.order_kind not in self.order_kinds:
            return f"only for {_listed(self.order_kinds)} orders, not {ctx.order_kind}"
        if self.payment_kinds and ctx.payment_kind not in self.payment_kinds:
            return f"only for payment by {_listed(self.payment_kinds)}, not {ctx.payment_kind}"
        return None


def _listed(values: Iterable[object]) -> str:
    return ", ".join(str(v) for v in sorted(values, key=str))


def _precedence(c: Condition) -> tuple[int, float, int]:
    seconds, ident = c.newness
    return (-c.priority, -seconds, -ident)


# --- the group tree ------------------------------------------------------------------------------


def find_cycle(parents: Mapping[int, int | None]) -> list[int] | None:
    """A cycle of the parent map as a list of group ids, or None for a proper forest."""
    done: set[int] = set()
    for start in parents:
        path: list[int] = []
        seen: set[int] = set()
        node: int | None = start
        while node is not None and node not in done:
            if node in seen:
                return path[path.index(node) :]
            seen.add(node)
            path.append(node)
            node = parents.get(node)
        done.update(path)
    return None


class GroupTree:
    """The item groups as a parent map, with ancestor chains computed once."""

    def __init__(self, parents: Mapping[int, int | None]):
        cycle = find_cycle(parents)
        if cycle is not None:
            raise GroupCycle(f"the groups {' → '.join(map(str, cycle))} form a cycle")
        self.parents = dict(parents)
        self._chains: dict[int, tuple[int, ...]] = {}
        for group in self.parents:
            self.chain(group)

    def chain(self, group_id: int | None) -> tuple[int, ...]:
        """The group and its ancestors, deepest first (empty for no or an unknown group)."""
        if group_id is None or group_id not in self.parents:
            return ()
        found = self._chains.get(group_id)
        if found is None:
            parent = self.parents[group_id]
            found = (group_id, *self.chain(parent))
            self._chains[group_id] = found
        return found

    def chains(self) -> Iterable[tuple[int, tuple[int, ...]]]:
        """Every group with its chain (the group and its ancestors, deepest first)."""
        return self._chains.items()

    def depth(self, group_id: int) -> int:
        """1 for a top-level group, 2 for its children, …"""
        return len(self.chain(group_id))

    def subtree(self, group_id: int) -> set[int]:
        """The group and every group below it."""
        return {g for g, chain in self._chains.items() if group_id in chain}


def would_make_cycle(parents: Mapping[int, int | None], group_id: int, new_parent: int | None) -> bool:
    """True if giving ``group_id`` the parent ``new_parent`` would make a group its own ancestor."""
    node = new_parent
    steps = 0
    while node is not None and steps <= len(parents) + 1:
        if node == group_id:
            return True
        node = parents.get(node)
        steps += 1
    return False


# --- the index ------------------------------------------------------------------------------------

# A compiled candidate: (first day ordinal, last day ordinal, branches, kinds, payments, condition);
# None filters match everything. Tuples keep the hot loop free of attribute lookups.
_Compiled = tuple[int, int, frozenset | None, frozenset | None, frozenset | None, Condition]
_MIN_DAY, _MAX_DAY = dt.date.min.toordinal(), dt.date.max.toordinal()


class _Compiler:
    """Compiles conditions into candidates and chains, sharing equal parts.

    Equal filters, day ordinals and chains become one object each, and a chain stops at its
    first candidate that applies to every sale (nothing after it can win), so the compiled
    index stays small and a line touches little memory however many conditions there are.
    """

    def __init__(self) -> None:
        self._shared: dict[object, object] = {}

    def share(self, value):
        """The one stored object equal to ``value``."""
        return self._shared.setdefault(value, value)

    def candidate(self, c: Condition) -> _Compiled:
        """The condition as a hot-loop tuple."""
        return (
            self.share(c.valid_from.toordinal()) if c.valid_from else _MIN_DAY,
            self.share(c.valid_to.toordinal()) if c.valid_to else _MAX_DAY,
            self.share(c.branch_ids) if c.branch_ids else None,
            self.share(c.order_kinds) if c.order_kinds else None,
            self.share(c.payment_kinds) if c.payment_kinds else None,
            c,
        )

    def chain(self, candidates: Iterable[_Compiled]) -> tuple[_Compiled, ...]:
        """The candidates up to the first that always applies, as one shared tuple."""
        out: list[_Compiled] = []
        for cand in candidates:
            out.append(cand)
            if cand[:5] == _ALWAYS:
                break
        chain = tuple(out)
        return self._shared.setdefault(("chain", *(id(cand) for cand in chain)), chain)


_ALWAYS = (_MIN_DAY, _MAX_DAY, None, None, None)


@dataclass(frozen=True)
class Considered:
    """One condition looked at for a line, with its verdict."""

    condition: Condition
    level: str
    verdict: str  # "won", "lost", "not applicable"
    reason: str


@dataclass(frozen=True)
class Explanation:
    """The winner for one line (or None) and every condition whose scope covers the item."""

    winner: Condition | None
    considered: list[Considered]


class DistributionIndex:
    """The conditions compiled for fast resolution; immutable once built."""

    def __init__(
        self,
        conditions: Iterable[Condition],
        tree: GroupTree,
        *,
        usable: Callable[[Condition], bool] | None = None,
    ):
        """``usable`` filters out conditions that cannot win (e.g. an inactive organization)."""
        self.tree = tree
        self.conditions = sorted(conditions, key=_precedence)
        self._by_item: dict[int, list[Condition]] = defaultdict(list)
        self._by_group: dict[int, list[Condition]] = defaultdict(list)
        self._all: list[Condition] = []
        for c in self.conditions:
            if c.scope is Scope.ITEM and c.target_id is not None:
                self._by_item[c.target_id].append(c)
            elif c.scope is Scope.GROUP and c.target_id is not None:
                self._by_group[c.target_id].append(c)
            elif c.scope is Scope.ALL:
                self._all.append(c)
        ok = usable or (lambda _c: True)
        self._compiler = compiler = _Compiler()

        def live(cs: Iterable[Condition]) -> tuple[_Compiled, ...]:
            return tuple(compiler.candidate(c) for c in cs if c.active and ok(c))

        self._live_items = {k: live(v) for k, v in self._by_item.items()}
        self._live_items = {k: v for k, v in self._live_items.items() if v}
        live_groups = {k: live(v) for k, v in self._by_group.items()}
        live_all = live(self._all)
        self._root_chain = compiler.chain(live_all)
        self._chains: dict[int, tuple[_Compiled, ...]] = {}
        for group, ancestors in tree.chains():
            self._chains[group] = compiler.chain(
                itertools.chain(
                    itertools.chain.from_iterable(live_groups.get(g, ()) for g in ancestors), live_all
                )
            )
        # Every item gets its chain (its own conditions, if any, then its group's chain) on first
        # use, for the group it is in then: a line costs one lookup and a walk of a shared chain.
        self._lines: dict[int, tuple[int | None, tuple[_Compiled, ...]]] = {}

    def _line_chain(self, item_id: int, group_id: int | None) -> tuple[_Compiled, ...]:
        own = self._live_items.get(item_id)
        chain = self._group_chain(group_id)
        if own is not None:
            chain = self._compiler.chain(itertools.chain(own, chain))
        self._lines[item_id] = (group_id, chain)
        return chain

    def _group_chain(self, group_id: int | None) -> tuple[_Compiled, ...]:
        return self._chains.get(group_id, self._root_chain) if group_id is not None else self._root_chain

    def resolve(self, item_id: int, group_id: int | None, ctx: SaleContext) -> Condition | None:
        """The winning condition for an item of ``group_id`` sold in ``ctx``, or None."""
        entry = self._lines.get(item_id)
        if entry is not None and entry[0] == group_id:
            chain = entry[1]
        else:
            chain = self._line_chain(item_id, group_id)
        day = ctx.on.toordinal()
        branch, kind, payment = ctx.branch_id, ctx.order_kind, ctx.payment_kind
        for lo, hi, bs, ks, ps, c in chain:
            if (
                lo <= day <= hi
                and (bs is None or branch in bs)
                and (ks is None or kind in ks)
                and (ps is None or payment in ps)
            ):
                return c
        return None

    def resolve_group(self, group_id: int | None, ctx: SaleContext) -> Condition | None:
        """The winning condition for an item of ``group_id`` that has no conditions of its own."""
        day = ctx.on.toordinal()
        branch, kind, payment = ctx.branch_id, ctx.order_kind, ctx.payment_kind
        for lo, hi, bs, ks, ps, c in self._group_chain(group_id):
            if (
                lo <= day <= hi
                and (bs is None or branch in bs)
                and (ks is None or kind in ks)
                and (ps is None or payment in ps)
            ):
                return c
        return None

    def has_own_conditions(self, item_id: int) -> bool:
        """True if live conditions name this item itself."""
        return item_id in self._live_items

    def levels(self, item_id: int, group_id: int | None) -> list[tuple[str, int, list[Condition]]]:
        """Every scope level covering the item, most specific first: ``(label, rank, conditions)``.

        Rank is lower for more specific levels; conditions are in precedence order.
        """
        out: list[tuple[str, int, list[Condition]]] = [("item", 0, self._by_item.get(item_id, []))]
        for rank, g in enumerate(self.tree.chain(group_id), start=1):
            out.append((f"group {g}", rank, self._by_group.get(g, [])))
        out.append(("all nomenclature", len(out), self._all))
        return out

    def explain(
        self,
        item_id: int,
        group_id: int | None,
        ctx: SaleContext,
        *,
        usable: Callable[[Condition], str | None] | None = None,
        level_name: Callable[[str], str] | None = None,
    ) -> Explanation:
        """The winner and every condition whose scope covers the item, with why each lost.

        ``usable`` may say why a condition cannot win regardless of the sale (an inactive
        organization); ``level_name`` turns ``"group 3"`` into a readable name.
        """
        name = level_name or (lambda s: s)
        winner: Condition | None = None
        winner_rank = 0
        considered: list[Considered] = []
        for label, rank, conds in self.levels(item_id, group_id):
            for c in conds:
                reason = c.not_applicable(ctx) or (usable(c) if usable else None)
                if reason is not None:
                    considered.append(Considered(c, name(label), "not applicable", reason))
                elif winner is None:
                    winner, winner_rank = c, rank
                    considered.append(Considered(c, name(label), "won", _why_won(name(label))))
                else:
                    considered.append(
                        Considered(c, name(label), "lost", _why_lost(c, rank, winner, winner_rank))
                    )
        return Explanation(winner, considered)


def _why_won(label: str) -> str:
    return f"the most specific applicable scope ({label}) with the highest priority, newest first"


def _why_lost(c: Condition, rank: int, winner: Condition, winner_rank: int) -> str:
    if rank > winner_rank:
        return f"a more specific scope won: {winner.label}"
    if c.priority < winner.priority:
        return f"same scope, lower priority ({c.priority} < {winner.priority} of {winner.label})"
    return f"same scope and priority {c.priority}, older than {winner.label}"


# --- organizations, fallback and the VAT rate ---------------------------------------------------


@dataclass(frozen=True)
class OrganizationProfile:
    """What distribution needs to know about an organization."""

    id: int
    name: str
    tax_systems: tuple[TaxSystem, ...]
    pays_vat: bool
    default_vat_rate: VatRate
    annual_revenue_limit: int | None = None
    fallback_organization_id: int | None = None
    fallback_tax_system: TaxSystem | None = None
    active: bool = True
    inn: str = ""
    kpp: str = ""

    @property
    def main_tax_system(self) -> TaxSystem:
        """The first tax system listed: used when nothing else names one."""
        return self.tax_systems[0]


@dataclass(frozen=True)
class Assignment:
    """Who sells a line: organization, tax system, VAT rate, and what decided it."""

    organization_id: int
    tax_system: TaxSystem
    vat_rate: VatRate
    condition_id: int | None
    decided_by: str  # "condition" or "default organization"
    fallback_from: tuple[int, ...] = ()
    notes: tuple[str, ...] = field(default=())


def take_over(
    organization_id: int,
    tax_system: TaxSystem,
    organizations: Mapping[int, OrganizationProfile],
    revenue: Mapping[int, int],
) -> tuple[int, TaxSystem, tuple[int, ...], tuple[str, ...]]:
    """Follow fallbacks while an organization's revenue this year has reached its limit.

    Returns the organization and tax system that sell, the organizations passed over and
    why. An organization at its limit with no (usable) fallback keeps selling.
    """
    passed: list[int] = []
    notes: list[str] = []
    org = organizations[organization_id]
    while (
        org.annual_revenue_limit is not None
        and revenue.get(org.id, 0) >= org.annual_revenue_limit
        and org.fallback_organization_id is not None
    ):
        nxt = organizations.get(org.fallback_organization_id)
        if nxt is None or not nxt.active or nxt.id in passed or nxt.id == organization_id:
            notes.append(f"{org.name} reached its annual limit but its fallback cannot take over")
            break
        notes.append(
            f"{org.name} reached its annual revenue limit ({revenue.get(org.id, 0)} ≥ "
            f"{org.annual_revenue_limit} kopecks): {nxt.name} takes over"
        )
        passed.append(org.id)
        ts = org.fallback_tax_system
        tax_system = ts if ts is not None and ts in nxt.tax_systems else nxt.main_tax_system
        org = nxt
    return org.id, tax_system, tuple(passed), tuple(notes)


@dataclass
class Distributor:
    """The compiled index plus the organizations: assigns every line of a sale."""

    index: DistributionIndex
    organizations: Mapping[int, OrganizationProfile]

    def assign(
        self,
        item_id: int,
        group_id: int | None,
        item_vat_rate: VatRate,
        ctx: SaleContext,
        *,
        revenue: Mapping[int, int] | None = None,
        default_organization_id: int | None = None,
    ) -> Assignment | None:
        """The assignment of one line, or None when nothing covers it and no default is set."""
        cond = self.index.resolve(item_id, group_id, ctx)
        if cond is not None:
            org_id, tax_system, override, decided = (
                cond.organization_id,
                cond.tax_system,
                cond.vat_rate,
                "condition",
            )
        elif default_organization_id is not None and default_organization_id in self.organizations:
            default = self.organizations[default_organization_id]
            org_id, tax_system, override, decided = (
                default.id,
                default.main_tax_system,
                None,
                "default organization",
            )
        else:
            return None
        final_id, final_ts, passed, notes = take_over(org_id, tax_system, self.organizations, revenue or {})
        org = self.organizations[final_id]
        rate = effective_vat_rate(
            final_ts, org.pays_vat, org.default_vat_rate, item_vat_rate, override, ctx.on
        )
        return Assignment(
            organization_id=final_id,
            tax_system=final_ts,
            vat_rate=rate,
            condition_id=cond.id if cond is not None else None,
            decided_by=decided,
            fallback_from=passed,
            notes=notes,
        )

    def unusable(self, c: Condition) -> str | None:
        """Why a condition cannot win whatever the sale (its organization is gone or inactive)."""
        return condition_unusable(c, self.organizations)


def condition_unusable(c: Condition, organizations: Mapping[int, OrganizationProfile]) -> str | None:
    """Why a condition cannot win whatever the sale: its organization is gone, inactive or
    no longer applies the tax system."""
    org = organizations.get(c.organization_id)
    if org is None:
        return f"organization {c.organization_id} does not exist"
    if not org.active:
        return f"organization {org.name} is inactive"
    if c.tax_system not in org.tax_systems:
        return f"organization {org.name} no longer applies {c.tax_system.label}"
    return None


def build_distributor(
    conditions: Iterable[Condition], tree: GroupTree, organizations: Mapping[int, OrganizationProfile]
) -> Distributor:
    """Compile the conditions, leaving out those whose organization cannot sell."""
    orgs = dict(organizations)
    index = DistributionIndex(conditions, tree, usable=lambda c: condition_unusable(c, orgs) is None)
    return Distributor(index, orgs)


# --- lint ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ambiguity:
    """Two conditions the rules can only separate by age: same scope and priority, overlapping."""

    first: Condition
    second: Condition
    message: str


def _overlap(a: frozenset, b: frozenset) -> bool:
    return not a or not b or bool(a & b)


def _periods_overlap(a: Condition, b: Condition) -> bool:
    lo = max(a.valid_from or dt.date.min, b.valid_from or dt.date.min)
    hi = min(a.valid_to or dt.date.max, b.valid_to or dt.date.max)
    return lo <= hi


def ambiguities(conditions: Iterable[Condition]) -> list[Ambiguity]:
    """Active conditions with the same scope and priority whose contexts and periods overlap
    while their outcomes differ."""
    buckets: dict[tuple[Scope, int | None, int], list[Condition]] = defaultdict(list)
    for c in conditions:
        if c.active:
            buckets[(c.scope, c.target_id, c.priority)].append(c)
    found: list[Ambiguity] = []
    for (_scope, _target, priority), group in sorted(buckets.items(), key=lambda kv: str(kv[0])):
        for a, b in itertools.combinations(sorted(group, key=lambda c: c.id), 2):
            if (
                a.outcome != b.outcome
                and _periods_overlap(a, b)
                and _overlap(a.branch_ids, b.branch_ids)
                and _overlap(a.order_kinds, b.order_kinds)
                and _overlap(a.payment_kinds, b.payment_kinds)
            ):
                found.append(
                    Ambiguity(
                        a,
                        b,
                        f"{a.label} and {b.label} cover the same scope with priority {priority} in "
                        f"overlapping contexts and periods but decide differently; only their age "
                        f"separates them (the newer wins)",
                    )
                )
    return found


@dataclass(frozen=True)
class Gap:
    """An item that some sale contexts leave without a condition."""

    item_id: int
    contexts: list[SaleContext]
    everywhere: bool


def coverage_gaps(
    items: Iterable[tuple[int, int | None]],
    index: DistributionIndex,
    on: dt.date,
    branch_ids: Sequence[int],
) -> list[Gap]:
    """Items (``(id, group_id)``) that no condition covers on ``on`` in some branch × kind × payment.

    Items without their own conditions share their group's answer, so this costs one
    check per group and context, not per item.
    """
    contexts = [
        SaleContext(on, b, k, p)
        for b, k, p in itertools.product(branch_ids or [None], ORDER_KINDS, PAYMENT_KINDS)
    ]
    by_group: dict[int | None, list[SaleContext]] = {}
    gaps: list[Gap] = []
    for item_id, group_id in items:
        if index.has_own_conditions(item_id):
            missing = [ctx for ctx in contexts if index.resolve(item_id, group_id, ctx) is None]
        else:
            if group_id not in by_group:
                by_group[group_id] = [ctx for ctx in contexts if index.resolve_group(group_id, ctx) is None]
            missing = by_group[group_id]
        if missing:
            gaps.append(Gap(item_id, missing, len(missing) == len(contexts)))
    return gaps
