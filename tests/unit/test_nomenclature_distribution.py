"""Distribution conditions: precedence, periods, context filters, revenue-limit fallback, explain, lint.

Groups used below: 1 Food › 2 Pizza › 3 Thin pizza; 4 Drinks. Items: 10 in Thin pizza, 11 in
Pizza, 12 in Drinks, 13 without a group.
"""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nomenclature.distribution import (
    Condition,
    DistributionIndex,
    GroupCycle,
    GroupTree,
    OrganizationProfile,
    SaleContext,
    Scope,
    ambiguities,
    build_distributor,
    coverage_gaps,
    find_cycle,
    take_over,
    would_make_cycle,
)
from nomenclature.taxes import TaxSystem, VatRate

TREE = GroupTree({1: None, 2: 1, 3: 2, 4: None})
DAY = dt.date(2026, 6, 15)
CTX = SaleContext(DAY, branch_id=1, order_kind="delivery", payment_kind="cash")
T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def cond(cid: int, scope: str = "all", target: int | None = None, org: int = 1, **kw) -> Condition:
    """A condition created ``cid`` minutes after T0 unless told otherwise."""
    kw.setdefault("created_at", T0 + dt.timedelta(minutes=cid))
    kw.setdefault("tax_system", TaxSystem.OSN)
    return Condition(id=cid, scope=Scope(scope), target_id=target, organization_id=org, **kw)


def winner(conditions, item=10, group=3, ctx=CTX) -> int | None:
    found = DistributionIndex(conditions, TREE).resolve(item, group, ctx)
    return found.id if found else None


@pytest.mark.parametrize(
    ("conditions", "item", "group", "expected"),
    [
        ([cond(1), cond(2, "group", 1)], 10, 3, 2),  # a group beats all nomenclature
        ([cond(1, "group", 1), cond(2, "group", 2)], 10, 3, 2),  # the deeper group wins
        ([cond(1, "group", 2), cond(2, "group", 1)], 10, 3, 1),  # … whichever is newer
        ([cond(1, "group", 3), cond(2, "item", 10)], 10, 3, 2),  # the item beats its group
        ([cond(1, "item", 10), cond(2, "group", 3, priority=100)], 10, 3, 1),  # scope before priority
        ([cond(1, priority=5), cond(2, priority=1)], 10, 3, 1),  # then the higher priority
        ([cond(1), cond(2)], 10, 3, 2),  # then the newest
        ([cond(2, created_at=T0), cond(1, created_at=T0)], 10, 3, 2),  # same moment: the larger id
        ([cond(1, "group", 4)], 10, 3, None),  # another group's condition does not cover the item
        ([cond(1, "group", 2)], 11, 2, 1),  # an item directly in the group
        ([cond(1, "group", 1), cond(2)], 13, None, 2),  # an item without a group: only "all"
        ([cond(1, "item", 11)], 10, 3, None),
    ],
)
def test_resolution_precedence(conditions, item, group, expected):
    assert winner(conditions, item, group) == expected


@pytest.mark.parametrize(
    ("valid_from", "valid_to", "applies"),
    [
        (None, None, True),
        (DAY, None, True),  # the first day counts
        (None, DAY, True),  # the last day counts
        (DAY + dt.timedelta(days=1), None, False),
        (None, DAY - dt.timedelta(days=1), False),
        (dt.date(2026, 1, 1), dt.date(2026, 12, 31), True),
    ],
)
def test_validity_periods_are_inclusive_days(valid_from, valid_to, applies):
    c = cond(2, "group", 3, valid_from=valid_from, valid_to=valid_to)
    assert winner([cond(1), c]) == (2 if applies else 1)


@pytest.mark.parametrize(
    ("filters", "ctx", "applies"),
    [
        ({"branch_ids": frozenset({1})}, CTX, True),
        ({"branch_ids": frozenset({2})}, CTX, False),
        ({"order_kinds": frozenset({"pickup"})}, CTX, False),
        ({"order_kinds": frozenset({"delivery", "pickup"})}, CTX, True),
        ({"payment_kinds": frozenset({"prepaid"})}, CTX, False),
        ({"payment_kinds": frozenset({"cash"}), "branch_ids": frozenset({1, 2})}, CTX, True),
        ({"branch_ids": frozenset({1})}, SaleContext(DAY), False),  # unknown branch
        ({}, SaleContext(DAY), True),
    ],
)
def test_context_filters(filters, ctx, applies):
    assert winner([cond(1), cond(2, "item", 10, **filters)], ctx=ctx) == (2 if applies else 1)


def test_an_inactive_condition_never_wins():
    assert winner([cond(1), cond(2, "item", 10, active=False)]) == 1


def test_a_filtered_out_specific_condition_falls_through_to_the_next_scope():
    conditions = [cond(1), cond(2, "group", 2), cond(3, "group", 3, branch_ids=frozenset({9}))]
    assert winner(conditions) == 2


# --- the index agrees with a naive scan over every condition ----------------------------------------

GROUP_PARENTS = {1: None, 2: 1, 3: 2, 4: 3, 5: None, 6: 5, 7: 6}
NAIVE_TREE = GroupTree(GROUP_PARENTS)
ITEMS = {100 + g: g for g in GROUP_PARENTS} | {199: None}


def naive(conditions, item, group, ctx):
    chain = NAIVE_TREE.chain(group)
    best, best_key = None, None
    for c in conditions:
        if c.not_applicable(ctx) is not None:
            continue
        if c.scope is Scope.ITEM and c.target_id == item:
            rank = 0
        elif c.scope is Scope.GROUP and c.target_id in chain:
            rank = 1 + chain.index(c.target_id)
        elif c.scope is Scope.ALL:
            rank = 99
        else:
            continue
        key = (rank, -c.priority, -c.newness[0], -c.id)
        if best_key is None or key < best_key:
            best, best_key = c, key
    return best


conditions_strategy = st.lists(
    st.builds(
        lambda n, scope, target, priority, branches, kinds, start, length, active, minute: cond(
            n,
            scope,
            None if scope == "all" else target if scope == "group" else 100 + target,
            priority=priority,
            branch_ids=frozenset(branches),
            order_kinds=frozenset(kinds),
            valid_from=DAY + dt.timedelta(days=start) if start is not None else None,
            valid_to=DAY + dt.timedelta(days=(start or 0) + length) if length is not None else None,
            active=active,
            created_at=T0 + dt.timedelta(minutes=minute),
        ),
        n=st.integers(1, 10_000),
        scope=st.sampled_from(["all", "group", "item"]),
        target=st.sampled_from(sorted(GROUP_PARENTS)),
        priority=st.integers(-2, 2),
        branches=st.sets(st.integers(1, 3), max_size=2),
        kinds=st.sets(st.sampled_from(["delivery", "pickup"]), max_size=1),
        start=st.none() | st.integers(-3, 3),
        length=st.none() | st.integers(0, 4),
        active=st.booleans(),
        minute=st.integers(0, 5),
    ),
    max_size=25,
    unique_by=lambda c: c.id,
)


@settings(max_examples=150, deadline=None)
@given(
    conditions=conditions_strategy,
    item=st.sampled_from(sorted(ITEMS)),
    branch=st.integers(1, 3),
    kind=st.sampled_from(["delivery", "pickup"]),
    shift=st.integers(-4, 6),
)
def test_the_compiled_index_decides_exactly_as_a_scan_over_all_conditions(
    conditions, item, branch, kind, shift
):
    ctx = SaleContext(DAY + dt.timedelta(days=shift), branch, kind, "cash")
    index = DistributionIndex(conditions, NAIVE_TREE)
    assert index.resolve(item, ITEMS[item], ctx) == naive(conditions, item, ITEMS[item], ctx)


# --- the group tree -------------------------------------------------------------------------------


def test_a_cycle_in_the_group_tree_is_found_and_refused():
    assert find_cycle({1: 2, 2: 3, 3: 1, 4: None}) is not None
    assert find_cycle({1: None, 2: 1}) is None
    with pytest.raises(GroupCycle):
        GroupTree({1: 2, 2: 1})


def test_moving_a_group_under_its_own_descendant_would_make_a_cycle():
    parents = {1: None, 2: 1, 3: 2}
    assert would_make_cycle(parents, 1, 3)
    assert would_make_cycle(parents, 2, 2)
    assert not would_make_cycle(parents, 3, 1)
    assert not would_make_cycle(parents, 3, None)


def test_chains_run_from_the_group_up_to_the_root():
    assert TREE.chain(3) == (3, 2, 1)
    assert TREE.depth(3) == 3
    assert TREE.subtree(2) == {2, 3}
    assert TREE.chain(None) == ()


# --- organizations: revenue-limit fallback and the VAT rate ------------------------------------------

LLC = OrganizationProfile(1, "LLC", (TaxSystem.OSN,), True, VatRate.VAT22)
IP = OrganizationProfile(
    2,
    "IP",
    (TaxSystem.USN_INCOME,),
    False,
    VatRate.NONE,
    annual_revenue_limit=1_000_000,
    fallback_organization_id=1,
    fallback_tax_system=TaxSystem.OSN,
)
ORGS = {1: LLC, 2: IP}


@pytest.mark.parametrize(
    ("revenue", "seller"),
    [
        ({}, 2),
        ({2: 999_999}, 2),
        ({2: 1_000_000}, 1),  # reaching the limit hands over
        ({2: 5_000_000}, 1),
    ],
)
def test_the_fallback_organization_takes_over_at_the_revenue_limit(revenue, seller):
    org, tax_system, passed, notes = take_over(2, TaxSystem.USN_INCOME, ORGS, revenue)
    assert org == seller
    assert tax_system is (TaxSystem.OSN if seller == 1 else TaxSystem.USN_INCOME)
    assert passed == ((2,) if seller == 1 else ())
    assert bool(notes) == (seller == 1)


def test_fallbacks_chain_and_stop_at_a_loop():
    a = OrganizationProfile(1, "A", (TaxSystem.OSN,), True, VatRate.VAT22, 10, 2)
    b = OrganizationProfile(2, "B", (TaxSystem.OSN,), True, VatRate.VAT22, 10, 3)
    c = OrganizationProfile(3, "C", (TaxSystem.OSN,), True, VatRate.VAT22, 10, 1)
    orgs = {1: a, 2: b, 3: c}
    assert take_over(1, TaxSystem.OSN, orgs, {1: 10})[0] == 2
    assert take_over(1, TaxSystem.OSN, orgs, {1: 10, 2: 10})[0] == 3
    org, _ts, passed, notes = take_over(1, TaxSystem.OSN, orgs, {1: 10, 2: 10, 3: 10})
    assert org == 3 and passed == (1, 2) and "cannot take over" in notes[-1]


def test_an_inactive_fallback_does_not_take_over():
    inactive = OrganizationProfile(1, "LLC", (TaxSystem.OSN,), True, VatRate.VAT22, active=False)
    assert take_over(2, TaxSystem.USN_INCOME, {1: inactive, 2: IP}, {2: 2_000_000})[0] == 2


def test_an_assignment_names_the_seller_the_rate_and_the_condition():
    dist = build_distributor(
        [cond(1, org=1), cond(2, "group", 4, org=2, tax_system=TaxSystem.USN_INCOME)], TREE, ORGS
    )
    pizza = dist.assign(10, 3, VatRate.VAT22, CTX)
    drink = dist.assign(12, 4, VatRate.VAT22, CTX)
    assert (pizza.organization_id, pizza.tax_system, pizza.vat_rate, pizza.condition_id) == (
        1,
        TaxSystem.OSN,
        VatRate.VAT22,
        1,
    )
    assert (drink.organization_id, drink.vat_rate, drink.condition_id) == (2, VatRate.NONE, 2)
    over = dist.assign(12, 4, VatRate.VAT22, CTX, revenue={2: 1_000_000})
    assert (over.organization_id, over.tax_system, over.vat_rate, over.fallback_from) == (
        1,
        TaxSystem.OSN,
        VatRate.VAT22,
        (2,),
    )


def test_an_uncovered_line_goes_to_the_default_organization_only_when_one_is_set():
    dist = build_distributor([cond(1, "group", 4, org=1)], TREE, ORGS)
    assert dist.assign(10, 3, VatRate.VAT22, CTX) is None
    fallback = dist.assign(10, 3, VatRate.VAT22, CTX, default_organization_id=1)
    assert fallback.organization_id == 1 and fallback.condition_id is None
    assert fallback.decided_by == "default organization"


def test_conditions_of_an_inactive_organization_cannot_win():
    orgs = {1: LLC, 2: OrganizationProfile(2, "Closed", (TaxSystem.OSN,), True, VatRate.VAT22, active=False)}
    dist = build_distributor([cond(1, org=1), cond(2, "item", 10, org=2)], TREE, orgs)
    assert dist.assign(10, 3, VatRate.VAT22, CTX).condition_id == 1
    assert "inactive" in dist.unusable(cond(2, "item", 10, org=2))


# --- explain and lint -----------------------------------------------------------------------------


def test_explain_shows_the_winner_and_why_every_other_condition_lost():
    conditions = [
        cond(1),
        cond(2, "group", 1),
        cond(3, "group", 3, priority=1),
        cond(4, "group", 3, priority=5),
        cond(5, "item", 10, branch_ids=frozenset({7})),
        cond(6, "group", 3, priority=5, created_at=T0),
        cond(7, "group", 3, active=False),
    ]
    exp = DistributionIndex(conditions, TREE).explain(10, 3, CTX)
    verdicts = {c.condition.id: (c.verdict, c.reason) for c in exp.considered}
    assert exp.winner.id == 4
    assert verdicts[5] == ("not applicable", "only for branches 7, not branch 1")
    assert verdicts[4][0] == "won"
    assert verdicts[6] == ("lost", "same scope and priority 5, older than #4")
    assert verdicts[3] == ("lost", "same scope, lower priority (1 < 5 of #4)")
    assert verdicts[2][0] == "lost" and "more specific scope" in verdicts[2][1]
    assert verdicts[1][0] == "lost"
    assert verdicts[7] == ("not applicable", "inactive")
    assert [c.condition.id for c in exp.considered][:2] == [5, 4]  # most specific first


def test_lint_finds_conditions_only_their_age_separates():
    conditions = [
        cond(1, "group", 4, org=1),
        cond(2, "group", 4, org=2),  # same scope and priority, different seller: ambiguous
        cond(3, "group", 4, org=3, priority=1),  # another priority: fine
        cond(4, "group", 3, org=1, branch_ids=frozenset({1})),
        cond(5, "group", 3, org=2, branch_ids=frozenset({2})),  # branches do not overlap: fine
        cond(6, "group", 2, org=1, valid_to=dt.date(2026, 3, 31)),
        cond(7, "group", 2, org=2, valid_from=dt.date(2026, 4, 1)),  # periods do not overlap: fine
        cond(8, "item", 10, org=1),
        cond(9, "item", 10, org=1),  # same outcome: not ambiguous
    ]
    found = ambiguities(conditions)
    assert [(a.first.id, a.second.id) for a in found] == [(1, 2)]
    assert "only their age" in found[0].message


def test_lint_lists_items_some_contexts_leave_uncovered():
    index = DistributionIndex([cond(1, "group", 1, branch_ids=frozenset({1})), cond(2, "group", 4)], TREE)
    gaps = {g.item_id: g for g in coverage_gaps([(10, 3), (12, 4), (13, None)], index, DAY, [1, 2])}
    assert set(gaps) == {10, 13}
    assert not gaps[10].everywhere and {c.branch_id for c in gaps[10].contexts} == {2}
    assert gaps[13].everywhere and len(gaps[13].contexts) == 2 * 2 * 3
