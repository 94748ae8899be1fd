"""Matching what an operator types or pastes to what is stored (pure).

Phones become E.164 with :func:`frontoffice.phones.normalize_phone`, so
``8 (912) 345-67-89``, ``+7 912 345 67 89`` and ``9123456789`` are one number.
Geocoder queries are compared by a normalized form that ignores case, punctuation and repeated
spaces; addresses by :func:`address_key` (``callcentre.addressing``), the folding the address
directory and antifraud share: street-type words, the house marker and the script do not matter.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from callcentre.addressing import address_key
from frontoffice.phones import InvalidPhone, display_phone, normalize_phone

__all__ = [
    "InvalidPhone",
    "address_key",
    "display_phone",
    "match_phone",
    "normalize_phones",
    "normalize_text",
    "same_phone",
]

_PUNCT = re.compile(r"[^\w]+", re.UNICODE)


def match_phone(raw: str, region: str = "RU") -> str:
    """The E.164 form of a typed or pasted number; :class:`InvalidPhone` if it is not one."""
    return normalize_phone(raw, region)


def same_phone(a: str, b: str, region: str = "RU") -> bool:
    """True if two texts are the same phone number (False if either is not a number)."""
    try:
        return normalize_phone(a, region) == normalize_phone(b, region)
    except InvalidPhone:
        return False


def normalize_phones(raws: Iterable[str], region: str = "RU") -> list[str]:
    """E.164 forms of several numbers, duplicates removed, order kept; :class:`InvalidPhone` on a bad one."""
    out: list[str] = []
    for raw in raws:
        phone = normalize_phone(raw, region)
        if phone not in out:
            out.append(phone)
    return out


def normalize_text(text: str) -> str:
    """Lower case, letters and digits only, single spaces: the key to compare addresses and queries."""
    folded = unicodedata.normalize("NFKC", text or "").casefold().replace("ё", "е")
    return " ".join(_PUNCT.sub(" ", folded).split())
