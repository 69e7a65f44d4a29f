"""The receipt slip of the introduction letter: the date written by hand in its comb boxes.

The letter prints no corner marks; its slip carries a QR naming the letter and, from template
version 3 on, the date line ``ngày [_][_] tháng [_][_] năm 20[_][_]`` whose boxes are defined in
the form definition (``date_boxes``).

* :func:`build_slip_layout` (definition + a rendered letter PDF -> :class:`SlipLayout`): where the
  QR picture and the boxes are on the page, in PDF points (found as the pictures the template
  prints, their geometry from the definition).
* :func:`read_slip_date` (page + QR corners + layout -> the reading's ``received_on`` field, its
  crop and problems): the page is mapped onto the layout by the QR's corners, each box is found
  again near its expected place, the ink inside is read as one digit (Tesseract, digits only,
  one character at a time).  The value is a proposal with a confidence: the service decides
  whether it is plausible and confident enough to apply without a person.

Never invents a date: empty boxes give no value (``date_blank``), a box that is not read as one
digit with confidence or digits that make no date give ``date_unsure`` with what was read.
"""
from __future__ import annotations

import datetime as dt
import io
import os
from dataclasses import dataclass

import cv2
import numpy as np

from forms.definition import FormDefinition

from . import boxes as bx
from .result import FieldReading, problem

SLIP_FORMAT = "slip-1"
CROP_SCALE = 300 / 72.0  # px per point of the date line's crop
DIGIT_CONFIDENT = 0.80  # every digit at or above this (Tesseract's symbol confidence / 100): the date is "read"
BOX_FOUND = 0.45  # BoxFinder score of a box's printed border at which the box counts as found
EMPTY_INK = 0.012  # share of a box's interior in ink below which the box is empty
FIELD_NAME_DEFAULT = "received_on"

PROBLEMS_VI = {
    "date_blank": "Chưa ghi ngày tiếp nhận trên phiếu báo: người duyệt nhập ngày ghi trên phiếu "
                  "(hoặc xác nhận lấy ngày hôm nay)",
    "date_unsure": "Ngày tiếp nhận ghi trên phiếu báo đọc không chắc chắn: người duyệt kiểm tra ngày máy đề xuất",
    "date_not_found": "Không tìm thấy các ô ghi ngày trên phiếu báo: người duyệt nhập ngày ghi trên phiếu",
}


@dataclass
class SlipLayout:
    kind: str
    version: int
    page_size: tuple  # (w, h) points
    qr: tuple  # (x, y, w, h) points of the QR picture (quiet zone included), page coordinates
    qr_quiet_modules: int
    boxes: list  # [(x, y, w, h)] points, page coordinates, in reading order (day, month, year)
    groups: tuple  # boxes per group
    century: str
    field: str = FIELD_NAME_DEFAULT
    source_hash: str = ""

    @property
    def key(self) -> tuple:
        return (self.kind, self.version, "slip")

    def to_dict(self) -> dict:
        return {"format": SLIP_FORMAT, "kind": self.kind, "version": self.version,
                "page_size": list(self.page_size), "qr": list(self.qr), "qr_quiet_modules": self.qr_quiet_modules,
                "boxes": [list(b) for b in self.boxes], "groups": list(self.groups), "century": self.century,
                "field": self.field, "source_hash": self.source_hash}

    @classmethod
    def from_dict(cls, d: dict) -> "SlipLayout":
        if d.get("format") != SLIP_FORMAT:
            raise ValueError(f"not a slip layout: {d.get('format')!r}")
        return cls(d["kind"], int(d["version"]), tuple(d["page_size"]), tuple(d["qr"]), int(d["qr_quiet_modules"]),
                   [tuple(b) for b in d["boxes"]], tuple(d["groups"]), d["century"], d.get("field", FIELD_NAME_DEFAULT),
                   d.get("source_hash", ""))


def as_slip_layouts(layouts) -> list[SlipLayout]:
    return [lay if isinstance(lay, SlipLayout) else SlipLayout.from_dict(lay) for lay in layouts or ()]


def build_slip_layout(definition: FormDefinition | dict, pdf_bytes: bytes, *, page_number: int = 0) -> SlipLayout:
    """Where the slip's QR and date boxes are on a letter rendered from the template (any record)."""
    import hashlib

    import pdfplumber

    from .layout import LayoutError

    definition = FormDefinition.coerce(definition)
    db = definition.date_boxes
    if db is None:
        raise LayoutError("the definition has no date_boxes", "Mẫu không có ô ghi ngày trên phiếu báo")
    with pdfplumber.open(io.BytesIO(pdf_bytes)) as pdf:
        page = pdf.pages[page_number]
        pw, ph = float(page.width), float(page.height)
        imgs = [(float(i["x0"]), float(i["top"]), float(i["x1"] - i["x0"]), float(i["bottom"] - i["top"]))
                for i in page.images]
    side, gap = db.pt(db.box_mm), db.pt(db.gap_mm)
    pair_w = 2 * side + gap
    pairs = sorted((b for b in imgs if abs(b[3] - side) < 0.15 * side and abs(b[2] - pair_w) < 0.15 * pair_w),
                   key=lambda b: (round(b[1] / 5), b[0]))
    qr_pt = definition.marks.pt(definition.marks.qr_mm)
    squares = [b for b in imgs if abs(b[2] - b[3]) < 2 and 0.6 * qr_pt < b[2] < 1.6 * qr_pt]
    if len(pairs) != len(db.groups) or not squares:
        raise LayoutError(f"{len(pairs)} date box pictures and {len(squares)} QR pictures found",
                          "Không tìm thấy mã QR và các ô ghi ngày trên phiếu báo của mẫu")
    qr = min(squares, key=lambda b: abs(b[1] - pairs[0][1]))  # the slip's QR, nearest to the date line
    boxes = []
    for x, y, w, h in pairs:
        k = w / pair_w  # the picture as printed (a pixel of rounding)
        for i in range(2):
            boxes.append((round(x + i * (side + gap) * k, 2), round(y, 2), round(side * k, 2), round(h, 2)))
    return SlipLayout(definition.kind, definition.version, (round(pw, 2), round(ph, 2)),
                      tuple(round(v, 2) for v in qr), definition.marks.qr_quiet_modules, boxes, tuple(db.groups),
                      db.century, db.field, hashlib.sha256(pdf_bytes).hexdigest()[:16])


# ---------------------------------------------------------------------------
# reading
# ---------------------------------------------------------------------------

_API: dict[tuple, object] = {}
GAP = 28  # px of white between two digits of the strip


def _digit_api(psm_name: str):
    """A tesserocr API per process and page segmentation mode, digits only (model loaded once)."""
    key = (os.getpid(), psm_name)
    if key not in _API:
        import tesserocr
        from .foreign import _tessdata
        path = _tessdata()
        api = tesserocr.PyTessBaseAPI(**({"path": path} if path else {}), lang="eng",
                                      psm=getattr(tesserocr.PSM, psm_name), oem=tesserocr.OEM.LSTM_ONLY)
        api.SetVariable("tessedit_char_whitelist", "0123456789")
        _API[key] = api
    return _API[key]


def read_digits(images: list[np.ndarray | None]) -> list[tuple[str, float]]:
    """The digits of the filled boxes (``None``: an empty box), read twice by Tesseract: once as one
    strip (the boxes side by side: each symbol goes to the box its centre falls in, with its
    confidence) and once box by box (as a word, then as a single character).  Per box: (digit or "?"
    when not exactly one digit was read in the strip, confidence 0..1; unless the box read alone gives
    the same digit, the strip's digit with confidence 0: a proposal, never confident)."""
    import tesserocr
    from PIL import Image
    filled = [i for i, im in enumerate(images) if im is not None]
    out: list[tuple[str, float]] = [("", 1.0) for _ in images]
    if not filled:
        return out
    h = max(images[i].shape[0] for i in filled)
    parts, spans, x = [], {}, 0
    for i in filled:
        im = cv2.copyMakeBorder(images[i], 0, h - images[i].shape[0], 0, GAP, cv2.BORDER_CONSTANT, value=255)
        spans[i] = (x, x + images[i].shape[1])
        parts.append(im)
        x += im.shape[1]
    strip = np.hstack(parts)
    api = _digit_api("SINGLE_WORD")
    api.SetImage(Image.fromarray(strip))
    api.Recognize()
    got: dict[int, list[tuple[str, float]]] = {i: [] for i in filled}
    ri = api.GetIterator()
    S = tesserocr.RIL.SYMBOL
    if ri is not None:
        while True:
            try:
                t, bb = ri.GetUTF8Text(S), ri.BoundingBox(S)
            except RuntimeError:  # nothing recognised
                t, bb = None, None
            if t and bb:
                cx = (bb[0] + bb[2]) / 2
                for i, (a, b) in spans.items():
                    if a - GAP / 2 <= cx < b + GAP / 2:
                        got[i].append((t.strip(), float(ri.Confidence(S)) / 100.0))
                        break
            if not ri.Next(S):
                break
    api.Clear()
    for i in filled:
        if len(got[i]) != 1 or len(got[i][0][0]) != 1:
            out[i] = ("?", 0.0)
            continue
        digit, conf = got[i][0]
        # the strip's digit is the proposal; it is confident only when the box read alone says the same
        # digit (as a word, else as a single character): otherwise a guess for a person to check
        agreed = False
        for mode in ("SINGLE_WORD", "SINGLE_CHAR"):
            api = _digit_api(mode)
            api.SetImage(Image.fromarray(images[i]))
            alone = (api.GetUTF8Text() or "").strip()
            api.Clear()
            if alone == digit:
                agreed = True
                break
        out[i] = (digit, conf if agreed else 0.0)
    return out


# digits that are drawn with a closed loop, and those to apply only when drawn without any (a 4 drawn closed
# looks like a 9 to Tesseract, and the other way round: a closed 4 is left to a person); 2 may go either way
LOOPED, OPEN = frozenset("0689"), frozenset("13457")
HOLE_MIN = 0.015  # share of the box's interior a hole must cover to count (not a speck of paper)


def holes(ink: np.ndarray) -> int:
    """Enclosed holes of the ink in a box (paper fully surrounded by a stroke): 8 has two, 0 6 9 one, 1 3 5 7
    none.  An independent check of a digit read by Tesseract: a 3 with two holes is an 8 written so."""
    m = cv2.morphologyEx(ink.astype(np.uint8), cv2.MORPH_CLOSE, np.ones((3, 3), np.uint8))
    contours, hierarchy = cv2.findContours(m, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    if hierarchy is None:
        return 0
    least = HOLE_MIN * ink.size
    return sum(1 for c, h in zip(contours, hierarchy[0]) if h[3] >= 0 and cv2.contourArea(c) >= least)


def shape_agrees(digit: str, n_holes: int) -> bool:
    """Whether a digit read by Tesseract fits the loops the ink shows."""
    return not ((digit in OPEN and n_holes > 0) or (digit in LOOPED and n_holes == 0)
                or (digit == "8" and n_holes < 2))


def _digit_image(gray: np.ndarray, ink: np.ndarray) -> np.ndarray | None:
    """The ink of one box's interior as a black-on-white picture, cropped to the ink, 64 px high, padded."""
    n, lab, st, _c = cv2.connectedComponentsWithStats(ink, connectivity=8)
    keep = np.zeros_like(ink)
    for i in range(1, n):
        x, y, w, h, area = st[i]
        if area >= 6 and max(w, h) >= 4:
            keep[lab == i] = 1
    ys, xs = np.nonzero(keep)
    if len(xs) == 0:
        return None
    x0, x1, y0, y1 = xs.min(), xs.max() + 1, ys.min(), ys.max() + 1
    crop = np.where(keep[y0:y1, x0:x1] > 0, gray[y0:y1, x0:x1], 255).astype(np.uint8)
    # ink as dark as the darkest stroke, paper white: a pale pen reads like a dark one
    lo = int(np.percentile(crop[keep[y0:y1, x0:x1] > 0], 10))
    crop = np.clip((crop.astype(np.float32) - lo) * 255.0 / max(1, 200 - lo), 0, 255).astype(np.uint8)
    h, w = crop.shape
    f = 64.0 / max(h, 1)
    crop = cv2.resize(crop, (max(1, int(round(w * f))), 64), interpolation=cv2.INTER_CUBIC)
    return cv2.copyMakeBorder(crop, 24, 24, 24, 24, cv2.BORDER_CONSTANT, value=255)


def _interior(ink: np.ndarray, gray: np.ndarray, x: int, y: int, w: int):
    """Ink and gray of a box's interior, the printed border (and a border found a pixel off) left out."""
    inset = max(3, int(round(w * 0.09)))
    sl = (slice(max(0, y + inset), max(0, y + w - inset)), slice(max(0, x + inset), max(0, x + w - inset)))
    m = ink[sl].copy()
    g = gray[sl]
    if m.size == 0:
        return m, g
    # a stretch of the border leaking in along an edge: rows/columns nearly full of ink at the edges
    band = max(2, w // 10)
    for k in list(range(band)) + list(range(m.shape[0] - band, m.shape[0])):
        if 0 <= k < m.shape[0] and m[k].mean() > 0.6:
            m[k] = 0
    for k in list(range(band)) + list(range(m.shape[1] - band, m.shape[1])):
        if 0 <= k < m.shape[1] and m[:, k].mean() > 0.6:
            m[:, k] = 0
    return m, g


def _qr_homography(corners: np.ndarray, lay: SlipLayout, qr_text: str) -> np.ndarray | None:
    """Similarity transform from the page image to the layout's points (x CROP_SCALE), by the QR's corners."""
    from .qr import module_count
    n = module_count(qr_text)
    x, y, w, _h = lay.qr
    m = w / (n + 2 * lay.qr_quiet_modules)
    sx, sy, s = x + lay.qr_quiet_modules * m, y + lay.qr_quiet_modules * m, n * m
    dst = np.float32([[sx, sy], [sx + s, sy], [sx + s, sy + s], [sx, sy + s]]) * CROP_SCALE
    A, _inl = cv2.estimateAffinePartial2D(np.asarray(corners, np.float32), dst)
    return None if A is None else np.vstack([A, [0, 0, 1]])


def read_slip_date(reading, gray: np.ndarray, bgr: np.ndarray | None, corners: np.ndarray, lay: SlipLayout,
                   *, want_images: bool = True) -> None:
    """Read the slip's written date into ``reading``: a field ``lay.field`` (ISO date or None, the
    confidence, its box in the crop), the crop ``crops[lay.field]`` and a problem when in doubt.
    The digits read are kept in the field ``<field>_digits`` ("05/01/26", "?" for a box not read)."""
    H = _qr_homography(corners, lay, reading.qr_text or "")
    if H is None:
        reading.problems.append(problem("date_not_found", PROBLEMS_VI["date_not_found"]))
        return
    xs = [b[0] for b in lay.boxes] + [b[0] + b[2] for b in lay.boxes]
    ys = [b[1] for b in lay.boxes] + [b[1] + b[3] for b in lay.boxes]
    side = float(np.median([b[2] for b in lay.boxes]))
    margin = side * 0.9
    region = (min(xs) - 4 * side, min(ys) - margin, max(xs) - min(xs) + 4 * side + margin, max(ys) - min(ys) + 2 * margin)
    A = np.array([[1, 0, -region[0] * CROP_SCALE], [0, 1, -region[1] * CROP_SCALE], [0, 0, 1]], np.float64) @ H
    size = (int(round(region[2] * CROP_SCALE)), int(round(region[3] * CROP_SCALE)))
    g = cv2.warpPerspective(gray, A, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=255)
    ink = bx.ink_mask(g)
    side_px = side * CROP_SCALE
    finder = bx.BoxFinder(ink, side_px)
    pts = [((b[0] - region[0]) * CROP_SCALE, (b[1] - region[1]) * CROP_SCALE) for b in lay.boxes]
    # the six boxes as one rigid pattern first (pairs apart, words between: one shift fits), then each pair on
    # its own within a third of a box (a photo's perspective moves them apart), then each box
    w = int(round(side_px))
    r = int(round(side_px * 1.3))
    dx0, dy0, _s = finder.search(pts, (-r, r), r=3, dx_range=(-r, r))
    r = int(round(side_px * 0.3))
    located, scores, i = [], [], 0
    for n in lay.groups:
        group = [(x + dx0, y + dy0) for x, y in pts[i:i + n]]
        dx, dy, score = finder.search(group, (-r, r), r=2, dx_range=(-r, r))
        located += [finder.refine(x + dx, y + dy, r=3) for x, y in group]
        scores.append(score)
        i += n
    score = min(scores)
    if want_images:
        src = cv2.warpPerspective(bgr, A, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                                  borderValue=(255, 255, 255)) if bgr is not None and bgr.ndim == 3 else g
        ok, buf = cv2.imencode(".png", src)
        if ok:
            reading.crops[lay.field] = buf.tobytes()
    crop_box = (0, 0, size[0], size[1])
    if score < 0.45 or any(s < BOX_FOUND for _x, _y, s in located):  # every box found, or no reading
        reading.fields.append(FieldReading(lay.field, None, 0.0, crop_box, "date"))
        reading.problems.append(problem("date_not_found", PROBLEMS_VI["date_not_found"]))
        return
    clean = bx.clean(ink)
    images, filled, empty_conf, loops = [], [], [], []
    for x, y, _s in located:
        m, gg = _interior(clean, g, x, y, w)
        amount = float(m.mean()) if m.size else 0.0
        filled.append(amount >= EMPTY_INK)
        empty_conf.append(1.0 if amount < EMPTY_INK / 3 else 0.5)
        images.append(_digit_image(gg, m) if amount >= EMPTY_INK else None)
        loops.append(holes(m) if m.size else 0)
    try:
        read = read_digits(images)
    except Exception:  # noqa: BLE001  (tesseract missing or failed: the date is for a person to read)
        read = [("?", 0.0) if im is not None else ("", 1.0) for im in images]
    # a digit whose loops do not fit its shape (a 3 with two holes) stays a proposal
    read = [(d, c if not d or d == "?" or shape_agrees(d, n) else 0.0) for (d, c), n in zip(read, loops)]
    digits = [d for d, _c in read]
    confs = [c if f else e for (_d, c), f, e in zip(read, filled, empty_conf)]
    shown = _shown(digits, lay.groups)
    reading.fields.append(FieldReading(lay.field + "_digits", shown, min(confs), crop_box, "text"))
    if not any(filled):
        reading.fields.append(FieldReading(lay.field, None, min(confs), crop_box, "date"))
        reading.problems.append(problem("date_blank", PROBLEMS_VI["date_blank"]))
        return
    value = _date_of(digits, lay.groups, lay.century)
    conf = min(confs) if value else 0.0  # a box that is neither clearly empty nor read counts too
    reading.fields.append(FieldReading(lay.field, value.isoformat() if value else None, conf, crop_box, "date"))
    if value is None or conf < DIGIT_CONFIDENT:
        reading.problems.append(problem("date_unsure", PROBLEMS_VI["date_unsure"] + f" (máy đọc: {shown})",
                                        read=shown, proposed=value.isoformat() if value else None))


def _groups(digits: list[str], groups) -> list[list[str]]:
    out, i = [], 0
    for n in groups:
        out.append(digits[i:i + n])
        i += n
    return out


def _shown(digits: list[str], groups) -> str:
    return "/".join("".join(d or "_" for d in g) for g in _groups(digits, groups))


def _date_of(digits: list[str], groups, century: str) -> dt.date | None:
    """The date the digits make: every group has a digit (a lone digit in a day or month pair is allowed,
    "5" for 05), every box read as one digit, a real calendar date."""
    parts = []
    for k, g in enumerate(_groups(digits, groups)):
        if any(d == "?" for d in g):
            return None
        text = "".join(g)
        if not text or (k == len(groups) - 1 and len(text) != len(g)):
            return None  # the year's two boxes both written
        parts.append(int(text))
    day, month, yy = parts
    try:
        return dt.date(int(century) * 100 + yy, month, day)
    except ValueError:
        return None


def read_slip(reading, bgr, gray, slip_layouts, *, corners=None, want_images: bool = True) -> None:
    """The written date of a receipt slip whose QR was read: with the layout of the letter's template
    version (none for a version without date boxes: nothing is read, the service asks a person)."""
    qr = reading.qr or {}
    lay = next((s for s in as_slip_layouts(slip_layouts) if str(s.version) == str(qr.get("version"))), None)
    if lay is None or not reading.qr_text:
        return
    if corners is None:
        from . import qr as qrmod
        hits = [h for h in (qrmod.decode(gray) or qrmod.decode(gray, try_harder=True)) if h[0] == reading.qr_text]
        if not hits:
            reading.problems.append(problem("date_not_found", PROBLEMS_VI["date_not_found"]))
            return
        corners = hits[0][1]
    read_slip_date(reading, gray, bgr, corners, lay, want_images=want_images)
