"""The compiled index of the distribution conditions, and the explanation of a decision (pure).

:class:`DistributionIndex` compiles the conditions once: for every group it keeps the
candidates of its whole chain (the group, its ancestors, then "all") in precedence order,
cut after the first candidate that applies to every sale, with equal chains and filters
shared; every item gets its chain (its own conditions, then its group's chain) on first use.
Resolving a line is one lookup and a walk of the first few candidates, and touches about
the same memory however many conditions there are.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from nomenclature.distribution.conditions import Condition, SaleContext, Scope, precedence
from nomenclature.distribution.groups import GroupTree

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
        self.conditions = sorted(conditions, key=precedence)
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
        # _winner's walk, inlined: this is the hot path of every sale (bench/distribution.py).
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
        return _winner(
            self._group_chain(group_id), ctx.on.toordinal(), ctx.branch_id, ctx.order_kind, ctx.payment_kind
        )

    def deciders(
        self,
        item_id: int | None,
        group_id: int | None,
        places: Iterable[tuple[int | None, str | None, str | None]],
        since: dt.date | None = None,
    ) -> set[Condition | None]:
        """Every condition that decides a line of the item in some place ``(branch, order kind,
        payment kind)`` on some day from ``since`` (any day when None); None among them: some
        sale there has no condition.

        ``item_id`` None is a new item, which only its group's conditions cover. The winner can
        change only on a day a candidate starts or the day after one ends, so those days suffice.
        """
        if item_id is None:
            chain = self._group_chain(group_id)
        else:
            entry = self._lines.get(item_id)
            chain = (
                entry[1]
                if entry is not None and entry[0] == group_id
                else self._line_chain(item_id, group_id)
            )
        start = since.toordinal() if since is not None else _MIN_DAY
        days = {start} | {d for cand in chain for d in (cand[0], cand[1] + 1) if start < d <= _MAX_DAY}
        found: set[Condition | None] = set()
        for branch, kind, payment in places:
            for day in days:
                found.add(_winner(chain, day, branch, kind, payment))
        return found

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


def _winner(
    chain: tuple[_Compiled, ...], day: int, branch: int | None, kind: str | None, payment: str | None
) -> Condition | None:
    """The first candidate of ``chain`` that applies to a sale on the day (an ordinal) and place."""
    for lo, hi, bs, ks, ps, c in chain:
        if (
            lo <= day <= hi
            and (bs is None or branch in bs)
            and (ks is None or kind in ks)
            and (ps is None or payment in ps)
        ):
            return c
    return None


def _why_won(label: str) -> str:
    return f"the most specific applicable scope ({label}) with the highest priority, newest first"


def _why_lost(c: Condition, rank: int, winner: Condition, winner_rank: int) -> str:
    if rank > winner_rank:
        return f"a more specific scope won: {winner.label}"
    if c.priority < winner.priority:
        return f"same scope, lower priority ({c.priority} < {winner.priority} of {winner.label})"
    return f"same scope and priority {c.priority}, older than {winner.label}"
