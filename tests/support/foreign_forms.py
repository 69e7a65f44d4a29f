"""Forms we did not print: sheets that cells retyped in their own layouts and wordings, filled by hand.

Independent of the reader (``ocr/`` is never imported): the page is drawn with PIL (real TrueType fonts,
full Vietnamese diacritics), marks with the hands of :mod:`tests.support.hand_fill`, and the page is
scanned / photographed by its degradation models (including pages turned by 90 / 180 / 270 degrees).

    from tests.support import foreign_forms as ff
    img, truth = ff.make_form(member, seed=3, split="tune", level="medium")

Three SPLITS, so the reader can be tuned on one and reported on the others:

* ``tune``: layouts :data:`TUNE_LAYOUTS`, wordings from the synonym table (official labels, the
  two-level scale "Tốt / Chưa tốt", "Thực hiện tốt / Thực hiện / Chưa thực hiện", abbreviations,
  no diacritics, options in reverse order), fonts :data:`TUNE_FONTS`;
* ``heldout``: other layouts (:data:`HELDOUT_LAYOUTS`), other fonts, and half the pages use wordings
  that are NOT in the synonym table (:data:`UNSEEN`), written here and never added to it;
* ``fresh``: run only once, at the end, and reported as the real figure: two layout styles no other split
  has (``boxes_right_inline``: a box after each option on one line; ``tick_after``: a hand tick after the
  chosen option, no printed box), fonts :data:`FRESH_FONTS`, wordings :data:`FRESH_SCALES` /
  :data:`FRESH_LABELS` / :data:`FRESH_PROPOSAL` (never in the synonym table), another seed offset.

Layouts: ``boxes_inline`` (a drawn box before each option, options on one line), ``table_ticks`` (a
table whose columns are a generic scale, one row per duty, a tick in a column; the proposal below as
boxes), ``circled`` (options on one line separated by "/", the chosen word circled), ``glyph_typed``
(☐ / ☒ typed in Word), ``free_text`` (the answer typed after the duty), ``boxes_after`` (each option on
its own line, a box after the text), ``x_before`` (options as a dashed list, a hand-written x before the
chosen one), ``table_cells`` (one row per duty, each option in its own cell, the chosen cell ticked).

Truth: ``answers`` (item key -> option key meant), ``wordings`` (item key -> option key -> the text
printed for it on this page), ``variant``, ``layout``, ``wording``, ``font``,
``member_id``, ``degradation``.
"""
from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from . import hand_fill as hf

ROOT = Path(__file__).resolve().parents[2]
DPI = 200
W, H = 1654, 2339  # A4 at 200 dpi

TUNE_LAYOUTS = ("boxes_inline", "table_ticks", "circled", "glyph_typed", "free_text")
HELDOUT_LAYOUTS = ("boxes_after", "x_before", "table_cells", "circled", "boxes_inline")
# FRESH: run only at the end, reported as the real figure: two layout styles no other split has
# (a box after each option on one line; a hand tick after the chosen option, no printed box), other
# fonts, other wordings (a three-level scale whose middle is "Tốt"), another seed offset
FRESH_LAYOUTS = ("boxes_right_inline", "tick_after", "x_before", "table_ticks")
_FONT_DIR = "/usr/share/fonts/truetype"
TUNE_FONTS = ("liberation/LiberationSerif-Regular.ttf", "dejavu/DejaVuSans.ttf")
HELDOUT_FONTS = ("liberation/LiberationSans-Regular.ttf", "dejavu/DejaVuSerif.ttf",
                 "dejavu/DejaVuSansCondensed.ttf")
FRESH_FONTS = ("dejavu/DejaVuSerifCondensed.ttf", "liberation2/LiberationMono-Regular.ttf",
               "liberation2/LiberationSerif-Bold.ttf")

# generic scales of a tick table's columns (best first), mapped to option ranks (0 best, -1 worst)
TUNE_SCALES = ((("Tốt", 0), ("Chưa tốt", -1)), (("Thực hiện tốt", 0), ("Thực hiện", 1), ("Chưa thực hiện", -1)))
# NOT in the synonym table (held-out only): other scales, other item labels
UNSEEN_SCALES = ((("Hoàn thành tốt", 0), ("Hoàn thành", 1), ("Chưa hoàn thành", -1)),
                 (("Tốt", 0), ("Trung bình", 1), ("Kém", -1)),
                 (("Đạt", 0), ("Chưa đạt", -1)))
UNSEEN_LABELS = {
    "setting_example": "Về nêu gương phẩm chất, đạo đức, lối sống của đảng viên",
    "citizen_duties": "Thực hiện nghĩa vụ của người công dân tại khu dân cư",
    "meetings": "Việc dự họp định kỳ với chi bộ nơi cư trú",
    "keeping_contact": "Quan hệ với chi ủy, tổ trưởng tổ dân phố, ban công tác Mặt trận",
    "local_activities": "Tham gia hoạt động và phong trào của khu dân cư",
    "cell_proposal": "Kiến nghị của chi ủy chi bộ nơi cư trú",
    "other_duties": "Làm các nhiệm vụ khác của đảng viên tại nơi ở",
}
UNSEEN_PROPOSAL = {"commend": "Tuyên dương", "no_proposal": "Không kiến nghị", "consider_discipline": "Đề nghị kỷ luật"}
# FRESH only (never in the synonym table, never looked at while tuning)
FRESH_SCALES = ((("Rất tốt", 0), ("Tốt", 1), ("Chưa tốt", -1)),
                (("Thực hiện đầy đủ", 0), ("Thực hiện chưa đầy đủ", 1), ("Không thực hiện", -1)),
                (("Tốt", 0), ("Không tốt", -1)))
FRESH_LABELS = {
    "setting_example": "Gương mẫu về phẩm chất chính trị và đạo đức lối sống",
    "citizen_duties": "Chấp hành nghĩa vụ công dân tại nơi ở",
    "meetings": "Sinh hoạt định kỳ cùng chi bộ nơi cư trú",
    "keeping_contact": "Liên hệ với chi ủy và tổ dân phố nơi cư trú",
    "local_activities": "Hưởng ứng các phong trào ở khu dân cư",
    "cell_proposal": "Ý kiến đề nghị của chi ủy nơi cư trú",
    "other_duties": "Các nhiệm vụ khác đảng viên thực hiện ở nơi cư trú",
}
FRESH_PROPOSAL = {"commend": "Đề nghị khen", "no_proposal": "Không đề xuất", "consider_discipline": "Đề nghị xem xét kỷ luật"}


def _definition():
    from forms.definition import load
    return load(ROOT / "templates" / "evaluation_sheet.v1.form.json")


def _synonyms():
    return json.loads((ROOT / "templates" / "evaluation_sheet.synonyms.json").read_text(encoding="utf-8"))


def _strip(s: str) -> str:
    """Text typed without diacritics (an old keyboard setting)."""
    s = unicodedata.normalize("NFD", s.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in s if not unicodedata.combining(c))


def _font(path: str, size: int):
    return ImageFont.truetype(f"{_FONT_DIR}/{path}", size)


class _Page:
    def __init__(self, font_path: str, size: int):
        self.img = Image.new("RGB", (W, H), (255, 255, 255))
        self.d = ImageDraw.Draw(self.img)
        self.font = _font(font_path, size)
        self.bold = self.font
        self.size = size
        self.y = 110
        self.marks: list = []  # (kind, x, y, w, h) drawn by hand after the text

    def text(self, x, s, *, font=None, y=None):
        f = font or self.font
        yy = self.y if y is None else y
        self.d.text((x, yy), s, font=f, fill=(20, 20, 20))
        return self.d.textbbox((x, yy), s, font=f)

    def line(self, s="", *, x=120, gap=1.55, font=None):
        bb = self.text(x, s, font=font) if s else None
        self.y += int(self.size * gap)
        return bb

    def box(self, x, y, side):
        self.d.rectangle([x, y, x + side, y + side], outline=(20, 20, 20), width=2)
        return (x, y, side, side)


def _wording(item, split: str, rng, style: str, scale, syn) -> tuple[str, dict]:
    """(label, option key -> wording) of a choice item for this page's wording style."""
    label = item.label
    opts = {o.key: o.label for o in item.options}
    keys = [o.key for o in item.options]
    tab = next((i for i in syn["items"] if i["key"] == item.key), {"labels": [], "options": {}})
    if style in ("unseen", "fresh"):
        label = (UNSEEN_LABELS if style == "unseen" else FRESH_LABELS).get(item.key, label)
        if item.key == "cell_proposal":
            opts = dict(UNSEEN_PROPOSAL if style == "unseen" else FRESH_PROPOSAL)
        else:
            opts = {keys[r]: w for w, r in scale}
    elif style in ("synonyms", "no_diacritics", "abbrev"):
        if tab["labels"] and rng.random() < 0.7:
            label = tab["labels"][int(rng.integers(len(tab["labels"])))]
        if scale and item.key != "cell_proposal" and style != "abbrev":
            opts = {keys[r]: w for w, r in scale}
            # a scale word that the table does not know for this item: the official wording
            for k in list(opts):
                words = [item.options[keys.index(k)].label] + tab["options"].get(k, [])
                if opts[k] not in words:
                    opts[k] = item.options[keys.index(k)].label
        else:
            for k in keys:
                alts = tab["options"].get(k, [])
                if alts and rng.random() < 0.6:
                    opts[k] = alts[int(rng.integers(len(alts)))]
    if style == "no_diacritics":
        label, opts = _strip(label), {k: _strip(v) for k, v in opts.items()}
    return label, opts


def make_form(member: dict, seed: int, *, split: str = "tune", level: str | None = "medium",
              layout: str | None = None, turn: int | None = None, variant: str | None = None,
              pen: str | None = None):
    """A retyped form about ``member`` filled by hand and degraded; (BGR image, truth)."""
    rng = np.random.default_rng(seed * 977 + {"tune": 0, "heldout": 500_009, "fresh": 7_300_013}[split])
    d = _definition()
    syn = _synonyms()
    layouts = {"tune": TUNE_LAYOUTS, "heldout": HELDOUT_LAYOUTS, "fresh": FRESH_LAYOUTS}[split]
    layout = layout or layouts[int(rng.integers(len(layouts)))]
    fonts = {"tune": TUNE_FONTS, "heldout": HELDOUT_FONTS, "fresh": FRESH_FONTS}[split]
    font = fonts[int(rng.integers(len(fonts)))]
    variant = variant or ("exempt" if rng.random() < 0.2 else "standard")
    if split == "tune":
        style = ["official", "synonyms", "synonyms", "no_diacritics", "abbrev"][int(rng.integers(5))]
        scales = TUNE_SCALES
    elif split == "heldout":
        style = ["unseen", "unseen", "synonyms", "official"][int(rng.integers(4))]
        scales = UNSEEN_SCALES if style == "unseen" else TUNE_SCALES
    else:
        style = ["fresh", "fresh", "synonyms", "official"][int(rng.integers(4))]
        scales = FRESH_SCALES if style == "fresh" else TUNE_SCALES
    scale = scales[int(rng.integers(len(scales)))] if (style != "official" or layout == "table_ticks") else None
    if layout == "table_ticks" and scale is None:
        scale = TUNE_SCALES[0]
    size = int(rng.integers(30, 38))
    p = _Page(font, size)
    hand = hf.random_hand(rng)
    if pen:
        hand.pen = hf.PENS[pen]
    items = [it for it in d.items(variant)]
    # header
    p.line((member.get("ward_party_body_name") or "ĐẢNG BỘ PHƯỜNG HỒNG HÀ").upper())
    p.line((member.get("residence_cell_name") or "Chi bộ").upper())
    p.y += size // 2
    p.line(["PHIẾU NHẬN XÉT", "BẢN NHẬN XÉT ĐẢNG VIÊN", "PHIẾU NHẬN XÉT ĐẢNG VIÊN"][int(rng.integers(3))],
           x=W // 2 - 260, font=_font(font, size + 8))
    p.line("Đảng viên đang công tác giữ mối liên hệ với tổ chức đảng và nhân dân nơi cư trú", x=120)
    dob = member.get("date_of_birth")
    dob = dob.strftime("%d/%m/%Y") if hasattr(dob, "strftime") else str(dob or "")
    p.line(f"Họ và tên đảng viên: {member['full_name']}      Ngày sinh: {dob}")
    p.line(f"Đơn vị công tác: {member.get('workplace_org_name', '')}")
    p.line(f"Chi bộ nơi cư trú: {member.get('residence_cell_name', '')}")
    p.y += size // 2
    answers: dict = {}
    choice = [it for it in items if it.is_choice]
    words = {it.key: _wording(it, split, rng, style, scale, syn) for it in choice}
    for it in choice:
        keys = list(words[it.key][1])
        answers[it.key] = keys[int(rng.integers(len(keys)))]
    reverse = style != "official" and rng.random() < 0.25  # options listed worst first
    box = int(size * 0.8)
    if layout in ("table_ticks", "table_cells"):
        _table(p, layout, choice, words, answers, scale, rng, box, hand, reverse)
    for n, it in enumerate(items, 1):
        if not it.is_choice:
            p.line(f"{n}. {it.label}: " + "." * 60)
            p.line("." * 90)
            continue
        if layout in ("table_ticks", "table_cells") and (layout == "table_cells" or it.key != "cell_proposal"):
            continue
        label, opts = words[it.key]
        order = list(opts)[::-1] if reverse else list(opts)
        lay = "boxes_inline" if layout == "table_ticks" else layout
        if lay == "free_text":
            p.line(f"{n}. {label}: {opts[answers[it.key]]}")
            continue
        if lay == "circled":
            head = f"{n}. {label}: "
            bb = p.text(120, head)
            x = bb[2] + 10
            if x > W - 700:
                p.y += int(size * 1.5)
                x = 180
            for j, k in enumerate(order):
                wb = p.text(x, opts[k])
                if k == answers[it.key]:
                    p.marks.append(("circle", wb))
                x = wb[2] + 12
                if j < len(order) - 1:
                    sb = p.text(x, "/")
                    x = sb[2] + 12
            p.y += int(size * 1.6)
            continue
        p.line(f"{n}. {label}")
        if lay == "boxes_right_inline":
            x = 180
            for k in order:
                wb = p.text(x, opts[k])
                b = p.box(wb[2] + 12, p.y + size * 0.15, box)
                if k == answers[it.key]:
                    p.marks.append(("box", b))
                x = wb[2] + 12 + box + int(size * rng.uniform(1.6, 2.6))
            p.y += int(size * 1.7)
        elif lay == "tick_after":
            for k in order:
                wb = p.text(230, f"+ {opts[k]}")
                if k == answers[it.key]:
                    p.marks.append(("tick", (wb[2] + size * 0.6, wb[1] - 2, size, size)))
                p.y += int(size * 1.5)
        elif lay in ("boxes_inline", "glyph_typed"):
            x = 180
            for k in order:
                if lay == "glyph_typed":
                    g = "☒" if k == answers[it.key] else "☐"
                    gb = p.text(x, g, font=_font("dejavu/DejaVuSans.ttf", size))
                    x = gb[2] + 10
                else:
                    b = p.box(x, p.y + size * 0.15, box)
                    if k == answers[it.key]:
                        p.marks.append(("box", b))
                    x += box + 14
                wb = p.text(x, opts[k])
                x = wb[2] + int(size * rng.uniform(1.5, 2.5))
            p.y += int(size * 1.7)
        elif lay == "boxes_after":
            for k in order:
                p.text(200, opts[k])
                b = p.box(900, p.y + size * 0.1, box)
                if k == answers[it.key]:
                    p.marks.append(("box", b))
                p.y += int(size * 1.5)
        elif lay == "x_before":
            for k in order:
                wb = p.text(230, f"- {opts[k]}")
                if k == answers[it.key]:
                    p.marks.append(("x", (wb[0] - size * 1.3, wb[1] - 4, size, size)))
                p.y += int(size * 1.5)
    p.y += size
    p.line("T/M CHI ỦY                                        XÁC NHẬN CỦA ĐẢNG ỦY", x=200)
    img = cv2.cvtColor(np.asarray(p.img), cv2.COLOR_RGB2BGR).copy()
    for kind, b in p.marks:
        _hand_mark(img, kind, b, hand, rng)
    truth = {"answers": answers, "variant": variant, "layout": layout, "wording": style, "font": font,
             "split": split, "member_id": member.get("id"), "reverse": reverse,
             "wordings": {k: dict(v[1]) for k, v in words.items()}}
    if level is None:
        return img, truth
    out, info = hf.degrade(img, level, seed, turn=turn)
    truth["degradation"] = info
    return out, truth


def _hand_mark(img, kind, b, hand, rng):
    if kind == "circle":
        x0, y0, x1, y1 = b
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        ax, ay = (x1 - x0) / 2 + rng.uniform(12, 24), (y1 - y0) / 2 + rng.uniform(9, 16)
        t = np.linspace(rng.uniform(0, 1), rng.uniform(0, 1) + 2 * np.pi * rng.uniform(1.02, 1.15), 60)
        pts = np.stack([cx + ax * np.cos(t), cy + ay * np.sin(t)], axis=1)
        hand.stroke(img, pts, rng, width=max(2.0, hand.width * 30))
    elif kind in ("x", "tick"):
        x, y, w, h = b
        hf.draw(img, (int(x), int(y), int(w), int(h)), "cross" if kind == "x" else "tick", hand, rng)
    else:
        style = hand.favourite if hand.favourite != "overflow" else "tick"
        hf.draw(img, tuple(int(v) for v in b), style, hand, rng)


def _table(p, layout, choice, words, answers, scale, rng, box, hand, reverse):
    """table_ticks: columns of a generic scale (the proposal is left for below the table);
    table_cells: one cell per option."""
    size = p.size
    x0, x1 = 100, W - 100
    rows = [it for it in choice if layout == "table_cells" or it.key != "cell_proposal"]
    if layout == "table_ticks":
        cols = [w for w, _r in scale]
        if reverse:
            cols = cols[::-1]
        lab_w = x1 - x0 - 200 * len(cols)
        xs = [x0, x0 + lab_w] + [x0 + lab_w + 200 * (j + 1) for j in range(len(cols))]
        top = p.y
        p.text(x0 + 15, "Nội dung nhận xét")
        for j, c in enumerate(cols):
            p.text(xs[j + 1] + 12, c, font=_font(_FONT_SMALL, int(size * 0.75)))
        p.y += int(size * 2.0)
        ys = [top, p.y - 10]
        for n, it in enumerate(rows, 1):
            label, opts = words[it.key]
            lines = _wrap(p, f"{n}. {label}", lab_w - 30)
            y = p.y
            for ln in lines:
                p.text(x0 + 15, ln)
                p.y += int(size * 1.3)
            p.y += 10
            keys = list(opts)
            for j, c in enumerate(cols):
                rank = dict(scale)[c]
                if keys[rank] == answers[it.key]:
                    cx = (xs[j + 1] + xs[j + 2]) / 2
                    p.marks.append(("box", (cx - box / 2, (y + p.y) / 2 - box / 2 - 5, box, box)))
            ys.append(p.y - 5)
            p.y += 5
        for y in ys:
            p.d.line([x0, y, x1, y], fill=(30, 30, 30), width=2)
        for x in xs + [x1]:
            p.d.line([x, top, x, ys[-1]], fill=(30, 30, 30), width=2)
        p.y += size
        return
    # table_cells
    lab_w = 620
    top = p.y
    ys = [top]
    p.y += 12
    for n, it in enumerate(rows, 1):
        label, opts = words[it.key]
        keys = list(opts)[::-1] if reverse else list(opts)
        cw = (x1 - x0 - lab_w) // len(keys)
        y = p.y
        for ln in _wrap(p, f"{n}. {label}", lab_w - 30):
            p.text(x0 + 12, ln)
            p.y += int(size * 1.3)
        for j, k in enumerate(keys):
            cx0 = x0 + lab_w + j * cw
            yy = y
            for ln in _wrap(p, opts[k], cw - 30, font=_font(_FONT_SMALL, int(size * 0.85))):
                p.text(cx0 + 12, ln, y=yy, font=_font(_FONT_SMALL, int(size * 0.85)))
                yy += int(size * 1.1)
            if k == answers[it.key]:
                p.marks.append(("box", (cx0 + cw - box - 18, y + 4, box, box)))
        p.y = max(p.y, yy) + 10
        ys.append(p.y)
        p.y += 12
    for y in ys:
        p.d.line([x0, y, x1, y], fill=(30, 30, 30), width=2)
    xs = [x0, x0 + lab_w] + [x0 + lab_w + j * ((x1 - x0 - lab_w) // 3) for j in (1, 2)] + [x1]
    for x in xs:
        p.d.line([x, top, x, ys[-1]], fill=(30, 30, 30), width=2)
    p.y += size


_FONT_SMALL = "dejavu/DejaVuSansCondensed.ttf"


def _wrap(p, text, width, font=None):
    f = font or p.font
    out, cur = [], ""
    for w in text.split():
        t = (cur + " " + w).strip()
        if p.d.textlength(t, font=f) > width and cur:
            out.append(cur)
            cur = w
        else:
            cur = t
    return out + ([cur] if cur else [])
