"""How addresses are folded and compared (pure): one normalisation for the address directory, client
addresses and antifraud.

Case, ``ё``/``е``, punctuation and street-type words (``ул.``, ``улица``, ``ul.``, ``пр-т``,
``проспект``, ``пер.`` …) and the house marker (``д.``, ``дом``) do not matter; Cyrillic and Latin
spellings meet in one transliterated key, so ``Кремлёвская``, ``кремлевская`` and ``Kremlyovskaya``
are one street. Typo-tolerant search ranks streets by the trigrams of that key.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

#: Street-type words, dropped from keys (a street is known by its name, not its kind).
STREET_TYPES = frozenset(
    "ул улица ulitsa ulica ul st str street пр пр-т пр-кт просп проспект prospekt prosp pr ave avenue av "
    "пер переулок pereulok per lane бул бульвар б-р bulvar blvd boulevard ш шоссе shosse hwy highway "
    "пл площадь ploshchad pl square sq наб набережная naberezhnaya nab embankment пр-д проезд proezd "
    "туп тупик tupik тракт trakt мкр микрорайон mkr mikrorayon rd road".split()
)
#: Words that mark the house number or name the city, and flat/building words; dropped as well.
HOUSE_MARKERS = frozenset("д дом d dom h house no №".split())
OTHER_FILLER = frozenset(
    "корп корпус стр строение кв квартира г город гор bld bldg building apt apartment flat city "
    "korp korpus kv gorod".split()
)
FILLER = STREET_TYPES | HOUSE_MARKERS | OTHER_FILLER

#: Hyphenated abbreviations that the word splitter would cut apart.
_HYPHENATED = {"пр-т": "проспект", "пр-кт": "проспект", "б-р": "бульвар", "пр-д": "проезд"}
_HYPHENATED_RE = re.compile(r"(?<!\w)(" + "|".join(map(re.escape, _HYPHENATED)) + r")(?!\w)")
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_NUMBERED = re.compile(r"^\d")

_CYRILLIC = dict(
    zip(
        "абвгдежзийклмнопрстуфхцчшщъыьэюя",
        "a b v g d e zh z i y k l m n o p r s t u f kh ts ch sh sh - y - e yu ya".split(),
        strict=True,
    )
)
#: Latin spellings of one Russian sound folded to one (applied to both scripts after transliteration).
_LATIN_FOLDS = (
    (re.compile(r"shch|sch"), "sh"),
    (re.compile(r"[yj]o|[yj]e"), "e"),
    (re.compile(r"ju"), "yu"),
    (re.compile(r"ja"), "ya"),
    (re.compile(r"(?<![kcsz])h"), "kh"),
    (re.compile(r"x"), "ks"),
    (re.compile(r"w"), "v"),
    (re.compile(r"q"), "k"),
    (re.compile(r"ph"), "f"),
    (re.compile(r"tz|c(?!h)"), "ts"),
    (re.compile(r"(?:iy|yy|ij|yj|yi|ii)$"), "y"),
    (re.compile(r"(.)\1+"), r"\1"),
)


def fold(text: str) -> str:
    """Lower case, compatibility forms unified, ``ё`` as ``е``."""
    return unicodedata.normalize("NFKC", text or "").casefold().replace("ё", "е")


def words(text: str) -> list[str]:
    """The letters-and-digits words of a text, folded, with ``пр-т``-style abbreviations kept whole."""
    folded = _HYPHENATED_RE.sub(lambda m: _HYPHENATED[m.group(1)], fold(text))
    return _WORD.findall(folded)


def translit(word: str) -> str:
    """A folded word in the Latin key alphabet: Cyrillic transliterated, spelling variants folded."""
    out = "".join(_CYRILLIC.get(ch, ch) for ch in word).replace("-", "")
    for pattern, repl in _LATIN_FOLDS:
        out = pattern.sub(repl, out)
    return out


def significant(text: str) -> list[str]:
    """The words that identify an address: folded and transliterated, filler words dropped."""
    return [translit(w) for w in words(text) if w not in FILLER]


def address_key(text: str) -> str:
    """The key two spellings of one address share (antifraud, client addresses, the directory)."""
    return " ".join(significant(text))[:500]


def street_key(name: str) -> str:
    """The key of a street name (``ул. Кремлёвская`` and ``Kremlyovskaya`` share one)."""
    return address_key(name)[:200]


def house_key(number: str) -> str:
    """The key of a house number: ``21``, ``д. 21А``, ``21 a``, ``21 к 2`` → ``21``, ``21a``, ``21a``, ``21k2``."""
    parts = []
    for w in words(number):
        if w in HOUSE_MARKERS:
            continue
        if w in ("корп", "корпус", "korp", "korpus", "к"):
            parts.append("k")
        elif w in ("стр", "строение", "str", "s", "с"):
            parts.append("s")
        else:
            parts.append(translit(w))
    return "".join(parts)[:40]


@dataclass(frozen=True)
class AddressQuery:
    """What an operator typed, split: the street's key and the house's key (empty when not typed)."""

    street: str
    house: str

    @property
    def street_words(self) -> list[str]:
        """The street key's words."""
        return self.street.split()


def parse_query(text: str) -> AddressQuery:
    """Split ``ул Кремлёвская д.21`` into the street's and the house's keys.

    The house is the first number that follows a street word (``8 Марта 5`` is house 5 of
    "8 Марта"); what follows the house number (``к 2``, a letter) belongs to it.
    """
    raw = [w for w in words(text) if w not in STREET_TYPES and w not in OTHER_FILLER - {"корп", "стр"}]
    street: list[str] = []
    house: list[str] = []
    for w in raw:
        if house:
            house.append(w)
        elif w in HOUSE_MARKERS:
            continue
        elif street and _NUMBERED.match(w) and any(not _NUMBERED.match(s) for s in street):
            house.append(w)
        else:
            street.append(w)
    return AddressQuery(" ".join(translit(w) for w in street), house_key(" ".join(house)))


def trigrams(key: str, *, prefix: bool = False) -> set[str]:
    """The trigrams of a key's words (each padded with two spaces in front and one behind).

    ``prefix`` leaves the last word's end open: the operator is still typing it.
    """
    out: set[str] = set()
    parts = key.split()
    for i, w in enumerate(parts):
        open_end = prefix and i == len(parts) - 1
        padded = f"  {w}" + ("" if open_end else " ")
        out.update(padded[j : j + 3] for j in range(len(padded) - 2))
    return out


@functools.lru_cache(maxsize=65536)
def _key_grams(key: str) -> frozenset[str]:
    return frozenset(trigrams(key))


def _score(query: str, q: set[str], key: str) -> float:
    k = _key_grams(key)
    shared = len(q & k)
    score = (shared / len(q) * 0.8 + shared / len(q | k) * 0.2) * 0.9
    if key.startswith(query) or any(w.startswith(query) for w in key.split()):
        score += 0.1
    return score


def similarity(query: str, key: str, *, prefix: bool = True) -> float:
    """How well a street key answers a (partly typed) query, 0…1: shared trigrams, prefixes first."""
    q = trigrams(query, prefix=prefix)
    return _score(query, q, key) if q else 0.0


def rank_streets(
    query: str, keys: Iterable[tuple[int, str]], limit: int = 10, *, prefix: bool = True
) -> list[tuple[int, float]]:
    """The best ``(id, score)`` among street keys for a query, best first; weak matches left out.

    ``prefix``: the query's last word is still being typed."""
    q = trigrams(query, prefix=prefix)
    if not q:
        return []
    scored = [(sid, _score(query, q, key)) for sid, key in keys]
    scored = [(sid, s) for sid, s in scored if s >= 0.35]
    scored.sort(key=lambda x: -x[1])
    return scored[:limit]


def house_order(key: str) -> tuple[int, str]:
    """Houses in natural order: 2, 10, 10a, 21k2."""
    m = re.match(r"\d+", key)
    return (int(m.group()) if m else 1 << 30, key)
