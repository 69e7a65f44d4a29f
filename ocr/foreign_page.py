"""A photographed page laid flat: the sheet found by its edges against what it lies on, and the
perspective taken out, before a retyped form is OCR'd (:mod:`ocr.foreign`).

Our own sheets are straightened by their corner marks (:mod:`ocr.align`); a form a cell retyped has
none, so the page's own outline is used: the largest bright quadrilateral of the photo.
"""
from __future__ import annotations

import cv2
import numpy as np

A4_RATIO = 297 / 210


def page_quad(gray: np.ndarray) -> np.ndarray | None:
    """The page's four corners (top-left, top-right, bottom-right, bottom-left; float32, image pixels)
    when the photo shows a sheet on a darker ground with its edges inside the frame, else None (a
    scan, or a page that fills the frame)."""
    h, w = gray.shape
    f = 500 / max(h, w)
    s = cv2.GaussianBlur(cv2.resize(gray, None, fx=f, fy=f, interpolation=cv2.INTER_AREA), (5, 5), 0)
    t, _th = cv2.threshold(s, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    lo, hi = s[s < t], s[s >= t]
    if len(lo) and len(hi):  # nearer the ground than Otsu's cut: the sheet's shadowed corners stay sheet
        t = float(np.median(lo)) + 0.4 * (float(np.median(hi)) - float(np.median(lo)))
    th = cv2.morphologyEx((s > t).astype(np.uint8) * 255, cv2.MORPH_CLOSE, np.ones((9, 9), np.uint8))
    # the sheet's outline by brightness, and by its edges (a corner in shadow is as dark as the ground
    # elsewhere, but its edge is still there): the largest four-sided outline of the two
    edges = cv2.dilate(cv2.Canny(s, 15, 45), np.ones((3, 3), np.uint8))
    best = None
    for mask in (th, edges):
        cnts, _h = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        if not cnts:
            continue
        hull = cv2.convexHull(max(cnts, key=lambda c: cv2.contourArea(cv2.convexHull(c))))
        area = cv2.contourArea(hull)
        if not 0.25 * s.size <= area <= 0.93 * s.size:
            continue
        quad = cv2.approxPolyDP(hull, 0.02 * cv2.arcLength(hull, True), True)
        if len(quad) == 4 and (best is None or area > best[0]):
            best = (area, quad)
    if best is None:
        return None
    quad = best[1]
    pts = quad.reshape(4, 2).astype(np.float32) / f
    # the ground must be clearly darker than the sheet (else the "edges" are shadows on a scan)
    inside = np.zeros_like(s)
    cv2.fillConvexPoly(inside, quad.reshape(4, 2), 255)
    if not len(s[inside == 0]) or np.median(s[inside == 0]) > 0.75 * np.median(s[inside > 0]):
        return None
    o = np.zeros((4, 2), np.float32)
    sm, df = pts.sum(axis=1), np.diff(pts, axis=1).ravel()
    o[0], o[2] = pts[np.argmin(sm)], pts[np.argmax(sm)]
    o[1], o[3] = pts[np.argmin(df)], pts[np.argmax(df)]
    return o


def lay_flat(gray: np.ndarray, extra: np.ndarray | None = None):
    """(gray, extra, whether it was laid flat): the sheet's quadrilateral warped to an upright
    rectangle of its own size (each side as long as the quadrilateral's longer one), the ground cut
    away; ``extra`` (the colour image) warped alike.  A page without a visible outline is returned as it is."""
    q = page_quad(gray)
    if q is None:
        return gray, extra, False
    wt, wb = np.linalg.norm(q[1] - q[0]), np.linalg.norm(q[2] - q[3])
    hl, hr = np.linalg.norm(q[3] - q[0]), np.linalg.norm(q[2] - q[1])
    W, H = int(max(wt, wb)), int(max(hl, hr))
    if min(W, H) < 200:
        return gray, extra, False
    dst = np.float32([[0, 0], [W - 1, 0], [W - 1, H - 1], [0, H - 1]])
    M = cv2.getPerspectiveTransform(q, dst)
    out = cv2.warpPerspective(gray, M, (W, H), flags=cv2.INTER_LINEAR, borderValue=255)
    if extra is not None:
        extra = cv2.warpPerspective(extra, M, (W, H), flags=cv2.INTER_LINEAR, borderValue=(255, 255, 255))
    return out, extra, True
