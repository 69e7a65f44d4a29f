"""Tick boxes: finding the printed squares on the normalised page and reading them.

* ``ink_mask(gray)``: binary ink of the normalised page (adaptive threshold,
  speckles removed).
* ``BoxFinder``: a score map of "a square of this size has its top-left
  corner here" built from horizontal and vertical line responses; the rigid
  pattern of all boxes of a layout is searched for a vertical shift (a long
  name or address that wraps pushes the items down) and each box is then
  refined locally.
* ``box_features`` / ``classify_box``: ink inside the box (ticks, crosses,
  fills, scribbles) and an enclosing stroke around it (circled box).
* ``decide_item``: one answer per item, or none when unsure.
"""
from __future__ import annotations

import cv2
import numpy as np

EMPTY_MAX = 0.04  # interior ink ratio at or below: empty
TICK_MIN = 0.08  # at or above: ticked
HEAVY_MIN = 0.6  # a filled or scribbled-out box


def ink_mask(gray: np.ndarray) -> np.ndarray:
    """uint8 0/1 ink mask of a (normalised) page."""
    g = cv2.medianBlur(gray, 3)
    th = cv2.adaptiveThreshold(g, 1, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, 41, 18)
    # very light pages (faded): also drop what is not clearly darker than paper
    return th


def clean(mask: np.ndarray) -> np.ndarray:
    return cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((2, 2), np.uint8))


class BoxFinder:
    def __init__(self, ink: np.ndarray, box_px: float):
        self.ink = ink
        self.w = int(round(box_px))
        w = self.w
        k = max(5, int(w * 0.55))
        hmap = cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((1, k), np.uint8)).astype(np.float32)
        vmap = cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((k, 1), np.uint8)).astype(np.float32)
        inner = max(3, w - 6)
        # fraction of a border strip (inner length x 5 px across) that is line, /3 for a ~3 px stroke
        fh = cv2.boxFilter(hmap, -1, (inner, 5), normalize=False, borderType=cv2.BORDER_CONSTANT) / (inner * 3.0)
        fv = cv2.boxFilter(vmap, -1, (5, inner), normalize=False, borderType=cv2.BORDER_CONSTANT) / (inner * 3.0)
        np.minimum(fh, 1.0, out=fh)
        np.minimum(fv, 1.0, out=fv)
        H, W = ink.shape
        pad = w + 2
        fhp = np.zeros((H + pad, W + pad), np.float32)
        fvp = np.zeros((H + pad, W + pad), np.float32)
        fhp[:H, :W] = fh
        fvp[:H, :W] = fv
        c = w // 2
        # S[y, x]: box with top-left border centre at (x, y)
        self.score = (fhp[:H, c:c + W] + fhp[w:w + H, c:c + W] + fvp[c:c + H, :W] + fvp[c:c + H, w:w + W]) / 4.0

    def search(self, boxes_px: list[tuple[float, float]], dy_range: tuple[int, int], r: int = 5,
               dx_range: tuple[int, int] = (0, 0)):
        """Best common shift (dx, dy) of all boxes; returns (dx, dy, mean score)."""
        S = self.score
        M = cv2.dilate(S, np.ones((2 * r + 1, 2 * r + 1), np.uint8))
        H, W = S.shape
        xs = np.array([int(round(b[0])) for b in boxes_px])
        ys = np.array([int(round(b[1])) for b in boxes_px])
        best = (-1.0, 0, 0)
        dys = np.arange(dy_range[0], dy_range[1] + 1, 2)
        for dx in range(dx_range[0], dx_range[1] + 1, max(1, r)):
            xx = np.clip(xs + dx, 0, W - 1)
            yy = np.clip(ys[:, None] + dys[None, :], 0, H - 1)
            vals = M[yy, xx[:, None]]  # boxes x dys
            tot = vals.mean(axis=0) - 0.0004 * np.abs(dys) - 0.0004 * abs(dx)
            i = int(np.argmax(tot))
            if tot[i] > best[0]:
                best = (float(tot[i]), int(dys[i]), dx)
        # fine step
        _, dy0, dx0 = best
        fine = best
        for dy in range(dy0 - 1, dy0 + 2):
            yy = np.clip(ys + dy, 0, H - 1)
            xx = np.clip(xs + dx0, 0, W - 1)
            v = float(M[yy, xx].mean()) - 0.0004 * abs(dy) - 0.0004 * abs(dx0)
            if v > fine[0]:
                fine = (v, dy, dx0)
        return fine[2], fine[1], fine[0]

    def refine(self, x: float, y: float, r: int = 5) -> tuple[int, int, float]:
        S = self.score
        H, W = S.shape
        x0, y0 = max(0, int(round(x)) - r), max(0, int(round(y)) - r)
        x1, y1 = min(W, int(round(x)) + r + 1), min(H, int(round(y)) + r + 1)
        win = S[y0:y1, x0:x1]
        if win.size == 0:
            return int(x), int(y), 0.0
        i = int(np.argmax(win))
        yy, xx = divmod(i, win.shape[1])
        return x0 + xx, y0 + yy, float(win[yy, xx])


def box_features(ink: np.ndarray, x: int, y: int, w: int, *, border_px: int = 3) -> dict:
    """Features of the box whose border centre line starts at (x, y) with side w (pixels)."""
    H, W = ink.shape
    inset = border_px // 2 + 3
    inner = ink[max(0, y + inset):max(0, y + w - inset + 1), max(0, x + inset):max(0, x + w - inset + 1)]
    if inner.size:
        inner = inner.copy()
        # a border that leaks into the interior (box located a pixel or two off): drop
        # nearly full rows/columns in the outer band, unless the box is filled anyway
        band = max(2, w // 8)
        if inner.mean() < 0.6:
            rows, cols = inner.mean(axis=1), inner.mean(axis=0)
            for k in list(range(band)) + list(range(inner.shape[0] - band, inner.shape[0])):
                if 0 <= k < inner.shape[0] and rows[k] > 0.6:
                    inner[k, :] = 0
            for k in list(range(band)) + list(range(inner.shape[1] - band, inner.shape[1])):
                if 0 <= k < inner.shape[1] and cols[k] > 0.6:
                    inner[:, k] = 0
    ratio = float(inner.mean()) if inner.size else 0.0
    # circled: a stroke that encloses the box (bounding box beyond the border on all sides)
    m = int(w * 0.75)
    X0, Y0, X1, Y1 = max(0, x - m), max(0, y - m), min(W, x + w + m), min(H, y + w + m)
    roi = ink[Y0:Y1, X0:X1]
    circled = False
    if roi.size and ratio <= TICK_MIN:
        n, lab, stats, _c = cv2.connectedComponentsWithStats(roi, connectivity=8)
        bx0, by0, bx1, by1 = x - X0, y - Y0, x - X0 + w, y - Y0 + w
        g = max(4, w // 8)
        q0, q1 = w // 4, 3 * w // 4  # the middle half of each side
        for i in range(1, n):
            sx, sy, sw, sh, area = stats[i]
            if sx <= bx0 - g and sy <= by0 - g and sx + sw >= bx1 + g and sy + sh >= by1 + g \
                    and area >= 1.5 * w:
                comp = lab == i
                # the stroke passes outside the box on all four sides, near each side's middle
                # (text above/beside a box merged with its border does not)
                if comp[by0 + q0 - w // 4:by0 + q1 + w // 4, :max(0, bx0 - g // 2)].any() \
                        and comp[by0 + q0 - w // 4:by0 + q1 + w // 4, bx1 + g // 2:].any() \
                        and comp[:max(0, by0 - g // 2), bx0 + q0 - w // 4:bx0 + q1 + w // 4].any() \
                        and comp[by1 + g // 2:, bx0 + q0 - w // 4:bx0 + q1 + w // 4].any():
                    circled = True
                    break
    return {"ink": ratio, "circled": circled}


def classify_features(f: dict) -> tuple[str, float]:
    ink = f["ink"]
    if ink >= TICK_MIN:
        return "ticked", float(min(1.0, 0.8 + (ink - TICK_MIN) * 2.0))
    if f.get("circled"):
        return "ticked", 0.85
    if ink <= EMPTY_MAX:
        return "empty", float(min(1.0, 1.0 - ink / EMPTY_MAX * 0.15))
    # in between: faint or a stray mark
    mid = (EMPTY_MAX + TICK_MIN) / 2
    return "unsure", float(0.5 - abs(ink - mid) / (TICK_MIN - EMPTY_MAX))


def classify_box(crop) -> tuple[str, float]:
    """Classify a crop of ONE tick box (its printed border roughly at the crop's edges).

    Returns ("ticked" | "empty" | "unsure", confidence).  Ticks, crosses,
    fills and scribbles count as ticked (item-level logic decides what a
    scribbled-out box next to another ticked one means).
    """
    from .align import to_arrays
    _bgr, gray, _c = to_arrays(crop)
    h, w = gray.shape
    g = cv2.GaussianBlur(gray, (3, 3), 0)
    thr = min(160, int(np.percentile(g, 95)) - 60) if g.size else 128
    ink = (g < max(60, thr)).astype(np.uint8)
    ink = clean(ink)
    side = min(h, w)
    # locate the border: the rows/columns with most ink near each edge
    inset = max(3, int(round(side * 0.18)))
    inner = ink[inset:h - inset, inset:w - inset]
    ratio = float(inner.mean()) if inner.size else 0.0
    return classify_features({"ink": ratio, "circled": False})


def decide_item(states: list[tuple[str, str, float, dict]]) -> tuple[str | None, float, str]:
    """states: [(option_key, state, confidence, features)] -> (answer, confidence, status).

    status: "ok" | "cancelled" (a scribbled-out box beside one ticked box: the other wins)
    | "none" (nothing ticked) | "multiple" | "unsure".
    """
    ticked = [s for s in states if s[1] == "ticked"]
    unsure = [s for s in states if s[1] == "unsure"]
    base = min((s[2] for s in states), default=0.0)
    if len(ticked) == 1 and not unsure:
        return ticked[0][0], base, "ok"
    if len(ticked) == 2 and not unsure:
        heavy = [s for s in ticked if s[3]["ink"] >= HEAVY_MIN]
        light = [s for s in ticked if TICK_MIN <= s[3]["ink"] < HEAVY_MIN * 0.8]
        if len(heavy) == 1 and len(light) == 1:
            return light[0][0], min(0.9, base), "cancelled"
        return None, 0.0, "multiple"
    if len(ticked) > 2:
        return None, 0.0, "multiple"
    if len(ticked) == 1 and unsure:
        return None, 0.4, "unsure"
    if not ticked and unsure:
        return None, 0.3, "unsure"
    return None, 0.0, "none"
