"""Templates and browser modules keep to the rules the Content-Security-Policy and the escaping
depend on (docs/architecture.md, "Browser security"): no inline script or event handler, no style
attribute, nothing marked safe in a template; no HTML strings handed to the DOM or to Leaflet."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("frontoffice", "nomenclature", "orders", "callcentre", "backoffice", "couriers", "monitor")
TEMPLATES = sorted(p for pkg in PACKAGES for p in (ROOT / pkg).glob("templates/**/*.html"))
MODULES = sorted(
    p for pkg in PACKAGES for p in (ROOT / pkg).glob("static/**/*.js") if "vendor" not in p.parts
)

#: Script elements a template may hold inline: data (not run) and the hashed import map.
INLINE_SCRIPT_TYPES = {"application/json", "importmap"}
#: Ways to put a string into the DOM as HTML.
HTML_SINKS = re.compile(
    r"\.(innerHTML|outerHTML)\s*=|insertAdjacentHTML|document\.write|DOMParser|createContextualFragment"
)
#: Leaflet calls that read a string as HTML; their content must be a node (``textLabel``).
LEAFLET_CONTENT = re.compile(
    r"(?:bindTooltip|bindPopup|setTooltipContent|setPopupContent)\(\s*([^,)]+)|[{,]\s*html:\s*([^,}]+)"
)


def name(path: Path) -> str:
    return str(path.relative_to(ROOT))


def test_there_are_templates_and_modules_to_check():
    assert len(TEMPLATES) > 20 and len(MODULES) > 10


@pytest.mark.parametrize("path", TEMPLATES, ids=name)
def test_a_template_has_no_inline_script_handler_or_style(path):
    text = path.read_text()
    for attrs in re.findall(r"<script\b([^>]*)>", text):
        if "src=" not in attrs:
            assert re.search(r'type="([^"]+)"', attrs)[1] in INLINE_SCRIPT_TYPES, attrs
    assert not re.search(r"<[a-z][^>]*\son[a-z]+\s*=", text), "inline event handler"
    assert not re.search(r"<[a-z][^>]*\sstyle\s*=", text), "style attribute"
    assert not re.search(r"<style\b", text), "style element"
    assert not re.search(r"\|\s*safe\b|Markup\(", text), "text marked safe"
    assert not re.search(r"href=[\"']?javascript:", text, re.I), "javascript: link"


@pytest.mark.parametrize("path", MODULES, ids=name)
def test_a_module_hands_no_html_string_to_the_dom_or_to_leaflet(path):
    text = path.read_text()
    assert not HTML_SINKS.search(text)
    assert "eval(" not in text and "new Function" not in text
    for match in LEAFLET_CONTENT.finditer(text):
        content = (match[1] or match[2]).strip()
        made_as_text = content.startswith("textLabel(") or re.search(
            rf"\b(?:const|let)\s+{re.escape(content)}\s*=\s*textLabel\(", text
        )
        assert made_as_text, f"{match[0]!r}: pass textLabel(...) (shared.js), not a string"
