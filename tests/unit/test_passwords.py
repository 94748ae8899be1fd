"""The minimum strength of a chosen password (frontoffice.passwords)."""

from __future__ import annotations

import pytest

from frontoffice.passwords import MIN_LENGTH, Weakness, weakness


@pytest.mark.parametrize(
    ("password", "username", "why"),
    [
        ("short-pw", "olga", Weakness.TOO_SHORT),
        ("x" * 201, "olga", Weakness.TOO_LONG),
        ("abababababab", "olga", Weakness.REPETITIVE),
        ("olga.petrova", "olga.petrova", Weakness.USERNAME),
        ("OLGA.PETROVA", "olga.petrova", Weakness.USERNAME),
        ("my-olga-password", "olga", Weakness.USERNAME),
        ("Password123", "olga", Weakness.COMMON),
        ("qwertyuiop", "olga", Weakness.COMMON),
        ("йцукенгшщз", "olga", Weakness.COMMON),
    ],
)
def test_weak_passwords_are_refused_with_the_reason(password, username, why):
    assert weakness(password, username) is why


@pytest.mark.parametrize(
    "password",
    ["tulip-garden-42", "correct horse battery", "Пароль-для-смены-7", "a" * 5 + "bcde1" + "x" * 3],
)
def test_a_long_uncommon_password_that_is_not_the_username_is_accepted(password):
    assert weakness(password, "olga") is None


def test_a_short_username_inside_a_password_is_no_reason_to_refuse_it():
    assert weakness("about-meridian", "ab") is None


def test_the_length_floor_is_ten_characters():
    assert MIN_LENGTH == 10
    assert weakness("k3v-9a-x1q", "") is None and weakness("k3v-9a-x1", "") is Weakness.TOO_SHORT
