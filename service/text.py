"""Vietnamese text helpers: NFC normalisation and diacritic-free search keys."""
from __future__ import annotations

import re
import unicodedata
from typing import Optional

_SPACES = re.compile(r"\s+")
# Control characters other than tab and line breaks: PostgreSQL refuses NUL, worksheets refuse the rest.
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def clean(value: object) -> str:
    """NFC, trimmed, inner runs of whitespace collapsed to one space."""
    if value is None:
        return ""
    text = unicodedata.normalize("NFC", str(value))
    return _SPACES.sub(" ", text).strip()


def text_problem(text: str, limit: Optional[int], label: str) -> Optional[str]:
    """Why ``text`` cannot be stored in a column of ``limit`` characters (None when it can)."""
    if limit and len(text) > limit:
        return f"{label} quá dài (tối đa {limit} ký tự)."
    if CONTROL_CHARS.search(text):
        return f"{label} chứa ký tự điều khiển không hợp lệ."
    return None


def checked_text(value: object, limit: Optional[int], label: str, code: str = "invalid_text",
                 field: Optional[str] = None) -> str:
    """``clean(value)``, or 400 ``code`` naming the field when it is too long or holds control characters."""
    from .errors import ServiceError
    text = clean(value)
    problem = text_problem(text, limit, label)
    if problem:
        raise ServiceError(code, problem, {"field": field} if field else None)
    return text


def search_key(value: object) -> str:
    """Lower case without diacritics: "Nguyễn Văn Á" -> "nguyen van a" (đ -> d)."""
    text = clean(value).lower().replace("đ", "d").replace("Đ", "d")
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
