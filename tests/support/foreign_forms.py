"""Forms we did not print: sheets that cells retyped in their own layouts and wordings, filled by hand.

Independent of the reader (``ocr/`` is never imported): the page is drawn with PIL (real TrueType fonts,
full Vietnamese diacritics), marks with the hands of :mod:`tests.support.hand_fill`, and the page is
scanned / photographed by its degradation models (including pages turned by 90 / 180 / 270 degrees).

    from tests.support import foreign_forms as ff
    img, truth = ff.make_form(member, seed=3, split="tune", level="medium")

Four SPLITS (:data:`SPLITS`), so the reader can be tuned on some and reported on one nobody looked at:

* ``tune``: layouts :data:`TUNE_LAYOUTS`, wordings from the synonym table (official labels, the
  two-level scale "Tốt / Chưa tốt", "Thực hiện tốt / Thực hiện / Chưa thực hiện", abbreviations,
  no diacritics, options in reverse order), fonts :data:`TUNE_FONTS`;
* ``heldout``: other layouts (:data:`HELDOUT_LAYOUTS`), other fonts, and half the pages use wordings
  that are NOT in the synonym table (:data:`UNSEEN`), written here and never added to it;
* ``fresh``: two layout styles no other split has (``boxes_right_inline``: a box after each option on
  one line; ``tick_after``: a hand tick after the chosen option, no printed box), fonts
  :data:`FRESH_FONTS`, wordings :data:`FRESH_SCALES` / :data:`FRESH_LABELS` / :data:`FRESH_PROPOSAL`
  (never in the synonym table), another seed offset.  It has been looked at: a development split now;
* ``report``: run ONCE, by the coordinator, at the end, never tuned on (bench/foreign_forms.py
  ``--split report``): four layout styles no other split has (:data:`REPORT_LAYOUTS`: ``glyph_list``,
  ``table_answer``, ``brackets``, ``lettered``) and two existing ones for balance, page features (duty labels
  in bold capitals, the member's details in a header table, narrow margins), fonts :data:`REPORT_FONTS`,
  wordings :data:`REPORT_SCALES` / :data:`REPORT_LABELS` / :data:`REPORT_PROPOSAL` in neither the synonym
  table nor another split (a quarter of the pages without diacritics, a quarter official; some worst
  first), the report hands of :mod:`tests.support.hand_fill` (``pens="report"``) and its report scanner,
  its own seed offset.

Layouts: ``boxes_inline`` (a drawn box before each option, options on one line), ``table_ticks`` (a
table whose columns are a generic scale, one row per duty, a tick in a column; the proposal below as
boxes), ``circled`` (options on one line separated by "/", the chosen word circled), ``glyph_typed``
(☐ / ☒ typed in Word), ``free_text`` (the answer typed after the duty), ``boxes_after`` (each option on
its own line, a box after the text), ``x_before`` (options as a dashed list, a hand-written x before the
chosen one), ``table_cells`` (one row per duty, each option in its own cell, the chosen cell ticked);
report only: ``glyph_list`` (one option per line after a typed "□", the hand's mark over the glyph),
``table_answer`` (two columns: the duty | its options one per line, the chosen one ticked after its word),
``brackets`` ("(Tốt)  (Chưa tốt)", the chosen one underlined or circled), ``lettered`` ("a) Tốt   b) Chưa
tốt" on the next line, the chosen letter circled).

Truth: ``answers`` (item key -> option key meant), ``wordings`` (item key -> option key -> the text
printed for it on this page), ``labels`` (item key -> the duty as typed), ``variant``, ``layout``,
``wording``, ``font``, ``size``, ``features`` (report pages), ``pen``, ``member_id``, ``degradation``;
``marks`` (item key -> [kind, box] of the hand's mark, in the undegraded page's pixels) and ``printed``
(item key -> option key -> text, position, font, size and box as typed) where the layout records them
(always on report pages), so a page can be checked without the reader.  ``hand_marks=False`` gives the
same page before the hand marked it.
"""
from __future__ import annotations

import functools
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
# REPORT only: run once at the end by the coordinator, never tuned on and never looked at while tuning.
# Four layout styles no other split has (a vertical list with a typed "□" before each option; a two-column
# table whose answer cell lists the options one per line, the chosen one ticked after its word; options in
# brackets with the chosen one underlined or circled; options lettered "a) b) c)" with the chosen letter
# circled) and two existing ones for balance; page features (:func:`_report_features`): duty labels in bold
# capitals, the member's details in a header table, narrow margins
REPORT_LAYOUTS = ("glyph_list", "table_answer", "brackets", "lettered", "table_ticks", "circled")
# body font -> its bold (duty labels in bold); no other split uses these files
# (DejaVu Sans Mono lacks half the Vietnamese letters with two marks, e.g. "ổ": not used)
REPORT_FONTS = {"liberation2/LiberationMono-Bold.ttf": "liberation2/LiberationMono-Bold.ttf",
                "liberation2/LiberationSerif-Italic.ttf": "liberation2/LiberationSerif-BoldItalic.ttf",
                "liberation2/LiberationSans-Italic.ttf": "liberation2/LiberationSans-BoldItalic.ttf",
                "dejavu/DejaVuSansCondensed-Bold.ttf": "dejavu/DejaVuSans-Bold.ttf"}
REPORT_GLYPH_FONT = "dejavu/DejaVuSans.ttf"  # "□" (U+25A1, Insert > Symbol in Word)
# wordings in neither the synonym table nor another split (checked by tests/ocr/test_foreign_forms.py);
# rank 0 = best option, -1 = worst
REPORT_SCALES = ((("Xuất sắc", 0), ("Đạt yêu cầu", 1), ("Không đạt yêu cầu", -1)),
                 (("Có", 0), ("Không", -1)),
                 (("Làm tốt", 0), ("Làm được", 1), ("Chưa làm được", -1)),
                 (("Nghiêm túc", 0), ("Chưa nghiêm túc", -1)))
REPORT_LABELS = {
    "setting_example": "Giữ gìn phẩm chất, đạo đức và lối sống của người đảng viên",
    "citizen_duties": "Chấp hành chủ trương, pháp luật và quy ước ở khu phố",
    "meetings": "Dự các buổi sinh hoạt với chi bộ nơi ở",
    "keeping_contact": "Giữ liên lạc với chi ủy, tổ trưởng và Mặt trận ở khu dân cư",
    "local_activities": "Hưởng ứng các cuộc vận động, phong trào thi đua tại khu phố",
    "cell_proposal": "Chi ủy nơi ở kiến nghị",
    "other_duties": "Làm tròn các việc khác được giao ở nơi cư trú",
}
REPORT_PROPOSAL = {"commend": "Khen thưởng", "no_proposal": "Không có ý kiến",
                   "consider_discipline": "Kiến nghị xem xét kỷ luật"}
SPLITS = ("tune", "heldout", "fresh", "report")
_SEED_OFFSET = {"tune": 0, "heldout": 500_009, "fresh": 7_300_013, "report": 9_100_019}


def _definition():
    from forms.definition import load
    return load(ROOT / "templates" / "evaluation_sheet.v1.form.json")


def _synonyms():
    return json.loads((ROOT / "templates" / "evaluation_sheet.synonyms.json").read_text(encoding="utf-8"))


def _strip(s: str) -> str:
    """Text typed without diacritics (an old keyboard setting)."""
    s = unicodedata.normalize("NFD", s.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in s if not unicodedata.combining(c))


@functools.lru_cache(maxsize=64)
def _font(path: str, size: int):
    return ImageFont.truetype(f"{_FONT_DIR}/{path}", size)


class _Page:
    def __init__(self, font_path: str, size: int):
        self.img = Image.new("RGB", (W, H), (255, 255, 255))
        self.d = ImageDraw.Draw(self.img)
        self.font = _font(font_path, size)
        self.font_path = font_path
        self.bold = self.font
        self.size = size
        self.y = 110
        self.margin = 120
        self.marks: list = []  # (kind, x, y, w, h) drawn by hand after the text
        self.marked: dict = {}  # item key -> (kind, box) of the hand's mark for it
        self.printed: dict = {}  # item key -> option key -> what was typed for it and where

    def mark(self, item: str, kind: str, b):
        self.marks.append((kind, b))
        self.marked[item] = [kind, [float(v) for v in b]]

    def option(self, item: str, key: str, x, s: str, *, font_path: str | None = None, size: int | None = None,
               y=None):
        """Type an option's wording and keep where (truth ``printed``: the page can be checked without OCR)."""
        fp, sz = font_path or self.font_path, size or self.size
        yy = self.y if y is None else y
        bb = self.text(x, s, font=_font(fp, sz), y=yy)
        self.printed.setdefault(item, {})[key] = {"text": s, "xy": [float(x), float(yy)], "font": fp, "size": sz,
                                                  "bbox": [float(v) for v in bb]}
        return bb

    def text(self, x, s, *, font=None, y=None):
        f = font or self.font
        yy = self.y if y is None else y
        self.d.text((x, yy), s, font=f, fill=(20, 20, 20))
        return self.d.textbbox((x, yy), s, font=f)

    def line(self, s="", *, x=None, gap=1.55, font=None):
        bb = self.text(self.margin if x is None else x, s, font=font) if s else None
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
    if style in ("unseen", "fresh", "report", "report_plain"):
        own = {"unseen": (UNSEEN_LABELS, UNSEEN_PROPOSAL), "fresh": (FRESH_LABELS, FRESH_PROPOSAL)}.get(
            style, (REPORT_LABELS, REPORT_PROPOSAL))
        label = own[0].get(item.key, label)
        if item.key == "cell_proposal":
            opts = dict(own[1])
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
    if style in ("no_diacritics", "report_plain"):
        label, opts = _strip(label), {k: _strip(v) for k, v in opts.items()}
    return label, opts


def make_form(member: dict, seed: int, *, split: str = "tune", level: str | None = "medium",
              layout: str | None = None, turn: int | None = None, variant: str | None = None,
              pen: str | None = None, hand_marks: bool = True):
    """A retyped form about ``member`` filled by hand and degraded; (BGR image, truth).
    ``hand_marks=False``: the same page as typed, before the hand marked it (for checking the marks)."""
    rng = np.random.default_rng(seed * 977 + _SEED_OFFSET[split])
    d = _definition()
    syn = _synonyms()
    layouts = {"tune": TUNE_LAYOUTS, "heldout": HELDOUT_LAYOUTS, "fresh": FRESH_LAYOUTS,
               "report": REPORT_LAYOUTS}[split]
    layout = layout or layouts[int(rng.integers(len(layouts)))]
    fonts = {"tune": TUNE_FONTS, "heldout": HELDOUT_FONTS, "fresh": FRESH_FONTS, "report": tuple(REPORT_FONTS)}[split]
    font = fonts[int(rng.integers(len(fonts)))]
    variant = variant or ("exempt" if rng.random() < 0.2 else "standard")
    if split == "tune":
        style = ["official", "synonyms", "synonyms", "no_diacritics", "abbrev"][int(rng.integers(5))]
        scales = TUNE_SCALES
    elif split == "heldout":
        style = ["unseen", "unseen", "synonyms", "official"][int(rng.integers(4))]
        scales = UNSEEN_SCALES if style == "unseen" else TUNE_SCALES
    elif split == "fresh":
        style = ["fresh", "fresh", "synonyms", "official"][int(rng.integers(4))]
        scales = FRESH_SCALES if style == "fresh" else TUNE_SCALES
    else:  # report: mostly its own wordings (a quarter without diacritics), a quarter the official ones
        style = ["report", "report", "report_plain", "official"][int(rng.integers(4))]
        scales = REPORT_SCALES if style != "official" else TUNE_SCALES
    scale = scales[int(rng.integers(len(scales)))] if (style != "official" or layout == "table_ticks") else None
    if layout == "table_ticks" and scale is None:
        scale = TUNE_SCALES[0]
    if style == "report_plain":  # a tick table's column heads are typed without diacritics too
        scale = tuple((_strip(w), r) for w, r in scale)
    size = int(rng.integers(30, 38))
    p = _Page(font, size)
    hand = hf.random_hand(rng, "report" if split == "report" else "tuning")
    if pen:
        hand.pen = hf.PENS.get(pen) or hf.REPORT_PENS[pen]
    feats = _report_features(rng) if split == "report" else {}
    if feats.get("narrow"):
        p.margin = 60
    items = [it for it in d.items(variant)]
    # header
    p.line((member.get("ward_party_body_name") or "ĐẢNG BỘ PHƯỜNG HỒNG HÀ").upper())
    p.line((member.get("residence_cell_name") or "Chi bộ").upper())
    p.y += size // 2
    p.line(["PHIẾU NHẬN XÉT", "BẢN NHẬN XÉT ĐẢNG VIÊN", "PHIẾU NHẬN XÉT ĐẢNG VIÊN"][int(rng.integers(3))],
           x=W // 2 - 260, font=_font(font, size + 8))
    p.line("Đảng viên đang công tác giữ mối liên hệ với tổ chức đảng và nhân dân nơi cư trú")
    dob = member.get("date_of_birth")
    dob = dob.strftime("%d/%m/%Y") if hasattr(dob, "strftime") else str(dob or "")
    if feats.get("header_table"):
        _header_table(p, member, dob)
    else:
        p.line(f"Họ và tên đảng viên: {member['full_name']}      Ngày sinh: {dob}")
        p.line(f"Đơn vị công tác: {member.get('workplace_org_name', '')}")
        p.line(f"Chi bộ nơi cư trú: {member.get('residence_cell_name', '')}")
    p.y += size // 2
    answers: dict = {}
    choice = [it for it in items if it.is_choice]
    words = {it.key: _wording(it, split, rng, style, scale, syn) for it in choice}
    if split == "report" and layout == "table_ticks":  # a tick table's rows offer its columns (the scale)
        for it in choice:
            if it.key != "cell_proposal":
                keys = [o.key for o in it.options]
                words[it.key] = (words[it.key][0], {keys[r]: w for w, r in scale})
    if feats.get("upper"):  # duty labels typed in capitals (and bold, below)
        words = {k: (lab.upper(), o) for k, (lab, o) in words.items()}
    for it in choice:
        keys = list(words[it.key][1])
        answers[it.key] = keys[int(rng.integers(len(keys)))]
    reverse = style != "official" and rng.random() < 0.25  # options listed worst first
    box = int(size * 0.8)
    bold = _font(REPORT_FONTS[font], size) if feats.get("upper") else None
    if layout in ("table_ticks", "table_cells"):
        _table(p, layout, choice, words, answers, scale, rng, box, hand, reverse,
               small=font if split == "report" else _FONT_SMALL)
    elif layout == "table_answer":
        _answer_table(p, choice, words, answers, reverse, bold)
    for n, it in enumerate(items, 1):
        if not it.is_choice:
            p.line(f"{n}. {it.label}: " + "." * 60)
            p.line("." * 90)
            continue
        if layout in ("table_ticks", "table_cells", "table_answer") and (
                layout != "table_ticks" or it.key != "cell_proposal"):
            continue
        label, opts = words[it.key]
        order = list(opts)[::-1] if reverse else list(opts)
        lay = "boxes_inline" if layout == "table_ticks" else layout
        if lay in ("glyph_list", "brackets", "lettered"):
            _report_item(p, lay, f"{n}. {label}", it.key, opts, order, answers[it.key], rng, bold, feats)
            continue
        if lay == "free_text":
            p.line(f"{n}. {label}: {opts[answers[it.key]]}")
            continue
        if lay == "circled":
            head = f"{n}. {label}: "
            if split == "report":  # a long duty wraps (wide fonts), as Word does
                *first, head = _wrap(p, head, W - 2 * p.margin)
                for ln in first:
                    p.line(ln)
                head += " "
            bb = p.text(120, head)
            x = bb[2] + 10
            if x > W - 700:
                p.y += int(size * 1.5)
                x = 180
            for j, k in enumerate(order):
                if split == "report" and x + p.d.textlength(opts[k], font=p.font) > W - p.margin:
                    p.y += int(size * 1.5)
                    x = 180
                wb = p.option(it.key, k, x, opts[k])
                if k == answers[it.key]:
                    p.mark(it.key, "circle", wb)
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
                    p.mark(it.key, "box", b)
                x = wb[2] + 12 + box + int(size * rng.uniform(1.6, 2.6))
            p.y += int(size * 1.7)
        elif lay == "tick_after":
            for k in order:
                wb = p.text(230, f"+ {opts[k]}")
                if k == answers[it.key]:
                    p.mark(it.key, "tick", (wb[2] + size * 0.6, wb[1] - 2, size, size))
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
                        p.mark(it.key, "box", b)
                    x += box + 14
                wb = p.option(it.key, k, x, opts[k])
                x = wb[2] + int(size * rng.uniform(1.5, 2.5))
            p.y += int(size * 1.7)
        elif lay == "boxes_after":
            for k in order:
                p.text(200, opts[k])
                b = p.box(900, p.y + size * 0.1, box)
                if k == answers[it.key]:
                    p.mark(it.key, "box", b)
                p.y += int(size * 1.5)
        elif lay == "x_before":
            for k in order:
                wb = p.text(230, f"- {opts[k]}")
                if k == answers[it.key]:
                    p.mark(it.key, "x", (wb[0] - size * 1.3, wb[1] - 4, size, size))
                p.y += int(size * 1.5)
    p.y += size
    p.line("T/M CHI ỦY                                        XÁC NHẬN CỦA ĐẢNG ỦY", x=200)
    img = cv2.cvtColor(np.asarray(p.img), cv2.COLOR_RGB2BGR).copy()
    for kind, b in (p.marks if hand_marks else ()):
        _hand_mark(img, kind, b, hand, rng)
    truth = {"answers": answers, "variant": variant, "layout": layout, "wording": style, "font": font,
             "split": split, "member_id": member.get("id"), "reverse": reverse,
             "wordings": {k: dict(v[1]) for k, v in words.items()},
             "labels": {k: v[0] for k, v in words.items()}, "features": feats, "size": size,
             "pen": list(hand.pen), "marks": p.marked, "printed": p.printed}
    if level is None:
        return img, truth
    out, info = hf.degrade(img, level, seed, turn=turn, model="report" if split == "report" else "standard")
    truth["degradation"] = info
    return out, truth


def _hand_mark(img, kind, b, hand, rng):
    report = hand.pens == "report"
    if kind == "underline":  # a line under the chosen word, sometimes twice
        x0, y0, x1, y1 = b
        for k in range(1 + int(rng.random() < 0.3)):
            yy = y1 + 6 + 7 * k
            pts = [(x0 - rng.uniform(0, 15), yy + rng.normal(0, 2)), ((x0 + x1) / 2, yy + rng.normal(0, 3)),
                   (x1 + rng.uniform(0, 20), yy - rng.uniform(0, 8))]
            hand.stroke(img, pts, rng, width=max(2.0, hand.width * 30))
    elif kind == "circle":
        x0, y0, x1, y1 = b
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        ax, ay = (x1 - x0) / 2 + rng.uniform(12, 24), (y1 - y0) / 2 + rng.uniform(9, 16)
        t = np.linspace(rng.uniform(0, 1), rng.uniform(0, 1) + 2 * np.pi * rng.uniform(1.02, 1.15), 60)
        pts = np.stack([cx + ax * np.cos(t), cy + ay * np.sin(t)], axis=1)
        hand.stroke(img, pts, rng, width=max(2.0, hand.width * 30))
    elif kind in ("x", "tick"):
        x, y, w, h = b
        shape = {"x": "split_cross" if report else "cross", "tick": "hook_tick" if report else "tick"}[kind]
        hf.draw(img, (int(x), int(y), int(w), int(h)), shape, hand, rng)
    else:
        style = hand.favourite if hand.favourite != "overflow" else "tick"
        hf.draw(img, tuple(int(v) for v in b), style, hand, rng)


def _table(p, layout, choice, words, answers, scale, rng, box, hand, reverse, small=None):
    """table_ticks: columns of a generic scale (the proposal is left for below the table);
    table_cells: one cell per option.  ``small``: the font of the column heads and cells."""
    small = small or _FONT_SMALL
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
        heads = {}
        hs = int(size * 0.75)
        if small != _FONT_SMALL:  # the report's own fonts: the heads made to fit their column, as Word does
            while hs > size // 2 and max(p.d.textlength(c, font=_font(small, hs)) for c in cols) > 200 - 20:
                hs -= 1
        for j, c in enumerate(cols):
            heads[c] = (xs[j + 1] + 12, p.y)
            p.text(xs[j + 1] + 12, c, font=_font(small, hs))
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
                bb = p.d.textbbox(heads[c], c, font=_font(small, hs))
                p.printed.setdefault(it.key, {})[keys[rank]] = {
                    "text": c, "xy": list(heads[c]), "font": small, "size": hs,
                    "bbox": [float(v) for v in bb]}
                if keys[rank] == answers[it.key]:
                    cx = (xs[j + 1] + xs[j + 2]) / 2
                    p.mark(it.key, "box", (cx - box / 2, (y + p.y) / 2 - box / 2 - 5, box, box))
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
            for ln in _wrap(p, opts[k], cw - 30, font=_font(small, int(size * 0.85))):
                p.text(cx0 + 12, ln, y=yy, font=_font(small, int(size * 0.85)))
                yy += int(size * 1.1)
            if k == answers[it.key]:
                p.mark(it.key, "box", (cx0 + cw - box - 18, y + 4, box, box))
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


def _report_features(rng) -> dict:
    """Page features of the report split: duty labels in bold capitals, the member's details in a table,
    narrow margins, and how the chosen bracketed option is marked (underlined or circled)."""
    return {"upper": bool(rng.random() < 0.4), "header_table": bool(rng.random() < 0.5),
            "narrow": bool(rng.random() < 0.35), "bracket_mark": "underline" if rng.random() < 0.5 else "circle",
            "indent": round(float(rng.uniform(1.2, 2.2)), 2)}


def _header_table(p, member, dob):
    """The member's details in a bordered two-column table (field | value)."""
    rows = [("Họ và tên", member["full_name"]), ("Ngày sinh", dob),
            ("Đơn vị công tác", member.get("workplace_org_name", "")),
            ("Chi bộ nơi cư trú", member.get("residence_cell_name", ""))]
    x0, x1 = p.margin - 20, W - p.margin + 20
    xm = x0 + int(p.d.textlength("Chi bộ nơi cư trú", font=p.font)) + 50
    ys = [p.y]
    for k, v in rows:
        p.y += 10
        p.text(x0 + 15, k)
        p.text(xm + 15, str(v))
        p.y += int(p.size * 1.35)
        ys.append(p.y)
    for y in ys:
        p.d.line([x0, y, x1, y], fill=(30, 30, 30), width=2)
    for x in (x0, xm, x1):
        p.d.line([x, ys[0], x, ys[-1]], fill=(30, 30, 30), width=2)
    p.y += p.size // 2


def _report_item(p, lay, head, item, opts, order, answer, rng, bold, feats):
    """One duty in a report layout: ``glyph_list`` (a typed "□" before each option, one per line, the chosen
    one marked by hand over the glyph), ``brackets`` ("(Tốt)  (Chưa tốt)", the chosen one underlined or
    circled) or ``lettered`` ("a) Tốt   b) Chưa tốt", the chosen letter circled)."""
    size = p.size
    indent = p.margin + int(size * feats["indent"])
    if lay == "brackets":
        hb = p.text(p.margin, head + ":", font=bold)
        x = hb[2] + 20
        widths = [p.d.textlength(f"({opts[k]})", font=p.font) + size for k in order]
        if x + sum(widths) > W - p.margin:
            p.y += int(size * 1.45)
            x = indent
        for k in order:
            if x + p.d.textlength(f"({opts[k]})", font=p.font) > W - p.margin:
                p.y += int(size * 1.45)
                x = indent
            wb = p.option(item, k, x, f"({opts[k]})")
            if k == answer:
                p.mark(item, feats.get("bracket_mark", "underline"), wb)
            x = wb[2] + int(size * rng.uniform(0.9, 1.6))
        p.y += int(size * 1.7)
        return
    p.line(head, font=bold)
    if lay == "glyph_list":
        gf = _font(REPORT_GLYPH_FONT, size)
        for k in order:
            gb = p.text(indent, "□", font=gf)
            ink = np.asarray(p.img.crop(gb).convert("L")) < 128
            ys, xs = np.nonzero(ink)
            glyph = (gb[0] + xs.min(), gb[1] + ys.min(), xs.max() - xs.min() + 1, ys.max() - ys.min() + 1)
            p.option(item, k, gb[2] + int(size * 0.4), opts[k])
            if k == answer:
                p.mark(item, "box", glyph)
            p.y += int(size * 1.45)
        p.y += int(size * 0.3)
        return
    # lettered
    x = indent
    for j, k in enumerate(order):
        letter = "abcd"[j] + ")"
        need = p.d.textlength(f"{letter} {opts[k]}", font=p.font)
        if x > indent and x + need > W - p.margin:
            p.y += int(size * 1.45)
            x = indent
        lb = p.text(x, letter)
        wb = p.option(item, k, lb[2] + int(size * 0.3), opts[k])
        if k == answer:
            p.mark(item, "circle", lb)
        x = wb[2] + int(size * rng.uniform(1.4, 2.4))
    p.y += int(size * 1.7)


def _answer_table(p, choice, words, answers, reverse, bold):
    """table_answer: two columns, the duty | its options one per line in the answer cell, the chosen one
    ticked by hand after its word."""
    size = p.size
    x0, x1 = p.margin - 20, W - p.margin + 20
    xm = x0 + int((x1 - x0) * 0.58)
    top = p.y
    p.text(x0 + 15, "NỘI DUNG NHẬN XÉT" if bold else "Nội dung nhận xét", font=bold)
    p.text(xm + 15, "Kết quả", font=bold)
    p.y += int(size * 1.5)
    ys = [top, p.y]
    for n, it in enumerate(choice, 1):
        label, opts = words[it.key]
        keys = list(opts)[::-1] if reverse else list(opts)
        y0 = p.y + 10
        p.y = y0
        for ln in _wrap(p, f"{n}. {label}", xm - x0 - 30, font=bold or p.font):
            p.text(x0 + 15, ln, font=bold)
            p.y += int(size * 1.3)
        yy = y0
        for k in keys:
            wb = p.option(it.key, k, xm + 20, opts[k], y=yy)
            if k == answers[it.key]:
                p.mark(it.key, "tick", (wb[2] + size * 0.5, wb[1] - 4, size, size))
            yy += int(size * 1.35)
        p.y = max(p.y, yy) + 6
        ys.append(p.y)
    for y in ys:
        p.d.line([x0, y, x1, y], fill=(30, 30, 30), width=2)
    for x in (x0, xm, x1):
        p.d.line([x, top, x, ys[-1]], fill=(30, 30, 30), width=2)
    p.y += size


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
