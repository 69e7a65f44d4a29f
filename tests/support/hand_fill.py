"""An INDEPENDENT fill model: sheets filled by hands the reader was never tuned on.

Written apart from the reader (``ocr/``) and from the project's own generator
(:mod:`tests.support.synthetic_sheets`, whose marks the reader's thresholds were
first tuned on).  Only the rendered blank sheets and their layouts (where each
printed box is, in points) are shared: every stroke, ink, paper and camera model
here is its own.  The reader's code is never imported for drawing.

    from tests.support import hand_fill as hf
    img, truth = hf.make_page(source, seed=3, level="medium")      # scanned
    img, truth = hf.make_page(source, seed=3, level="phone")       # photographed
    img, truth = hf.blank_sheet(source, seed=3, level="phone")     # blank / show-through

Hands (a random one per page, :func:`random_hand`): pen colour (blue, black,
red, green ballpoint, felt pen, graphite pencil), stroke width, mark size
(from timid to overflowing the box), tremor.  Mark styles (:data:`STYLES`):

* ``tick``, ``cross``, ``slash``, ``dot``: a marked box (class "ticked");
* ``fill``: the box blackened on purpose (class "filled");
* ``circle``: a stroke drawn AROUND the box, nothing inside (class "circled");
* ``pencil``: a tick in light graphite (class "faint");
* ``overflow``: a large tick whose tail runs over the neighbouring text.

Three pen sets (``pens=``): "tuning" (looked at while changing the reader), "heldout" (other inks and
strokes, kept out of the tuning runs) and "report" (run ONCE at the end, never tuned on: inks
:data:`REPORT_PENS`, strokes :data:`REPORT_HAND`, the same classes drawn in other shapes, :data:`REPORT_STYLES`:
``hook_tick``, ``split_cross``, ``outside_check``, ``backslash``, ``ring_dot`` -> ticked; ``zigzag_fill`` ->
filled; ``open_loop`` -> circled; ``dry_tick`` -> faint; a correction is a ``coil``), scanned by the report
scanner (``model="report"`` of :func:`scan` / :func:`photograph`).

Item habits (:func:`fill_sheet`): one clean mark (most items); a correction
(one box scribbled out to cancel it, another marked: the reader must propose the
other and send it to review); two marks (ambiguous); no mark; a circled box;
a pencil mark; a stroke that crosses into the next box's row; a remark written
in "Nhận xét khác" whose first line dips into item 6's row (on a sheet that printed the year's
absences ahead of the writing lines, the remark goes on the lines left free below them).

Truth (per page): ``answers`` (what the hand meant, None for no answer),
``expected`` (what may be applied without a person: the meant answer for a
clean mark, None when a person must decide), ``doubt`` (items a careful reader
must send to review), ``habits`` (item -> habit), ``boxes`` (``item.option`` ->
"empty" | "ticked" | "filled" | "scribbled" | "circled" | "faint"),
``styles`` (item -> style of the meant mark), ``remarks`` (writing in item 7).

Degradation (:func:`scan` / :func:`photograph`): scans at light, medium, heavy
(own models: skew, gamma, toner streaks, dust, blur, JPEG, 200-300 dpi, quarter
turns) and phone photos (perspective from a hand-held camera, a soft shadow
of the phone, vignetting, colour cast, sensor noise, JPEG, 200 dpi-equivalent).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

LEVELS = ("light", "medium", "heavy", "phone")
STYLES = ("tick", "cross", "slash", "dot", "fill", "circle", "pencil", "overflow")
CLEAN_STYLES = ("tick", "cross", "slash", "dot", "fill", "overflow")
BOX_CLASS = {"tick": "ticked", "cross": "ticked", "slash": "ticked", "dot": "ticked", "overflow": "ticked",
             "fill": "filled", "circle": "circled", "pencil": "faint"}
HABITS = ("clean", "correction", "double", "none", "circle", "pencil", "crossing")

# pens as BGR (ballpoint inks are not black: blue, black, red, green), and graphite
PENS = {"blue": (150, 60, 25), "black": (35, 30, 30), "red": (40, 35, 175), "green": (70, 120, 30),
        "felt_blue": (170, 70, 10)}
PENCIL = (150, 150, 150)
# a second set of hands kept out of every tuning run (bench/ocr.py --pens heldout): other inks (violet, brown,
# a pale sky-blue gel, a worn grey felt pen), thinner and broader strokes, shakier hands, marks from tiny to
# far overflowing
HELD_OUT_PENS = {"violet": (140, 50, 110), "brown": (40, 70, 120), "sky_gel": (200, 140, 60),
                 "grey_felt": (80, 80, 80)}
HELD_OUT_HAND = {"width": (0.04, 0.13), "size": (0.6, 1.35), "tremor": (0.0, 0.045)}
# a third set of hands for REPORTING ONLY (bench/ocr.py --pens report; never looked at while tuning): other
# inks (a dark purple gel, a faded black ballpoint that skips, a navy felt-tip, an orange-red), strokes thinner
# and broader than the held-out range, lighter and heavier pressure, and marks of the same classes drawn in
# other SHAPES (:data:`REPORT_STYLES`); its pages are scanned by the report scanner (:func:`scan`,
# ``model="report"``: yellowish paper, a copier's grey background, 150 / 200 / 300 dpi steps, a lid shadow)
REPORT_PENS = {"purple_gel": (95, 25, 75), "faded_black": (78, 74, 70), "navy_felt": (110, 35, 5),
               "orange_red": (35, 85, 215)}
REPORT_HAND = {"width": (0.03, 0.16), "size": (0.55, 1.45), "tremor": (0.0, 0.05), "pressure": (0.55, 1.0)}
# report shapes -> class: a tick with a hook at its start, a cross of two short strokes that do not meet in
# the middle, a check starting outside the box, a backslash (top left to bottom right), a dot drawn as a small
# ring, a box filled with zig-zag hatching, an open loop around the box, a tick of a nearly dry pen, and a
# correction coiled over the box
REPORT_STYLES = ("hook_tick", "split_cross", "outside_check", "backslash", "ring_dot", "zigzag_fill",
                 "open_loop", "dry_tick")
REPORT_CLEAN_STYLES = ("hook_tick", "split_cross", "outside_check", "backslash", "ring_dot", "zigzag_fill")
BOX_CLASS.update({"hook_tick": "ticked", "split_cross": "ticked", "outside_check": "ticked", "backslash": "ticked",
                  "ring_dot": "ticked", "zigzag_fill": "filled", "open_loop": "circled", "dry_tick": "faint"})
# the mark a habit draws, per pen set: (circle habit, pencil habit, correction, second mark of a double)
_HABIT_SHAPES = {"tuning": ("circle", "pencil", "scribble", "tick"),
                 "heldout": ("circle", "pencil", "scribble", "tick"),
                 "report": ("open_loop", "dry_tick", "coil", "hook_tick")}


@dataclass
class Hand:
    pen: tuple
    width: float  # stroke width as a fraction of the box side
    size: float  # mark size as a fraction of the box side (1.0 = fills the box, >1 overflows)
    tremor: float
    favourite: str
    pens: str = "tuning"  # the pen set the hand comes from ("tuning", "heldout", "report")
    pressure: float = 1.0  # ink opacity of a stroke (report hands: light to heavy)
    skips: bool = False  # a ballpoint running dry: the ink is grainy along the stroke

    def stroke(self, img, pts, rng, *, colour=None, width=None, alpha=1.0):
        _stroke(img, pts, colour or self.pen, width or self.width, self.tremor, rng, alpha * self.pressure,
                grain=self.skips)


def random_hand(rng, pens: str = "tuning") -> Hand:
    """A hand with a pen of the set ``pens``: "tuning" (PENS, the hands looked at while changing the reader),
    "heldout" (HELD_OUT_PENS and a wider range of strokes) or "report" (REPORT_PENS, REPORT_HAND and the
    shapes REPORT_STYLES: run once at the end, never tuned on)."""
    if pens == "report":
        name = list(REPORT_PENS)[int(rng.integers(len(REPORT_PENS)))]
        r = REPORT_HAND
        return Hand(pen=REPORT_PENS[name], width=float(rng.uniform(*r["width"])), size=float(rng.uniform(*r["size"])),
                    tremor=float(rng.uniform(*r["tremor"])),
                    favourite=REPORT_CLEAN_STYLES[int(rng.integers(len(REPORT_CLEAN_STYLES)))], pens="report",
                    pressure=float(rng.uniform(*r["pressure"]) if name != "faded_black" else rng.uniform(0.7, 0.9)),
                    skips=name == "faded_black" or bool(rng.random() < 0.2))
    held = pens == "heldout"
    table = HELD_OUT_PENS if held else PENS
    pen = table[list(table)[int(rng.integers(len(table)))]]
    fav = CLEAN_STYLES[int(rng.integers(len(CLEAN_STYLES)))]
    r = HELD_OUT_HAND if held else {"width": (0.05, 0.11), "size": (0.7, 1.25), "tremor": (0.0, 0.03)}
    return Hand(pen=pen, width=float(rng.uniform(*r["width"])), size=float(rng.uniform(*r["size"])),
                tremor=float(rng.uniform(*r["tremor"])), favourite=fav, pens=pens)


# ---------------------------------------------------------------------------
# strokes (ink multiplies the paper, like real ink; pencil is grainy and light)
# ---------------------------------------------------------------------------

def _stroke(img, pts, colour, width_px, tremor, rng, alpha=1.0, grain: bool = False):
    pts = np.asarray(pts, np.float64)
    if len(pts) < 2:
        return
    # resample and add a hand tremor (low-frequency wobble)
    seg = np.hypot(*np.diff(pts, axis=0).T)
    total = float(seg.sum()) or 1.0
    n = max(4, int(total / 2))
    t = np.concatenate([[0], np.cumsum(seg)]) / total
    u = np.linspace(0, 1, n)
    p = np.stack([np.interp(u, t, pts[:, 0]), np.interp(u, t, pts[:, 1])], axis=1)
    if tremor > 0:
        wob = np.cumsum(rng.normal(0, 1, (n, 2)), axis=0)
        wob -= np.linspace(wob[0], wob[-1], n)
        p += wob / max(1.0, np.abs(wob).max()) * tremor * total * 0.3
    m = int(width_px) + 3
    x0, y0 = max(0, int(p[:, 0].min()) - m), max(0, int(p[:, 1].min()) - m)
    x1, y1 = min(img.shape[1], int(p[:, 0].max()) + m + 1), min(img.shape[0], int(p[:, 1].max()) + m + 1)
    if x1 <= x0 or y1 <= y0:
        return
    layer = np.zeros((y1 - y0, x1 - x0), np.uint8)  # only the stroke's bounding box (speed)
    cv2.polylines(layer, [np.round((p - [x0, y0]) * 4).astype(np.int32).reshape(-1, 1, 2)], False, 255,
                  max(1, int(round(width_px))), cv2.LINE_AA, shift=2)
    _apply_ink(img[y0:y1, x0:x1], layer, colour, alpha, rng, grain)


def _apply_ink(img, layer, colour, alpha, rng, grain: bool = False):
    """Multiply ``img`` (a view, changed in place) by the ink where ``layer`` (0..255) is drawn."""
    a = layer.astype(np.float32) / 255.0 * alpha
    if grain or colour == PENCIL:
        a *= rng.uniform(0.35, 1.0, a.shape).astype(np.float32)
    ink = np.array(colour, np.float32)[None, None, :] / 255.0
    f = 1 - a[:, :, None] * (1 - ink)
    np.copyto(img, np.clip(img.astype(np.float32) * f, 0, 255).astype(np.uint8))


def _fill_poly(img, pts, colour, rng, alpha=1.0):
    layer = np.zeros(img.shape[:2], np.uint8)
    cv2.fillPoly(layer, [np.round(np.asarray(pts) * 4).astype(np.int32)], 255, cv2.LINE_AA, shift=2)
    _apply_ink(img, layer, colour, alpha, rng)


def draw(img, box, style: str, hand: Hand, rng):
    """Draw one mark of ``style`` on the box (x, y, w, h in pixels)."""
    x, y, w, h = box
    s = hand.size
    cx, cy = x + w / 2 + rng.normal(0, 0.06) * w, y + h / 2 + rng.normal(0, 0.06) * h
    wpx = max(2.0, hand.width * w)
    if style in ("tick", "overflow", "pencil"):
        k = s * (1.8 if style == "overflow" else 1.0)
        a = (cx - 0.35 * w * k, cy - 0.05 * h * k)
        b = (cx - 0.1 * w * k, cy + 0.3 * h * min(k, 1.2))
        c = (cx + 0.45 * w * k, cy - 0.55 * h * k)
        colour = PENCIL if style == "pencil" else hand.pen
        width = max(2.0, 0.06 * w) if style == "pencil" else wpx
        hand.stroke(img, [a, b, c], rng, colour=colour, width=width,
                    alpha=float(rng.uniform(0.45, 0.7)) if style == "pencil" else 1.0)
    elif style == "cross":
        d = 0.38 * s
        hand.stroke(img, [(cx - d * w, cy - d * h), (cx + d * w, cy + d * h)], rng, width=wpx)
        hand.stroke(img, [(cx + d * w, cy - d * h), (cx - d * w, cy + d * h)], rng, width=wpx)
    elif style == "slash":
        d = 0.42 * s
        hand.stroke(img, [(cx - d * w * 0.8, cy + d * h), (cx + d * w * 0.8, cy - d * h)], rng, width=wpx * 1.2)
    elif style == "dot":
        r = max(3.0, w * rng.uniform(0.14, 0.24))
        _fill_poly(img, [(cx + r * math.cos(t), cy + r * math.sin(t)) for t in np.linspace(0, 2 * math.pi, 16)],
                   hand.pen, rng)
    elif style == "fill":
        # hatched back and forth with a broad stroke until dark, staying roughly inside
        m = rng.uniform(0.0, 0.1) * w
        n = int(rng.integers(6, 10))
        pts = []
        for k in range(n + 1):
            yy = y + m + (h - 2 * m) * k / n
            pts += [(x + m, yy), (x + w - m, yy + (h - 2 * m) / (2 * n))]
        hand.stroke(img, pts, rng, width=max(wpx * 1.8, h / n * 1.3))
    elif style == "circle":
        r = 0.5 * w * rng.uniform(1.45, 1.8)
        a0 = rng.uniform(0, 2 * math.pi)
        sweep = rng.uniform(2 * math.pi * 0.97, 2 * math.pi * 1.12)
        t = np.linspace(a0, a0 + sweep, 48)
        ell = rng.uniform(0.85, 1.1)
        hand.stroke(img, np.stack([x + w / 2 + r * np.cos(t), y + h / 2 + r * ell * np.sin(t)], axis=1), rng,
                    width=wpx * 0.8)
    elif style == "scribble":
        # cancelling a mark: a tangle of loops and zig-zags over the box, often beyond it
        n = int(rng.integers(5, 9))
        pts = []
        for k in range(n * 4):
            pts.append((x + w * rng.uniform(-0.15, 1.15), y + h * (k / (n * 4)) * 1.2 - 0.1 * h
                        + rng.normal(0, 0.05) * h))
        hand.stroke(img, pts, rng, width=wpx * 1.1)
        hand.stroke(img, [(x - 0.2 * w, y + h * 0.5), (x + 1.2 * w, y + h * 0.45)], rng, width=wpx)
    elif style in REPORT_STYLES or style == "coil":
        _draw_report(img, (x, y, w, h), (cx, cy), style, hand, rng, wpx)
    else:
        raise ValueError(style)


def _draw_report(img, box, centre, style: str, hand: Hand, rng, wpx: float):
    """The report hands' shapes (:data:`REPORT_STYLES`, and ``coil``: a correction coiled over the box)."""
    x, y, w, h = box
    cx, cy = centre
    s = hand.size
    if style == "hook_tick":
        # the pen lands a little right of the start, curls back (the hook) and runs down, then up to the right
        a = (cx - 0.32 * w * s, cy - 0.02 * h * s)
        b = (cx - 0.08 * w * s, cy + 0.3 * h * min(s, 1.2))
        c = (cx + 0.42 * w * s, cy - 0.5 * h * s)
        hook = [(a[0] + 0.12 * w * s, a[1] - 0.16 * h * s), (a[0] + 0.02 * w * s, a[1] - 0.2 * h * s),
                (a[0] - 0.06 * w * s, a[1] - 0.1 * h * s)]
        hand.stroke(img, hook + [a, b, c, (c[0] + 0.06 * w * s, c[1] + 0.03 * h)], rng, width=wpx)
    elif style == "split_cross":
        # two short strokes, the pen lifted between them; they cross off the centre (not an even X)
        d = 0.3 * s
        ox, oy = rng.uniform(-0.1, 0.1) * w, rng.uniform(-0.1, 0.1) * h
        hand.stroke(img, [(cx - d * w + ox, cy - d * h * 1.1 + oy), (cx + d * w * 0.8 + ox, cy + d * h * 0.9 + oy)],
                    rng, width=wpx)
        ox2, oy2 = ox + rng.uniform(0.04, 0.1) * w, oy - rng.uniform(0.0, 0.08) * h
        hand.stroke(img, [(cx + d * w * 0.9 + ox2, cy - d * h * 0.8 + oy2),
                          (cx + ox2 - 0.05 * w, cy + oy2 + 0.05 * h),
                          (cx - d * w * 0.7 + ox2, cy + d * h + oy2)], rng, width=wpx)
    elif style == "outside_check":
        # starts left of the box, bottoms out inside it, ends well above its top right corner
        a = (x - rng.uniform(0.15, 0.35) * w, y + rng.uniform(0.3, 0.5) * h)
        b = (x + rng.uniform(0.35, 0.5) * w, y + rng.uniform(0.72, 0.88) * h)
        c = (x + w * rng.uniform(1.1, 1.4) * max(s, 0.8), y - h * rng.uniform(0.25, 0.6) * max(s, 0.8))
        hand.stroke(img, [a, b, c], rng, width=wpx)
    elif style == "backslash":
        d = 0.4 * s
        hand.stroke(img, [(cx - d * w * 0.7, cy - d * h), (cx + d * w * 0.55, cy + d * h * 0.9),
                          (cx + d * w * 0.75, cy + d * h * 0.8)], rng, width=wpx * 1.15)
    elif style == "ring_dot":
        r = max(3.0, w * rng.uniform(0.1, 0.17) * max(s, 0.7))
        t = np.linspace(0, 2 * math.pi * 1.08, 20) + rng.uniform(0, 2 * math.pi)
        hand.stroke(img, np.stack([cx + r * np.cos(t), cy + r * np.sin(t)], axis=1), rng, width=max(2.0, wpx * 0.8))
    elif style == "zigzag_fill":
        # diagonal zig-zags top to bottom edge, left to right, then a second pass back for the dark
        m = rng.uniform(0.02, 0.12) * w
        n = int(rng.integers(6, 10))
        step = (w - 2 * m) / n
        pts = []
        for k in range(n + 1):
            pts += [(x + m + k * step, y + m + rng.normal(0, 0.03) * h),
                    (x + m + (k + 0.5) * step, y + h - m + rng.normal(0, 0.03) * h)]
        pts = pts[:-1]
        width = max(wpx * 1.3, step * 1.15)
        hand.stroke(img, pts, rng, width=width)
        hand.stroke(img, [(px, y + h - (py - y)) for px, py in pts[::-1]], rng, width=width)
    elif style == "open_loop":
        # an oval around the box that is not closed, a little off the box's centre
        r = 0.5 * w * rng.uniform(1.5, 1.9)
        a0 = rng.uniform(0, 2 * math.pi)
        t = np.linspace(a0, a0 + 2 * math.pi * rng.uniform(0.8, 0.9), 40)
        ox, oy = rng.uniform(-0.12, 0.12) * w, rng.uniform(-0.1, 0.1) * h
        hand.stroke(img, np.stack([x + w / 2 + ox + r * 1.15 * np.cos(t), y + h / 2 + oy + r * 0.9 * np.sin(t)],
                                  axis=1), rng, width=wpx * 0.8)
    elif style == "dry_tick":
        # a tick of a pen running dry: light, grainy, thin
        a = (cx - 0.35 * w * s, cy - 0.05 * h * s)
        b = (cx - 0.1 * w * s, cy + 0.3 * h * min(s, 1.2))
        c = (cx + 0.45 * w * s, cy - 0.5 * h * s)
        _stroke(img, [a, b, c], hand.pen, max(2.0, 0.05 * w), hand.tremor, rng, float(rng.uniform(0.3, 0.45)),
                grain=True)
    elif style == "coil":
        # cancelling a mark: a spring of loops across the box, beyond both sides
        n = int(rng.integers(5, 8))
        t = np.linspace(0, 2 * math.pi * n, 24 * n)
        r = 0.32 * h * rng.uniform(0.9, 1.3)
        xs = x - 0.2 * w + 1.4 * w * t / t[-1] + r * 0.8 * np.cos(t)
        ys = y + h / 2 + r * np.sin(t) + rng.normal(0, 0.03) * h
        hand.stroke(img, np.stack([xs, ys], axis=1), rng, width=wpx * 1.1)
    else:
        raise ValueError(style)


def handwriting(img, area, rng, hand: Hand, lines: int, *, dip: float = 0.0):
    """Cursive-like words over ``lines`` lines of the area; ``dip`` (pixels) lifts the first line upwards
    (a writer starting above the area, over the row of the previous item)."""
    x, y, w, h = area
    lh = h / 4.2
    for li in range(lines):
        base = y + lh * (li + 0.95) - (dip if li == 0 else 0)
        cx = x + rng.uniform(0.03, 0.12) * w
        end = x + w * rng.uniform(0.45, 0.97)
        while cx < end:
            wl = rng.uniform(0.05, 0.14) * w
            n = max(10, int(wl / 2.5))
            xs = np.linspace(cx, cx + wl, n) + 0.012 * w * np.cos(np.arange(n) * 2.1)
            ys = base - lh * (0.3 + 0.22 * np.abs(np.sin(np.arange(n) * rng.uniform(0.7, 1.3))))
            hand.stroke(img, np.stack([xs, ys], axis=1), rng, width=max(2.0, lh * 0.07))
            cx += wl + rng.uniform(0.02, 0.05) * w


# ---------------------------------------------------------------------------
# the sheet
# ---------------------------------------------------------------------------

def _box_px(source, box):
    s = source.dpi / 72.0
    ox, oy = source.layout.origin
    return ((ox + box[0]) * s, (oy + box[1]) * s, box[2] * s, box[3] * s)


def fill_sheet(source, seed: int, *, habits: dict | None = None, styles: dict | None = None,
               habit_weights: dict | None = None, remarks: bool | None = None, hand: Hand | None = None,
               pens: str = "tuning"):
    """Fill a rendered sheet (``tests.support.synthetic_sheets.SheetSource``); returns (BGR image, truth)."""
    rng = np.random.default_rng(10_007 * seed + 3)
    img = source.image.copy()
    hand = hand or random_hand(rng, pens)
    weights = habit_weights or {"clean": 0.8, "correction": 0.05, "double": 0.025, "none": 0.02,
                                "circle": 0.03, "pencil": 0.03, "crossing": 0.045}
    names, p = list(weights), np.array(list(weights.values()), float)
    clean_styles = REPORT_CLEAN_STYLES if hand.pens == "report" else CLEAN_STYLES
    circle_shape, faint_shape, cancel_shape, second_shape = _HABIT_SHAPES[hand.pens]
    items = source.layout.choice_items()
    truth = {"answers": {}, "expected": {}, "doubt": [], "habits": {}, "boxes": {}, "styles": {},
             "hand": {"pen": list(hand.pen), "size": round(hand.size, 2), "favourite": hand.favourite,
                      "pens": hand.pens}}
    for it in items:
        keys = [o.key for o in it.options]
        for k in keys:
            truth["boxes"][f"{it.key}.{k}"] = "empty"
        habit = (habits or {}).get(it.key) or names[int(rng.choice(len(names), p=p / p.sum()))]
        truth["habits"][it.key] = habit
        ans = keys[int(rng.integers(len(keys)))]
        box = {o.key: _box_px(source, o.box) for o in it.options}
        style = (styles or {}).get(it.key) or (hand.favourite if rng.random() < 0.7
                                               else clean_styles[int(rng.integers(len(clean_styles)))])
        others = [k for k in keys if k != ans]
        other = others[int(rng.integers(len(others)))]
        if habit == "none":
            truth["answers"][it.key] = None
            truth["expected"][it.key] = None
            truth["doubt"].append(it.key)
            continue
        if habit == "circle":
            style = circle_shape
        elif habit == "pencil":
            style = faint_shape
        draw(img, box[ans], style, hand, rng)
        truth["styles"][it.key] = style
        truth["answers"][it.key] = ans
        truth["boxes"][f"{it.key}.{ans}"] = BOX_CLASS[style]
        clean = habit in ("clean", "crossing") and BOX_CLASS[style] not in ("circled", "faint")
        if habit == "correction":
            draw(img, box[other], cancel_shape, hand, rng)
            truth["boxes"][f"{it.key}.{other}"] = "scribbled"
            clean = False
        elif habit == "double":
            second = second_shape if BOX_CLASS[style] in ("circled", "faint") else style
            draw(img, box[other], second, hand, rng)
            truth["boxes"][f"{it.key}.{other}"] = BOX_CLASS[second]
            truth["answers"][it.key] = None
            clean = False
        elif habit == "crossing":
            # a careless long stroke from the mark across the row (over the option text, towards the next box)
            x, y, w, h = box[ans]
            hand.stroke(img, [(x + w * 0.8, y + h * 0.2), (x + w * rng.uniform(2.0, 3.5), y - h * rng.uniform(0.2, 0.8))],
                        rng)
        truth["expected"][it.key] = truth["answers"][it.key] if clean else None
        if not clean:
            truth["doubt"].append(it.key)
    if remarks is None:
        remarks = bool(rng.random() < 0.6)
    truth["remarks"] = bool(remarks) and "other_remarks" in source.layout.regions
    if truth["remarks"]:
        area = _box_px(source, source.layout.regions["other_remarks"])
        printed = len(source.record.get("prefilled_remarks") or [])
        if printed:  # a person writes on the lines left free below the printed ones (the year's absences)
            x, y, w, h = area
            top = h / 4.2 * (printed + 0.6)  # printed lines are a little taller than the dotted ones
            area = (x, y + top, w, h)
            lines = int(rng.integers(1, max(1, 4 - printed) + 1))
            dip = 0.0
        else:
            lines = int(rng.integers(1, 4))
            dip = area[3] * rng.uniform(0.15, 0.35) if rng.random() < 0.3 else 0.0
        handwriting(img, area, rng, hand, lines, dip=dip)
        truth["remarks_dip"] = bool(dip)
    if "signature_cell" in source.layout.regions:
        x, y, w, h = _box_px(source, source.layout.regions["signature_cell"])
        handwriting(img, (x + w * 0.25, y + h * 0.2, w * 0.5, h * 0.9), rng, hand, 1)
    return img, truth


# ---------------------------------------------------------------------------
# scanners and phones (own models)
# ---------------------------------------------------------------------------

SCAN = {"light": dict(skew=1.0, gamma=(0.9, 1.1), blur=0.5, noise=3, jpeg=(85, 95), dpi=(200, 300), turn=0.1,
                      streak=0.0, dust=50),
        "medium": dict(skew=4.0, gamma=(0.75, 1.3), blur=0.9, noise=6, jpeg=(60, 85), dpi=(150, 300), turn=0.25,
                       streak=0.3, dust=300),
        "heavy": dict(skew=8.0, gamma=(0.6, 1.5), blur=1.3, noise=10, jpeg=(40, 65), dpi=(150, 200), turn=0.4,
                      streak=0.6, dust=900)}


def _turn(img, deg):
    return img if not deg else cv2.rotate(img, {90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180,
                                                 270: cv2.ROTATE_90_COUNTERCLOCKWISE}[deg])


def _jpeg(img, q):
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, int(q)])
    return cv2.imdecode(buf, cv2.IMREAD_COLOR)


# the report scanner (only with the report pens): the office's colour copier-scanner at fixed resolution steps
REPORT_DPI = {"light": (200, 300), "medium": (150, 200, 300), "heavy": (150, 200)}


def _office_paper(img, rr):
    """Recycled, slightly yellow paper under a copier that never reaches white (its grey background)."""
    tint = np.array([rr.uniform(0.88, 0.95), rr.uniform(0.95, 0.99), 1.0], np.float32)  # BGR: less blue
    grey = rr.uniform(0.86, 0.95)
    return np.clip(img.astype(np.float32) * tint * grey, 0, 255).astype(np.uint8)


def scan(img, level: str, seed: int, *, src_dpi: int = 200, turn: int | None = None, model: str = "standard"):
    """A scan at ``level``; ``model="report"`` (report pens only): the office scanner of :func:`_office_paper`,
    a resolution step of :data:`REPORT_DPI` and now and then the lid's shadow along one edge."""
    p = SCAN[level]
    rng = np.random.default_rng(seed * 31 + 17)
    info = {"level": level}
    if model == "report":
        rr = np.random.default_rng(seed * 37 + 23)
        img = _office_paper(img, rr)
        info["model"] = "report"
    out = img.astype(np.float32) / 255.0
    out = np.power(out, rng.uniform(*p["gamma"]))
    if rng.random() < p["streak"]:  # a dirty scanner glass: a faint vertical streak
        xs = int(rng.integers(0, out.shape[1] - 4))
        out[:, xs:xs + int(rng.integers(1, 4))] *= rng.uniform(0.75, 0.9)
    out = (out * 255).astype(np.uint8)
    for _ in range(int(rng.integers(0, p["dust"] + 1))):  # dust
        cv2.circle(out, (int(rng.integers(0, out.shape[1])), int(rng.integers(0, out.shape[0]))),
                   int(rng.integers(0, 2)), (40, 40, 40), -1)
    if turn is None:
        turn = int(rng.choice([90, 180, 270])) if rng.random() < p["turn"] else 0
    info["turn"] = turn
    out = _turn(out, turn)
    ang = float(rng.uniform(-p["skew"], p["skew"]))
    h, w = out.shape[:2]
    M = cv2.getRotationMatrix2D((w / 2, h / 2), ang, 1.0)
    bed = (250, 250, 250) if model != "report" else tuple(float(v) for v in np.median(out[:40, :40].reshape(-1, 3), 0))
    out = cv2.warpAffine(out, M, (w, h), flags=cv2.INTER_LINEAR, borderValue=bed)
    dpi = int(rng.integers(p["dpi"][0], p["dpi"][1] + 1))
    if model == "report":
        dpi = int(rr.choice(REPORT_DPI[level]))
        if rr.random() < 0.35:  # the lid's shadow: a dark band along one edge of the glass
            band = int(h * rr.uniform(0.008, 0.025)) if rr.random() < 0.5 else int(w * rr.uniform(0.008, 0.025))
            edge = int(rr.integers(4))
            shade = np.linspace(rr.uniform(0.3, 0.5), 1.0, band, dtype=np.float32)
            if edge == 0:
                out[:band] = (out[:band] * shade[:, None, None]).astype(np.uint8)
            elif edge == 1:
                out[h - band:] = (out[h - band:] * shade[::-1, None, None]).astype(np.uint8)
            elif edge == 2:
                out[:, :band] = (out[:, :band] * shade[None, :, None]).astype(np.uint8)
            else:
                out[:, w - band:] = (out[:, w - band:] * shade[None, ::-1, None]).astype(np.uint8)
            info["lid_shadow"] = edge
    info.update(skew=ang, dpi=dpi)
    out = cv2.resize(out, None, fx=dpi / src_dpi, fy=dpi / src_dpi, interpolation=cv2.INTER_AREA)
    b = rng.uniform(0, p["blur"])
    if b > 0.25:
        out = cv2.GaussianBlur(out, (0, 0), b)
    out = np.clip(out + rng.normal(0, p["noise"], out.shape), 0, 255).astype(np.uint8)
    return _jpeg(out, rng.uniform(*p["jpeg"])), info


def photograph(img, seed: int, *, turn: int | None = None, model: str = "standard"):
    """A phone photo of the sheet lying on a desk: perspective, the phone's shadow, vignetting, a warm or cold
    cast, noise and JPEG, at about 200 dpi on the page (``model="report"``: on the report's yellowish paper)."""
    rng = np.random.default_rng(seed * 131 + 5)
    if model == "report":
        img = _office_paper(img, np.random.default_rng(seed * 37 + 23))
    h, w = img.shape[:2]
    if turn is None:
        turn = int(rng.choice([90, 180, 270])) if rng.random() < 0.2 else 0
    page = _turn(img, turn)
    h, w = page.shape[:2]
    pad = int(0.08 * max(h, w))
    desk = np.array(rng.integers(40, 150, 3), np.float32)
    W, H = w + 2 * pad, h + 2 * pad
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    j = 0.045 * max(h, w)
    dst = np.float32([[pad, pad], [pad + w, pad], [pad + w, pad + h], [pad, pad + h]]) + rng.uniform(-j, j, (4, 2))
    M = cv2.getPerspectiveTransform(src, dst.astype(np.float32))
    out = cv2.warpPerspective(page, M, (W, H), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                              borderValue=tuple(float(v) for v in desk)).astype(np.float32)
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    # soft shadow of the phone and the hand: a dark blurred blob entering from one side
    cx, cy = rng.uniform(0, W), rng.choice([0, H]) + rng.normal(0, H * 0.1)
    d = np.hypot((xx - cx) / (W * 0.5), (yy - cy) / (H * 0.35))
    shade = 1 - rng.uniform(0.15, 0.4) * np.clip(1.2 - d, 0, 1)
    vign = 1 - 0.25 * (((xx - W / 2) / W) ** 2 + ((yy - H / 2) / H) ** 2) * 4
    cast = np.array([rng.uniform(0.85, 1.0), rng.uniform(0.92, 1.0), rng.uniform(0.9, 1.05)], np.float32)
    out = out * (shade * vign)[:, :, None] * cast[None, None, :]
    out = cv2.GaussianBlur(out, (0, 0), rng.uniform(0.6, 1.3))
    out = np.clip(out + rng.normal(0, 5, out.shape), 0, 255).astype(np.uint8)
    # a phone keeps 12 Mpx of the desk; the page ends up around 200 dpi
    info = {"level": "phone", "turn": turn, **({"model": model} if model != "standard" else {})}
    return _jpeg(out, rng.uniform(55, 85)), info


def degrade(img, level: str, seed: int, *, turn: int | None = None, model: str = "standard"):
    """Scan (light, medium, heavy) or photograph (phone) a page; ``model="report"``: the report scanner and
    paper, used only with the report pens."""
    if level == "phone":
        return photograph(img, seed, turn=turn, model=model)
    return scan(img, level, seed, turn=turn, model=model)


def make_page(source, seed: int, level: str = "medium", *, turn: int | None = None, **fill_kw):
    """Fill (:func:`fill_sheet`) and degrade a sheet; pages of the report pens go through the report scanner."""
    img, truth = fill_sheet(source, seed, **fill_kw)
    report = fill_kw.get("pens") == "report" or getattr(fill_kw.get("hand"), "pens", "") == "report"
    out, info = degrade(img, level, seed, turn=turn, model="report" if report else "standard")
    truth["degradation"] = info
    return out, truth


def blank_sheet(source, seed: int, level: str = "medium", *, show_through: bool | None = None):
    """A blank sheet of paper (the back of a form, or an empty page); with ``show_through`` the sheet printed
    on the other side shows through, mirrored and faint."""
    rng = np.random.default_rng(seed * 7 + 1)
    h, w = source.image.shape[:2]
    paper = np.full((h, w, 3), 250, np.uint8)
    if show_through is None:
        show_through = bool(rng.random() < 0.6)
    if show_through:
        back = cv2.flip(source.image, 1).astype(np.float32)
        back = cv2.GaussianBlur(back, (0, 0), 2.0)
        a = rng.uniform(0.06, 0.14)
        paper = (paper.astype(np.float32) * (1 - a * (1 - back / 255.0))).astype(np.uint8)
    out, info = degrade(paper, level, seed)
    info["show_through"] = show_through
    return out, {"blank": True, "degradation": info}
