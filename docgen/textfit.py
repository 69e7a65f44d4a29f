"""Measuring printed text, to break a heading into balanced lines before Word wraps it badly.

Word (and LibreOffice) wrap a centred heading greedily, which can leave one word
alone on the last line ("ĐẢNG ỦY BỆNH VIỆN ĐA KHOA / TỈNH").  ``balanced_lines``
measures the text with the metrics of the font the documents print with
(Times New Roman, or Liberation Serif, metric-compatible, which LibreOffice uses
in its place) and splits it into the fewest lines that fit, as even as possible.
Without the font files a character-width estimate is used.
"""
from __future__ import annotations

import functools
import subprocess

# Word pairs a heading never splits (a party body's name starts with them).
GLUED = {("ĐẢNG", "ỦY"), ("ĐẢNG", "UỶ"), ("ĐẢNG", "BỘ"), ("CHI", "BỘ"), ("CHI", "ỦY"), ("XÁC", "NHẬN"),
         ("NHẬN", "CỦA"), ("Đảng", "ủy"), ("Đảng", "bộ"), ("Chi", "bộ")}
AVG_EM = 0.5  # estimate without font files: average advance of a character (em)
CAPS_EM = 0.68


@functools.lru_cache(maxsize=8)
def _font(bold: bool, italic: bool):
    try:
        from PIL import ImageFont
        style = ("bold" if bold else "") + (":italic" if italic else "")
        path = subprocess.run(["fc-match", "-f", "%{file}", f"Times New Roman:{style}" if style else "Times New Roman"],
                              capture_output=True, text=True, timeout=5).stdout.strip()
        return ImageFont.truetype(path, 1000) if path else None
    except Exception:  # no fontconfig or no font: estimate
        return None


def text_width_pt(text: str, size_pt: float, *, bold: bool = False, italic: bool = False) -> float:
    font = _font(bold, italic)
    if font is not None:
        return font.getlength(text) * size_pt / 1000.0
    return sum(CAPS_EM if c.isupper() else AVG_EM for c in text) * size_pt * (1.08 if bold else 1.0)


def balanced_lines(text: str, width_mm: float, size_pt: float, *, bold: bool = False,
                   italic: bool = False, max_lines: int = 3) -> list[str]:
    """``text`` in the fewest lines no wider than ``width_mm``, the longest line as short as possible.

    A line never holds a single word when the text has more than one line and the
    split could avoid it; a word wider than the width stays on a line of its own.
    """
    words: list[str] = []
    for w in text.split():
        last = words[-1].split(" ")[-1] if words else None
        if last is not None and (last, w) in GLUED:
            words[-1] += " " + w
        else:
            words.append(w)
    if not words:
        return []
    width = width_mm * 72 / 25.4
    measure = functools.lru_cache(maxsize=None)(
        lambda i, j: text_width_pt(" ".join(words[i:j]), size_pt, bold=bold, italic=italic))
    if measure(0, len(words)) <= width:
        return [" ".join(words)]
    n = len(words)
    best: tuple | None = None
    for lines in range(2, max_lines + 1):
        # every way of cutting the words into ``lines`` non-empty runs (headings are short)
        def cuts(start: int, left: int):
            if left == 1:
                yield [(start, n)]
                return
            for k in range(start + 1, n - left + 2):
                for rest in cuts(k, left - 1):
                    yield [(start, k)] + rest
        for split in cuts(0, lines):
            widths = [measure(i, j) for i, j in split]
            lone = sum(1 for i, j in split if j - i == 1)
            score = (max(widths) > width, lone, max(widths))
            if best is None or score < best[0]:
                best = (score, split)
        if best and not best[0][0]:
            break
    return [" ".join(words[i:j]) for i, j in best[1]]


def shorten_to_width(text: str, width_mm: float, size_pt: float, *, bold: bool = False,
                     italic: bool = False) -> str:
    """``text``, cut and ended with "…" when it is wider than ``width_mm`` (one printed line);
    the cut falls between words when one ends near it."""
    width = width_mm * 72 / 25.4

    def fits(t: str) -> bool:
        return text_width_pt(t, size_pt, bold=bold, italic=italic) <= width
    if fits(text):
        return text
    lo, hi = 0, len(text)  # the longest prefix that fits with its "…"
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if fits(text[:mid].rstrip() + "…"):
            lo = mid
        else:
            hi = mid - 1
    cut = text[:lo]
    space = cut.rfind(" ")
    if space >= max(1, lo - 15):
        cut = cut[:space]
    return cut.rstrip(" ,;:") + "…"
