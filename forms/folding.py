"""The one folding helper of the libraries: text compared by meaning, not by spelling.

``fold("Tham gia ĐẦY ĐỦ")`` -> ``"tham gia day du"``: NFC, lower case, no diacritics (đ -> d),
runs of white space as one space.  Used by ocr (names, item and option wordings read on a page)
and by :mod:`forms.synonyms` (conflicts between wordings are checked on folded text, since a
scan or a typist may drop the diacritics).  Standard library only.
"""
from __future__ import annotations

import re
import unicodedata

__all__ = ["fold", "nfc"]


def nfc(s: str) -> str:
    return unicodedata.normalize("NFC", s or "")


def fold(s: str) -> str:
    """lower case without diacritics (đ -> d), white space collapsed."""
    s = unicodedata.normalize("NFD", nfc(s).lower().replace("đ", "d"))
    return re.sub(r"\s+", " ", "".join(c for c in s if not unicodedata.combining(c))).strip()
