"""What every request is held to before a view sees it (installed by ``create_app``):

- the body limit (``MAX_CONTENT_LENGTH``) holds for a body sent with ``Transfer-Encoding:
  chunked`` too — Werkzeug stops reading such a body at the limit and hands the view what it read,
  so a longer one was cut there and taken; here reading one byte past the limit is a 413;
- JSON bodies are parsed by :func:`json_body`: too deep is a 400, a NUL character is a 422;
- a NUL character in a query string, a form field or a path parameter is a 422 naming the field
  (problem+json for the API, a readable page for the pages).
"""

from __future__ import annotations

from typing import IO, Any

from flask import Flask, Request, request
from flask_babel import gettext
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.utils import cached_property
from werkzeug.wsgi import LimitedStream, get_input_stream

from frontoffice.errors import DomainError, InvalidInput, field_error, wants_problem_json
from frontoffice.inputs import JsonTooDeep, load_json, nul_fields

FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})
NUL_MESSAGE = "Text must not contain the NUL character (U+0000)."


class CappedStream(LimitedStream):
    """A streamed body allowed ``cap`` bytes: it reads up to one byte more, and that byte is a 413."""

    def __init__(self, stream: IO[bytes], cap: int):
        super().__init__(stream, cap + 1, is_max=True)
        self.cap = cap

    def readinto(self, b: bytearray) -> int | None:  # type: ignore[override]
        """Read like :class:`LimitedStream`; past ``cap`` bytes, refuse the request."""
        size = super().readinto(b)
        if self.tell() > self.cap:
            raise RequestEntityTooLarge()
        return size


class GuardedRequest(Request):
    """Flask's request, whose body limit also holds for a body without a Content-Length."""

    @cached_property
    def stream(self) -> IO[bytes]:
        """The body stream: Flask's, or a :class:`CappedStream` for a chunked body."""
        limit = self.max_content_length
        if (
            not self.shallow
            and limit is not None
            and self.content_length is None
            and "wsgi.input_terminated" in self.environ  # the server decoded a chunked body
        ):
            return CappedStream(self.environ["wsgi.input"], limit)
        if self.shallow:
            raise RuntimeError("This request was created with 'shallow=True'; it has no body to read.")
        return get_input_stream(self.environ, max_content_length=limit)


def json_body(raw: bytes) -> Any:
    """A JSON request body: 400 when malformed or nested too deep, 422 naming every string (or key)
    that holds a NUL character."""
    try:
        value, nul_paths = load_json(raw or b"null")
    except JsonTooDeep as exc:
        raise DomainError(str(exc)) from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise DomainError(f"The body is not valid JSON: {exc}") from None
    if nul_paths:
        raise InvalidInput(
            f"The body has {len(nul_paths)} field(s) holding a NUL character.",
            errors=[field_error(path or "body", NUL_MESSAGE, "nul_character") for path in nul_paths],
        )
    return value


def refuse_nul_in_fields() -> None:
    """Before every request: a NUL character in a query, form or path field is a 422 naming it."""
    fields = nul_fields(request.args.items(multi=True), "query.")
    fields += nul_fields(
        ((k, v) for k, v in (request.view_args or {}).items() if isinstance(v, str)), "path."
    )
    if request.mimetype in FORM_TYPES:
        fields += nul_fields(request.form.items(multi=True))
    if not fields:
        return
    if wants_problem_json(request):
        detail = f"{len(fields)} field(s) hold a NUL character."
    else:
        detail = gettext(
            "These fields hold a NUL character (U+0000), which text may not contain: %(fields)s. "
            "Remove it and try again.",
            fields=", ".join(fields),
        )
    raise InvalidInput(detail, errors=[field_error(f, NUL_MESSAGE, "nul_character") for f in fields])


def install_request_guards(app: Flask) -> None:
    """Hold every request of ``app`` to the body limit and the NUL rule."""
    app.request_class = GuardedRequest
    app.before_request(refuse_nul_in_fields)
