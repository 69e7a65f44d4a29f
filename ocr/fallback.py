"""Our sheet whose corner marks are missing (cut off, covered): align by the QR alone.

A similarity transform (rotation, scale, shift) is estimated from the four
corners of the QR symbol to their place in the layout; the box pattern is
then searched with a wider window.  Always flagged "marks_missing" for review.
"""
from __future__ import annotations

import math
import time

import cv2
import numpy as np

from . import align
from . import boxes as bx
from .layout import kind_codes_of
from .qr import module_count
from .result import PageReading, problem
from .slip import read_slip
from .sheet import locate_boxes, qr_problem_and_payload, read_areas, read_boxes, review_image


def read_by_qr_only(bgr, gray, has_colour, lays, key, qr_hit, members_hint, t0, want_images,
                    review_format: str = "jpeg", slip_layouts=None):
    text, corners, _orient = qr_hit
    payload, valid, probs = qr_problem_and_payload(text, key, kind_codes_of(lays))
    r = PageReading(kind="evaluation_sheet", qr=payload, qr_valid=valid, qr_text=text,
                    problems=probs + [problem("marks_missing")])
    if payload and payload.get("kind") == "introduction_letter":
        r.kind = "introduction_receipt"
        read_slip(r, bgr, gray, slip_layouts, corners=corners, want_images=want_images)
        r.timings = {"total": time.perf_counter() - t0}
        return r
    cands = [lay for lay in lays if payload and lay.kind == payload["kind"] and lay.version == payload["version"]
             and lay.qr] or [lay for lay in lays if lay.qr]
    if not cands:
        r.timings = {"total": time.perf_counter() - t0}
        return r
    n = module_count(text)
    best = None
    for lay in cands:
        x, y, w, h = align.box_to_canon(lay, lay.qr)
        m = w / (n + 2 * lay.qr_quiet_modules)
        sx, sy, s = x + 4 * m, y + 4 * m, n * m
        dst = np.float32([[sx, sy], [sx + s, sy], [sx + s, sy + s], [sx, sy + s]])
        A, _inl = cv2.estimateAffinePartial2D(corners.astype(np.float32), dst)
        if A is None:
            continue
        H = np.vstack([A, [0, 0, 1]])
        g = align.warp(gray, H, align.canonical_size(lay))
        ink = bx.ink_mask(g)
        finder = bx.BoxFinder(ink, float(np.median([b[2] for *_k, b in lay.all_boxes()])) * align.SCALE)
        dy, located, frac = locate_boxes(finder, lay, r=9, dx_range=(-18, 18))
        score = (frac >= 0.8, frac >= 0.8 and len(located), frac)
        if best is None or score > best[0]:
            best = (score, lay, H, g, ink, dy, located, frac)
    if best is None:
        r.timings = {"total": time.perf_counter() - t0}
        return r
    _s, lay, H, g, ink, dy, located, frac = best
    angle = math.degrees(math.atan2(H[1, 0], H[0, 0]))  # clockwise on screen (y axis down)
    r.rotation_applied = int(round(angle / 90.0)) % 4 * 90
    r.layout_key = lay.key
    if frac < 0.8:
        r.problems.append(problem("layout_mismatch"))
    read_boxes(r, lay, ink, located, frac, gray=g)
    colour = align.warp(bgr, H, align.canonical_size(lay))
    read_areas(r, lay, g, ink, colour, has_colour, dy, want_images)
    if want_images:
        r.normalised_image = review_image(colour, review_format)
    r.timings = {"total": time.perf_counter() - t0}
    return r
