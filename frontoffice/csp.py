"""The Content-Security-Policy of every HTML page, and the page's import map it lets run.

Scripts run only from our own static files: no inline script, no inline event handler, no
``eval``. The one inline script a page has is its import map (``<script type="importmap">`` is
subject to ``script-src`` and browsers do not load an external one), allowed by the hash of its
exact text. Styles come only from our stylesheets (no ``style`` attributes in templates; scripts
set styles through the CSSOM, which the policy does not restrict). Images come from us, ``data:``
URLs and the map tile server of the settings; sockets and fetches go to our own origin.

``tile_source``, ``import_map`` and ``policy`` are plain functions of their arguments;
``install_content_security_policy`` puts the header on every HTML response of the app.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from flask import Flask, Response, url_for
from jinja2.utils import htmlsafe_json_dumps
from markupsafe import Markup

#: A placeholder of a Leaflet tile URL template: {s}, {z}, {x}, {y}, {r}, or any option name.
_PLACEHOLDER = re.compile(r"\{[^}]*\}")


def tile_source(tiles_url: str | None) -> str | None:
    """The CSP source expression that admits the images of a Leaflet tile URL template.

    ``https://{s}.tile.example.org/{z}/{x}/{y}.png`` → ``https://*.tile.example.org``; a host
    with no placeholder is kept as it is (with its port); a relative URL is our own origin
    (None: ``'self'`` covers it).
    """
    if not tiles_url:
        return None
    parts = urlsplit(tiles_url.strip())
    if not parts.netloc:
        return None
    host, _, port = parts.netloc.rpartition("@")[2].partition(":")
    labels = host.split(".")
    templated = [i for i, label in enumerate(labels) if _PLACEHOLDER.search(label)]
    if templated:
        rest = labels[templated[-1] + 1 :]
        if len(rest) < 2:  # no fixed domain left to name: any host of that scheme
            return f"{parts.scheme}:" if parts.scheme else "*"
        host = "*." + ".".join(rest)
    if port and not _PLACEHOLDER.search(port):
        host = f"{host}:{port}"
    return f"{parts.scheme}://{host}" if parts.scheme else host


def import_map(js_base_url: str) -> Markup:
    """The text of the pages' import map: ``frontoffice/…`` names the kernel's browser modules."""
    return htmlsafe_json_dumps({"imports": {"frontoffice/": js_base_url}})


def script_hash(text: str) -> str:
    """The CSP hash source (``'sha256-…'``) of an inline script's exact text."""
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


def policy(*, tiles_url: str | None = None, inline_scripts: Iterable[str] = ()) -> str:
    """The Content-Security-Policy header value: ``inline_scripts`` are the exact texts of the
    inline scripts a page may run (its import map), ``tiles_url`` the map tiles' URL template."""
    scripts = " ".join(["'self'", *(script_hash(s) for s in inline_scripts)])
    images = " ".join(filter(None, ["'self'", "data:", tile_source(tiles_url)]))
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src {scripts}",
            "style-src 'self'",
            f"img-src {images}",
            "connect-src 'self' ws: wss:",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def page_import_map() -> Markup:
    """This request's import map (the static path depends on where the app is mounted)."""
    return import_map(url_for("static", filename="js/"))


def install_content_security_policy(app: Flask, tiles_url: str | None) -> None:
    """Give every HTML response the policy, and templates ``import_map()`` (the text it hashes)."""

    @app.context_processor
    def _import_map() -> dict[str, object]:
        return {"import_map": page_import_map}

    @app.after_request
    def _content_security_policy(response: Response) -> Response:
        if response.mimetype == "text/html":
            response.headers["Content-Security-Policy"] = policy(
                tiles_url=tiles_url, inline_scripts=[page_import_map()]
            )
        return response
