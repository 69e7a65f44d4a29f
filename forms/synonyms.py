"""The wordings cells use for the items and options of a form: data beside the definition.

``templates/<kind>.synonyms.json`` lists, per item (by key), other wordings of its label and, per
option key, other wordings of the option ("Tốt / Chưa tốt", "Thực hiện tốt / Thực hiện / Chưa
thực hiện", abbreviations...).  The reader of forms we did not print (:mod:`ocr.foreign`) finds
items and options by these wordings, compared folded (:func:`forms.folding.fold`).  An item's
and an option's own label from the definition always count and come first.

:func:`load` checks the shape; :func:`validate` checks the table against a definition: every
item and option key exists, and no wording means two options of one item (or two items).
Standard library only.
"""
from __future__ import annotations

import functools
import json
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from .definition import DefinitionError, FormDefinition, Item
from .folding import fold

__all__ = ["SUFFIX", "ItemSynonyms", "SynonymError", "SynonymTable", "load", "from_dict", "validate",
           "path_for", "for_kind"]

SUFFIX = ".synonyms.json"
DEFAULT_DIR = Path(__file__).resolve().parent.parent / "templates"


class SynonymError(DefinitionError):
    """The synonym table of a form is missing, unreadable or does not fit its definition."""

    message_vi = "Bảng từ đồng nghĩa của biểu mẫu không hợp lệ"


@dataclass(frozen=True)
class ItemSynonyms:
    key: str
    labels: tuple[str, ...]
    options: Mapping[str, tuple[str, ...]]


@dataclass(frozen=True)
class SynonymTable:
    kind: str
    items: tuple[ItemSynonyms, ...]

    def item(self, key: str) -> ItemSynonyms | None:
        return next((i for i in self.items if i.key == key), None)

    def labels_for(self, item: Item | Any) -> tuple[str, ...]:
        """Wordings of an item's label: its own label first, then the table's (no duplicates)."""
        own = [item.label]
        got = self.item(item.key)
        return _unique(own + list(got.labels if got else ()))

    def options_for(self, item: Item | Any) -> dict[str, tuple[str, ...]]:
        """option key -> wordings of the option (own label first), for the options the item has."""
        got = self.item(item.key)
        return {o.key: _unique([o.label] + list((got.options.get(o.key, ()) if got else ())))
                for o in item.options}


def _unique(words: list[str]) -> tuple[str, ...]:
    seen, out = set(), []
    for w in words:
        f = fold(w)
        if f and f not in seen:
            seen.add(f)
            out.append(w)
    return tuple(out)


def _nfc_list(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise SynonymError(f"{where}: expected a non-empty list of wordings",
                           f"{where}: cần một danh sách cách ghi (không rỗng)")
    out = []
    for v in value:
        if not isinstance(v, str) or not v.strip():
            raise SynonymError(f"{where}: every wording must be non-empty text",
                               f"{where}: mỗi cách ghi phải là một chuỗi chữ không rỗng")
        out.append(unicodedata.normalize("NFC", v.strip()))
    return tuple(out)


def from_dict(data: Mapping[str, Any], *, source: str = "<synonyms>") -> SynonymTable:
    """Check the shape of a table and build it (strings NFC)."""
    if not isinstance(data, Mapping) or not isinstance(data.get("kind"), str) or not data.get("kind"):
        raise SynonymError(f"{source}: 'kind' missing", f"{Path(source).name}: thiếu loại biểu mẫu (kind)")
    items = data.get("items")
    if not isinstance(items, list):
        raise SynonymError(f"{source}: 'items' must be a list", f"{Path(source).name}: 'items' phải là danh sách")
    out, keys = [], set()
    for n, it in enumerate(items, 1):
        where = f"{Path(source).name}, mục thứ {n}"
        if not isinstance(it, Mapping) or not isinstance(it.get("key"), str) or not it["key"]:
            raise SynonymError(f"{source}: item {n} has no key", f"{where}: thiếu khóa (key)")
        if it["key"] in keys:
            raise SynonymError(f"{source}: item {it['key']!r} listed twice", f"{where}: mục {it['key']} lặp lại")
        keys.add(it["key"])
        labels = _nfc_list(it.get("labels", [it["key"]]), f"{where} ({it['key']}), tên mục")
        opts = it.get("options") or {}
        if not isinstance(opts, Mapping):
            raise SynonymError(f"{source}: options of {it['key']!r} must be an object",
                               f"{where} ({it['key']}): 'options' phải là một bảng khóa → cách ghi")
        options = {str(k): _nfc_list(v, f"{where} ({it['key']}), phương án {k}") for k, v in opts.items()}
        out.append(ItemSynonyms(it["key"], labels, options))
    return SynonymTable(data["kind"], tuple(out))


def validate(table: SynonymTable, definition: FormDefinition | Mapping[str, Any]) -> None:
    """Raise :class:`SynonymError` when the table does not fit the definition."""
    d = FormDefinition.coerce(definition)
    if table.kind != d.kind:
        raise SynonymError(f"synonyms of {table.kind!r} given for {d.kind!r}",
                           f"Bảng từ đồng nghĩa của {table.kind} không dùng được cho {d.kind}")
    choice: dict[str, set[str]] = {}
    for v in d.variants:
        for it in v.items:
            if it.is_choice:
                choice.setdefault(it.key, set()).update(it.option_keys)
    for it in table.items:
        if it.key not in choice:
            raise SynonymError(f"synonyms: unknown item {it.key!r}",
                               f"Bảng từ đồng nghĩa: không có mục chọn {it.key} trong biểu mẫu")
        for ok in it.options:
            if ok not in choice[it.key]:
                raise SynonymError(f"synonyms: item {it.key!r} has no option {ok!r}",
                                   f"Bảng từ đồng nghĩa: mục {it.key} không có phương án {ok}")
    for v in d.variants:
        labels: dict[str, str] = {}
        for it in v.choice_items:
            for w in table.labels_for(it):
                other = labels.setdefault(fold(w), it.key)
                if other != it.key:
                    raise SynonymError(f"synonyms: label {w!r} means both {other!r} and {it.key!r}",
                                       f"Bảng từ đồng nghĩa: cách ghi “{w}” chỉ cả mục {other} lẫn mục {it.key}")
            seen: dict[str, str] = {}
            for ok, words in table.options_for(it).items():
                for w in words:
                    other = seen.setdefault(fold(w), ok)
                    if other != ok:
                        raise SynonymError(
                            f"synonyms: {w!r} means both {other!r} and {ok!r} in item {it.key!r} ({v.name})",
                            f"Bảng từ đồng nghĩa: cách ghi “{w}” chỉ cả phương án {other} lẫn {ok} "
                            f"của mục {it.key}")


def load(path: str | Path, definition: FormDefinition | Mapping[str, Any] | None = None) -> SynonymTable:
    """Read a ``*.synonyms.json`` file (and check it against ``definition`` when given)."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SynonymError(f"synonym table not found: {path}",
                           f"Không tìm thấy bảng từ đồng nghĩa: {path.name}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SynonymError(f"cannot read synonym table {path}: {exc}",
                           f"Không đọc được bảng từ đồng nghĩa: {path.name}") from exc
    table = from_dict(data, source=str(path))
    if definition is not None:
        validate(table, definition)
    return table


def path_for(kind: str, templates_dir: str | Path | None = None) -> Path:
    return Path(templates_dir or DEFAULT_DIR) / f"{kind}{SUFFIX}"


@functools.lru_cache(maxsize=16)
def for_kind(kind: str, templates_dir: str | None = None) -> SynonymTable | None:
    """The table of a kind of form (cached), or None when the form has none."""
    p = path_for(kind, templates_dir)
    return load(p) if p.exists() else None
