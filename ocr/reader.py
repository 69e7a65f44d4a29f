"""``read_page``: one page image -> PageReading.

Our own sheets (corner marks + QR): find the marks, decide the orientation
(QR read in the expected place for each candidate, else the box pattern),
warp to the canonical page, read the QR and verify its HMAC, locate the tick
boxes of the layout (rigid pattern, vertical shift search, local
refinement), classify them, decide one answer per item, OCR the member name
line only, crop the remarks/signature/stamp areas and look for a signature
and a red seal.

Anything else: blank page, a photo of something else (unreadable), or a
form someone retyped (foreign form, read by full-page OCR and fuzzy
matching; see :mod:`ocr.foreign`).
"""
from __future__ import annotations

import os
import time

os.environ.setdefault("OMP_THREAD_LIMIT", "1")

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from . import align, boxes as bx, qr as qrmod  # noqa: E402
from .layout import Layout, as_layouts  # noqa: E402
from .result import FieldReading, PageReading, problem  # noqa: E402

QR_MARGIN_PT = 30  # search margin around the QR picture
DY_RANGE_PT = (-14, 85)  # vertical shift of the item block (wrapped lines above it)


def _png(img: np.ndarray, level: int = 1) -> bytes:
    ok, buf = cv2.imencode(".png", img, [cv2.IMWRITE_PNG_COMPRESSION, level])
    return buf.tobytes() if ok else b""


def _ink_fraction_small(gray: np.ndarray) -> tuple[float, float]:
    h, w = gray.shape
    f = min(1.0, 800.0 / max(h, w))
    small = cv2.resize(gray, (max(1, int(w * f)), max(1, int(h * f))), interpolation=cv2.INTER_AREA)
    m = cv2.medianBlur(small, 3)
    th = cv2.adaptiveThreshold(m, 1, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, 25, 14)
    mid = float(((small > 50) & (small < 200)).mean())
    return float(th.mean()), mid


def _geom_key(lay: Layout):
    return (tuple(sorted(lay.marks.items())), lay.origin, lay.page_size)


class _Ctx:
    """Per-page cache of warps and box finders."""

    def __init__(self, gray, pts):
        self.gray = gray
        self.pts = pts
        self.cache = {}

    def canon(self, lay: Layout, rot: int):
        key = (_geom_key(lay), rot)
        if key not in self.cache:
            H = align.homography_for(self.pts, lay, rot)
            size = align.canonical_size(lay)
            g = align.warp(self.gray, H, size)
            ink = bx.ink_mask(g)
            self.cache[key] = {"H": H, "gray": g, "ink": ink, "finders": {}}
        return self.cache[key]

    def finder(self, lay: Layout, rot: int):
        c = self.canon(lay, rot)
        side = _box_side_pt(lay) * align.SCALE
        k = round(side)
        if k not in c["finders"]:
            c["finders"][k] = bx.BoxFinder(c["ink"], side)
        return c["finders"][k]


def _box_side_pt(lay: Layout) -> float:
    sides = [b[2] for _i, _o, b in lay.all_boxes()]
    return float(np.median(sides)) if sides else 17.0


def _locate_boxes(finder: bx.BoxFinder, lay: Layout, *, r: int = 5, dx_range=(0, 0)):
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


def _decode_qr_in_place(gray, pts, lay: Layout, rot: int):
    """Decode the QR where the layout expects it; returns (text, centre_canon) or None."""
    if not lay.qr:
        return None
    H = align.homography_for(pts, lay, rot)
    x, y, w, h = align.box_to_canon(lay, lay.qr)
    m = QR_MARGIN_PT * align.SCALE
    box = (x - m, y - m, w + 2 * m, h + 2 * m + m)
    Hc, size = align.region_homography(H, box, 2.0)
    crop = align.warp(gray, Hc, size)
    for attempt in (False, True):
        res = qrmod.decode(crop, try_harder=attempt)
        for text, corners, orient in res:
            if abs(((orient + 180) % 360) - 180) > 30:
                continue
            c = corners.mean(axis=0) / 2.0 + np.array([box[0], box[1]])
            return text, c
    return None


def _qr_problem_and_payload(text: str | None, key):
    if text is None:
        return None, False, [problem("qr_missing")]
    payload, valid, msg = qrmod.verify(text, key)
    if valid:
        return payload, True, []
    return payload, False, [problem("qr_invalid", msg and
                                    ("Mã QR không hợp lệ: " + msg[0].lower() + msg[1:]) or None)]


def read_page(image, *, layouts, hmac_key, members_hint=None, ocr_name: bool = True,
              want_images: bool = True) -> PageReading:
    """Read one page image (numpy BGR/gray array or PIL image).

    ``layouts``: the layouts known to the service (list/dict of Layout or
    their dicts), see :func:`ocr.layout.build_layout`.  ``hmac_key``: the
    QR keys that verify the payload (a forms.qrpayload Keyring, one key, or
    bare bytes for legacy payloads).  ``members_hint``: candidate members
    ``{id, full_name, date_of_birth, workplace_org_name, residence_cell_name}``
    used to propose a member when the QR does not identify one.
    """
    t0 = time.perf_counter()
    lays = as_layouts(layouts)
    bgr, gray, has_colour = align.to_arrays(image)
    ink_frac, mid_frac = _ink_fraction_small(gray)
    if ink_frac < 0.0012:
        return PageReading(kind="blank", problems=[problem("blank")],
                           timings={"total": time.perf_counter() - t0})
    ratio = 0.559
    if lays:
        m = lays[0].marks
        ratio = abs(m["tr"][0] - m["tl"][0]) / max(1e-6, abs(m["bl"][1] - m["tl"][1]))
    found = align.find_corner_marks(gray, ratio) if lays else None
    t_marks = time.perf_counter()
    if found is None:
        return _read_without_marks(bgr, gray, has_colour, lays, hmac_key, members_hint, ink_frac, mid_frac,
                                   t0, want_images)
    pts, _size, landscape = found
    ctx = _Ctx(gray, pts)
    rots = align.rotation_candidates(landscape)
    # distinct QR geometries among the layouts
    geo = {}
    for lay in lays:
        geo.setdefault((_geom_key(lay), lay.qr), lay)
    qr_text, qr_centre, rot = None, None, None
    for r in rots:
        for lay in geo.values():
            got = _decode_qr_in_place(gray, pts, lay, r)
            if got:
                qr_text, qr_centre = got
                rot = r
                break
        if rot is not None:
            break
    t_qr = time.perf_counter()
    payload, qr_valid, probs = _qr_problem_and_payload(qr_text, hmac_key)
    reading = PageReading(kind="evaluation_sheet", qr=payload, qr_valid=qr_valid, qr_text=qr_text,
                          problems=list(probs))
    if payload and payload.get("kind") == "introduction_letter":
        reading.kind = "introduction_receipt"
    # candidate layouts
    cands = lays
    if payload:
        same = [lay for lay in lays if lay.kind == payload["kind"] and lay.version == payload["version"]]
        if same:
            cands = same
        elif qr_valid and reading.kind == "evaluation_sheet":
            reading.problems.append(problem("qr_unknown_form"))
    cands = [lay for lay in cands if lay.all_boxes()] or cands
    best = None
    for r in ([rot] if rot is not None else rots):
        for lay in cands:
            if not lay.all_boxes():
                continue
            dy, located, frac = _locate_boxes(ctx.finder(lay, r), lay)
            score = (frac >= 0.8, frac >= 0.8 and len(located), frac)
            if best is None or score > best[0]:
                best = (score, lay, r, dy, located, frac)
    t_boxes = time.perf_counter()
    if best is None:
        reading.kind = reading.kind if payload else "unreadable"
        if not payload:
            reading.problems = [problem("unreadable")]
        reading.rotation_applied = (360 - (rot or 0)) % 360
        return reading
    _score, lay, rot, dy, located, frac = best
    if qr_text is None and frac < 0.6:
        # marks-like squares but not our sheet: try the generic path
        return _read_without_marks(bgr, gray, has_colour, lays, hmac_key, members_hint, ink_frac, mid_frac,
                                   t0, want_images)
    reading.rotation_applied = (360 - rot) % 360
    reading.layout_key = lay.key
    if reading.kind == "introduction_receipt":
        return reading
    c = ctx.canon(lay, rot)
    H, g, ink = c["H"], c["gray"], c["ink"]
    if frac < 0.8:
        reading.problems.append(problem("layout_mismatch"))
    _read_boxes(reading, lay, ink, located, frac)
    t_read = time.perf_counter()
    # name line (shifted like the QR when the header wrapped)
    dy_head = 0.0
    if qr_centre is not None and lay.qr:
        qx, qy, qw, qh = align.box_to_canon(lay, lay.qr)
        dy_head = float(qr_centre[1] - (qy + qh / 2))
        if abs(dy_head) > 40 * align.SCALE:
            dy_head = 0.0
    if ocr_name and "member_full_name" in lay.regions:
        _ocr_name(reading, gray, H, lay, dy_head)
    t_ocr = time.perf_counter()
    colour = align.warp(bgr, H, align.canonical_size(lay)) if (want_images or has_colour) else None
    _areas(reading, lay, g, ink, colour, has_colour, dy, want_images)
    if members_hint and not qr_valid:
        from .foreign import propose_member
        name = reading.field("member_full_name")
        dob = reading.field("member_date_of_birth")
        text = " ".join(str(f.value) for f in (name, dob) if f and f.value)
        prop = propose_member(text, members_hint, name_text=name.value if name else None,
                              dob_text=str(dob.value) if dob and dob.value else None)
        if prop:
            reading.fields.append(FieldReading("proposed_member_id", prop[0], prop[1], None, "text"))
    if want_images and colour is not None:
        reading.normalised_image = _png(colour)
    t_end = time.perf_counter()
    reading.timings = {"marks": t_marks - t0, "qr": t_qr - t_marks, "boxes": t_boxes - t_qr,
                       "read": t_read - t_boxes, "ocr": t_ocr - t_read, "areas": t_end - t_ocr,
                       "total": t_end - t0}
    return reading


def _read_boxes(reading: PageReading, lay: Layout, ink, located, frac):
    side = int(round(_box_side_pt(lay) * align.SCALE))
    by_item: dict[str, list] = {}
    pos = {(ik, ok): (x, y, s) for ik, ok, x, y, s in located}
    unsure_any = cancelled_any = False
    ink = bx.clean(ink)
    for it in lay.choice_items():
        states = []
        xs, ys = [], []
        for op in it.options:
            x, y, s = pos[(it.key, op.key)]
            f = bx.box_features(ink, x, y, side)
            state, conf = bx.classify_features(f)
            if s < 0.4:  # the box itself was not found where expected
                conf *= 0.5
            states.append((op.key, state, conf, f))
            reading.fields.append(FieldReading(f"{it.key}.{op.key}", state, conf, (x, y, side, side), "tickbox"))
            xs += [x, x + side]
            ys += [y, y + side]
        ans, conf, status = bx.decide_item(states)
        if frac < 0.8:
            conf *= 0.5
        by_item[it.key] = states
        reading.answers[it.key] = ans
        reading.answer_confidence[it.key] = conf
        reading.item_status[it.key] = status
        reading.fields.append(FieldReading(it.key, ans, conf, (min(xs), min(ys), max(xs) - min(xs),
                                                                 max(ys) - min(ys)), "choice"))
        unsure_any |= status in ("none", "multiple", "unsure")
        cancelled_any |= status == "cancelled"
    if unsure_any:
        bad = [k for k, s in reading.item_status.items() if s in ("none", "multiple", "unsure")]
        reading.problems.append(problem("item_unsure", items=bad))
    if cancelled_any:
        reading.problems.append(problem("item_cancelled",
                                        items=[k for k, s in reading.item_status.items() if s == "cancelled"]))


def _ocr_name(reading, gray, H, lay: Layout, dy_head: float):
    import pytesseract
    x, y, w, h = align.box_to_canon(lay, lay.regions["member_full_name"])
    box = (x, y + dy_head - 3, w, h + 6)
    Hc, size = align.region_homography(H, box, 2.0)
    crop = align.warp(gray, Hc, size)
    crop = cv2.copyMakeBorder(crop, 10, 10, 10, 10, cv2.BORDER_CONSTANT, value=255)
    try:
        data = pytesseract.image_to_data(crop, lang="vie", config="--psm 7",
                                         output_type=pytesseract.Output.DICT)
    except Exception as exc:  # tesseract missing or failed: report, do not crash the page
        reading.fields.append(FieldReading("member_full_name", None, 0.0,
                                           tuple(int(v) for v in box), "text"))
        reading.problems.append(problem("ocr_failed", f"Không nhận dạng được họ tên ({exc.__class__.__name__})"))
        return
    words, confs = [], []
    for t, c in zip(data["text"], data["conf"]):
        t = (t or "").strip()
        if t and float(c) >= 0:
            words.append(t)
            confs.append(float(c))
    import unicodedata
    text = unicodedata.normalize("NFC", " ".join(words)).strip(" .,:;-_")
    conf = (sum(confs) / len(confs) / 100.0) if confs else 0.0
    reading.fields.append(FieldReading("member_full_name", text or None, conf,
                                       tuple(int(round(v)) for v in box), "text"))


def _areas(reading, lay: Layout, g, ink, colour, has_colour, dy, want_images):
    W, Hh = g.shape[1], g.shape[0]

    def cbox(name):
        if name not in lay.regions:
            return None
        x, y, w, h = align.box_to_canon(lay, lay.regions[name])
        y += dy
        x0, y0 = max(0, int(x)), max(0, int(y))
        x1, y1 = min(W, int(x + w)), min(Hh, int(y + h))
        if x1 <= x0 or y1 <= y0:
            return None
        return (x0, y0, x1 - x0, y1 - y0)

    src = colour if colour is not None else g
    for name in ("other_remarks", "signature_cell", "signature_ward"):
        b = cbox(name)
        if b is None:
            continue
        x, y, w, h = b
        if want_images:
            reading.crops[name] = _png(src[y:y + h, x:x + w])
        reading.fields.append(FieldReading(name, name, 1.0, b, "crop"))
    # remarks written? (ink beyond the dotted lines)
    b = cbox("other_remarks")
    if b is not None:
        x, y, w, h = b
        m = bx.clean(ink[y:y + h, x:x + w])
        # dotted lines are removed by an opening with a small vertical kernel
        strokes = cv2.morphologyEx(m, cv2.MORPH_OPEN, np.ones((3, 1), np.uint8))
        r = float(strokes[int(h * 0.2):].mean()) if h > 5 else 0.0
        reading.fields.append(FieldReading("other_remarks_present", r > 0.004,
                                           float(min(1.0, 0.6 + abs(r - 0.004) * 60)), b, "presence"))
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


def _read_without_marks(bgr, gray, has_colour, lays, key, members_hint, ink_frac, mid_frac, t0, want_images):
    """No corner marks: maybe our sheet with marks cut off (QR still there), a retyped form,
    or something else."""
    res = qrmod.decode(gray, try_harder=False) or qrmod.decode(gray, try_harder=True)
    ours = [(t, c, o) for t, c, o in res if qrmod.parse_unverified(t)]
    if ours and lays:
        from .fallback import read_by_qr_only
        return read_by_qr_only(bgr, gray, has_colour, lays, key, ours[0], members_hint, t0, want_images)
    from .foreign import read_foreign
    return read_foreign(bgr, gray, lays, members_hint, ink_frac, mid_frac, t0, want_images)
