"""Form definitions: data files (``<template>.form.json``) beside each template.

A definition describes one printed form: its kind and version, the template
file, the context fields (name, Vietnamese label, type, required) and, for
forms with ticked items, one or more *variants* each listing its items and
each item's options (best first).  The same definition drives rendering, the
tick-box layout, the reading of scans and reports, so a new regulation means a
new definition and template, not new code.
"""
from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import DefinitionError

DEFAULT_TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
DEFINITION_SUFFIX = ".form.json"

FIELD_TYPES = {"text", "int", "date", "bool", "enum"}
ITEM_TYPES = {"choice", "free_text"}

# Context names every template may use besides the declared fields.
GLOBAL_NAMES = {
    "items", "variant", "variant_label", "form_kind", "form_version", "form_code",
    "form_title", "qr_payload",
}
# Names that only exist inside the template's own loops.
LOOP_NAMES = {"item", "opt", "loop", "line", "range"}


@dataclass(frozen=True)
class TemplateInfo:
    kind: str
    version: int
    title: str
    template_path: Path
    definition_path: Path


def _nfc(value: Any) -> Any:
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    if isinstance(value, list):
        return [_nfc(v) for v in value]
    if isinstance(value, dict):
        return {k: _nfc(v) for k, v in value.items()}
    return value


def validate_definition(data: Any, *, source: str = "<definition>") -> dict:
    """Check a parsed definition; return it NFC-normalised or raise DefinitionError."""
    problems: list[str] = []
    if not isinstance(data, dict):
        raise DefinitionError(f"{source}: definition must be a JSON object",
                              "Định nghĩa biểu mẫu phải là một đối tượng JSON")
    data = _nfc(data)
    for key, typ in (("kind", str), ("version", int), ("title", str), ("template", str), ("fields", list)):
        if key not in data:
            problems.append(f"missing key '{key}'")
        elif not isinstance(data[key], typ) or isinstance(data[key], bool):
            problems.append(f"'{key}' must be {typ.__name__}")
    names: set[str] = set()
    for i, f in enumerate(data.get("fields") or []):
        where = f"fields[{i}]"
        if not isinstance(f, dict) or not isinstance(f.get("name"), str) or not f.get("name").isidentifier():
            problems.append(f"{where}: 'name' must be an identifier")
            continue
        if f["name"] in names:
            problems.append(f"{where}: duplicate field '{f['name']}'")
        names.add(f["name"])
        if not isinstance(f.get("label"), str) or not f["label"].strip():
            problems.append(f"{where} ({f['name']}): 'label' is required")
        if f.get("type", "text") not in FIELD_TYPES:
            problems.append(f"{where} ({f['name']}): unknown type {f.get('type')!r}")
        if f.get("type") == "enum" and not (isinstance(f.get("choices"), list) and f["choices"]):
            problems.append(f"{where} ({f['name']}): enum needs 'choices'")
        if "required" in f and not isinstance(f["required"], bool):
            problems.append(f"{where} ({f['name']}): 'required' must be true/false")
    variants = data.get("variants", {})
    if not isinstance(variants, dict):
        problems.append("'variants' must be an object")
        variants = {}
    for vname, variant in variants.items():
        items = variant.get("items") if isinstance(variant, dict) else None
        if not isinstance(items, list) or not items:
            problems.append(f"variant '{vname}': 'items' must be a non-empty list")
            continue
        numbers, keys = set(), set()
        for j, item in enumerate(items):
            where = f"variant '{vname}' item[{j}]"
            if not isinstance(item, dict):
                problems.append(f"{where}: must be an object")
                continue
            num, key = item.get("number"), item.get("key")
            if not isinstance(num, int) or isinstance(num, bool) or num in numbers:
                problems.append(f"{where}: 'number' must be a unique integer")
            numbers.add(num)
            if not isinstance(key, str) or not key.isidentifier() or key in keys:
                problems.append(f"{where}: 'key' must be a unique identifier")
            keys.add(key)
            if not isinstance(item.get("label"), str) or not item["label"].strip():
                problems.append(f"{where}: 'label' is required")
            itype = item.setdefault("type", "choice" if "options" in item else "free_text")
            if itype not in ITEM_TYPES:
                problems.append(f"{where}: unknown type {itype!r}")
            if itype == "choice":
                opts = item.get("options")
                if not isinstance(opts, list) or len(opts) < 2:
                    problems.append(f"{where}: a choice item needs at least 2 options")
                    continue
                okeys = set()
                for k, opt in enumerate(opts):
                    if not isinstance(opt, dict) or not isinstance(opt.get("key"), str) \
                            or not isinstance(opt.get("label"), str) or not opt["label"].strip():
                        problems.append(f"{where} option[{k}]: needs 'key' and 'label'")
                        continue
                    if opt["key"] in okeys:
                        problems.append(f"{where} option[{k}]: duplicate key {opt['key']!r}")
                    okeys.add(opt["key"])
            else:
                lines = item.get("lines", 4)
                if not isinstance(lines, int) or not 0 < lines <= 20:
                    problems.append(f"{where}: 'lines' must be 1..20")
        if "variant" in names:
            pass
    if problems:
        raise DefinitionError(f"{source}: invalid form definition: " + "; ".join(problems),
                              "Định nghĩa biểu mẫu không hợp lệ: " + "; ".join(problems))
    return data


def load_definition(path: str | Path) -> dict:
    """Read and validate a ``*.form.json`` file."""
    path = Path(path)
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DefinitionError(f"definition file not found: {path}",
                              f"Không tìm thấy tệp định nghĩa biểu mẫu: {path.name}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DefinitionError(f"cannot read definition {path}: {exc}",
                              f"Không đọc được tệp định nghĩa biểu mẫu: {path.name}") from exc
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise DefinitionError(f"{path}: not valid JSON: {exc}",
                              f"Tệp {path.name} không phải JSON hợp lệ (dòng {exc.lineno})") from exc
    return validate_definition(data, source=str(path))


def definition_path_for(template_path: str | Path) -> Path:
    """``x.v1.docx`` -> ``x.v1.form.json`` (same directory)."""
    p = Path(template_path)
    name = p.name[:-5] if p.name.lower().endswith(".docx") else p.stem
    return p.with_name(name + DEFINITION_SUFFIX)


def definition_for_template(template_path: str | Path) -> dict | None:
    """The definition stored beside a template, or None if there is none."""
    dp = definition_path_for(template_path)
    return load_definition(dp) if dp.exists() else None


def list_templates(templates_dir: str | Path | None = None) -> list[TemplateInfo]:
    """All (definition, template) pairs in a directory, sorted by kind then version.

    A definition whose template file is missing is skipped.
    """
    d = Path(templates_dir) if templates_dir else DEFAULT_TEMPLATES_DIR
    out = []
    for dp in sorted(d.glob("*" + DEFINITION_SUFFIX)):
        data = load_definition(dp)
        tp = dp.parent / data["template"]
        if tp.exists():
            out.append(TemplateInfo(data["kind"], data["version"], data["title"], tp, dp))
    out.sort(key=lambda t: (t.kind, t.version))
    return out


def find_template(kind: str, version: int | None = None,
                  templates_dir: str | Path | None = None) -> TemplateInfo:
    """The template of a kind: the given version, or the highest one."""
    cands = [t for t in list_templates(templates_dir) if t.kind == kind
             and (version is None or t.version == version)]
    if not cands:
        raise DefinitionError(f"no template for kind={kind!r} version={version!r}",
                              f"Không có mẫu cho loại văn bản {kind}")
    return cands[-1]


def variant_items(definition: dict, variant: str | None = None) -> list[dict]:
    variants = definition.get("variants") or {}
    if not variants:
        return []
    if variant is None:
        variant = "standard" if "standard" in variants else next(iter(variants))
    if variant not in variants:
        raise DefinitionError(f"unknown variant {variant!r} for {definition['kind']}",
                              f"Không có loại phiếu {variant}")
    return variants[variant]["items"]


def known_names(definition: dict) -> set[str]:
    """Every top-level name a template of this definition may use."""
    names = set(GLOBAL_NAMES)
    for f in definition.get("fields", []):
        n = f["name"]
        names.add(n)
        t = f.get("type", "text")
        if t in ("text", "enum"):
            names.add(n + "_upper")
        if t == "date":
            names.add(n + "_long")
    return names
