"""Every day a request names lies in the calendar of ``frontoffice.dates``: a day at the edge of
Python's dates (years 1 and 9999) is a 422 naming the field, never a 500 from a report that moves
it to another time zone or on to the next day."""

from __future__ import annotations

from typing import Any

import pytest


def _is_day(schema: dict[str, Any]) -> bool:
    return schema.get("format") == "date" or any(_is_day(s) for s in schema.get("anyOf", []))


def _request_days(doc: dict[str, Any]):
    """``(where, schema)`` of every ``format: date`` in what an operation reads (query, path, body)."""
    components = doc["components"]["schemas"]

    def walk(node: Any, where: str, seen: frozenset[str]):
        if isinstance(node, dict):
            if node.get("format") == "date":
                yield where, node
            ref = node.get("$ref", "")
            name = ref.rsplit("/", 1)[-1]
            if ref and name not in seen:
                yield from walk(components[name], f"{where}>{name}", seen | {name})
            for key, value in node.items():
                yield from walk(
                    value, f"{where}.{key}" if key not in ("properties", "anyOf") else where, seen
                )
        elif isinstance(node, list):
            for value in node:
                yield from walk(value, where, seen)

    for path, operations in doc["paths"].items():
        for method, op in operations.items():
            label = f"{method.upper()} {path}"
            for p in op["parameters"]:
                yield from walk(p["schema"], f"{label} {p['name']}", frozenset())
            yield from walk(op.get("requestBody", {}), f"{label} body", frozenset())


def test_every_day_a_request_takes_is_a_day_of_the_calendar_and_the_document_says_so(client):
    doc = client.get("/api/openapi.json").json
    days = list(_request_days(doc))
    unbounded = sorted({where for where, schema in days if schema.get("formatMinimum") != "1970-01-01"})
    assert len(days) >= 10
    assert unbounded == []


def _queries_with_days(doc: dict[str, Any]):
    """``(path, [day parameter names])`` of every GET operation whose query names a day."""
    for path, operations in doc["paths"].items():
        get = operations.get("get")
        names = [
            p["name"]
            for p in (get or {}).get("parameters", [])
            if p["in"] == "query" and _is_day(p["schema"])
        ]
        if names:
            yield path, names


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31", "1969-12-31", "3000-01-01"])
def test_every_query_refuses_a_day_outside_the_calendar_with_a_422_naming_it(client, users, day):
    doc = client.get("/api/openapi.json").json
    answers = {}
    for path, names in _queries_with_days(doc):
        resp = client.get(path, query_string=dict.fromkeys(names, day), headers=users["admin"].headers)
        fields = sorted(e["field"] for e in (resp.json or {}).get("errors") or [])
        answers[path] = (resp.status_code, fields)
    expected = {path: (422, sorted(f"query.{n}" for n in names)) for path, names in _queries_with_days(doc)}
    assert len(expected) >= 5
    assert answers == expected


def test_a_day_inside_the_calendar_is_still_a_day(client, users):
    resp = client.get(
        "/api/v1/reports/delivery-performance",
        query_string={"date_from": "1970-01-01", "date_to": "1970-01-02"},
        headers=users["manager"].headers,
    )
    assert resp.status_code == 200, resp.json
    assert [row["key"] for row in resp.json["rows"]] == ["1970-01-01", "1970-01-02"]
