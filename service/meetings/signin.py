"""The printable sign-in sheet of a residence meeting (Word; PDF through docgen.pdf)."""
from __future__ import annotations

import io

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Cm, Pt

from ..models import Meeting, Member

FONT = "Times New Roman"


def _run(p, text: str, *, bold: bool = False, italic: bool = False, size: float = 13):
    r = p.add_run(text)
    r.bold, r.italic, r.font.size, r.font.name = bold, italic, Pt(size), FONT
    return r


def signin_docx(meeting: Meeting, people: list[Member]) -> bytes:
    doc = Document()
    style = doc.styles["Normal"]
    style.font.name, style.font.size = FONT, Pt(13)
    sec = doc.sections[0]
    sec.page_width, sec.page_height = Cm(21), Cm(29.7)
    sec.left_margin, sec.right_margin, sec.top_margin, sec.bottom_margin = Cm(2.5), Cm(1.5), Cm(2), Cm(2)
    cell = meeting.residence_cell
    head = doc.add_table(rows=1, cols=2)
    left, right = head.rows[0].cells
    p = left.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    if cell.parent is not None:
        _run(p, cell.parent.name.upper(), size=12)
        p.add_run().add_break()
    _run(p, cell.name.upper(), bold=True, size=12)
    p.add_run().add_break()
    _run(p, "*", size=12)
    q = right.paragraphs[0]
    q.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _run(q, "ĐẢNG CỘNG SẢN VIỆT NAM", bold=True, size=13)
    title = doc.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    title.paragraph_format.space_before = Pt(18)
    _run(title, "DANH SÁCH ĐẢNG VIÊN THAM DỰ SINH HOẠT", bold=True, size=14)
    sub = doc.add_paragraph()
    sub.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _run(sub, f"Buổi sinh hoạt ngày {meeting.held_on:%d/%m/%Y}", italic=True)
    if meeting.title:
        _run(sub, f" — {meeting.title}", italic=True)
    table = doc.add_table(rows=1, cols=5)
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    widths = (Cm(1.2), Cm(5.6), Cm(4.6), Cm(3.2), Cm(2.4))
    table.autofit = False
    for col, w in zip(table.columns, widths):  # the grid LibreOffice and Word lay out by
        col.width = w
    for c, (h, w) in enumerate(zip(("STT", "Họ và tên", "Nơi công tác", "Ký tên", "Ghi chú"), widths)):
        cl = table.rows[0].cells[c]
        cl.width = w
        cl.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
        _run(cl.paragraphs[0], h, bold=True, size=12)
    for i, m in enumerate(people, 1):
        row = table.add_row()
        row.height = Cm(1.1)
        values = (str(i), m.full_name, m.workplace_org.name if m.workplace_org else (m.employer or ""), "",
                  "Miễn sinh hoạt" if m.status == "exempt_meetings" else "")
        for c, (v, w) in enumerate(zip(values, widths)):
            row.cells[c].width = w
            _run(row.cells[c].paragraphs[0], v, size=12)
    foot = doc.add_paragraph()
    foot.paragraph_format.space_before = Pt(12)
    _run(foot, f"Tổng số đảng viên: {len(people)}.   Có mặt: ……   Vắng: ……", size=12)
    block = doc.add_table(rows=1, cols=2)
    sign = block.rows[0].cells[1].paragraphs[0]
    sign.alignment = WD_ALIGN_PARAGRAPH.CENTER
    sign.paragraph_format.space_before = Pt(12)
    _run(sign, "T/M CHI ỦY", bold=True)
    sign.add_run().add_break()
    _run(sign, "BÍ THƯ", bold=True)
    if cell.secretary_name:
        for _ in range(3):
            sign.add_run().add_break()
        _run(sign, cell.secretary_name, bold=True)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
