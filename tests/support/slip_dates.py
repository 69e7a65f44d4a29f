"""Synthetic returned receipt slips: an introduction letter rendered once (docgen + LibreOffice, cached),
a date written by hand in the slip's comb boxes, then scanned or photographed.

    src = render_slip_source(mark_key=KEY)
    img = write_date(src, dt.date(2026, 3, 7), hand_for("tune", seed), seed)
    page = hand_fill.scan(img, "medium", seed)

Two families of hands, kept apart for honest figures:

* ``tune``: digits drawn from the DejaVu fonts and from a stroke model of digits ("A" shapes) -- the
  reader's thresholds (``ocr.slip.DIGIT_CONFIDENT``, ``EMPTY_INK``) were chosen on these;
* ``heldout``: the Liberation fonts and another stroke model ("B" shapes: a 1 with a flag and a foot, a
  crossed 7, an open 4, a looped 2, rounder strokes, other slants and sizes), seeds from 100000 on --
  the figures reported (``bench/slip_dates.py``) come from these.

Everything is deterministic for a seed.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ocr.slip import SlipLayout, build_slip_layout

from .synthetic_sheets import _render_pdf_page, default_cache_dir

ROOT = Path(__file__).resolve().parents[2]
DPI = 200
FONTS = {
    "tune": ["dejavu/DejaVuSans.ttf", "dejavu/DejaVuSans-Oblique.ttf", "dejavu/DejaVuSerif-Italic.ttf",
             "dejavu/DejaVuSansCondensed.ttf", "dejavu/DejaVuSansMono.ttf"],
    "heldout": ["liberation2/LiberationSans-Italic.ttf", "liberation2/LiberationSerif-Italic.ttf",
                "liberation2/LiberationSans-Regular.ttf", "liberation2/LiberationMono-Italic.ttf",
                "liberation2/LiberationSerif-Regular.ttf"],
}
FONT_DIR = Path("/usr/share/fonts/truetype")
INKS = [(120, 40, 15), (35, 35, 35), (150, 70, 30), (95, 25, 10), (60, 50, 160)]  # BGR: blue, black, red-ish

# stroke models of digits in a unit box (x right, y down): lists of polylines
_A = {
    "0": [[(0.5, 0), (0.15, 0.2), (0.1, 0.6), (0.35, 1), (0.7, 0.95), (0.9, 0.5), (0.8, 0.1), (0.5, 0)]],
    "1": [[(0.3, 0.2), (0.6, 0), (0.6, 1)]],
    "2": [[(0.1, 0.25), (0.4, 0), (0.8, 0.1), (0.8, 0.4), (0.1, 1), (0.9, 1)]],
    "3": [[(0.1, 0.1), (0.6, 0), (0.8, 0.25), (0.4, 0.48), (0.85, 0.7), (0.6, 1), (0.1, 0.9)]],
    "4": [[(0.7, 1), (0.7, 0), (0.05, 0.7), (0.95, 0.7)]],
    "5": [[(0.85, 0), (0.2, 0), (0.15, 0.45), (0.6, 0.4), (0.85, 0.7), (0.6, 1), (0.1, 0.9)]],
    "6": [[(0.75, 0.05), (0.3, 0.25), (0.12, 0.7), (0.4, 1), (0.8, 0.8), (0.7, 0.5), (0.3, 0.5), (0.15, 0.7)]],
    "7": [[(0.1, 0), (0.9, 0), (0.35, 1)]],
    "8": [[(0.5, 0.48), (0.2, 0.25), (0.5, 0), (0.8, 0.25), (0.5, 0.48), (0.15, 0.75), (0.5, 1), (0.85, 0.75),
           (0.5, 0.48)]],
    "9": [[(0.8, 0.35), (0.5, 0.5), (0.2, 0.3), (0.45, 0), (0.8, 0.2), (0.75, 0.6), (0.5, 1)]],
}
_B = {
    "0": [[(0.55, 0.02), (0.25, 0.1), (0.12, 0.5), (0.3, 0.95), (0.62, 0.98), (0.85, 0.6), (0.78, 0.15),
           (0.5, 0.05)]],
    "1": [[(0.2, 0.3), (0.55, 0), (0.55, 1)], [(0.3, 1), (0.8, 1)]],
    "2": [[(0.15, 0.2), (0.5, 0), (0.85, 0.2), (0.6, 0.6), (0.15, 0.95), (0.3, 0.85), (0.5, 0.95), (0.9, 0.95)]],
    "3": [[(0.15, 0.15), (0.5, 0), (0.8, 0.2), (0.45, 0.45), (0.3, 0.45), (0.45, 0.45), (0.85, 0.7), (0.55, 1),
           (0.15, 0.85)]],
    "4": [[(0.45, 0), (0.1, 0.65), (0.9, 0.65)], [(0.7, 0.3), (0.7, 1)]],
    "5": [[(0.2, 0.02), (0.15, 0.45), (0.55, 0.38), (0.85, 0.65), (0.55, 1), (0.15, 0.9)], [(0.2, 0.02), (0.85, 0)]],
    "6": [[(0.7, 0), (0.3, 0.3), (0.15, 0.75), (0.45, 1), (0.8, 0.78), (0.6, 0.5), (0.2, 0.65)]],
    "7": [[(0.1, 0.05), (0.9, 0.02), (0.45, 1)], [(0.3, 0.5), (0.8, 0.5)]],
    "8": [[(0.75, 0.15), (0.5, 0), (0.2, 0.2), (0.8, 0.72), (0.5, 1), (0.18, 0.75), (0.78, 0.25), (0.75, 0.15)]],
    "9": [[(0.85, 0.25), (0.5, 0.45), (0.2, 0.25), (0.5, 0), (0.85, 0.2), (0.8, 1)]],
}


@dataclass
class SlipSource:
    image: np.ndarray  # BGR at DPI
    layout: SlipLayout
    record: dict
    pdf: bytes

    def box_px(self, i: int) -> tuple[float, float, float]:
        s = DPI / 72.0
        x, y, w, _h = self.layout.boxes[i]
        return x * s, y * s, w * s


def render_slip_source(*, mark_key, template: str = "introduction_letter.v3", record: dict | None = None) -> SlipSource:
    """An introduction letter of ``template`` rendered through docgen + LibreOffice (cached on disk)."""
    from docgen import BulkRenderer, load_definition, samples
    tpl, dfn = ROOT / "templates" / f"{template}.docx", ROOT / "templates" / f"{template}.form.json"
    definition = load_definition(dfn)
    record = record or samples.introduction_letter(1, member_id="7", sheet_serial="GGT-7", year=2026)
    h = hashlib.sha256(tpl.read_bytes() + dfn.read_bytes() + json.dumps(record, default=str, sort_keys=True).encode()
                       + bytes(mark_key))
    d = default_cache_dir() / ("slip-" + h.hexdigest()[:20])
    if not (d / "done").exists():
        from docgen.pdf import convert_to_pdf
        d.mkdir(parents=True, exist_ok=True)
        renderer = BulkRenderer(tpl, definition, mark_key=mark_key)
        pdf = convert_to_pdf([("slip.docx", renderer.render(record))])[0]
        (d / "slip.pdf").write_bytes(pdf)
        cv2.imwrite(str(d / "slip.png"), _render_pdf_page(pdf, DPI))
        (d / "done").write_text("ok")
    pdf = (d / "slip.pdf").read_bytes()
    return SlipSource(cv2.imread(str(d / "slip.png")), build_slip_layout(definition, pdf), record, pdf)


@dataclass
class Hand:
    family: str  # tune | heldout
    kind: str  # font | strokes
    font: str | None
    size: float  # digit height / box side
    slant: float  # shear
    width: float  # stroke width in px (strokes) or font weight by dilation
    jitter: float
    ink: tuple


def hand_for(family: str, seed: int) -> Hand:
    rng = np.random.default_rng(seed * 7919 + (0 if family == "tune" else 17))
    kind = "font" if rng.random() < 0.5 else "strokes"
    font = str(FONT_DIR / FONTS[family][int(rng.integers(len(FONTS[family])))]) if kind == "font" else None
    if family == "tune":
        size, slant, width, jitter = rng.uniform(0.6, 0.8), rng.uniform(-0.1, 0.3), rng.uniform(2.0, 3.5), 0.03
    else:
        size, slant, width, jitter = rng.uniform(0.55, 0.9), rng.uniform(-0.2, 0.4), rng.uniform(1.6, 4.5), 0.05
    return Hand(family, kind, font, float(size), float(slant), float(width), float(jitter),
                INKS[int(rng.integers(len(INKS)))])


def _glyph_font(ch: str, hand: Hand, px: int, rng) -> np.ndarray:
    font = ImageFont.truetype(hand.font, size=int(px * 1.35))
    img = Image.new("L", (px * 2, px * 2), 0)
    ImageDraw.Draw(img).text((px // 2, px // 4), ch, fill=255, font=font)
    a = np.array(img)
    if hand.width > 3.0:
        a = cv2.dilate(a, np.ones((2, 2), np.uint8))
    ys, xs = np.nonzero(a > 60)
    a = a[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
    f = px / a.shape[0]
    return cv2.resize(a, (max(1, int(a.shape[1] * f)), px), interpolation=cv2.INTER_AREA)


def _glyph_strokes(ch: str, hand: Hand, px: int, rng) -> np.ndarray:
    shapes = _A if hand.family == "tune" else _B
    w = int(px * 0.75)
    pad = int(hand.width) + 2
    a = np.zeros((px + 2 * pad, w + 2 * pad), np.uint8)
    for line in shapes[ch]:
        pts = []
        for x, y in line:
            x += rng.normal(0, hand.jitter)
            y += rng.normal(0, hand.jitter)
            pts.append((pad + x * w, pad + y * px))
        # a smooth hand: a spline through the points
        pts = np.array(pts, np.float32)
        if len(pts) >= 3 and hand.family == "heldout":
            t = np.linspace(0, 1, len(pts))
            tt = np.linspace(0, 1, len(pts) * 6)
            pts = np.stack([np.interp(tt, t, pts[:, 0]), np.interp(tt, t, pts[:, 1])], 1)
            pts = cv2.GaussianBlur(pts.reshape(-1, 1, 2), (1, 5), 0).reshape(-1, 2)
        cv2.polylines(a, [np.round(pts * 4).astype(np.int32)], False, 255, max(1, int(round(hand.width))),
                      lineType=cv2.LINE_AA, shift=2)
    return a


def _put(img: np.ndarray, glyph: np.ndarray, cx: float, cy: float, hand: Hand) -> None:
    h, w = glyph.shape
    M = np.float32([[1, -hand.slant, hand.slant * h / 2], [0, 1, 0]])
    g = cv2.warpAffine(glyph, M, (w + int(abs(hand.slant) * h) + 2, h))
    h, w = g.shape
    x0, y0 = int(round(cx - w / 2)), int(round(cy - h / 2))
    H, W = img.shape[:2]
    xa, ya, xb, yb = max(0, x0), max(0, y0), min(W, x0 + w), min(H, y0 + h)
    if xb <= xa or yb <= ya:
        return
    alpha = (g[ya - y0:yb - y0, xa - x0:xb - x0].astype(np.float32) / 255.0)[..., None] * 0.92
    region = img[ya:yb, xa:xb].astype(np.float32)
    img[ya:yb, xa:xb] = (region * (1 - alpha) + np.array(hand.ink, np.float32) * alpha).astype(np.uint8)


def date_digits(date: dt.date | None, *, short_day: bool = False) -> list[str]:
    """What a person writes in the six boxes ("" for a box left empty)."""
    if date is None:
        return [""] * 6
    dd, mm, yy = f"{date.day:02d}", f"{date.month:02d}", f"{date.year % 100:02d}"
    if short_day and date.day < 10:
        dd = "" + dd[1]  # "5" written alone in the second box
        return ["", dd, *mm, *yy]
    return [*dd, *mm, *yy]


def write_date(src: SlipSource, date: dt.date | None, hand: Hand, seed: int, *, digits: list[str] | None = None
               ) -> np.ndarray:
    """The rendered letter with the date written in the slip's boxes (a copy)."""
    rng = np.random.default_rng(seed)
    img = src.image.copy()
    digits = digits if digits is not None else date_digits(date, short_day=bool(rng.random() < 0.15))
    for i, ch in enumerate(digits):
        if not ch:
            continue
        x, y, side = src.box_px(i)
        px = int(side * hand.size * rng.uniform(0.92, 1.08))
        glyph = _glyph_font(ch, hand, px, rng) if hand.kind == "font" else _glyph_strokes(ch, hand, px, rng)
        cx = x + side / 2 + rng.normal(0, side * 0.05)
        cy = y + side / 2 + rng.normal(0, side * 0.05)
        _put(img, glyph, cx, cy, hand)
    return img


def random_date(seed: int, around: dt.date = dt.date(2026, 1, 5)) -> dt.date:
    rng = np.random.default_rng(seed + 31)
    return around + dt.timedelta(days=int(rng.integers(0, 330)))


def angle_jitter(img: np.ndarray, seed: int) -> np.ndarray:  # kept small: scans, not photos
    rng = np.random.default_rng(seed)
    a = float(rng.uniform(-1.5, 1.5))
    h, w = img.shape[:2]
    M = cv2.getRotationMatrix2D((w / 2, h / 2), a, 1.0)
    return cv2.warpAffine(img, M, (w, h), borderValue=(255, 255, 255))


__all__ = ["SlipSource", "render_slip_source", "Hand", "hand_for", "write_date", "date_digits", "random_date",
           "angle_jitter"]


def source_from_pdf(pdf: bytes, definition) -> SlipSource:
    """A letter rendered elsewhere (e.g. by the service) as a slip source: rasterised at DPI, its slip layout."""
    return SlipSource(_render_pdf_page(pdf, DPI), build_slip_layout(definition, pdf), {}, pdf)


def scanned_slip(src: SlipSource, date: dt.date | None, *, seed: int = 3, family: str = "tune", kind: str = "font",
                 level: str = "light", digits: list[str] | None = None) -> np.ndarray:
    """The letter with ``date`` written in clear digits (a font hand of ``family``), scanned at ``level``."""
    from . import hand_fill
    hand = hand_for(family, seed)
    hand.kind, hand.font = kind, hand.font or str(FONT_DIR / FONTS[family][0])
    hand.size, hand.slant = 0.72, 0.05
    digits = digits if digits is not None else date_digits(date)
    page, _info = hand_fill.scan(write_date(src, date, hand, seed, digits=digits), level, seed, src_dpi=DPI, turn=0)
    return page
