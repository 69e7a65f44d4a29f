"""Synthetic filled and scanned sheets (tests and the benchmark).

    sources = render_sources(n=4, mark_key=key)        # docgen -> LibreOffice -> PNG, cached
    img, truth = make_page(sources[0], seed=7, level="medium")

* :func:`render_sources` renders a few distinct sheets ONCE (LibreOffice is
  slow) into a cache directory, with their layouts.
* :func:`fill` draws a cell secretary's marks on a rendered sheet: ticks,
  crosses, fills, circles, a scribbled-out box beside another ticked one,
  handwriting-like strokes in "Nhận xét khác", a signature and a red seal.
  The QR can be replaced by another payload (a different member on every
  page, or a forged one).
* :func:`degrade` turns the page into a scan or a phone photo: rotation
  (±10°, 90/180/270), perspective, blur, noise, JPEG, resampling
  (150–300 dpi), fax-like black and white, shadows and folds, at three
  levels (light, medium, heavy).

Everything is deterministic for a given seed.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import cv2
import numpy as np

from forms import qrpayload
from forms.definition import FormDefinition
from ocr.layout import Layout, build_layout

LEVELS = ("light", "medium", "heavy")
INK_COLOURS = [(110, 40, 20), (30, 30, 30), (140, 60, 30), (90, 20, 10)]  # BGR blue/black ballpoints


@dataclass
class SheetSource:
    image: np.ndarray  # BGR, rendered at dpi
    dpi: int
    layout: Layout
    record: dict
    qr_payload: str
    pdf: bytes = b""

    def px(self, x: float, y: float) -> tuple[float, float]:
        s = self.dpi / 72.0
        return ((self.layout.origin[0] + x) * s, (self.layout.origin[1] + y) * s)

    def box_px(self, box) -> tuple[float, float, float, float]:
        s = self.dpi / 72.0
        x, y = self.px(box[0], box[1])
        return x, y, box[2] * s, box[3] * s


# ---------------------------------------------------------------------------
# rendering (cached)
# ---------------------------------------------------------------------------

def default_cache_dir() -> Path:
    d = Path(os.environ.get("NOICUTRU_OCR_CACHE", Path(tempfile.gettempdir()) / "noicutru-ocr-cache"))
    d.mkdir(parents=True, exist_ok=True)
    return d


@contextmanager
def cache_entry(d: Path) -> Iterator[Path]:
    """Fill the cache entry ``d`` in a folder of its own, then move it in place in one step (with its
    ``done`` marker): test processes running side by side (pytest-xdist workers) that make the same
    entry never read each other's half-written files."""
    work = d.with_name(f"{d.name}.part-{os.getpid()}")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    yield work
    (work / "done").write_text("ok")
    if d.exists() and not (d / "done").exists():
        shutil.rmtree(d, ignore_errors=True)  # left half-made by a run that was killed
    try:
        os.rename(work, d)
    except OSError:  # another process made it first: same content
        shutil.rmtree(work, ignore_errors=True)


def _render_pdf_page(pdf: bytes, dpi: int) -> np.ndarray:
    import pypdfium2 as pdfium
    doc = pdfium.PdfDocument(pdf)
    try:
        bm = doc[0].render(scale=dpi / 72.0)
        arr = bm.to_numpy()
        img = arr[:, :, :3][:, :, ::-1].copy() if bm.mode in ("RGBA", "RGB", "RGBX") else arr[:, :, :3].copy()
        if bm.mode.startswith("BGR"):
            img = arr[:, :, :3].copy()
        return img
    finally:
        doc.close()


ABSENCES = ("Vắng họp chi bộ ngày 15/03/{y} (có lý do): đi công tác tỉnh ngoài theo quyết định của cơ quan",
            "Vắng họp chi bộ ngày 12/06/{y} (không có lý do)",
            "Vắng họp chi bộ ngày 10/09/{y} (đơn xin vắng chưa được xác nhận): ốm")


def absence_lines(n: int, year: int = 2025) -> list[str]:
    """``n`` (1-3) lines of recorded absences as version 2 prints them ahead of item 7's writing lines
    (shortened to the printed width like ``service.documents.contexts.absence_remarks``)."""
    from docgen.textfit import shorten_to_width
    return [shorten_to_width(line.format(y=year), 158, 13, italic=True) for line in ABSENCES[:n]]


def sample_records(n: int, *, variants=("standard",), start: int = 1, absences=(0,)) -> list[dict]:
    """``absences``: per record (cycled), how many absence lines the sheet prints in item 7."""
    from docgen import samples
    recs = []
    for i in range(n):
        k = start + i
        rec = samples.evaluation_sheet(k, variant=variants[i % len(variants)])
        a = absences[i % len(absences)]
        if a:
            rec["prefilled_remarks"] = absence_lines(a, rec["year"])
        recs.append(rec)
    return recs


def render_sources(records: list[dict] | None = None, *, n: int = 3, mark_key, dpi: int = 200,
                   variants=("standard",), cache_dir: str | Path | None = None,
                   template_path: str | Path | None = None) -> list[SheetSource]:
    """Render sheets through docgen + LibreOffice (cached on disk) with their layouts."""
    from docgen import BulkRenderer, find_template, load_definition
    from docgen import marks as dmarks

    records = records or sample_records(n, variants=variants)
    if template_path is None:
        info = find_template("evaluation_sheet")
        template_path, def_path = info.template_path, info.definition_path
    else:
        from docgen.definitions import definition_path_for
        def_path = definition_path_for(template_path)
    definition = load_definition(def_path)
    signing_key = qrpayload.as_signing_key(mark_key)
    h = hashlib.sha256()
    h.update(Path(template_path).read_bytes())
    h.update(Path(def_path).read_bytes())
    h.update(Path(dmarks.__file__).read_bytes())
    h.update(Path(qrpayload.__file__).read_bytes())
    h.update(json.dumps(records, default=str, sort_keys=True).encode())
    h.update(signing_key.kid.encode() + b"/" + signing_key.secret)
    h.update(str(dpi).encode())
    d = Path(cache_dir or default_cache_dir()) / ("src-" + h.hexdigest()[:20])
    renderer = BulkRenderer(template_path, definition, mark_key=mark_key)
    if not (d / "done").exists():
        from docgen.pdf import convert_to_pdf
        with cache_entry(d) as work:
            docs = [(f"s{i}.docx", renderer.render(r)) for i, r in enumerate(records)]
            pdfs = convert_to_pdf(docs)
            for i, pdf in enumerate(pdfs):
                (work / f"s{i}.pdf").write_bytes(pdf)
                cv2.imwrite(str(work / f"s{i}.png"), _render_pdf_page(pdf, dpi))
            layouts = {}
            for i, (r, pdf) in enumerate(zip(records, pdfs)):
                v = r.get("variant") or "standard"
                if v not in layouts:
                    layouts[v] = build_layout(definition, pdf, variant=v).to_dict()
            (work / "layouts.json").write_text(json.dumps(layouts, ensure_ascii=False))
    layouts = {k: Layout.from_dict(v) for k, v in json.loads((d / "layouts.json").read_text()).items()}
    out = []
    for i, r in enumerate(records):
        ctx, _imgs = renderer.prepare(r)
        out.append(SheetSource(cv2.imread(str(d / f"s{i}.png")), dpi, layouts[r.get("variant") or "standard"],
                               dict(r), ctx["qr_payload"], (d / f"s{i}.pdf").read_bytes()))
    return out


def layouts_of(sources: list[SheetSource]) -> list[Layout]:
    seen = {}
    for s in sources:
        seen.setdefault(s.layout.key, s.layout)
    return list(seen.values())


# ---------------------------------------------------------------------------
# filling
# ---------------------------------------------------------------------------

def _pen(rng) -> tuple:
    return INK_COLOURS[int(rng.integers(len(INK_COLOURS)))]


def _poly(img, pts, colour, thick):
    pts = np.round(np.asarray(pts)).astype(np.int32).reshape(-1, 1, 2)
    cv2.polylines(img, [pts], False, colour, int(thick), cv2.LINE_AA)


def _curve(p0, p1, p2, n=12):
    t = np.linspace(0, 1, n)[:, None]
    return (1 - t) ** 2 * np.array(p0) + 2 * (1 - t) * t * np.array(p1) + t ** 2 * np.array(p2)


def draw_mark(img, box_px, style: str, rng, *, colour=None, thick=None):
    """Draw one mark on the box (x, y, w, h in pixels of img)."""
    x, y, w, h = box_px
    colour = colour or _pen(rng)
    t = thick or max(2, int(round(w * rng.uniform(0.05, 0.08))))
    j = lambda s=0.06: rng.uniform(-s, s) * w  # noqa: E731
    if style == "tick":
        size = rng.uniform(0.75, 1.1)
        cx, cy = x + w / 2 + j(), y + h / 2 + j()
        a = (cx - 0.35 * w * size, cy + 0.0 * h)
        b = (cx - 0.08 * w * size + j(0.03), cy + 0.35 * h * size)
        c = (cx + 0.45 * w * size, cy - 0.45 * h * size)
        _poly(img, np.vstack([_curve(a, ((a[0] + b[0]) / 2, b[1] - 0.05 * h), b, 6),
                              _curve(b, ((b[0] + c[0]) / 2 + j(), (b[1] + c[1]) / 2 + j()), c, 10)]), colour, t)
    elif style == "cross":
        m = rng.uniform(0.1, 0.22)
        _poly(img, [(x + m * w + j(), y + m * h + j()), (x + (1 - m) * w + j(), y + (1 - m) * h + j())], colour, t)
        _poly(img, [(x + (1 - m) * w + j(), y + m * h + j()), (x + m * w + j(), y + (1 - m) * h + j())], colour, t)
    elif style == "fill":
        m = rng.uniform(0.04, 0.1)
        pts = np.array([(x + m * w + j(0.03), y + m * h + j(0.03)), (x + (1 - m) * w + j(0.03), y + m * h + j(0.03)),
                        (x + (1 - m) * w + j(0.03), y + (1 - m) * h + j(0.03)),
                        (x + m * w + j(0.03), y + (1 - m) * h + j(0.03))])
        cv2.fillPoly(img, [np.round(pts).astype(np.int32)], colour, cv2.LINE_AA)
    elif style == "hatch":
        # filled by hand: parallel diagonal strokes of a broad pen, close enough to leave no paper
        m = rng.uniform(0.03, 0.08)
        step = max(3.0, t * rng.uniform(1.0, 1.6))
        tt = int(max(2, round(step * rng.uniform(0.8, 1.3))))
        for k in np.arange(-h, w, step):
            p0, p1 = (x + m * w + k, y + (1 - m) * h), (x + m * w + k + h * (1 - 2 * m), y + m * h)
            # clip the stroke to the box (minus the margin)
            a = max(0.0, (x + m * w - p0[0]) / (p1[0] - p0[0]))
            b = min(1.0, (x + (1 - m) * w - p0[0]) / (p1[0] - p0[0]))
            if b <= a:
                continue
            q0 = (p0[0] + a * (p1[0] - p0[0]), p0[1] + a * (p1[1] - p0[1]))
            q1 = (p0[0] + b * (p1[0] - p0[0]), p0[1] + b * (p1[1] - p0[1]))
            _poly(img, [q0, q1], colour, tt)
    elif style == "dot":
        cx, cy = x + w / 2 + j(), y + h / 2 + j()
        r = w * rng.uniform(0.12, 0.22)
        cv2.circle(img, (int(cx), int(cy)), int(max(2, r)), colour, -1, cv2.LINE_AA)
    elif style == "pencil":
        # a light graphite tick: gray, thin, grainy
        g = int(rng.integers(140, 185))
        size = rng.uniform(0.7, 1.0)
        cx, cy = x + w / 2 + j(), y + h / 2 + j()
        pts = [(cx - 0.35 * w * size, cy), (cx - 0.08 * w * size, cy + 0.35 * h * size),
               (cx + 0.45 * w * size, cy - 0.45 * h * size)]
        y0, y1, x0, x1 = int(y - h * 0.3), int(y + h * 1.3), int(x - w * 0.3), int(x + w * 1.3)
        sub = img[y0:y1, x0:x1]
        mark = sub.copy()
        _poly(mark, [(px - x0, py - y0) for px, py in pts], (g, g, g), max(2, t - 1))
        grain = rng.random(sub.shape[:2]) < 0.65
        sub[grain] = np.minimum(sub, mark)[grain]
    elif style == "circle":
        cx, cy = x + w / 2 + j(0.04), y + h / 2 + j(0.04)
        ax, ay = w * rng.uniform(0.85, 1.0), h * rng.uniform(0.8, 0.95)
        a0 = rng.uniform(0, 360)
        cv2.ellipse(img, (int(cx), int(cy)), (int(ax), int(ay)), rng.uniform(-15, 15), a0, a0 + rng.uniform(345, 380),
                    colour, max(2, t - 1), cv2.LINE_AA)
    elif style == "scribble":
        # cancelled: blackened with dense zig-zags that run beyond the box (a cancelling gesture is
        # not kept inside the printed square)
        n = int(rng.integers(9, 14))
        o = rng.uniform(0.12, 0.25)
        pts = []
        for k in range(n + 1):
            yy = y + h * (0.02 + 0.96 * k / n)
            pts.append((x - o * w + j(0.05), yy))
            pts.append((x + (1 + o) * w + j(0.05), yy + h * 0.5 / n))
        _poly(img, pts, colour, t + 2)
        pts = []
        for k in range(n + 1):
            xx = x + w * (0.02 + 0.96 * k / n)
            pts.append((xx, y - 0.05 * h + j(0.05)))
            pts.append((xx + w * 0.5 / n, y + 1.05 * h + j(0.05)))
        _poly(img, pts, colour, t + 2)
    else:
        raise ValueError(style)


def _handwriting(img, area_px, rng, lines: int, colour):
    x, y, w, h = area_px
    lh = h / 4.6
    for li in range(lines):
        base = y + lh * (li + 1.05)
        cx = x + rng.uniform(0.02, 0.1) * w
        end = x + w * rng.uniform(0.55, 0.95)
        while cx < end:
            wl = rng.uniform(0.04, 0.12) * w
            n = max(8, int(wl / 3))
            xs = np.linspace(cx, cx + wl, n)
            freq = rng.uniform(0.25, 0.45)
            ys = base - lh * (0.25 + 0.18 * np.sin(np.arange(n) * freq * math.pi + rng.uniform(0, 6))
                              + 0.1 * rng.standard_normal(n).cumsum() / np.sqrt(n))
            loops = xs + 0.01 * w * np.sin(np.arange(n) * 1.7)
            _poly(img, np.stack([loops, ys], axis=1), colour, max(2, int(lh * 0.09)))
            cx += wl + rng.uniform(0.015, 0.035) * w


def _signature(img, area_px, rng, colour):
    x, y, w, h = area_px
    pts = []
    p = np.array([x + w * rng.uniform(0.25, 0.4), y + h * rng.uniform(0.45, 0.7)])
    for _ in range(int(rng.integers(4, 7))):
        c1 = p + rng.normal(0, 1, 2) * [w * 0.12, h * 0.35]
        p2 = np.clip(p + [w * rng.uniform(0.02, 0.12), h * rng.uniform(-0.35, 0.35)],
                     [x + 4, y + 4], [x + w - 4, y + h - 4])
        pts.extend(_curve(p, c1, p2, 14))
        p = p2
    pts.extend(_curve(p, p + [-w * 0.2, h * 0.15], p + [w * 0.15, h * 0.05], 14))
    _poly(img, pts, colour, max(2, int(h * 0.04)))


def _stamp(img, centre, radius, rng):
    overlay = np.full_like(img, 255)
    red = (40, 30, int(rng.integers(170, 220)))
    c = (int(centre[0]), int(centre[1]))
    r = int(radius)
    cv2.circle(overlay, c, r, red, max(3, r // 18), cv2.LINE_AA)
    cv2.circle(overlay, c, int(r * 0.72), red, max(2, r // 30), cv2.LINE_AA)
    # a star in the middle and text-like dashes on the ring
    pts = []
    for k in range(10):
        ang = -math.pi / 2 + k * math.pi / 5
        rr = r * (0.28 if k % 2 == 0 else 0.12)
        pts.append((c[0] + rr * math.cos(ang), c[1] + rr * math.sin(ang)))
    cv2.fillPoly(overlay, [np.round(np.array(pts)).astype(np.int32)], red, cv2.LINE_AA)
    for k in range(28):
        ang = k * 2 * math.pi / 28 + rng.uniform(-0.03, 0.03)
        p1 = (c[0] + r * 0.8 * math.cos(ang), c[1] + r * 0.8 * math.sin(ang))
        p2 = (c[0] + r * 0.92 * math.cos(ang), c[1] + r * 0.92 * math.sin(ang))
        cv2.line(overlay, tuple(map(int, p1)), tuple(map(int, p2)), red, max(2, r // 40), cv2.LINE_AA)
    # multiply blend (ink over paper and print)
    np.copyto(img, (img.astype(np.uint16) * overlay.astype(np.uint16) // 255).astype(np.uint8))


def replace_qr(img: np.ndarray, source: SheetSource, payload: str) -> None:
    """Paste a QR of ``payload`` over the sheet's QR picture (same size and quiet zone)."""
    from docgen import marks as dmarks
    x, y, w, h = source.box_px(source.layout.qr)
    png = dmarks.qr_png(payload, scale=8, border=source.layout.qr_quiet_modules)
    q = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_GRAYSCALE)
    q = cv2.resize(q, (int(round(w)), int(round(h))), interpolation=cv2.INTER_AREA)
    x0, y0 = int(round(x)), int(round(y))
    img[y0:y0 + q.shape[0], x0:x0 + q.shape[1]] = q[:, :, None]


STYLES = ("tick", "tick", "tick", "cross", "cross", "fill", "circle")
# every style draw_mark knows (the tuning split of the box classifier draws from these)
TUNING_STYLES = ("tick", "tick", "cross", "fill", "hatch", "dot", "circle", "pencil")


def fill(source: SheetSource, seed: int, *, answers: dict | None = None, styles: dict | None = None,
         scribble_items: int | None = None, double_items: tuple = (), blank_items: tuple = (),
         remarks: bool | None = None, signature: bool = True, stamp: bool | None = None,
         member_id: str | None = None, qr_payload: str | None = None, mark_key=None,
         allowed_styles=STYLES) -> tuple[np.ndarray, dict]:
    """Fill the sheet; returns (BGR image at source dpi, ground truth).

    ``answers``: item -> option (random when omitted); ``styles``: item ->
    tick|cross|fill|circle; ``scribble_items``: how many items get a
    scribbled-out box beside the ticked one (random 0–1 when None);
    ``double_items``: items with two ordinary ticks (expected unsure);
    ``blank_items``: items left empty.  ``member_id`` (with ``mark_key``)
    re-signs the QR for another member; ``qr_payload`` pastes any payload.
    """
    rng = np.random.default_rng(seed)
    img = source.image.copy()
    lay = source.layout
    truth = {"answers": {}, "expected": {}, "styles": {}, "scribbled": {}, "double": [], "blank": []}
    payload = source.qr_payload
    if member_id is not None:
        rec = source.record
        payload = qrpayload.sign(lay.kind, lay.version, rec["sheet_serial"], member_id,
                                 int(rec["year"]), mark_key, kind_code=lay.kind_code)
    if qr_payload is not None:
        payload = qr_payload
    if payload != source.qr_payload:
        replace_qr(img, source, payload)
    from ocr.qr import parse_unverified
    pu = parse_unverified(payload, {lay.kind_code: lay.kind}) or {}
    truth["member_id"] = pu.get("member_id")
    truth["qr_payload"] = payload
    colour = _pen(rng)
    items = lay.choice_items()
    if scribble_items is None:
        scribble_items = int(rng.random() < 0.3)
    scribble_set = set(rng.choice([it.key for it in items], size=min(scribble_items, len(items)),
                                  replace=False).tolist()) if scribble_items else set()
    for it in items:
        keys = [o.key for o in it.options]
        if it.key in blank_items:
            truth["answers"][it.key] = None
            truth["expected"][it.key] = None
            truth["blank"].append(it.key)
            continue
        ans = (answers or {}).get(it.key) or keys[int(rng.integers(len(keys)))]
        style = (styles or {}).get(it.key) or allowed_styles[int(rng.integers(len(allowed_styles)))]
        if it.key in scribble_set and style in ("fill", "hatch"):
            style = "tick"  # a filled box beside a blackened one is ambiguous even to a person
        op = next(o for o in it.options if o.key == ans)
        draw_mark(img, source.box_px(op.box), style, rng, colour=colour)
        truth["answers"][it.key] = ans
        truth["expected"][it.key] = ans
        truth["styles"][it.key] = style
        others = [o for o in it.options if o.key != ans]
        if it.key in double_items:
            o2 = others[int(rng.integers(len(others)))]
            draw_mark(img, source.box_px(o2.box), "tick", rng, colour=colour)
            truth["expected"][it.key] = None
            truth["double"].append(it.key)
        elif it.key in scribble_set:
            o2 = others[int(rng.integers(len(others)))]
            draw_mark(img, source.box_px(o2.box), "scribble", rng, colour=colour)
            truth["scribbled"][it.key] = o2.key
    if remarks is None:
        remarks = bool(rng.random() < 0.6)
    if remarks and "other_remarks" in lay.regions:
        _handwriting(img, source.box_px(lay.regions["other_remarks"]), rng, int(rng.integers(1, 4)), colour)
    truth["remarks"] = bool(remarks)
    if signature and "signature_cell" in lay.regions:
        _signature(img, source.box_px(lay.regions["signature_cell"]), rng, colour)
    truth["signature"] = bool(signature)
    if stamp is None:
        stamp = bool(rng.random() < 0.8)
    if stamp and "signature_ward" in lay.regions:
        x, y, w, h = source.box_px(lay.regions["signature_ward"])
        _signature(img, (x + w * 0.2, y, w * 0.7, h), rng, colour)
        r = 20 / 25.4 * source.dpi * rng.uniform(0.9, 1.05)  # ~40 mm seal
        _stamp(img, (x + w * rng.uniform(0.3, 0.5), y + h * rng.uniform(0.2, 0.5)), r, rng)
    truth["stamp"] = bool(stamp)
    return img, truth


# ---------------------------------------------------------------------------
# degradation
# ---------------------------------------------------------------------------

LEVEL_PARAMS = {
    "light": dict(skew=1.5, persp=0.0, blur=(0.0, 0.6), noise=(1, 4), jpeg=(80, 95), dpi=(200, 300),
                  fax=0.0, shadow=0.0, fold=0.0, orient=0.1),
    "medium": dict(skew=5.0, persp=0.025, blur=(0.4, 1.0), noise=(3, 8), jpeg=(55, 80), dpi=(150, 300),
                   fax=0.2, shadow=0.4, fold=0.3, orient=0.3),
    "heavy": dict(skew=10.0, persp=0.06, blur=(0.8, 1.4), noise=(6, 14), jpeg=(35, 60), dpi=(150, 200),
                  fax=0.35, shadow=0.7, fold=0.6, orient=0.4),
}


def _rotate(img, angle, border=255):
    h, w = img.shape[:2]
    M = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    cos, sin = abs(M[0, 0]), abs(M[0, 1])
    nw, nh = int(h * sin + w * cos), int(h * cos + w * sin)
    M[0, 2] += nw / 2 - w / 2
    M[1, 2] += nh / 2 - h / 2
    return cv2.warpAffine(img, M, (nw, nh), flags=cv2.INTER_LINEAR, borderValue=(border,) * 3)


def degrade(img: np.ndarray, level: str, seed: int, *, src_dpi: int = 200, orientation: int | None = None,
            skew: float | None = None, perspective: float | None = None, fax: bool | None = None,
            out_dpi: int | None = None) -> tuple[np.ndarray, dict]:
    """Scan/photo-like degradation; returns (image, info). ``orientation``: clockwise quarter turn of the
    page as it appears in the output (0/90/180/270)."""
    p = LEVEL_PARAMS[level]
    rng = np.random.default_rng(seed + 7919)
    info = {"level": level}
    out = img.copy()
    # shadows (uneven lighting) and folds on the paper first
    h, w = out.shape[:2]
    if rng.random() < p["shadow"]:
        gx = np.linspace(0, 1, w)[None, :]
        gy = np.linspace(0, 1, h)[:, None]
        a, b = rng.uniform(-1, 1, 2)
        shade = 1 - rng.uniform(0.15, 0.35) * np.clip(a * gx + b * gy + rng.uniform(-0.5, 0.5), 0, 1)
        out = (out * shade[:, :, None]).astype(np.uint8)
        info["shadow"] = True
    if rng.random() < p["fold"]:
        horizontal = rng.random() < 0.7
        pos = int((h if horizontal else w) * rng.uniform(0.3, 0.7))
        width = int(rng.integers(4, 12))
        f = np.ones(h if horizontal else w, np.float32)
        f[pos - width:pos + width] = 1 - 0.25 * np.hanning(2 * width)
        out = (out * (f[:, None, None] if horizontal else f[None, :, None])).astype(np.uint8)
        info["fold"] = True
    # rotation: quarter turns and skew
    if orientation is None:
        orientation = int(rng.choice([90, 180, 270])) if rng.random() < p["orient"] else 0
    info["orientation"] = orientation
    if orientation:
        out = cv2.rotate(out, {90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180,
                               270: cv2.ROTATE_90_COUNTERCLOCKWISE}[orientation])
    if skew is None:
        skew = float(rng.uniform(-p["skew"], p["skew"]))
    info["skew"] = skew
    if abs(skew) > 0.01:
        out = _rotate(out, skew)
    # perspective (phone photo): page on a darker background
    if perspective is None:
        perspective = p["persp"] * rng.uniform(0.5, 1.0) if p["persp"] else 0.0
    info["perspective"] = perspective
    if perspective > 0:
        h, w = out.shape[:2]
        pad = int(max(h, w) * (perspective + 0.03))
        bg = tuple(int(v) for v in rng.integers(60, 140, 3))
        canvas = cv2.copyMakeBorder(out, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=bg)
        H2, W2 = canvas.shape[:2]
        src = np.float32([[pad, pad], [pad + w, pad], [pad + w, pad + h], [pad, pad + h]])
        d = perspective * max(h, w)
        dst = src + rng.uniform(-d, d, (4, 2)).astype(np.float32)
        M = cv2.getPerspectiveTransform(src, dst)
        out = cv2.warpPerspective(canvas, M, (W2, H2), borderValue=bg)
    # resolution
    if fax is None:
        fax = bool(rng.random() < p["fax"])
    dpi = out_dpi or (200 if fax else int(rng.integers(p["dpi"][0], p["dpi"][1] + 1)))  # fax machines: 200 dpi
    info["dpi"] = dpi
    f = dpi / src_dpi
    if abs(f - 1) > 0.01:
        out = cv2.resize(out, None, fx=f, fy=f, interpolation=cv2.INTER_AREA if f < 1 else cv2.INTER_LINEAR)
    # optics and sensor
    sigma = rng.uniform(*p["blur"])
    if sigma > 0.2:
        out = cv2.GaussianBlur(out, (0, 0), sigma)
    ns = rng.uniform(*p["noise"])
    out = np.clip(out.astype(np.float32) + rng.normal(0, ns, out.shape), 0, 255).astype(np.uint8)
    info["fax"] = fax
    if fax:
        g = cv2.cvtColor(out, cv2.COLOR_BGR2GRAY)
        thr = int(rng.integers(140, 175))
        bw = np.where(g < thr, 0, 255).astype(np.uint8)
        if rng.random() < 0.5:  # standard fax resolution: half the lines
            hh, ww = bw.shape
            bw = cv2.resize(cv2.resize(bw, (ww, hh // 2), interpolation=cv2.INTER_NEAREST), (ww, hh),
                            interpolation=cv2.INTER_NEAREST)
        # salt and pepper
        sp = rng.random(bw.shape)
        bw[sp < 0.002] = 0
        bw[sp > 0.999] = 255
        out = cv2.cvtColor(bw, cv2.COLOR_GRAY2BGR)
    q = int(rng.integers(p["jpeg"][0], p["jpeg"][1] + 1))
    info["jpeg"] = q
    ok, buf = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, q])
    out = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    return out, info


def make_page(source: SheetSource, seed: int, level: str = "medium", *, fill_kw: dict | None = None,
              degrade_kw: dict | None = None) -> tuple[np.ndarray, dict]:
    img, truth = fill(source, seed, **(fill_kw or {}))
    out, info = degrade(img, level, seed, src_dpi=source.dpi, **(degrade_kw or {}))
    truth["degradation"] = info
    truth["variant"] = source.layout.variant
    return out, truth


# ---------------------------------------------------------------------------
# other pages: a retyped form, a photo of something else, a blank page
# ---------------------------------------------------------------------------

def foreign_form_docx(definition, member: dict, answers: dict, *, variant: str = "standard",
                      seed: int = 0) -> bytes:
    """A sheet retyped in Word by a cell (no QR, no corner marks): python-docx."""
    import io

    from docx import Document
    from docx.shared import Pt

    rng = np.random.default_rng(seed)
    doc = Document()
    st = doc.styles["Normal"]
    st.font.name = "Times New Roman"
    st.font.size = Pt(13)
    doc.add_paragraph(member.get("ward_party_body_name", "ĐẢNG BỘ PHƯỜNG HỒNG HÀ").upper())
    doc.add_paragraph((member.get("residence_cell_name") or "Chi bộ").upper())
    p = doc.add_paragraph()
    r = p.add_run("PHIẾU NHẬN XÉT")
    r.bold = True
    r.font.size = Pt(16)
    doc.add_paragraph("Đảng viên đang công tác thường xuyên giữ mối liên hệ với tổ chức đảng và nhân dân nơi cư trú")
    dob = member.get("date_of_birth")
    if hasattr(dob, "strftime"):
        dob = dob.strftime("%d/%m/%Y")
    doc.add_paragraph(f"Họ và tên đảng viên: {member['full_name']}        Ngày sinh: {dob}")
    doc.add_paragraph(f"Đơn vị công tác: {member.get('workplace_org_name', '')}")
    doc.add_paragraph(f"Chi bộ nơi cư trú: {member.get('residence_cell_name', '')}")
    for it in FormDefinition.coerce(definition).items(variant):
        if not it.is_choice:
            doc.add_paragraph(f"{it.heading}: ......................................")
            continue
        doc.add_paragraph(it.heading)
        parts = []
        for op in it.options:
            mark = "[X]" if answers.get(it.key) == op.key else "[  ]"
            parts.append(f"{mark} {op.label}")
        doc.add_paragraph("      ".join(parts))
    doc.add_paragraph("")
    doc.add_paragraph("T/M CHI ỦY                                   XÁC NHẬN CỦA ĐẢNG ỦY")
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def render_foreign_sources(definition, members: list[dict], answers_list: list[dict], *, dpi: int = 200,
                           cache_dir=None) -> list[np.ndarray]:
    """Render retyped forms through LibreOffice once (cached); returns BGR images."""
    docs = [foreign_form_docx(definition, m, a, seed=i) for i, (m, a) in enumerate(zip(members, answers_list))]
    h = hashlib.sha256(b"".join(hashlib.sha256(d).digest() for d in docs) + str(dpi).encode()).hexdigest()[:20]
    d = Path(cache_dir or default_cache_dir()) / ("foreign-" + h)
    if not (d / "done").exists():
        from docgen.pdf import convert_to_pdf
        with cache_entry(d) as work:
            pdfs = convert_to_pdf([(f"f{i}.docx", x) for i, x in enumerate(docs)])
            for i, pdf in enumerate(pdfs):
                cv2.imwrite(str(work / f"f{i}.png"), _render_pdf_page(pdf, dpi))
    return [cv2.imread(str(d / f"f{i}.png")) for i in range(len(docs))]


def natural_image(seed: int, size=(1600, 1200)) -> np.ndarray:
    """A 'photo of something else': smooth colour blobs, texture and noise."""
    rng = np.random.default_rng(seed)
    h, w = size
    small = rng.integers(0, 255, (6, 8, 3)).astype(np.uint8)
    img = cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)
    tex = rng.normal(0, 25, (h // 4, w // 4, 3)).astype(np.float32)
    tex = cv2.resize(tex, (w, h), interpolation=cv2.INTER_LINEAR)
    img = np.clip(img.astype(np.float32) + tex + rng.normal(0, 8, img.shape), 0, 255).astype(np.uint8)
    for _ in range(12):
        c = tuple(int(v) for v in rng.integers(0, 255, 3))
        cv2.circle(img, (int(rng.integers(w)), int(rng.integers(h))), int(rng.integers(20, 200)), c, -1)
    return cv2.GaussianBlur(img, (0, 0), 2)


def blank_page(seed: int, size=(2339, 1654), noise: float = 3.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    g = np.clip(rng.normal(245, noise, size), 0, 255).astype(np.uint8)
    return cv2.cvtColor(g, cv2.COLOR_GRAY2BGR)
