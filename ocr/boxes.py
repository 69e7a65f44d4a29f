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
* ``classify``: the box class (empty, ticked, filled, scribbled, circled, faint, unsure) with a
  confidence; ``decide_item``: one answer per item (or a proposal) and the item's status.

Boxes read empty only past a doubt (``empty_in_doubt``; their item is "unsure", never applied without
a person, whatever the box's confidence): a stroke passing through a box along its row (``pass_through``: a remark's
line or word dipping into item 6, thick or wavering, starting or ending in the box, with gaps between
words; not when ink lies beside the band, ``beside_stroke``: a tick under it), and a faint trace short
of a faint mark (``faint_share``: a pencil tick a heavy scan nearly wiped out is only 5-10% darker than
the paper; a scanner's streak down the page does not count).  A light mark is faint (pencil) only when
it is also far lighter than the box's own printed border (``print_contrast``: a scan that lightens the
page lightens a pale pen with it).
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


def box_features(ink: np.ndarray, x: int, y: int, w: int, *, border_px: int = 3,
                 gray: np.ndarray | None = None) -> dict:
    """Features of the box whose border centre line starts at (x, y) with side w (pixels).

    ``ink``: interior ink ratio; ``solid``: ink ratio of the interior's core (a box blackened
    on purpose is solid, a scribble over it has holes); ``circled``: a stroke encloses the box;
    ``contrast`` (with ``gray``): how much darker than the paper the darkest ink inside is
    (a pencil mark is faint).
    """
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
    solid = 0.0
    if inner.size and min(inner.shape) > 6:
        c = max(2, min(inner.shape) // 5)
        solid = float(inner[c:-c, c:-c].mean())
    # ink just outside the border, left of the box and above/below it (reported, not used: the
    # printed border leaks into these strips as much as a scribble does)
    o0, o1 = border_px + 1, border_px + max(3, w // 8)
    strips = [ink[y:y + w, max(0, x - o1):max(0, x - o0)], ink[max(0, y - o1):max(0, y - o0), x:x + w],
              ink[y + w + o0:y + w + o1, x:x + w]]
    outside = float(np.mean([s_.mean() for s_ in strips if s_.size])) if any(s_.size for s_ in strips) else 0.0
    # faint strokes the binary ink misses (pencil): interior pixels clearly darker than the paper
    faint = 0.0
    contrast = None
    if gray is not None and inner.size:
        gi0 = cv2.GaussianBlur(gray[max(0, y + inset):max(0, y + w - inset + 1),
                                    max(0, x + inset):max(0, x + w - inset + 1)], (5, 5), 0)
        c0 = max(2, min(gi0.shape) // 6) if gi0.size else 0
        gi0 = gi0[c0:-c0, c0:-c0] if gi0.size and min(gi0.shape) > 2 * c0 + 2 else gi0[:0]
        if gi0.size:  # the core only: a border located a pixel off must not count
            faint = faint_share(gi0)
    dark = 0.0
    printed = None
    if gray is not None and inner.size and ratio > EMPTY_MAX / 2:
        gi = gray[max(0, y + inset):max(0, y + w - inset + 1), max(0, x + inset):max(0, x + w - inset + 1)]
        ring = gray[max(0, y - w // 2):min(H, y + w + w // 2), max(0, x - w // 2):min(W, x + w + w // 2)]
        paper = float(np.percentile(ring, 90)) if ring.size else 255.0
        sel = gi[inner.astype(bool)]
        if sel.size:
            contrast = darkness(sel, paper)
            printed = print_contrast(ink, gray, x, y, w, paper)
        if ratio >= FILLED_MIN / 2 and min(gi.shape) > 6:
            # a box blackened on purpose (solid or hatched) is dark all over its core on the gray page
            # (the adaptive ink mask hollows a wide dark area out); a scribble leaves paper between strokes
            c = max(2, min(gi.shape) // 5)
            dark = float((gi[c:-c, c:-c] < paper * (1 - DARK_DEPTH)).mean())
    # ink spilling out of the box on its left (a scribble's loops and strike-through run beyond the
    # box; a fill stays inside; the left of a box is clear paper on our sheets, its label is on the right)
    a0, a1 = border_px + 2, border_px + max(6, w // 4)
    left = ink[y + border_px:y + w - border_px, max(0, x - a1):max(0, x - a0)]
    spill = float(left.mean()) if left.size else 0.0
    beyond = _solid_beyond(ink, x, y, w) if ratio >= FILLED_MIN else 0
    # circled: a stroke that encloses the box (bounding box beyond the border on all sides)
    m = int(w * 0.75)
    X0, Y0, X1, Y1 = max(0, x - m), max(0, y - m), min(W, x + w + m), min(H, y + w + m)
    roi = ink[Y0:Y1, X0:X1]
    circled = False
    if roi.size and ratio <= TICK_MIN:  # a mark inside with a big stroke around it is a mark
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
                sides = (comp[by0 + q0 - w // 4:by0 + q1 + w // 4, :max(0, bx0 - g // 2)].any(),
                         comp[by0 + q0 - w // 4:by0 + q1 + w // 4, bx1 + g // 2:].any(),
                         comp[:max(0, by0 - g // 2), bx0 + q0 - w // 4:bx0 + q1 + w // 4].any(),
                         comp[by1 + g // 2:, bx0 + q0 - w // 4:bx0 + q1 + w // 4].any())
                if all(sides):
                    circled = True
                    break
    through = pass_through(ink, x, y, w, inner, inset, gray) if EMPTY_MAX < ratio <= THROUGH_INK_MAX else 0.0
    return {"ink": ratio, "solid": solid, "circled": circled, "contrast": contrast, "printed": printed,
            "outside": outside,
            "faint": faint, "dark": dark, "spill": spill, "beyond": beyond, "through": through}


THROUGH_INK_MAX = 0.45  # interior ink above this is never taken for a stroke passing through
THROUGH_THIN = 0.5  # the stroke's thickness inside at most this share of the interior side (a felt pen's or a
# wavering line of writing's band is thick)
THROUGH_SPAN = 0.85  # ... it runs across at least this share of the interior (enters and leaves) ...
THROUGH_PART_SPAN = 0.4  # (or across this share from one side: a word starting or ending in the box) ...
THROUGH_SLOPE = 0.6  # ... across the row (|dy/dx| at most this: a line of writing, a stroke along the row)
THROUGH_OUT = 0.6  # it continues this many box sides beyond the border on BOTH sides ...
THROUGH_COVER = 0.55  # ... with ink on at least this share of that path: maybe a pass-through (unsure)
THROUGH_LONG = 1.3  # or it runs on this many box sides beyond the border on ONE side ...
THROUGH_LONG_COVER = 0.85  # ... with ink on at least this share of that path (a word written through the box)
THROUGH_SURE = 0.6  # coverage on both sides at or above: a stroke passing through (empty, in doubt)
THROUGH_CONF = 0.9  # a box read empty past a stroke passing through (``empty_in_doubt``): its item is never
# applied automatically (a pencil tick hidden under the stroke would be lost); a person looks
THROUGH_BESIDE = 0.012  # ink beside the band (per column: other runs, a run longer than the band) above this
# share of the interior: a mark under the stroke (a tick's vertex below a thick band, an arm above it)
THROUGH_DARKENING = 0.1  # a pixel this much (relative) darker than the paper beside the stroke: other ink
THROUGH_REST = 0.03  # other ink inside (binary or faint, off the stroke) above this share of the interior: a mark


def pass_through(ink: np.ndarray, x: int, y: int, w: int, inner: np.ndarray, inset: int,
                 gray: np.ndarray | None = None) -> float:
    """How surely the ink inside the box is ONE thin stroke passing through it (a remark's line dipping
    into the row above, a long careless stroke along the row): the interior ink is a thin band running
    across the whole interior, nothing else is inside (no tick, no pencil mark beside the stroke), and ink
    continues along the same line well outside the box on both sides. 0.0: not a pass-through (a tick,
    cross, dot or fill is confined to the box or its near surroundings); otherwise the lower of the two
    sides' ink coverage along the line."""
    ys, xs = np.nonzero(inner)
    if len(xs) < 8:
        return 0.0
    side = float(min(inner.shape))
    pts = np.stack([xs, ys], axis=1).astype(np.float64)
    c = pts.mean(axis=0)
    vals, vecs = np.linalg.eigh(np.cov((pts - c).T))
    d = vecs[:, 1]  # the major axis (unit)
    if abs(d[0]) < 1e-6 or abs(d[1] / d[0]) > THROUGH_SLOPE:
        return 0.0
    thick = 3.46 * float(np.sqrt(max(vals[0], 0.0)))  # a uniform band of thickness t has sd t / sqrt(12)
    proj = (pts - c) @ d
    span = float(proj.max() - proj.min())
    if thick > THROUGH_THIN * side or span < THROUGH_PART_SPAN * side:
        return 0.0
    sides = (-1, 1)
    if span < THROUGH_SPAN * side:
        # a word starting or ending in the box: the band reaches the interior's edge on the side it comes from
        left, right = (-1, 1) if d[0] > 0 else (1, -1)  # path direction (sign) towards the left / right
        sides = tuple(sg for sg, at in ((left, xs.min() <= 1), (right, xs.max() >= inner.shape[1] - 2)) if at)
        if not sides:
            return 0.0
    nrm = np.array([-d[1], d[0]])
    tol = thick / 2 + 2
    # nothing else inside: binary ink off the band, or (pencil) pixels clearly darker than the paper
    gy, gx = np.mgrid[0:inner.shape[0], 0:inner.shape[1]]
    off = np.abs((gx - c[0]) * nrm[0] + (gy - c[1]) * nrm[1]) > tol + 1
    rest = float((inner.astype(bool) & off).mean())
    if gray is not None:
        gi = gray[y + inset:y + inset + inner.shape[0], x + inset:x + inset + inner.shape[1]]
        if gi.shape == inner.shape:
            gi = cv2.GaussianBlur(gi, (5, 5), 0)
            paper = float(np.percentile(gi, 90))
            dk = cv2.morphologyEx((gi < paper * (1 - THROUGH_DARKENING)).astype(np.uint8), cv2.MORPH_OPEN,
                                  np.ones((2, 2), np.uint8))
            off2 = np.abs((gx - c[0]) * nrm[0] + (gy - c[1]) * nrm[1]) > tol + 3
            rest = max(rest, float((dk.astype(bool) & off2).mean()))
            beside = max(beside_stroke(inner, 2), beside_stroke(dk, 4))
        else:
            beside = beside_stroke(inner, 2)
    else:
        beside = beside_stroke(inner, 2)
    if rest > THROUGH_REST or beside > THROUGH_BESIDE:
        return 0.0
    # follow the line outside the box on both sides (page coordinates), a hand's wobble allowed
    H, W = ink.shape
    cx, cy = c[0] + x + inset, c[1] + y + inset
    half = max(int(round(tol)), w // 6)

    def cover(sign: int, length: float) -> float:
        t0 = (w / 2 + 2) / abs(d[0]) + 3  # from the border (left or right side) on
        hit = n = 0
        for t in np.arange(t0, t0 + length, 1.0):
            px, py = cx + sign * t * d[0], cy + sign * t * d[1]
            n += 1
            qx = int(round(px))
            q0, q1 = int(round(py)) - half, int(round(py)) + half + 1
            if 0 <= qx < W and q1 > 0 and q0 < H and ink[max(0, q0):min(H, q1), qx].any():
                hit += 1
        return hit / n if n else 0.0

    near = min(cover(-1, THROUGH_OUT * w), cover(1, THROUGH_OUT * w)) if len(sides) == 2 else 0.0
    if near >= THROUGH_COVER:
        return float(near)
    # a line of writing: words leave gaps, so the stroke may stop inside the box (a word starting or ending
    # in it) or go on after a gap; then it runs on far along the row on at least one side, unbroken
    far = max(cover(sg, THROUGH_LONG * w) for sg in sides)
    return float(far) if far >= THROUGH_LONG_COVER else float(near)


def darkness(pixels: np.ndarray, paper: float) -> float:
    """How much darker than ``paper`` (relative) ink pixels came out: their 20th percentile, so a few
    light edge pixels do not count.  A mark's ``contrast`` and the printed border's are both measured so."""
    return (paper - float(np.percentile(pixels, 20))) / max(paper, 1.0)


def print_contrast(ink: np.ndarray, gray: np.ndarray, x: int, y: int, w: int, paper: float) -> float | None:
    """How much darker than the paper the box's own printed border came out (``darkness`` of its ink
    pixels): the scanner's tone curve darkens or lightens the print and a pen alike, so
    a mark's contrast is judged against it.  None when the border's ink is not found."""
    H, W = ink.shape
    m = np.zeros(ink.shape, bool)
    for y0, y1, x0, x1 in ((y - 2, y + 3, x, x + w), (y + w - 2, y + w + 3, x, x + w),
                           (y, y + w, x - 2, x + 3), (y, y + w, x + w - 2, x + w + 3)):
        m[max(0, y0):max(0, min(H, y1)), max(0, x0):max(0, min(W, x1))] = True
    sel = gray[m & (ink > 0)]
    if sel.size < 2 * w:
        return None
    return darkness(sel, paper)


def faint_share(core: np.ndarray) -> float:
    """Share of a box's core (gray, blurred) that is a faint stroke: pixels at least FAINT_DARKENING darker
    than the paper around them, specks removed, and without the lines that cross the whole core straight
    down or across (a dirty scanner glass leaves a faint streak down the page; a pencil tick is slanted)."""
    paper = float(np.percentile(core, 90))
    m = cv2.morphologyEx((core < paper * (1 - FAINT_DARKENING)).astype(np.uint8), cv2.MORPH_OPEN,
                         np.ones((2, 2), np.uint8))
    h, w = m.shape
    m[:, m.sum(axis=0) >= STREAK_COVER * h] = 0
    m[m.sum(axis=1) >= STREAK_COVER * w, :] = 0
    return float(m.mean())


def beside_stroke(mask: np.ndarray, slack: int) -> float:
    """Share of ``mask`` (the box interior) that lies beside a band running across it: in each column, the
    ink apart from the column's longest run (a tick's vertex below the band, an arm above it), and the part
    of that run longer than the band's typical thickness (``slack`` pixels allowed; an arm that leaves the
    band)."""
    m = mask.astype(bool)
    if not m.any():
        return 0.0
    extra, longest = 0, []
    for col in m.T:
        idx = np.flatnonzero(col)
        if not idx.size:
            continue
        cut = np.flatnonzero(np.diff(idx) > 1)
        starts, ends = np.r_[idx[0], idx[cut + 1]], np.r_[idx[cut], idx[-1]]
        run = int((ends - starts).max()) + 1
        extra += idx.size - run
        longest.append(run)
    typical = float(np.median(longest))
    extra += sum(max(0.0, r - typical - slack) for r in longest)
    return float(extra) / m.size


def _solid_beyond(ink: np.ndarray, x: int, y: int, w: int, start: int = 2, cover: float = 0.5) -> int:
    """How many pixel lines just outside the box (left; or both above and below) are mostly ink along the
    box's side: a blackened blob larger than the printed square (a cancelling scribble), not a fill."""
    H, W = ink.shape
    counts = []
    for d in ("left", "top", "bottom"):
        k = 0
        while k < w // 2:
            if d == "left":
                xx = x - start - k
                if xx < 0:
                    break
                v = ink[y + 3:y + w - 2, xx].mean()
            else:
                yy = y - start - k if d == "top" else y + w + start + k
                if yy < 0 or yy >= H:
                    break
                v = ink[yy, x + 3:x + w - 2].mean()
            if v < cover:
                break
            k += 1
        counts.append(k)
    return max(counts[0], min(counts[1], counts[2]))


# Box classes (``FieldReading.box_class``); MARKED are the classes that say "this box was marked".
BOX_CLASSES = ("empty", "ticked", "filled", "scribbled", "circled", "faint", "unsure")
MARKED = ("ticked", "filled", "scribbled", "circled", "faint")
FILLED_MIN = 0.55  # interior ink at or above: a heavy box (filled or scribbled out)
SOLID_MIN = 0.92  # core ink at or above (and heavy): filled on purpose; below: scribbled out
DARK_DEPTH = 0.25  # a core pixel this much (relative) darker than the paper is inked (fill test)
DARK_FILLED = 0.97  # share of such core pixels at or above: filled on purpose (with little spill)
BEYOND_MIN = 2  # solid ink this many pixel lines beyond the border: the blob is larger than the box
SPILL_MAX = 0.04  # ink share left of the box at or below: the mark stays inside the box
SPILL_DOUBT = 0.15  # an otherwise empty box with this much ink just left of it (clear paper on our sheets): a
# loop around it or a coil over it whose strokes miss the interior; read empty only past a doubt
FAINT_DARKENING = 0.05  # a pixel this much (relative) darker than the paper carries some ink (heavy scans leave
# a pencil tick only 5-10% darker than the paper)
STREAK_COVER = 0.9  # a column (row) of the core dark over this share of its length: a streak, not a mark
FAINT_MIN = 0.12  # an otherwise empty box with this share of such pixels: faint mark
FAINT_TRACE = 0.06  # ... with this share (less than FAINT_MIN): a trace, maybe a pencil mark a heavy scan nearly
TRACE_CONF = 0.7  # lost; read empty, never with high confidence (below result.CONFIDENT), and its item goes to
# a person (``empty_in_doubt``)
FAINT_CONF = 0.9  # a faint (pencil) mark by its share of faint pixels
FAINT_CONTRAST_CONF = 0.85  # a light mark by its contrast
CIRCLED_CONF = 0.9
UNSURE_CONF = 0.3  # at most: an "unsure" box is no reading
FAINT_MAX = 0.3  # darkest ink inside at most this much darker than the paper (relative): faint (pencil) ...
FAINT_REL_MAX = 0.35  # ... and at most this share of the printed border's contrast (a scan that lightens the
# page lightens a pale pen too).  Graphite stays below ~30% darker than the paper (about a third of a grey
# print's contrast); a pale or faded pen that the ink mask finds whole (purple gel, orange-red, a worn black
# ballpoint) came out 30-45% darker on the report pens' pages (seeds 330000-360029): those are marks
FAINT_PART_MAX = 0.42  # the same limits for a mark the ink mask finds only in part (interior ink under TICK_MIN)
FAINT_PART_REL_MAX = 0.45
PRINT_MIN = 0.5  # the border's contrast taken as at least this (a border not found: 1.0, i.e. contrast alone)


def empty_in_doubt(f: dict) -> bool:
    """The box reads empty only past a doubt: a faint trace short of a faint mark (a pencil tick a heavy scan
    nearly wiped out?), ink just left of it (a loop around it, a correction coiled over it?), or a stroke
    passing through it (a pencil tick under it?).  Its item goes to a person
    (``decide_item``: status "unsure")."""
    if f.get("circled"):
        return False
    if f["ink"] <= EMPTY_MAX:
        return FAINT_TRACE <= f.get("faint", 0.0) < FAINT_MIN or f.get("spill", 0.0) >= SPILL_DOUBT
    return f["ink"] <= THROUGH_INK_MAX and f.get("through", 0.0) >= THROUGH_SURE


def classify(f: dict) -> tuple[str, float]:
    """Features -> (box class, confidence 0..1 that the class is right).

    The confidences of the classes read on a doubt are the share of such boxes read right on the
    development data (hand_fill tuning pens and held-out pens on seeds 900000-939999, 16 000 boxes): a
    faint (pencil) mark 170/170, a stroke passing through 67/67, a circle 150/155, a light mark by its
    contrast 12/13; "unsure" is no reading and stays low.  A faint trace (8/8 there, but it may be what a
    heavy scan left of a pencil mark) is never read empty with high confidence."""
    ink = f["ink"]
    contrast = f.get("contrast")
    if f.get("circled"):
        return "circled", CIRCLED_CONF
    if ink <= EMPTY_MAX and f.get("faint", 0.0) >= FAINT_MIN:
        return "faint", FAINT_CONF
    if empty_in_doubt(f):  # a faint trace, or a stroke passing through: empty, but the item goes to a person
        return "empty", TRACE_CONF if ink <= EMPTY_MAX else THROUGH_CONF
    if ink <= EMPTY_MAX:
        return "empty", float(min(1.0, 1.0 - ink / EMPTY_MAX * 0.15))
    if f.get("through", 0.0) >= THROUGH_COVER:
        return "unsure", UNSURE_CONF
    printed = min(1.0, max(PRINT_MIN, f.get("printed") or 1.0))
    # a light mark: faint (pencil) when far lighter than the paper and the print; a mark the ink mask finds
    # only in part (less than TICK_MIN) is judged by the looser limits (a pale pen's stroke it half loses)
    whole = ink >= TICK_MIN
    if contrast is not None and contrast < (FAINT_MAX if whole else FAINT_PART_MAX) \
            and contrast / printed < (FAINT_REL_MAX if whole else FAINT_PART_REL_MAX):
        return "faint", FAINT_CONTRAST_CONF
    if ink < TICK_MIN:  # "unsure" is never a reading of the box: the confidence stays low
        mid = (EMPTY_MAX + TICK_MIN) / 2
        return "unsure", float(UNSURE_CONF * (1 - abs(ink - mid) / (TICK_MIN - EMPTY_MAX) * 2))
    if ink >= FILLED_MIN:
        spill = f.get("spill", 0.0)
        inside = spill <= SPILL_MAX and f.get("beyond", 0) < BEYOND_MIN
        if inside and f.get("dark", 0.0) >= DARK_FILLED:
            return "filled", float(min(1.0, 0.85 + (f["dark"] - DARK_FILLED) * 3 + (SPILL_MAX - spill) * 1.5))
        if inside and f.get("solid", 1.0) >= SOLID_MIN:
            return "filled", float(min(1.0, 0.8 + (f["solid"] - SOLID_MIN) * 2))
        return "scribbled", float(min(0.95, 0.7 + max(SOLID_MIN - f.get("solid", 0), spill) * 1.5))
    return "ticked", float(min(1.0, 0.8 + (ink - TICK_MIN) * 2.0))


def classify_features(f: dict) -> tuple[str, float]:
    """Features -> ("ticked" | "empty" | "unsure", confidence): the three-valued state kept for
    callers of the first versions (every marked class is "ticked")."""
    cls, conf = classify(f)
    if cls in MARKED:
        return "ticked", conf
    return cls, conf


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
    return classify_features({"ink": ratio, "solid": 1.0 if ratio >= FILLED_MIN else 0.0, "circled": False})


def decide_item(states: list[tuple]) -> tuple[str | None, float, str]:
    """states: [(option_key, state, confidence, features[, box_class])] -> (answer, confidence, status).

    ``answer`` is a PROPOSAL unless status is "ok".  status:

    * "ok": exactly one box marked (ticked or filled), every other box clearly empty;
    * "corrected": one box scribbled out (cancelled) and one other box marked, or one blackened
      box beside one lighter mark: the other (lighter) mark is proposed, a person decides;
    * "circled": one box circled (a stroke around it), nothing else marked: proposed;
    * "faint": one faint (pencil) mark, nothing else marked: proposed;
    * "multiple": two or more marks that no convention resolves (ambiguous);
    * "unsure": a box neither clearly empty nor clearly marked, or a lone scribbled-looking box
      (proposed: a box filled by hatching looks like one), or one mark beside a box read empty only past
      a doubt (``empty_in_doubt``: proposed);
    * "none": nothing marked (or only a cancelled box).
    """
    def cls(s):
        return s[4] if len(s) > 4 else {"ticked": "ticked"}.get(s[1], s[1])

    classes = [cls(s) for s in states]
    marked = [s for s, c in zip(states, classes) if c in ("ticked", "filled")]
    scribbled = [s for s, c in zip(states, classes) if c == "scribbled"]
    circled = [s for s, c in zip(states, classes) if c == "circled"]
    faint = [s for s, c in zip(states, classes) if c == "faint"]
    unsure = [s for s, c in zip(states, classes) if c == "unsure"]
    base = min((s[2] for s in states), default=0.0)
    n_marks = len(marked) + len(scribbled) + len(circled) + len(faint)
    doubt = any(c == "empty" and len(s) > 3 and isinstance(s[3], dict) and s[3] and empty_in_doubt(s[3])
                for s, c in zip(states, classes))
    if n_marks == 1 and not unsure:
        if marked and doubt:  # the other boxes read empty only past a doubt: proposed, a person decides
            return marked[0][0], min(0.6, base), "unsure"
        if marked:
            return marked[0][0], base, "ok"
        if circled:
            return circled[0][0], min(0.6, base), "circled"
        if faint:
            return faint[0][0], min(0.5, base), "faint"
        # only a heavy box that looks scribbled: a box filled by hatching, or an answer cancelled and
        # none given; proposed, a person decides
        return scribbled[0][0], min(0.4, base), "unsure"
    if len(scribbled) == 1 and len(marked) + len(circled) + len(faint) == 1 and not unsure:
        keep = (marked + circled + faint)[0]
        return keep[0], min(0.6, base), "corrected"
    heavy = [s for s, c in zip(states, classes) if c == "filled"]
    light = [s for s, c in zip(states, classes) if c in ("ticked", "circled", "faint")]
    if len(heavy) == 1 and len(light) == 1 and not scribbled and not unsure:
        # a blackened box beside a lighter mark: most often a mark cancelled by blackening it and
        # another made (a dense scribble looks filled); proposed only, a person decides
        return light[0][0], min(0.5, base), "corrected"
    if n_marks >= 2:
        return None, 0.0, "multiple"
    if unsure:
        return None, 0.4 if n_marks else 0.3, "unsure"
    return None, 0.0, "none"
