"""Build the Word templates of the project (reproducibly) with python-docx.

    python templates/build_templates.py            # writes templates/*.docx

The templates hold docxtpl (Jinja) placeholders.  The item and option rows of
the evaluation sheet are NOT written here: the template only holds a loop over
``items`` (and, per item, over ``item.options``) that the renderer fills from
the form definition (``*.form.json``), so a new definition changes the printed
form without any code change.

Layout follows Hướng dẫn 36-HD/VPTW as summarised in
shared/domain/forms-213.md §6: A4, margins top/bottom 20 mm, left 30 mm,
right 15 mm, Times New Roman (LibreOffice substitutes the metric-compatible
Liberation Serif), 13 pt body.

Output is deterministic: fixed core properties and fixed zip timestamps, so
re-running the script gives byte-identical files.
"""
from __future__ import annotations

import datetime as _dt
import io
import sys
import unicodedata
import zipfile
from pathlib import Path

import segno
from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_ROW_HEIGHT_RULE
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING, WD_TAB_ALIGNMENT, WD_TAB_LEADER
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt
from PIL import Image

HERE = Path(__file__).resolve().parent
FONT = "Times New Roman"
BODY_PT = 13

PAGE_W, PAGE_H = 210, 297
MARGIN_TOP, MARGIN_BOTTOM, MARGIN_LEFT, MARGIN_RIGHT = 20, 20, 30, 15
TEXT_W = PAGE_W - MARGIN_LEFT - MARGIN_RIGHT  # 165 mm

# Names of the pictures the renderer finds and swaps (pic:cNvPr/@name).
QR_PIC_NAME = "qr_code"
CORNER_PIC_NAME = "corner_mark"

FIXED_TIME = _dt.datetime(2026, 1, 1, 0, 0, 0)

DOTS = "…" * 6  # hand-filled gap


def nfc(s: str) -> str:
    return unicodedata.normalize("NFC", s)


# ----------------------------------------------------------------------------
# low-level helpers
# ----------------------------------------------------------------------------

def _set_rfonts(rpr):
    """The serif font for every script of a run or style properties element; returns w:rFonts."""
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = OxmlElement("w:rFonts")
        rpr.insert(0, rfonts)
    for attr in ("w:ascii", "w:hAnsi", "w:cs", "w:eastAsia"):
        rfonts.set(qn(attr), FONT)
    return rfonts


def _set_run_font(run, size=None, bold=None, italic=None, underline=None):
    run.font.name = FONT
    _set_rfonts(run._element.get_or_add_rPr())
    if size is not None:
        run.font.size = Pt(size)
    if bold is not None:
        run.font.bold = bold
    if italic is not None:
        run.font.italic = italic
    if underline is not None:
        run.font.underline = underline


def para(container, parts=(), *, align=None, size=BODY_PT, bold=None, italic=None,
         before=0, after=0, indent_first=None, indent_left=None, keep_next=False,
         line=None, tabs=()):
    """Add a paragraph. ``parts`` is a str or a list of str / (str, dict)."""
    p = container.add_paragraph()
    pf = p.paragraph_format
    pf.space_before = Pt(before)
    pf.space_after = Pt(after)
    if line is not None:
        pf.line_spacing = line
    if align is not None:
        p.alignment = align
    if indent_first is not None:
        pf.first_line_indent = Mm(indent_first)
    if indent_left is not None:
        pf.left_indent = Mm(indent_left)
    if keep_next:
        pf.keep_with_next = True
    for pos, talign, leader in tabs:
        pf.tab_stops.add_tab_stop(Mm(pos), talign, leader)
    if isinstance(parts, str):
        parts = [parts]
    for part in parts:
        if isinstance(part, str):
            text, fmt = part, {}
        else:
            text, fmt = part
        run = p.add_run(nfc(text))
        _set_run_font(run, size=fmt.get("size", size), bold=fmt.get("bold", bold),
                      italic=fmt.get("italic", italic), underline=fmt.get("underline"))
    return p


def first_para(cell):
    """A new cell holds one empty paragraph: reuse it for the first line."""
    return cell.paragraphs[0]


def cell_para(cell, parts=(), **kw):
    """Like para() but the first call reuses the cell's empty paragraph."""
    if not getattr(cell, "_used", False) and len(cell.paragraphs) == 1 and not cell.paragraphs[0].runs:
        p0 = cell.paragraphs[0]
        p = para(cell, parts, **kw)
        p0._element.getparent().remove(p0._element)
        cell._used = True
        return p
    cell._used = True
    return para(cell, parts, **kw)


def _tbl_pr(table):
    return table._tbl.tblPr


def set_table_fixed(table, widths_mm):
    """Fixed layout, explicit grid and cell widths, no borders, no indent."""
    table.autofit = False
    tblPr = _tbl_pr(table)
    layout = OxmlElement("w:tblLayout")
    layout.set(qn("w:type"), "fixed")
    tblPr.append(layout)
    tblW = tblPr.find(qn("w:tblW"))
    if tblW is None:
        tblW = OxmlElement("w:tblW")
        tblPr.append(tblW)
    tblW.set(qn("w:type"), "dxa")
    tblW.set(qn("w:w"), str(int(sum(widths_mm) * 56.6929)))
    grid = table._tbl.tblGrid
    for gc, w in zip(grid.findall(qn("w:gridCol")), widths_mm):
        gc.set(qn("w:w"), str(int(w * 56.6929)))
    for row in table.rows:
        for cell, w in zip(row.cells, widths_mm):
            cell.width = Mm(w)
    set_table_borders(table, None)


def set_table_borders(table, val="single", sz=8):
    tblPr = _tbl_pr(table)
    old = tblPr.find(qn("w:tblBorders"))
    if old is not None:
        tblPr.remove(old)
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        el = OxmlElement(f"w:{edge}")
        el.set(qn("w:val"), val or "nil")
        if val:
            el.set(qn("w:sz"), str(sz))
            el.set(qn("w:space"), "0")
            el.set(qn("w:color"), "000000")
        borders.append(el)
    tblPr.append(borders)


def set_cell_margins(table, left=0.0, right=0.0, top=0.0, bottom=0.0):
    tblPr = _tbl_pr(table)
    mar = OxmlElement("w:tblCellMar")
    for edge, v in (("top", top), ("left", left), ("bottom", bottom), ("right", right)):
        el = OxmlElement(f"w:{edge}")
        el.set(qn("w:w"), str(int(v * 56.6929)))
        el.set(qn("w:type"), "dxa")
        mar.append(el)
    tblPr.append(mar)


def set_cell_borders(cell, val="single", sz=8):
    tcPr = cell._tc.get_or_add_tcPr()
    borders = OxmlElement("w:tcBorders")
    for edge in ("top", "left", "bottom", "right"):
        el = OxmlElement(f"w:{edge}")
        el.set(qn("w:val"), val)
        el.set(qn("w:sz"), str(sz))
        el.set(qn("w:space"), "0")
        el.set(qn("w:color"), "000000")
        borders.append(el)
    tcPr.append(borders)


def loop_table(doc, widths, headers, loop: str, cells, *, border_sz: int = 6, size: float = 12,
               tag_size: float = 8, split_rows: bool = False):
    """A table with a header row and one row docxtpl repeats over ``loop`` ("row in members"): the
    ``{%tr for %}`` and ``{%tr endfor %}`` rows vanish when rendered. ``cells``: (text, alignment) per
    column. ``split_rows`` False: no row breaks across pages."""
    t = doc.add_table(rows=3, cols=len(widths))  # borders set here: no table style, so it joins any packet
    set_table_fixed(t, widths)
    set_table_borders(t, "single", border_sz)
    set_cell_margins(t, 1, 1, 0.5, 0.5)
    for cell, text in zip(t.rows[0].cells, headers):
        cell_para(cell, [(text, {"bold": True})], align=WD_ALIGN_PARAGRAPH.CENTER, size=size)
    cell_para(t.rows[1].cells[0], "{%tr for " + loop + " %}", size=tag_size)
    for cell, (text, align) in zip(t.rows[2].cells, cells):
        cell_para(cell, text, align=align, size=size)
    end = t.add_row()
    cell_para(end.cells[0], "{%tr endfor %}", size=tag_size)
    if not split_rows:
        for row in t.rows:
            cant_split(row)
    return t


def row_height(row, mm, exact=True):
    row.height = Mm(mm)
    row.height_rule = WD_ROW_HEIGHT_RULE.EXACTLY if exact else WD_ROW_HEIGHT_RULE.AT_LEAST


def cant_split(row):
    trPr = row._tr.get_or_add_trPr()
    el = OxmlElement("w:cantSplit")
    trPr.append(el)


def para_border(p, edge="top", val="dashed", sz=6):
    pPr = p._p.get_or_add_pPr()
    pbdr = OxmlElement("w:pBdr")
    el = OxmlElement(f"w:{edge}")
    el.set(qn("w:val"), val)
    el.set(qn("w:sz"), str(sz))
    el.set(qn("w:space"), "1")
    el.set(qn("w:color"), "000000")
    pbdr.append(el)
    pPr.append(pbdr)


def name_picture(inline_shape, name):
    """Give the picture a stable name/description so renderers can find it."""
    inline = inline_shape._inline
    docPr = inline.find(qn("wp:docPr"))
    docPr.set("name", name)
    docPr.set("descr", name)
    for cNvPr in inline.iter(qn("pic:cNvPr")):
        cNvPr.set("name", name)
        cNvPr.set("descr", name)


def png_bytes(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def corner_mark_png() -> bytes:
    return png_bytes(Image.new("1", (16, 16), 0))


def qr_placeholder_png() -> bytes:
    buf = io.BytesIO()
    segno.make("NCT1|placeholder", error="h").save(buf, kind="png", scale=4, border=4)
    return buf.getvalue()


# ----------------------------------------------------------------------------
# document setup
# ----------------------------------------------------------------------------

def new_document(title: str) -> Document:
    doc = Document()
    # Styles: Times New Roman everywhere, Vietnamese language, no spacing.
    for style_name in ("Normal", "Table Grid"):
        try:
            st = doc.styles[style_name]
        except KeyError:
            continue
        st.font.name = FONT
        st.font.size = Pt(BODY_PT)
        rpr = st.element.get_or_add_rPr()
        rfonts = _set_rfonts(rpr)
        for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:cstheme", "w:eastAsiaTheme"):
            if rfonts.get(qn(attr)) is not None:
                del rfonts.attrib[qn(attr)]
        lang = rpr.find(qn("w:lang"))
        if lang is None:
            lang = OxmlElement("w:lang")
            rpr.append(lang)
        lang.set(qn("w:val"), "vi-VN")
    normal = doc.styles["Normal"].paragraph_format
    normal.space_before = Pt(0)
    normal.space_after = Pt(0)
    normal.line_spacing = 1.0
    # docDefaults too (tables and headers use them)
    rpr_default = doc.styles.element.find(qn("w:docDefaults"))
    if rpr_default is not None:
        for rfonts in rpr_default.iter(qn("w:rFonts")):
            for attr in list(rfonts.attrib):
                del rfonts.attrib[attr]
            for attr in ("w:ascii", "w:hAnsi", "w:cs", "w:eastAsia"):
                rfonts.set(qn(attr), FONT)

    sec = doc.sections[0]
    sec.orientation = WD_ORIENT.PORTRAIT
    sec.page_width, sec.page_height = Mm(PAGE_W), Mm(PAGE_H)
    sec.top_margin, sec.bottom_margin = Mm(MARGIN_TOP), Mm(MARGIN_BOTTOM)
    sec.left_margin, sec.right_margin = Mm(MARGIN_LEFT), Mm(MARGIN_RIGHT)
    sec.header_distance, sec.footer_distance = Mm(8), Mm(8)

    cp = doc.core_properties
    cp.title = nfc(title)
    cp.author = "noicutru"
    cp.last_modified_by = "noicutru"
    cp.comments = "Generated by templates/build_templates.py"
    cp.language = "vi-VN"
    cp.created = FIXED_TIME
    cp.modified = FIXED_TIME
    cp.revision = 1
    return doc


def letterhead(doc, left_lines, right_lines, widths=(80, TEXT_W - 80)):
    """Borderless 2-column header: committee block left, party heading right."""
    t = doc.add_table(rows=1, cols=2)
    set_table_fixed(t, widths)
    set_cell_margins(t, 0.5, 0.5)
    left, right = t.rows[0].cells
    for parts, fmt in left_lines:
        cell_para(left, parts, align=WD_ALIGN_PARAGRAPH.CENTER, **fmt)
    for parts, fmt in right_lines:
        cell_para(right, parts, align=WD_ALIGN_PARAGRAPH.CENTER, **fmt)
    return t


def signature_table(doc, left_lines, right_lines, widths=(TEXT_W / 2, TEXT_W / 2)):
    t = doc.add_table(rows=1, cols=2)
    set_table_fixed(t, widths)
    set_cell_margins(t, 0.5, 0.5)
    cant_split(t.rows[0])
    left, right = t.rows[0].cells
    for parts, fmt in left_lines:
        cell_para(left, parts, align=fmt.pop("align", WD_ALIGN_PARAGRAPH.CENTER), **fmt)
    for parts, fmt in right_lines:
        cell_para(right, parts, align=fmt.pop("align", WD_ALIGN_PARAGRAPH.CENTER), **fmt)
    return t


def end_paragraph(doc):
    """Word needs a paragraph after a final table: make it 1 pt high."""
    p = para(doc, "", size=1)
    p.paragraph_format.line_spacing = Pt(1)
    p.paragraph_format.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    return p


def dotted_line(container, leading="", **kw):
    """A full-width hand-writing line made of a dot-leader tab."""
    return para(container, [leading + "\t"], tabs=[(TEXT_W - 0.5, WD_TAB_ALIGNMENT.RIGHT, WD_TAB_LEADER.DOTS)],
                line=1.3, **kw)


def corner_marks(part_container, mark_png: bytes, bottom=False, size_mm: float = 5):
    """Header/footer row with a solid ``size_mm`` square at the left and right edges."""
    t = part_container.add_table(rows=1, cols=2, width=Mm(TEXT_W))
    set_table_fixed(t, (TEXT_W / 2, TEXT_W / 2))
    set_cell_margins(t, 0, 0)
    for idx, cell in enumerate(t.rows[0].cells):
        p = cell.paragraphs[0]
        p.alignment = WD_ALIGN_PARAGRAPH.LEFT if idx == 0 else WD_ALIGN_PARAGRAPH.RIGHT
        p.paragraph_format.space_before = Pt(0)
        p.paragraph_format.space_after = Pt(0)
        p.paragraph_format.line_spacing = 1.0
        run = p.add_run()
        pic = run.add_picture(io.BytesIO(mark_png), width=Mm(size_mm), height=Mm(size_mm))
        name_picture(pic, CORNER_PIC_NAME)
        cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.BOTTOM if bottom else WD_CELL_VERTICAL_ALIGNMENT.TOP
    return t


def _trim_part(container):
    """Header/footer parts start with one empty paragraph: make it tiny."""
    for p in container.paragraphs:
        if not p.runs:
            p.paragraph_format.space_before = Pt(0)
            p.paragraph_format.space_after = Pt(0)
            for r in [p.add_run("")]:
                _set_run_font(r, size=1)
            pPr = p._p.get_or_add_pPr()
            rpr = OxmlElement("w:rPr")
            sz = OxmlElement("w:sz")
            sz.set(qn("w:val"), "2")
            rpr.append(sz)
            pPr.append(rpr)


# ----------------------------------------------------------------------------
# mẫu 1-213: giấy giới thiệu
# ----------------------------------------------------------------------------

LEGAL_BASIS = ("Thực hiện Quy định số 213-QĐ/TW, ngày 02 tháng 01 năm 2020 của Bộ Chính trị "
               "về trách nhiệm của đảng viên đang công tác thường xuyên giữ mối liên hệ với "
               "tổ chức đảng và nhân dân nơi cư trú,")


def build_introduction_letter() -> Document:
    doc = new_document("Giấy giới thiệu (mẫu 1-213)")
    B = {"bold": True}
    letterhead(
        doc,
        [
            ("{{ upper_body_name_upper }}", {}),
            ("{{ issuing_committee_name_upper }}", {"bold": True}),
            ("*", {}),
            ("Số {{ letter_number }}-{{ letter_code }}", {}),
        ],
        [
            ([("ĐẢNG CỘNG SẢN VIỆT NAM", {"bold": True, "underline": True, "size": 14})], {"after": 8}),
            ("{{ place }}, {{ issue_date_long }}", {"italic": True}),
        ],
    )
    para(doc, "GIẤY GIỚI THIỆU", align=WD_ALIGN_PARAGRAPH.CENTER, size=15, bold=True, before=14, after=8)
    tabs = [(45, WD_TAB_ALIGNMENT.LEFT, WD_TAB_LEADER.SPACES)]
    p = para(doc, ["Kính gửi:\t- {{ ward_committee_name }}"], tabs=tabs, indent_left=45, after=0)
    p.paragraph_format.first_line_indent = Mm(-20)
    para(doc, "- {{ residence_cell_name }}", indent_left=45, after=8)
    para(doc, LEGAL_BASIS, align=WD_ALIGN_PARAGRAPH.JUSTIFY, indent_first=10, after=4, line=1.15)
    para(doc, "{{ issuing_committee_name }}", align=WD_ALIGN_PARAGRAPH.CENTER, bold=True, after=4)
    kw = dict(indent_first=10, line=1.2, after=1)
    tab2 = [(115, WD_TAB_ALIGNMENT.LEFT, WD_TAB_LEADER.SPACES)]
    para(doc, ["Giới thiệu đồng chí: ", ("{{ member_full_name }}", B), "\tNam, nữ: {{ member_gender }}"], tabs=tab2, **kw)
    para(doc, ["Sinh ngày: {{ member_date_of_birth }}"], **kw)
    para(doc, ["Kết nạp vào Đảng ngày: {{ member_admission_date }}"], **kw)
    para(doc, "{%p if member_full_member_date %}")
    para(doc, ["Công nhận đảng viên chính thức ngày: {{ member_full_member_date }}"], **kw)
    para(doc, "{%p endif %}")
    para(doc, ["Đang sinh hoạt đảng tại: {{ workplace_cell_name }}"], **kw)
    para(doc, ["Hiện cư trú tại: {{ residence_address }}"], **kw)
    para(doc, "{%p if exempt_from_meetings %}")
    para(doc, ["Thuộc đối tượng: ", ("Giới thiệu nhưng được miễn sinh hoạt nơi cư trú", {"italic": True}), "."], **kw)
    para(doc, "{%p endif %}")
    para(doc, ["Đề nghị các đồng chí tiếp nhận và tạo điều kiện cho đảng viên ",
               ("{{ member_full_name }}", B), " hoàn thành nhiệm vụ."],
         align=WD_ALIGN_PARAGRAPH.JUSTIFY, indent_first=10, line=1.2, after=8)
    signature_table(
        doc,
        [
            ("ĐẢNG ỦY NƠI CƯ TRÚ", {"bold": True}),
            ("Tiếp nhận ngày …… tháng …… năm ……", {"italic": True, "size": 12}),
            ("Đã giới thiệu về sinh hoạt tại Chi bộ", {"size": 12}),
            ("………………………………………", {"size": 12, "after": 2}),
            ("T/M ĐẢNG ỦY", {"bold": True}),
            ("BÍ THƯ", {"bold": True}),
        ],
        [
            ("{{ signer_on_behalf }}", {"bold": True}),
            ("{{ signer_title }}", {"bold": True}),
            ("", {}),
            ("", {}),
            ("", {}),
            ("", {}),
            ("{{ signer_name }}", {"bold": True}),
        ],
    )
    # ---- cut line and receipt slip (phần cuống) ----
    p = para(doc, "", before=6)
    p = para(doc, ["✂ ", ("Phần cuống – cắt theo đường này, nơi cư trú gửi lại nơi giới thiệu", {"italic": True})],
             align=WD_ALIGN_PARAGRAPH.CENTER, size=9, after=6)
    para_border(p, "top", "dashed", 8)
    letterhead(
        doc,
        [("{{ ward_committee_name_upper }}", {"bold": True, "size": 12}), ("*", {"size": 12})],
        [([("ĐẢNG CỘNG SẢN VIỆT NAM", {"bold": True, "underline": True, "size": 12})], {})],
    )
    # title row of the slip: the QR that identifies this letter when the slip comes back scanned
    t = doc.add_table(rows=1, cols=3)
    set_table_fixed(t, (20, TEXT_W - 40, 20))
    set_cell_margins(t, 0, 0)
    cant_split(t.rows[0])
    qr_cell, title_cell, _right = t.rows[0].cells
    run = qr_cell.paragraphs[0].add_run()
    name_picture(run.add_picture(io.BytesIO(qr_placeholder_png()), width=Mm(15), height=Mm(15)), QR_PIC_NAME)
    qr_cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
    title_cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
    cell_para(title_cell, "PHIẾU BÁO ĐÃ TIẾP NHẬN ĐẢNG VIÊN", align=WD_ALIGN_PARAGRAPH.CENTER, bold=True)
    skw = dict(size=12, indent_first=10, line=1.15)
    para(doc, ["Kính gửi: {{ issuing_committee_name }}"], align=WD_ALIGN_PARAGRAPH.CENTER, size=12, after=2)
    para(doc, ["{{ ward_committee_name }} đã tiếp nhận đồng chí ", ("{{ member_full_name }}", B),
               ", sinh ngày {{ member_date_of_birth }}, theo Giấy giới thiệu số "
               "{{ letter_number }}-{{ letter_code }} ngày {{ issue_date }}."],
         align=WD_ALIGN_PARAGRAPH.JUSTIFY, **skw)
    signature_table(
        doc,
        [
            ("Đã tiếp nhận ngày …… tháng …… năm ……", {"size": 12}),
            ("Đã giới thiệu về sinh hoạt tại Chi bộ", {"size": 12}),
            ("……………………………………………", {"size": 12}),
        ],
        [
            ("T/M ĐẢNG ỦY", {"bold": True, "size": 12}),
            ("(Ký, ghi rõ họ tên, đóng dấu)", {"italic": True, "size": 11}),
        ],
    )
    end_paragraph(doc)
    return doc


LETTER_V2_PT = 14  # HD 36: body 14–15 pt, header blocks 14 pt, "ĐẢNG CỘNG SẢN VIỆT NAM" 15 pt
LETTER_V2_LEFT = 88  # mm: the issuing body's block (balanced on two lines by the service when longer)


def _letter_v2_header(doc) -> None:
    """Left: upper body, issuing body (each on at most two balanced lines), star, number.
    Right: the party heading and the place/date line, which stays on one line."""
    sz = {"size": LETTER_V2_PT}
    letterhead(
        doc,
        [
            ("{{ upper_body_line1 }}", sz),
            ("{%p if upper_body_line2 %}", {}),
            ("{{ upper_body_line2 }}", sz),
            ("{%p endif %}", {}),
            ("{{ issuer_line1 }}", {"bold": True, **sz}),
            ("{%p if issuer_line2 %}", {}),
            ("{{ issuer_line2 }}", {"bold": True, **sz}),
            ("{%p endif %}", {}),
            ("*", sz),
            ("Số {{ letter_number_text }}-{{ letter_code }}", sz),
        ],
        [
            ([("ĐẢNG CỘNG SẢN VIỆT NAM", {"bold": True, "underline": True, "size": 15})], {"after": 6}),
            ("{{ place }}, {{ issue_date_long }}", {"italic": True, "size": 13.5}),
        ],
        widths=(LETTER_V2_LEFT, TEXT_W - LETTER_V2_LEFT),
    )


def letter_definition(version: int):
    """The form definition an introduction letter template is built for."""
    sys.path.insert(0, str(HERE.parent))
    from forms.definition import load
    return load(HERE / f"introduction_letter.v{version}.form.json")


def date_boxes_png(db) -> bytes:
    """One pair of comb boxes of ``db`` (forms.definition.DateBoxes), drawn at 600 dpi: thin black squares."""
    dpm = 600 / 25.4
    side, gap, line = round(db.box_mm * dpm), round(db.gap_mm * dpm), max(2, round(0.25 * dpm))
    img = Image.new("1", (2 * side + gap, side), 1)
    from PIL import ImageDraw
    draw = ImageDraw.Draw(img)
    for x0 in (0, side + gap):
        draw.rectangle([x0, 0, x0 + side - 1, side - 1], outline=0, width=line)
    return png_bytes(img)


def _slip_date_line(cell, db) -> None:
    """The slip's place and date, the date in comb boxes: ``…………, ngày [_][_] tháng [_][_] năm 20[_][_]``
    (in the header's second row, right-aligned under the party heading, on one line)."""
    p = cell_para(cell, [], align=WD_ALIGN_PARAGRAPH.RIGHT, size=12, italic=True, before=1)
    png = date_boxes_png(db)
    for i, text in enumerate(("…………, ngày ", " tháng ", f" năm {db.century}")):
        run = p.add_run(nfc(text))
        _set_run_font(run, size=12, italic=True)
        pic = p.add_run().add_picture(io.BytesIO(png), width=Mm(2 * db.box_mm + db.gap_mm), height=Mm(db.box_mm))
        name_picture(pic, f"{db.picture}_{('day', 'month', 'year')[i]}")


def build_introduction_letter_v3() -> Document:
    """Mẫu 1-213, version 3: version 2 with the slip's date in comb boxes (read from the returned slip)."""
    return build_introduction_letter_v2(letter_definition(3))


def build_introduction_letter_v2(definition=None) -> Document:
    """Mẫu 1-213, version 2 (#12): 14 pt body, balanced headers, the place/date on one line, a
    receipt block with room for a signature and a 3.5–4 cm seal, a slip with its own signer and
    date, the number zero-padded and the code suffix from the issuing body.  With a ``definition``
    that has ``date_boxes`` (version 3) the slip's date is written in comb boxes in a second header row."""
    date_boxes = definition.date_boxes if definition is not None else None
    doc = new_document("Giấy giới thiệu (mẫu 1-213)")
    doc.sections[0].top_margin, doc.sections[0].bottom_margin = Mm(10), Mm(8)
    pt = LETTER_V2_PT
    B = {"bold": True}
    _letter_v2_header(doc)
    para(doc, "GIẤY GIỚI THIỆU", align=WD_ALIGN_PARAGRAPH.CENTER, size=16, bold=True, before=2, after=2)
    tabs = [(45, WD_TAB_ALIGNMENT.LEFT, WD_TAB_LEADER.SPACES)]
    p = para(doc, ["Kính gửi:\t- {{ ward_committee_name }}"], tabs=tabs, indent_left=45, size=pt)
    p.paragraph_format.first_line_indent = Mm(-20)
    para(doc, "- {{ residence_cell_name }}", indent_left=45, after=2, size=pt)
    para(doc, LEGAL_BASIS, align=WD_ALIGN_PARAGRAPH.JUSTIFY, indent_first=10, size=pt)
    para(doc, "{{ issuing_committee_name }}", align=WD_ALIGN_PARAGRAPH.CENTER, bold=True, size=pt)
    kw = dict(indent_first=10, size=pt)
    tab2 = [(120, WD_TAB_ALIGNMENT.LEFT, WD_TAB_LEADER.SPACES)]
    para(doc, ["Giới thiệu đồng chí: ", ("{{ member_full_name }}", B), "\tNam, nữ: {{ member_gender }}"],
         tabs=tab2, **kw)
    para(doc, ["Sinh ngày: {{ member_date_of_birth }}"], **kw)
    para(doc, ["Kết nạp vào Đảng ngày: {{ member_admission_date }}"], **kw)
    para(doc, "{%p if member_full_member_date %}")
    para(doc, ["Công nhận đảng viên chính thức ngày: {{ member_full_member_date }}"], **kw)
    para(doc, "{%p endif %}")
    para(doc, ["Đang sinh hoạt đảng tại: {{ workplace_cell_name }}"], **kw)
    para(doc, ["Hiện cư trú tại: {{ residence_address }}"], align=WD_ALIGN_PARAGRAPH.JUSTIFY, **kw)
    para(doc, "{%p if exempt_from_meetings %}")
    para(doc, ["Thuộc đối tượng: ", ("Giới thiệu nhưng được miễn sinh hoạt nơi cư trú", {"italic": True}), "."],
         **kw)
    para(doc, "{%p endif %}")
    para(doc, ["Đề nghị các đồng chí tiếp nhận và tạo điều kiện cho đảng viên ",
               ("{{ member_full_name }}", B), " hoàn thành nhiệm vụ."],
         align=WD_ALIGN_PARAGRAPH.JUSTIFY, indent_first=10, after=2, size=pt)
    t = signature_table(
        doc,
        [
            ("ĐẢNG ỦY NƠI CƯ TRÚ", {"bold": True, "size": 13}),
            ("Tiếp nhận ngày …… tháng …… năm ……", {"italic": True, "size": 13}),
            ("Đã giới thiệu về sinh hoạt tại Chi bộ", {"size": 13}),
            ("…………………………………………", {"size": 13, "after": 2}),
            ("T/M ĐẢNG ỦY", {"bold": True, "size": 13}),
            ("BÍ THƯ", {"bold": True, "size": 13}),
        ],
        [
            ("{{ signer_on_behalf }}", {"bold": True, "size": pt}),
            ("{{ signer_title }}", {"bold": True, "size": pt}),
        ],
    )
    # the signer's name at the foot of the right cell, below the room for a signature and a seal
    right = t.rows[0].cells[1]
    cell_para(right, "{{ signer_name }}", align=WD_ALIGN_PARAGRAPH.CENTER, bold=True, size=pt, before=133)
    row_height(t.rows[0], 67, exact=False)  # ≥ 4 cm under "BÍ THƯ" on both sides: signature and seal
    # ---- cut line and the receipt slip (phiếu báo đã nhận) ----
    p = para(doc, ["✂ ", ("Cắt theo đường này: phiếu báo đã nhận, nơi cư trú gửi lại nơi giới thiệu",
                          {"italic": True})], align=WD_ALIGN_PARAGRAPH.CENTER, size=9, before=2, after=2)
    para_border(p, "top", "dashed", 8)
    # slip header: the QR that identifies this letter when the slip comes back scanned | ward | heading
    t = doc.add_table(rows=1 if date_boxes is None else 2, cols=3)
    set_table_fixed(t, (18, 70, TEXT_W - 88))
    set_cell_margins(t, 0, 0)
    for row in t.rows:
        cant_split(row)
    qr_cell, ward_cell, heading_cell = t.rows[0].cells
    if date_boxes is not None:  # the date line under the ward and the heading, beside the QR
        qr_cell = qr_cell.merge(t.cell(1, 0))
        date_cell = t.cell(1, 1).merge(t.cell(1, 2))
    run = qr_cell.paragraphs[0].add_run()
    name_picture(run.add_picture(io.BytesIO(qr_placeholder_png()), width=Mm(15), height=Mm(15)), QR_PIC_NAME)
    qr_cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
    for parts, fmt in (("{{ ward_committee_name_upper }}", {"bold": True}), ("*", {})):
        cell_para(ward_cell, parts, align=WD_ALIGN_PARAGRAPH.CENTER, size=12, **fmt)
    cell_para(heading_cell, [("ĐẢNG CỘNG SẢN VIỆT NAM", {"bold": True, "underline": True})],
              align=WD_ALIGN_PARAGRAPH.CENTER, size=12, after=2)
    if date_boxes is None:
        cell_para(heading_cell, "…………, ngày …… tháng …… năm ……", align=WD_ALIGN_PARAGRAPH.CENTER, size=12,
                  italic=True)
    else:
        _slip_date_line(date_cell, date_boxes)
    para(doc, "PHIẾU BÁO ĐÃ NHẬN ĐẢNG VIÊN", align=WD_ALIGN_PARAGRAPH.CENTER, bold=True, size=13, before=2,
         after=0)
    skw = dict(size=12, indent_first=10, line=1.1)
    para(doc, ["Kính gửi: {{ issuing_committee_name }}"], align=WD_ALIGN_PARAGRAPH.CENTER, size=12)
    para(doc, ["{{ ward_committee_name }} đã nhận đồng chí ", ("{{ member_full_name }}", B),
               ", sinh ngày {{ member_date_of_birth }}, theo Giấy giới thiệu số "
               "{{ letter_number_text }}-{{ letter_code }} ngày {{ issue_date }}, "
               "và đã giới thiệu về sinh hoạt tại Chi bộ ……………………………………"],
         align=WD_ALIGN_PARAGRAPH.JUSTIFY, **skw)
    signature_table(
        doc,
        [("", {})],
        [
            ("T/M ĐẢNG ỦY", {"bold": True, "size": 12}),
            ("BÍ THƯ", {"bold": True, "size": 12}),
            ("(Ký, ghi rõ họ tên, đóng dấu)", {"italic": True, "size": 11}),
        ],
    )
    end_paragraph(doc)
    return doc


# ----------------------------------------------------------------------------
# phiếu nhận xét (mẫu 3-213, phần B)
# ----------------------------------------------------------------------------

def sheet_definition(version: int):
    """The form definition an evaluation sheet template is built for (its mark geometry is data there)."""
    sys.path.insert(0, str(HERE.parent))
    from forms.definition import load
    return load(HERE / f"evaluation_sheet.v{version}.form.json")


def option_cell_content(cell, marks=None, label_pt=BODY_PT):
    """Inside one option cell: a nested table [tick box | label], sizes from the definition's marks."""
    box_mm, label_mm = (marks.box_mm, marks.label_mm) if marks is not None else (6, 47)
    inner = cell.add_table(rows=1, cols=2)
    set_table_fixed(inner, (box_mm, label_mm))
    set_cell_margins(inner, 0, 0)
    row = inner.rows[0]
    row_height(row, 6.5, exact=True)
    box, label = row.cells
    set_cell_borders(box, "single", 12)
    # a box exactly box_mm wide and one row high: make it square by giving the
    # row the same height as the box width (exact height).
    row_height(row, box_mm, exact=True)
    box.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
    bp = box.paragraphs[0]
    bp.paragraph_format.space_after = Pt(0)
    r = bp.add_run("")
    _set_run_font(r, size=8)
    label.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
    lp = label.paragraphs[0]
    lp.paragraph_format.left_indent = Mm(1.5)
    r = lp.add_run("{{ opt.label }}")
    _set_run_font(r, size=label_pt)
    # python-docx adds the paragraph Word needs after a nested table: keep it tiny.
    p = cell.paragraphs[-1]
    p.paragraph_format.space_after = Pt(0)
    p.paragraph_format.line_spacing = Pt(1)
    p.paragraph_format.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    r = p.add_run("")
    _set_run_font(r, size=1)
    return inner


def _sheet_corner_marks(doc, marks) -> None:
    mark_png = corner_mark_png()
    sec = doc.sections[0]
    corner_marks(sec.header, mark_png, bottom=False, size_mm=marks.corner_mark_mm)
    _trim_part(sec.header)
    # footer: the corner-mark table must be the last thing in the footer
    fp = sec.footer.paragraphs[0]
    corner_marks(sec.footer, mark_png, bottom=True, size_mm=marks.corner_mark_mm)
    # move the empty first paragraph after the table (Word requires a final p)
    tbl = sec.footer._element.findall(qn("w:tbl"))[-1]
    fp._p.addprevious(tbl)
    _trim_part(sec.footer)


def build_evaluation_sheet(definition=None) -> Document:
    definition = definition or sheet_definition(1)
    mk = definition.marks
    doc = new_document("Phiếu nhận xét đảng viên nơi cư trú (mẫu 3-213)")
    B = {"bold": True}
    _sheet_corner_marks(doc, mk)

    letterhead(
        doc,
        [
            ("{{ ward_party_body_name_upper }}", {}),
            ("{{ residence_cell_name_upper }}", {"bold": True}),
            ("*", {}),
        ],
        [
            ([("ĐẢNG CỘNG SẢN VIỆT NAM", {"bold": True, "underline": True, "size": 14})], {"after": 8}),
            ("{{ place }}, {{ sign_date_long }}", {"italic": True}),
        ],
    )
    # title row: QR code (left) | title | sheet serial (right)
    t = doc.add_table(rows=1, cols=3)
    set_table_fixed(t, (26, TEXT_W - 52, 26))
    set_cell_margins(t, 0, 0)
    cant_split(t.rows[0])
    qr_cell, title_cell, serial_cell = t.rows[0].cells
    qp = qr_cell.paragraphs[0]
    qp.alignment = WD_ALIGN_PARAGRAPH.LEFT
    run = qp.add_run()
    pic = run.add_picture(io.BytesIO(qr_placeholder_png()), width=Mm(mk.qr_mm), height=Mm(mk.qr_mm))
    name_picture(pic, QR_PIC_NAME)
    qr_cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
    title_cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
    cell_para(title_cell, "PHIẾU NHẬN XÉT", align=WD_ALIGN_PARAGRAPH.CENTER, size=15, bold=True, before=4)
    cell_para(title_cell, "Đảng viên đang công tác thường xuyên giữ mối liên hệ với tổ chức đảng và nhân dân nơi cư trú",
              align=WD_ALIGN_PARAGRAPH.CENTER, bold=True, size=BODY_PT)
    cell_para(title_cell, "Năm {{ year }}", align=WD_ALIGN_PARAGRAPH.CENTER, bold=True, after=2)
    serial_cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
    cell_para(serial_cell, "Số phiếu:", align=WD_ALIGN_PARAGRAPH.RIGHT, size=8)
    cell_para(serial_cell, "{{ sheet_serial }}", align=WD_ALIGN_PARAGRAPH.RIGHT, size=8)

    kw = dict(line=1.15, after=1)
    tab2 = [(110, WD_TAB_ALIGNMENT.LEFT, WD_TAB_LEADER.SPACES)]
    para(doc, ["Họ và tên đảng viên: ", ("{{ member_full_name }}", B), "\tNgày sinh: {{ member_date_of_birth }}"],
         tabs=tab2, before=4, **kw)
    para(doc, ["Đang sinh hoạt tại: {{ workplace_cell_name }}, {{ workplace_committee_name }}"], **kw)
    para(doc, ["Nơi cư trú: {{ residence_address }}"], **kw)
    para(doc, ["Chi ủy sau khi họp với ban công tác mặt trận thôn, bản, khu dân cư, tổ dân phố thống nhất "
               "nhận xét về đảng viên ", ("{{ member_full_name }}", B), " như sau:"],
         align=WD_ALIGN_PARAGRAPH.JUSTIFY, indent_first=10, before=3, line=1.15, after=0)
    para(doc, "(Đánh dấu X vào một ô phù hợp ở mỗi nội dung)", align=WD_ALIGN_PARAGRAPH.CENTER,
         italic=True, size=11, after=2)

    # ---- items, rendered from the form definition ----
    para(doc, "{%p for item in items %}")
    para(doc, "{%p if item.type == 'choice' %}")
    para(doc, [("{{ item.number }}. {{ item.label }}", B)], before=3, after=1, keep_next=True)
    n_cols = 3
    col_w = TEXT_W / n_cols
    t = doc.add_table(rows=1, cols=3)
    # grid: [loop-start | option | loop-end]; the renderer repeats the middle
    # cell once per option, giving one column per option.
    set_table_fixed(t, (col_w, col_w, col_w))
    set_cell_margins(t, 0, 0.5)
    cant_split(t.rows[0])
    c_for, c_opt, c_end = t.rows[0].cells
    cell_para(c_for, "{%tc for opt in item.options %}", size=8)
    option_cell_content(c_opt, mk)
    # remove the (now superfluous) empty first paragraph before the nested table
    first = c_opt.paragraphs[0]
    if not first.runs:
        first._p.getparent().remove(first._p)
    cell_para(c_end, "{%tc endfor %}", size=8)
    para(doc, "{%p else %}")
    para(doc, [("{{ item.number }}. {{ item.label }}:", B)], before=2, keep_next=True)
    para(doc, "{%p for line in range(item.lines or 4) %}")
    dotted_line(doc)
    para(doc, "{%p endfor %}")
    para(doc, "{%p endif %}")
    para(doc, "{%p endfor %}")

    para(doc, "", size=6)
    signature_table(
        doc,
        [
            ("XÁC NHẬN CỦA {{ ward_committee_name_upper }}", {"bold": True}),
            ("T/M ĐẢNG ỦY", {"bold": True}),
            ("(Ký tên, đóng dấu)", {"italic": True, "size": 11}),
        ],
        [
            ("T/M CHI ỦY", {"bold": True}),
            ("BÍ THƯ", {"bold": True}),
            ("", {}), ("", {}), ("", {}),
            ("{{ cell_secretary_name }}", {"bold": True}),
        ],
    )
    end_paragraph(doc)
    return doc


def _lines_para(cell, block: str, **fmt):
    """A heading block printed as the balanced lines docgen computed (``header_lines[block]``)."""
    cell_para(cell, "{%p for line in header_lines." + block + " %}", align=WD_ALIGN_PARAGRAPH.CENTER, size=8)
    cell_para(cell, "{{ line }}", align=WD_ALIGN_PARAGRAPH.CENTER, **fmt)
    cell_para(cell, "{%p endfor %}", align=WD_ALIGN_PARAGRAPH.CENTER, size=8)


SHEET_V2_PT = 14  # body size of version 2 (HD 36: body 14–15 pt)
WRITING_LINE_PT = 19  # exact height of item 7's lines, printed remarks and dotted lines alike


def build_evaluation_sheet_v2(definition=None) -> Document:
    """Version 2 of the sheet: 14 pt, HD 36 heading sizes, balanced headings, the date line on one line
    with the issuing body's place and the year, the correction line, pre-filled remarks in item 7."""
    definition = definition or sheet_definition(2)
    mk = definition.marks
    size = SHEET_V2_PT
    doc = new_document("Phiếu nhận xét đảng viên nơi cư trú (mẫu 3-213)")
    doc.styles["Normal"].font.size = Pt(size)
    B = {"bold": True}
    _sheet_corner_marks(doc, mk)

    t = doc.add_table(rows=1, cols=2)
    set_table_fixed(t, (75, TEXT_W - 75))
    set_cell_margins(t, 0.5, 0.5)
    left, right = t.rows[0].cells
    _lines_para(left, "upper_body", size=14)
    _lines_para(left, "issuing_body", size=14, bold=True)
    cell_para(left, "*", align=WD_ALIGN_PARAGRAPH.CENTER, size=size)
    cell_para(right, [("ĐẢNG CỘNG SẢN VIỆT NAM", {"bold": True, "underline": True})],
              align=WD_ALIGN_PARAGRAPH.CENTER, size=15, after=8)
    cell_para(right, "{{ place }}, {% if sign_date %}{{ sign_date_long }}{% else %}ngày …… tháng …… năm "
                     "{{ year }}{% endif %}", align=WD_ALIGN_PARAGRAPH.CENTER, size=14, italic=True)

    # title row: QR code (left) | title | sheet serial (right)
    qr_w, serial_w = mk.qr_mm + 4, 30
    t = doc.add_table(rows=1, cols=3)
    set_table_fixed(t, (qr_w, TEXT_W - qr_w - serial_w, serial_w))
    set_cell_margins(t, 0, 0)
    cant_split(t.rows[0])
    qr_cell, title_cell, serial_cell = t.rows[0].cells
    qp = qr_cell.paragraphs[0]
    qp.alignment = WD_ALIGN_PARAGRAPH.LEFT
    run = qp.add_run()
    pic = run.add_picture(io.BytesIO(qr_placeholder_png()), width=Mm(mk.qr_mm), height=Mm(mk.qr_mm))
    name_picture(pic, QR_PIC_NAME)
    qr_cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
    title_cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
    cell_para(title_cell, "PHIẾU NHẬN XÉT", align=WD_ALIGN_PARAGRAPH.CENTER, size=16, bold=True, before=4)
    cell_para(title_cell, "Đảng viên đang công tác thường xuyên giữ mối liên hệ với tổ chức đảng "
                          "và nhân dân nơi cư trú", align=WD_ALIGN_PARAGRAPH.CENTER, bold=True, size=size)
    cell_para(title_cell, "Năm {{ year }}", align=WD_ALIGN_PARAGRAPH.CENTER, bold=True, size=size, after=2)
    serial_cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
    cell_para(serial_cell, "Số phiếu:", align=WD_ALIGN_PARAGRAPH.RIGHT, size=11)
    cell_para(serial_cell, "{{ sheet_serial }}", align=WD_ALIGN_PARAGRAPH.RIGHT, size=11, bold=True)

    kw = dict(line=1.1, after=1, size=size)
    tab2 = [(108, WD_TAB_ALIGNMENT.LEFT, WD_TAB_LEADER.SPACES)]
    para(doc, ["Họ và tên đảng viên: ", ("{{ member_full_name }}", B), "\tNgày sinh: {{ member_date_of_birth }}"],
         tabs=tab2, before=4, **kw)
    para(doc, ["Đang sinh hoạt tại: {{ workplace_cell_name }}, {{ workplace_committee_name }}"], **kw)
    para(doc, ["Nơi cư trú: {{ residence_address }}"], **kw)
    para(doc, ["Chi ủy sau khi họp với ban công tác mặt trận thôn, bản, khu dân cư, tổ dân phố thống nhất "
               "nhận xét về đảng viên ", ("{{ member_full_name }}", B), " như sau:"],
         align=WD_ALIGN_PARAGRAPH.JUSTIFY, indent_first=10, before=2, line=1.1, after=0, size=size)
    para(doc, "(Đánh dấu X vào một ô phù hợp ở mỗi nội dung)", align=WD_ALIGN_PARAGRAPH.CENTER,
         italic=True, size=12, after=0)
    para(doc, "{%p if correction_hint %}", size=8)
    para(doc, "({{ correction_hint }})", align=WD_ALIGN_PARAGRAPH.CENTER, italic=True, size=12, after=1)
    para(doc, "{%p endif %}", size=8)

    # ---- items, rendered from the form definition ----
    para(doc, "{%p for item in items %}")
    para(doc, "{%p if item.type == 'choice' %}")
    para(doc, [("{{ item.number }}. {{ item.label }}", B)], before=2, after=1, keep_next=True, size=size)
    col_w = TEXT_W / 3
    t = doc.add_table(rows=1, cols=3)
    set_table_fixed(t, (col_w, col_w, col_w))
    set_cell_margins(t, 0, 0.5)
    cant_split(t.rows[0])
    c_for, c_opt, c_end = t.rows[0].cells
    cell_para(c_for, "{%tc for opt in item.options %}", size=8)
    option_cell_content(c_opt, mk, label_pt=size)
    first = c_opt.paragraphs[0]
    if not first.runs:
        first._p.getparent().remove(first._p)
    cell_para(c_end, "{%tc endfor %}", size=8)
    para(doc, "{%p else %}")
    para(doc, [("{{ item.number }}. {{ item.label }}:", B)], before=2, keep_next=True, size=size)
    writing = dict(tabs=[(TEXT_W - 0.5, WD_TAB_ALIGNMENT.RIGHT, WD_TAB_LEADER.DOTS)])
    para(doc, "{%p for line in prefilled_remarks %}", size=8)
    p = para(doc, ["- {{ line }}\t"], italic=True, size=13, **writing)
    p.paragraph_format.line_spacing = Pt(WRITING_LINE_PT)
    para(doc, "{%p endfor %}", size=8)
    para(doc, "{%p for line in range(item.lines or 4) %}", size=8)
    para(doc, "{%p if loop.index > prefilled_remarks|length %}", size=8)
    p = para(doc, ["\t"], size=size, **writing)
    p.paragraph_format.line_spacing = Pt(WRITING_LINE_PT)
    para(doc, "{%p endif %}", size=8)
    para(doc, "{%p endfor %}", size=8)
    para(doc, "{%p endif %}")
    para(doc, "{%p endfor %}")

    para(doc, "", size=4)
    sig = doc.add_table(rows=1, cols=2)
    set_table_fixed(sig, (TEXT_W / 2, TEXT_W / 2))
    set_cell_margins(sig, 0.5, 0.5)
    cant_split(sig.rows[0])
    left, right = sig.rows[0].cells
    _lines_para(left, "ward_confirm", size=size, bold=True)
    cell_para(left, "T/M ĐẢNG ỦY", align=WD_ALIGN_PARAGRAPH.CENTER, size=size, bold=True)
    cell_para(left, "(Ký tên, đóng dấu)", align=WD_ALIGN_PARAGRAPH.CENTER, size=12, italic=True)
    cell_para(right, "T/M CHI ỦY", align=WD_ALIGN_PARAGRAPH.CENTER, size=size, bold=True)
    cell_para(right, "BÍ THƯ", align=WD_ALIGN_PARAGRAPH.CENTER, size=size, bold=True)
    for _ in range(4):
        cell_para(right, "", align=WD_ALIGN_PARAGRAPH.CENTER, size=size)
    cell_para(right, "{{ cell_secretary_name }}", align=WD_ALIGN_PARAGRAPH.CENTER, size=size, bold=True)
    end_paragraph(doc)
    return doc


# ----------------------------------------------------------------------------
# mẫu 3-213, phần A: phiếu xin ý kiến (cover letter of a residence cell's packet)
# ----------------------------------------------------------------------------

def build_cover_letter(version: int = 1) -> Document:
    """The workplace committee's request to one residence cell, listing the cell's members and sheets;
    from version 2, optionally each sheet's one-time code for answering online."""
    doc = new_document("Phiếu xin ý kiến chi ủy nơi cư trú (mẫu 3-213)")
    B = {"bold": True}
    letterhead(
        doc,
        [
            ("{{ upper_body_heading or upper_body_name_upper }}", {}),
            ("{{ issuing_committee_heading or issuing_committee_name_upper }}", {"bold": True}),
            ("*", {}),
            ("Số {{ letter_number }}-{{ letter_code }}", {}),
            ("V/v xin ý kiến nhận xét đảng viên", {"italic": True, "size": 12}),
            ("nơi cư trú năm {{ year }}", {"italic": True, "size": 12}),
        ],
        [
            ([("ĐẢNG CỘNG SẢN VIỆT NAM", {"bold": True, "underline": True, "size": 14})], {"after": 8}),
            ("{{ place }}, {{ issue_date_long }}", {"italic": True}),
        ],
        widths=(88, TEXT_W - 88),  # room for a long committee name on two balanced lines
    )
    para(doc, "PHIẾU XIN Ý KIẾN", align=WD_ALIGN_PARAGRAPH.CENTER, size=15, bold=True, before=12)
    para(doc, "Chi ủy nơi cư trú", align=WD_ALIGN_PARAGRAPH.CENTER, bold=True, after=8)
    tabs = [(45, WD_TAB_ALIGNMENT.LEFT, WD_TAB_LEADER.SPACES)]
    p = para(doc, ["Kính gửi:\t- {{ ward_committee_name }}"], tabs=tabs, indent_left=45, after=0)
    p.paragraph_format.first_line_indent = Mm(-20)
    para(doc, "- {{ residence_cell_committee_name }}", indent_left=45, after=8)
    para(doc, LEGAL_BASIS[:-1] + " và Hướng dẫn số 33-HD/BTCTW, ngày 30 tháng 10 năm 2020 của Ban Tổ chức "
         "Trung ương,", align=WD_ALIGN_PARAGRAPH.JUSTIFY, indent_first=10, after=2, line=1.15)
    para(doc, [("{{ issuing_committee_name }}", B), " trân trọng đề nghị {{ residence_cell_committee_name }} "
               "nhận xét về {{ member_count }} đảng viên có tên dưới đây tại nơi cư trú năm {{ year }} "
               "(theo phiếu nhận xét gửi kèm):"],
         align=WD_ALIGN_PARAGRAPH.JUSTIFY, indent_first=10, after=4, line=1.15)
    # the list: one row per member, repeated by the template; from version 2, when the committee asks for
    # them, the list has a last column with each sheet's one-time answer code (printed only here)
    C, L = WD_ALIGN_PARAGRAPH.CENTER, None
    if version >= 2:
        para(doc, "{%p if with_answer_codes %}", size=8)
        loop_table(doc, (12, 55, 18, 38, 42), ("STT", "Họ và tên", "Năm sinh", "Số phiếu", "Mã trả lời"),
                   "row in members", [("{{ loop.index }}", C), ("{{ row.full_name }}", L),
                                      ("{{ row.birth_year }}", C), ("{{ row.sheet_serial }}", C),
                                      ("{{ row.answer_code }}", C)])
        para(doc, "{%p else %}", size=8)
    loop_table(doc, (12, TEXT_W - 12 - 25 - 48, 25, 48), ("STT", "Họ và tên", "Năm sinh", "Số phiếu"),
               "row in members", [("{{ loop.index }}", C), ("{{ row.full_name }}", L), ("{{ row.birth_year }}", C),
                                  ("{{ row.sheet_serial }}", C)])
    if version >= 2:
        para(doc, "{%p endif %}", size=8)
    para(doc, ["Tổng số: ", ("{{ member_count }}", B), " đảng viên."], before=4, after=4, indent_first=10)
    if version >= 2:
        para(doc, "{%p if with_answer_codes %}", size=8)
        para(doc, ["Chi ủy có thể trả lời trực tuyến thay cho phiếu giấy: nhập số phiếu và mã trả lời (mỗi mã "
                   "dùng một lần, đến hết ngày {{ answer_codes_until }}) tại trang ", ("{{ answer_link }}", B),
                   ". Mã chỉ in trong văn bản này; nếu đảng ủy cấp lại, các mã cũ không dùng được nữa."],
             indent_first=10, after=4, line=1.15)  # left: the address cannot break, justified lines would gape
        para(doc, "{%p endif %}", size=8)
    para(doc, ["Đề nghị {{ residence_cell_committee_name }} họp với ban công tác mặt trận, nhận xét vào phiếu, "
               "đề nghị đảng ủy xác nhận và gửi lại về ", ("{{ issuing_committee_name }}", B),
               " trước ", ("{{ return_deadline_long }}", B), "."],
         align=WD_ALIGN_PARAGRAPH.JUSTIFY, indent_first=10, after=8, line=1.15)
    signature_table(
        doc,
        [
            ("Nơi nhận:", {"bold": True, "italic": True, "size": 12, "align": WD_ALIGN_PARAGRAPH.LEFT}),
            ("- Như trên,", {"size": 11, "align": WD_ALIGN_PARAGRAPH.LEFT}),
            ("- Lưu văn phòng đảng ủy.", {"size": 11, "align": WD_ALIGN_PARAGRAPH.LEFT}),
        ],
        [
            ("{{ signer_on_behalf }}", {"bold": True}),
            ("{{ signer_title }}", {"bold": True}),
            ("", {}), ("", {}), ("", {}), ("", {}),
            ("{{ signer_name }}", {"bold": True}),
        ],
    )
    end_paragraph(doc)
    return doc


# ----------------------------------------------------------------------------
# deterministic save
# ----------------------------------------------------------------------------

def _drop_extras(doc: Document) -> None:
    """Drop parts of python-docx's default template a form does not need
    (Word 2010 stylesWithEffects, a misleading thumbnail, customXml)."""
    part = doc.part
    for rid, rel in list(part.rels.items()):
        if rel.reltype.endswith("/stylesWithEffects") or rel.reltype.endswith("/customXml"):
            part.drop_rel(rid) if hasattr(part, "drop_rel") else None
            part.rels.pop(rid, None)
    pkg_rels = part.package.rels
    for rid, rel in list(pkg_rels.items()):
        if rel.reltype.endswith("/thumbnail"):
            pkg_rels.pop(rid, None)


def _prune_styles(doc: Document) -> None:
    """Keep only the styles the form uses (and what they derive from), and drop
    the latent-style table: python-docx's default styles.xml is 350 kB, which
    every generated document would otherwise carry."""
    styles = doc.styles.element
    used: set[str] = set()
    parts = [doc.part.element] + [s.header._element for s in doc.sections] + [s.footer._element for s in doc.sections]
    try:
        parts.append(doc.part.numbering_part.element)
    except Exception:  # no numbering part
        pass
    for root in parts:
        for tag in ("w:pStyle", "w:rStyle", "w:tblStyle", "w:numStyle"):
            for el in root.iter(qn(tag)):
                used.add(el.get(qn("w:val")))
    by_id = {st.get(qn("w:styleId")): st for st in styles.findall(qn("w:style"))}
    keep = {sid for sid, st in by_id.items() if st.get(qn("w:default")) == "1"} | (used & set(by_id))
    todo = list(keep)
    while todo:
        st = by_id[todo.pop()]
        for tag in ("w:basedOn", "w:next", "w:link"):
            el = st.find(qn(tag))
            if el is not None and el.get(qn("w:val")) in by_id and el.get(qn("w:val")) not in keep:
                keep.add(el.get(qn("w:val")))
                todo.append(el.get(qn("w:val")))
    for sid, st in by_id.items():
        if sid not in keep:
            styles.remove(st)
    latent = styles.find(qn("w:latentStyles"))
    if latent is not None:
        styles.remove(latent)


# ----------------------------------------------------------------------------
# reminder letter to a late residence cell (year-end campaign; project form)
# ----------------------------------------------------------------------------

def build_reminder_letter() -> Document:
    """Công văn đề nghị gửi lại phiếu nhận xét: from the workplace committee to a residence cell
    that has not returned every sheet by the deadline, listing the sheets still missing.

    The list is a table row repeated over ``missing_sheets`` (rows with ``no``, ``full_name``,
    ``date_of_birth``, ``sheet_serial``), passed by the service with the other fields."""
    doc = new_document("Công văn đề nghị gửi lại phiếu nhận xét")
    B = {"bold": True}
    letterhead(
        doc,
        [
            ("{{ upper_body_name_upper }}", {}),
            ("{{ issuing_committee_name_upper }}", {"bold": True}),
            ("*", {}),
            ("Số {{ letter_number }}-{{ letter_code }}", {}),
            ([("V/v đề nghị gửi lại phiếu nhận xét đảng viên năm {{ year }}", {"italic": True, "size": 11})], {}),
        ],
        [
            ([("ĐẢNG CỘNG SẢN VIỆT NAM", {"bold": True, "underline": True, "size": 14})], {"after": 8}),
            ("{{ place }}, {{ issue_date_long }}", {"italic": True}),
        ],
    )
    tabs = [(45, WD_TAB_ALIGNMENT.LEFT, WD_TAB_LEADER.SPACES)]
    p = para(doc, ["Kính gửi:\t- {{ ward_committee_name }}"], tabs=tabs, indent_left=45, before=12, after=0)
    p.paragraph_format.first_line_indent = Mm(-20)
    para(doc, "- {{ residence_cell_name }}", indent_left=45, after=8)
    kw = dict(align=WD_ALIGN_PARAGRAPH.JUSTIFY, indent_first=10, line=1.2, after=4)
    para(doc, LEGAL_BASIS, **kw)
    para(doc, ["Ngày {{ sent_date }}, ", ("{{ issuing_committee_name }}", B), " đã gửi đến chi ủy chi bộ "
               "phiếu nhận xét năm {{ year }} của các đảng viên đang công tác tại đơn vị và cư trú tại địa "
               "phương, đề nghị gửi lại trước ngày {{ deadline }}. Đến nay, đơn vị chưa nhận được "
               "{{ missing_count }} phiếu của các đồng chí có tên dưới đây:"], **kw)
    C = WD_ALIGN_PARAGRAPH.CENTER
    loop_table(doc, (14, 75, 32, 44), ("STT", "Họ và tên", "Ngày sinh", "Số phiếu"), "row in missing_sheets",
               [("{{ row.no }}", C), ("{{ row.full_name }}", WD_ALIGN_PARAGRAPH.LEFT), ("{{ row.date_of_birth }}", C),
                ("{{ row.sheet_serial }}", C)], border_sz=4, tag_size=12, split_rows=True)
    para(doc, ["Đề nghị chi ủy chi bộ quan tâm, chỉ đạo hoàn thành việc nhận xét và gửi lại phiếu về ",
               ("{{ issuing_committee_name }}", B), " trước ngày ", ("{{ new_deadline }}", B),
               " để kịp tổng hợp, phục vụ đánh giá, xếp loại chất lượng đảng viên cuối năm. Phiếu bị thất lạc "
               "xin báo lại để đơn vị gửi phiếu thay thế."], before=6, **kw)
    para(doc, ["Mọi thông tin xin liên hệ: {{ contact_line }}."], **kw)
    para(doc, "Trân trọng cảm ơn sự phối hợp của các đồng chí.", **kw)
    signature_table(
        doc,
        [
            ([("Nơi nhận:", {"bold": True, "italic": True, "underline": True, "size": 12})],
             {"align": WD_ALIGN_PARAGRAPH.LEFT}),
            ("- Như trên,", {"size": 11, "align": WD_ALIGN_PARAGRAPH.LEFT}),
            ("- Lưu văn phòng.", {"size": 11, "align": WD_ALIGN_PARAGRAPH.LEFT}),
        ],
        [
            ("{{ signer_on_behalf }}", {"bold": True}),
            ("{{ signer_title }}", {"bold": True}),
            ("", {}),
            ("", {}),
            ("", {}),
            ("{{ signer_name }}", {"bold": True}),
        ],
    )
    end_paragraph(doc)
    return doc


def save_deterministic(doc: Document, path: Path) -> None:
    _drop_extras(doc)
    _prune_styles(doc)
    buf = io.BytesIO()
    doc.save(buf)
    buf.seek(0)
    out = io.BytesIO()
    with zipfile.ZipFile(buf) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            zi = zipfile.ZipInfo(info.filename, date_time=(2026, 1, 1, 0, 0, 0))
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o644 << 16
            zout.writestr(zi, data)
    path.write_bytes(out.getvalue())


BUILDERS = {
    "introduction_letter.v1.docx": build_introduction_letter,
    "introduction_letter.v2.docx": build_introduction_letter_v2,
    "introduction_letter.v3.docx": build_introduction_letter_v3,
    "evaluation_sheet.v1.docx": build_evaluation_sheet,
    "reminder_letter.v1.docx": build_reminder_letter,
    "evaluation_sheet.v2.docx": build_evaluation_sheet_v2,
    "cover_letter.v1.docx": build_cover_letter,
    "cover_letter.v2.docx": lambda: build_cover_letter(2),
}


def main(argv=None) -> int:
    out_dir = Path(argv[0]) if argv else HERE
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, builder in BUILDERS.items():
        path = out_dir / name
        save_deterministic(builder(), path)
        print(f"wrote {path} ({path.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
