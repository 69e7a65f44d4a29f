"""A generator of member lists laid out the way different offices keep them (synthetic people only).

Two separate sets of layouts:

- ``TUNING``: the layouts the importer was developed against;
- ``HELD_OUT``: written at the same time but never looked at while tuning; ``bench/import_layouts.py``
  reports how the importer does on them (field by field), so the figure says how it may do on a
  list nobody has seen.

What varies (each layout documents its choices in ``doc``): title blocks (one to four rows, merged),
one-row or two-row headers with merged parents ("Nơi cư trú" over "Xã/phường" / "Chi bộ" /
"Địa chỉ"), the date of birth split under "Nam" / "Nữ", a "(1) (2) (3)" or "1 2 3" column-number
row, section rows ("I. Sở Tài chính"), blank rows, a total row, a signature block ("NGƯỜI LẬP
BIỂU" and a name), header spellings ("Đảng ủy xã, phường nơi cư trú", "Nơi cư trú", "Chi bộ nơi cư
trú", "Số điện thoại", "Nơi công tác", "Cơ quan công tác", "Đơn vị công tác", "Đảng bộ/Chi bộ
nơi công tác"), card numbers (``22.668517``, ``22668517``, `` 22 668 517``, a number cell that
lost the leading zero), phones (``+84 930 775 789``, ``0371.695.421``, ``0393 866 323``, a number
cell ``930775789``) and dates (Excel dates, ``d/m/yyyy``, ``dd-mm-yyyy``, ``dd.mm.yyyy``).

Every person has the same identity in every layout, so "the same people from two layouts give one
member each" can be checked. Residence cells are named alike in two wards ("Chi bộ khu phố 1" in
both): only the ward column tells them apart.
"""
from __future__ import annotations

import datetime as dt
import io
import random
from dataclasses import dataclass, field
from typing import Any, Optional, Union

from openpyxl import Workbook
from openpyxl.utils import get_column_letter

FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương"]
MIDDLE = {"male": ["Văn", "Đức", "Minh", "Quang", "Hữu", "Thành", "Xuân", "Công"],
          "female": ["Thị", "Thu", "Ngọc", "Thanh", "Thùy", "Phương", "Hồng", "Kim"]}
GIVEN = {"male": ["Hùng", "Dũng", "Tuấn", "Nam", "Long", "Hải", "Sơn", "Thắng", "Cường", "Quân", "Hiếu", "Khánh"],
         "female": ["Lan", "Hương", "Mai", "Hạnh", "Ngọc", "Hà", "Thảo", "Trang", "Linh", "Yến", "Nhung", "Hoa"]}
# employer -> (its party committee, cells)
EMPLOYERS = {
    "Sở Tài chính tỉnh Quảng Ninh": ("Đảng ủy Sở Tài chính", ["Chi bộ Phòng Ngân sách", "Chi bộ Văn phòng Sở"]),
    "Bệnh viện Đa khoa tỉnh": ("Đảng ủy Bệnh viện Đa khoa tỉnh", ["Chi bộ Khoa Nội", "Chi bộ Khoa Ngoại"]),
    "Cục Thuế tỉnh Quảng Ninh": ("Đảng ủy Cục Thuế tỉnh", ["Chi bộ Phòng Kiểm tra", "Chi bộ Phòng Kê khai"]),
}
WARDS = {"Phường Hồng Hà": ["Chi bộ khu phố 1", "Chi bộ khu phố 2", "Chi bộ tổ dân phố 3"],
         "Phường Bãi Cháy": ["Chi bộ khu phố 1", "Chi bộ khu phố 5"]}
STREETS = ["Lê Thánh Tông", "Trần Hưng Đạo", "Nguyễn Văn Cừ", "Cao Xanh", "Giếng Đồn"]


@dataclass
class Person:
    full_name: str
    gender: str  # male / female
    card: str  # canonical 22.668517
    dob: dt.date
    admitted: dt.date
    employer: str
    committee: str
    cell: str
    ward: str  # "Phường Hồng Hà"
    residence_cell: str
    house: str
    phone: str  # canonical 0xxxxxxxxx


def people(n: int, seed: int = 10) -> list[Person]:
    rng = random.Random(seed)
    out, names, cards = [], set(), set()
    while len(out) < n:
        g = "male" if rng.random() < 0.5 else "female"
        name = f"{rng.choice(FAMILY)} {rng.choice(MIDDLE[g])} {rng.choice(GIVEN[g])}"
        if name in names:
            name = name.replace(" ", f" {rng.choice(MIDDLE[g])} ", 1)
        if name in names:
            continue
        card = f"{rng.randrange(0, 100):02d}{rng.randrange(0, 10 ** 6):06d}"
        if card in cards:
            continue
        names.add(name)
        cards.add(card)
        dob = dt.date(1965, 1, 1) + dt.timedelta(days=rng.randrange(12000))
        admitted = dob + dt.timedelta(days=365 * 20 + rng.randrange(1500))
        employer = rng.choice(list(EMPLOYERS))
        committee, cells = EMPLOYERS[employer]
        ward = rng.choice(list(WARDS))
        prefix = rng.choice(["09", "03", "08", "07"])
        out.append(Person(name, g, f"{card[:2]}.{card[2:]}", dob, admitted, employer, committee, rng.choice(cells),
                          ward, rng.choice(WARDS[ward]),
                          f"Số {rng.randrange(1, 200)} đường {rng.choice(STREETS)}",
                          prefix + "".join(str(rng.randrange(10)) for _ in range(8))))
    return out


Header = Union[str, tuple[str, str]]  # one row, or (parent, child) of a two-row header


@dataclass
class Layout:
    name: str
    doc: str
    columns: list[tuple[str, Header]]  # (content, header)
    title_rows: list[str] = field(default_factory=list)
    number_row: Optional[str] = None  # "paren" (1) (2)…, "plain" 1 2 …
    footer: bool = False
    sections: bool = False  # "I. <employer>" rows before each employer's people
    blank_every: int = 0
    total_row: bool = False
    card_style: str = "dot"  # dot, plain, spaced, number, mixed
    phone_style: str = "plain"  # plain, plus84, dots, spaces, number, mixed
    date_style: str = "excel"  # excel, dmy, dashes, dots, mixed
    extra_sheet_first: bool = False


def _card(p: Person, style: str, i: int) -> Any:
    digits = p.card.replace(".", "")
    if style == "mixed":
        style = ["dot", "plain", "spaced", "number"][i % 4]
    if style == "dot":
        return p.card
    if style == "plain":
        return digits
    if style == "spaced":
        return f" {digits[:2]} {digits[2:5]} {digits[5:]}"
    return int(digits)  # number cell: a leading zero is lost


def _phone(p: Person, style: str, i: int) -> Any:
    d = p.phone
    if style == "mixed":
        style = ["plain", "plus84", "dots", "spaces", "number"][i % 5]
    if style == "plus84":
        return f"+84 {d[1:4]} {d[4:7]} {d[7:]}"
    if style == "dots":
        return f"{d[:4]}.{d[4:7]}.{d[7:]}"
    if style == "spaces":
        return f"{d[:4]} {d[4:7]} {d[7:]}"
    if style == "number":
        return int(d)
    return d


def _date(d: dt.date, style: str, i: int) -> Any:
    if style == "mixed":
        style = ["excel", "dmy", "dashes", "dots"][i % 4]
    if style == "dmy":
        return f"{d.day}/{d.month}/{d.year}"
    if style == "dashes":
        return f"{d.day:02d}-{d.month:02d}-{d.year}"
    if style == "dots":
        return f"{d.day:02d}.{d.month:02d}.{d.year}"
    return d


def _value(content: str, p: Person, layout: Layout, i: int) -> Any:
    ward_bare = p.ward.split(" ", 1)[1]
    return {
        "stt": i + 1,
        "name": p.full_name,
        "card": _card(p, layout.card_style, i),
        "dob": _date(p.dob, layout.date_style, i),
        "dob_male": _date(p.dob, layout.date_style, i) if p.gender == "male" else None,
        "dob_female": _date(p.dob, layout.date_style, i) if p.gender == "female" else None,
        "gender": "Nam" if p.gender == "male" else "Nữ",
        "admitted": _date(p.admitted, layout.date_style, i + 1),
        "employer": p.employer,
        "committee": p.committee,
        "cell": p.cell,
        "workplace_org": f"{p.cell} - {p.committee}",
        "ward": p.ward,
        "ward_committee": f"Đảng ủy phường {ward_bare}",
        "residence_cell": p.residence_cell,
        "house": p.house,
        "address": f"{p.house}, {p.ward.lower()}",
        "phone": _phone(p, layout.phone_style, i),
        "position": "Chuyên viên",
        "hometown": ["Quảng Bình", "Thái Bình", "Nam Định"][i % 3],  # a column the registry has no field for
    }[content]


def render(layout: Layout, persons: list[Person]) -> bytes:
    wb = Workbook()
    ws = wb.active
    if layout.extra_sheet_first:
        ws.title = "Hướng dẫn"
        ws["A1"] = "Danh sách ở trang tính sau."
        ws = wb.create_sheet("Danh sách")
    width = len(layout.columns)
    r = 1
    for t in layout.title_rows:
        ws.cell(r, 1, t)
        ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=max(2, width))
        r += 1
    if layout.title_rows:
        r += 1
    two_rows = any(isinstance(h, tuple) for _, h in layout.columns)
    j = 1
    while j <= width:
        content, h = layout.columns[j - 1]
        if isinstance(h, tuple):
            parent = h[0]
            span = 1
            while j - 1 + span < width and isinstance(layout.columns[j - 1 + span][1], tuple) \
                    and layout.columns[j - 1 + span][1][0] == parent:
                span += 1
            ws.cell(r, j, parent)
            if span > 1:
                ws.merge_cells(start_row=r, start_column=j, end_row=r, end_column=j + span - 1)
            for k in range(span):
                ws.cell(r + 1, j + k, layout.columns[j - 1 + k][1][1])
            j += span
        else:
            ws.cell(r, j, h)
            if two_rows:
                ws.merge_cells(start_row=r, start_column=j, end_row=r + 1, end_column=j)
            j += 1
    r += 2 if two_rows else 1
    if layout.number_row:
        for k in range(1, width + 1):
            ws.cell(r, k, f"({k})" if layout.number_row == "paren" else k)
        r += 1
    by_employer = sorted(persons, key=lambda p: list(EMPLOYERS).index(p.employer)) if layout.sections else persons
    last_employer = None
    roman = ["I", "II", "III", "IV"]
    for i, p in enumerate(by_employer):
        if layout.sections and p.employer != last_employer:
            last_employer = p.employer
            ws.cell(r, 2, f"{roman[list(EMPLOYERS).index(p.employer)]}. {p.employer}")
            r += 1
        for k, (content, _) in enumerate(layout.columns, 1):
            v = _value(content, p, layout, i)
            if v is not None:
                c = ws.cell(r, k, v)
                if isinstance(v, dt.date):
                    c.number_format = "dd/mm/yyyy"
        r += 1
        if layout.blank_every and (i + 1) % layout.blank_every == 0:
            r += 1
    if layout.total_row:
        ws.cell(r, 2, f"Tổng cộng: {len(persons)} đảng viên")
        r += 1
    if layout.footer:
        r += 1
        ws.cell(r, 2, "NGƯỜI LẬP BIỂU")
        ws.cell(r, max(3, width - 2), "T/M ĐẢNG ỦY")
        ws.cell(r + 1, max(3, width - 2), "BÍ THƯ")
        ws.cell(r + 4, 2, "Trần Văn Lập")
        ws.cell(r + 4, max(3, width - 2), "Nguyễn Thị Ký")
    for k in range(1, width + 1):
        ws.column_dimensions[get_column_letter(k)].width = 18
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# --- what an import of a layout must give, per person -------------------------------------------

def expected(layout: Layout, p: Person) -> dict[str, Any]:
    """Member attribute -> value the import must store (only the fields the layout carries)."""
    has = {c for c, _ in layout.columns}
    out: dict[str, Any] = {"full_name": p.full_name, "card_number": p.card}
    if has & {"dob", "dob_male"}:
        out["date_of_birth"] = p.dob
    if "gender" in has or "dob_male" in has:
        out["gender"] = p.gender
    if "admitted" in has:
        out["admission_date"] = p.admitted
    if "employer" in has:
        out["employer"] = p.employer
    if has & {"cell", "workplace_org"}:
        out["workplace_org"] = p.cell
        out["workplace_committee"] = p.committee
    elif "committee" in has:
        out["workplace_org"] = p.committee
        out["workplace_committee"] = p.committee
    if "residence_cell" in has:
        out["residence_cell"] = p.residence_cell
        out["ward"] = f"Đảng ủy phường {p.ward.split(' ', 1)[1]}"
    if has & {"house", "address"}:
        out["address_contains"] = p.house
    if "phone" in has:
        out["phone"] = p.phone
    return out


# --- the layouts ---------------------------------------------------------------------------------

TITLE = ["ĐẢNG BỘ TỈNH QUẢNG NINH", "DANH SÁCH ĐẢNG VIÊN ĐANG CÔNG TÁC GIỮ MỐI LIÊN HỆ VỚI NƠI CƯ TRÚ"]

TUNING: list[Layout] = [
    Layout("tidy_ward_committee",
           "One header row under two title rows; the ward as «Đảng ủy xã, phường nơi cư trú», the employer "
           "as «Nơi công tác»; cards with the dot; phones +84; Excel dates.",
           [("stt", "STT"), ("name", "Họ và tên"), ("card", "Số thẻ đảng viên"), ("dob", "Ngày sinh"),
            ("gender", "Giới tính"), ("employer", "Nơi công tác"), ("committee", "Đảng ủy nơi công tác"),
            ("ward_committee", "Đảng ủy xã, phường nơi cư trú"), ("residence_cell", "Chi bộ nơi cư trú"),
            ("address", "Nơi cư trú"), ("phone", "Số điện thoại")],
           title_rows=TITLE, phone_style="plus84"),
    Layout("two_row_gender_split",
           "Two-row header: «Ngày sinh» over «Nam» / «Nữ», «Nơi cư trú» over «Xã/phường» / «Chi bộ» / "
           "«Địa chỉ»; a (1) (2) (3) row; cards without the dot; phones with dots; d/m/yyyy text dates; "
           "signature block.",
           [("stt", "TT"), ("name", "Họ và tên"), ("dob_male", ("Ngày sinh", "Nam")),
            ("dob_female", ("Ngày sinh", "Nữ")), ("card", "Số thẻ"), ("employer", "Cơ quan công tác"),
            ("workplace_org", "Đảng bộ/Chi bộ nơi công tác"), ("ward", ("Nơi cư trú", "Xã/phường")),
            ("residence_cell", ("Nơi cư trú", "Chi bộ")), ("house", ("Nơi cư trú", "Địa chỉ")),
            ("phone", "Điện thoại")],
           title_rows=TITLE[:1], number_row="paren", footer=True, card_style="plain", phone_style="dots",
           date_style="dmy"),
    Layout("sections_and_numbers",
           "Section rows «I. <cơ quan>», a plain 1 2 3 number row, blank rows, a total row; cards typed "
           "into number cells (leading zero lost) or with spaces; phones lost their leading zero; "
           "dd-mm-yyyy dates; «Đơn vị công tác» as the employer.",
           [("stt", "STT"), ("name", "Họ tên đảng viên"), ("card", "Số thẻ ĐV"), ("dob", "Ngày tháng năm sinh"),
            ("gender", "Nam/Nữ"), ("admitted", "Ngày vào Đảng"), ("employer", "Đơn vị công tác"),
            ("committee", "Đảng ủy cơ sở nơi công tác"), ("cell", "Chi bộ nơi công tác"),
            ("ward", "Xã, phường"), ("residence_cell", "Chi bộ nơi cư trú"), ("phone", "SĐT")],
           number_row="plain", sections=True, blank_every=17, total_row=True, card_style="mixed",
           phone_style="number", date_style="dashes"),
    Layout("extra_sheet_mixed",
           "A guidance sheet before the list; four title rows; every card, phone and date style mixed; "
           "«Cơ quan, đơn vị công tác»; signature block.",
           [("stt", "Số TT"), ("name", "HỌ VÀ TÊN"), ("gender", "Giới tính"), ("dob", "Ngày sinh"),
            ("card", "SỐ THẺ ĐẢNG VIÊN"), ("employer", "Cơ quan, đơn vị công tác"),
            ("committee", "Đảng bộ nơi công tác"), ("cell", "Chi bộ nơi công tác"),
            ("ward_committee", "Đảng ủy xã, phường nơi cư trú"), ("residence_cell", "Chi bộ nơi cư trú"),
            ("house", "Địa chỉ"), ("phone", "Số điện thoại")],
           title_rows=TITLE + ["(Kèm theo Công văn số 12-CV/ĐU)", "Năm 2026"], footer=True, card_style="mixed",
           phone_style="mixed", date_style="mixed", extra_sheet_first=True),
]

HELD_OUT: list[Layout] = [
    Layout("held_residence_block",
           "Two-row header with «Nơi công tác» over «Cơ quan» / «Chi bộ», and «Nơi cư trú» over «Đảng ủy» / "
           "«Chi bộ» / «Số nhà»; dates dd.mm.yyyy; phones with spaces; cards spaced.",
           [("stt", "STT"), ("name", "Họ và tên"), ("card", "Số thẻ Đảng"), ("dob", "Ngày sinh"),
            ("gender", "Giới tính"), ("employer", ("Nơi công tác", "Cơ quan")),
            ("workplace_org", ("Nơi công tác", "Chi bộ")),
            ("ward_committee", ("Nơi cư trú", "Đảng ủy")), ("residence_cell", ("Nơi cư trú", "Chi bộ")),
            ("house", ("Nơi cư trú", "Số nhà")), ("phone", "Số ĐT")],
           title_rows=TITLE, number_row="paren", card_style="spaced", phone_style="spaces", date_style="dots"),
    Layout("held_gender_split_total",
           "«Ngày, tháng, năm sinh» over «Nam» / «Nữ»; «Đơn vị» as the employer; «Chi bộ nơi sinh hoạt» for "
           "the workplace cell; total row and signature block; number cells for cards and phones.",
           [("stt", "TT"), ("name", "Họ và tên đảng viên"), ("dob_male", ("Ngày, tháng, năm sinh", "Nam")),
            ("dob_female", ("Ngày, tháng, năm sinh", "Nữ")), ("card", "Số thẻ đảng viên"),
            ("admitted", "Ngày kết nạp"), ("employer", "Đơn vị"), ("committee", "Đảng ủy nơi công tác"),
            ("cell", "Chi bộ sinh hoạt"), ("ward", "Phường/Xã nơi cư trú"),
            ("residence_cell", "Chi bộ nơi cư trú"), ("address", "Địa chỉ nơi cư trú"), ("phone", "Điện thoại liên hệ")],
           number_row="plain", total_row=True, footer=True, card_style="number", phone_style="number",
           date_style="excel"),
    Layout("held_plain_mixed",
           "One header row, no title, headers in capitals with line breaks; mixed styles throughout; "
           "sections and blank rows.",
           [("name", "HỌ VÀ\nTÊN"), ("card", "SỐ THẺ\nĐẢNG VIÊN"), ("dob", "NGÀY\nSINH"), ("gender", "GIỚI\nTÍNH"),
            ("employer", "CƠ QUAN\nCÔNG TÁC"), ("workplace_org", "ĐẢNG BỘ/CHI BỘ\nNƠI CÔNG TÁC"),
            ("ward", "XÃ/PHƯỜNG"), ("residence_cell", "CHI BỘ\nNƠI CƯ TRÚ"), ("house", "NƠI CƯ TRÚ"),
            ("phone", "SỐ ĐIỆN\nTHOẠI")],
           sections=True, blank_every=11, card_style="mixed", phone_style="mixed", date_style="mixed"),
]
