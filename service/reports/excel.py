"""The report as an Excel workbook: the members' rows, and a sheet of figures with native charts."""
from __future__ import annotations

import io
from copy import copy
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from ..members.export import FORMULA_STARTS
from .cells import ITEM_NUMBERS, CellReport

HEADERS = (["STT", "Họ và tên", "Số thẻ đảng viên", "Chi bộ nơi cư trú", "Phiếu"]
           + [f"Mục {n}" for n in ITEM_NUMBERS]
           + ["Nhận xét khác (mục 7)", "Số lần vắng", "Vắng không có lý do", "Các lần vắng trong năm", "Lưu ý khi xếp loại",
              "Nguồn"])
WIDTHS = [5, 26, 14, 24, 14] + [16] * len(ITEM_NUMBERS) + [40, 8, 10, 50, 30, 14]


def put(ws, row: int, col: int, value: Any):
    """Write one cell; text Excel would take as a formula stays text (shown, never evaluated)."""
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
    cell = ws.cell(row=row, column=col, value=value)
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        cell.data_type = "s"
        cell.quotePrefix = True
    return cell


def report_xlsx(report: CellReport) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "Kết quả"
    put(ws, 1, 1, report.title).font = Font(bold=True, size=13)
    put(ws, 2, 1, f"Đã gửi {report.sent} phiếu, đã nhận lại {report.returned}; "
                  f"{len(report.flagged)} đảng viên {'' if report.rule_on else '(quy định về vắng sinh hoạt đang tắt) '}"
                  "vắng sinh hoạt không có lý do.")
    head = 4
    for c, h in enumerate(HEADERS, 1):
        cell = put(ws, head, c, h)
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        ws.column_dimensions[get_column_letter(c)].width = WIDTHS[c - 1]
    wrap = None  # one style for every data cell, copied (setting Alignment per cell is slow)
    for i, r in enumerate(report.rows, 1):
        cell_name = r.member.residence_cell.name if r.member.residence_cell else ""
        values = ([i, r.member.full_name, r.member.card_number or "", cell_name, r.sheet_state]
                  + [r.answer(n) for n in ITEM_NUMBERS]
                  + [r.remarks, len(r.absences), r.unexcused, r.absence_text, r.flag_text,
                     r.result.source_label if r.result else ""])
        for c, v in enumerate(values, 1):
            cell = put(ws, head + i, c, v)
            if wrap is None:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
                wrap = cell._style
            else:
                cell._style = copy(wrap)
    ws.freeze_panes = ws.cell(row=head + 1, column=3)
    _figures(wb.create_sheet("Biểu đồ"), report)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _rate_table(ws, top: int, anchor_col: str, rates: dict, by: str) -> int:
    """A table of return rates per cell (``by``: residence or workplace) from row ``top``, with its native
    bar chart beside it; returns the first free row below it."""
    from .charts import RATE_TITLES
    heading = RATE_TITLES[by]
    put(ws, top, 1, heading).font = Font(bold=True)
    cell_header = "Chi bộ nơi cư trú" if by == "residence" else "Chi bộ nơi công tác"
    for c, h in enumerate((cell_header, "Đã gửi", "Đã nhận lại", "Tỷ lệ (%)"), 1):
        put(ws, top + 1, c, h).font = Font(bold=True)
    row = top + 2
    for name, (back, sent) in rates.items():
        put(ws, row, 1, name)
        put(ws, row, 2, sent)
        put(ws, row, 3, back)
        put(ws, row, 4, round(100 * back / sent) if sent else 0)
        row += 1
    if rates:
        chart = BarChart()
        chart.type = "bar"
        chart.title = f"{heading} (%)"
        chart.y_axis.title = "%"
        chart.y_axis.scaling.min, chart.y_axis.scaling.max = 0, 100
        chart.add_data(Reference(ws, min_col=4, min_row=top + 1, max_row=row - 1), titles_from_data=True)
        chart.set_categories(Reference(ws, min_col=1, min_row=top + 2, max_row=row - 1))
        chart.legend = None
        chart.x_axis.delete = chart.y_axis.delete = False  # openpyxl 3.1 leaves axes hidden in recent Excel
        ws.add_chart(chart, f"{anchor_col}{top + 1}")
    return max(row + 1, top + 18) if rates else row + 1


def _figures(ws, report: CellReport) -> None:
    """Tables of figures, each with a native bar chart beside it."""
    ws.column_dimensions["A"].width = 40
    row = _rate_table(ws, 1, "F", report.return_rates(), "residence")
    if report.by_workplace_cell:
        row = _rate_table(ws, row, "F", report.return_rates("workplace"), "workplace")
    row = max(row, 20)
    for title, counts in report.distributions():
        put(ws, row, 1, title).font = Font(bold=True)
        put(ws, row + 1, 1, "Lựa chọn").font = Font(bold=True)
        put(ws, row + 1, 2, "Số phiếu").font = Font(bold=True)
        first = row + 2
        for j, (label, n) in enumerate(counts):
            put(ws, first + j, 1, label)
            put(ws, first + j, 2, n)
        last = first + len(counts) - 1
        chart = BarChart()
        chart.title = title if len(title) <= 60 else title[:57] + "…"
        chart.add_data(Reference(ws, min_col=2, min_row=row + 1, max_row=last), titles_from_data=True)
        chart.set_categories(Reference(ws, min_col=1, min_row=first, max_row=last))
        chart.legend = None
        chart.height, chart.width = 6, 14
        chart.x_axis.delete = chart.y_axis.delete = False
        ws.add_chart(chart, f"F{row}")
        row = max(last + 2, row + 13)
    put(ws, row, 1, "Đảng viên vắng sinh hoạt không có lý do (không được xếp loại Hoàn thành tốt nhiệm vụ trở lên)"
        ).font = Font(bold=True)
    for k, r in enumerate(report.flagged, 1):
        put(ws, row + k, 1, r.member.full_name)
        put(ws, row + k, 2, r.unexcused)
    if not report.flagged:
        put(ws, row + 1, 1, "Không có")
