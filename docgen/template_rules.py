"""What the Jinja source of a template may contain: an allow-list checked on the parsed AST.

A form template needs placeholders (``{{ name }}``, ``{{ item.label }}``), ``if``/``for`` over the
definition's data, ``range(n)`` and a few formatting filters.  Everything else is refused with a
reason in Vietnamese: attribute or item access to private names (``__class__``, ``_x``), calls
other than ``range``, filters outside :data:`docgen.sandbox.SAFE_FILTERS`, ``macro``, ``call``,
``import``, ``include``, ``extends``, ``block``, ``with``, ``filter`` blocks, ``set``, ``*``, ``**``
and ``%``, ``range`` over :data:`docgen.sandbox.MAX_RANGE` items.

:func:`rule_violations(tree)` returns ``[(what_en, what_vi)]`` for one parsed part.
"""
from __future__ import annotations

from jinja2 import nodes

from .sandbox import MAX_RANGE, SAFE_FILTERS

SAFE_TESTS = frozenset(["defined", "undefined", "none", "number", "string", "even", "odd", "divisibleby",
                        "eq", "ne", "lt", "le", "gt", "ge", "in", "true", "false", "boolean", "integer"])
ALLOWED_CALLS = frozenset(["range"])

_ALWAYS_ALLOWED = (nodes.Template, nodes.Output, nodes.TemplateData, nodes.Const, nodes.If, nodes.For,
                   nodes.Compare, nodes.Operand, nodes.And, nodes.Or, nodes.Not, nodes.CondExpr,
                   nodes.Concat, nodes.Add, nodes.Sub, nodes.Div, nodes.FloorDiv, nodes.Neg,
                   nodes.Pos, nodes.Tuple, nodes.List, nodes.Name, nodes.Getattr, nodes.Getitem,
                   nodes.Filter, nodes.Test, nodes.Call, nodes.Slice, nodes.Keyword)

_REFUSED_VI = {
    nodes.Macro: "định nghĩa macro", nodes.CallBlock: "khối call", nodes.Import: "lệnh import",
    nodes.FromImport: "lệnh import", nodes.Include: "lệnh include", nodes.Extends: "lệnh extends",
    nodes.Block: "khối block", nodes.With: "khối with", nodes.FilterBlock: "khối filter",
    nodes.AssignBlock: "khối set", nodes.Pow: "phép lũy thừa **", nodes.Mod: "phép % (định dạng chuỗi)",
    nodes.Dict: "từ điển", nodes.Assign: "lệnh set (gán tên)", nodes.Mul: "phép nhân * (lặp chuỗi)", nodes.ScopedEvalContextModifier: "lệnh autoescape",
    nodes.EvalContextModifier: "lệnh autoescape", nodes.ExprStmt: "lệnh do", nodes.Scope: "khối scope",
}


def _private(name: object) -> bool:
    return isinstance(name, str) and name.startswith("_")


def rule_violations(tree: nodes.Template) -> list[tuple[str, str]]:
    """Constructs of ``tree`` outside the allow-list: (English detail, Vietnamese description)."""
    out: list[tuple[str, str]] = []

    def bad(en: str, vi: str) -> None:
        if (en, vi) not in out:
            out.append((en, vi))

    for node in tree.find_all(nodes.Node):
        kind = type(node)
        if kind in _REFUSED_VI:
            bad(f"{kind.__name__} is not allowed", _REFUSED_VI[kind])
            continue
        if not isinstance(node, _ALWAYS_ALLOWED):
            bad(f"{kind.__name__} is not allowed", f"cú pháp {kind.__name__}")
            continue
        if isinstance(node, nodes.Name) and _private(node.name):
            bad(f"private name {node.name}", f"tên riêng “{node.name}”")
        elif isinstance(node, nodes.Getattr) and _private(node.attr):
            bad(f"private attribute {node.attr}", f"truy cập thuộc tính riêng “{node.attr}”")
        elif isinstance(node, nodes.Getitem):
            arg = node.arg
            if isinstance(arg, nodes.Const) and _private(arg.value):
                bad(f"private item {arg.value}", f"truy cập thuộc tính riêng “{arg.value}”")
            elif not isinstance(arg, (nodes.Const, nodes.Name, nodes.Slice)):
                bad("computed subscript", "chỉ số tính toán trong ngoặc vuông")
        elif isinstance(node, nodes.Filter) and node.name not in SAFE_FILTERS:
            bad(f"filter {node.name}", f"bộ lọc “{node.name}”")
        elif isinstance(node, nodes.Test) and node.name not in SAFE_TESTS:
            bad(f"test {node.name}", f"phép thử “{node.name}”")
        elif isinstance(node, nodes.Call):
            if not (isinstance(node.node, nodes.Name) and node.node.name in ALLOWED_CALLS) \
                    or node.dyn_args is not None or node.dyn_kwargs is not None or node.kwargs:
                bad("call of something other than range()", "gọi hàm (chỉ được dùng range)")
            elif any(isinstance(a, nodes.Const) and isinstance(a.value, (int, float)) and abs(a.value) > MAX_RANGE
                     for a in node.args):
                bad(f"range over {MAX_RANGE} items", f"range quá {MAX_RANGE} phần tử")
        elif isinstance(node, (nodes.Filter, nodes.Test)) and (node.dyn_args or node.dyn_kwargs):
            bad("dynamic arguments", "đối số động")
        elif isinstance(node, nodes.For) and node.recursive:
            bad("recursive loop", "vòng lặp đệ quy")
    return out
