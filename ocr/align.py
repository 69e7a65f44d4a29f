"""Page normalisation: corner marks, orientation and the homography to the canonical page.

The canonical page is the layout's page at ``DPI`` pixels per inch: a point
``(x, y)`` of the layout (points from the top-left mark centre) is the pixel
``((origin_x + x) * s, (origin_y + y) * s)`` with ``s = DPI / 72``.
"""
from __future__ import annotations

import cv2
import numpy as np

from .layout import Layout
from .photo import flatten_illumination

DPI = 150
SCALE = DPI / 72.0

# Orientation: the page as seen in the image may be rotated by 0/90/180/270
# degrees clockwise; ROTATION_ASSIGN[r] gives, for the image's corners in the
# order (top-left, top-right, bottom-right, bottom-left), which page corner
# each one is.
_PAGE_CORNERS = ("tl", "tr", "br", "bl")


def to_arrays(image) -> tuple[np.ndarray, np.ndarray, bool]:
    """(bgr, gray, has_colour) from a numpy array (gray/BGR/BGRA) or a PIL image.

    ``gray`` of a whole page lit unevenly (a phone photo) has its light evened out
    (:func:`ocr.photo.flatten_illumination`); ``bgr`` stays as taken (the reviewer's picture)."""
    if not isinstance(image, np.ndarray):
        from PIL import Image
        if isinstance(image, Image.Image):
            im = image
            if im.mode in ("1", "L", "I", "I;16", "F"):
                arr = np.asarray(im.convert("L"))
            else:
                arr = np.asarray(im.convert("RGB"))[:, :, ::-1]
            image = np.ascontiguousarray(arr)
        else:
            raise TypeError("image must be a numpy array or a PIL image")
    if image.dtype != np.uint8:
        image = np.clip(image, 0, 255).astype(np.uint8)
    if image.ndim == 2:
        bgr = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
        return bgr, _evened(image), False
    if image.shape[2] == 4:
        image = cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    elif image.shape[2] == 1:
        return to_arrays(image[:, :, 0])
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    # colour present at all? (a gray scan stored as RGB has b == g == r)
    small = image[::8, ::8].astype(np.int16)
    spread = np.abs(small[:, :, 2] - small[:, :, 0]) + np.abs(small[:, :, 1] - small[:, :, 0])
    return image, _evened(gray), bool((spread > 40).mean() > 0.0005)


PAGE_MIN_SIDE = 800  # images with a shorter long side are crops (one box), never evened out


def _evened(gray: np.ndarray) -> np.ndarray:
    return flatten_illumination(gray) if max(gray.shape) >= PAGE_MIN_SIDE else gray


def canonical_size(layout: Layout) -> tuple[int, int]:
    w, h = layout.page_size
    return int(round(w * SCALE)), int(round(h * SCALE))


def to_canon(layout: Layout, x: float, y: float) -> tuple[float, float]:
    return ((layout.origin[0] + x) * SCALE, (layout.origin[1] + y) * SCALE)


def box_to_canon(layout: Layout, box) -> tuple[float, float, float, float]:
    x, y = to_canon(layout, box[0], box[1])
    return (x, y, box[2] * SCALE, box[3] * SCALE)


def _binarise_for_marks(gray: np.ndarray, adaptive: bool) -> np.ndarray:
    g = cv2.GaussianBlur(gray, (3, 3), 0)
    if adaptive:
        block = max(31, (max(gray.shape) // 25) | 1)
        return cv2.adaptiveThreshold(g, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, block, 15)
    _, th = cv2.threshold(g, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    return th


def _mark_candidates(th: np.ndarray) -> list[tuple[float, float, float]]:
    h, w = th.shape
    md = max(h, w)
    lo, hi = 0.006 * md, 0.06 * md
    contours, _ = cv2.findContours(th, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    out = []
    for c in contours:
        if len(c) < 4:
            continue
        x, y, bw, bh = cv2.boundingRect(c)
        if bw < lo or bh < lo or bw > hi * 1.5 or bh > hi * 1.5:
            continue
        (cx, cy), (rw, rh), _ang = cv2.minAreaRect(c)
        if rw < lo or rh < lo or rw > hi or rh > hi:
            continue
        if not 0.7 < rw / rh < 1.43:
            continue
        area = cv2.contourArea(c)
        if area < 0.82 * rw * rh:
            continue
        # solid inside (not a hollow box)
        roi = th[int(cy - rh * 0.3):int(cy + rh * 0.3) + 1, int(cx - rw * 0.3):int(cx + rw * 0.3) + 1]
        if roi.size == 0 or roi.mean() < 0.85 * 255:
            continue
        out.append((float(cx), float(cy), float((rw + rh) / 2)))
    return out


OPPOSITE_SIDES_MIN = 0.75
CORNER_COS_MAX = 0.34  # |cos| of a corner's angle at most this (70-110 degrees)


def _pick_corners(cands, img_shape, expected_ratio: float):
    if len(cands) < 4:
        return None
    tl = min(cands, key=lambda c: c[0] + c[1])
    br = max(cands, key=lambda c: c[0] + c[1])
    tr = max(cands, key=lambda c: c[0] - c[1])
    bl = min(cands, key=lambda c: c[0] - c[1])
    quad = [tl, tr, br, bl]
    if len({(round(c[0]), round(c[1])) for c in quad}) < 4:
        return None
    sizes = [c[2] for c in quad]
    if max(sizes) > 1.9 * min(sizes):
        return None
    pts = np.array([c[:2] for c in quad], dtype=np.float32)
    if not cv2.isContourConvex(pts.reshape(-1, 1, 2)):
        return None
    area = cv2.contourArea(pts)
    if area < 0.06 * img_shape[0] * img_shape[1]:
        return None
    top = np.linalg.norm(pts[1] - pts[0])
    bottom = np.linalg.norm(pts[2] - pts[3])
    left = np.linalg.norm(pts[3] - pts[0])
    right = np.linalg.norm(pts[2] - pts[1])
    # opposite sides of similar length (a photo's keystone is mild): a solid filled tick box picked as
    # one corner when that mark was lost in a shadow makes one side far shorter than its opposite
    if min(top, bottom) < OPPOSITE_SIDES_MIN * max(top, bottom) or \
            min(left, right) < OPPOSITE_SIDES_MIN * max(left, right):
        return None
    # corners near a right angle: a hand-held photo's keystone is mild; a stray blob picked for a corner
    # lost in the shadow bends the quadrilateral (seen: 121 degrees)
    worst_cos = 0.0
    for i in range(4):
        a, b = pts[i - 1] - pts[i], pts[(i + 1) % 4] - pts[i]
        cos = float(np.dot(a, b) / max(1e-6, np.linalg.norm(a) * np.linalg.norm(b)))
        if abs(cos) > CORNER_COS_MAX:
            return None
        worst_cos = max(worst_cos, abs(cos))
    horiz, vert = (top + bottom) / 2, (left + right) / 2
    ratio = min(horiz, vert) / max(horiz, vert)
    if not expected_ratio * 0.75 < ratio < min(1.0, expected_ratio * 1.3):
        return None
    # marks are about 1/30 of the mark rectangle's long side (5 mm of 275 mm)
    mean_size = float(np.mean(sizes))
    if not 0.008 < mean_size / max(horiz, vert) < 0.06:
        return None
    # how far from four equal marks at right angles (0 for a flat scan): a filled tick box taken for a
    # corner mark lost in a photo's glare passes the checks above but is smaller and bends a corner
    misfit = worst_cos + (max(sizes) / min(sizes) - 1.0)
    return pts, mean_size, horiz > vert, misfit


CLEAR_FIT = 0.25  # corner marks whose misfit is at most this are taken without trying another binarisation


def find_corner_marks(gray: np.ndarray, expected_ratio: float = 0.559):
    """Centres of the four corner marks in image order TL, TR, BR, BL, the mark size and
    whether the mark rectangle is landscape; or None."""
    h, w = gray.shape
    f = min(1.0, 1400.0 / max(h, w))
    small = cv2.resize(gray, (int(w * f), int(h * f)), interpolation=cv2.INTER_AREA) if f < 1 else gray
    best = None
    for adaptive in (False, True):
        th = _binarise_for_marks(small, adaptive)
        got = _pick_corners(_mark_candidates(th), th.shape, expected_ratio)
        if got and (best is None or got[3] < best[3]):
            best = got
        if best is not None and best[3] <= CLEAR_FIT:
            break
    if best is None:
        return None
    pts, size, landscape, _misfit = best
    pts = _refine_centres(gray, pts / f, size / f)
    return pts, size / f, landscape


def _refine_centres(gray, pts, size):
    """Centroid of the dark blob in a window around each coarse centre (full resolution)."""
    out = []
    r = int(size * 0.9) + 2
    for (x, y) in pts:
        x0, y0 = max(0, int(x) - r), max(0, int(y) - r)
        roi = gray[y0:int(y) + r + 1, x0:int(x) + r + 1]
        if roi.size == 0:
            out.append((x, y))
            continue
        _, th = cv2.threshold(roi, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
        n, lab, stats, cents = cv2.connectedComponentsWithStats(th)
        if n <= 1:
            out.append((x, y))
            continue
        # component nearest to the coarse centre, of plausible size
        best, bd = None, 1e9
        for i in range(1, n):
            if stats[i, cv2.CC_STAT_AREA] < 0.3 * size * size:
                continue
            d = np.hypot(cents[i][0] + x0 - x, cents[i][1] + y0 - y)
            if d < bd:
                best, bd = i, d
        if best is None or bd > size * 0.6:
            out.append((x, y))
        else:
            out.append((cents[best][0] + x0, cents[best][1] + y0))
    return np.array(out, dtype=np.float32)


def rotation_candidates(landscape: bool) -> list[int]:
    return [90, 270] if landscape else [0, 180]


def homography_for(img_pts: np.ndarray, layout: Layout, rotation: int, scale: float = SCALE,
                   offset: tuple[float, float] = (0.0, 0.0)) -> np.ndarray:
    """Homography image -> canonical page (at ``scale`` px/pt, shifted by ``-offset`` px).

    ``rotation`` is how the page appears rotated in the image (clockwise
    degrees); img_pts are the mark centres in image order TL, TR, BR, BL.
    """
    k = {0: 0, 90: 1, 180: 2, 270: 3}[rotation]
    # the page corner shown at image corner i is _PAGE_CORNERS[(i - k) % 4]
    dst = []
    for i in range(4):
        pc = _PAGE_CORNERS[(i - k) % 4]
        mx, my = layout.marks[pc]
        dst.append(((layout.origin[0] + mx) * scale - offset[0], (layout.origin[1] + my) * scale - offset[1]))
    return cv2.getPerspectiveTransform(img_pts.astype(np.float32), np.array(dst, dtype=np.float32))


def warp(img: np.ndarray, H: np.ndarray, size: tuple[int, int], border=255) -> np.ndarray:
    bv = (border, border, border) if img.ndim == 3 else border
    return cv2.warpPerspective(img, H, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                               borderValue=bv)


def region_homography(H: np.ndarray, canon_box, out_scale: float) -> tuple[np.ndarray, tuple[int, int]]:
    """Homography image -> a crop of the canonical page (canon_box in canonical px),
    rendered at ``out_scale`` times the canonical resolution."""
    x, y, w, h = canon_box
    A = np.array([[out_scale, 0, -x * out_scale], [0, out_scale, -y * out_scale], [0, 0, 1]], dtype=np.float64)
    return A @ H, (max(1, int(round(w * out_scale))), max(1, int(round(h * out_scale))))
