"""The report as a Word document (python-docx), landscape A4, for the rating meeting."""
from __future__ import annotations

import io

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Cm, Pt
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls
from xml.sax.saxutils import escape

from .cells import ITEM_NUMBERS, CellReport

FONT = "Times New Roman"


def _base(doc) -> None:
    style = doc.styles["Normal"]
    style.font.name = FONT
    style.font.size = Pt(9.5)  # the table's text; headings set their own size
    rpr = style.element.get_or_add_rPr()
    rpr.get_or_add_rFonts().set("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}eastAsia", FONT)


def landscape(doc) -> None:
    sec = doc.sections[0]
    sec.orientation = WD_ORIENT.LANDSCAPE
    sec.page_width, sec.page_height = Cm(29.7), Cm(21)
    sec.left_margin = sec.right_margin = Cm(1.5)
    sec.top_margin = sec.bottom_margin = Cm(1.5)


def _cell(cell, text: str, bold: bool = False, size: float = 9.5) -> None:
    cell.text = ""
    lines = (text or "").split("\n")
    p = cell.paragraphs[0]
    for k, line in enumerate(lines):
        run = p.add_run(line)
        run.bold, run.font.size = bold, Pt(size)
        if k < len(lines) - 1:
            run.add_break()


def _clean(text: str) -> str:
    """Text as XML 1.0 allows it (control characters dropped), escaped."""
    return escape("".join(ch for ch in text if ch in "\t\n" or ord(ch) >= 32))


def _row_xml(values: list[str], bold_last: bool) -> str:
    """One table row as WordprocessingML (python-docx builds rows one element at a time: too slow
    for a thousand members)."""
    cells = []
    for c, value in enumerate(values):
        rpr = "<w:rPr><w:b/></w:rPr>" if bold_last and c == len(values) - 1 and value else ""
        lines = (value or "").split("\n")
        runs = "<w:br/>".join(f'<w:t xml:space="preserve">{_clean(line)}</w:t>' for line in lines)
        cells.append(f"<w:tc><w:p><w:r>{rpr}{runs}</w:r></w:p></w:tc>")
    return f"<w:tr {nsdecls('w')}>{''.join(cells)}</w:tr>"


def report_docx(report: CellReport) -> bytes:
    doc = Document()
    _base(doc)
    landscape(doc)
    head = doc.add_paragraph()
    head.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = head.add_run(f"KẾT QUẢ NHẬN XÉT CỦA CHI BỘ NƠI CƯ TRÚ NĂM {report.year}")
    run.bold, run.font.size = True, Pt(14)
    sub = doc.add_paragraph()
    sub.alignment = WD_ALIGN_PARAGRAPH.CENTER
    sub.add_run(f"{report.org.name} — đã gửi {report.sent} phiếu, đã nhận lại {report.returned}").font.size = Pt(12)
    if report.by_workplace_cell:
        rates = doc.add_paragraph()
        rates.add_run("Tỷ lệ phiếu nhận lại theo chi bộ nơi công tác: ").bold = True
        rates.add_run("; ".join(report.rate_lines("workplace")) or "chưa gửi phiếu nào")
    headers = (["STT", "Họ và tên", "Chi bộ nơi cư trú"] + [f"Mục {n}" for n in ITEM_NUMBERS]
               + ["Nhận xét khác", "Vắng sinh hoạt trong năm", "Lưu ý khi xếp loại"])
    table = doc.add_table(rows=1, cols=len(headers))
    table.style = "Table Grid"
    for c, h in enumerate(headers):
        _cell(table.rows[0].cells[c], h, bold=True)
    for i, r in enumerate(report.rows, 1):
        absences = r.absence_text or "Không vắng"
        values = ([str(i), r.member.full_name + ("" if r.result is None or r.result.returned else f"\n({r.sheet_state})"),
                   r.member.residence_cell.name if r.member.residence_cell else ""]
                  + [r.answer(n) for n in ITEM_NUMBERS] + [r.remarks, absences, r.flag_text])
        table._tbl.append(parse_xml(_row_xml(values, bold_last=True)))
    doc.add_paragraph()
    note = doc.add_paragraph()
    note.add_run("Ghi chú: ").bold = True
    note.add_run("đảng viên vắng sinh hoạt nơi cư trú không có lý do (không có đơn xin vắng được đảng ủy nơi công tác "
                 "xác nhận) từ một lần trở lên trong năm thì không được xếp loại Hoàn thành tốt nhiệm vụ trở lên, "
                 "trừ trường hợp bất khả kháng. Báo cáo chỉ nêu để chi bộ xem xét, không tự xếp loại.")
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
