"""Declared API operations: the one source of request validation and of the OpenAPI document.

A route declares what it accepts with :func:`operation`; the decorator validates the query string and
the JSON body against pydantic models before the view runs, hands the validated models to the view,
and records the declaration on the view function so that :mod:`service.openapi` publishes exactly
what is validated. Bad input is answered with 400 ``invalid_request`` and a Vietnamese message that
names each bad field; nothing is changed.

    class ThingQuery(Query):
        kind: Optional[Literal["a", "b"]] = None

    class ThingInput(Body):
        name: Text200
        year: Year

    @bp.post("/things")
    @login_required
    @operation("Thêm một thứ", query=ThingQuery, body=ThingInput, ok=201, ok_schema=ThingOut, errors=(409,))
    def thing_create(query: ThingQuery, body: ThingInput): ...

Path ids need nothing: ``<int:...>`` is capped at :data:`MAX_ID` for the whole app (see
:func:`init_app`), so a larger id matches no route and is a 404.
"""
from __future__ import annotations

import functools
import re
import typing
from dataclasses import dataclass
from typing import Annotated, Any, Callable, Optional, Union

from flask import Flask, request
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError
from werkzeug.exceptions import NotFound
from werkzeug.routing import IntegerConverter

from .errors import ServiceError

# Largest id any table can hold (PostgreSQL integer); larger ids are refused before reaching the database.
MAX_ID = 2**31 - 1
# Common status codes of every operation: bad request, not signed in, forbidden, not found, throttled.
COMMON_ERRORS = (400, 401, 403, 404, 429)

Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Year = Annotated[int, Field(ge=2000, le=2100, description="Năm, từ 2000 đến 2100")]
# Text stored in the database: no control character but tab and line breaks (PostgreSQL refuses NUL,
# worksheets refuse the others), bounded by its column.
PLAIN_TEXT = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f]*$"  # the same characters as service.text.CONTROL_CHARS


def text(max_length: int) -> Any:
    return Annotated[str, StringConstraints(max_length=max_length, pattern=PLAIN_TEXT)]


class Query(BaseModel):
    """Query-string parameters; every field is optional unless declared without a default."""
    model_config = ConfigDict(extra="ignore")


class Body(BaseModel):
    """A JSON object body: types are strict (no "1" for 1) and unknown fields are refused."""
    model_config = ConfigDict(extra="forbid", strict=True)


@dataclass
class Operation:
    summary: str
    query: Optional[type[Query]] = None
    body: Optional[type[Body]] = None
    body_required: bool = True
    ok: int = 200
    ok_schema: Any = None  # a pydantic model, a JSON schema dict, or None for "an object"
    binary: tuple[str, ...] = ()  # media types of a file answer
    multipart: Optional[dict] = None  # JSON schema of the files of a multipart/form-data body (uploads)
    form: Optional[type[Query]] = None  # the text fields of that multipart body, validated like a query
    errors: tuple[int, ...] = COMMON_ERRORS
    public: bool = False  # no sign-in needed


def operation(summary: str, *, query: Optional[type[Query]] = None, body: Optional[type[Body]] = None,
              body_required: bool = True, ok: int = 200, ok_schema: Any = None, binary: tuple[str, ...] = (),
              multipart: Optional[dict] = None, form: Optional[type[Query]] = None, errors: tuple[int, ...] = (),
              public: bool = False) -> Callable:
    """Validate the request against the declared models and publish them in the OpenAPI document.

    The view receives ``query=`` and/or ``body=`` keyword arguments holding the validated models.
    An upload declares its file fields as ``multipart`` (a JSON schema) and its text fields as ``form``
    (a :class:`Query` model, passed to the view as ``form=``).
    ``errors`` lists status codes beyond :data:`COMMON_ERRORS` (e.g. 409, 413).
    """
    codes = tuple(sorted(set((() if public else COMMON_ERRORS) + tuple(errors))
                         | ({400} if query or body or form else set())))
    op = Operation(summary, query, body, body_required, ok, ok_schema, tuple(binary), multipart, form, codes, public)

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            if query is not None:
                kwargs["query"] = parse_query(query)
            if body is not None:
                kwargs["body"] = parse_body(body, body_required)
            if form is not None:
                kwargs["form"] = parse_query(form, request.form, "form")
            return view(*args, **kwargs)
        wrapper.api_operation = op  # copied onto outer decorators by functools.wraps
        return wrapper
    return decorate


def _accepts(annotation: Any, kind: type) -> bool:
    if annotation is kind:
        return True
    return any(_accepts(a, kind) for a in typing.get_args(annotation))


def _is_list(annotation: Any) -> bool:
    return typing.get_origin(annotation) in (list, tuple) or any(_is_list(a) for a in typing.get_args(annotation)
                                                                  if typing.get_origin(annotation) is Union)


_INT = re.compile(r"^-?[0-9]+$")


def _coerce(value: str, annotation: Any) -> Any:
    if _accepts(annotation, int) and _INT.match(value) and len(value) < 30:
        return int(value)
    return value


def parse_query(model: type[Query], source=None, where: str = "query") -> Query:
    """Read ``request.args`` (or form fields) into the model: integers only as plain digits, the rest strict."""
    source = request.args if source is None else source
    data: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        key = info.alias or name
        if key not in source:
            continue
        if _is_list(info.annotation):
            data[name] = [_coerce(v, info.annotation) for v in source.getlist(key)]
        else:
            data[name] = _coerce(source[key], info.annotation)
    try:
        return model.model_validate(data, strict=True)
    except ValidationError as err:
        raise invalid_request(err, where)


def parse_body(model: type[Body], required: bool = True) -> Body:
    raw = request.get_data(cache=True)
    if not raw.strip() and not required:
        return model()
    if not request.is_json:
        raise ServiceError("invalid_json", "Nội dung yêu cầu phải là JSON (Content-Type: application/json).")
    try:
        return model.model_validate_json(raw, strict=True)
    except ValidationError as err:
        if any(e["type"] == "json_invalid" for e in err.errors()):
            raise ServiceError("invalid_json", "Nội dung yêu cầu không phải JSON hợp lệ.")
        if any(e["type"] == "model_type" or (e["type"] == "model_attributes_type") for e in err.errors()) \
                or not raw.lstrip().startswith(b"{"):
            raise ServiceError("invalid_json", "Nội dung yêu cầu phải là một đối tượng JSON.")
        raise invalid_request(err, "body")


_MESSAGES = {
    "missing": "thiếu (bắt buộc)",
    "extra_forbidden": "không được chấp nhận (trường không có trong đặc tả)",
    "int_type": "phải là số nguyên",
    "int_parsing": "phải là số nguyên",
    "int_from_float": "phải là số nguyên",
    "string_type": "phải là chuỗi ký tự",
    "bool_type": "phải là true hoặc false",
    "list_type": "phải là danh sách",
    "dict_type": "phải là đối tượng",
    "model_type": "phải là đối tượng",
    "string_pattern_mismatch": "chứa ký tự không hợp lệ",
}


def _describe(e: dict) -> str:
    kind, ctx = e["type"], e.get("ctx") or {}
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        return "nằm ngoài khoảng cho phép" + (f" (tối thiểu {ctx['ge']})" if "ge" in ctx else "") + \
            (f" (tối đa {ctx['le']})" if "le" in ctx else "")
    if kind in ("literal_error", "enum"):
        return f"phải là một trong: {ctx.get('expected', '')}"
    if kind == "string_too_long":
        return f"quá dài (tối đa {ctx.get('max_length')} ký tự)"
    if kind == "string_too_short":
        return f"quá ngắn (tối thiểu {ctx.get('min_length')} ký tự)"
    if kind == "too_long":
        return f"quá nhiều phần tử (tối đa {ctx.get('max_length')})"
    if kind == "too_short":
        return f"cần ít nhất {ctx.get('min_length')} phần tử"
    return _MESSAGES.get(kind, "không hợp lệ")


_PLACES = {"query": "tham số truy vấn", "body": "nội dung yêu cầu", "form": "trường của biểu mẫu"}


def invalid_request(err: ValidationError, where: str) -> ServiceError:
    """400 invalid_request naming every bad field (``details``: field, location, message)."""
    details = []
    for e in err.errors(include_url=False, include_input=False):
        loc = [str(p) for p in e["loc"] if not str(p).startswith(("function-", "constrained-"))]
        # pydantic names union members (e.g. 'int', 'none'); keep the field path only.
        loc = [p for p in loc if p not in ("int", "str", "none", "list[int]", "bool")]
        name = ".".join(loc) or "(toàn bộ)"
        details.append({"field": name, "in": where, "message": _describe(e)})
    seen, unique = set(), []
    for d in details:
        if (d["field"], d["message"]) not in seen:
            seen.add((d["field"], d["message"]))
            unique.append(d)
    text_ = "; ".join(f"trường '{d['field']}' {d['message']}" for d in unique)
    return ServiceError("invalid_request", f"Yêu cầu không hợp lệ ({_PLACES[where]}): {text_}.", unique)


class IdConverter(IntegerConverter):
    """``<int:...>`` in every route: digits only; above :data:`MAX_ID` the answer is 404 (not 405 or 500)."""

    def to_python(self, value: str) -> int:
        number = super().to_python(value)
        if number > MAX_ID:
            raise NotFound()  # a ValidationError here would make werkzeug answer 405 for other methods
        return number


def init_app(app: Flask) -> None:
    """Call before any blueprint is registered."""
    app.url_map.converters["int"] = IdConverter


def int_arg(source, name: str, *, low: int = 1, high: int = MAX_ID) -> Optional[int]:
    """An integer from a web form or query string (None when absent or empty), for the HTML pages.

    Anything else (letters, "²", a number out of range) is 400 ``invalid_request`` naming the field, so a
    page never hands the database a value it cannot hold.
    """
    raw = str(source.get(name) or "").strip()
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 12 or not low <= int(raw) <= high:
        raise ServiceError("invalid_request", f"Trường '{name}' phải là số nguyên từ {low} đến {high} "
                                              f"(nhận được: {raw[:40]}).", {"field": name})
    return int(raw)


def year_arg(source, name: str = "year") -> Optional[int]:
    return int_arg(source, name, low=2000, high=2100)
