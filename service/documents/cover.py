"""The list that opens each residence cell's bundle of introduction letters (bulk ``cell_bundles``).

Headed by the sending workplace committee and addressed ("Kính gửi") to the ward and the cell.
Evaluation sheets open with the numbered request letter instead (``packets``).
"""
from __future__ import annotations

import io

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Mm, Pt

TITLES = {
    "evaluation_sheet": "DANH SÁCH ĐẢNG VIÊN ĐANG CÔNG TÁC ĐỀ NGHỊ CHI ỦY NƠI CƯ TRÚ NHẬN XÉT NĂM {year}",
    "introduction_letter": "DANH SÁCH ĐẢNG VIÊN ĐANG CÔNG TÁC GIỚI THIỆU VỀ NƠI CƯ TRÚ NĂM {year}",
}


def cover_list(kind: str, year: int, committee_name: str, ward_name: str, cell_name: str, rows: list[dict]) -> bytes:
    """rows: {full_name, date_of_birth (dd/mm/yyyy), workplace, reference}."""
    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(20), Mm(20)
    section.left_margin, section.right_margin = Mm(30), Mm(15)
    style = doc.styles["Normal"]
    style.font.name, style.font.size = "Times New Roman", Pt(13)
    for text, bold in ((committee_name.upper(), True), ("*", False)):
        p = doc.add_paragraph()
        run = p.add_run(text)
        run.bold, run.font.size = bold, Pt(13)
    title = doc.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = title.add_run(TITLES[kind].format(year=year))
    run.bold, run.font.size = True, Pt(14)
    to = doc.add_paragraph()
    to.alignment = WD_ALIGN_PARAGRAPH.CENTER
    to.add_run(f"Kính gửi: {ward_name}, {cell_name}")
    ref_label = "Số phiếu" if kind == "evaluation_sheet" else "Số giấy"
    table = doc.add_table(rows=1, cols=5)
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, ("STT", "Họ và tên", "Ngày sinh", "Nơi công tác", ref_label)):
        cell.text = ""
        cell.paragraphs[0].add_run(text).bold = True
    for i, row in enumerate(rows, 1):
        cells = table.add_row().cells
        for cell, text in zip(cells, (str(i), row["full_name"], row["date_of_birth"], row["workplace"], row["reference"])):
            cell.text = text
    doc.add_paragraph(f"Tổng số: {len(rows)} đảng viên.")
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
