"""Pages without our marks: blank, something else, or a form a cell retyped in Word.

A retyped form is read by full-page OCR (tesseract ``vie``): the items are
found by their wording (rapidfuzz against the layout's item and option
labels, which come from the form definition), a mark in front of an option
label ("[X]", "☒", a handwritten tick) is looked for in the image, and a
member is proposed from the name and date of birth read (see
:mod:`ocr.identify`).  Such a page always needs review.
"""
from __future__ import annotations

import re
import time

import cv2
import numpy as np
from rapidfuzz import fuzz

from .identify import find_dates, fold, identity_lines, nfc as _nfc, propose_member
from .result import FieldReading, PageReading, problem

TITLE = "phiếu nhận xét"


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
