"""What the server-rendered admin forms share: a refusal's messages by field, in the reader's
language, and reading ticked ids from a form.

Services refuse with :class:`~frontoffice.errors.FieldError` entries (English ``message``, a
``type`` code, ``params``). A page shows each next to its field, translated by code from a table
of ``N_``-marked texts with ``%(name)s`` placeholders filled from ``params``; a code the table
does not know shows the service's own words.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from flask_babel import gettext

from frontoffice.ids import parse_id


def messages_by_field(errors: Iterable[Mapping[str, Any]], texts: Mapping[str, str]) -> dict[str, str]:
    """``{field: message}`` of a refusal's errors, translated by their ``type`` through ``texts``
    (several messages for one field are joined)."""
    out: dict[str, str] = {}
    for error in errors:
        field = str(error.get("field") or "")
        msgid = texts.get(str(error.get("type")))
        params = {k: v for k, v in (error.get("params") or {}).items() if isinstance(k, str)}
        try:
            message = gettext(msgid, **params) if msgid else str(error.get("message", ""))
        except (KeyError, TypeError, ValueError):  # a text whose placeholder the error did not fill
            message = str(error.get("message", ""))
        out[field] = f"{out[field]} {message}" if field in out else message
    return out


def ticked_ids(values: Iterable[str]) -> list[int]:
    """The ids of ticked checkboxes (values that are not ids are dropped: no such box was offered)."""
    out = []
    for value in values:
        try:
            out.append(parse_id(value))
        except ValueError:
            continue
    return list(dict.fromkeys(out))
