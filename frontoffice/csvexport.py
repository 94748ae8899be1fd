"""CSV downloads that open right in Excel and cannot smuggle formulas.

Every export goes through here: UTF-8 with a byte-order mark (Excel otherwise reads Cyrillic
as cp1251 garbage), ``;`` between cells when the page is in Russian (Excel in ru locales splits
on ``;``) and ``,`` otherwise, and text cells that a spreadsheet would run as a formula
(starting with ``=``, ``+``, ``-``, ``@``, tab or CR) prefixed with ``'`` as OWASP advises —
plain numbers, negative ones included, stay numbers.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from flask import Response, stream_with_context

BOM = "\ufeff"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?")
_CHUNK = 64_000


def delimiter_for(locale: object | None) -> str:
    """The cell separator Excel expects in this locale: ``;`` for Russian, ``,`` otherwise."""
    return ";" if str(locale or "").lower().startswith("ru") else ","


def neutralise(value: Any) -> Any:
    """A cell safe to open in a spreadsheet: formula-like text gets a leading ``'``; numbers pass."""
    if value is None:
        return ""
    if not isinstance(value, str):
        return value
    if value.startswith(_FORMULA_START) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def csv_chunks(
    header: Sequence[Any], rows: Iterable[Sequence[Any]], *, delimiter: str = ","
) -> Iterator[str]:
    """The CSV text (without the byte-order mark) in pieces of about 64 kB, cells neutralised."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow([neutralise(v) for v in header])
    for row in rows:
        writer.writerow([neutralise(v) for v in row])
        if buffer.tell() > _CHUNK:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def csv_text(header: Sequence[Any], rows: Iterable[Sequence[Any]], *, delimiter: str = ",") -> str:
    """The whole CSV as one string, with the byte-order mark."""
    return BOM + "".join(csv_chunks(header, rows, delimiter=delimiter))


def csv_response(
    header: Sequence[Any],
    rows: Iterable[Sequence[Any]],
    filename: str,
    *,
    delimiter: str | None = None,
) -> Response:
    """A streamed CSV download (UTF-8 with BOM); the separator follows the page's locale unless given."""
    if delimiter is None:
        from flask_babel import get_locale

        delimiter = delimiter_for(get_locale())

    def body() -> Iterator[str]:
        yield BOM
        yield from csv_chunks(header, rows, delimiter=delimiter)

    return Response(
        stream_with_context(body()),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
