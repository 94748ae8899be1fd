"""The Content-Security-Policy of the pages (frontoffice.csp): scripts only from our files and the
hashed import map, images from us and the configured tile server."""

from __future__ import annotations

import base64
import hashlib

import pytest

from frontoffice.csp import import_map, policy, script_hash, tile_source


def directives(header: str) -> dict[str, list[str]]:
    """A policy as {directive: [sources]}."""
    out = {}
    for part in header.split(";"):
        name, *sources = part.split()
        out[name] = sources
    return out


@pytest.mark.parametrize(
    ("tiles_url", "source"),
    [
        ("https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png", "https://*.tile.openstreetmap.org"),
        ("https://tiles.example.com:8443/osm/{z}/{x}/{y}{r}.png", "https://tiles.example.com:8443"),
        ("http://{s}.example.com/{z}/{x}/{y}.png", "http://*.example.com"),
        ("https://a.{s}.maps.example.net/{z}/{x}/{y}.png", "https://*.maps.example.net"),
        ("https://{s}.example/{z}/{x}/{y}.png", "https:"),
        ("//tiles.example.com/{z}/{x}/{y}.png", "tiles.example.com"),
        ("/tiles/{z}/{x}/{y}.png", None),
        ("", None),
        (None, None),
    ],
)
def test_the_tile_server_is_named_by_its_host_with_placeholders_as_a_wildcard(tiles_url, source):
    assert tile_source(tiles_url) == source


def test_images_come_from_us_data_urls_and_the_tile_server():
    header = policy(tiles_url="https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png")
    assert directives(header)["img-src"] == ["'self'", "data:", "https://*.tile.openstreetmap.org"]


def test_without_tiles_images_come_only_from_us_and_data_urls():
    assert directives(policy())["img-src"] == ["'self'", "data:"]


def test_scripts_run_only_from_our_files_and_the_inline_scripts_named_by_hash():
    header = policy(inline_scripts=['{"imports": {"frontoffice/": "/static/js/"}}'])
    scripts = directives(header)["script-src"]
    assert scripts[0] == "'self'"
    assert len(scripts) == 2 and scripts[1].startswith("'sha256-")
    assert "unsafe-inline" not in header and "unsafe-eval" not in header


def test_the_policy_closes_plugins_base_forms_and_framing():
    found = directives(policy())
    assert found["default-src"] == ["'self'"]
    assert found["style-src"] == ["'self'"]
    assert found["object-src"] == ["'none'"]
    assert found["base-uri"] == ["'self'"]
    assert found["form-action"] == ["'self'"]
    assert found["frame-ancestors"] == ["'none'"]
    assert found["connect-src"] == ["'self'", "ws:", "wss:"]


def test_a_script_hash_is_the_base64_sha256_of_its_exact_text():
    text = '{"imports": {"frontoffice/": "/static/js/"}}'
    expected = base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()
    assert script_hash(text) == f"'sha256-{expected}'"
    assert script_hash(text + " ") != script_hash(text)


def test_the_import_map_maps_the_kernel_modules_and_cannot_close_its_script_element():
    assert str(import_map("/static/js/")) == '{"imports": {"frontoffice/": "/static/js/"}}'
    assert "</script>" not in import_map("/x/</script><script>alert(1)//")
