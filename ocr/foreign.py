"""Pages without our marks: blank, something else, or a form a cell retyped in Word.

A retyped form is read by full-page OCR (tesseract ``vie``): the items are
found by their wording (rapidfuzz against the layout's item and option
labels, which come from the form definition), a mark in front of an option
label ("[X]", "☒", a handwritten tick) is looked for in the image, and a
member is proposed by fuzzy matching the name, date of birth and
organisation names against ``members_hint``.  Such a page always needs review.
"""
from __future__ import annotations

import re
import time
import unicodedata

import cv2
import numpy as np
from rapidfuzz import fuzz

from .result import FieldReading, PageReading, problem

TITLE = "phiếu nhận xét"
_DATE_RE = re.compile(r"(\d{1,2})\s*[/.\-]\s*(\d{1,2})\s*[/.\-]\s*(\d{4})")
# dates as OCR gives them: O for 0, l / I / | for 1, spaces or commas around the separators
_DIG = r"[0-9OoDQIl|]"
_OCR_DATE_RE = re.compile(rf"(?<![0-9A-Za-z])({_DIG}{{1,2}})\s*[/.\-,]\s*({_DIG}{{1,2}})\s*[/.\-,]\s*"
                          rf"({_DIG}{{2}}\s?{_DIG}{{2}})(?![0-9])")
_DIGIT_MAP = str.maketrans({"O": "0", "o": "0", "D": "0", "Q": "0", "I": "1", "l": "1", "|": "1"})
# the label in front of the member's name, and what may follow the name on its line
_NAME_LABELS = ("ho va ten dang vien", "ho va ten", "ho ten", "dong chi", "dang vien")
_AFTER_NAME_RE = re.compile(r"(?i)\b(ng[aà]y\s*sinh|sinh\s*ng[aà]y|n[aă]m\s*sinh|sinh\s*n[aă]m|sinh)\b")


def _nfc(s: str) -> str:
    return unicodedata.normalize("NFC", s or "")


def fold(s: str) -> str:
    """lower case without diacritics (đ -> d)."""
    s = unicodedata.normalize("NFD", _nfc(s).lower().replace("đ", "d"))
    return re.sub(r"\s+", " ", "".join(c for c in s if not unicodedata.combining(c))).strip()


def _lower(s: str) -> str:
    return re.sub(r"\s+", " ", _nfc(s).lower()).strip()


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
    line = _nfc(line)
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


def _ocr_data(gray: np.ndarray, psm: int = 3) -> dict:
    import pytesseract
    return pytesseract.image_to_data(gray, lang="vie", config=f"--psm {psm}",
                                     output_type=pytesseract.Output.DICT)


def _lines(data: dict) -> list[dict]:
    lines: dict = {}
    for i, t in enumerate(data["text"]):
        t = _nfc((t or "").strip())
        if not t or float(data["conf"][i]) < 0:
            continue
        k = (data["block_num"][i], data["par_num"][i], data["line_num"][i])
        ln = lines.setdefault(k, {"words": []})
        ln["words"].append({"text": t, "x": data["left"][i], "y": data["top"][i], "w": data["width"][i],
                            "h": data["height"][i], "conf": float(data["conf"][i])})
    out = []
    for ln in lines.values():
        ws = sorted(ln["words"], key=lambda w: w["x"])
        out.append({"words": ws, "text": " ".join(w["text"] for w in ws), "y": min(w["y"] for w in ws)})
    out.sort(key=lambda ln: ln["y"])
    return out


def _osd_rotation(gray) -> int:
    """Clockwise degrees to turn the image upright (tesseract OSD), 0 when unsure."""
    import pytesseract
    try:
        h, w = gray.shape
        f = min(1.0, 1500 / max(h, w))
        small = cv2.resize(gray, None, fx=f, fy=f, interpolation=cv2.INTER_AREA) if f < 1 else gray
        osd = pytesseract.image_to_osd(small, config="--psm 0 -c min_characters_to_try=10",
                                       output_type=pytesseract.Output.DICT)
        if float(osd.get("orientation_conf", 0)) < 1.0:
            return 0
        return int(osd.get("rotate", 0)) % 360
    except Exception:
        return 0


def _rotate_cw(img, deg):
    return {0: img, 90: cv2.rotate(img, cv2.ROTATE_90_CLOCKWISE), 180: cv2.rotate(img, cv2.ROTATE_180),
            270: cv2.rotate(img, cv2.ROTATE_90_COUNTERCLOCKWISE)}[deg]


def _mark_ink(gray, word) -> float:
    """Ink just left of an option label (a box / bracket with or without a mark)."""
    h = word["h"]
    x1 = word["x"] - 2
    x0 = max(0, int(x1 - 2.4 * h))
    y0, y1 = max(0, int(word["y"] - 0.3 * h)), int(word["y"] + 1.3 * h)
    roi = gray[y0:y1, x0:max(x0 + 1, int(x1))]
    if roi.size == 0:
        return 0.0
    return float((roi < 128).mean())


def flatten(gray: np.ndarray) -> np.ndarray:
    """Even out the lighting (shadows, folds, grey paper): divide by the paper's brightness estimated
    on a small copy; what is clearly not paper (a darker table around a photographed page) turns white."""
    h, w = gray.shape
    f = min(1.0, 600 / max(h, w))
    small = cv2.resize(gray, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
    bg = cv2.morphologyEx(small, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (11, 11)))
    bg = cv2.GaussianBlur(bg, (0, 0), 3)
    paper = (bg > 0.6 * np.percentile(bg, 95)).astype(np.uint8)
    paper = cv2.erode(paper, cv2.getStructuringElement(cv2.MORPH_RECT, (5, 5)))
    bg = cv2.resize(bg, (w, h), interpolation=cv2.INTER_LINEAR)
    paper = cv2.resize(paper, (w, h), interpolation=cv2.INTER_NEAREST)
    out = np.clip(gray.astype(np.float32) * 255.0 / np.maximum(bg, 1), 0, 255).astype(np.uint8)
    out[paper == 0] = 255
    return out


def skew_angle(gray: np.ndarray, max_deg: float = 15.0) -> float:
    """Counter-clockwise degrees that make the text lines horizontal (projection profile of the ink
    smeared along the lines, on a small copy: coarse 1 degree steps, then 0.15)."""
    h, w = gray.shape
    f = min(1.0, 1000 / max(h, w))
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


def _page_lines(gray):
    """(clockwise quarter turns applied, upright grey image as OCR'd, OCR lines).

    Preprocessing for the OCR: lighting flattened, turned upright (tesseract OSD), deskewed (tesseract
    loses whole paragraphs beyond ~5 degrees), scaled to ~300 dpi."""
    g = flatten(gray)
    rot = _osd_rotation(g)
    g = _rotate_cw(g, rot)
    a = skew_angle(g)
    if abs(a) >= 0.3:
        h, w = g.shape
        g = cv2.warpAffine(g, cv2.getRotationMatrix2D((w / 2, h / 2), a, 1.0), (w, h), flags=cv2.INTER_CUBIC,
                           borderValue=255)
    h, w = g.shape
    if max(h, w) < 2000:  # OCR likes ~300 dpi
        f = 2339 / max(h, w)
        g = cv2.resize(g, None, fx=f, fy=f, interpolation=cv2.INTER_CUBIC)
    data = _ocr_data(g)
    return rot, g, _lines(data)


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


def debug_read(bgr) -> tuple[str, str | None, str | None, set]:
    """(OCR text, name text, date of birth text, dates found) of a page, as read_foreign sees them (for benchmarks and tests)."""
    gray = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY) if bgr.ndim == 3 else bgr
    _, _, lines = _page_lines(gray)
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
    rot, g, lines = _page_lines(gray)
    text = "\n".join(ln["text"] for ln in lines)
    ftext = fold(text)
    # is it an evaluation sheet at all?
    best_lay, best_hits, item_lines = None, -1, {}
    for lay in lays:
        hits, found = 0, {}
        for it in lay.items:
            target = fold(f"{it.label}")
            sc = [(fuzz.partial_ratio(target, fold(ln["text"])) if len(fold(ln["text"])) >= 0.6 * len(target)
                   else 0, k) for k, ln in enumerate(lines)]
            if sc:
                s, k = max(sc)
                if s >= 80:
                    hits += 1
                    found[it.key] = k
        if hits > best_hits:
            best_lay, best_hits, item_lines = lay, hits, found
    title = fuzz.partial_ratio(fold(TITLE), ftext) >= 90 if ftext else False
    if best_hits < 2 and not title:
        return PageReading(kind="unreadable", problems=[problem("unreadable")], rotation_applied=rot,
                           timings={"total": time.perf_counter() - t0})
    r = PageReading(kind="foreign_form", problems=[problem("foreign_form")], rotation_applied=rot)
    if best_lay is not None:
        r.layout_key = best_lay.key
    # name and date of birth
    name_text, dob_text = identity_lines(lines)
    if name_text:
        r.fields.append(FieldReading("member_full_name", name_text, 0.6, None, "text"))
    if dob_text:
        r.fields.append(FieldReading("member_date_of_birth", dob_text, 0.6, None, "text"))
    # answers: the option whose label is preceded by a mark
    if best_lay is not None:
        order = [it for it in best_lay.items if it.type == "choice"]
        keys_in_order = [it.key for it in best_lay.items]
        for it in order:
            k0 = item_lines.get(it.key)
            if k0 is None:
                r.answers[it.key] = None
                r.answer_confidence[it.key] = 0.0
                r.item_status[it.key] = "none"
                continue
            nxt = [item_lines[k] for k in keys_in_order[keys_in_order.index(it.key) + 1:] if k in item_lines]
            k1 = min(nxt) if nxt else min(len(lines), k0 + 4)
            cands = []
            for op in it.options:
                target = fold(op.label)
                n = len(op.label.split())
                best = None
                for ln in lines[k0 + 1:k1]:
                    ws = ln["words"]
                    for i in range(len(ws)):
                        s = fuzz.ratio(target, fold(" ".join(w["text"] for w in ws[i:i + n])))
                        if s >= 80 and (best is None or s > best[0]):
                            prev = ws[i - 1]["text"] if i > 0 else ""
                            best = (s, ws[i], prev)
                if best:
                    marked_word = bool(re.fullmatch(r"[\[(|]?\s*[XxKk×☒☑✓✔■✗✘]\s*[\])|]?", best[2]))
                    cands.append((op.key, _mark_ink(g, best[1]), marked_word))
            ans, conf, status = None, 0.0, "none"
            words_marked = [c for c in cands if c[2]]
            if len(words_marked) == 1:
                ans, conf, status = words_marked[0][0], 0.6, "ok"
            elif cands and not words_marked:
                inks = sorted(cands, key=lambda c: -c[1])
                if len(inks) >= 2 and inks[0][1] > 0.08 and inks[0][1] > 1.6 * inks[1][1]:
                    ans, conf, status = inks[0][0], 0.5, "ok"
                else:
                    status = "unsure"
            elif len(words_marked) > 1:
                status = "multiple"
            r.answers[it.key] = ans
            r.answer_confidence[it.key] = conf
            r.item_status[it.key] = status
            r.fields.append(FieldReading(it.key, ans, conf, None, "choice"))
    prop = propose_member(text, members_hint or [], name_text=name_text, dob_text=dob_text)
    if prop:
        r.fields.append(FieldReading("proposed_member_id", prop[0], prop[1], None, "text"))
    elif members_hint:
        r.problems.append(problem("member_not_found"))
    if want_images:
        ok, buf = cv2.imencode(".png", _rotate_cw(bgr, rot), [cv2.IMWRITE_PNG_COMPRESSION, 1])
        r.normalised_image = buf.tobytes() if ok else None
    r.timings = {"total": time.perf_counter() - t0}
    return r
