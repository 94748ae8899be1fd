"""Whatever an operator types or pastes, the same number and the same address match."""

from __future__ import annotations

import pytest

from callcentre.geocoding import cache_key
from callcentre.matching import InvalidPhone, match_phone, normalize_phones, normalize_text, same_phone


@pytest.mark.parametrize(
    "typed",
    [
        "+79123456789",
        "+7 912 345-67-89",
        "8 (912) 345-67-89",
        "8-912-345-67-89",
        "89123456789",
        "79123456789",
        "9123456789",
        "  +7 (912) 345 67 89  ",
        "+7\u00a0912\u00a0345\u00a067\u00a089",
        "tel:+7-912-345-67-89",
    ],
)
def test_every_common_russian_format_is_the_same_e164_number(typed):
    assert match_phone(typed) == "+79123456789"


def test_landlines_and_foreign_numbers_keep_their_own_country():
    assert match_phone("8 (843) 200-00-00") == "+78432000000"
    assert match_phone("+44 20 7946 0958") == "+442079460958"
    assert match_phone("+375 29 123-45-67") == "+375291234567"


@pytest.mark.parametrize("typed", ["", "   ", "12345", "call me", "+7 912 345", "8 (000) 000-00-00"])
def test_text_that_is_not_a_phone_number_is_refused(typed):
    with pytest.raises(InvalidPhone):
        match_phone(typed)


def test_two_texts_of_one_number_are_the_same_phone_and_garbage_is_never_the_same():
    assert same_phone("8 912 345 67 89", "+7 (912) 345-67-89")
    assert not same_phone("8 912 345 67 89", "8 912 345 67 80")
    assert not same_phone("nonsense", "nonsense")


def test_several_numbers_are_normalized_once_each_in_order():
    assert normalize_phones(["8 912 345 67 89", "+79123456789", "+7 917 123 45 67"]) == [
        "+79123456789",
        "+79171234567",
    ]


def test_addresses_compare_without_case_punctuation_or_extra_spaces():
    assert normalize_text("Kazan,  Baumana St., 44!") == normalize_text("kazan baumana st 44")
    assert normalize_text("Ёлочная ул., 5") == normalize_text("елочная ул 5")
    assert cache_key("  Kremlyovskaya   21 ") == "kremlyovskaya 21"
