"""The OpenAPI 3.1 document, generated from the endpoint declarations, and its readable page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from flask import Blueprint, Flask, current_app, jsonify, render_template
from pydantic import TypeAdapter

import frontoffice
from frontoffice.api import EndpointSpec

bp = Blueprint("apidocs", __name__)

_PARAM = re.compile(r"<(?:(\w+):)?(\w+)>")
REF = "#/components/schemas/{model}"
STATUS_TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    409: "Conflict",
    413: "Body too large",
    415: "Unsupported media type",
    422: "Invalid content",
    429: "Too many requests (rate limit; see Retry-After)",
    503: "Service unavailable (see Retry-After)",
}


def iter_endpoints(app: Flask):
    """Yield ``(path, rule, spec)`` for every JSON endpoint declared with ``frontoffice.api.endpoint``."""
    for rule in app.url_map.iter_rules():
        view = app.view_functions.get(rule.endpoint)
        spec = getattr(view, "api_spec", None)
        if spec is not None:
            yield _PARAM.sub(r"{\2}", rule.rule), rule, spec


def _schema_inputs(endpoints: list[tuple[str, Any, EndpointSpec]]) -> list[tuple[Any, Any, TypeAdapter]]:
    """Every annotation an endpoint reads or answers, keyed ``(path, method, part)`` for one pass of pydantic."""
    inputs: list[tuple[Any, Any, TypeAdapter]] = []
    for path, _, spec in endpoints:
        for part, annotation, mode in (
            ("body", spec.body, "validation"),
            ("query", spec.query, "validation"),
            ("response", spec.response, "serialization"),
        ):
            if annotation is not None:
                inputs.append(((path, spec.method, part), mode, TypeAdapter(annotation)))
    return inputs


def _refs_in(node: Any) -> Iterator[str]:
    """Every ``$ref`` in a JSON schema fragment."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from _refs_in(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs_in(value)


def _reachable(roots: Any, schemas: dict[str, Any]) -> dict[str, Any]:
    """The component schemas ``roots`` refer to, directly or through other components."""
    prefix = REF.format(model="")
    seen: set[str] = set()
    todo = [r for r in _refs_in(roots) if r.startswith(prefix)]
    while todo:
        name = todo.pop()[len(prefix) :]
        if name in seen or name not in schemas:
            continue
        seen.add(name)
        todo.extend(r for r in _refs_in(schemas[name]) if r.startswith(prefix))
    return {name: schemas[name] for name in sorted(seen)}


def build_openapi(app: Flask) -> dict[str, Any]:
    """The OpenAPI document of every declared endpoint of ``app``.

    Every body, query and response annotation (models, ``list[...]``, unions) is turned
    into JSON schema in one pydantic pass, so nested models and enums land in
    ``components/schemas`` under the names pydantic refers to them by (module-qualified
    when two models share a name); components nothing refers to are left out.
    """
    endpoints = list(iter_endpoints(app))
    refs, defs = TypeAdapter.json_schemas(_schema_inputs(endpoints), ref_template=REF)
    schemas = defs.get("$defs", {})
    paths: dict[str, dict[str, Any]] = {}
    for path, rule, spec in endpoints:
        parts = {
            part: refs[((path, spec.method, part), mode)]
            for part, mode in (("body", "validation"), ("query", "validation"), ("response", "serialization"))
            if ((path, spec.method, part), mode) in refs
        }
        paths.setdefault(path, {})[spec.method.lower()] = _operation(rule, spec, parts, schemas)
    schemas["Problem"] = {
        "type": "object",
        "description": "RFC 9457 problem details; `errors` lists invalid fields on 422.",
        "properties": {
            "type": {"type": "string"},
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string"},
            "request_id": {
                "type": "string",
                "description": "The id of this request (also in the X-Request-ID header and the logs).",
            },
            "errors": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "field": {"type": "string"},
                        "message": {"type": "string"},
                        "type": {"type": "string"},
                    },
                },
            },
        },
        "required": ["title", "status"],
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Delivery front office API",
            "version": frontoffice.__version__,
            "description": 'Money is a decimal string in major units ("1234.50"); times are ISO 8601 '
            "with offset; errors are application/problem+json. Mutating calls accept an "
            "`Idempotency-Key` header: a retry with the same key returns the first answer.",
        },
        "servers": [{"url": "/"}],
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": _reachable(paths, schemas),
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "session": {"type": "apiKey", "in": "cookie", "name": "session"},
            },
        },
    }


def _resolved(schema: dict[str, Any], schemas: dict[str, Any]) -> dict[str, Any]:
    """``schema`` itself, or the component it is a bare ``$ref`` to."""
    ref = schema.get("$ref", "")
    prefix = REF.format(model="")
    return schemas.get(ref[len(prefix) :], schema) if ref.startswith(prefix) else schema


def _operation(
    rule: Any, spec: EndpointSpec, parts: dict[str, dict[str, Any]], schemas: dict[str, Any]
) -> dict[str, Any]:
    params: list[dict[str, Any]] = []
    for conv, name in _PARAM.findall(rule.rule):
        params.append(
            {
                "name": name,
                "in": "path",
                "required": True,
                "schema": {"type": "integer" if conv == "int" else "string"},
            }
        )
    if "query" in parts:
        qschema = _resolved(parts["query"], schemas)
        required = set(qschema.get("required", []))
        for name, prop in qschema.get("properties", {}).items():
            params.append(
                {
                    "name": name,
                    "in": "query",
                    "required": name in required,
                    "schema": {k: v for k, v in prop.items() if k != "title"},
                    "description": prop.get("description", ""),
                }
            )
    if spec.idempotent:
        params.append(
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": False,
                "schema": {"type": "string", "minLength": 1, "maxLength": 200, "pattern": r"\S"},
                "description": "A retry with the same key returns the first answer and changes nothing "
                "(1 to 200 characters, not blank: another key is refused with 422).",
            }
        )
    op: dict[str, Any] = {
        "summary": spec.summary,
        "operationId": rule.endpoint.replace(".", "_"),
        "tags": list(spec.tags),
        "parameters": params,
        "responses": {},
    }
    if spec.description:
        op["description"] = spec.description
    if not spec.public:
        op["security"] = [{"bearer": []}, {"session": []}]
        op["x-roles"] = sorted(spec.roles)
    if spec.body is not None:
        op["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": parts["body"]}},
        }
    ok: dict[str, Any] = {"description": "Success"}
    if "response" in parts:
        ok["content"] = {"application/json": {"schema": parts["response"]}}
    op["responses"][str(spec.status)] = ok if spec.status != 204 else {"description": "No content"}
    codes = set(spec.errors)
    if spec.idempotent:
        codes.add(422)
    if spec.body is not None:
        codes |= {400, 413, 415, 422}
    if spec.query is not None:
        codes.add(422)
    if not spec.public:
        codes |= {401, 403}
    for code in sorted(codes):
        op["responses"][str(code)] = {
            "description": STATUS_TITLES.get(code, "Error"),
            "content": {"application/problem+json": {"schema": {"$ref": REF.format(model="Problem")}}},
        }
    return op


@bp.route("/api/openapi.json")
def openapi_json():
    """The OpenAPI 3.1 document."""
    return jsonify(build_openapi(current_app))


@bp.route("/api/docs")
def docs():
    """The API reference, rendered from the OpenAPI document (no external assets)."""
    return render_template("apidocs.html", spec=build_openapi(current_app))
