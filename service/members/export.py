"""Exporting members to .xlsx with the headers the importer recognises (an export re-imports cleanly)."""
from __future__ import annotations

import datetime as dt
import io
import itertools
from typing import Any, Iterable, Optional

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from ..models import GENDERS, MEMBER_STATUSES, Member
from .fields import COLUMN_LABELS, EXPORT_COLUMNS

COLUMNS = EXPORT_COLUMNS  # the member vocabulary's list columns, each re-imported as the same field
DATE_FORMAT = "dd/mm/yyyy"
SHEET_TITLE = "Danh sách đảng viên"
WIDTH_SAMPLE = 2000  # rows kept in memory to size the columns; the rest are streamed
MIN_WIDTH, MAX_WIDTH = 6, 60


def member_row(m: Member) -> list[Any]:
    org = m.workplace_org
    if org is not None and org.kind == "workplace_cell":
        committee = org.parent.name if org.parent is not None else None
        cell: Optional[str] = org.name
    else:
        committee, cell = (org.name if org is not None else None), None
    values = {
        "full_name": m.full_name, "card_number": m.card_number, "date_of_birth": m.date_of_birth,
        "gender": GENDERS.get(m.gender or ""), "admission_date": m.admission_date,
        "full_member_date": m.full_member_date, "workplace_committee": committee, "workplace_cell": cell,
        "employer": m.employer,
        "party_position": m.party_position, "government_position": m.government_position,
        "mass_org_position": m.mass_org_position, "house": m.house, "residential_group": m.residential_group,
        "neighbourhood": m.neighbourhood, "commune": m.commune, "province": m.province,
        "residence_cell": m.residence_cell.name if m.residence_cell is not None else None, "phone": m.phone,
        "status": MEMBER_STATUSES.get(m.status, m.status), "notes": m.notes,
    }
    return [values[c] for c in COLUMNS]


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_value(ws, value: Any) -> Any:
    """``value`` ready for ``ws.append``: a string that Excel would take as a formula becomes a text cell.

    A name like ``=HYPERLINK("http://…"&B2,"…")`` is written as that text (data type "s", quote
    prefix: Excel shows it and never evaluates it); the text itself is unchanged, so it re-imports
    as it was. Every workbook the service writes puts its values through this.
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        cell = WriteOnlyCell(ws, value=value)
        cell.data_type = "s"
        cell.quotePrefix = True
        return cell
    return value


def _width(value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, dt.date):
        return 10
    return max(len(line) for line in str(value).split("\n"))


def export_members(members: Iterable[Member]) -> bytes:
    """The members as an .xlsx workbook (bytes): bold frozen header, dates as real dates."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(SHEET_TITLE)
    rows = iter(members)
    sample = [member_row(m) for m in itertools.islice(rows, WIDTH_SAMPLE)]
    headers = [COLUMN_LABELS[c] for c in COLUMNS]
    for j, header in enumerate(headers):
        width = max([len(header)] + [_width(r[j]) for r in sample])
        ws.column_dimensions[get_column_letter(j + 1)].width = min(MAX_WIDTH, max(MIN_WIDTH, width + 2))
    ws.freeze_panes = "A2"
    bold = Font(bold=True)
    centre = Alignment(horizontal="center", vertical="center", wrap_text=True)
    header_cells = []
    for h in headers:
        c = WriteOnlyCell(ws, value=h)
        c.font, c.alignment = bold, centre
        header_cells.append(c)
    ws.append(header_cells)

    def write(values: list[Any]) -> None:
        out = []
        for v in values:
            if isinstance(v, dt.date):
                c = WriteOnlyCell(ws, value=v)
                c.number_format = DATE_FORMAT
                out.append(c)
            else:  # control characters are dropped; text that looks like a formula stays text
                out.append(safe_value(ws, ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v))
        ws.append(out)

    for r in sample:
        write(r)
    del sample
    for m in rows:
        write(member_row(m))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
