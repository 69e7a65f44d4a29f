"""The OpenAPI 3.1 description served at /api/openapi.json, built from the routes' own declarations.

How a route declares its schema: decorate the view with ``service.api_schema.operation`` (under
``@login_required``), giving a summary, the pydantic ``query`` / ``body`` models it accepts, and its
answer (``ok``, ``ok_schema``, ``binary`` media types, extra ``errors``). The decorator validates every
request against those models (400 ``invalid_request`` otherwise) and this module publishes the same
models, so the document and the validation cannot differ. Path parameters come from the route rule
(``<int:x>`` is an integer from 1 to ``MAX_ID``). A route under /api/ without a declaration fails
tests/security/test_api_schemas.py.
"""
from __future__ import annotations

from typing import Any, Optional

from flask import current_app
from pydantic import BaseModel
from werkzeug.routing import IntegerConverter

from .api_schema import MAX_ID, Operation

REF = "#/components/schemas/{model}"

ERROR_SCHEMA = {"type": "object", "required": ["error"], "properties": {"error": {
    "type": "object", "required": ["code", "message"], "properties": {
        "code": {"type": "string", "description": "Mã lỗi ổn định, ví dụ invalid_request, not_xlsx, forbidden"},
        "message": {"type": "string", "description": "Thông báo tiếng Việt"},
        "details": {}}}}}


class _Components:
    def __init__(self) -> None:
        self.schemas: dict[str, Any] = {"Error": ERROR_SCHEMA}

    def model(self, model: type[BaseModel], mode: str) -> dict:
        schema = _without_null_defaults(model.model_json_schema(ref_template=REF, mode=mode))
        for name, sub in schema.pop("$defs", {}).items():
            self.schemas[name] = sub
        self.schemas[model.__name__] = schema
        return {"$ref": REF.format(model=model.__name__)}

    def any(self, schema: Any, mode: str) -> dict:
        if schema is None:
            return {"type": "object"}
        if isinstance(schema, type) and issubclass(schema, BaseModel):
            return self.model(schema, mode)
        return schema


def _without_null_defaults(schema: Any) -> Any:
    """``= None`` in a model means "may be left out"; it is not a value to publish as an example."""
    if isinstance(schema, dict):
        return {k: _without_null_defaults(v) for k, v in schema.items() if not (k == "default" and v is None)}
    if isinstance(schema, list):
        return [_without_null_defaults(v) for v in schema]
    return schema


def _strip_null(schema: dict) -> dict:
    """A query parameter is absent rather than null: publish the non-null branch of Optional[...]."""
    schema = {k: v for k, v in schema.items() if k != "title" and not (k == "default" and v is None)}
    if "anyOf" in schema:
        branches = [b for b in schema["anyOf"] if b.get("type") != "null"]
        rest = {k: v for k, v in schema.items() if k != "anyOf"}
        if len(branches) == 1:
            return {**rest, **branches[0]}
        return {**rest, "anyOf": branches}
    return schema


def _query_parameters(model) -> list[dict]:
    schema = model.model_json_schema(mode="validation")
    required = set(schema.get("required", []))
    out = []
    for name, prop in schema.get("properties", {}).items():
        prop = _strip_null(prop)
        param = {"name": name, "in": "query", "required": name in required, "schema": prop}
        if "description" in prop:
            param["description"] = prop["description"]
        if prop.get("type") == "array":
            param["explode"] = True
            param["style"] = "form"
        out.append(param)
    return out


def _path(rule) -> tuple[str, list[dict]]:
    path, params = rule.rule, []
    for name, conv in rule._converters.items():
        path = path.replace(f"<int:{name}>", "{" + name + "}").replace(f"<{name}>", "{" + name + "}")
        schema = ({"type": "integer", "minimum": 1, "maximum": MAX_ID} if isinstance(conv, IntegerConverter)
                  else {"type": "string"})
        params.append({"name": name, "in": "path", "required": True, "schema": schema})
    return path, params


def _operation(op: Optional[Operation], path_params: list[dict], comps: _Components) -> dict:
    if op is None:  # undeclared: published bare so the document still lists it (a test refuses this)
        return {"summary": "", "parameters": path_params, "responses": {"default": {"description": "?"}}}
    out: dict = {"summary": op.summary, "responses": {}}
    params = path_params + (_query_parameters(op.query) if op.query else [])
    if params:
        out["parameters"] = params
    if op.body is not None:
        out["requestBody"] = {"required": op.body_required,
                              "content": {"application/json": {"schema": comps.model(op.body, "validation")}}}
    if op.multipart is not None:
        schema = dict(op.multipart)
        if op.form is not None:
            fields = _without_null_defaults(op.form.model_json_schema(mode="validation"))
            schema["properties"] = {**{k: _strip_null(v) for k, v in fields.get("properties", {}).items()},
                                    **schema.get("properties", {})}
            schema["required"] = sorted(set(schema.get("required", [])) | set(fields.get("required", [])))
        out["requestBody"] = {"required": True, "content": {"multipart/form-data": {"schema": schema}}}
    if op.binary:
        content = {mime: {"schema": {"type": "string", "format": "binary"}} for mime in op.binary}
    else:
        content = {"application/json": {"schema": comps.any(op.ok_schema, "serialization")}}
    out["responses"][str(op.ok)] = {"description": "OK", "content": content}
    for code in op.errors:
        out["responses"][str(code)] = {"description": "Lỗi", "content": {"application/json": {
            "schema": {"$ref": REF.format(model="Error")}}}}
    if op.public:
        out["security"] = []
    return out


def spec() -> dict:
    comps = _Components()
    paths: dict[str, dict] = {}
    for rule in sorted(current_app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.rule.startswith("/api/"):
            continue
        view = current_app.view_functions[rule.endpoint]
        path, path_params = _path(rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            paths.setdefault(path, {})[method.lower()] = _operation(
                getattr(view, "api_operation", None), path_params, comps)
    return {
        "openapi": "3.1.0",
        "info": {"title": "noicutru API", "version": "1",
                 "description": "Sổ theo dõi đảng viên đang công tác giữ mối liên hệ với nơi cư trú (Quy định 213-QĐ/TW)."},
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}, {"session": []}],
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "Mã truy cập tạo ở trang Mã API hoặc POST /api/tokens; có hạn dùng, thu hồi được (mã lỗi token_expired, token_revoked, token_invalid)"},
                "session": {"type": "apiKey", "in": "cookie", "name": "session",
                            "description": "Phiên đăng nhập của trang web; yêu cầu ghi cần thêm tiêu đề X-CSRFToken"},
            },
            "schemas": comps.schemas,
        },
        "paths": paths,
    }
