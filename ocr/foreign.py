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


def _nfc(s: str) -> str:
    return unicodedata.normalize("NFC", s or "")


def fold(s: str) -> str:
    """lower case without diacritics (đ -> d)."""
    s = unicodedata.normalize("NFD", _nfc(s).lower().replace("đ", "d"))
    return re.sub(r"\s+", " ", "".join(c for c in s if not unicodedata.combining(c))).strip()


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
    return {f"{int(d):02d}/{int(m):02d}/{y}" for d, m, y in _DATE_RE.findall(text or "")}


def propose_member(text: str, members, *, name_text: str | None = None) -> tuple | None:
    """(member id, confidence, details) of the best candidate, or None.

    Score: name similarity (diacritics folded, 0.6), date of birth found in
    the text (0.3), workplace / residence cell names found (0.1).
    """
    if not members:
        return None
    ftext = fold(text)
    fname = fold(name_text) if name_text else None
    dates = find_dates(text)
    scored = []
    for m in members:
        n = fold(m.get("full_name", ""))
        if not n:
            continue
        if fname:
            s_name = max(fuzz.ratio(n, fname), fuzz.partial_ratio(n, ftext) * 0.9) / 100
        else:
            s_name = fuzz.partial_ratio(n, ftext) / 100 if len(ftext) >= len(n) else fuzz.ratio(n, ftext) / 100
        dob = _date_str(m.get("date_of_birth"))
        s_dob = 1.0 if dob and dob in dates else 0.0
        orgs = [fold(m.get(k) or "") for k in ("workplace_org_name", "residence_cell_name")]
        orgs = [o for o in orgs if o]
        s_org = (sum(fuzz.partial_ratio(o, ftext) / 100 for o in orgs) / len(orgs)) if orgs else 0.0
        scored.append((0.6 * s_name + 0.3 * s_dob + 0.1 * s_org, m.get("id"), s_name, s_dob, s_org))
    if not scored:
        return None
    scored.sort(key=lambda t: -t[0])
    best = scored[0]
    second = scored[1][0] if len(scored) > 1 else 0.0
    if best[0] < 0.55 or best[2] < 0.75:
        return None
    margin = best[0] - second
    conf = max(0.0, min(0.95, best[0] * min(1.0, 0.5 + margin * 5)))
    return best[1], conf, {"score": round(best[0], 3), "name": round(best[2], 3), "dob": best[3],
                           "org": round(best[4], 3), "margin": round(margin, 3)}


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


def read_foreign(bgr, gray, lays, members_hint, ink_frac, mid_frac, t0, want_images) -> PageReading:
    # something else? (photos, textures: lots of mid tones / ink everywhere)
    if ink_frac > 0.22 or mid_frac > 0.5:
        return PageReading(kind="unreadable", problems=[problem("unreadable")],
                           timings={"total": time.perf_counter() - t0})
    rot = _osd_rotation(gray)
    g = _rotate_cw(gray, rot)
    h, w = g.shape
    if max(h, w) < 2000:  # OCR likes ~300 dpi
        f = 2339 / max(h, w)
        g = cv2.resize(g, None, fx=f, fy=f, interpolation=cv2.INTER_CUBIC)
    data = _ocr_data(g)
    lines = _lines(data)
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
    name_text, dob_text = None, None
    for ln in lines:
        fl = fold(ln["text"])
        if name_text is None and "ho va ten" in fl:
            after = ln["text"].split(":", 1)[1] if ":" in ln["text"] else ln["text"]
            after = re.split(r"(?i)ngày\s*sinh|sinh ngày", after)[0]
            after = _DATE_RE.sub(" ", after)
            name_text = re.sub(r"\s+", " ", after).strip(" .:;,-") or None
        if dob_text is None and "sinh" in fl:
            ds = find_dates(ln["text"])
            if ds:
                dob_text = sorted(ds)[0]
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
    prop = propose_member(text, members_hint or [], name_text=name_text)
    if prop:
        r.fields.append(FieldReading("proposed_member_id", prop[0], prop[1], None, "text"))
    elif members_hint:
        r.problems.append(problem("member_not_found"))
    if want_images:
        ok, buf = cv2.imencode(".png", _rotate_cw(bgr, rot), [cv2.IMWRITE_PNG_COMPRESSION, 1])
        r.normalised_image = buf.tobytes() if ok else None
    r.timings = {"total": time.perf_counter() - t0}
    return r
