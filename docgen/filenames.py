"""Safe file names for generated documents (Vietnamese kept, NFC)."""
from __future__ import annotations

import re
import unicodedata

_BAD_CHARS = re.compile(r'[\x00-\x1f\x7f-\x9f/\\:*?"<>|\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]')
_SPACES = re.compile(r"\s+")
_WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}


def ascii_fold(text: str) -> str:
    """"Nguyễn Văn Á" -> "Nguyen Van A" (đ/Đ -> d/D)."""
    text = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return unicodedata.normalize("NFC", "".join(c for c in text if unicodedata.category(c) != "Mn"))


def safe_filename(name: str, ext: str | None = None, *, ascii_only: bool = False,
                  max_bytes: int = 180, default: str = "van-ban") -> str:
    """A file name that is safe on Windows, macOS and Linux and inside ZIPs.

    Keeps Vietnamese letters (NFC), removes path separators, control, bidi and
    zero-width characters and ``:*?"<>|``, collapses whitespace, strips leading
    dots/dashes and trailing dots/spaces, avoids Windows reserved names and
    limits the UTF-8 length (``max_bytes``, extension included).
    ``ascii_only=True`` folds diacritics instead ("Nguyễn" -> "Nguyen").
    """
    s = unicodedata.normalize("NFC", str(name or ""))
    if ascii_only:
        s = ascii_fold(s)
        s = s.encode("ascii", "ignore").decode("ascii")
    s = _BAD_CHARS.sub(" ", s)
    s = _SPACES.sub(" ", s).strip()
    s = s.lstrip(".-_ ").rstrip(". ")
    if not s:
        s = default
    if s.split(".")[0].upper() in _WINDOWS_RESERVED:
        s = "_" + s
    suffix = ""
    if ext:
        e = safe_filename(ext.lstrip("."), ascii_only=True, max_bytes=16, default="bin") if ext else ""
        suffix = "." + e
    budget = max_bytes - len(suffix.encode("utf-8"))
    b = s.encode("utf-8")
    if len(b) > budget:
        s = b[:budget].decode("utf-8", "ignore").rstrip(". ")
    return s + suffix
