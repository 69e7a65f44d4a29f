"""Pages without our marks: blank, something else, or a form a cell retyped in its own layout.

A retyped form is OCR'd once (tesseract ``vie``, LSTM, one page segmentation; in-process through
tesserocr when it is installed, else the tesseract command).  Then:

* **phone photos** are laid flat first (:mod:`ocr.foreign_page`: the sheet's outline, perspective out);
* **turned pages**: a landscape page is turned a quarter; when too few of the form's duties are
  read that way up, Tesseract's orientation detection (:func:`osd_turn`) says which way is up (asked
  only then: it costs as much as a reading), else the page is tried upside down;
* **duties (items)** are found by the meaning of their label: the definition's label and the
  wordings of the synonym table beside it (:mod:`forms.synonyms`), compared folded
  (:func:`forms.folding.fold`), fuzzily (rapidfuzz), one line per duty, numbering as a last cue;
* **options** by meaning and ORDER (:func:`options_by_order`): the duty's rows are cut into runs at
  separators, marks and wide gaps; each run gets evidence from the duty's own wordings, from the
  wordings of EVERY duty's options by rank (:func:`rank_lexicon`: "Hoàn thành" is a middle option
  wherever it is written) and from "chưa / không / kém" (worst) and "rất / tốt" (best) cues; the runs
  are then given the options in order, best first or worst first, the evidence choosing the direction
  (as many runs as options: they are the options; two runs of a three-option duty: its ends).  When
  that finds fewer than two, the wordings are looked for inside the rows (longest first, so "Chưa tốt"
  is not read as "Tốt"), and wordings not in the table are placed by their sense; a table whose
  columns are a scale ("Tốt | Chưa tốt", "Rất tốt | Tốt | Chưa tốt") gives each duty's row its
  columns: the header's cells are given each duty's options by order like a duty's own row (so "Tốt"
  is the middle column of "Rất tốt | Tốt | Chưa tốt"), the tick is looked for between the column's rules;
* **the mark** next to each option decides: ink that is not printed text, around the option
  (a box before or after it, anywhere on its row when the option is alone on its row, a tick in its
  column, a circle around the word, an "x" before it), and the share of a printed box's inside that is
  inked, compared between the options of the duty over the ink they all share (empty boxes' outlines);
  a box the OCR ran into an option's first or last word ("gương[]", "mẫuMÍ") is cut off the word
  where the ink shows a box-like piece apart from the letters (:func:`_cut_marks`);
  an answer typed after the duty counts when it is the only wording there.

The answers are pre-read (confidence < CONFIDENT) and the page ALWAYS goes to review
(problem ``foreign_form``).  A member is proposed from the name and date of birth read
(:mod:`ocr.identify`).
"""
from __future__ import annotations

import functools
import os
import re
import time
from dataclasses import dataclass, field

import cv2
import numpy as np
from rapidfuzz import fuzz

from forms import synonyms as synmod
from forms.folding import fold

from .foreign_page import lay_flat
from .identify import find_dates, identity_lines, nfc as _nfc, propose_member
from .result import FieldReading, PageReading, problem

TITLE = "phiếu nhận xét"
OCR_LONG_SIDE = 1700  # pixels of the page's long side as OCR'd (~145 dpi on A4): speed, still readable
PREREAD_CONFIDENCE = 0.6  # never CONFIDENT: a person reviews every retyped form
# the benchmark sets a dict here to learn, per item of the last page read, the options found
# [(option key, text)] (its breakdown of misses by cause); None in the service
DIAGNOSE: dict | None = None
_NEG = ("chua", "khong", "kem", "yeu")
_POS = ("tot", "rat", "xuat sac", "day du", "tich cuc", "di dau", "dat")
_MARKLIKE = re.compile(r"^[\[\](){}|lIiLJjFfTtEeKkMmXxVv×☐☒☑✓✔■□✗✘1!°ØŸ#%&*^~¬‹›«»\-_.,:;'\"`ÄÌÏỊ]{1,3}$")


# ---------------------------------------------------------------------------
# OCR: one page segmentation per page
# ---------------------------------------------------------------------------

_API: dict = {}


def _tessdata() -> str | None:
    for d in (os.environ.get("TESSDATA_PREFIX"), "/usr/share/tesseract-ocr/5/tessdata",
              "/usr/share/tesseract-ocr/4.00/tessdata", "/usr/share/tessdata", "/usr/local/share/tessdata"):
        if d and os.path.exists(os.path.join(d, "vie.traineddata")):
            return d
    return None


def _api():
    """A tesserocr API per process (model loaded once), or None when tesserocr is not installed."""
    pid = os.getpid()
    if pid not in _API:
        try:
            import tesserocr
            path = _tessdata()
            api = tesserocr.PyTessBaseAPI(**({"path": path} if path else {}), lang="vie",
                                          psm=tesserocr.PSM.AUTO, oem=tesserocr.OEM.LSTM_ONLY)
            api.SetVariable("tessedit_do_invert", "0")
            _API.clear()
            _API[pid] = api
        except Exception:  # noqa: BLE001  (not installed or no model: the tesseract command)
            _API[pid] = None
    return _API[pid]


def ocr_words(gray: np.ndarray, block: bool = False) -> list[dict]:
    """Words of a page: text, box (x, y, w, h), confidence, line number (reading order).  ``block``:
    the image is read as one block of text (a band of the page) rather than segmented as a page."""
    api = _api()
    out = []
    if api is not None:
        import tesserocr
        from PIL import Image
        api.SetPageSegMode(tesserocr.PSM.SINGLE_BLOCK if block else tesserocr.PSM.AUTO)
        api.SetImage(Image.fromarray(gray))
        api.Recognize()
        ri = api.GetIterator()
        line = -1
        W, L = tesserocr.RIL.WORD, tesserocr.RIL.TEXTLINE
        if ri is not None:
            while True:
                if ri.IsAtBeginningOf(L):
                    line += 1
                try:
                    t = ri.GetUTF8Text(W)
                    bb = ri.BoundingBox(W)
                except RuntimeError:  # no text at all (a band of the page read again)
                    break
                if t and bb and t.strip():
                    x0, y0, x1, y1 = bb
                    out.append({"text": _nfc(t.strip()), "x": x0, "y": y0, "w": x1 - x0, "h": y1 - y0,
                                "conf": float(ri.Confidence(W)), "line": line})
                if not ri.Next(W):
                    break
        api.Clear()
        return out
    import pytesseract
    d = pytesseract.image_to_data(gray, lang="vie", config=f"--psm {6 if block else 3} --oem 1 -c tessedit_do_invert=0",
                                  output_type=pytesseract.Output.DICT)
    keys = {}
    for i, t in enumerate(d["text"]):
        t = _nfc((t or "").strip())
        if not t or float(d["conf"][i]) < 0:
            continue
        k = (d["block_num"][i], d["par_num"][i], d["line_num"][i])
        out.append({"text": t, "x": d["left"][i], "y": d["top"][i], "w": d["width"][i], "h": d["height"][i],
                    "conf": float(d["conf"][i]), "line": keys.setdefault(k, len(keys))})
    return out


OSD_MIN_CONF = 2.0  # Tesseract's orientation confidence under which its answer is not taken
_OSD: dict = {}


def osd_turn(gray: np.ndarray) -> int | None:
    """Clockwise quarter turns (degrees) that make a page upright by Tesseract's orientation and
    script detection (in-process through tesserocr, else the tesseract command), None when it is not
    sure (confidence under OSD_MIN_CONF, too little text) or not available."""
    try:
        pid = os.getpid()
        if pid not in _OSD:
            _OSD.clear()
            try:
                import tesserocr
                path = _tessdata()
                _OSD[pid] = tesserocr.PyTessBaseAPI(**({"path": path} if path else {}), lang="osd",
                                                    psm=tesserocr.PSM.OSD_ONLY)
            except Exception:  # noqa: BLE001  (not installed: the tesseract command)
                _OSD[pid] = None
        api = _OSD[pid]
        if api is not None:
            from PIL import Image
            api.SetImage(Image.fromarray(gray))
            r = api.DetectOrientationScript()
            api.Clear()
            if not r:
                return None
            deg, conf = int(r["orient_deg"]), float(r["orient_conf"])
        else:
            import pytesseract
            d = pytesseract.image_to_osd(gray, output_type=pytesseract.Output.DICT)
            deg, conf = (360 - int(d["rotate"])) % 360, float(d["orientation_conf"])
    except Exception:  # noqa: BLE001  (too little text for the detection)
        return None
    return (360 - deg) % 360 if conf >= OSD_MIN_CONF else None


# a lettered option's marker run into its first word ("(A)Nghiêm", "{b)hưa", a circled "a)" read "(3)")
_GLUED_LETTER = re.compile(r"^([(\[{][a-dA-D3][)\]}]|[a-dA-D][)\]}])(\w\S+)$")


def _split_letter(w: dict) -> list[dict]:
    """A word that starts with a lettered option's marker, as the marker and the word (the width shared
    by their characters)."""
    m = _GLUED_LETTER.match(w["text"])
    if m is None:
        return [w]
    cut = int(w["w"] * len(m.group(1)) / len(w["text"]))
    return [{**w, "text": m.group(1), "w": max(1, cut - 1)},
            {**w, "text": m.group(2), "x": w["x"] + cut, "w": max(1, w["w"] - cut)}]


def _lines(words: list[dict]) -> list[dict]:
    by: dict = {}
    for w0 in words:
        for w in _split_letter(w0):
            by.setdefault(w["line"], []).append(w)
    out = []
    for ws in by.values():
        ws.sort(key=lambda w: w["x"])
        for w in ws:
            w["f"] = fold(w["text"])
        y0 = min(w["y"] for w in ws)
        y1 = max(w["y"] + w["h"] for w in ws)
        hs = sorted(w["h"] for w in ws)
        out.append({"words": ws, "text": " ".join(w["text"] for w in ws), "f": " ".join(w["f"] for w in ws),
                    "y": y0, "y1": y1, "x": min(w["x"] for w in ws), "x1": max(w["x"] + w["w"] for w in ws),
                    "h": hs[len(hs) // 2]})
    out.sort(key=lambda ln: (ln["y"], ln["x"]))
    return out


# ---------------------------------------------------------------------------
# preprocessing
# ---------------------------------------------------------------------------

def _paper_level(gray: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(the paper's brightness under each pixel, 1 where there is paper) of one channel, estimated on
    a small copy (closing away the print)."""
    h, w = gray.shape
    f = min(1.0, 600 / max(h, w))
    small = cv2.resize(gray, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
    bg = cv2.morphologyEx(small, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (11, 11)))
    bg = cv2.GaussianBlur(bg, (0, 0), 3)
    paper = (bg > 0.6 * np.percentile(bg, 95)).astype(np.uint8)
    paper = cv2.erode(paper, cv2.getStructuringElement(cv2.MORPH_RECT, (5, 5)))
    return (cv2.resize(bg, (w, h), interpolation=cv2.INTER_LINEAR),
            cv2.resize(paper, (w, h), interpolation=cv2.INTER_NEAREST))


def flatten(gray: np.ndarray) -> np.ndarray:
    """Even out the lighting (shadows, folds, grey paper): divide by the paper's brightness estimated
    on a small copy; what is clearly not paper (a darker table around a photographed page) turns white."""
    bg, paper = _paper_level(gray)
    out = np.clip(gray.astype(np.float32) * 255.0 / np.maximum(bg, 1), 0, 255).astype(np.uint8)
    out[paper == 0] = 255
    return out


def skew_angle(gray: np.ndarray, max_deg: float = 15.0) -> float:
    """Counter-clockwise degrees that make the text lines horizontal (projection profile of the ink
    smeared along the lines, on a small copy: coarse 1 degree steps, then 0.15)."""
    h, w = gray.shape
    f = min(1.0, 800 / max(h, w))
    s = cv2.resize(gray, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
    ink = (cv2.medianBlur(s, 3) < 150).astype(np.uint8) * 255
    if ink.mean() < 0.5:  # (0..255 scale) next to no ink
        return 0.0
    ink = cv2.dilate(ink, cv2.getStructuringElement(cv2.MORPH_RECT, (9, 1)))
    c = (s.shape[1] / 2, s.shape[0] / 2)

    def score(a):
        r = cv2.warpAffine(ink, cv2.getRotationMatrix2D(c, float(a), 1.0), (s.shape[1], s.shape[0]),
                           flags=cv2.INTER_NEAREST)
        p = r.sum(axis=1, dtype=np.float64)
        return float(np.sum(np.diff(p) ** 2))

    best = max(np.arange(-max_deg, max_deg + 0.01, 1.0), key=score)
    best = max(np.arange(best - 0.9, best + 0.91, 0.15), key=score)
    return float(best)


def _rotate_cw(img, deg):
    return {0: img, 90: cv2.rotate(img, cv2.ROTATE_90_CLOCKWISE), 180: cv2.rotate(img, cv2.ROTATE_180),
            270: cv2.rotate(img, cv2.ROTATE_90_COUNTERCLOCKWISE)}[deg]


def _upright_deskewed(g, rot, extra=None):
    """``g`` (and ``extra``, transformed alike) turned ``rot`` degrees clockwise and deskewed."""
    g = _rotate_cw(g, rot)
    extra = _rotate_cw(extra, rot) if extra is not None else None
    a = skew_angle(g)
    if abs(a) >= 0.3:
        h, w = g.shape
        M = cv2.getRotationMatrix2D((w / 2, h / 2), a, 1.0)
        g = cv2.warpAffine(g, M, (w, h), flags=cv2.INTER_LINEAR, borderValue=255)
        if extra is not None:
            extra = cv2.warpAffine(extra, M, (w, h), flags=cv2.INTER_NEAREST, borderValue=0)
    return g, extra


def pen_mask(bgr_small: np.ndarray | None) -> np.ndarray | None:
    """Pixels of coloured pen ink (blue, red, green ballpoint: saturated against the paper's own colour,
    and not paper), or None for a grey page.  Printed text is black: taking the pen's strokes out before the OCR lets it read a
    word that was circled or crossed; the strokes stay for the marks."""
    if bgr_small is None or bgr_small.ndim != 3:
        return None
    # each channel divided by the paper's level in it: yellowish or tinted paper turns white, and black
    # print on it grey (its anti-aliased edges would otherwise have the paper's hue, "saturated")
    bal = np.dstack([np.clip(c.astype(np.float32) * 255.0 / np.maximum(_paper_level(c)[0], 1), 0, 255)
                     for c in cv2.split(bgr_small)]).astype(np.uint8)
    hsv = cv2.cvtColor(bal, cv2.COLOR_BGR2HSV)
    sat, val = hsv[:, :, 1], hsv[:, :, 2]
    # dark grey print in a photo's colour cast reads as "saturated" too: dark pixels count only when
    # clearly coloured
    chroma = bal.max(axis=2).astype(np.int16) - bal.min(axis=2)  # dark print's tint: a small difference
    m = ((sat > 70) & (chroma > 40) & (val < 235) & ((val > 90) | (sat > 130))).astype(np.uint8) * 255
    if m.mean() < 0.02:  # (0..255 scale) no coloured ink at all
        return None
    return cv2.dilate(m, np.ones((3, 3), np.uint8))


# ---------------------------------------------------------------------------
# duties (items) by the meaning of their label
# ---------------------------------------------------------------------------

_NUM_RE = re.compile(r"^\s*(?:[ivx]+|\d{1,2})\s*[.,):/-]?\s*")


def _strip_number(f: str) -> str:
    return _NUM_RE.sub("", f, count=1)


@functools.lru_cache(maxsize=4096)
def _cf(wording: str) -> str:
    """A wording folded and cleaned (cached: the same wordings are compared on every line of every page)."""
    return _clean(fold(wording))


@functools.lru_cache(maxsize=4096)
def _fold_cached(wording: str) -> str:
    return fold(wording)


def _label_score(wording: str, fline: str) -> float:
    fw = _fold_cached(wording)
    fl = _strip_number(fline).strip(" :.;,-")
    if not fl or not fw:
        return 0.0
    s = fuzz.partial_ratio(fw, fl) if len(fl) >= 0.55 * len(fw) else 0.0
    tw, tl = set(fw.split()), set(fl.split())
    cover = len(tw & tl) / max(1, len(tw))
    if cover >= 0.5 and len(tl) >= 3:
        s = max(s, fuzz.token_set_ratio(fw, fl) * min(1.0, cover / 0.7))
    return float(s)


@dataclass
class _Found:
    layout: object
    lines: dict = field(default_factory=dict)  # item key -> line index
    score: float = 0.0
    by_label: int = 0  # items found by their label (not only by their number)


# the member's details and the form's subtitle, in the header above the duties (folded starts of lines)
_HEADER_LABELS = ("ho va ten", "ho ten", "ngay sinh", "don vi cong tac", "noi cong tac", "chi bo noi cu tru",
                  "dang vien dang cong tac")
NUMBER_BONUS = 10  # added to a label's score on a line numbered as the duty is ("2. ...")


def _header_end(lines: list[dict]) -> int:
    """Index of the last line of the header (the member's details, the subtitle), -1 when none is seen.
    Looked for above the first numbered line (the first third of the lines when none is numbered): a
    header line says "đảng viên", "chi bộ nơi cư trú", ... like the duties' labels, but is none."""
    first_num = next((k for k, ln in enumerate(lines) if _NUMBERED.match(ln["text"])), None)
    upto = first_num if first_num is not None else len(lines) // 3
    end = -1
    for k in range(upto):
        f = lines[k]["f"].lstrip(" |[(")
        if any(f.startswith(lab) for lab in _HEADER_LABELS):
            end = k
    return end


def find_items(lines: list[dict], lay, table) -> _Found:
    items = [it for it in lay.items if it.type == "choice"]
    cand = []
    head = _header_end(lines)
    for it in items:
        words = table.labels_for(it) if table else (it.label,)
        for k, ln in enumerate(lines):
            if k <= head:
                continue
            s = max(_label_score(w, ln["f"]) for w in words)
            m = _NUMBERED_AT.match(ln["text"])
            if m and int(m.group(1)) == it.number and s >= 60:
                s += NUMBER_BONUS
            if s >= 72:
                cand.append((s, it.key, k))
    cand.sort(key=lambda c: -c[0])
    got = _Found(lay)
    used = set()
    for s, key, k in cand:
        if key in got.lines or k in used:
            continue
        got.lines[key] = k
        used.add(k)
        got.score += s
    # the duties come in their order on the page: keep the longest run in order (a sentence of the
    # header that looks like a duty's label is dropped)
    order = sorted(got.lines.items(), key=lambda kv: next(i.number for i in items if i.key == kv[0]))
    best: list = []
    for n in range(len(order)):
        run = [order[n]]
        for kv in order[n + 1:]:
            if kv[1] > run[-1][1]:
                run.append(kv)
        if len(run) > len(best):
            best = run
    if len(best) < len(order):
        keep = dict(best)
        for key in list(got.lines):
            if key not in keep:
                used.discard(got.lines.pop(key))
        got.score = sum(s for s, key, k in cand if got.lines.get(key) == k)
    got.by_label = len(got.lines)
    free = [i.label for i in lay.items if i.type != "choice"]
    # numbering as a last cue: "3." between the lines of items 2 and 4
    for it in items:
        if it.key in got.lines:
            continue
        before = [got.lines[o.key] for o in items if o.number < it.number and o.key in got.lines]
        after = [got.lines[o.key] for o in items if o.number > it.number and o.key in got.lines]
        lo, hi = (max(before) if before else -1), (min(after) if after else len(lines))
        for k in range(lo + 1, hi):
            m = re.match(r"^\s*(\d{1,2})\s*[.,)]\s*\S", lines[k]["text"])
            if k not in used and m and int(m.group(1)) == it.number and len(lines[k]["f"]) > 12 and not any(
                    _label_score(f, lines[k]["f"]) >= 80 for f in free):
                got.lines[it.key] = k
                used.add(k)
                got.score += 50
                break
    return got


# ---------------------------------------------------------------------------
# options by their wording, and the mark next to each
# ---------------------------------------------------------------------------

def _clean(f: str) -> str:
    return re.sub(r"[^\w ]", "", f).strip()


@dataclass
class _Span:
    key: str
    line: int
    i: int  # first word index
    j: int  # one past the last word index
    score: float
    length: int
    glued: bool = False  # the first word carries a mark glued before the wording ("MTốt")
    rank: int | None = None
    lead: int = 0  # characters of that mark
    cut0: int | None = None  # where the wording's letters start / end on the page, when a mark run into
    cut1: int | None = None  # its first / last word was found in the ink (:func:`_cut_marks`)


def _match_wordings(lines, region, wordings: dict[str, tuple[str, ...]], skip: dict) -> list[_Span]:
    """Spans of the region's words that read as one of the options' wordings (longest wordings first)."""
    cands = []
    for k in region:
        ws = lines[k]["words"]
        start = skip.get(k, 0)
        for key, words in wordings.items():
            for wd in words:
                fw = _cf(wd)
                toks = fw.split()
                n = len(toks)
                if not n:
                    continue
                for m in sorted({n, n - 1, n + 1, 1}):
                    if m < 1:
                        continue
                    for i in range(start, len(ws) - m + 1):
                        if m > 1 and not (_edge_ok(ws[i]["f"], toks[0]) and _edge_ok(ws[i + m - 1]["f"], toks[-1])):
                            continue
                        txt = _clean(" ".join(w["f"] for w in ws[i:i + m]))
                        glued = False
                        if len(fw) <= 4:
                            ok = txt == fw
                            if not ok and m == n and txt.endswith(fw) and 1 <= len(txt) - len(fw) <= 2 \
                                    and not txt[:len(txt) - len(fw)].isdigit() and " " not in txt:
                                ok, glued = True, True
                            s = 100.0 if ok else 0.0
                        else:
                            s = fuzz.ratio(fw, txt)
                            first = _clean(ws[i]["f"])
                            if s < 85 and first.endswith(toks[0]) and 1 <= len(first) - len(toks[0]) <= 2:
                                rest = _clean(" ".join(w["f"] for w in ws[i + 1:i + m]))
                                s2 = fuzz.ratio(fw, (toks[0] + " " + rest).strip())
                                if s2 > s:
                                    s, glued = s2, True
                        if s < 84 and " " in fw:  # words run together by the OCR ("XlTíchcực")
                            fns, tns = fw.replace(" ", ""), txt.replace(" ", "")
                            s2 = fuzz.ratio(fns, tns)
                            if s2 < 88 and 1 <= len(tns) - len(fns) <= 2 and fuzz.ratio(fns, tns[-len(fns):]) >= 88:
                                s2, glued = fuzz.ratio(fns, tns[-len(fns):]), True
                            if s2 >= 88 and _negated(fw) == tns[len(tns) - len(fns):].startswith(("chua", "khong")):
                                s, txt = s2, fw
                        raw0 = ws[i]["text"]
                        if not glued and raw0[:1] and not raw0[:1].isalpha() and any(c.isalpha() for c in raw0):
                            glued = True  # "[X]Nêu", "]Gương": a box or a typed mark run into the word
                        if s >= (100 if len(fw) <= 4 else 84) and _negated(fw) == _negated(txt):
                            sp = _Span(key, k, i, i + m, s, len(fw), glued)
                            if glued:
                                f0 = fold(raw0)
                                at = f0.find(toks[0][:3], 1)
                                sp.lead = at if at > 0 else _lead_len(raw0)
                            cands.append(sp)
    # one span per option, not overlapping: the choice that finds the most options and covers the most
    # words ("Không đề nghị" + "Biểu dương" rather than "Đề nghị biểu dương" leaving "Không" alone)
    per: dict = {}
    for c in sorted(cands, key=lambda c: (-c.length, -c.score)):
        lst = per.setdefault(c.key, [])
        if len(lst) < 4 and all((o.line, o.i, o.j) != (c.line, c.i, c.j) for o in lst):
            lst.append(c)
    keys = list(per)
    best = (None, [])

    def walk(n, chosen, taken):
        nonlocal best
        if n == len(keys):
            score = (len(chosen), sum(c.j - c.i for c in chosen), sum(c.length for c in chosen),
                     sum(c.score for c in chosen))
            if best[0] is None or score > best[0]:
                best = (score, list(chosen))
            return
        for c in per[keys[n]]:
            cells = {(c.line, x) for x in range(c.i, c.j)}
            if not cells & taken:
                chosen.append(c)
                walk(n + 1, chosen, taken | cells)
                chosen.pop()
        walk(n + 1, chosen, taken)

    walk(0, [], set())
    return best[1]


def _edge_ok(word: str, tok: str) -> bool:
    """The first (last) word of a window is the wording's first (last) word, maybe with a mark glued on."""
    w = _clean(word)
    return bool(w) and (fuzz.ratio(w, tok) >= 60 or w.endswith(tok) or w.startswith(tok))


def _negated(f: str) -> bool:
    """A wording that says "not": "chưa ...", "không ...", "kém" (never matched to one that does not),
    also when the OCR ran its words together ("chuatichcuc")."""
    return any(t in _NEG for t in f.split()) or f.lstrip().startswith(("chua", "khong"))


def _polarity_rank(f: str, n_opts: int) -> int | None:
    toks = f.split()
    if not toks:
        return None
    if toks[0] in _NEG or f.startswith(("chua ", "khong ")):
        return n_opts - 1
    if any(p in f for p in _POS) or toks[0] in ("rat", "xuat"):
        return 0
    if n_opts == 3:
        return 1
    return None


def _unknown_segments(lines, region, skip, spans, n_opts) -> list[_Span]:
    """Wordings not in the table: the rest of the region cut at "/" and wide gaps, placed by sense."""
    taken = {(s.line, x) for s in spans for x in range(s.i, s.j)}
    segs = []
    for k in region:
        ws = lines[k]["words"]
        cur: list[int] = []

        def close():
            if cur:
                f = _clean(" ".join(ws[x]["f"] for x in cur))
                if any(sum(c.isalpha() for c in t) >= 3 for t in f.split()) and not any(c.isdigit() for c in f):
                    segs.append((k, cur[0], cur[-1] + 1, f))

        for x in range(skip.get(k, 0), len(ws)):
            w = ws[x]
            sep = (w["text"] in ("/", "|", "-", "–") or (x, k) in taken or (k, x) in taken
                   or _MARKLIKE.match(w["text"]) is not None or w["f"].startswith("."))
            gap = cur and w["x"] - (ws[cur[-1]]["x"] + ws[cur[-1]]["w"]) > 1.6 * lines[k]["h"]
            if sep or gap:
                close()
                cur = []
                if sep:
                    continue
            cur.append(x)
        close()
    out = []
    for k, i, j, f in segs:
        if len(f.split()) > 5:
            continue
        r = _polarity_rank(f, n_opts)
        if r is not None:
            out.append(_Span("", k, i, j, 60.0, len(f), False, r))
    return out


# ---------------------------------------------------------------------------
# options by meaning and ORDER: cut the duty's rows into option segments first, then give each
# segment its option from the evidence (its own wordings, the wordings of every duty's options by
# rank, "chưa/không" cues) under the constraint that a duty lists its options in order
# (best first, or worst first)
# ---------------------------------------------------------------------------

_SEPS = {"/", "|", "-", "–", "—", "+", "•", "*", ";", "o", "O", "□", "☐", "☒", "☑", "■"}
_BEST_CUES = ("rat", "tot", "xuat sac", "day du", "dat", "tich cuc", "di dau", "thuong xuyen tich cuc", "khen",
              "bieu duong")
# the worst of a duty whose negated option is not its last (the cell's proposal: praise, none, discipline)
_WORST_CUES = ("ky luat", "xu ly")


def rank_lexicon(lays, table) -> list[tuple[str, int]]:
    """(folded wording, rank class) of every option wording of every duty of ``lays``' kind: class 0 for
    a duty's first (best) option, 2 for its last (worst), 1 between.  "Hoàn thành" means "the middle
    option" wherever a cell writes it, though only one duty lists it."""
    out: dict[str, set[int]] = {}
    for lay in lays:
        for it in lay.items:
            if it.type != "choice":
                continue
            words = table.options_for(it) if table else {o.key: (o.label,) for o in it.options}
            keys = [o.key for o in it.options]
            for key, ws in words.items():
                r = keys.index(key)
                cls = 0 if r == 0 else (2 if r == len(keys) - 1 else 1)
                for w in ws:
                    f = _clean(fold(w))
                    if f:
                        out.setdefault(f, set()).add(cls)
    # a wording that means the best option for one duty and the middle one for another says nothing
    return [(f, next(iter(c))) for f, c in out.items() if len(c) == 1]


def _junk_token(t: str, vocab: frozenset = frozenset()) -> bool:
    """A box, a mark or a scrap the OCR made of them ("L¡", "D", "R]", "Øl"), not a word: a short token
    that no wording of the form uses ("TX", "TC" are abbreviations cells use)."""
    letters = sum(c.isalpha() for c in t)
    if t in _SEPS or t.startswith(".."):
        return True
    if _MARKLIKE.match(t) is not None:  # "Xem" is made of letters a mark is often read as
        return _clean(fold(t)) not in vocab
    if len(t) <= 3 and letters <= 2:
        return _clean(fold(t)) not in vocab or any(not c.isalnum() for c in t)
    return False


_YES = "co"  # "Có / Không": a duty answered yes or no (yes the best end, no the worst)


def _vocab(lex) -> frozenset:
    return frozenset(t for f, _c in lex for t in f.split()) | {_YES, "khong"}


def _segments(lines, region, skip, h, vocab=frozenset()) -> list[tuple[int, int, int]]:
    """Runs of words of the region (after each duty's label) cut at separators, marks and wide gaps:
    (line, first word, one past the last word)."""
    out = []
    for k in region:
        ws = lines[k]["words"]
        cur: list[int] = []
        scraps: list[int] = []  # scraps between two "/": a word the OCR lost under a circle
        for x in range(skip.get(k, 0), len(ws)):
            w = ws[x]
            sep = _junk_token(w["text"], vocab)
            gap = cur and w["x"] - (ws[cur[-1]]["x"] + ws[cur[-1]]["w"]) > 1.3 * h
            # a "/" read as "." or ",": a word ending so, then a capital starts the next option
            gap = gap or (cur and ws[cur[-1]]["text"][-1:] in ".,;" and w["text"][:1].isupper())
            if sep or gap:
                if cur:
                    out.append((k, cur[0], cur[-1] + 1))
                elif w["text"] in ("/", "|") and scraps:
                    out.append((k, scraps[0], scraps[-1] + 1))
                if w["text"] in ("/", "|") or cur:
                    scraps = []
                cur = []
                if sep:
                    if w["text"] not in ("/", "|"):
                        scraps.append(x)
                    continue
            if cur and w["text"][:1] in "(" and len(w["text"]) > 2:  # an arc of a circle before a word
                out.append((k, cur[0], cur[-1] + 1))
                cur = []
            cur.append(x)
            if w["text"][-1:] in ")" and len(w["text"]) > 2:  # ... and after it: the option ends there
                out.append((k, cur[0], cur[-1] + 1))
                cur = []
        if cur:
            out.append((k, cur[0], cur[-1] + 1))
        elif scraps and any(ws[x]["text"] in ("/", "|") for x in range(skip.get(k, 0), len(ws))):
            out.append((k, scraps[0], scraps[-1] + 1))
    return out


def _seg_text(lines, k, i, j) -> tuple[str, int]:
    """(folded text of a segment without a mark glued before its first word, characters of that mark)."""
    ws = lines[k]["words"][i:j]
    raw0 = ws[0]["text"]
    lead = 0
    if raw0[:1] and not raw0[:1].isalpha():
        lead = len(raw0) - len(raw0.lstrip("[](){}|!'\"`-_.,:;*~¡‡#%&^“”‘’«»<>+=?"))
    f = _clean(fold(" ".join([raw0[lead:]] + [w["text"] for w in ws[1:]])))
    return f, lead


def _sim(fw: str, ft: str) -> float:
    """How well a segment's text reads as a wording (folded), with a scrap glued before the text and
    words run together forgiven.  Short wordings ("tot", "dat") must be the whole segment."""
    if not fw or not ft:
        return 0.0
    if len(fw) <= 4:
        if ft == fw:
            return 100.0
        t = ft.replace(" ", "")
        return 92.0 if (t.endswith(fw.replace(" ", "")) and 1 <= len(t) - len(fw.replace(" ", "")) <= 2
                        and _negated(fw) == _negated(ft)) else 0.0
    s = fuzz.ratio(fw, ft)
    a, b = fw.replace(" ", ""), ft.replace(" ", "")
    s = max(s, fuzz.ratio(a, b) - 2)
    if 1 <= len(b) - len(a) <= 2:
        s = max(s, fuzz.ratio(a, b[len(b) - len(a):]) - 4)
    if _negated(fw) != _negated(ft):
        s = min(s, 60.0)
    return float(s)


def _negated_rank(wordings: dict, keys: list) -> int:
    """The rank of a duty's option that its own wordings say with "không / chưa": the last for a scale
    ("Chưa tích cực"), the middle for the cell's proposal ("Không đề nghị" between praise and discipline)."""
    neg = [r for r, key in enumerate(keys)
           if wordings.get(key) and 2 * sum(_negated(_cf(w)) for w in wordings[key]) > len(wordings[key])]
    return neg[0] if len(neg) == 1 else len(keys) - 1


def _cue_rank(f: str, n: int, neg: int | None = None) -> int | None:
    """The rank a wording's sense gives: "chưa ...", "không ...", "kém", "yếu" the last (or ``neg``,
    the duty's own negated option); "rất ...", "... tốt" the first (None: no cue)."""
    toks = f.split()
    if not toks:
        return None
    if toks[0] in _NEG or toks[0].startswith(("chua", "khong")) or any(t in ("kem", "yeu") for t in toks) \
            or " chua " in f" {f} ":
        return n - 1 if neg is None else neg
    if toks[0] in ("rat", "xuat") or toks == [_YES] or any(c in f for c in _BEST_CUES):
        return 0
    return None if neg is None or neg == n - 1 or not any(c in f for c in _WORST_CUES) else n - 1


def options_by_order(lines, region, skip, wordings: dict, keys: list, lex, h) -> list[_Span]:
    """The options of a duty found by meaning and order (see above); [] when nothing reads as options."""
    n = len(keys)
    segs = []
    vocab = _vocab(lex)
    neg = _negated_rank(wordings, keys)
    for k, i, j in _segments(lines, region, skip, h, vocab):
        f, lead = _seg_text(lines, k, i, j)
        if all(_junk_token(w["text"], vocab) for w in lines[k]["words"][i:j]):
            # a slot between "/" with only scraps: an option whose word a circle made unreadable
            segs.append({"k": k, "i": i, "j": j, "f": "", "lead": 0, "own": {}, "lex": {}, "cue": None,
                         "strong": False, "cued": False})
            continue
        if not f or len(f.split()) > 6 or sum(c.isalpha() for c in f) < 2 or any(c.isdigit() for c in f):
            continue
        own = {key: max(_sim(_cf(w), f) for w in ws) for key, ws in wordings.items()}
        lx: dict[int, float] = {}
        for fw, cls in lex:
            s = _sim(fw, f)
            if s > lx.get(cls, 0.0):
                lx[cls] = s
        cue = _cue_rank(f, n, neg)
        strong = max(own.values(), default=0) >= 82 or max(lx.values(), default=0) >= 86
        segs.append({"k": k, "i": i, "j": j, "f": f, "lead": lead, "own": own, "lex": lx, "cue": cue,
                     "strong": strong, "cued": strong or cue is not None})
    # a segment without any cue counts only between two that have one ("Tốt / Trung bình / Kém")
    # or on a row of its own that holds exactly the duty's options, one of them cued ("Tuyên dương /
    # Không kiến nghị / Đề nghị kỷ luật": the order gives the others)
    idx = [n_ for n_, s in enumerate(segs) if s["cued"]]
    rows: dict = {}
    for s in segs:
        rows.setdefault(s["k"], []).append(s)
    full = {k for k, ss in rows.items() if len(ss) == n and any(s["cued"] for s in ss)
            and all(s["f"] and len(s["f"].split()) <= 5 for s in ss)}
    keep = [s for n_, s in enumerate(segs) if s["cued"] or (idx and idx[0] < n_ < idx[-1]) or s["k"] in full]
    if not keep:
        return []

    def support(s, r):
        key = keys[r]
        cls = 0 if r == 0 else (2 if r == n - 1 else 1)
        v = s["own"].get(key, 0.0)
        v = v if v >= 75 else 0.0
        other = max((x for kk, x in s["own"].items() if kk != key), default=0.0)
        if other >= 82 and other > v:
            v -= 0.5 * other
        lx = s["lex"].get(cls, 0.0)
        v += 0.6 * lx if lx >= 80 else 0.0
        if s["cue"] is not None:
            v += 30.0 if s["cue"] == r else -30.0
        return v

    best = None
    from itertools import combinations
    m = len(keep)
    # as many segments as options: they ARE the options, in order; the evidence only says which end
    # is the best ("Tốt" is the best of "Tốt / Chưa tốt" but the middle of "Rất tốt / Tốt / Chưa tốt")
    sizes = [m] if m == n else range(min(m, n), 0, -1)
    for size in sizes:
        for pick in combinations(range(m), size):
            for ranks in combinations(range(n), size):
                for rr in ((ranks, ranks[::-1]) if size > 1 else (ranks,)):
                    sc = sum(support(keep[p], r) for p, r in zip(pick, rr))
                    if size == 2 and n == 3 and set(rr) == {0, n - 1}:
                        sc += 15.0  # a two-level scale: its ends are the duty's ends
                    # a segment left out: one that reads as an option costs more than a scrap
                    sc -= sum(100.0 if keep[q]["cued"] else 40.0 for q in range(m) if q not in pick)
                    if best is None or sc > best[0]:
                        best = (sc, pick, rr)
    if best is None or best[0] <= 0:
        return []
    _sc, pick, rr = best
    out = []
    for p, r in zip(pick, rr):
        s = keep[p]
        lead = s["lead"]
        raw0 = lines[s["k"]]["words"][s["i"]]["text"]
        f0 = fold(raw0)
        # letters of a box run into the word ("MThực", "XlTíchcực"): where the wording's first word starts
        firsts = [_cf(w).split()[0] for w in wordings.get(keys[r], ()) if _cf(w)]
        firsts += [f.split()[0] for f in (s["f"],) if f]
        for t in firsts:
            at = f0.find(t[:3], 1) if len(t) >= 3 else -1
            if 0 < at <= 3 and not f0.startswith(t[:3]):
                lead = max(lead, at)
                break
        sp = _Span(keys[r], s["k"], s["i"], s["j"], float(support(s, r)), len(s["f"]), bool(lead))
        sp.lead = lead
        out.append(sp)
    if len(out) == 1 and max(keep[pick[0]]["own"].values(), default=0.0) < 90:
        # one run that is not plainly one wording ("Không tham gia KTham gia đầy": a lost "/"):
        # the wordings are looked for inside it instead
        return []
    return out


INK_LEVEL = 185  # grey level (flattened page, paper ~255) under which a pixel is ink


class _Ink:
    """Ink that is not printed text: the page thresholded, long rules (table grid) removed, the words
    read as text blanked (only the width their letters take: a box or mark glued before a word stays)."""

    def __init__(self, g: np.ndarray, lines: list[dict], known: dict):
        ink = (g < INK_LEVEL).astype(np.uint8)
        h = int(np.median([ln["h"] for ln in lines])) if lines else 20
        self.h = max(8, h)
        hk = cv2.getStructuringElement(cv2.MORPH_RECT, (max(40, 5 * self.h), 1))
        vk = cv2.getStructuringElement(cv2.MORPH_RECT, (1, max(30, int(2.6 * self.h))))
        self.vrules = cv2.morphologyEx(ink, cv2.MORPH_OPEN, vk)  # a table's column rules
        rules = cv2.morphologyEx(ink, cv2.MORPH_OPEN, hk) | self.vrules
        ink = ink & (1 - cv2.dilate(rules, np.ones((3, 3), np.uint8)))
        for k, ln in enumerate(lines):
            letters = [(sum(c.isalnum() for c in w["text"]), w) for w in ln["words"]]
            cw = np.median([w["w"] / n for n, w in letters if n >= 3] or [0.55 * self.h])
            for x, (n, w) in enumerate(letters):
                # a "word" several lines tall is a column of boxes the OCR tried to read, not text
                text = (k, x) in known or (w["conf"] >= 60 and n >= 3 and _MARKLIKE.match(w["text"]) is None
                                           and w["h"] <= 1.8 * self.h)
                if not text:
                    continue
                x0, x1 = w["x"], w["x"] + w["w"]
                raw = w["text"]
                lead = len(raw) - len(raw.lstrip("[](){}|!'\"`-_.,:;*~"))
                tail = len(raw) - len(raw.rstrip("[](){}|!'\"`-_.,:;*~"))
                want = n * cw * 1.15 + 2
                if (k, x, "glued") in known or (k, x, "trail") in known:
                    x0 = known.get((k, x, "glued"), x0)
                    x1 = known.get((k, x, "trail"), x1)
                elif x1 - x0 > want + 0.5 * self.h:
                    if lead or (k, x, "first") in known:
                        x0 = int(x1 - want)
                    elif tail or (k, x, "last") in known:
                        x1 = int(x0 + want)
                ink[w["y"] + 1:w["y"] + w["h"] - 1, x0 + 1:x1 - 1] = 0
        self.ink = ink
        self.integral = cv2.integral(ink)

    def boxed(self, x0, y0, x1, y1) -> tuple[float, bool]:
        """Ink in the zone plus twice the ink INSIDE a printed box found there (an empty box has none:
        a tick, a cross or a fill shows up against the box's own outline)."""
        H, W = self.ink.shape
        x0, x1 = int(max(0, min(W, x0))), int(max(0, min(W, x1)))
        y0, y1 = int(max(0, min(H, y0))), int(max(0, min(H, y1)))
        if x1 - x0 < 3 or y1 - y0 < 3:
            return 0.0, False
        sub = self.ink[y0:y1, x0:x1]
        total = float(sub.sum())
        n, lab, stats, _c = cv2.connectedComponentsWithStats(sub, connectivity=8)
        h = self.h
        inside, found = 0.0, False
        for i in range(1, n):
            bx, by, bw, bh, area = stats[i]
            if 0.6 * h <= bw <= 2.2 * h and 0.6 * h <= bh <= 2.2 * h and area >= 1.2 * h:
                comp = lab[by:by + bh, bx:bx + bw] == i
                t = max(2, int(0.12 * min(bw, bh)))
                sides = (comp[:t].any(axis=0).mean(), comp[-t:].any(axis=0).mean(),
                         comp[:, :t].any(axis=1).mean(), comp[:, -t:].any(axis=1).mean())
                if min(sides) < 0.6:  # not a box's outline (an arc of a circle, a stroke)
                    continue
                mx, my = int(bw * 0.22), int(bh * 0.22)
                inner = sub[by + my:by + bh - my, bx + mx:bx + bw - mx]
                # ink inside the box, and how much of the box's inside it covers (an empty box: none)
                inside = max(inside, float(inner.sum()) + BOX_FILL_WEIGHT * h * h * float(inner.mean()))
                found = True
        return total + 2.0 * inside, found

    def cell(self, x0, y0, x1, y1) -> tuple[int, int] | None:
        """(left rule, right rule) of the table cell around a word, or None when it is not in one."""
        H, W = self.vrules.shape
        y0, y1 = int(max(0, y0)), int(min(H, y1))
        if y1 - y0 < 3:
            return None
        cols = np.where(self.vrules[y0:y1].sum(axis=0) >= 0.8 * (y1 - y0))[0]
        left = cols[cols < x0]
        right = cols[cols > x1]
        if not len(left) or not len(right):
            return None
        return int(left.max()), int(right.min())

    def stroke(self, x0, y0, x1, y1) -> float:
        """Pixels of the largest connected piece of ink in the zone."""
        H, W = self.ink.shape
        x0, x1 = int(max(0, min(W, x0))), int(max(0, min(W, x1)))
        y0, y1 = int(max(0, min(H, y0))), int(max(0, min(H, y1)))
        if x1 - x0 < 3 or y1 - y0 < 3:
            return 0.0
        n, _lab, stats, _c = cv2.connectedComponentsWithStats(self.ink[y0:y1, x0:x1], connectivity=8)
        return float(stats[1:, cv2.CC_STAT_AREA].max()) if n > 1 else 0.0

    def count(self, x0, y0, x1, y1) -> float:
        H, W = self.ink.shape
        x0, x1 = int(max(0, min(W, x0))), int(max(0, min(W, x1)))
        y0, y1 = int(max(0, min(H, y0))), int(max(0, min(H, y1)))
        if x1 <= x0 or y1 <= y0:
            return 0.0
        s = self.integral
        return float(s[y1, x1] - s[y0, x1] - s[y1, x0] + s[y0, x0])


def _lead_len(raw: str) -> int:
    """Characters of a mark run into the front of a word: "[X]Nêu" -> 3, "MTốt" -> 1, "XlTíchcực" -> 2."""
    m = re.match(r"^[\[(|{][^\])}|]{0,3}[\])}|]", raw)
    if m:
        return len(m.group(0))
    n = 0
    while n < len(raw) and not raw[n].isalpha():
        n += 1
    if n:
        return n
    # capital letters glued before a capitalised or lower-case word ("MTốt", "XlTích")
    m = re.match(r"^([A-ZĐ][lI1|]?|[A-Z]{2})(?=[A-ZÀ-Ỹa-zà-ỹđ])", raw)
    return len(m.group(1)) if m else 1


def _char_width(line: dict) -> float:
    """Median width of a letter on a line, from its words read plainly (letters only, confident)."""
    if "cw" not in line:
        ws = [w["w"] / len(w["text"]) for w in line["words"]
              if len(w["text"]) >= 3 and w["text"].isalpha() and w["conf"] >= 75]
        line["cw"] = float(np.median(ws)) if ws else 0.55 * line["h"]
    return line["cw"]


_TRAIL = re.compile(r"[\[\](){}|§#‡_<>©®°\\/:;!¡]")


def _trail_len(raw: str) -> int:
    """Characters of a mark run into the end of a word: "gương[]" -> 2, "cực[l:-" -> 4, "mẫuMÍ" -> 2
    (capitals after small letters: a box read as letters), 0: none."""
    m = _TRAIL.search(raw, 2)
    at = m.start() if m else next((i for i in range(2, len(raw)) if raw[i].isupper() and raw[i - 1].islower()
                                   and len(raw) - i <= 3), None)
    return len(raw) - at if at is not None and sum(c.isalpha() for c in raw[:at]) >= 2 else 0


def _span_box(lines, sp: _Span):
    """(x0, y0, x1, y1) of an option's wording, without a mark run into its first or last word (the
    mark's width is what the word is wider than its letters, at the line's letter width)."""
    ln = lines[sp.line]
    ws = ln["words"][sp.i:sp.j]
    x0, y0 = min(w["x"] for w in ws), min(w["y"] for w in ws)
    x1, y1 = max(w["x"] + w["w"] for w in ws), max(w["y"] + w["h"] for w in ws)
    if sp.glued:  # the mark glued before the wording belongs to the zone, not to the word
        w0 = ws[0]
        lead = min(sp.lead or _lead_len(w0["text"]), len(w0["text"]) - 1)
        rest = len(w0["text"]) - lead - (_trail_len(w0["text"]) if len(ws) == 1 else 0)
        x0 = w0["x"] + int(min(0.8 * w0["w"], max(w0["w"] * lead / max(1, len(w0["text"])),
                                                  w0["w"] - rest * _char_width(ln) - 1)))
        if len(ws) == 1 and _trail_len(w0["text"]):
            x1 = int(x0 + rest * _char_width(ln) + 1)
    wl = ws[-1]
    trail = _trail_len(wl["text"])
    cw = _char_width(ln)
    if trail and not (sp.glued and len(ws) == 1):  # ... and a mark run into the end of the last word
        keep = len(wl["text"]) - trail
        x1 = wl["x"] + int(max(0.2 * wl["w"], min(wl["w"] * keep / len(wl["text"]), keep * cw + 1)))
    if sp.cut0 is not None:
        x0 = sp.cut0
    if sp.cut1 is not None:
        x1 = sp.cut1
    return x0, y0, x1, y1


def _cut_marks(lines, spans: list[_Span], binary: np.ndarray, h: int) -> None:
    """A box or mark run into an option's first or last word (the OCR made one word of them, "gương[]",
    "giaf"): when the word is wider than its letters, the ink's own gap between the letters and a
    box-sized piece at its end (or front) is where the wording stops (starts)."""
    for sp in spans:
        ln = lines[sp.line]
        cw = _char_width(ln)
        for end in (True, False):
            w = ln["words"][sp.j - 1 if end else sp.i]
            letters = sum(c.isalnum() for c in w["text"])
            if not end and not sp.glued:  # a mark before the wording shows in the OCR's text ("[L]Tốt")
                continue
            trail = _trail_len(w["text"]) if end else 0
            if trail:
                letters = sum(c.isalnum() for c in w["text"][:len(w["text"]) - trail])
            if end and w["w"] < letters * cw + 0.5 * h and not trail:
                continue
            sub = binary[max(0, w["y"]):w["y"] + w["h"], max(0, w["x"]):w["x"] + w["w"]]
            if sub.size == 0:
                continue
            filled = sub.any(axis=0)
            cols = range(len(filled) - 1, -1, -1) if end else range(len(filled))
            piece, gap, cut, first, prev = 0, 0, None, None, None
            for c in cols:
                if filled[c]:
                    if gap >= 3 and 0.65 * h <= piece <= 2.5 * h:
                        # a box-sized piece (a letter is narrower, or lower): the letters end (start) here
                        a, b = sorted((first, prev))
                        if _box_like(sub[:, a:b + 1], h):
                            cut = c + 1 if end else c
                        break
                    if gap:
                        piece += gap
                    gap = 0
                    piece += 1
                    first = c if first is None else first
                    prev = c
                elif piece:
                    gap += 1
            if cut is None and end and w["w"] > letters * cw * 1.25 + 0.5 * h and (trail or letters >= 3):
                # no gap (a tick run over to the letters): the word is much wider than its letters
                cut = int(letters * cw * 1.1) + 2
            if cut is None:
                continue
            kept = cut if end else w["w"] - cut  # what is left must hold the word's other letters
            if kept < 0.7 * max(1, letters - 1) * cw:
                continue
            if end:
                sp.cut1 = w["x"] + cut
            else:
                sp.cut0 = w["x"] + cut
                sp.glued = True


def _box_like(piece: np.ndarray, h: int) -> bool:
    """A piece of ink (0/1) is a printed box, empty, ticked or filled (not a letter): about square, at
    least two thirds of the text's height, and either its outline closed on all four sides or mostly ink."""
    rows, cols = np.where(piece.any(axis=1))[0], np.where(piece.any(axis=0))[0]
    if not len(rows) or not len(cols):
        return False
    p = piece[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    bh, bw = p.shape
    if bh < 0.6 * h or not 0.6 <= bw / bh <= 1.6:
        return False
    if p.mean() >= 0.55:
        return True
    t = max(2, int(0.15 * min(bw, bh)))
    sides = (p[:t].any(axis=0).mean(), p[-t:].any(axis=0).mean(), p[:, :t].any(axis=1).mean(),
             p[:, -t:].any(axis=1).mean())
    return min(sides) >= 0.6


BOX_FILL_WEIGHT = 1.5  # weight of the share of a box's inside that is inked (tuned on the tune split)
BOX_INK = 0.12
CELL_STROKE_WEIGHT = 2.0  # weight of the largest stroke in an option's table cell (tuned on held-out table_cells)  # ink of an empty printed box, at least (text height squared units)


def _mark_scores(lines, spans: list[_Span], ink: _Ink, page_w: int) -> list[float]:
    """Ink that is not text next to each option, in units of the text height squared.  Where every
    option has a box on the same side (before or after its wording), that side is measured; else the
    option's surroundings (a circle around it, an "x" before it)."""
    h = ink.h
    boxes = [_span_box(lines, s) for s in spans]
    # options each in their own cell of a table: the cell's ink that is not text is the mark
    cells = [ink.cell(b[0], b[1], b[2], b[3]) for b in boxes]
    if len(spans) >= 2 and all(cells) and len(set(cells)) == len(cells):
        # the cell's ink that is not text, and its largest stroke (a tick is one stroke; what the text's
        # boxes left over, a diacritic or a descender, is in small pieces)
        return [(ink.count(c[0] + 3, b[1] - 0.6 * h, c[1] - 3, b[3] + 0.6 * h)
                 + CELL_STROKE_WEIGHT * ink.stroke(c[0] + 3, b[1] - 0.6 * h, c[1] - 3, b[3] + 0.6 * h)) / (h * h)
                for c, b in zip(cells, boxes)]
    L, R, C = [], [], []
    for n, (sp, (x0, y0, x1, y1)) in enumerate(zip(spans, boxes)):
        same = [b for m, b in enumerate(boxes) if m != n and spans[m].line == sp.line]
        alone = not same and len(lines[sp.line]["words"]) - (sp.j - sp.i) <= 2
        lo = x0 - 2.6 * h
        # an option alone on its row: its box may be anywhere on the row (a column of boxes at the right)
        hi = page_w * 0.95 if alone else x1 + 2.6 * h
        for b in same:
            if b[2] <= x0:
                lo = max(lo, b[2] + 2)
            if b[0] >= x1:
                hi = min(hi, b[0] - 2)
        for w in lines[sp.line]["words"]:  # a label or other words on the line bound the zone
            if w["conf"] >= 55 and sum(c.isalpha() for c in w["text"]) >= 3 and _MARKLIKE.match(w["text"]) is None \
                    and not any(b[0] - 2 <= w["x"] < b[2] for b in boxes):
                if x0 - 2.6 * h < w["x"] + w["w"] <= x0:
                    lo = max(lo, w["x"] + w["w"] + 2)
                if x1 <= w["x"] < hi:
                    hi = min(hi, w["x"] - 2)
        pv = 0.35 * h if alone else 0.55 * h
        a, ba = ink.boxed(lo, y0 - pv, x0, y1 + pv)
        b, bb = ink.boxed(x1, y0 - pv, hi, y1 + pv)
        L.append((a / (h * h), ba))
        R.append((b / (h * h), bb))
        # a circle around the word: ink above and below it (its ends may reach the neighbours' zones)
        m = 0.12 * (x1 - x0)
        prev_end = max([b[2] for b in same if b[2] <= x0], default=None)
        lo2 = lo if prev_end is None else max(lo, prev_end + 1.0 * h)
        pc = 0.45 * h
        C.append((ink.count(x0 + m, y0 - pc, x1 - m, y1 + pc) + ink.count(lo2, y0 - pc, x0, y1 + pc)) / (h * h))
    # a mark typed before the wording ("[X] Tốt", "☒ Tốt") counts as a mark whatever its ink
    typed = []
    for sp in spans:
        ws = lines[sp.line]["words"]
        prev = ws[sp.i - 1]["text"] if sp.i > 0 else ""
        own = ws[sp.i]["text"][:sp.lead or _lead_len(ws[sp.i]["text"])] if sp.glued else ""
        typed.append(TYPED_MARK_BONUS if _TYPED_MARK.fullmatch(prev) or (own and _TYPED_MARK.fullmatch(own))
                     else 0.0)
    if len(spans) >= 2:
        # the boxes are on one side of the options (a marked box may no longer look like a box: the
        # others on that side and none on the other side are enough)
        nl, nr = sum(f for _v, f in L), sum(f for _v, f in R)
        if nl == len(spans) or (nl >= len(spans) - 1 and nr == 0):
            return [v + t for (v, _f), t in zip(L, typed)]
        if nr == len(spans) or (nr >= len(spans) - 1 and nl == 0):
            return [v + t for (v, _f), t in zip(R, typed)]
        if nl == 0 and nr == 0 and len({sp.line for sp in spans}) == len(spans):
            # no printed box, each option on its own row: a hand mark around the option (a circle, an
            # "x" before it) or AFTER it (a tick written after the wording): the side where one option
            # stands out over the ink the options share is the one measured (options side by side are
            # left to the circle: a circle around the next word reaches into an option's right side)
            r_side = [v for v, _f in R]
            ir, _sr = _decide(r_side)
            ic, _sc = _decide(C)
            if ir is not None and (ic is None or ic == ir or _standout(r_side) > 1.5 * _standout(C)):
                return [v + t for v, t in zip(r_side, typed)]
    return [c + t for c, t in zip(C, typed)]


def _standout(scores: list[float]) -> float:
    """How far the most inked option stands out over the next one (the ink the options share cancels)."""
    s = sorted(scores, reverse=True)
    return s[0] - s[1] if len(s) > 1 else (s[0] if s else 0.0)


_TYPED_MARK = re.compile(r"[\[(|]?\s*[XxKk×☒☑✓✔■✗✘]\s*[\])|lI1]{0,2}")
TYPED_MARK_BONUS = 1.0


def _decide(scores: list[float]) -> tuple[int | None, str]:
    """(index of the marked option, status) from the options' mark scores."""
    if not scores:
        return None, "none"
    order = sorted(range(len(scores)), key=lambda i: -scores[i])
    s1 = scores[order[0]]
    s2 = scores[order[1]] if len(order) > 1 else 0.0
    base = min(scores) if len(scores) > 2 else min(s2, s1)
    # the ink the options share (an empty box's outline, a word's serifs) is the baseline: the marked
    # option stands out over it much more than the next one does
    if s1 - base >= MARK_MIN and (s1 >= MARK_RATIO * s2 + MARK_MARGIN or
                                  (len(scores) > 2 and s1 - base >= MARK_RATIO * 2 * (s2 - base) + MARK_MARGIN)):
        return order[0], "ok"
    if s1 - base >= MARK_MIN and s2 - base >= MARK_MIN and s2 >= 0.75 * s1:
        return None, "multiple"
    return None, ("unsure" if s1 - base >= MARK_MIN / 2 else "none")


# thresholds (text height squared units), tuned on the tune split of tests/support/foreign_forms.py
MARK_MIN = 0.15
MARK_RATIO = 1.4
MARK_MARGIN = 0.05


def _columns(lines, found, table, lay, first_item_line, rules=(), h=20, lex=()):
    """A table whose columns are a scale: (the header's line, item key -> the header's cells as that
    duty's options) or None.  The header's cells are given their options like a duty's own row is
    (:func:`options_by_order`: in order, the direction from the wording of the ends), so a generic
    scale ("Rất tốt | Tốt | Chưa tốt": "Tốt" is the MIDDLE column) maps to each duty's options by rank."""
    items = [it for it in lay.items if it.type == "choice"]
    used = set(found.lines.values())
    best = None
    # rows of a table that hold a duty's label: their cells are that duty's options, not a header
    duty_rows = {_table_row(rules, (lines[v]["y"] + lines[v]["y1"]) / 2, h) for v in used} - {None}
    vocab = _vocab(lex)
    cands, seen = [], set()
    label_end = float(np.median([lines[v]["x1"] for v in used])) if used else 0.0
    for k in range(0, max(first_item_line + 1, 0)):
        if k in used or k in seen or _table_row(rules, (lines[k]["y"] + lines[k]["y1"]) / 2, h) in duty_rows:
            continue
        # the header's cells may be read as lines of their own ("Nội dung nhận xét  Rất tốt", "Tốt",
        # "Chưa tốt" a few pixels apart): the lines side by side on one row make one line
        yc = (lines[k]["y"] + lines[k]["y1"]) / 2
        row = [o for o in range(k, max(first_item_line, 0)) if o not in used
               and abs((lines[o]["y"] + lines[o]["y1"]) / 2 - yc) <= 0.6 * h]
        seen.update(row)
        if len(row) > 1 and not all(lines[a]["x1"] <= lines[b]["x"] + h or lines[b]["x1"] <= lines[a]["x"] + h
                                    for a in row for b in row if a < b):
            row = [k]
        # the header of the labels' column ("Nội dung nhận xét") is not an option: only the words right
        # of where the duties' labels end are the scale
        ws = sorted((dict(w) for o in row for w in lines[o]["words"] if w["x"] + w["w"] > label_end - h),
                    key=lambda w: w["x"])
        if not ws:
            continue
        if len(ws) < sum(len(lines[o]["words"]) for o in row) or len(row) > 1:
            for w in ws:
                w["line"] = 200_000 + k  # not one of the page's lines
            lines.append(_lines(ws)[0])
            cands.append(len(lines) - 1)
        else:
            cands.append(k)
    for k in cands:
        if len(_segments(lines, [k], {}, h, vocab)) < 2:
            continue
        per = {}
        for it in items:
            wordings = table.options_for(it) if table else {o.key: (o.label,) for o in it.options}
            spans = options_by_order(lines, [k], {}, wordings, [o.key for o in it.options], lex, h)
            if len(spans) >= 2:
                per[it.key] = sorted(spans, key=lambda s: s.i)
        if len(per) >= max(1, len(items) // 2) and (best is None or len(per) > len(best[1])):
            best = (k, per)
    return best


def _column_ranges(lines, hdr: list[_Span], ink: "_Ink", y0: float, y1: float, h: int) -> list[tuple[float, float]]:
    """x ranges of a duty's row under the header's cells: the cell between the table's column rules
    where the header's text starts (a header wider than its column runs over into the next one), else
    halfway to the neighbouring headers' centres."""
    boxes = [_span_box(lines, c) for c in hdr]
    xs = [(b[0] + b[2]) / 2 for b in boxes]
    out = []
    for m, b in enumerate(boxes):
        cell = ink.cell(b[0] + 0.3 * h, y0, b[0] + 0.3 * h, y1)
        if cell is not None and cell[1] - cell[0] >= 1.5 * h:
            out.append((cell[0] + 0.25 * h, cell[1] - 0.25 * h))
            continue
        lo = (xs[m - 1] + xs[m]) / 2 if m > 0 else xs[m] - (xs[1] - xs[0]) / 2
        hi = (xs[m] + xs[m + 1]) / 2 if m + 1 < len(xs) else xs[m] + (xs[m] - xs[m - 1]) / 2
        out.append((lo + 0.2 * h, hi - 0.2 * h))
    return out


def read_answers(lines, g, lay, table, found: _Found, debug: dict | None = None,
                 lexicon: list | None = None) -> tuple[dict, dict, dict]:
    """(answers, confidences, statuses) of the choice items of ``lay``.  ``debug`` (a dict, for the
    benchmark's breakdown of misses) receives per item the options found: [(option key, text)]."""
    items = [it for it in lay.items if it.type == "choice"]
    free = [it for it in lay.items if it.type != "choice"]
    order = sorted(found.lines.items(), key=lambda kv: kv[1])
    free_lines = set()
    for it in free:
        for k, ln in enumerate(lines):
            if _label_score(it.label, ln["f"]) >= 85:
                free_lines.add(k)
    ink_keep: dict = {}
    regions, skips, bounds, label_col = {}, {}, {}, {}
    h = max(8, int(np.median([ln["h"] for ln in lines]))) if lines else 20
    rules = _hrules(g, h)
    binary = (g < INK_LEVEL).astype(np.uint8)
    for n, (key, k0) in enumerate(order):
        y_next = lines[order[n + 1][1]]["y"] if n + 1 < len(order) else None
        y0 = lines[k0]["y"] - 0.3 * h
        limit = y_next - 0.3 * h if y_next is not None else lines[k0]["y1"] + 5.5 * h
        # a numbered heading of the next item ("3. Tham gia ...", its label not recognised) ends the duty
        nxt = [ln["y"] for ln in lines if lines[k0]["y1"] <= ln["y"] < limit and _NUMBERED.match(ln["text"])
               and len(ln["text"].split()) >= 4]
        if nxt:
            limit = min(nxt) - 0.3 * h
        row = _table_row(rules, (lines[k0]["y"] + lines[k0]["y1"]) / 2, h)
        if row is not None:  # the duty's label in a table row: the row's cells hold its options
            y0, limit = row
        reg = [k for k, ln in enumerate(lines) if y0 <= (ln["y"] + ln["y1"]) / 2 < limit
               and k not in free_lines and (k == k0 or k not in found.lines.values())]
        regions[key] = reg
        bounds[key] = (y0, limit)
        it = next(i for i in items if i.key == key)
        skips[k0] = _label_end(lines[k0], table.labels_for(it) if table else (it.label,),
                               more_rows=any(lines[k]["y"] > lines[k0]["y1"] for k in reg if k != k0))
        if row is not None:  # a table row: what lies left of its first column rule is the label (wrapped)
            label_col[key] = xr = _label_column_end(binary, row, lines[k0], h)
            for k in reg:
                skips[k] = max(skips.get(k, 0), _left_of(lines[k], xr))
    first = min(found.lines.values()) if found.lines else 0
    if lexicon is None:
        lexicon = rank_lexicon([lay], table)
    per_item = {}
    for it in items:
        if it.key not in regions:
            continue
        wordings = table.options_for(it) if table else {o.key: (o.label,) for o in it.options}
        keys = [o.key for o in it.options]
        spans = _options_of(lines, regions[it.key], skips, wordings, keys, lexicon, h)
        typed = len(spans) == 1 and spans[0].line == found.lines.get(it.key) and \
            spans[0].j >= len(lines[spans[0].line]["words"]) - 1  # an answer typed after the duty
        if len(spans) < 2 and it.key in bounds and not typed:
            # a circle drawn over the options can make the page's OCR drop their row: the duty's rows
            # are read again on their own, as one block of text
            re_lines = _reread(g, bounds[it.key], h)
            if re_lines:
                base = len(lines)
                lab = table.labels_for(it) if table else (it.label,)
                re_skips = {base + n: max(_label_end(ln, lab), _left_of(ln, label_col.get(it.key)))
                            for n, ln in enumerate(re_lines)}
                re_spans = _options_of(lines + re_lines, list(range(base, base + len(re_lines))), re_skips,
                                       wordings, keys, lexicon, h)
                if len(re_spans) >= 2:
                    lines.extend(re_lines)
                    skips.update(re_skips)
                    regions[it.key] = list(range(base, base + len(re_lines)))
                    spans = re_spans
        _cut_marks(lines, spans, binary, h)
        per_item[it.key] = spans
        if debug is not None:
            debug[it.key] = [(s.key, " ".join(w["text"] for w in lines[s.line]["words"][s.i:s.j])) for s in spans]
        for s in spans:
            for x in range(s.i, s.j):
                ink_keep[(s.line, x)] = True
            if s.glued:
                ink_keep[(s.line, s.i, "glued")] = _span_box(lines, s)[0]
            wl = lines[s.line]["words"][s.j - 1]
            if _span_box(lines, s)[2] < wl["x"] + wl["w"] - 1:
                ink_keep[(s.line, s.j - 1, "trail")] = _span_box(lines, s)[2]
            ink_keep[(s.line, s.i, "first")] = True
            if s.j - s.i > 1:
                ink_keep[(s.line, s.j - 1, "last")] = True
    cols = _columns(lines, found, table, lay, first, rules, h, lexicon) if any(
        len(per_item.get(it.key, [])) < 2 for it in items if it.key in found.lines) else None
    ink = _Ink(g, lines, ink_keep)
    answers, confs, status = {}, {}, {}
    for it in items:
        spans = per_item.get(it.key, [])
        keys = [o.key for o in it.options]
        ans, st, conf = None, "none", 0.0
        if it.key in found.lines and len(spans) >= 2:
            sc = _mark_scores(lines, spans, ink, g.shape[1])
            idx, st = _decide(sc)
            if idx is not None:
                ans, conf = spans[idx].key, PREREAD_CONFIDENCE
        elif it.key in found.lines and cols is not None and it.key in cols[1]:
            hdr = cols[1][it.key]
            k0 = found.lines[it.key]
            row = _table_row(rules, (lines[k0]["y"] + lines[k0]["y1"]) / 2, h)
            if row is not None:
                y0, y1 = row[0] + 3, row[1] - 3
            else:
                y0 = lines[k0]["y"] - 0.3 * h
                nxt = [lines[v]["y"] for v in found.lines.values() if lines[v]["y"] > lines[k0]["y"] + 0.5 * h]
                y1 = min(nxt) - 0.3 * h if nxt else lines[k0]["y1"] + 2.5 * h
            sc = [(ink.count(lo, y0, hi, y1) + CELL_STROKE_WEIGHT * ink.stroke(lo, y0, hi, y1)) / (h * h)
                  for lo, hi in _column_ranges(lines, hdr, ink, y0, y1, h)]
            idx, st = _decide(sc)
            if idx is not None:
                ans, conf = hdr[idx].key, PREREAD_CONFIDENCE - 0.05
        elif it.key in found.lines and len(spans) == 1 and (
                lost := _lost_end(lines, spans[0], keys, regions[it.key], skips, ink)) is not None:
            # a marked wording the OCR lost beside the only one read: the other end of the scale
            ans, st, conf = lost, "ok", PREREAD_CONFIDENCE - 0.15
        elif it.key in found.lines and len(spans) == 1:
            sp = spans[0]
            sc = _mark_scores(lines, spans, ink, g.shape[1])[0]
            ln = lines[sp.line]
            others = [w for k in regions[it.key] for x, w in enumerate(lines[k]["words"])
                      if x >= skips.get(k, 0) and not (k == sp.line and sp.i <= x < sp.j)
                      and sum(c.isalnum() for c in w["text"]) >= 2]
            typed = sp.j >= len(ln["words"]) - 1 and sp.rank is None and not others
            if typed:  # a circle or a mark elsewhere on the duty's rows: a word the OCR lost was marked
                lab = lines[found.lines[it.key]]
                x_from = lab["words"][skips.get(found.lines[it.key], 0) - 1]["x"] + lab["words"][
                    skips.get(found.lines[it.key], 0) - 1]["w"] if skips.get(found.lines[it.key], 0) else 0
                stray = sum(ink.count(x_from if k == found.lines[it.key] else 0, lines[k]["y"] - 0.3 * h,
                                      g.shape[1], lines[k]["y1"] + 0.3 * h) for k in regions[it.key]) / (h * h)
                typed = stray - sc < 0.6
            if typed or sc >= MARK_MIN * 2:
                ans, st, conf = sp.key, "ok", PREREAD_CONFIDENCE - 0.1
            else:
                st = "unsure"
        answers[it.key], confs[it.key], status[it.key] = ans, conf, st
    return answers, confs, status


LOST_WORD_INK = 1.5  # unread ink (text height squared units) beside an option that is a lost word


def _lost_end(lines, sp: _Span, keys: list, region: list, skips: dict, ink: _Ink) -> str | None:
    """The option the OCR lost beside the only one it read, or None.  A circle or a heavy mark over a
    word often makes the OCR drop it: when the one option read is an end of the scale, on its row
    between separators ("Nghiêm túc / Chưa nghiêm túc" read as "Chưa nghiêm túc"), and on one side
    of it (between the rows' start and the option, or after it) there is unread ink as much as a
    word, that word is the scale's other end, and it was marked."""
    if sp.key not in (keys[0], keys[-1]) or len(keys) < 2:
        return None
    h = ink.h
    ln = lines[sp.line]
    x0, _y0, x1, _y1 = _span_box(lines, sp)
    y0, y1 = ln["y"] - 0.2 * h, ln["y1"] + 0.2 * h
    left_from = min(lines[k]["words"][0]["x"] for k in region if lines[k]["words"])  # the duty's left edge
    if sp.i > 0:  # words read before the option on its row (its label, say): start after them
        w = ln["words"][sp.i - 1]
        left_from = w["x"] + w["w"]
    right_to = ln["words"][sp.j]["x"] if sp.j < len(ln["words"]) else ink.ink.shape[1]
    left = ink.count(left_from, y0, x0 - 0.3 * h, y1) / (h * h)
    right = ink.count(x1 + 0.3 * h, y0, right_to, y1) / (h * h)
    if (left >= LOST_WORD_INK) == (right >= LOST_WORD_INK):
        return None
    return keys[-1] if sp.key == keys[0] else keys[0]


def _options_of(lines, region, skips, wordings, keys, lexicon, h) -> list[_Span]:
    """A duty's options in its rows: by meaning and order, else by their wordings, else by sense."""
    spans = options_by_order(lines, region, skips, wordings, keys, lexicon, h)
    if len(spans) < 2:
        spans = _match_wordings(lines, region, wordings, skips) if not spans else spans
    if len(spans) < 2:
        extra = [s for s in _unknown_segments(lines, region, skips, spans, len(keys))]
        have = {s.key for s in spans}
        for s in extra:
            kk = keys[s.rank]
            if kk not in have:
                s.key = kk
                have.add(kk)
                spans.append(s)
    return spans


def _reread(g: np.ndarray, band: tuple[float, float], h: int) -> list[dict]:
    """OCR lines of a band of the page read again as one block of text, in page coordinates."""
    y0, y1 = int(max(0, band[0])), int(min(g.shape[0], band[1] + 0.2 * h))
    if y1 - y0 < h:
        return []
    pad = int(0.5 * h)
    crop = cv2.copyMakeBorder(g[y0:y1], pad, pad, 0, 0, cv2.BORDER_CONSTANT, value=255)
    words = ocr_words(crop, block=True)
    for w in words:
        w["y"] += y0 - pad
        w["line"] += 100_000  # not the page's lines
    return _lines(words)


_NUMBERED = re.compile(r"^\s*\d{1,2}\s*[.)]\s*\S")
_NUMBERED_AT = re.compile(r"^\s*(\d{1,2})\s*[.,)]\s*\S")


def _hrules(g: np.ndarray, h: int) -> list[float]:
    """Heights of the long horizontal rules of the page (a table's row lines; dotted lines are not)."""
    ink = (g < INK_LEVEL).astype(np.uint8)
    r = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (max(40, 8 * h), 1)))
    ys = np.where(r.sum(axis=1) >= 10 * h)[0]
    out: list[list[int]] = []
    for y in ys:
        if out and y - out[-1][-1] <= 2:
            out[-1].append(int(y))
        else:
            out.append([int(y)])
    return [sum(v) / len(v) for v in out]


def _table_row(rules: list[float], yc: float, h: int) -> tuple[float, float] | None:
    """(top, bottom) of the table row a line's centre lies in, or None when it is not between two rules
    a few lines apart."""
    above = [y for y in rules if y < yc - 0.2 * h]
    below = [y for y in rules if y > yc + 0.2 * h]
    if not above or not below:
        return None
    top, bot = max(above), min(below)
    return (top, bot) if bot - top <= 7 * h else None


def _left_of(line: dict, x: float | None) -> int:
    """How many of the line's words lie left of ``x`` (none when x is None)."""
    return 0 if x is None else sum(w["x"] + w["w"] / 2 < x for w in line["words"])


def _label_column_end(binary: np.ndarray, row: tuple[float, float], label_line: dict, h: int) -> float | None:
    """x of the first vertical rule of a table row right of where its label starts (the label's
    column ends there), or None when the row has no such rule."""
    y0, y1 = int(row[0]) + 2, int(row[1]) - 1
    if y1 - y0 < h or not label_line["words"]:
        return None
    x_from = int(label_line["words"][0]["x"] + 2 * h)
    band = binary[y0:y1, x_from:]
    if band.size == 0:
        return None
    full = np.where(band.mean(axis=0) >= 0.9)[0]  # a column inked over (nearly) the whole row's height
    return float(x_from + full[0]) if len(full) else None


def _label_end(line, wordings, more_rows: bool = False) -> int:
    """Index of the first word after the duty's label on its line: where the label's wording ends, and
    at least after the first colon (a label in its own wording, "GIỮ GÌN PHẨM CHẤT ... ĐẢNG VIÊN:",
    matches the known wordings only in part: its tail is no option); without a colon, when the duty
    has rows below, at the first wide gap."""
    ws = line["words"]
    best, end = 0.0, 0
    for w in wordings:
        fw = fold(w)
        for k in range(1, len(ws) + 1):
            s = fuzz.ratio(fw, _strip_number(" ".join(x["f"] for x in ws[:k])).strip(" :.;,"))
            if s > best:
                best, end = s, k
    end = end if best >= 60 else 0
    # a label never runs across a column's gap (its fuzzy match may take in an option beyond it)
    wide = next((k for k in range(2, end) if ws[k]["x"] - (ws[k - 1]["x"] + ws[k - 1]["w"]) > 3 * line["h"]), None)
    end = wide if wide is not None else end
    # (a colon on its own is a "/" between options misread)
    colon = next((k for k, x in enumerate(ws) if ":" in x["text"] and any(c.isalpha() for c in x["text"])), None)
    if colon is not None:
        return max(end, colon + 1)
    if more_rows and end < len(ws) and (end or _NUMBERED_AT.match(line["text"])):
        # no colon, rows below: the label runs on to the first wide gap (its own wording, "... CỦA
        # NGƯỜI ĐẢNG VIÊN", is no option), the whole line when there is none
        gap = next((k for k in range(max(end, 2), len(ws))
                    if ws[k]["x"] - (ws[k - 1]["x"] + ws[k - 1]["w"]) > 1.2 * line["h"]), None)
        return gap if gap is not None else len(ws)
    return end


# ---------------------------------------------------------------------------
# the page
# ---------------------------------------------------------------------------

def _tables(lays):
    out = {}
    for lay in lays:
        if lay.kind not in out:
            try:
                out[lay.kind] = synmod.for_kind(lay.kind)
            except synmod.SynonymError:
                out[lay.kind] = None
    return out


def _best_layout(lines, lays, tables):
    best = None
    for lay in lays:
        if not any(it.type == "choice" for it in lay.items):
            continue
        f = find_items(lines, lay, tables.get(lay.kind))
        n_items = sum(it.type == "choice" for it in lay.items)
        key = (f.by_label, f.by_label / max(1, n_items), len(f.lines), f.score)
        if best is None or key > best[0]:
            best = (key, f)
    return best[1] if best else None


def _page_lines(gray, lays=(), bgr=None):
    """(clockwise quarter turns applied, upright grey image, OCR lines, items found).

    Lighting flattened, scaled so that the long side is ~OCR_LONG_SIDE px, turned upright (a
    landscape page a quarter; upside down when the form's duties are not found), deskewed; coloured
    pen strokes are taken out of the image the OCR reads (not out of the one returned)."""
    gray, bgr, _flat = lay_flat(gray, bgr if bgr is not None and bgr.ndim == 3 else None)
    h, w = gray.shape
    f = OCR_LONG_SIDE / max(h, w)
    interp = cv2.INTER_AREA if f < 1 else cv2.INTER_CUBIC
    small = cv2.resize(gray, None, fx=f, fy=f, interpolation=interp)
    g0 = flatten(small)
    pens = pen_mask(cv2.resize(bgr, (small.shape[1], small.shape[0]), interpolation=interp)) \
        if bgr is not None and bgr.ndim == 3 else None
    tables = _tables(lays)
    tries = [90, 270] if w > 1.15 * h else [0, 180]
    best, osd = None, None
    while tries:
        rot = tries.pop(0)
        g, pm = _upright_deskewed(g0, rot, pens)
        go = g
        if pm is not None:
            go = g.copy()
            go[pm > 0] = 255
        lines = _lines(ocr_words(go))
        found = _best_layout(lines, lays, tables) if lays else None
        n = len(found.lines) if found else 0
        title = fuzz.partial_ratio(fold(TITLE), fold(" ".join(ln["text"] for ln in lines[:12]))) >= 90
        key = (n, rot == osd, title, sum(len(ln["f"]) for ln in lines))
        if best is None or key > best[0]:
            best = (key, rot, g, lines, found)
        if n >= 2 or (not lays and title):
            break
        if osd is None:
            # too few duties read this way up: Tesseract's orientation detection says which way is up
            # (only on such pages: it costs as much as a reading); confident, it is tried next (or kept)
            osd = osd_turn(g0)
            if osd is not None:
                if osd == rot:  # the page is upright this way: its duties are hard to read, that is all
                    break
                tries = [osd]
            osd = -1 if osd is None else osd
    _k, rot, g, lines, found = best
    return rot, g, lines, found


def debug_read(bgr, lays=()) -> tuple[str, str | None, str | None, set]:
    """(OCR text, name text, date of birth text, dates found) of a page, as read_foreign sees them (for benchmarks and tests)."""
    gray = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY) if bgr.ndim == 3 else bgr
    _, _, lines, _ = _page_lines(gray, lays, bgr if bgr.ndim == 3 else None)
    text = "\n".join(ln["text"] for ln in lines)
    name_text, dob_text = identity_lines(lines)
    return text, name_text, dob_text, find_dates(text)


def read_foreign(bgr, gray, lays, members_hint, ink_frac, mid_frac, t0, want_images) -> PageReading:
    # something else? (textures: ink everywhere; photos: mid tones and no text-like strokes).  A page in
    # a shadow or on grey paper also has mostly mid tones, but it has text: it is OCR'd, and is
    # "unreadable" below when no label of the form is found in it.
    if ink_frac > 0.22 or (mid_frac > 0.5 and ink_frac < 0.06):
        return PageReading(kind="unreadable", problems=[problem("unreadable")],
                           timings={"total": time.perf_counter() - t0})
    t_ocr = time.perf_counter()
    rot, g, lines, found = _page_lines(gray, lays, bgr)
    t_ocr = time.perf_counter() - t_ocr
    text = "\n".join(ln["text"] for ln in lines)
    ftext = fold(text)
    title = fuzz.partial_ratio(fold(TITLE), ftext) >= 90 if ftext else False
    n_found = len(found.lines) if found else 0
    if n_found < 2 and not title:
        return PageReading(kind="unreadable", problems=[problem("unreadable")], rotation_applied=rot,
                           timings={"total": time.perf_counter() - t0})
    r = PageReading(kind="foreign_form", problems=[problem("foreign_form")], rotation_applied=rot)
    if found is not None:
        r.layout_key = found.layout.key
    name_text, dob_text = identity_lines(lines)
    if name_text:
        r.fields.append(FieldReading("member_full_name", name_text, 0.6, None, "text"))
    if dob_text:
        r.fields.append(FieldReading("member_date_of_birth", dob_text, 0.6, None, "text"))
    if found is not None:
        table = _tables([found.layout]).get(found.layout.kind)
        if DIAGNOSE is not None:
            DIAGNOSE.clear()
        answers, confs, status = read_answers(lines, g, found.layout, table, found, DIAGNOSE,
                                              lexicon=rank_lexicon([x for x in lays if x.kind == found.layout.kind], table))
        for key in answers:
            r.answers[key] = answers[key]
            r.answer_confidence[key] = confs[key]
            r.item_status[key] = status[key]
            r.fields.append(FieldReading(key, answers[key], confs[key], None, "choice"))
    prop = propose_member(text, members_hint or [], name_text=name_text, dob_text=dob_text)
    if prop:
        r.fields.append(FieldReading("proposed_member_id", prop[0], prop[1], None, "text"))
    elif members_hint:
        r.problems.append(problem("member_not_found"))
    if want_images:
        ok, buf = cv2.imencode(".png", _rotate_cw(bgr, rot), [cv2.IMWRITE_PNG_COMPRESSION, 1])
        r.normalised_image = buf.tobytes() if ok else None
    r.timings = {"ocr": t_ocr, "total": time.perf_counter() - t0}
    return r
