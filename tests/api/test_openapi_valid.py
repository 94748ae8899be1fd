"""The served OpenAPI document is a valid OpenAPI 3.1 document whose every ``$ref`` resolves."""

from __future__ import annotations

from typing import Any

import pytest
from openapi_spec_validator import OpenAPIV31SpecValidator, validate


def _refs(node: Any, where: str = "#"):
    """Yield ``(location, ref)`` for every ``$ref`` in ``node``."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield where, value
            else:
                yield from _refs(value, f"{where}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _refs(value, f"{where}/{i}")


def _resolve(doc: dict[str, Any], ref: str) -> bool:
    if not ref.startswith("#/"):
        return False
    node: Any = doc
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


def test_the_openapi_document_is_valid_openapi_3_1(client):
    doc = client.get("/api/openapi.json").json
    assert doc["openapi"].startswith("3.1")
    validate(doc, cls=OpenAPIV31SpecValidator)


def test_every_ref_in_the_openapi_document_resolves(client):
    doc = client.get("/api/openapi.json").json
    dangling = sorted({f"{ref} (at {where})" for where, ref in _refs(doc) if not _resolve(doc, ref)})
    assert dangling == []


def test_every_component_schema_is_used(client):
    doc = client.get("/api/openapi.json").json
    used = {ref.rsplit("/", 1)[-1] for _, ref in _refs(doc)}
    assert sorted(set(doc["components"]["schemas"]) - used) == []


def test_nested_models_unions_namesakes_and_query_enums_all_become_components():
    import enum

    from flask import Blueprint, Flask
    from pydantic import BaseModel

    from frontoffice.api import endpoint
    from frontoffice.apidocs import build_openapi

    class Colour(enum.StrEnum):
        RED = "red"

    class Inner(BaseModel):
        colour: Colour

    class Outer(BaseModel):
        inner: Inner
        others: list[Inner]

    Namesake = type("Outer", (BaseModel,), {"__annotations__": {"n": int}, "__module__": "elsewhere"})

    class Query(BaseModel):
        colour: list[Colour] | Colour | None = None

    bp = Blueprint("probe", __name__)

    @endpoint(bp, "/a", roles=["manager"], summary="A", query=Query, response=list[Outer] | None)
    def a():
        """Probe."""

    @endpoint(bp, "/b", method="POST", roles=["manager"], summary="B", body=Namesake, response=Namesake)
    def b():
        """Probe."""

    app = Flask(__name__)
    app.register_blueprint(bp)
    doc = build_openapi(app)
    validate(doc, cls=OpenAPIV31SpecValidator)
    assert [ref for _, ref in _refs(doc) if not _resolve(doc, ref)] == []
    assert {"Inner", "Colour"} <= set(doc["components"]["schemas"])
    assert "Query" not in doc["components"]["schemas"]


@pytest.mark.parametrize("key", ["   ", "k" * 201])
def test_every_operation_taking_an_idempotency_key_documents_the_422_a_bad_key_gets(client, users, key):
    headers = {**users["manager"].headers, "Idempotency-Key": key}
    assert client.delete("/api/v1/antifraud/blacklist/1", headers=headers).status_code == 422
    doc = client.get("/api/openapi.json").json
    undocumented = [
        f"{method.upper()} {path}"
        for path, operations in doc["paths"].items()
        for method, op in operations.items()
        if any(p["name"] == "Idempotency-Key" for p in op["parameters"]) and "422" not in op["responses"]
    ]
    assert undocumented == []
