"""The VAT a line is charged: one rule (``charge_vat``) decides for selling, explain, lint and saves.

A rate the seller's regime cannot charge is a problem, never silently replaced; a rate the law
maps to another (legacy 20 %, a special УСН rate, a seller without VAT) is charged with a note.
Groups: 1 Food › 3 Pizza; 4 Drinks. Items: 10 in Pizza, 12 in Drinks, 13 without a group.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools

import pytest

from nomenclature.distribution import (
    Condition,
    GroupTree,
    OrganizationProfile,
    SaleContext,
    Scope,
    build_distributor,
    fallback_sellers,
    rate_conflicts,
    sale_places,
)
from nomenclature.taxes import TaxSystem, VatRate, charge_vat

T, V = TaxSystem, VatRate
Y2025, Y2026 = dt.date(2025, 12, 31), dt.date(2026, 1, 1)
LEGACY = "20 % (legacy): charged as 22 % from 1 January 2026"
SPECIAL = "instead of 10 % and the standard rate (НК РФ ст. 164 п. 8)"


@pytest.mark.parametrize(
    ("system", "pays_vat", "default", "item", "override", "on", "charged", "note"),
    [
        # the general rates: what the catalogue says, the standard rate following the day (c)
        (T.OSN, True, V.VAT22, V.VAT22, None, Y2026, V.VAT22, None),
        (T.OSN, True, V.VAT22, V.VAT10, None, Y2026, V.VAT10, None),
        (T.OSN, True, V.VAT22, V.VAT0, None, Y2026, V.VAT0, None),
        (T.OSN, True, V.VAT22, V.NONE, None, Y2026, V.NONE, None),
        (T.OSN, True, V.VAT22, V.VAT20, None, Y2026, V.VAT22, LEGACY),
        (T.ESHN, True, V.VAT10, V.VAT20, None, Y2026, V.VAT22, LEGACY),
        (T.OSN, True, V.VAT20, V.VAT22, None, Y2025, V.VAT20, "charged as 20 % until then"),
        (T.OSN, True, V.VAT20, V.VAT20, None, Y2025, V.VAT20, None),
        (T.OSN, True, V.VAT22, V.VAT22, V.VAT10, Y2026, V.VAT10, None),  # the override wins
        (T.OSN, True, V.VAT22, V.VAT5, V.VAT10, Y2026, V.VAT10, None),  # … and fixes a 5 % item
        (T.OSN, True, V.VAT22, V.VAT22, V.VAT20, Y2026, V.VAT22, LEGACY),  # a legacy override too
        # a УСН payer on a special rate charges it instead of 10 % and the standard rate (b)
        (T.USN_INCOME, True, V.VAT5, V.VAT22, None, Y2026, V.VAT5, SPECIAL),
        (T.USN_INCOME, True, V.VAT5, V.VAT10, None, Y2026, V.VAT5, SPECIAL),
        (T.USN_INCOME, True, V.VAT5, V.VAT20, None, Y2026, V.VAT5, SPECIAL),
        (T.USN_INCOME_EXPENSE, True, V.VAT7, V.VAT5, None, Y2026, V.VAT7, SPECIAL),
        (T.USN_INCOME, True, V.VAT5, V.VAT5, None, Y2026, V.VAT5, None),
        (T.USN_INCOME, True, V.VAT7, V.VAT0, None, Y2026, V.VAT0, None),  # exports stay at 0 %
        (T.USN_INCOME, True, V.VAT5, V.NONE, None, Y2026, V.NONE, None),  # exempt goods stay exempt
        # no VAT: a patent, an exempt seller (d)
        (T.PSN, True, V.VAT5, V.VAT22, None, Y2026, V.NONE, "НК РФ ст. 346.43 п. 11"),
        (T.PSN, False, V.NONE, V.VAT5, V.VAT22, Y2026, V.NONE, "НК РФ ст. 346.43 п. 11"),
        (T.USN_INCOME, False, V.NONE, V.VAT22, None, Y2026, V.NONE, "НК РФ ст. 145"),
        (T.OSN, False, V.NONE, V.VAT10, None, Y2026, V.NONE, "НК РФ ст. 145"),
        (T.USN_INCOME, False, V.NONE, V.NONE, None, Y2026, V.NONE, None),
    ],
)
def test_the_rate_a_line_is_charged_and_what_is_said_when_it_differs(
    system, pays_vat, default, item, override, on, charged, note
):
    vat = charge_vat(system, pays_vat, default, item, override, on)
    assert vat.rate is charged and vat.problem is None
    assert vat.note is None if note is None else note in vat.note


@pytest.mark.parametrize(
    ("system", "default", "item", "override", "source"),
    [
        (T.OSN, V.VAT22, V.VAT5, None, "the item's rate"),  # (a)
        (T.OSN, V.VAT22, V.VAT7, None, "the item's rate"),
        (T.USN_INCOME, V.VAT22, V.VAT5, None, "the item's rate"),  # УСН on the general rates
        (T.ESHN, V.VAT10, V.VAT7, None, "the item's rate"),
        (T.OSN, V.VAT22, V.VAT22, V.VAT5, "the condition's VAT override"),
    ],
)
def test_a_special_usn_rate_under_the_general_rates_is_a_problem_never_a_guess(
    system, default, item, override, source
):
    vat = charge_vat(system, True, default, item, override, Y2026)
    assert vat.rate is None and vat.note is None and vat.source == source
    assert "only for a УСН payer who chose that special rate (НК РФ ст. 164 п. 8)" in vat.problem
    assert "22 %, 10 %, 0 % or without VAT" in vat.problem


def test_no_rate_is_ever_changed_without_a_note_or_a_problem():
    overrides = [None, *V]
    for system, pays_vat, default, item, override, on in itertools.product(
        T, (True, False), V, V, overrides, (Y2025, Y2026)
    ):
        vat = charge_vat(system, pays_vat, default, item, override, on)
        assert (vat.rate is None) == (vat.problem is not None)
        if vat.rate is not None and vat.rate is not vat.asked:
            assert vat.note, (system, pays_vat, default, item, override, on)


# --- assignment and lint ---------------------------------------------------------------------------

TREE = GroupTree({1: None, 3: 1, 4: None})
DAY = dt.date(2026, 6, 15)
CTX = SaleContext(DAY, branch_id=1, order_kind="delivery", payment_kind="cash")
T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
LLC = OrganizationProfile(1, "LLC", (T.OSN,), True, V.VAT22)
SPECIAL_IP = OrganizationProfile(2, "IP on 5 %", (T.USN_INCOME,), True, V.VAT5)
ORGS = {1: LLC, 2: SPECIAL_IP}
PLACES = sale_places([1, 2])


def cond(cid: int, scope: str = "all", target: int | None = None, org: int = 1, **kw) -> Condition:
    kw.setdefault("created_at", T0 + dt.timedelta(minutes=cid))
    kw.setdefault("tax_system", T.USN_INCOME if org == 2 else T.OSN)
    return Condition(id=cid, scope=Scope(scope), target_id=target, organization_id=org, **kw)


def conflicts(conditions, items, orgs=ORGS, **kw):
    dist = build_distributor(conditions, TREE, orgs)
    return [
        (c.item_id, c.condition.id if c.condition else None, c.seller.id)
        for c in rate_conflicts(items, dist, PLACES, DAY, **kw)
    ]


def test_a_line_its_seller_cannot_charge_is_assigned_with_the_problem_and_no_rate():
    dist = build_distributor([cond(1)], TREE, ORGS)
    line = dist.assign(10, 3, V.VAT5, CTX)
    assert line.organization_id == 1 and line.vat.rate is None
    assert "НК РФ ст. 164 п. 8" in line.vat_problem
    with pytest.raises(ValueError, match="ст. 164 п. 8"):
        _ = line.vat_rate


def test_a_legacy_rate_is_assigned_as_the_rate_in_force_with_the_note():
    line = build_distributor([cond(1)], TREE, ORGS).assign(10, 3, V.VAT20, CTX)
    assert line.vat_rate is V.VAT22 and line.vat.asked is V.VAT20 and LEGACY in line.vat.note


def test_lint_names_the_condition_that_gives_a_special_rate_item_to_the_general_rates():
    found = conflicts([cond(1), cond(2, "group", 4, org=2)], [(10, 3, V.VAT5), (12, 4, V.VAT5)])
    assert found == [(10, 1, 1)]


def test_a_condition_that_never_decides_an_item_raises_nothing_for_it():
    # The group condition always applies, so "all nomenclature" never sells the drinks.
    assert conflicts([cond(1), cond(2, "group", 4, org=2)], [(12, 4, V.VAT5)]) == []


def test_a_condition_deciding_only_some_sales_or_days_is_still_named():
    cash = cond(3, "group", 4, payment_kinds=frozenset({"cash"}), priority=5)
    later = cond(4, "group", 4, valid_from=dt.date(2026, 9, 1), priority=9)
    conditions = [cond(2, "group", 4, org=2), cash, later]
    assert conflicts(conditions, [(12, 4, V.VAT5)]) == [(12, 3, 1), (12, 4, 1)]
    # from the day the later one ends nothing but the IP sells
    ended = cond(4, "group", 4, valid_to=dt.date(2026, 3, 1), priority=9)
    assert conflicts([cond(2, "group", 4, org=2), ended], [(12, 4, V.VAT5)], since=DAY) == []


def test_an_organization_taking_over_at_its_limit_is_checked_too():
    limited = dataclasses.replace(
        SPECIAL_IP, annual_revenue_limit=1_000_000, fallback_organization_id=1, fallback_tax_system=T.OSN
    )
    orgs = {1: LLC, 2: limited}
    dist = build_distributor([cond(2, "group", 4, org=2)], TREE, orgs)
    found = rate_conflicts([(12, 4, V.VAT5)], dist, PLACES, DAY)
    assert [(c.condition.id, c.seller.id, c.taking_over_from.id) for c in found] == [(2, 1, 2)]
    assert conflicts([cond(2, "group", 4, org=2)], [(12, 4, V.VAT5)], orgs, fallbacks=False) == []
    assert [(o.id, ts) for o, ts in fallback_sellers(2, T.USN_INCOME, orgs)] == [(1, T.OSN)]


def test_the_default_organization_is_checked_where_no_condition_decides():
    items = [(13, None, V.VAT7)]
    assert conflicts([cond(2, "group", 4, org=2)], items, default_organization_id=1) == [(13, None, 1)]
    assert conflicts([cond(2, "group", 4, org=2)], items) == []


def test_only_the_conditions_asked_about_are_checked():
    items = [(10, 3, V.VAT5), (11, 3, V.VAT7)]
    conditions = [cond(1), cond(5, "item", 11)]
    assert conflicts(conditions, items) == [(10, 1, 1), (11, 5, 1)]
    assert conflicts(conditions, items, deciding=lambda c: c.id == 5) == [(11, 5, 1)]


def test_a_new_item_is_checked_against_its_group_conditions():
    assert conflicts([cond(1)], [(None, 3, V.VAT5)]) == [(None, 1, 1)]
