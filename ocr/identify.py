"""Member identification: which member a page is about, from text read on it.

Used for pages that carry no valid QR: our sheet whose code is damaged (the
name line is OCR'd) and forms a cell retyped (full-page OCR).  Names are
compared on folded text (no diacritics, lower case), tolerant of OCR
mistakes; dates of birth, workplace and residence names add evidence.
"""
from __future__ import annotations

import re
import unicodedata

from rapidfuzz import fuzz

from forms.folding import fold, nfc  # noqa: F401  (the one folding helper; re-exported)

_DATE_RE = re.compile(r"(\d{1,2})\s*[/.\-]\s*(\d{1,2})\s*[/.\-]\s*(\d{4})")
# dates as OCR gives them: O for 0, l / I / | for 1, spaces or commas around the separators
_DIG = r"[0-9OoDQIl|]"
_OCR_DATE_RE = re.compile(rf"(?<![0-9A-Za-z])({_DIG}{{1,2}})\s*[/.\-,]\s*({_DIG}{{1,2}})\s*[/.\-,]\s*"
                          rf"({_DIG}{{2}}\s?{_DIG}{{2}})(?![0-9])")
_DIGIT_MAP = str.maketrans({"O": "0", "o": "0", "D": "0", "Q": "0", "I": "1", "l": "1", "|": "1"})
# the label in front of the member's name, and what may follow the name on its line
_NAME_LABELS = ("ho va ten dang vien", "ho va ten", "ho ten", "dong chi", "dang vien")
_AFTER_NAME_RE = re.compile(r"(?i)\b(ng[aà]y\s*sinh|sinh\s*ng[aà]y|n[aă]m\s*sinh|sinh\s*n[aă]m|sinh)\b")


def _lower(s: str) -> str:
    return re.sub(r"\s+", " ", nfc(s).lower()).strip()


def _date_str(v) -> str | None:
    if v is None:
        return None
    if hasattr(v, "strftime"):
        return f"{v.day:02d}/{v.month:02d}/{v.year:04d}"
    s = str(v).strip()
    m = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", s)
    if m:
        return f"{int(m.group(3)):02d}/{int(m.group(2)):02d}/{m.group(1)}"
    m = _DATE_RE.search(s)
    if m:
        return f"{int(m.group(1)):02d}/{int(m.group(2)):02d}/{m.group(3)}"
    return None


def find_dates(text: str) -> set[str]:
    """dd/mm/yyyy dates in OCR text, tolerating O for 0, l or I for 1, spaces, dots and dashes."""
    out = set()
    for d, m, y in _OCR_DATE_RE.findall(text or ""):
        d, m, y = (x.translate(_DIGIT_MAP).replace(" ", "") for x in (d, m, y))
        if not (d.isdigit() and m.isdigit() and y.isdigit()):
            continue
        di, mi, yi = int(d), int(m), int(y)
        if 1 <= di <= 31 and 1 <= mi <= 12 and 1000 <= yi <= 2999:  # the year may be misread (1083): kept
            out.add(f"{di:02d}/{mi:02d}/{yi:04d}")
    return out


def name_after_label(line: str) -> tuple[int, str] | None:
    """(strength of the label, name) in a line like "Họ và tên đảng viên: Nguyễn Văn A   Ngày sinh:
    02/09/1985", or None.  The label is found on the folded text, fuzzily (OCR may give "Hợ và tến"),
    so the name keeps its diacritics as read.  "Đồng chí" / "Đảng viên" are weaker labels and need
    a name after them (capitalised words), since they also start ordinary sentences."""
    line = nfc(line)
    words = line.split()
    fw = [fold(w) for w in words]
    found = None  # (label index, end word index)
    for li, label in enumerate(_NAME_LABELS):
        n = len(label.split())
        for i in range(0, min(len(words), 3)):  # the label starts the line (a number may come first)
            if fuzz.ratio(label, " ".join(fw[i:i + n]).strip(" :.;,")) >= 80:
                found = (li, i + n)
                break
        if found:
            break
    if found is None:
        return None
    rest = " ".join(words[found[1]:]).lstrip(" :.;,")
    # "Họ và tên (đảng viên): ...": skip what is left of the label up to its colon
    pre, colon, post = rest.partition(":")
    if colon and len(pre.split()) <= 2 and not _AFTER_NAME_RE.search(pre) and fold(pre).strip() in (
            "", "dang vien", "dong chi", "nguoi duoc nhan xet"):
        rest = post
    rest = _AFTER_NAME_RE.split(rest)[0]
    rest = _OCR_DATE_RE.sub(" ", rest)
    rest = re.sub(r"[^\w\s]|\d|_", " ", rest)
    rest = re.sub(r"\s+", " ", rest).strip()
    if not rest:
        return None
    strength = 2 if found[0] < 3 else 1
    if strength == 1:
        ws = rest.split()
        if not (2 <= len(ws) <= 6 and all(w[:1].isupper() for w in ws)):
            return None
    return strength, rest


def _name_similarity(fn: str, fname: str) -> float:
    """Similarity of two folded names, 0..1: whole-string ratio and token-sorted ratio (OCR may merge or
    split words), never rewarding a name that only shares some words (token_set would)."""
    return max(fuzz.ratio(fn, fname), fuzz.token_sort_ratio(fn, fname)) / 100


def propose_member(text: str, members, *, name_text: str | None = None, dob_text: str | None = None,
                   top: int = 0) -> tuple | None:
    """(member id, confidence, details) of the best candidate, or None.

    Score per candidate (0..1): name similarity on folded text (0.55; the name read after its label
    when there is one, else the best stretch of the whole text), date of birth (0.3 when it is the
    one read after "sinh", 0.25 when found elsewhere on the page, 0.1 when it differs by one digit),
    workplace / residence cell names found on the page (0.1) and the name's diacritics as read
    (0.05: tells "Anh" from "Ánh" when OCR got them right).  The confidence grows with the margin
    over the runner-up: two namesakes with no date of birth read give a low confidence.
    ``top``: also return the best ``top`` candidates in the details (for diagnosis).
    """
    if not members:
        return None
    ftext = fold(text)
    fname = fold(name_text) if name_text else None
    lname = _lower(name_text) if name_text else None
    dates = find_dates(text)
    if dob_text:
        dates |= find_dates(dob_text)
    dob_read = find_dates(dob_text) if dob_text else set()
    scored = []
    for m in members:
        full = m.get("full_name", "")
        fn = fold(full)
        if not fn:
            continue
        if fname:
            s_name = max(_name_similarity(fn, fname),
                         (fuzz.partial_ratio(fn, ftext) / 100 * 0.9) if len(ftext) >= len(fn) else 0.0)
            s_diac = fuzz.ratio(_lower(full), lname) / 100
        else:
            s_name = fuzz.partial_ratio(fn, ftext) / 100 if len(ftext) >= len(fn) else fuzz.ratio(fn, ftext) / 100
            s_diac = 0.0
        dob = _date_str(m.get("date_of_birth"))
        if not dob:
            s_dob = 0.0
        elif dob in dob_read:
            s_dob = 1.0
        elif dob in dates:
            s_dob = 0.85
        elif any(sum(a != b for a, b in zip(dob, d)) == 1 for d in dates):
            s_dob = 0.35
        else:
            s_dob = 0.0
        orgs = [fold(m.get(k) or "") for k in ("workplace_org_name", "residence_cell_name")]
        orgs = [o for o in orgs if o]
        s_org = (sum(fuzz.partial_ratio(o, ftext) / 100 for o in orgs) / len(orgs)) if orgs and ftext else 0.0
        score = 0.55 * s_name + 0.3 * s_dob + 0.1 * s_org + 0.05 * s_diac
        scored.append((score, m.get("id"), s_name, s_dob, s_org, s_diac))
    if not scored:
        return None
    scored.sort(key=lambda t: -t[0])
    best = scored[0]
    second = scored[1][0] if len(scored) > 1 else 0.0
    margin = best[0] - second
    details = {"score": round(best[0], 3), "name": round(best[2], 3), "dob": best[3],
               "org": round(best[4], 3), "diacritics": round(best[5], 3), "margin": round(margin, 3)}
    if top:
        details["top"] = [{"id": c[1], "score": round(c[0], 3), "name": round(c[2], 3), "dob": c[3],
                           "org": round(c[4], 3), "diacritics": round(c[5], 3)} for c in scored[:top]]
    # a name that is clearly read, or a fair name with its date of birth
    if not (best[2] >= 0.75 or (best[2] >= 0.6 and best[3] >= 0.85)):
        return None
    # confidence: how good the match is, times how clearly it beats the runner-up (a margin of 0.15,
    # e.g. a date of birth that only this candidate has, is clear)
    conf = max(0.0, min(0.95, best[0] * min(1.0, 0.3 + margin * 4.7)))
    return best[1], conf, details


def identity_lines(lines) -> tuple[str | None, str | None]:
    """(name text, date of birth text) from the OCR lines: the name after its label ("Họ và tên",
    "Đồng chí", "Đảng viên"), the date of birth on a line that says "sinh" (else the first date)."""
    name, dob_text = None, None
    for ln in lines:
        got = name_after_label(ln["text"])
        if got and (name is None or got[0] > name[0]):
            name = got
        if dob_text is None and "sinh" in fold(ln["text"]):
            tail = re.split(r"(?i)sinh", ln["text"], maxsplit=1)[-1]
            ds = find_dates(tail) or find_dates(ln["text"])
            if ds:
                dob_text = sorted(ds)[0]
    return (name[1] if name else None), dob_text
