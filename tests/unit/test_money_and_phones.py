"""Money in minor units and phone normalization."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from frontoffice.money import format_money, from_minor, round_half_up, to_minor
from frontoffice.phones import InvalidPhone, normalize_phone


@given(st.integers(min_value=-(10**12), max_value=10**12))
def test_minor_units_round_trip(minor):
    assert to_minor(from_minor(minor)) == minor


def test_fractions_of_a_kopeck_and_garbage_are_refused():
    for bad in ("1.001", "NaN", "Infinity", "abc"):
        with pytest.raises(ValueError):
            to_minor(bad)


def test_round_half_up_is_not_bankers_rounding():
    assert round_half_up(Decimal("2.5")) == 3
    assert round_half_up(Decimal("3.5")) == 4
    assert round_half_up(Decimal("-2.5")) == -3
    assert format_money(123450) == "1\u202f234.50 ₽"


@pytest.mark.parametrize(
    "raw",
    [
        "+7 912 345-67-89",
        "8 (912) 345-67-89",
        "89123456789",
        "79123456789",
        " 912 345 67 89 ",
        "+7(912)3456789",
        "8-912-345-67-89",
    ],
)
def test_any_common_russian_format_becomes_e164(raw):
    assert normalize_phone(raw) == "+79123456789"


def test_foreign_numbers_keep_their_country():
    assert normalize_phone("+49 30 901820") == "+4930901820"


@pytest.mark.parametrize("raw", ["", "12", "not a phone", "+7 000", "1" * 50])
def test_nonsense_is_refused(raw):
    with pytest.raises(InvalidPhone):
        normalize_phone(raw)
