"""The minimum strength of a password someone chooses (pure).

A password is accepted when it has at least :data:`MIN_LENGTH` characters, at least
:data:`MIN_DISTINCT` different ones, is not the username (nor contains it), and is not one of
the :data:`COMMON` passwords that every guessing list starts with (compared without case).
It follows NIST SP 800-63B §5.1.1.2: a length floor and a blocklist of known-bad choices, no
composition rules (digits, capitals, symbols) and no forced periodic changes.
"""

from __future__ import annotations

import enum

MIN_LENGTH = 10
MAX_LENGTH = 200
MIN_DISTINCT = 4


class Weakness(enum.StrEnum):
    """Why a password is refused."""

    TOO_SHORT = "password_too_short"
    TOO_LONG = "password_too_long"
    REPETITIVE = "password_repetitive"
    USERNAME = "password_is_username"
    COMMON = "password_common"


#: Passwords of ten characters or more found at the top of the leaked-password lists (Latin and
#: Cyrillic keyboards), plus this product's own words.
COMMON = frozenset(
    """
    1234567890 0987654321 12345678910 1234567890a a1234567890 123456789a 1234567890q 1q2w3e4r5t
    1q2w3e4r5t6y 1qaz2wsx3edc qwertyuiop qwertyuiop1 qwerty1234 qwerty12345 qwerty123456 asdfghjkl1
    zxcvbnm123 password12 password123 password1234 passw0rd12 passw0rd123 p@ssw0rd123 p@ssword123
    iloveyou12 iloveyou123 welcome123 welcome1234 letmein123 changeme12 changeme123 administrator
    admin12345 admin123456 superman123 football123 princess123 sunshine123 dragon1234 monkey1234
    1111111111 123123123123 1234512345 5555555555 7777777777 9999999999 abcdefghij abc1234567
    йцукенгшщз йцукенгшщзх пароль1234 пароль12345 qazwsxedcr qazwsxedc123 frontoffice delivery123
    deliveryfrontoffice frontoffice1 courier123 operator123 manager123
    """.split()
)


def weakness(password: str, username: str = "") -> Weakness | None:
    """Why ``password`` is too weak for ``username``, or None when it is strong enough."""
    if len(password) < MIN_LENGTH:
        return Weakness.TOO_SHORT
    if len(password) > MAX_LENGTH:
        return Weakness.TOO_LONG
    if len(set(password)) < MIN_DISTINCT:
        return Weakness.REPETITIVE
    folded, name = password.casefold(), username.strip().casefold()
    if name and (folded == name or (len(name) >= 4 and name in folded)):
        return Weakness.USERNAME
    if folded in COMMON:
        return Weakness.COMMON
    return None


#: What each weakness tells the person choosing (the API's words; pages translate by the code).
MESSAGES = {
    Weakness.TOO_SHORT: f"A password needs at least {MIN_LENGTH} characters.",
    Weakness.TOO_LONG: f"A password has at most {MAX_LENGTH} characters.",
    Weakness.REPETITIVE: f"A password needs at least {MIN_DISTINCT} different characters.",
    Weakness.USERNAME: "A password must not be, or contain, the username.",
    Weakness.COMMON: "This password is on every list of common passwords; choose another.",
}
