"""Rules every piece of text a request carries must keep, whatever endpoint it goes to: JSON no
deeper than :data:`MAX_JSON_DEPTH` containers, and no NUL character (U+0000) anywhere — PostgreSQL
cannot store one in a text column, and SQLite would store it and cut the text short wherever C
code reads it. Plain functions over plain values; :mod:`frontoffice.guards` applies them to
requests."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

#: How many arrays/objects deep a JSON body may nest. Our deepest bodies nest four; the limit keeps
#: validation and every walk over a body far from Python's recursion limit.
MAX_JSON_DEPTH = 32
NUL = "\x00"


class JsonTooDeep(ValueError):
    """A JSON document nests more containers than :data:`MAX_JSON_DEPTH`."""

    def __init__(self, limit: int = MAX_JSON_DEPTH):
        super().__init__(f"The JSON body nests arrays/objects deeper than {limit} levels.")
        self.limit = limit


def shown(name: str) -> str:
    """A field name fit to print: a NUL in it is written ``\\0``."""
    return name.replace(NUL, "\\0")


def load_json(raw: bytes | str, max_depth: int = MAX_JSON_DEPTH) -> tuple[Any, list[str]]:
    """Parse a JSON document; the value and the dotted paths of every string (or key) holding a NUL.

    Raises :class:`JsonTooDeep` for a document deeper than ``max_depth`` — found on the text,
    before parsing — and ``ValueError`` for one that is not JSON.
    """
    utf8 = _utf8(raw)
    if nests_deeper(utf8, max_depth):
        raise JsonTooDeep(max_depth)
    value = json.loads(utf8)
    # JSON text can only carry a NUL escaped (a raw control character is not JSON).
    return value, nul_paths(value, max_depth) if b"\\u0000" in utf8 else []


_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_ONE_KIND = bytes.maketrans(b"{}", b"[]")  # depth does not care which kind; JSON checks they match


def nests_deeper(utf8: bytes, max_depth: int = MAX_JSON_DEPTH) -> bool:
    """True when a UTF-8 JSON text nests arrays/objects deeper than ``max_depth``.

    Without parsing, at C speed (a few milliseconds for 2 MB): drop the strings, keep the brackets,
    then peel the innermost pairs off ``max_depth`` times (one ``replace`` pass removes exactly one
    level: it never looks at what it has just joined); a pair still left is one level deeper.
    """
    brackets = _STRING.sub(b"", utf8).translate(_ONE_KIND, _NOT_BRACKETS)
    for _ in range(max_depth):
        if not brackets:
            return False
        brackets = brackets.replace(b"[]", b"")
    return b"[]" in brackets


def _utf8(raw: bytes | str) -> bytes:
    """The JSON text in UTF-8 (the brackets and quotes of any other encoding are not single bytes)."""
    if isinstance(raw, str):
        return raw.encode("utf-8", "surrogatepass")
    encoding = json.detect_encoding(raw)
    if encoding in ("utf-8", "utf-8-sig"):
        return raw
    return raw.decode(encoding, "surrogatepass").encode("utf-8", "surrogatepass")


def nul_paths(value: Any, max_depth: int = MAX_JSON_DEPTH) -> list[str]:
    """The dotted paths (``lines.0.sku``) of the strings and keys in ``value`` holding a NUL, in
    document order; :class:`JsonTooDeep` when ``value`` nests deeper than ``max_depth``.

    Walks with an explicit stack, so no document can exhaust the interpreter's recursion.
    """
    found: list[str] = []
    stack: list[tuple[Any, tuple[str, ...], int]] = [(value, (), 0)]
    while stack:
        item, path, depth = stack.pop()
        if isinstance(item, str):
            if NUL in item:
                _add(found, ".".join(path))
            continue
        if isinstance(item, dict):
            children = [(str(k), v) for k, v in item.items()]
        elif isinstance(item, list):
            children = [(str(i), v) for i, v in enumerate(item)]
        else:
            continue
        if depth >= max_depth:
            raise JsonTooDeep(max_depth)
        for key, child in reversed(children):
            if NUL in key:
                _add(found, ".".join((*path, shown(key))))
            stack.append((child, (*path, shown(key)), depth + 1))
    return found


def nul_fields(pairs: Iterable[tuple[str, str]], prefix: str = "") -> list[str]:
    """The names (each once, prefixed) of the form or query fields whose name or value holds a NUL."""
    found: list[str] = []
    for name, text in pairs:
        if NUL in name or NUL in text:
            _add(found, prefix + shown(name))
    return found


def _add(found: list[str], name: str) -> None:
    if name not in found:
        found.append(name)
