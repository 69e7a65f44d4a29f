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


# --- Vietnamese collation (lists of people sorted the Vietnamese way) ---
# The alphabet's letters in order; a letter is its base plus any letter-forming mark (breve, circumflex, horn).
_VI_ALPHABET = ["a", "ă", "â", "b", "c", "d", "đ", "e", "ê", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o", "ô",
                "ơ", "p", "q", "r", "s", "t", "u", "ư", "v", "w", "x", "y", "z"]
_VI_RANK = {letter: i for i, letter in enumerate(_VI_ALPHABET)}
_LETTER_MARKS = {"\u0306", "\u0302", "\u031b"}  # breve, circumflex, horn
# tones in dictionary order: level, grave (huyền), hook (hỏi), tilde (ngã), acute (sắc), dot below (nặng)
_TONES = {"\u0300": 1, "\u0309": 2, "\u0303": 3, "\u0301": 4, "\u0323": 5}


def _vi_word_key(word: str) -> tuple:
    """(letters in alphabet order, tones, original) for one word, case folded."""
    letters: list[int] = []
    tones: list[int] = []
    for ch in unicodedata.normalize("NFC", word.lower()):
        parts = unicodedata.normalize("NFD", ch)
        base = parts[0]
        tone = 0
        for mark in parts[1:]:
            if mark in _LETTER_MARKS:
                base += mark
            elif mark in _TONES:
                tone = _TONES[mark]
        base = unicodedata.normalize("NFC", base)
        rank = _VI_RANK.get(base)
        letters.append(rank if rank is not None else 100 + ord(base[0]))
        tones.append(tone)
    return tuple(letters), tuple(tones)


def vi_collation_key(text: object) -> tuple:
    """Sort key of a text in Vietnamese dictionary order (a < ă < â < b … d < đ …; tones after letters)."""
    words = clean(text).split(" ")
    keys = [_vi_word_key(w) for w in words if w]
    return tuple(k[0] for k in keys), tuple(k[1] for k in keys), clean(text)


def _vi_name_parts(full_name: object) -> tuple:
    words = clean(full_name).split(" ")
    given, rest = words[-1], " ".join(words[:-1])
    return vi_collation_key(given), vi_collation_key(rest)


def vi_name_key(full_name: object) -> tuple:
    """Sort key of a person's full name the Vietnamese way: by given name (tên, the last word), then by the
    family and middle names, letters in Vietnamese dictionary order (a < ă < â, d < đ, o < ô < ơ, u < ư);
    tones (none, huyền, hỏi, ngã, sắc, nặng) only decide between names spelled with the same letters."""
    return vi_sort_string(full_name), clean(full_name)


def vi_sorted(rows, key=lambda row: row):
    """``rows`` sorted by :func:`vi_name_key` of ``key(row)`` (a person's full name)."""
    return sorted(rows, key=lambda row: vi_name_key(key(row) or ""))


def vi_sort_string(full_name: object) -> str:
    """:func:`vi_name_key` as a string of digits that sorts the same in any database collation
    (stored in ``members.sort_name`` so that paged lists sort the Vietnamese way in SQL)."""
    (given_letters, given_tones, _), (rest_letters, rest_tones, _) = _vi_name_parts(full_name)

    def letters(words) -> str:  # each letter two digits (10..99), words joined by "01", the part ended by "00"
        return "01".join("".join(f"{min(99, 10 + r)}" for r in w) for w in words) + "00"

    def tones(words) -> str:
        return "".join(str(t) for w in words for t in w)
    return (letters(given_letters) + letters(rest_letters) + tones(given_tones) + tones(rest_tones))[:255]


def vi_sorted_names(rows, key=lambda row: row.name):
    """Organisations and other named things in Vietnamese dictionary order of ``key(row)``."""
    return sorted(rows, key=lambda row: vi_collation_key(key(row) or ""))


def join_clauses(parts, sep: str = "; ") -> str:
    """Messages joined into one sentence: "A; B; C." (no ".;" where a part ended with its own full stop)."""
    clauses = [clean(p).rstrip(" .;") for p in parts if clean(p).rstrip(" .;")]
    return sep.join(clauses) + ("." if clauses else "")
