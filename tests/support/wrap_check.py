"""How a rendered PDF page broke its text into lines: the checks behind "no heading wraps a lone word".

``segments(pdf)`` reads the first page with pdfplumber and returns its printed lines,
each cut where words are far apart (the two columns of a letterhead share a baseline), as
``(top, x0, text)``.  ``pieces(segs, text)`` finds the consecutive segments that together
print ``text`` (one paragraph or heading); ``bad_pieces`` lists those that are a single word
or a lone "……" when the text took more than one line.
"""
from __future__ import annotations

import io
import re
import unicodedata

COLUMN_GAP_PT = 14.0


def _norm(s: str) -> str:
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", s)).strip()


def segments(pdf: bytes) -> list[tuple[float, float, str]]:
    import pdfplumber
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        words = doc.pages[0].extract_words(keep_blank_chars=False, use_text_flow=False)
    rows: list[list[dict]] = []
    for w in sorted(words, key=lambda w: (round(w["top"]), w["x0"])):
        for row in rows:
            if abs(row[0]["top"] - w["top"]) < 3:
                row.append(w)
                break
        else:
            rows.append([w])
    out = []
    for row in rows:
        row.sort(key=lambda w: w["x0"])
        seg = [row[0]]
        for w in row[1:]:
            if w["x0"] - seg[-1]["x1"] > COLUMN_GAP_PT:
                out.append((seg[0]["top"], seg[0]["x0"], _norm(" ".join(s["text"] for s in seg))))
                seg = [w]
            else:
                seg.append(w)
        out.append((seg[0]["top"], seg[0]["x0"], _norm(" ".join(s["text"] for s in seg))))
    return sorted(out)


def pieces(segs: list[tuple[float, float, str]], text: str) -> list[str] | None:
    """The segments, top to bottom, that print ``text`` (None when it is not on the page)."""
    target = _norm(text)
    for i, (_top, _x, first) in enumerate(segs):
        if not target.startswith(first) and target != first:
            continue
        got, rest = [first], target[len(first):].strip()
        for _t2, _x2, nxt in segs[i + 1:]:
            if not rest:
                break
            if rest.startswith(nxt):
                got.append(nxt)
                rest = rest[len(nxt):].strip()
        if not rest:
            return got
    return None


def bad_pieces(got: list[str]) -> list[str]:
    """Lines of a wrapped text that hold one word, or only a gap of dots."""
    if len(got) < 2:
        return []
    return [p for p in got if len(p.split()) == 1 or re.fullmatch(r"[.…\s]+", p)]
