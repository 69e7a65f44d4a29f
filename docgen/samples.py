"""Sample records (used by tests, the benchmark and the template previews)."""
from __future__ import annotations

import datetime as _dt

MARK_KEY_FOR_TESTS = b"noicutru-test-key-0123456789abcdef"


def introduction_letter(i: int = 1, **over) -> dict:
    d = {
        "upper_body_name": "Đảng bộ Khối các cơ quan tỉnh",
        "issuing_committee_name": "Đảng ủy Sở Tài nguyên và Môi trường",
        "letter_number": 120 + i,
        "letter_code": "GGT/ĐU",
        "place": "Hạ Long",
        "issue_date": _dt.date(2026, 1, 5),
        "ward_committee_name": "Đảng ủy phường Hồng Hà",
        "residence_cell_name": "Chi bộ Tổ dân phố số 12",
        "member_full_name": "Nguyễn Thị Ánh Tuyết",
        "member_gender": "Nữ",
        "member_date_of_birth": _dt.date(1985, 9, 2),
        "member_admission_date": _dt.date(2010, 5, 19),
        "member_full_member_date": _dt.date(2011, 5, 19),
        "workplace_cell_name": "Chi bộ Phòng Quản lý đất đai",
        "residence_address": "Số 18, ngõ 4, đường Nguyễn Văn Cừ, tổ 12, khu 3, phường Hồng Hà, tỉnh Quảng Ninh",
        "exempt_from_meetings": False,
        "signer_title": "BÍ THƯ",
        "signer_name": "Trần Quốc Huy",
    }
    d.update(over)
    return d


def evaluation_sheet(i: int = 1, **over) -> dict:
    names = ["Nguyễn Văn Ánh", "Trần Thị Hường", "Lê Đức Thắng", "Phạm Ngọc Ước", "Hoàng Thị Yến"]
    d = {
        "ward_party_body_name": "Đảng bộ phường Hồng Hà",
        "residence_cell_name": "Chi bộ Tổ dân phố số 12",
        "place": "Hạ Long",
        "year": 2025,
        "member_full_name": names[i % len(names)] + ("" if i < len(names) else f" {i}"),
        "member_date_of_birth": _dt.date(1970 + i % 30, 1 + i % 12, 1 + i % 28),
        "workplace_committee_name": "Đảng ủy Sở Tài nguyên và Môi trường",
        "workplace_cell_name": "Chi bộ Phòng Quản lý đất đai",
        "residence_address": f"Số {i % 200 + 1}, đường Nguyễn Văn Cừ, tổ 12, phường Hồng Hà",
        "sheet_serial": f"2025-{i:06d}",
        "member_id": str(10000 + i),
        "variant": "standard",
        "cell_secretary_name": "Vũ Thị Lan",
    }
    d.update(over)
    return d


def cover_letter(n_members: int = 6, **over) -> dict:
    """The request letter (mẫu 3-213, part A) that opens one residence cell's packet."""
    names = ["Nguyễn Văn Ánh", "Trần Thị Hường", "Lê Đức Thắng", "Phạm Ngọc Ước", "Hoàng Thị Yến",
             "Đặng Quốc Khánh", "Bùi Thị Thu Trang", "Ngô Minh Đức"]
    d = {
        "upper_body_name": "Đảng bộ Khối các cơ quan tỉnh",
        "issuing_committee_name": "Đảng ủy Sở Tài nguyên và Môi trường",
        "issuing_committee_heading": "ĐẢNG ỦY SỞ TÀI NGUYÊN\nVÀ MÔI TRƯỜNG",
        "letter_number": "07",
        "letter_code": "CV/ĐU",
        "place": "Hạ Long",
        "issue_date": _dt.date(2025, 11, 20),
        "year": 2025,
        "ward_committee_name": "Đảng ủy phường Hồng Hà",
        "residence_cell_name": "Chi bộ Tổ dân phố số 12",
        "residence_cell_committee_name": "Chi ủy Tổ dân phố số 12",
        "members": [{"full_name": names[i % len(names)], "birth_year": str(1970 + 3 * i),
                     "sheet_serial": f"2025-{10000 + i:06d}-1"} for i in range(n_members)],
        "member_count": n_members,
        "return_deadline": _dt.date(2025, 12, 15),
        "signer_name": "Trần Quốc Huy",
    }
    d.update(over)
    return d
