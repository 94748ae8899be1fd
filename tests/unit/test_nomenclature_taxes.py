"""Tax systems, VAT rates and taxpayer numbers: FFD codes and the combinations the law allows."""

from __future__ import annotations

import datetime as dt

import pytest

from nomenclature.inn import inn_problem, is_valid_inn, kpp_problem, with_check_digits
from nomenclature.taxes import (
    TaxSystem,
    VatRate,
    allowed_rates,
    standard_rate,
    target_problems,
    tax_system_problems,
    vat_regime_problems,
)

T, V = TaxSystem, VatRate
Y2025, Y2026 = dt.date(2025, 12, 31), dt.date(2026, 1, 1)


def test_tax_systems_carry_their_ffd_1055_codes():
    assert {t: t.ffd_code for t in T} == {
        T.OSN: 1,
        T.USN_INCOME: 2,
        T.USN_INCOME_EXPENSE: 4,
        T.ESHN: 16,
        T.PSN: 32,
    }


def test_vat_rates_carry_their_ffd_1199_codes_including_22_percent():
    assert {r: r.ffd_code for r in V} == {
        V.VAT20: 1,
        V.VAT10: 2,
        V.VAT0: 5,
        V.NONE: 6,
        V.VAT5: 7,
        V.VAT7: 8,
        V.VAT22: 11,
    }


def test_the_standard_rate_is_22_percent_from_2026():
    assert standard_rate(Y2025) is V.VAT20
    assert standard_rate(Y2026) is V.VAT22


@pytest.mark.parametrize(
    ("inn", "valid"),
    [
        ("7707083893", True),  # a well-known company INN
        ("500100732259", True),  # a well-known personal INN
        ("1655012344", True),
        ("1655012345", False),  # last digit changed
        ("500100732258", False),
        ("12345", False),
        ("77070838931", False),  # 11 digits
        ("77O7083893", False),  # a letter O
        ("0000000000", False),
    ],
)
def test_inn_check_digits(inn, valid):
    assert is_valid_inn(inn) is valid


def test_check_digits_are_computed_for_a_prefix():
    assert is_valid_inn(with_check_digits("165501234"))
    assert is_valid_inn(with_check_digits("1656012345"))


@pytest.mark.parametrize(
    ("kpp", "inn", "problem"),
    [
        ("165501001", "1655012344", None),
        ("7707AB001", "7707083893", None),
        ("", "1655012344", "needs its 9-character KPP"),
        ("16550100", "1655012344", "9 characters"),
        ("165501001", "500100732259", "no KPP"),
        ("", "500100732259", None),
    ],
)
def test_kpp_fits_the_kind_of_taxpayer(kpp, inn, problem):
    found = kpp_problem(kpp, inn)
    assert (found is None) if problem is None else (problem in found)


def test_inn_problems_say_what_is_wrong():
    assert "only digits" in inn_problem("77-07083893")
    assert "10 digits" in inn_problem("123")
    assert "check digit" in inn_problem("1655012345")


@pytest.mark.parametrize(
    ("systems", "sole", "problem"),
    [
        ([T.OSN], False, None),
        ([T.USN_INCOME, T.PSN], True, None),
        ([T.ESHN, T.PSN], True, None),
        ([T.PSN], True, None),
        ([T.PSN], False, "only a sole proprietor"),
        ([T.OSN, T.USN_INCOME], False, "exclude each other"),
        ([T.USN_INCOME, T.USN_INCOME_EXPENSE], True, "exclude each other"),
        ([], False, "at least one"),
        ([T.OSN, T.OSN], False, "twice"),
    ],
)
def test_which_tax_systems_combine(systems, sole, problem):
    found = tax_system_problems(systems, sole)
    assert (found == []) if problem is None else any(problem in p for p in found)


@pytest.mark.parametrize(
    ("systems", "pays_vat", "default", "on", "problem"),
    [
        ([T.OSN], True, V.VAT22, Y2026, None),
        ([T.OSN], True, V.VAT20, Y2025, None),
        ([T.OSN], True, V.VAT20, Y2026, "until 31 December 2025"),
        ([T.OSN], True, V.VAT22, Y2025, "only from 1 January 2026"),
        ([T.OSN], True, V.VAT5, Y2026, "only under УСН"),
        ([T.USN_INCOME], True, V.VAT5, Y2026, None),
        ([T.USN_INCOME_EXPENSE], True, V.VAT7, Y2026, None),
        ([T.USN_INCOME], False, V.NONE, Y2026, None),
        ([T.USN_INCOME], False, V.VAT22, Y2026, "does not pay VAT"),
        ([T.PSN], True, V.VAT22, Y2026, "patent (ПСН) replaces VAT"),
        ([T.OSN], True, V.NONE, Y2026, "needs a default rate"),
        ([T.ESHN], True, V.VAT10, Y2026, None),
    ],
)
def test_vat_regime_of_an_organization(systems, pays_vat, default, on, problem):
    found = vat_regime_problems(systems, pays_vat, default, on)
    assert (found == []) if problem is None else any(problem in p for p in found)


@pytest.mark.parametrize(
    ("org_systems", "pays_vat", "default", "target", "override", "period", "problem"),
    [
        ([T.OSN], True, V.VAT22, T.OSN, None, (None, None), None),
        ([T.OSN], True, V.VAT22, T.OSN, V.VAT10, (None, None), None),
        ([T.OSN], True, V.VAT22, T.USN_INCOME, None, (None, None), "does not apply"),
        ([T.USN_INCOME, T.PSN], False, V.NONE, T.PSN, V.VAT22, (None, None), "ПСН sales are without VAT"),
        ([T.USN_INCOME], False, V.NONE, T.USN_INCOME, V.VAT10, (None, None), "does not pay VAT"),
        ([T.USN_INCOME], True, V.VAT5, T.USN_INCOME, V.VAT22, (None, None), "not allowed"),
        ([T.OSN], True, V.VAT22, T.OSN, V.VAT20, (Y2026, None), "until 31 December 2025"),
        ([T.OSN], True, V.VAT22, T.OSN, V.VAT20, (None, Y2025), None),
        ([T.OSN], True, V.VAT22, T.OSN, V.VAT22, (None, Y2025), "only from 1 January 2026"),
    ],
)
def test_what_a_condition_may_target(org_systems, pays_vat, default, target, override, period, problem):
    found = target_problems(org_systems, pays_vat, default, target, override, period)
    assert (found == []) if problem is None else any(problem in p for p in found)


def test_a_patent_and_an_exempt_seller_only_sell_without_vat():
    assert allowed_rates(T.PSN, True, V.VAT22, Y2026) == {V.NONE}
    assert allowed_rates(T.USN_INCOME, False, V.NONE, Y2026) == {V.NONE}


def test_a_usn_payer_on_a_special_rate_charges_it_instead_of_the_general_ones():
    assert allowed_rates(T.USN_INCOME, True, V.VAT5, Y2026) == {V.VAT5, V.VAT0, V.NONE}
