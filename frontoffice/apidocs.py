"""The OpenAPI 3.1 document, generated from the endpoint declarations, and its readable page."""

from __future__ import annotations

import re
from typing import Any, get_args, get_origin

from flask import Blueprint, Flask, current_app, jsonify, render_template
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

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
}


def iter_endpoints(app: Flask):
    """Yield ``(path, rule, spec)`` for every JSON endpoint declared with ``frontoffice.api.endpoint``."""
    for rule in app.url_map.iter_rules():
        view = app.view_functions.get(rule.endpoint)
        spec = getattr(view, "api_spec", None)
        if spec is not None:
            yield _PARAM.sub(r"{\2}", rule.rule), rule, spec


def _models_of(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in get_args(annotation) for m in _models_of(arg)]


def _schema_ref(annotation: Any) -> dict[str, Any]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return {"$ref": REF.format(model=annotation.__name__)}
    if get_origin(annotation) is list:
        return {"type": "array", "items": _schema_ref(get_args(annotation)[0])}
    return {}


def build_openapi(app: Flask) -> dict[str, Any]:
    """The OpenAPI document of every declared endpoint of ``app``."""
    models: dict[tuple[type[BaseModel], str], None] = {}
    paths: dict[str, dict[str, Any]] = {}
    for path, rule, spec in iter_endpoints(app):
        for m in _models_of(spec.body):
            models[(m, "validation")] = None
        for m in _models_of(spec.response):
            models[(m, "serialization")] = None
        paths.setdefault(path, {})[spec.method.lower()] = _operation(rule, spec)
    _, defs = models_json_schema(list(models), ref_template=REF)
    schemas = defs.get("$defs", {})
    schemas["Problem"] = {
        "type": "object",
        "description": "RFC 9457 problem details; `errors` lists invalid fields on 422.",
        "properties": {
            "type": {"type": "string"},
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string"},
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
            "schemas": schemas,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "session": {"type": "apiKey", "in": "cookie", "name": "session"},
            },
        },
    }


def _operation(rule: Any, spec: EndpointSpec) -> dict[str, Any]:
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
    if spec.query is not None:
        qschema = spec.query.model_json_schema()
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
                "schema": {"type": "string", "maxLength": 200},
                "description": "A retry with the same key returns the first answer and changes nothing.",
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
            "content": {"application/json": {"schema": _schema_ref(spec.body)}},
        }
    ok: dict[str, Any] = {"description": "Success"}
    if spec.response is not None:
        ok["content"] = {"application/json": {"schema": _schema_ref(spec.response)}}
    op["responses"][str(spec.status)] = ok if spec.status != 204 else {"description": "No content"}
    codes = set(spec.errors)
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
