"""Database ids at the edges: one bound for every id a client can send.

Id columns are ``Integer``: 32-bit signed in PostgreSQL (SQLite stores them in 64 bits, but hands
out the same small numbers). A bigger number can name no row, and handed to the database it fails
(``integer out of range`` in PostgreSQL, ``OverflowError`` from SQLite's driver beyond 64 bits)
instead of finding nothing. So a URL segment beyond the bound is a 404, a request field beyond it
is refused by its schema (422, see ``frontoffice.schemas.Id``), and a form field beyond it is not
an id (``parse_id``).
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from werkzeug.exceptions import NotFound
from werkzeug.routing import IntegerConverter

#: The largest id: the top of an ``Integer`` column in PostgreSQL (2^31-1).
MAX_ID = 2**31 - 1


class _OutOfRange:
    """A URL id beyond :data:`MAX_ID`: the route matched, the record cannot exist."""


OUT_OF_RANGE = _OutOfRange()


class BoundedIntegerConverter(IntegerConverter):
    """Flask's ``int`` converter, but a number beyond :data:`MAX_ID` becomes :data:`OUT_OF_RANGE`.

    The route still matches (so every method of it answers alike) and the request is then
    answered 404 before any view runs; a failed conversion would make Werkzeug answer 405.
    """

    def to_python(self, value: str) -> Any:
        """The segment as an int, or :data:`OUT_OF_RANGE` when too big for an id."""
        digits = value.lstrip("-0")
        if len(digits) > len(str(MAX_ID)) or int(digits or "0") > MAX_ID:
            return OUT_OF_RANGE
        return super().to_python(value)


def _refuse_out_of_range(endpoint: str | None, values: dict[str, Any] | None) -> None:
    if values and any(v is OUT_OF_RANGE for v in values.values()):
        raise NotFound()


def install_id_converter(app: Flask) -> None:
    """Bound ``<int:...>`` in every route of ``app``: an id beyond :data:`MAX_ID` is a 404."""
    app.url_map.converters["int"] = BoundedIntegerConverter
    app.url_value_preprocessor(_refuse_out_of_range)


def parse_id(value: str | None) -> int:
    """A typed id: a whole number from 1 to :data:`MAX_ID`, else ``ValueError``.

    Fits ``request.form.get(name, type=parse_id)``, which answers the default for a bad value.
    """
    text = (value or "").strip()
    if not (text.isascii() and text.isdigit()) or len(text.lstrip("0")) > len(str(MAX_ID)):
        raise ValueError(f"{value!r} is not an id")
    number = int(text)
    if not 1 <= number <= MAX_ID:
        raise ValueError(f"{value!r} is not an id")
    return number
