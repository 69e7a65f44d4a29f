"""Exporting members to .xlsx, and the export -> import round trip."""
from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

from openpyxl import load_workbook
from sqlalchemy import select

from service import importing
from service.jobs.inprocess import run_pending
from service.members.export import export_members
from service.importing.workbook import match_header
from service.models import Member

SAMPLE = Path(__file__).resolve().parent.parent / "samples" / "members.xlsx"


def _import_sample(sess, user):
    batch = importing.preview_upload(sess, user, SAMPLE.read_bytes(), "members.xlsx")
    importing.confirm(sess, user, batch)
    run_pending()
    sess.expire_all()


def test_export_round_trip_is_unchanged(sess, make_user):
    admin = make_user("quantri")
    _import_sample(sess, admin)
    members = sess.scalars(select(Member).order_by(Member.id)).all()
    data = export_members(members)
    batch = importing.preview_upload(sess, admin, data, "xuat.xlsx")
    s = batch.preview["summary"]
    assert s["rejected"] == 0, [r for r in batch.preview["rows"] if r["errors"]][:3]
    assert s["unchanged"] == len(members) == 300
    assert s["create"] == s["update"] == 0 and s["organisations_created"] == []


def test_export_layout(sess, make_user, orgs):
    m = Member(card_number="0012345", status="exempt_meetings", gender="female",
               date_of_birth=dt.date(1985, 7, 9), admission_date=dt.date(2010, 1, 2),
               workplace_org_id=orgs["tax_cell"].id, residence_cell_id=orgs["cell1"].id,
               commune="Phường Hồng Hà", phone="0912345678", employer="Cục Thuế tỉnh Quảng Ninh")
    m.set_name("Dương Thị Thu Hương")
    sess.add(m)
    sess.commit()
    wb = load_workbook(io.BytesIO(export_members([m])))
    ws = wb.active
    assert ws.freeze_panes == "A2"
    headers = [c.value for c in ws[1]]
    assert headers[:3] == ["Họ và tên", "Số thẻ đảng viên", "Ngày sinh"]
    assert all(match_header(h) not in (None, "_ignored") for h in headers)
    assert all(c.font.bold for c in ws[1])
    row = {h: c for h, c in zip(headers, ws[2])}
    assert row["Số thẻ đảng viên"].value == "0012345" and row["Số thẻ đảng viên"].data_type == "s"
    dob = row["Ngày sinh"]
    assert dob.is_date and dob.value.date() == dt.date(1985, 7, 9) and dob.number_format == "dd/mm/yyyy"
    assert row["Giới tính"].value == "Nữ"
    assert row["Tình trạng"].value == "Giới thiệu nhưng miễn sinh hoạt nơi cư trú"
    assert row["Đảng ủy nơi công tác"].value == "Đảng ủy Cục Thuế tỉnh"
    assert row["Chi bộ nơi công tác"].value == "Chi bộ Phòng Kiểm tra"
    assert row["Chi bộ nơi cư trú"].value == "Chi bộ khu phố 1"
    assert row["Cơ quan, đơn vị công tác"].value == "Cục Thuế tỉnh Quảng Ninh"  # kept apart from the party body
    name_width = ws.column_dimensions["A"].width
    assert len("Dương Thị Thu Hương") <= name_width <= 60


def test_export_many_rows_streams(sess):
    members = []
    for i in range(3000):  # more than the width sample
        m = Member(card_number=str(i), status="active", date_of_birth=dt.date(1980, 1, 1 + i % 28))
        m.set_name(f"Ngô Văn Bình {i}")
        members.append(m)
    wb = load_workbook(io.BytesIO(export_members(iter(members))), read_only=True)
    ws = wb.active
    assert sum(1 for _ in ws.iter_rows(values_only=True)) == 3001
