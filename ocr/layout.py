"""Tick-box and area layout of a printed form, derived from data.

``build_layout(definition, pdf_bytes, variant=...)`` reads a sheet rendered
from the template (any sample record; through docgen and LibreOffice) with
pdfplumber and finds, guided by the form definition:

* the four corner marks (small square pictures at the page corners),
* the QR code picture,
* every option's tick box (the square drawn next to the option's label),
* the member-name and date-of-birth value areas ("Họ và tên ...:" line),
* the free-text area ("Nhận xét khác" and its dotted lines),
* the signature areas of the cell (right) and of the ward certification
  (left; also where the seal is expected).

Nothing is hard-coded in pixels: coordinates are PDF points measured from the
centre of the top-left corner mark (x right, y down), and the centres of the
four marks are stored too, so a scan is mapped onto the layout by the
homography that takes its four detected marks to the stored ones.  The layout
is plain JSON (``to_dict`` / ``from_dict``) so the service can compute it once
per (form kind, template version, variant) and cache it.
"""
from __future__ import annotations

import hashlib
import io
import json
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from rapidfuzz import fuzz

from forms.definition import FormDefinition

LAYOUT_FORMAT = 1


class LayoutError(Exception):
    """The rendered template does not match its definition (no box for an option, ...)."""

    def __init__(self, message: str, message_vi: str | None = None):
        super().__init__(message)
        self.message_vi = message_vi or "Không dựng được bố cục ô đánh dấu từ mẫu: " + message


def _nfc(s: str) -> str:
    return unicodedata.normalize("NFC", s)


def _norm(s: str) -> str:
    return re.sub(r"\s+", " ", _nfc(s)).strip().lower()


Box = tuple  # (x, y, w, h) in points, relative to the top-left mark centre


@dataclass
class OptionLayout:
    key: str
    label: str
    box: tuple  # the square (outer edge of its border)


@dataclass
class ItemLayout:
    key: str
    number: int
    label: str
    type: str  # "choice" | "free_text"
    options: list = field(default_factory=list)  # [OptionLayout]
    area: tuple | None = None  # free_text: the writing area
    label_box: tuple | None = None


@dataclass
class Layout:
    kind: str
    version: int
    variant: str
    page_size: tuple  # (w, h) points
    origin: tuple  # page position (points) of the top-left mark centre
    marks: dict  # {"tl"|"tr"|"bl"|"br": (x, y)} mark centres, relative to origin
    mark_size: float
    qr: tuple | None  # QR picture incl. quiet zone
    items: list  # [ItemLayout]
    regions: dict  # name -> box (member_full_name, member_date_of_birth, each free-text item's key, signature_cell, signature_ward, stamp_ward)
    box_border: float = 1.0
    source_hash: str = ""
    kind_code: str = ""  # the kind's code in the QR payload (from the definition)
    qr_quiet_modules: int = 4  # quiet zone of the printed QR picture, in modules (from the definition)

    def __post_init__(self):
        if not self.kind_code:
            from forms.definition import LEGACY_KIND_CODES
            self.kind_code = LEGACY_KIND_CODES.get(self.kind, self.kind)

    # -- geometry helpers -------------------------------------------------
    def choice_items(self) -> list[ItemLayout]:
        return [i for i in self.items if i.type == "choice"]

    def free_text_items(self) -> list[ItemLayout]:
        return [i for i in self.items if i.type == "free_text"]

    def all_boxes(self) -> list[tuple[str, str, tuple]]:
        return [(it.key, op.key, op.box) for it in self.choice_items() for op in it.options]

    @property
    def key(self) -> tuple:
        return (self.kind, self.version, self.variant)

    # -- serialisation ---------------------------------------------------
    def to_dict(self) -> dict:
        return {
            "format": LAYOUT_FORMAT, "kind": self.kind, "version": self.version, "variant": self.variant,
            "page_size": list(self.page_size), "origin": list(self.origin),
            "marks": {k: list(v) for k, v in self.marks.items()}, "mark_size": self.mark_size,
            "qr": list(self.qr) if self.qr else None,
            "items": [{
                "key": i.key, "number": i.number, "label": i.label, "type": i.type,
                "options": [{"key": o.key, "label": o.label, "box": list(o.box)} for o in i.options],
                "area": list(i.area) if i.area else None,
                "label_box": list(i.label_box) if i.label_box else None,
            } for i in self.items],
            "regions": {k: list(v) for k, v in self.regions.items()},
            "box_border": self.box_border, "source_hash": self.source_hash, "kind_code": self.kind_code,
            "qr_quiet_modules": self.qr_quiet_modules,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False)

    @classmethod
    def from_dict(cls, d: dict) -> "Layout":
        if isinstance(d, str):
            d = json.loads(d)
        if d.get("format") != LAYOUT_FORMAT:
            raise LayoutError(f"unsupported layout format {d.get('format')!r}",
                              "Bố cục lưu sẵn thuộc phiên bản cũ, cần dựng lại")
        t = lambda v: tuple(v) if v is not None else None  # noqa: E731
        items = [ItemLayout(i["key"], i["number"], i["label"], i["type"],
                            [OptionLayout(o["key"], o["label"], t(o["box"])) for o in i.get("options", [])],
                            t(i.get("area")), t(i.get("label_box"))) for i in d["items"]]
        return cls(d["kind"], d["version"], d["variant"], t(d["page_size"]), t(d["origin"]),
                   {k: t(v) for k, v in d["marks"].items()}, d["mark_size"], t(d.get("qr")), items,
                   {k: t(v) for k, v in d["regions"].items()}, d.get("box_border", 1.0),
                   d.get("source_hash", ""), d.get("kind_code", ""), d.get("qr_quiet_modules", 4))


def kind_codes_of(layouts: list[Layout]) -> dict[str, str]:
    """{kind code: kind} of the layouts' definitions: how their QR payloads name their kind."""
    return {lay.kind_code: lay.kind for lay in layouts}


def as_layouts(layouts: Any) -> list[Layout]:
    """Accept a Layout, a dict, a list of either, or a mapping of key -> either."""
    if layouts is None:
        return []
    if isinstance(layouts, (Layout, str)) or (isinstance(layouts, dict) and "items" in layouts):
        layouts = [layouts]
    elif isinstance(layouts, dict):
        layouts = list(layouts.values())
    out = []
    for lay in layouts:
        out.append(lay if isinstance(lay, Layout) else Layout.from_dict(lay))
    return out


# ---------------------------------------------------------------------------
# building from a rendered PDF
# ---------------------------------------------------------------------------

def _squares_from_lines(page, side_pt: float = 17.0) -> list[tuple[float, float, float, float]]:
    """Squares drawn as four lines (Word cell borders) or as rects: (x0, top, x1, bottom).

    ``side_pt``: the tick-box side the definition prints; squares from half to 2.3 times it are kept."""
    lo, hi = 0.5 * side_pt, 2.3 * side_pt
    hs = [ln for ln in page.lines if abs(ln["top"] - ln["bottom"]) < 0.8]
    vs = [ln for ln in page.lines if abs(ln["x0"] - ln["x1"]) < 0.8]
    found = []
    for i, a in enumerate(hs):
        la = a["x1"] - a["x0"]
        if not lo <= la <= hi:
            continue
        for b in hs[i + 1:]:
            if abs(b["x0"] - a["x0"]) > 1.5 or abs(b["x1"] - a["x1"]) > 1.5:
                continue
            d = abs(b["top"] - a["top"])
            if abs(d - la) > 0.25 * la:
                continue
            top, bot = min(a["top"], b["top"]), max(a["top"], b["top"])
            x0, x1 = min(a["x0"], b["x0"]), max(a["x1"], b["x1"])
            # need vertical sides too
            left = [v for v in vs if abs(v["x0"] - x0) < 2.5 and v["top"] < top + 3 and v["bottom"] > bot - 3]
            right = [v for v in vs if abs(v["x0"] - x1) < 2.5 and v["top"] < top + 3 and v["bottom"] > bot - 3]
            if left and right:
                # stroke centre lines: x from the vertical sides, y from the horizontal ones
                found.append((left[0]["x0"], top, right[0]["x0"], bot))
    for r in page.rects:
        w, h = r["x1"] - r["x0"], r["bottom"] - r["top"]
        if lo <= w <= hi and abs(w - h) < 0.25 * w and not r.get("fill"):
            found.append((r["x0"], r["top"], r["x1"], r["bottom"]))
    # dedupe
    out: list = []
    for s in sorted(found, key=lambda s: (round(s[1]), s[0])):
        if not any(abs(s[0] - o[0]) < 2 and abs(s[1] - o[1]) < 2 for o in out):
            out.append(s)
    return out


def _find_marks(page, mark_pt: float = 14.17, qr_pt: float = 62.36) -> tuple[dict, float, tuple | None]:
    """Corner marks (squares of about ``mark_pt``) and the QR picture (about ``qr_pt``), as the
    definition prints them."""
    lo, hi = 0.55 * mark_pt, 1.75 * mark_pt
    imgs = [(i["x0"], i["top"], i["x1"], i["bottom"]) for i in page.images]
    small = [b for b in imgs if lo <= b[2] - b[0] <= hi and abs((b[2] - b[0]) - (b[3] - b[1])) < 1.5]
    if len(small) < 4:
        # filled rects as marks
        small += [(r["x0"], r["top"], r["x1"], r["bottom"]) for r in page.rects
                  if r.get("fill") and lo <= r["x1"] - r["x0"] <= hi
                  and abs((r["x1"] - r["x0"]) - (r["bottom"] - r["top"])) < 1.5]
    if len(small) < 4:
        raise LayoutError("corner marks not found in the rendered template",
                          "Mẫu không có đủ 4 dấu góc để căn chỉnh bản quét")
    cs = [((b[0] + b[2]) / 2, (b[1] + b[3]) / 2, b[2] - b[0]) for b in small]
    tl = min(cs, key=lambda c: c[0] + c[1])
    br = max(cs, key=lambda c: c[0] + c[1])
    tr = max(cs, key=lambda c: c[0] - c[1])
    bl = min(cs, key=lambda c: c[0] - c[1])
    marks = {"tl": tl[:2], "tr": tr[:2], "bl": bl[:2], "br": br[:2]}
    size = sum(c[2] for c in (tl, tr, bl, br)) / 4
    big = [b for b in imgs if b[2] - b[0] > max(hi, 0.5 * qr_pt) and abs((b[2] - b[0]) - (b[3] - b[1])) < 2]
    qr = min(big, key=lambda b: b[0] + b[1]) if big else None
    return marks, size, qr


def _lines_of_words(words):
    """Group words into lines by their 'top'."""
    lines: list[list[dict]] = []
    for w in sorted(words, key=lambda w: (round(w["top"]), w["x0"])):
        for ln in lines:
            if abs(ln[0]["top"] - w["top"]) < 3:
                ln.append(w)
                break
        else:
            lines.append([w])
    for ln in lines:
        ln.sort(key=lambda w: w["x0"])
    lines.sort(key=lambda ln: ln[0]["top"])
    return lines


def _find_phrase(lines, phrase: str, *, after_top: float = -1, min_score: float = 85):
    """Find a run of words on one line that matches ``phrase``; returns (line, i, j) words[i:j]."""
    target = _norm(phrase)
    n = len(target.split())
    best = None
    for ln in lines:
        if ln[0]["top"] <= after_top:
            continue
        for i in range(len(ln)):
            for j in range(i + max(1, n - 1), min(len(ln), i + n + 1) + 1):
                text = _norm(" ".join(w["text"] for w in ln[i:j]))
                s = fuzz.ratio(text, target)
                if s >= min_score and (best is None or s > best[0]):
                    best = (s, ln, i, j)
        if best and best[0] >= 99:
            break
    return None if best is None else best[1:]


def _bbox(words) -> tuple:
    return (min(w["x0"] for w in words), min(w["top"] for w in words),
            max(w["x1"] for w in words), max(w["bottom"] for w in words))


def build_layout(definition: FormDefinition | dict, pdf_bytes: bytes, *, variant: str | None = None,
                 page_number: int = 0) -> Layout:
    """Derive the layout of one (kind, version, variant) from a rendered sheet.

    ``pdf_bytes`` is any record of that variant rendered through docgen and
    converted to PDF (the value texts do not matter; the boxes, marks and
    labels do).
    """
    import pdfplumber

    definition = FormDefinition.coerce(definition)
    form_variant = definition.variant(variant)
    variant = form_variant.name if form_variant else (variant or "")
    items_def = form_variant.items if form_variant else ()
    with pdfplumber.open(io.BytesIO(pdf_bytes)) as pdf:
        page = pdf.pages[page_number]
        pw, ph = float(page.width), float(page.height)
        mk = definition.marks
        marks_abs, mark_size, qr_abs = _find_marks(page, mk.pt(mk.corner_mark_mm), mk.pt(mk.qr_mm))
        squares = _squares_from_lines(page, mk.pt(mk.box_mm))
        words = [dict(w, text=_nfc(w["text"])) for w in page.extract_words(keep_blank_chars=False)]
    ox, oy = marks_abs["tl"]
    lines = _lines_of_words(words)
    text_left = min((w["x0"] for w in words), default=ox)
    text_right = max((w["x1"] for w in words), default=marks_abs["tr"][0])

    def rel(b):  # (x0, top, x1, bottom) absolute -> (x, y, w, h) relative to origin
        return (round(b[0] - ox, 2), round(b[1] - oy, 2), round(b[2] - b[0], 2), round(b[3] - b[1], 2))

    # --- label text to the right of every square -------------------------
    sq_labels = []
    for s in squares:
        cy = (s[1] + s[3]) / 2
        row = [w for w in words if w["top"] < cy < w["bottom"] and w["x0"] >= s[2] - 1]
        row.sort(key=lambda w: w["x0"])
        nxt = min((o[0] for o in squares if o is not s and abs((o[1] + o[3]) / 2 - cy) < 5 and o[0] > s[2]),
                  default=1e9)
        picked, last_x = [], s[2]
        for w in row:
            if w["x0"] >= nxt or w["x0"] - last_x > (25 if not picked else 10):
                break
            picked.append(w)
            last_x = w["x1"]
        sq_labels.append((s, " ".join(w["text"] for w in picked)))
    sq_labels.sort(key=lambda t: (round(t[0][1] / 4), t[0][0]))

    # --- items -------------------------------------------------------------
    items: list[ItemLayout] = []
    pos = 0
    prev_bottom = -1.0
    for it in items_def:
        head = _find_phrase(lines, it.heading, after_top=prev_bottom, min_score=80)
        label_box = None
        if head:
            ln, i, j = head
            label_box = _bbox(ln[i:j])
            prev_bottom = label_box[1]
        if it.is_choice:
            opts = []
            for op in it.options:
                if pos >= len(sq_labels):
                    raise LayoutError(f"no tick box for item {it.key} option {op.key}",
                                      f"Không tìm thấy ô đánh dấu cho mục {it.number}, lựa chọn «{op.label}»")
                s, lab = sq_labels[pos]
                if fuzz.ratio(_norm(lab), _norm(op.label)) < 75:
                    raise LayoutError(f"box {pos} is labelled {lab!r}, expected {op.label!r}",
                                      f"Ô đánh dấu thứ {pos + 1} có nhãn «{lab}», mong đợi «{op.label}»")
                opts.append(OptionLayout(op.key, op.label, rel(s)))
                pos += 1
                prev_bottom = max(prev_bottom, s[1])
            items.append(ItemLayout(it.key, it.number, it.label, "choice", opts, None,
                                    rel(label_box) if label_box else None))
        else:
            area = None
            if head:
                ln, i, j = head
                top = label_box[3]
                bottom = top + 14 * it.lines
                # the dotted lines under the label
                for l2 in lines:
                    if l2[0]["top"] >= top - 1 and all(re.fullmatch(r"[.…·_]+", w["text"]) for w in l2):
                        if l2[0]["top"] - bottom > 30:
                            break
                        bottom = max(bottom, l2[-1]["bottom"])
                area = (text_left - 2, label_box[1] - 1, text_right + 2, bottom + 2)
                prev_bottom = bottom
            items.append(ItemLayout(it.key, it.number, it.label, "free_text", [],
                                    rel(area) if area else None, rel(label_box) if label_box else None))
    if pos < len(sq_labels):
        raise LayoutError(f"{len(sq_labels) - pos} tick boxes left over after the last option",
                          "Mẫu có nhiều ô đánh dấu hơn định nghĩa biểu mẫu")

    regions: dict[str, tuple] = {}
    # --- member name and date of birth -------------------------------------
    head = _find_phrase(lines, "Họ và tên đảng viên:", min_score=80) or _find_phrase(lines, "Họ và tên:", min_score=80)
    if head:
        ln, i, j = head
        lb = _bbox(ln[i:j])
        rest = ln[j:]
        end = text_right
        dob_box = None
        for k in range(1, len(rest)):
            if rest[k]["x0"] - rest[k - 1]["x1"] > 25:  # the tab before "Ngày sinh:"
                end = rest[k]["x0"] - 3
                tail = rest[k:]
                lab_end = next((n for n, w in enumerate(tail) if w["text"].endswith(":")), None)
                if lab_end is not None:
                    x0 = tail[lab_end]["x1"] + 1
                    dob_box = (x0, lb[1] - 2, text_right + 4, lb[3] + 2)
                break
        regions["member_full_name"] = rel((lb[2] + 1, lb[1] - 2, end, lb[3] + 2))
        if dob_box:
            regions["member_date_of_birth"] = rel(dob_box)
    for it in items:  # each free-text item's area is a region named by the item's key
        if it.type == "free_text" and it.area:
            regions[it.key] = it.area
    # --- signature blocks ----------------------------------------------------
    mid = (marks_abs["tl"][0] + marks_abs["tr"][0]) / 2
    last_item_bottom = prev_bottom
    cell = _find_phrase(lines, "BÍ THƯ", after_top=last_item_bottom, min_score=90)
    ward_hint = _find_phrase(lines, "(Ký tên, đóng dấu)", after_top=last_item_bottom, min_score=80)
    ward_head = _find_phrase(lines, "XÁC NHẬN CỦA", after_top=last_item_bottom, min_score=80)
    bottom_limit = marks_abs["bl"][1] - mark_size
    if cell:
        ln, i, j = cell
        cb = _bbox(ln[i:j])
        below = [w for w in words if w["top"] > cb[3] + 2 and w["x0"] > mid - 10]
        name_top = min((w["top"] for w in below), default=cb[3] + 70)
        sig_bottom = min(max(name_top - 1, cb[3] + 40), bottom_limit)
        regions["signature_cell"] = rel((mid + 5, cb[3] + 2, text_right, sig_bottom))
    if ward_hint or ward_head:
        ln, i, j = ward_hint or ward_head
        wb = _bbox(ln[i:j])
        top = wb[3] + 2
        bottom = regions.get("signature_cell", (0, 0, 0, 0))
        bottom = (bottom[1] + bottom[3] + oy) if "signature_cell" in regions else top + 60
        bottom = min(max(bottom + 25, top + 60), bottom_limit)
        regions["signature_ward"] = rel((text_left, top, mid - 5, bottom))
        head_top = _bbox(ward_head[0][ward_head[1]:ward_head[2]])[1] if ward_head else top - 50
        regions["stamp_ward"] = rel((text_left - 10, head_top - 5, mid + 25, min(bottom + 30, bottom_limit)))

    border = 1.0
    h = hashlib.sha256(pdf_bytes).hexdigest()[:16]
    return Layout(
        kind=definition.kind, version=definition.version, variant=variant,
        page_size=(round(pw, 2), round(ph, 2)), origin=(round(ox, 2), round(oy, 2)),
        marks={k: (round(v[0] - ox, 2), round(v[1] - oy, 2)) for k, v in marks_abs.items()},
        mark_size=round(mark_size, 2), qr=rel(qr_abs) if qr_abs else None, items=items,
        regions=regions, box_border=border, source_hash=h, kind_code=definition.kind_code,
        qr_quiet_modules=definition.marks.qr_quiet_modules)
