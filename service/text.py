"""Vietnamese text helpers: NFC normalisation and diacritic-free search keys."""
from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")


def clean(value: object) -> str:
    """NFC, trimmed, inner runs of whitespace collapsed to one space."""
    if value is None:
        return ""
    text = unicodedata.normalize("NFC", str(value))
    return _SPACES.sub(" ", text).strip()


def search_key(value: object) -> str:
    """Lower case without diacritics: "Nguyễn Văn Á" -> "nguyen van a" (đ -> d)."""
    text = clean(value).lower().replace("đ", "d").replace("Đ", "d")
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
