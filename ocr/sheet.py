"""Reading our own sheet once its page is aligned onto a layout.

Shared by the two ways of aligning a page (:mod:`ocr.reader`: by the corner
marks; :mod:`ocr.fallback`: by the QR code alone): locate the tick boxes of
the layout, classify them and decide one answer per item, verify the QR,
OCR the member name line, crop the free-text, signature and stamp areas and
look for ink in them.
"""
from __future__ import annotations

import unicodedata

import cv2
import numpy as np

from . import align, boxes as bx, qr as qrmod
from .layout import Layout
from .result import FieldReading, PageReading, problem

DY_RANGE_PT = (-14, 85)  # vertical shift of the item block (wrapped lines above it)
SIGNATURE_REGIONS = ("signature_cell", "signature_ward")


def png(img: np.ndarray, level: int = 1) -> bytes:
    ok, buf = cv2.imencode(".png", img, [cv2.IMWRITE_PNG_COMPRESSION, level])
    return buf.tobytes() if ok else b""


REVIEW_JPEG_QUALITY = 85


def review_image(img: np.ndarray, fmt: str = "jpeg") -> bytes:
    """The normalised page a reviewer looks at: JPEG by default (a noisy scan costs ~0.1-0.25 s of CPU as PNG,
    a tenth of that as JPEG, for a picture read by eye); ``fmt="png"`` keeps it lossless."""
    if fmt == "png":
        return png(img)
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, REVIEW_JPEG_QUALITY])
    return buf.tobytes() if ok else b""


def box_side_pt(lay: Layout) -> float:
    sides = [b[2] for _i, _o, b in lay.all_boxes()]
    return float(np.median(sides)) if sides else 17.0


def locate_boxes(finder: bx.BoxFinder, lay: Layout, *, r: int = 5, dx_range=(0, 0)):
    """(dy px, [(item, option, x, y, score)], found fraction)."""
    allb = lay.all_boxes()
    if not allb:
        return 0, [], 0.0
    pts = [align.to_canon(lay, b[0], b[1]) for _i, _o, b in allb]
    lo, hi = (int(v * align.SCALE) for v in DY_RANGE_PT)
    dx, dy, _score = finder.search(pts, (lo, hi), r=r, dx_range=dx_range)
    located = []
    found = 0
    for (ik, ok, _b), (x, y) in zip(allb, pts):
        xx, yy, s = finder.refine(x + dx, y + dy, r=r)
        located.append((ik, ok, xx, yy, s))
        found += s >= 0.5
    return dy, located, found / len(allb)


def qr_problem_and_payload(text: str | None, key, kind_codes=None):
    if text is None:
        return None, False, [problem("qr_missing")]
    payload, valid, msg = qrmod.verify(text, key, kind_codes)
    if valid:
        return payload, True, []
    return payload, False, [problem("qr_invalid", msg and
                                    ("Mã QR không hợp lệ: " + msg[0].lower() + msg[1:]) or None)]


# item status -> the problem that sends the item to a person (all of them block automatic apply)
STATUS_PROBLEM = {"none": "item_unsure", "unsure": "item_unsure", "multiple": "item_ambiguous",
                  "corrected": "item_corrected", "circled": "item_circled", "faint": "item_faint"}


def read_boxes(reading: PageReading, lay: Layout, ink, located, frac, gray=None):
    side = int(round(box_side_pt(lay) * align.SCALE))
    pos = {(ik, ok): (x, y, s) for ik, ok, x, y, s in located}
    ink = bx.clean(ink)
    doubt: dict[str, dict] = {}  # problem code -> {item: [conflicting boxes]}
    for it in lay.choice_items():
        states = []
        xs, ys = [], []
        for op in it.options:
            x, y, s = pos[(it.key, op.key)]
            f = bx.box_features(ink, x, y, side, gray=gray)
            cls, conf = bx.classify(f)
            if s < 0.4:  # the box itself was not found where expected
                conf *= 0.5
            state = "ticked" if cls in bx.MARKED else cls
            states.append((op.key, state, conf, f, cls))
            reading.fields.append(FieldReading(f"{it.key}.{op.key}", state, conf, (x, y, side, side), "tickbox",
                                               box_class=cls))
            xs += [x, x + side]
            ys += [y, y + side]
        ans, conf, status = bx.decide_item(states)
        if frac < 0.8:
            conf *= 0.5
        reading.answers[it.key] = ans
        reading.answer_confidence[it.key] = conf
        reading.item_status[it.key] = status
        reading.fields.append(FieldReading(it.key, ans, conf, (min(xs), min(ys), max(xs) - min(xs),
                                                                 max(ys) - min(ys)), "choice"))
        code = STATUS_PROBLEM.get(status)
        if code:
            boxes = [[int(pos[(it.key, k)][0]), int(pos[(it.key, k)][1]), side, side]
                     for k, _st, _c, f_, cls in states
                     if cls != "empty" or status == "none" or bx.empty_in_doubt(f_)]
            doubt.setdefault(code, {})[it.key] = boxes
    for code, items in doubt.items():
        reading.problems.append(problem(code, items=list(items), boxes=items))


def read_member_name(reading, gray, H, lay: Layout, dy_head: float, region: str = "member_full_name"):
    """OCR one printed line (the member's name, or with ``region="member_date_of_birth"`` the
    date of birth) into a "text" field of that name with Tesseract's mean word confidence."""
    import pytesseract
    x, y, w, h = align.box_to_canon(lay, lay.regions[region])
    box = (x, y + dy_head - 3, w, h + 6)
    Hc, size = align.region_homography(H, box, 2.0)
    crop = align.warp(gray, Hc, size)
    crop = cv2.copyMakeBorder(crop, 10, 10, 10, 10, cv2.BORDER_CONSTANT, value=255)
    try:
        data = pytesseract.image_to_data(crop, lang="vie", config="--psm 7",
                                         output_type=pytesseract.Output.DICT)
    except Exception as exc:  # tesseract missing or failed: report, do not crash the page
        reading.fields.append(FieldReading(region, None, 0.0, tuple(int(v) for v in box), "text"))
        reading.problems.append(problem("ocr_failed", f"Không nhận dạng được {'họ tên' if region == 'member_full_name' else 'ngày sinh'} ({exc.__class__.__name__})"))
        return
    words, confs = [], []
    for t, c in zip(data["text"], data["conf"]):
        t = (t or "").strip()
        if t and float(c) >= 0:
            words.append(t)
            confs.append(float(c))
    text = unicodedata.normalize("NFC", " ".join(words)).strip(" .,:;-_")
    conf = (sum(confs) / len(confs) / 100.0) if confs else 0.0
    reading.fields.append(FieldReading(region, text or None, conf, tuple(int(round(v)) for v in box), "text"))


FREE_TEXT_SLACK_PT = 10  # a free-text area reaches this far below its layout: lines printed ahead of the
# writing lines (version 2's absences in item 7) are taller than the dotted lines the layout measured
WRITING_MIN_PX = 120  # pixels (canonical 150 dpi) of handwritten strokes in a free-text area: writing
HEADING_BAND = (0.24, 0.22)  # the printed item heading ("7. Nhận xét khác:"): left 24%, top 22% of the area


def _heading_components(st: np.ndarray, w: int, h: int) -> set[int]:
    """The components of the printed item heading ("7. Nhận xét khác:"): the row that starts at the
    area's left edge near its top, followed left to right while the gaps stay those between letters
    and words, and never past HEADING_BAND[0] of the width. Writing on that line after a wider gap,
    or below it, is not part of it."""
    comps = [(i, *(int(v) for v in st[i][:4])) for i in range(1, len(st))]
    starts = [c for c in comps if c[1] <= 0.05 * w and c[2] + c[4] <= HEADING_BAND[1] * h * 1.4 and c[4] >= 6]
    if not starts:
        return set()
    first = min(starts, key=lambda c: c[2])
    top, bottom = first[2], first[2] + first[4]
    row_mid, row_h = (top + bottom) / 2, max(bottom - top, 8)
    gap = max(12, int(0.9 * row_h))  # a word space of the printed heading, not a new phrase
    chosen, right = {first[0]}, first[1] + first[3]
    for i, x, y, cw, ch in sorted(comps, key=lambda c: c[1]):
        if i in chosen or x > right + gap or x + cw > HEADING_BAND[0] * w:
            continue
        if abs((y + ch / 2) - row_mid) <= 0.9 * row_h:  # on the heading's line (accents and dots included)
            chosen.add(i)
            right = max(right, x + cw)
    return chosen


def printed_line_bands(m: np.ndarray, closed: np.ndarray) -> list[tuple[int, int, int, int]]:
    """Lines of a free-text area that the sheet printed ahead of the writing lines (version 2 prints the
    year's recorded absences in item 7, each line followed by the dotted leader to the right margin):
    ``[(x_end, y_top, y_bottom, leader_bottom)]`` of the printed text of each such line, in the area's mask ``m``.

    A writing line is a dotted leader from the left margin to the right one; a printed line is text from
    the left margin with its leader starting where the text ends.  So a thin leader reaching the right edge
    but starting well inside the line, with ink right before it that begins at the left margin, marks the
    text before it as printed.  Writing on the same line after the text, or on any other line, still
    counts; a leader under handwriting merges with it (a taller run) and is never taken for one, and a
    word written on a dotted line leaves the line's dots on its left (no printed text there)."""
    h, w = m.shape
    runs = cv2.morphologyEx(closed, cv2.MORPH_OPEN, np.ones((1, max(20, w // 30)), np.uint8))
    runs &= 1 - cv2.morphologyEx(runs, cv2.MORPH_OPEN, np.ones((8, 1), np.uint8))  # text closes into blocks
    runs = cv2.morphologyEx(runs, cv2.MORPH_OPEN, np.ones((1, max(20, w // 30)), np.uint8))
    n, _lab, st, _c = cv2.connectedComponentsWithStats(runs, connectivity=8)
    pitch = max(12, int(round(h * 0.15)))  # a writing line's height (four lines and the heading)
    out = []
    for i in range(1, n):
        x, y, cw, ch, _a = (int(v) for v in st[i])
        if ch > 10 or x + cw < w - max(6, w // 30) or x < 0.1 * w:
            continue  # not a thin leader that ends at the right margin after some text
        if runs[y:y + ch, :x].any(axis=0).mean() > 0.3:
            continue  # the dotted line runs on left of it: a word written on the line, not printed text
        y0, y1 = max(0, y - pitch), min(h, y + ch + max(4, pitch // 4))
        band = m[y0:y1, :x]
        cols = np.flatnonzero(band.any(axis=0))
        if cols.size == 0 or cols[0] > 0.06 * w or cols[-1] < x - max(12, w // 40):
            continue  # no text from the left margin up to the leader: not a printed line
        # the leader's run may start under the last short word (too short to close into a block): the text
        # ends where the ink above the leader's row stops
        above = m[y0:max(y0 + 1, y - 2)].any(axis=0)
        end, gap = x, 0
        while end < w and gap <= 6:
            gap = 0 if above[end] else gap + 1
            end += 1
        out.append((min(w, end - gap + 3), y0, y1, y + ch))
    return out


SOLID_ON_LINE = 0.55  # share of ink in a window over a dotted line at or above: a word written on it
SOLID_ON_LINE_REL = 2.5  # ... and at least this many times the dotted lines' own typical share


def solid_on_dotted_lines(on_lines: np.ndarray) -> np.ndarray:
    """The ink on the dotted lines' rows that is not the dots: a short flat word (a pencil word sits on
    the line, within the rows taken out with it) is solid ink over a stretch of the line, where dots
    leave paper between them.  Measured against the lines' own typical share, so heavy dots merged by a
    blurred scan do not count."""
    if not on_lines.any():
        return on_lines
    dens = cv2.blur(on_lines.astype(np.float32), (15, 9))
    ref = float(np.median(dens[on_lines > 0]))
    seed = (dens >= max(SOLID_ON_LINE, SOLID_ON_LINE_REL * ref)).astype(np.uint8)
    if not seed.any():
        return seed
    # the word's whole height within the rows taken out with the line, so it joins its parts above and below
    return on_lines & cv2.dilate(seed, np.ones((9, 7), np.uint8))


def writing_amount(mask: np.ndarray) -> int:
    """Pixels of handwriting in a free-text area's ink mask: the printed dotted lines (closed into long
    horizontal lines), rules, scanner streaks and page edges (long vertical lines), dust and the
    printed heading are taken out; what is left are strokes of a pen or pencil."""
    m = bx.clean(mask)
    h, w = m.shape
    if h < 8 or w < 8:
        return 0
    closed = cv2.morphologyEx(m, cv2.MORPH_CLOSE, np.ones((1, 9), np.uint8))
    lines = cv2.morphologyEx(closed, cv2.MORPH_OPEN, np.ones((1, max(20, w // 4)), np.uint8))
    vert = cv2.morphologyEx(m, cv2.MORPH_OPEN, np.ones((max(20, h // 2), 1), np.uint8))
    printed = printed_line_bands(m, closed)
    on_lines = m & cv2.dilate(lines, np.ones((5, 3), np.uint8))
    m = m & (1 - cv2.dilate(lines | vert, np.ones((5, 3), np.uint8)))
    m |= solid_on_dotted_lines(on_lines)
    for x1, y0, y1, yl in printed:  # lines the sheet printed (the year's absences) are not writing
        m[y0:y1, :x1] = 0
        m[max(0, yl - 8):yl + 3, x1:] = 0  # and their (short) leaders
    n, _lab, st, _c = cv2.connectedComponentsWithStats(m, connectivity=8)
    heading = _heading_components(st, w, h)
    total = 0
    for i in range(1, n):
        cx, cy, cw, ch, area = (int(v) for v in st[i])
        if cw < 6 and ch < 6:
            continue  # dust, a stray dot
        if ch <= 5 and cw >= 3 * ch:
            continue  # a piece of a printed rule
        if i in heading:
            continue  # the printed heading
        total += area
    return total


def _line_crop(gray, H, lay: Layout, dy_head: float, region: str):
    x, y, w, h = align.box_to_canon(lay, lay.regions[region])
    box = (x, y + dy_head - 3, w, h + 6)
    Hc, size = align.region_homography(H, box, 2.0)
    crop = align.warp(gray, Hc, size)
    return cv2.copyMakeBorder(crop, 10, 10, 10, 10, cv2.BORDER_CONSTANT, value=255), box


def read_member_lines(reading, gray, H, lay: Layout, dy_head: float,
                      regions=("member_full_name", "member_date_of_birth")):
    """OCR the printed lines ``regions`` (the member's name and date of birth) with ONE Tesseract call
    (the language model is loaded once per call: half the time of one call per line): the crops are
    stacked with a white gap and each word goes to the line its position falls in.  Adds one "text"
    field per region with Tesseract's mean word confidence, like :func:`read_member_name`."""
    import pytesseract
    regions = [r for r in regions if r in lay.regions]
    if not regions:
        return
    crops, boxes, spans = [], [], []
    gap = 40
    top = 0
    width = 0
    for r in regions:
        c, b = _line_crop(gray, H, lay, dy_head, r)
        crops.append(c)
        boxes.append(b)
        spans.append((top, top + c.shape[0]))
        top += c.shape[0] + gap
        width = max(width, c.shape[1])
    sheet = np.full((top - gap, width), 255, np.uint8)
    for c, (t0, t1) in zip(crops, spans):
        sheet[t0:t1, :c.shape[1]] = c
    try:
        data = pytesseract.image_to_data(sheet, lang="vie", config="--psm 6",
                                         output_type=pytesseract.Output.DICT)
    except Exception as exc:  # tesseract missing or failed: report, do not crash the page
        for r, b in zip(regions, boxes):
            reading.fields.append(FieldReading(r, None, 0.0, tuple(int(v) for v in b), "text"))
        reading.problems.append(problem("ocr_failed", f"Không nhận dạng được họ tên và ngày sinh ({exc.__class__.__name__})"))
        return
    words: list[list] = [[] for _ in regions]
    for t, c, wt, wh in zip(data["text"], data["conf"], data["top"], data["height"]):
        t = (t or "").strip()
        if not t or float(c) < 0:
            continue
        mid = wt + wh / 2
        for k, (t0, t1) in enumerate(spans):
            if t0 - gap / 2 <= mid < t1 + gap / 2:
                words[k].append((t, float(c)))
                break
    for r, b, ws in zip(regions, boxes, words):
        if not ws:  # nothing found on this line in the stacked picture: read the line alone
            read_member_name(reading, gray, H, lay, dy_head, region=r)
            continue
        text = unicodedata.normalize("NFC", " ".join(t for t, _c in ws)).strip(" .,:;-_")
        conf = (sum(c for _t, c in ws) / len(ws) / 100.0) if ws else 0.0
        reading.fields.append(FieldReading(r, text or None, conf, tuple(int(round(v)) for v in b), "text"))


def read_areas(reading, lay: Layout, g, ink, colour, has_colour, dy, want_images):
    W, Hh = g.shape[1], g.shape[0]

    def cbox(name):
        if name not in lay.regions:
            return None
        x, y, w, h = align.box_to_canon(lay, lay.regions[name])
        y += dy
        h += slack.get(name, 0.0)
        x0, y0 = max(0, int(x)), max(0, int(y))
        x1, y1 = min(W, int(x + w)), min(Hh, int(y + h))
        if x1 <= x0 or y1 <= y0:
            return None
        return (x0, y0, x1 - x0, y1 - y0)

    src = colour if colour is not None else g
    free_text = [it.key for it in lay.free_text_items()]  # e.g. other_remarks
    slack = {name: FREE_TEXT_SLACK_PT * align.SCALE for name in free_text}
    for name in free_text + list(SIGNATURE_REGIONS):
        b = cbox(name)
        if b is None:
            continue
        x, y, w, h = b
        if want_images:
            reading.crops[name] = png(src[y:y + h, x:x + w])
        reading.fields.append(FieldReading(name, name, 1.0, b, "crop"))
    # free text written? (strokes once the printed dotted lines, rules and heading are taken out)
    for name in free_text:
        b = cbox(name)
        if b is None:
            continue
        x, y, w, h = b
        amount = writing_amount(ink[y:y + h, x:x + w])
        present = amount >= WRITING_MIN_PX
        # confident far from the threshold; near it a person looks (the service queues it)
        conf = float(min(1.0, 0.5 + abs(amount - WRITING_MIN_PX) / WRITING_MIN_PX * 0.5))
        reading.fields.append(FieldReading(f"{name}_present", present, conf, b, "presence"))
    # signature of the cell
    b = cbox("signature_cell")
    if b is not None:
        x, y, w, h = b
        m = bx.clean(ink[y + 2:y + h - 2, x + 2:x + w - 2])
        r = float(m.mean()) if m.size else 0.0
        reading.signature_present = r > 0.006
        reading.signature_confidence = float(min(1.0, 0.55 + abs(r - 0.006) * 40))
        reading.fields.append(FieldReading("signature_present", reading.signature_present,
                                           reading.signature_confidence, b, "presence"))
    b = cbox("stamp_ward")
    if b is not None:
        x, y, w, h = b
        if has_colour and colour is not None:
            hsv = cv2.cvtColor(colour[y:y + h, x:x + w], cv2.COLOR_BGR2HSV)
            hue, sat, val = hsv[:, :, 0], hsv[:, :, 1], hsv[:, :, 2]
            red = ((hue < 12) | (hue > 165)) & (sat > 70) & (val > 60)
            r = float(red.mean())
            reading.stamp_present = r > 0.01
            reading.stamp_confidence = float(min(1.0, 0.6 + abs(r - 0.01) * 20))
        else:
            # no colour: a seal shows as a large ring of ink; guess from the amount of ink
            m = bx.clean(ink[y:y + h, x:x + w])
            r = float(m.mean())
            reading.stamp_present = r > 0.08
            reading.stamp_confidence = 0.4
        reading.fields.append(FieldReading("stamp_present", reading.stamp_present,
                                           reading.stamp_confidence, b, "presence"))
