"""The Jinja environment every template is rendered with: nothing dangerous can be computed.

* :class:`SafeTemplateEnvironment` is Jinja's ``ImmutableSandboxedEnvironment`` (no access to
  ``__class__``, ``__globals__``, private attributes, no mutation of lists or dicts) with:
  - ``range`` replaced by one that refuses more than :data:`MAX_RANGE` items;
  - ``*``, ``**``, ``+``, ``%`` on numbers and strings capped (no ``'a' * 10**9``, no
    ``10**10**10``, no huge string concatenation or ``%`` formatting);
  - the ``format`` filter and ``str.format`` refused outright;
  - no globals except ``range`` (no ``lipsum``, ``cycler``, ``joiner``, ``namespace``);
  - a cap on the size of each rendered part (:data:`MAX_OUTPUT_CHARS`).
* A template that goes over a limit raises :class:`docgen.errors.TemplateLimitError`
  (``code = "template_limit"``), never runs on.

Custom (uploaded) templates are also rendered in a separate process with a memory and time
limit (:mod:`docgen.isolate`); this environment is what makes them harmless in the first place.
"""
from __future__ import annotations

import operator
from typing import Any

from jinja2 import DictLoader, Template
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

from .errors import TemplateLimitError

MAX_RANGE = 1000            # items of one range()
MAX_STRING = 100_000        # characters of one string made by an operator
MAX_NUMBER_BITS = 64        # size of a number made by an operator
MAX_OUTPUT_CHARS = 20_000_000  # characters of one rendered part (the real forms are ~200 k)


# Filters a template may use (the rest, e.g. center, indent, wordwrap, join, replace, format,
# attr, map, xmlattr, can amplify output or reach attributes in ways not worth reviewing).
SAFE_FILTERS = frozenset(["e", "escape", "upper", "lower", "title", "capitalize", "trim", "default", "d",
                          "length", "count", "first", "last", "int", "string", "round", "abs", "float"])
# Methods of plain values a template may call (``name.upper()``); anything else is refused.
SAFE_METHODS = frozenset(["upper", "lower", "title", "capitalize", "strip", "lstrip", "rstrip", "startswith",
                          "endswith", "isdigit", "get", "keys", "values", "items", "index", "count"])


def _limit(what: str) -> TemplateLimitError:
    return TemplateLimitError(f"template exceeded a limit: {what}",
                              f"Mẫu vượt giới hạn cho phép khi điền dữ liệu ({what}); mẫu không được dùng")


def safe_range(*args: int) -> range:
    r = range(*args)
    if len(r) > MAX_RANGE:
        raise _limit(f"range of {len(r)} items > {MAX_RANGE}")
    return r


def _check_result(value: Any) -> Any:
    if isinstance(value, (str, bytes, list, tuple)) and len(value) > MAX_STRING:
        raise _limit(f"value of {len(value)} items > {MAX_STRING}")
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > MAX_NUMBER_BITS:
        raise _limit("number too large")
    return value


def _size(value: Any) -> int:
    if isinstance(value, (str, bytes, list, tuple)):
        return len(value)
    return 1


class LimitedTemplate(Template):
    """A template whose ``render`` stops once the output passes :data:`MAX_OUTPUT_CHARS`."""

    def render(self, *args: Any, **kwargs: Any) -> str:
        return render_limited(self, dict(*args, **kwargs))


class SafeTemplateEnvironment(ImmutableSandboxedEnvironment):
    """Sandbox with capped ranges, strings, numbers and output (see module docstring)."""

    template_class = LimitedTemplate

    intercepted_binops = frozenset(["*", "**", "+", "%", "//", "/", "-"])
    intercepted_unops = frozenset(["-", "+"])

    def __init__(self, **kwargs: Any):
        kwargs.setdefault("autoescape", True)
        kwargs["loader"] = DictLoader({})  # import / include / extends find nothing
        super().__init__(**kwargs)
        self.globals.clear()
        self.globals["range"] = safe_range
        for name in list(self.filters):
            if name not in SAFE_FILTERS:
                del self.filters[name]
        self.tests = {k: v for k, v in self.tests.items() if k not in ("callable",)}

    def call_binop(self, context, operator_name: str, left: Any, right: Any) -> Any:
        if operator_name == "**":
            if not (isinstance(left, (int, float)) and isinstance(right, (int, float))) or \
                    abs(right) > 64 or (isinstance(left, int) and left.bit_length() * max(right, 0) > MAX_NUMBER_BITS):
                raise _limit("power too large")
            return _check_result(left ** right)
        if operator_name == "*":
            if isinstance(left, int) and not isinstance(right, int):
                left, right = right, left
            if isinstance(right, int) and _size(left) * max(right, 0) > MAX_STRING and \
                    isinstance(left, (str, bytes, list, tuple)):
                raise _limit("repetition too large")
            return _check_result(left * right)
        if operator_name == "%":
            if isinstance(left, str):
                raise SecurityError("string formatting with % is not allowed in templates")
            return _check_result(left % right)
        if operator_name == "+":
            if _size(left) + _size(right) > MAX_STRING:
                raise _limit("concatenation too large")
            return _check_result(left + right)
        ops = {"//": operator.floordiv, "/": operator.truediv, "-": operator.sub}
        return _check_result(ops[operator_name](left, right))

    def call_unop(self, context, operator_name: str, arg: Any) -> Any:
        return _check_result({"-": operator.neg, "+": operator.pos}[operator_name](arg))

    def is_safe_callable(self, obj: Any) -> bool:
        if obj is safe_range:
            return True
        owner = getattr(obj, "__self__", None)
        if owner is not None and isinstance(owner, (str, int, float, dict, list, tuple)):
            return getattr(obj, "__name__", "") in SAFE_METHODS and super().is_safe_callable(obj)
        if isinstance(obj, type) or getattr(obj, "__name__", "").startswith("_"):
            return False
        return super().is_safe_callable(obj)

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        if attr.startswith("_") or attr in ("format", "format_map", "mro"):
            return False
        return super().is_safe_attribute(obj, attr, value)


def render_limited(template, context: dict, limit: int = MAX_OUTPUT_CHARS) -> str:
    """Render a compiled template, stopping as soon as its output passes ``limit`` characters."""
    out: list[str] = []
    append = out.append
    size = 0
    try:
        for chunk in template.root_render_func(template.new_context(context)):
            size += len(chunk)
            if size > limit:
                raise _limit(f"output over {limit} characters")
            append(chunk)
    except TemplateLimitError:
        raise
    except Exception:  # noqa: BLE001 - Jinja's own error handling (rewrites the traceback), as render() does
        template.environment.handle_exception()
    return "".join(out)


_ENV: SafeTemplateEnvironment | None = None


def environment() -> SafeTemplateEnvironment:
    """The shared sandboxed environment (same settings docxtpl uses with autoescape=True)."""
    global _ENV
    if _ENV is None:
        _ENV = SafeTemplateEnvironment()
    return _ENV
