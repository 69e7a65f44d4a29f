"""Make samples/members.xlsx: about 300 synthetic working members of one ward, typed the way
real secretaries' files are (title rows, merged cells, mixed dates, NFD names, stray spaces...).

Deterministic (seeded); every name is generated from common family, middle and given names.
No real person's data. Run:  python samples/make_members.py [output.xlsx]
"""
from __future__ import annotations

import datetime as dt
import random
import sys
import unicodedata
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

SEED = 213
COUNT = 300
WARD = "Phường Hồng Hà"
PROVINCE = "Quảng Ninh"

FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ",
          "Ngô", "Dương", "Lý"]
FAMILY_WEIGHTS = [38, 11, 9, 7, 5, 2, 4, 4, 3, 2, 2, 2, 2, 2, 2, 1]
MIDDLE = {"male": ["Văn", "Đức", "Minh", "Quang", "Hữu", "Thành", "Xuân", "Công", "Ngọc", "Anh"],
          "female": ["Thị", "Thu", "Ngọc", "Thanh", "Minh", "Thùy", "Phương", "Hồng", "Kim", "Lan"]}
GIVEN = {"male": ["Hùng", "Dũng", "Tuấn", "Nam", "Long", "Hải", "Sơn", "Thắng", "Cường", "Quân", "Hiếu",
                  "Khánh", "Phúc", "Trung", "Đạt", "Huy", "Việt", "Tùng", "Bình", "Toàn"],
         "female": ["Lan", "Hương", "Mai", "Hạnh", "Ngọc", "Hà", "Thảo", "Trang", "Linh", "Yến", "Nhung",
                    "Hoa", "Huyền", "Phương", "Thủy", "Oanh", "Loan", "Vân", "Hằng", "Dung"]}

WORKPLACES = {
    "Đảng ủy Sở Giáo dục và Đào tạo": ["Chi bộ Văn phòng Sở", "Chi bộ Phòng Giáo dục Trung học",
                                       "Chi bộ Phòng Tổ chức cán bộ"],
    "Đảng ủy Bệnh viện Đa khoa tỉnh": ["Chi bộ Khoa Nội", "Chi bộ Khoa Ngoại", "Chi bộ Khoa Nhi",
                                       "Chi bộ Phòng Hành chính"],
    "Đảng ủy Cục Thuế tỉnh": ["Chi bộ Phòng Kiểm tra", "Chi bộ Phòng Kê khai"],
    "Đảng ủy Kho bạc Nhà nước tỉnh": ["Chi bộ Phòng Kế toán", "Chi bộ Văn phòng"],
    "Đảng ủy Trường Cao đẳng Y tế": ["Chi bộ Khoa Điều dưỡng", "Chi bộ Phòng Đào tạo"],
}
# neighbourhood -> residence cell
RESIDENCE = {f"Khu phố {n}": f"Chi bộ khu phố {n}" for n in (1, 2, 3, 4)}
RESIDENCE.update({f"Tổ dân phố {n}": f"Chi bộ tổ dân phố {n}" for n in (1, 2, 3)})
STREETS = ["Lê Thánh Tông", "Trần Hưng Đạo", "Nguyễn Văn Cừ", "Hạ Long", "Cao Xanh", "Giếng Đồn", "Lê Lợi"]
PARTY_POS = ["", "", "", "", "Đảng viên", "Chi ủy viên", "Bí thư chi bộ", "Phó Bí thư chi bộ"]
GOV_POS = ["Chuyên viên", "Chuyên viên chính", "Giáo viên", "Bác sĩ", "Điều dưỡng", "Kế toán viên",
           "Trưởng phòng", "Phó Trưởng phòng", "Nhân viên", "Giảng viên"]
MASS_POS = ["", "", "", "Chủ tịch Công đoàn bộ phận", "Bí thư Chi đoàn", "Ủy viên Ban Chấp hành Công đoàn"]

HEADERS = ["STT", "Họ và\ntên", "SỐ THẺ ĐV", "Ngày sinh", "Giới tính", "Ngày vào\nĐảng", "Ngày chính thức",
           "Đảng ủy nơi công tác", "Chi bộ nơi công tác", "Chức vụ Đảng", "Chức vụ chính quyền",
           "Chức vụ đoàn thể", "Số nhà", "Tổ", "Khu phố/Thôn/\nTổ dân phố", "Xã/Phường", "Tỉnh/Thành phố",
           "Chi bộ nơi cư trú", "Số điện thoại", "Tình trạng", "Ghi chú"]


def _date(rng: random.Random, start: dt.date, end: dt.date) -> dt.date:
    return start + dt.timedelta(days=rng.randrange((end - start).days))


def make_rows(rng: random.Random) -> list[list]:
    rows, cards, names = [], set(), set()
    workplaces = list(WORKPLACES)
    for i in range(COUNT):
        gender = "male" if rng.random() < 0.55 else "female"
        while True:
            name = " ".join([rng.choices(FAMILY, FAMILY_WEIGHTS)[0], rng.choice(MIDDLE[gender]),
                             rng.choice(GIVEN[gender])])
            if name not in names:
                break
            if rng.random() < 0.5:  # allow a second middle name instead of a clash
                name = name.replace(" ", f" {rng.choice(MIDDLE[gender])} ", 1)
                if name not in names:
                    break
        names.add(name)
        while True:
            card = f"{rng.randrange(0, 100):02d}{rng.randrange(0, 1000000):06d}"
            if card not in cards:
                break
        cards.add(card)
        birth = _date(rng, dt.date(1966, 1, 1), dt.date(2000, 12, 31))
        admitted = _date(rng, birth.replace(year=birth.year + 19), birth.replace(year=birth.year + 24))
        full = admitted + dt.timedelta(days=365)
        committee = rng.choice(workplaces)
        cell = rng.choice(WORKPLACES[committee])
        neighbourhood = rng.choice(list(RESIDENCE))
        status = "Đang sinh hoạt" if rng.random() < 0.6 else ""
        note = ""
        if rng.random() < 0.05:
            status, note = "Miễn sinh hoạt", rng.choice(["Đi học tập trung 12 tháng", "Công tác lưu động"])
        rows.append({
            "name": name, "card": card, "birth": birth, "gender": "Nam" if gender == "male" else "Nữ",
            "admitted": admitted, "full": full, "committee": committee, "cell": cell,
            "party": rng.choice(PARTY_POS), "gov": rng.choice(GOV_POS), "mass": rng.choice(MASS_POS),
            "house": f"Số {rng.randrange(1, 200)} đường {rng.choice(STREETS)}",
            "group": f"Tổ {rng.randrange(1, 12)}", "neighbourhood": neighbourhood,
            "residence": RESIDENCE[neighbourhood],
            "phone": "09" + "".join(str(rng.randrange(10)) for _ in range(8)), "status": status, "note": note,
        })
    return rows


def build(path: Path) -> None:
    rng = random.Random(SEED)
    members = make_rows(rng)
    wb = Workbook()
    ws = wb.active
    ws.title = "DS đảng viên 213"
    last = len(HEADERS)
    ws.cell(1, 1, "ĐẢNG ỦY PHƯỜNG HỒNG HÀ").font = Font(bold=True)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=6)
    ws.cell(2, 1, "DANH SÁCH ĐẢNG VIÊN ĐANG CÔNG TÁC GIỮ MỐI LIÊN HỆ VỚI NƠI CƯ TRÚ NĂM 2025")
    ws.cell(2, 1).font = Font(bold=True, size=13)
    ws.cell(2, 1).alignment = Alignment(horizontal="center")
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=last)
    header_row = 4
    for j, h in enumerate(HEADERS, 1):
        c = ws.cell(header_row, j, h)
        c.font = Font(bold=True)
        c.alignment = Alignment(wrap_text=True, horizontal="center", vertical="center")
    r = header_row
    for i, m in enumerate(members, 1):
        r += 1
        if i == 151:  # a blank row in the middle of the list
            r += 1
        name = m["name"]
        if i % 37 == 0:
            name = unicodedata.normalize("NFD", name)  # typed with a decomposing keyboard
        if i % 23 == 0:
            name = "  " + name.replace(" ", "  ", 1) + " "  # stray spaces
        card: object = m["card"]
        if i % 3 == 0 and not card.startswith("0"):
            card = int(card)  # typed into a number cell
        values = [i, name, card]
        for key in ("birth", "gender", "admitted", "full"):
            v = m[key]
            if isinstance(v, dt.date):
                if (i + len(key)) % 4 == 0:
                    v = f"{v.day}/{v.month}/{v.year}"  # typed as text d/m/yyyy
                elif (i + len(key)) % 4 == 1:
                    v = f"{v.day:02d}/{v.month:02d}/{v.year}"
            values.append(v)
        commune = WARD if i % 11 else "  phường  Hồng Hà "
        values += [m["committee"], m["cell"], m["party"], m["gov"], m["mass"], m["house"], m["group"],
                   m["neighbourhood"], commune, PROVINCE, m["residence"], m["phone"], m["status"], m["note"]]
        for j, v in enumerate(values, 1):
            if v == "":
                continue
            c = ws.cell(r, j, v)
            if isinstance(v, dt.date):
                c.number_format = "dd/mm/yyyy"
    r += 2
    ws.cell(r, 2, f"Tổng cộng: {len(members)} đảng viên").font = Font(bold=True)
    widths = [5, 24, 12, 12, 8, 12, 12, 30, 28, 16, 20, 24, 28, 8, 16, 16, 12, 22, 13, 14, 24]
    for j, w in enumerate(widths, 1):
        ws.column_dimensions[ws.cell(header_row, j).column_letter].width = w
    fixed = dt.datetime(2025, 1, 1)
    wb.properties.creator = "noicutru samples/make_members.py"
    wb.properties.created = wb.properties.modified = fixed
    wb.save(path)


if __name__ == "__main__":
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).with_name("members.xlsx")
    build(out)
    print(f"wrote {out}")
