"""Ids beyond the id columns' range name no row: a 404 in a URL, a 422 naming the field in a body
or query, a readable refusal on a page; never a 500 from the database (issue 13, item 9).

Two too-big ids are tried: 20 digits (beyond 64 bits, SQLite's driver overflows) and 2^31 (beyond
PostgreSQL's ``integer``, "integer out of range")."""

from __future__ import annotations

import re
import typing

import pytest
from pydantic import BaseModel

from frontoffice.app import create_app
from tests.conftest import ROLES, order_body

HUGE = "99999999999999999999"
BIG_IDS = (HUGE, str(2**31))
MAX_ID = 2**31 - 1
_PARAM = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")


def _id_routes(big: str) -> list[tuple[str, str]]:
    """(method, url) of every route with an ``int`` path parameter, each one set to ``big``."""
    app = create_app({"database_url": "sqlite://", "testing": True})
    out = []
    for rule in app.url_map.iter_rules():
        if "int" not in {conv for conv, _ in _PARAM.findall(rule.rule)}:
            continue
        url = _PARAM.sub(lambda m: big if m.group(1) == "int" else "x", rule.rule)
        out += [(method, url) for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return out


def _allowed_role(app, method: str, url: str) -> str | None:
    """A role the view behind ``url`` admits (None for a public endpoint)."""
    adapter = app.url_map.bind("localhost")
    endpoint, _ = adapter.match(re.sub(r"/\d{10,}", "/1", url), method=method)
    view = app.view_functions[endpoint]
    spec = getattr(view, "api_spec", None)
    if spec is not None:
        return None if spec.public else sorted(spec.roles)[0]
    roles = getattr(view, "form_roles", None) if method != "GET" else None
    roles = roles or getattr(view, "page_roles", None) or ROLES
    return sorted(roles)[0]


ID_ROUTES = [route for big in BIG_IDS for route in _id_routes(big)]


def test_the_sweep_covers_the_routes_of_the_issue():
    urls = {url for _, url in ID_ROUTES}
    assert f"/api/v1/orders/{HUGE}" in urls and f"/api/v1/orders/{HUGE}/receipts" in urls
    assert any(u.startswith("/api/v1/clients/") for u in urls)
    assert any("candidates" in u for u in urls) and any("assign" in u for u in urls)


@pytest.mark.parametrize(("method", "url"), ID_ROUTES, ids=[f"{m} {u}" for m, u in ID_ROUTES])
def test_a_huge_id_in_the_url_is_a_404(app, client, users, auth, method, url):
    role = _allowed_role(app, method, url)
    headers = {}
    data = None
    if url.startswith("/api/"):
        if role is not None:
            headers = users[role].headers
    else:
        auth.login(role)
        data = {"csrf_token": auth.csrf(client.get("/login").data)}
    if method == "GET":
        resp = client.get(url, headers=headers)
    elif url.startswith("/api/"):
        resp = client.open(url, method=method, json={}, headers=headers)
    else:
        resp = client.open(url, method=method, data=data, headers=headers)
    assert resp.status_code == 404, resp.data[:300]
    if url.startswith("/api/"):
        assert resp.mimetype == "application/problem+json"


def _request_models(app) -> list[type[BaseModel]]:
    found: list[type[BaseModel]] = []

    def walk(model):
        if model in found:
            return
        found.append(model)
        for f in model.model_fields.values():
            for arg in _flatten(f.annotation):
                if isinstance(arg, type) and issubclass(arg, BaseModel):
                    walk(arg)

    for view in app.view_functions.values():
        spec = getattr(view, "api_spec", None)
        for model in (spec.body, spec.query) if spec else ():
            if model is not None:
                walk(model)
    return found


def _flatten(annotation) -> list:
    args = typing.get_args(annotation)
    return [annotation] + [a for arg in args for a in _flatten(arg)]


def _id_bounds(field) -> list:
    """The ``le`` bounds on an int field (or on the items of a list of ints)."""
    metadata = list(field.metadata)
    for arg in _flatten(field.annotation):
        metadata += getattr(arg, "__metadata__", ())
    metadata += [inner for m in metadata for inner in getattr(m, "metadata", ())]
    return [m.le for m in metadata if getattr(m, "le", None) is not None]


#: Ids of outside systems, bounded by that system's own limit instead of our rows' (Telegram: chat
#: identifiers have at most 52 significant bits, https://core.telegram.org/bots/api#chat).
OUTSIDE_IDS = {"telegram_chat_id": 2**52}


def test_every_id_field_of_a_request_model_is_bounded(app):
    unbounded = []
    for model in _request_models(app):
        for name, field in model.model_fields.items():
            # A field that takes text too (a GeoJSON feature's id) is a label, not a row's id.
            is_id = name == "id" or name.endswith(("_id", "_ids"))
            types = _flatten(field.annotation)
            limit = OUTSIDE_IDS.get(name, MAX_ID)
            if is_id and int in types and str not in types and not any(b <= limit for b in _id_bounds(field)):
                unbounded.append(f"{model.__module__}.{model.__name__}.{name}")
    assert unbounded == []


def _bodies(big: int) -> list[tuple]:
    """(role, method, url, body, field) of requests with one id field set to ``big``."""
    place = order_body()
    place["lines"][0] = {**place["lines"][0], "item_id": big}
    place["lines"][0].pop("sku", None)
    return [
        ("operator", "POST", "/api/v1/orders", order_body(branch_id=big), "branch_id"),
        ("operator", "POST", "/api/v1/orders", place, "lines.0.item_id"),
        ("operator", "GET", f"/api/v1/orders?branch_id={big}", None, "query.branch_id"),
        ("operator", "POST", "/api/v1/clients/merge", {"keep_id": big, "merge_id": 1}, "keep_id"),
        ("manager", "POST", "/api/v1/stop-list", {"branch_id": big, "item_id": 1}, "branch_id"),
    ]


@pytest.mark.usefixtures("catalogue")
@pytest.mark.parametrize("big", BIG_IDS)
def test_a_huge_id_in_a_body_or_query_is_a_422_naming_the_field(client, users, big):
    for role, method, url, body, field in _bodies(int(big)):
        kwargs = {"json": body} if body is not None else {}
        resp = client.open(url, method=method, headers=users[role].headers, **kwargs)
        assert resp.status_code == 422, (url, resp.status_code, resp.data[:300])
        assert field in {e["field"] for e in resp.json["errors"]}, (url, resp.json)


def test_the_tickets_page_keeps_what_was_typed_and_names_an_unknown_order_number(client, users, auth):
    auth.login("operator")
    page = client.get("/callcentre/tickets")
    resp = client.post(
        "/callcentre/tickets",
        data={
            "csrf_token": auth.csrf(page.data),
            "kind": "complaint",
            "client_phone": "89123456789",
            "order_number": "KZ9-999",
            "order_date": "2026-01-05",
            "subject": "Cold pizza",
            "body": "Arrived cold",
        },
    )
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    for typed in ("KZ9-999", "2026-01-05", "89123456789", "Cold pizza", "Arrived cold"):
        assert typed in html
    assert re.search(r'name="order_number"[^>]*>\s*<span class="field-error"[^>]*>[^<]+</span>', html), html


@pytest.mark.usefixtures("catalogue")
@pytest.mark.parametrize(
    ("url", "data"),
    [
        ("/admin/nomenclature/catalogue", {"branch_id": "1", "item_id": HUGE, "action": "stop"}),
        ("/admin/nomenclature/catalogue", {"branch_id": HUGE, "item_id": "1", "action": "stop"}),
        (
            "/admin/nomenclature/modifiers",
            {"form": "option", "group_id": HUGE, "option_id": "1", "active": "1"},
        ),
    ],
)
def test_a_huge_id_typed_in_a_nomenclature_form_is_refused_not_a_500(client, users, auth, url, data):
    auth.login("admin")
    token = auth.csrf(client.get(url).data)
    resp = client.post(url, data={**data, "csrf_token": token})
    assert resp.status_code < 500, resp.data[:300]
