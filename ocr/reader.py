"""``read_page``: one page image -> PageReading.

Our own sheets (corner marks + QR): find the marks, decide the orientation
(QR read in the expected place for each candidate, else the box pattern),
warp to the canonical page, read the QR and verify its HMAC, locate the tick
boxes of the layout (rigid pattern, vertical shift search, local
refinement), then read it (:mod:`ocr.sheet`: classify the boxes, decide
one answer per item, OCR the member name line only, crop the free-text,
signature and stamp areas and look for a signature and a red seal).

Our sheet with its corner marks cut off: aligned by the QR alone
(:mod:`ocr.fallback`).  Anything else: blank page, a photo of something else
(unreadable), or a form someone retyped (foreign form, read by full-page OCR
and fuzzy matching; see :mod:`ocr.foreign`).  Without a valid QR, the member
is proposed from the name and date of birth read (:mod:`ocr.identify`).
"""
from __future__ import annotations

import os
import time

os.environ.setdefault("OMP_THREAD_LIMIT", "1")

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from . import align, boxes as bx, qr as qrmod  # noqa: E402
from .fallback import read_by_qr_only  # noqa: E402
from .foreign import read_foreign  # noqa: E402
from .identify import propose_member  # noqa: E402
from .layout import Layout, as_layouts, kind_codes_of  # noqa: E402
from .result import FieldReading, PageReading, problem  # noqa: E402
from .slip import read_slip  # noqa: E402
from .sheet import box_side_pt, locate_boxes, png, qr_problem_and_payload, review_image, read_member_lines, read_areas, read_boxes  # noqa: E402

QR_MARGIN_PT = 30  # search margin around the QR picture


def _ink_fraction_small(gray: np.ndarray) -> tuple[float, float]:
    h, w = gray.shape
    f = min(1.0, 800.0 / max(h, w))
    small = cv2.resize(gray, (max(1, int(w * f)), max(1, int(h * f))), interpolation=cv2.INTER_AREA)
    m = cv2.medianBlur(small, 3)
    th = cv2.adaptiveThreshold(m, 1, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, 25, 14)
    mid = float(((small > 50) & (small < 200)).mean())
    return float(th.mean()), mid


BLANK_STROKE_MAX = 0.0015  # share of the page in thin dark strokes below which a page is blank
BLANK_STROKE_DEPTH = 0.22  # a stroke pixel is this much (relative) darker than the paper around it


def looks_blank(gray: np.ndarray) -> bool:
    """True for a page without print or writing: an empty sheet, the back of a form with the front
    showing through faintly, or such a sheet photographed on a desk.  Counts pixels of thin strokes
    clearly darker than the paper right around them (a black-hat filter: the desk around a
    photographed page, shadows and show-through are wide or faint and do not count)."""
    h, w = gray.shape
    f = min(1.0, 1000.0 / max(h, w))
    small = cv2.resize(gray, (max(1, int(w * f)), max(1, int(h * f))), interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (3, 3), 0).astype(np.float32)
    closed = cv2.morphologyEx(small, cv2.MORPH_CLOSE, np.ones((9, 9), np.uint8))
    depth = (closed - small) / np.maximum(closed, 1.0)
    strokes = (depth > BLANK_STROKE_DEPTH).astype(np.uint8)
    strokes = cv2.morphologyEx(strokes, cv2.MORPH_OPEN, np.ones((2, 2), np.uint8))  # dust and noise
    return float(strokes.mean()) < BLANK_STROKE_MAX


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
        side = box_side_pt(lay) * align.SCALE
        k = round(side)
        if k not in c["finders"]:
            c["finders"][k] = bx.BoxFinder(c["ink"], side)
        return c["finders"][k]


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


def read_page(image, *, layouts, hmac_key, members_hint=None, ocr_name: bool = True,
              want_images: bool = True, review_format: str = "jpeg", slip_layouts=None) -> PageReading:
    """Read one page image (numpy BGR/gray array or PIL image).

    ``layouts``: the layouts known to the service (list/dict of Layout or
    their dicts), see :func:`ocr.layout.build_layout`.  ``hmac_key``: the
    QR keys that verify the payload (a forms.qrpayload Keyring, one key, or
    bare bytes for legacy payloads).  ``members_hint``: candidate members
    ``{id, full_name, date_of_birth, workplace_org_name, residence_cell_name}``
    used to propose a member when the QR does not identify one.  ``review_format``: the normalised page
    image (``normalised_image``, with ``want_images``) as "jpeg" (default) or "png".  ``slip_layouts``:
    the introduction letter's :class:`ocr.slip.SlipLayout` (or dicts), to read the date written on a
    returned receipt slip.
    """
    t0 = time.perf_counter()
    lays = as_layouts(layouts)
    bgr, gray, has_colour = align.to_arrays(image)
    ink_frac, mid_frac = _ink_fraction_small(gray)
    if ink_frac < 0.0012 or looks_blank(gray):
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
                                   t0, want_images, review_format, slip_layouts)
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
    payload, qr_valid, probs = qr_problem_and_payload(qr_text, hmac_key, kind_codes_of(lays))
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
            dy, located, frac = locate_boxes(ctx.finder(lay, r), lay)
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
                                   t0, want_images, review_format, slip_layouts)
    reading.rotation_applied = (360 - rot) % 360
    reading.layout_key = lay.key
    if reading.kind == "introduction_receipt":
        read_slip(reading, bgr, gray, slip_layouts, want_images=want_images)
        return reading
    c = ctx.canon(lay, rot)
    H, g, ink = c["H"], c["gray"], c["ink"]
    if frac < 0.8:
        reading.problems.append(problem("layout_mismatch"))
    read_boxes(reading, lay, ink, located, frac, gray=g)
    t_read = time.perf_counter()
    # name line (shifted like the QR when the header wrapped)
    dy_head = 0.0
    if qr_centre is not None and lay.qr:
        qx, qy, qw, qh = align.box_to_canon(lay, lay.qr)
        dy_head = float(qr_centre[1] - (qy + qh / 2))
        if abs(dy_head) > 40 * align.SCALE:
            dy_head = 0.0
    if ocr_name and "member_full_name" in lay.regions:
        read_member_lines(reading, gray, H, lay, dy_head)
    t_ocr = time.perf_counter()
    colour = align.warp(bgr, H, align.canonical_size(lay)) if (want_images or has_colour) else None
    read_areas(reading, lay, g, ink, colour, has_colour, dy, want_images)
    if members_hint and not qr_valid:
        name = reading.field("member_full_name")
        dob = reading.field("member_date_of_birth")
        text = " ".join(str(f.value) for f in (name, dob) if f and f.value)
        prop = propose_member(text, members_hint, name_text=name.value if name else None,
                              dob_text=str(dob.value) if dob and dob.value else None)
        if prop:
            reading.fields.append(FieldReading("proposed_member_id", prop[0], prop[1], None, "text"))
    if want_images and colour is not None:
        reading.normalised_image = review_image(colour, review_format)
    t_end = time.perf_counter()
    reading.timings = {"marks": t_marks - t0, "qr": t_qr - t_marks, "boxes": t_boxes - t_qr,
                       "read": t_read - t_boxes, "ocr": t_ocr - t_read, "areas": t_end - t_ocr,
                       "total": t_end - t0}
    return reading


def _read_without_marks(bgr, gray, has_colour, lays, key, members_hint, ink_frac, mid_frac, t0, want_images,
                        review_format="jpeg", slip_layouts=None):
    """No corner marks: maybe our sheet with marks cut off (QR still there), a retyped form,
    or something else."""
    res = qrmod.decode(gray, try_harder=False) or qrmod.decode(gray, try_harder=True)
    ours = [(t, c, o) for t, c, o in res if qrmod.parse_unverified(t, kind_codes_of(lays))]
    if ours and lays:
        return read_by_qr_only(bgr, gray, has_colour, lays, key, ours[0], members_hint, t0, want_images,
                               review_format, slip_layouts)
    return read_foreign(bgr, gray, lays, members_hint, ink_frac, mid_frac, t0, want_images)
