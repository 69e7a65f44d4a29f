"""The campaign's list of sheets not returned, as an Excel workbook (formula-safe text)."""
from __future__ import annotations

import io

from openpyxl import Workbook

from ..members.export import safe_value
from .logic import SheetRow

HEADERS = ("STT", "Họ và tên", "Ngày sinh", "Số phiếu", "Đảng ủy xã, phường", "Chi bộ nơi cư trú",
           "Bí thư chi bộ", "Điện thoại", "Tình trạng", "Ngày gửi", "Quá hạn")


def missing_workbook(title: str, rows: list[SheetRow], contacts: dict) -> bytes:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Chưa gửi lại")
    for width, col in zip((6, 28, 12, 18, 28, 24, 24, 14, 28, 12, 9), "ABCDEFGHIJK"):
        ws.column_dimensions[col].width = width
    ws.append([safe_value(ws, title)])
    ws.append([safe_value(ws, h) for h in HEADERS])
    for i, r in enumerate(rows, 1):
        name, phone = contacts.get(r.cell.id, ("", "")) if r.cell else ("", "")
        values = [i, r.member.full_name, r.member.date_of_birth.strftime("%d/%m/%Y") if r.member.date_of_birth else "",
                  r.ev.sheet_serial if r.ev else "", r.ward.name if r.ward else "", r.cell.name if r.cell else "",
                  name, phone, r.state.title, r.sent_on.strftime("%d/%m/%Y") if r.sent_on else "",
                  "Quá hạn" if r.overdue else ""]
        ws.append([safe_value(ws, v) for v in values])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
