"""Lines of a rendered PDF that hold a single word pushed down by a wrap (or a lone "……").

A printed line is the words at one height across the page (pdfplumber). A line is a *lone wrap*
when it holds one word only (letters, or a run of dots) and sits right under another line of the
same size, so the word most likely belongs to the line above: "ĐẢNG ỦY SỞ TÀI NGUYÊN VÀ MÔI" /
"TRƯỜNG", or "ngày 20 tháng 11 năm" / "2025". Lines that are one word by design are passed in
``allowed``.
"""
from __future__ import annotations

import io
import re

DOTS = re.compile(r"^[.…]{2,12}$")  # a short gap to fill in; a full-width dotted writing line is by design


def printed_lines(pdf: bytes) -> list[list[list[dict]]]:
    """Per page, the lines (lists of pdfplumber words, left to right), top to bottom."""
    import pdfplumber
    pages = []
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        for page in doc.pages:
            words = page.extract_words(keep_blank_chars=False, use_text_flow=False, extra_attrs=["size"])
            lines: list[list[dict]] = []
            for w in sorted(words, key=lambda w: (round(w["top"]), w["x0"])):
                if lines and abs(lines[-1][0]["top"] - w["top"]) < 2:
                    lines[-1].append(w)
                else:
                    lines.append([w])
            pages.append([sorted(line, key=lambda w: w["x0"]) for line in lines])
    return pages


def _blocks(line: list[dict], size: float) -> list[list[dict]]:
    """The words of a line split where a wide gap separates columns (left and right header blocks)."""
    blocks = [[line[0]]]
    for prev, w in zip(line, line[1:]):
        if w["x0"] - prev["x1"] > 3 * size:
            blocks.append([])
        blocks[-1].append(w)
    return blocks


def lone_wraps(pdf: bytes, allowed: tuple[str, ...] = (), pages: int | None = None) -> list[str]:
    """'page N: "above" / "word"' for every line that looks like a wrapped lone word (first ``pages`` only)."""
    found = []
    for n, lines in enumerate(printed_lines(pdf)[:pages], 1):
        for k, line in enumerate(lines):
            if len(line) != 1:
                continue
            w = line[0]
            word, size = w["text"], w["size"]
            if word in allowed or not (any(ch.isalpha() for ch in word) or DOTS.match(word)):
                continue
            centre = (w["x0"] + w["x1"]) / 2
            for above in lines[:k]:
                if not (0 < w["top"] - above[0]["top"] < 1.8 * size):
                    continue
                for block in _blocks(above, size):
                    if block[0]["x0"] <= centre <= block[-1]["x1"] and any(abs(b["size"] - size) < 0.6 for b in block):
                        found.append(f'page {n}: "{" ".join(b["text"] for b in block)}" / "{word}"')
    return found
