"""Russian taxpayer numbers: INN with its check digits, KPP format (pure)."""

from __future__ import annotations

import re

_W10 = (2, 4, 10, 3, 5, 9, 4, 6, 8)
_W11 = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_W12 = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_KPP = re.compile(r"^\d{4}[0-9A-Z]{2}\d{3}$")


def _check_digit(digits: str, weights: tuple[int, ...]) -> int:
    return sum(int(d) * w for d, w in zip(digits, weights, strict=False)) % 11 % 10


def inn_problem(inn: str) -> str | None:
    """Why ``inn`` is not a valid INN (10 digits for a company, 12 for a person), or None."""
    if not inn.isascii() or not inn.isdigit():
        return "an INN has only digits"
    if len(inn) not in (10, 12):
        return "an INN has 10 digits (a company) or 12 digits (a sole proprietor)"
    if set(inn) == {"0"}:
        return "an INN cannot be all zeros"
    if len(inn) == 10:
        if _check_digit(inn, _W10) != int(inn[9]):
            return "the INN's check digit is wrong (mistyped?)"
        return None
    if _check_digit(inn, _W11) != int(inn[10]) or _check_digit(inn, _W12) != int(inn[11]):
        return "the INN's check digits are wrong (mistyped?)"
    return None


def is_valid_inn(inn: str) -> bool:
    """True for a well-formed INN with correct check digits."""
    return inn_problem(inn) is None


def is_sole_proprietor(inn: str) -> bool:
    """True for a 12-digit (personal) INN."""
    return len(inn) == 12


def with_check_digits(prefix: str) -> str:
    """Complete a 9-digit (company) or 10-digit (person) prefix into a valid INN."""
    if len(prefix) == 9:
        return prefix + str(_check_digit(prefix, _W10))
    if len(prefix) == 10:
        eleven = prefix + str(_check_digit(prefix, _W11))
        return eleven + str(_check_digit(eleven, _W12))
    raise ValueError("give 9 digits for a company or 10 for a sole proprietor")


def kpp_problem(kpp: str, inn: str) -> str | None:
    """Why ``kpp`` does not fit an organization with ``inn``, or None.

    A company (10-digit INN) has a 9-character KPP: 4 digits (tax office), 2 digits or
    capital letters (reason), 3 digits; a sole proprietor has none.
    """
    if len(inn) == 12:
        return "a sole proprietor has no KPP; leave it empty" if kpp else None
    if not kpp:
        return "a company (10-digit INN) needs its 9-character KPP"
    if not _KPP.match(kpp):
        return "a KPP has 9 characters: 4 digits, 2 digits or capital letters, 3 digits"
    return None
