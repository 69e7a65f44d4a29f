"""Importing members from Excel: parser, preview, confirmation and the job, on SQLite and PostgreSQL."""
from __future__ import annotations

import datetime as dt
import io
import unicodedata
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from service import importing
from service.jobs.inprocess import run_pending
from service.errors import ServiceError
from service.importing.workbook import match_header, parse_workbook
from service.models import AuditEntry, ImportBatch, Job, Member, Organisation, StoredFile

SAMPLE = Path(__file__).resolve().parent.parent / "samples" / "members.xlsx"

HEAD = ["STT", "Họ và tên", "Số thẻ đảng viên", "Ngày sinh", "Giới tính", "Đảng ủy nơi công tác",
        "Chi bộ nơi công tác", "Xã/Phường", "Chi bộ nơi cư trú", "Số điện thoại", "Tình trạng"]


def xlsx(rows, *, title_rows=(), sheet="Sheet1", extra_sheets=()) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = sheet
    for name in extra_sheets:
        wb.create_sheet(name)
    for t in title_rows:
        ws.append(t)
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def member_row(n, name="Nguyễn Văn An", card=None, dob=None, gender="Nam",
               committee="Đảng ủy Cục Thuế tỉnh", cell="Chi bộ Phòng Kiểm tra", ward="Phường Hồng Hà",
               residence="Chi bộ khu phố 1", phone="0912345678", status="Đang sinh hoạt"):
    """Row ``n`` of a list; namesakes are born on different days (the same name and birth date twice in
    one file is flagged as one person)."""
    dob = dob or f"{(n - 1) % 28 + 1:02d}/02/1980"
    return [n, name, card or f"1000{n:04d}", dob, gender, committee, cell, ward, residence, phone, status]


def counts(sess) -> dict:
    sess.expire_all()
    out = {m.__name__: sess.scalar(select(func.count()).select_from(m))
           for m in (Member, Organisation, ImportBatch, StoredFile, Job)}
    out["AuditEntry"] = sess.scalar(select(func.count()).select_from(AuditEntry)  # member history only
                                    .where(AuditEntry.entity_kind == "member"))
    return out


@pytest.fixture
def admin(make_user):
    return make_user("quantri", "admin")


def run(sess, user, data, name="ds.xlsx"):
    batch = importing.preview_upload(sess, user, data, name)
    return batch, batch.preview


def confirm_and_run(sess, user, batch):
    job = importing.confirm(sess, user, batch)
    assert run_pending() == 1
    sess.expire_all()
    return sess.get(Job, job.id)


# --- the sample file ----------------------------------------------------------------------------

def test_sample_imports_cleanly_then_reimport_is_unchanged(sess, admin):
    data = SAMPLE.read_bytes()
    before = counts(sess)
    batch, preview = run(sess, admin, data, "members.xlsx")
    s = preview["summary"]
    assert s["rejected"] == 0, [r["errors"] for r in preview["rows"] if r["errors"]][:5]
    assert s["create"] == 300 and s["update"] == 0 and s["unchanged"] == 0
    assert batch.status == "previewed"
    assert preview["header_row"] == 4 and preview["columns"]["card_number"]["letter"] == "C"
    created = s["organisations_created"]
    assert len(created) == len(set(created)) == 5 + 13 + 1 + 7
    assert "Đảng ủy phường Hồng Hà" in created
    # the preview wrote the batch and the file only
    assert counts(sess)["Member"] == before["Member"] and counts(sess)["Organisation"] == before["Organisation"]

    job = confirm_and_run(sess, admin, batch)
    assert job.state == "done", job.error
    assert job.result == {"created": 300, "updated": 0, "unchanged": 0, "organisations_created": 26}
    assert sess.get(ImportBatch, batch.id).status == "applied"
    after = counts(sess)
    assert after["Member"] == 300 and after["Organisation"] == 26 and after["AuditEntry"] == 300
    entry = sess.scalars(select(AuditEntry).where(AuditEntry.entity_kind == "member").order_by(AuditEntry.id)).first()
    assert entry.source == "import" and entry.source_ref.startswith(f"Nhập Excel lần #{batch.id}: members.xlsx, dòng ")
    # NFD names are stored NFC, trimmed and collapsed
    for m in sess.scalars(select(Member)):
        assert m.full_name == unicodedata.normalize("NFC", m.full_name) == " ".join(m.full_name.split())
    assert sess.scalar(select(func.count()).select_from(Member).where(Member.status == "exempt_meetings")) > 0
    ward = sess.scalars(select(Organisation).where(Organisation.kind == "ward_committee")).one()
    assert ward.name == "Đảng ủy phường Hồng Hà"
    assert {c.name for c in ward.children} >= {"Chi bộ khu phố 1", "Chi bộ tổ dân phố 3"}

    batch2, preview2 = run(sess, admin, data, "members.xlsx")
    assert preview2["summary"]["unchanged"] == 300
    assert preview2["summary"]["organisations_created"] == []
    assert all(r["action"] == "unchanged" for r in preview2["rows"])
    job2 = confirm_and_run(sess, admin, batch2)
    assert job2.state == "done" and job2.result["unchanged"] == 300
    after2 = counts(sess)
    assert after2["AuditEntry"] == 300 and after2["Member"] == 300 and after2["Organisation"] == 26


def test_sample_matches_existing_organisations(sess, admin, orgs):
    n_orgs = counts(sess)["Organisation"]
    batch, preview = run(sess, admin, SAMPLE.read_bytes(), "members.xlsx")
    created = preview["summary"]["organisations_created"]
    assert preview["summary"]["rejected"] == 0
    assert "Đảng ủy phường Hồng Hà" not in created and "Chi bộ khu phố 1" not in created
    assert "Đảng ủy Cục Thuế tỉnh" not in created and "Chi bộ Phòng Kiểm tra" not in created
    job = confirm_and_run(sess, admin, batch)
    assert job.state == "done", job.error
    assert counts(sess)["Organisation"] == n_orgs + len(created)
    kp1 = sess.scalars(select(Member).where(Member.residence_cell_id == orgs["cell1"].id)).all()
    assert kp1
    new_committee = sess.scalars(select(Organisation).where(
        Organisation.name == "Đảng ủy Sở Giáo dục và Đào tạo")).one()
    assert new_committee.parent_id == orgs["province"].id  # the only root party body


def test_changed_phone_updates_one_member_with_one_audit_entry(sess, admin, orgs):
    rows = [HEAD] + [member_row(i, name=f"Trần Thị Bình {chr(65 + i)}") for i in range(1, 6)]
    batch, _ = run(sess, admin, xlsx(rows))
    assert confirm_and_run(sess, admin, batch).state == "done"
    audits = counts(sess)["AuditEntry"]
    rows[3][9] = "0988000111"
    batch2, preview = run(sess, admin, xlsx(rows))
    s = preview["summary"]
    assert (s["update"], s["unchanged"], s["create"]) == (1, 4, 0)
    row = next(r for r in preview["rows"] if r["action"] == "update")
    assert row["row"] == 4 and row["changes"] == {"phone": ["0912345678", "0988000111"]}
    job = confirm_and_run(sess, admin, batch2)
    assert job.result == {"created": 0, "updated": 1, "unchanged": 4, "organisations_created": 0}
    assert counts(sess)["AuditEntry"] == audits + 1
    entry = sess.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert entry.action == "update" and entry.source == "import"
    assert entry.before["phone"] == "0912345678" and entry.after["phone"] == "0988000111"
    assert entry.changes == [("phone", "0912345678", "0988000111")]
    assert entry.source_ref == f"Nhập Excel lần #{batch2.id}: ds.xlsx, dòng 4"


# --- parsing --------------------------------------------------------------------------------------

@pytest.mark.parametrize("header,fld", [
    ("Họ và tên", "full_name"), ("Họ tên", "full_name"), ("HỌ VÀ TÊN", "full_name"), ("Ho ten", "full_name"),
    ("  Họ  và\ntên ", "full_name"), (unicodedata.normalize("NFD", "Họ và tên"), "full_name"),
    ("Số thẻ đảng viên", "card_number"), ("Số thẻ", "card_number"), ("Số thẻ ĐV", "card_number"),
    ("SỐ THẺ\nĐẢNG VIÊN", "card_number"), ("Ngày sinh", "date_of_birth"), ("Năm sinh", "date_of_birth"),
    ("Ngày sinh (dd/mm/yyyy)", "date_of_birth"), ("Giới tính", "gender"), ("Nam/Nữ", "gender"),
    ("Ngày vào Đảng", "admission_date"), ("Ngày kết nạp", "admission_date"),
    ("Ngày chính thức", "full_member_date"), ("Đơn vị công tác", "employer"), ("Nơi công tác", "employer"), ("Cơ quan công tác", "employer"),
    ("Đảng ủy xã, phường nơi cư trú", "commune"), ("Nơi cư trú", "house"), ("Đảng bộ/Chi bộ nơi công tác", "workplace_org"),
    ("Đảng ủy nơi công tác", "workplace_committee"), ("Chi bộ nơi công tác", "workplace_cell"),
    ("Chức vụ Đảng", "party_position"), ("Chức vụ chính quyền", "government_position"),
    ("Chức vụ đoàn thể", "mass_org_position"), ("Số nhà", "house"), ("Địa chỉ", "house"),
    ("Tổ", "residential_group"), ("Khu phố/Thôn/Tổ dân phố", "neighbourhood"), ("Xã/Phường", "commune"),
    ("Tỉnh/Thành phố", "province"), ("Chi bộ nơi cư trú", "residence_cell"), ("Số điện thoại", "phone"),
    ("Điện thoại", "phone"), ("SĐT", "phone"), ("Tình trạng", "status"), ("Trạng thái", "status"),
    ("Ghi chú", "notes"), ("STT", "_ignored"), ("Quê quán", None),
])
def test_header_variants(header, fld):
    assert match_header(header) == fld


def test_header_under_title_rows_with_merged_cells_and_messy_values():
    wb = Workbook()
    ws = wb.active
    ws.title = "Danh sách"
    ws["A1"] = "ĐẢNG ỦY PHƯỜNG HỒNG HÀ"
    ws.merge_cells("A1:E1")
    ws["A2"] = "DANH SÁCH ĐẢNG VIÊN ĐANG CÔNG TÁC"
    ws.merge_cells("A2:K2")
    ws.append([])
    ws.append(["TT", "HỌ VÀ\nTÊN", "Số thẻ ĐV", "Ngày  sinh", "Nam/Nữ", "Ngày kết nạp", "Ngày chính thức",
               "SĐT", "Trạng thái"])
    nfd = unicodedata.normalize("NFD", "Đặng Thị Thủy")
    ws.append([1, f"  {nfd}  ", 12345678.0, dt.datetime(1980, 3, 4), "nu", "5/6/2005", "05-06-2006",
               912345678, "Miễn sinh hoạt"])
    ws.append([])
    ws.append([2, "Lê   Văn Hải", "00123456", "04.03.1981", "NAM", dt.date(2001, 1, 2), None, "0912 345 678",
               None])
    ws.append([None, "Tổng cộng: 2 đảng viên"])
    buf = io.BytesIO()
    wb.save(buf)
    p = parse_workbook(buf.getvalue(), "ds.xlsx")
    assert (p.sheet, p.header_row) == ("Danh sách", 4)
    assert p.columns["full_name"].letter == "B" and p.columns["full_name"].header == "HỌ VÀ TÊN"
    assert [r.row for r in p.rows] == [5, 7]
    a, b = (r.values for r in p.rows)
    assert all(not r.errors for r in p.rows)
    assert a["full_name"] == "Đặng Thị Thủy" and unicodedata.is_normalized("NFC", a["full_name"])
    assert a["card_number"] == "12.345678" and b["card_number"] == "00.123456"
    assert a["date_of_birth"] == dt.date(1980, 3, 4) and b["date_of_birth"] == dt.date(1981, 3, 4)
    assert a["admission_date"] == dt.date(2005, 6, 5) and a["full_member_date"] == dt.date(2006, 6, 5)
    assert b["admission_date"] == dt.date(2001, 1, 2) and b["full_member_date"] is None
    assert (a["gender"], b["gender"]) == ("female", "male")
    assert (a["status"], b["status"]) == ("exempt_meetings", None)
    assert a["phone"] == "0912345678" and b["phone"] == "0912345678"
    assert b["full_name"] == "Lê Văn Hải"
    assert p.skipped == [{"row": 8, "text": "Tổng cộng: 2 đảng viên", "reason": "total"}]


def test_first_sheet_with_a_header_is_used():
    wb = Workbook()
    wb.active.title = "Hướng dẫn"
    wb.active["A1"] = "Điền danh sách ở trang sau"
    ws = wb.create_sheet("Đảng viên")
    ws.append(["Họ tên", "Số thẻ"])
    ws.append(["Hồ Văn Nam", "01.000001"])
    buf = io.BytesIO()
    wb.save(buf)
    p = parse_workbook(buf.getvalue(), "x.xlsx")
    assert p.sheet == "Đảng viên" and p.rows[0].values["card_number"] == "01.000001"


@pytest.mark.parametrize("status,key", [("Đang sinh hoạt", "active"), ("Miễn sinh hoạt", "exempt_meetings"),
                                        ("Miễn giới thiệu", "exempt_introduction"), ("Đã chuyển", "transferred"),
                                        ("", None), ("Đã chuyển sinh hoạt", "transferred")])
def test_status_words(status, key):
    p = parse_workbook(xlsx([["Họ tên", "Số thẻ", "Tình trạng"], ["A", "01.000001", status or None]]), "x.xlsx")
    assert p.rows[0].values["status"] == key


# --- file-level problems: nothing is written ----------------------------------------------------------

def _zip_not_xlsx() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("readme.txt", "hello")
    return buf.getvalue()


BAD_FILES = {
    "csv": (b"STT,H\xe1\xbb\x8d v\xc3\xa0 t\xc3\xaan,S\xe1\xbb\x91 th\xe1\xba\xbb\n1,A,123\n", "ds.csv"),
    "xls": (bytes.fromhex("d0cf11e0a1b11ae1") + b"\0" * 504, "ds.xls"),
    "pdf_renamed": (b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n", "danh sach.xlsx"),
    "zip_renamed": (_zip_not_xlsx(), "ds.xlsx"),
    "truncated_xlsx": (b"PK\x03\x04" + b"\0" * 100, "ds.xlsx"),
}


@pytest.mark.parametrize("kind", list(BAD_FILES))
def test_not_xlsx_writes_nothing(sess, admin, kind):
    data, name = BAD_FILES[kind]
    before = counts(sess)
    with pytest.raises(ServiceError) as exc:
        importing.preview_upload(sess, admin, data, name)
    assert exc.value.code == "not_xlsx"
    assert name in exc.value.message and ".xlsx" in exc.value.message
    assert counts(sess) == before


def test_empty_workbook_writes_nothing(sess, admin):
    before = counts(sess)
    with pytest.raises(ServiceError) as exc:
        importing.preview_upload(sess, admin, xlsx([]), "trong.xlsx")
    assert exc.value.code == "empty_workbook" and "trong.xlsx" in exc.value.message
    with pytest.raises(ServiceError) as exc:  # a header and no member row
        importing.preview_upload(sess, admin, xlsx([["Họ và tên", "Số thẻ"], [None, None]]), "trong.xlsx")
    assert exc.value.code == "empty_workbook"
    assert counts(sess) == before


def test_no_header_names_sheets_and_required_columns(sess, admin):
    before = counts(sess)
    data = xlsx([["Danh sách"], ["Tên", "Mã"], ["A", "1"]], sheet="Trang 1", extra_sheets=["Trang 2"])
    with pytest.raises(ServiceError) as exc:
        importing.preview_upload(sess, admin, data, "ds.xlsx")
    err = exc.value
    assert err.code == "no_header"
    for text in ("ds.xlsx", "«Trang 1»", "«Trang 2»", "«Họ và tên»", "«Số thẻ đảng viên»"):
        assert text in err.message
    assert counts(sess) == before


def test_too_large_and_too_many_rows_write_nothing(app, sess, admin):
    before = counts(sess)
    data = xlsx([HEAD] + [member_row(i) for i in range(1, 6)])
    app.config["IMPORT_MAX_BYTES"] = len(data) - 1
    with pytest.raises(ServiceError) as exc:
        importing.preview_upload(sess, admin, data, "lon.xlsx")
    assert exc.value.code == "file_too_large" and exc.value.status == 413 and "lon.xlsx" in exc.value.message
    app.config["IMPORT_MAX_BYTES"] = 10 * 1024 * 1024
    app.config["IMPORT_MAX_ROWS"] = 4
    with pytest.raises(ServiceError) as exc:
        importing.preview_upload(sess, admin, data, "nhieu.xlsx")
    assert exc.value.code == "too_many_rows" and "4" in exc.value.message
    assert counts(sess) == before


# --- row-level problems: the batch is rejected and nothing reaches the registry ------------------------

def _rejected(sess, user, rows):
    before = counts(sess)
    batch, preview = run(sess, user, xlsx(rows))
    assert batch.status == "rejected"
    assert preview["summary"]["rejected"] >= 1
    with pytest.raises(ServiceError) as exc:
        importing.confirm(sess, user, batch)
    assert exc.value.code == "import_has_errors"
    after = counts(sess)
    assert after["ImportBatch"] == before["ImportBatch"] + 1
    for k in ("Member", "Organisation", "AuditEntry", "Job"):
        assert after[k] == before[k], k
    return preview


def _errors(preview, row):
    return next(r for r in preview["rows"] if r["row"] == row)["errors"]


def test_duplicate_card_names_both_rows(sess, admin, orgs):
    rows = [HEAD, member_row(1, card="55.500555"), member_row(2, name="Lê Thị Hoa"), member_row(3, card="55500555")]
    preview = _rejected(sess, admin, rows)
    for row in (2, 4):
        (err,) = _errors(preview, row)
        assert err["code"] == "duplicate_card" and err["column"] == "C" and err["value"] in ("55.500555", "55500555")
        assert "dòng 2 và 4" in err["message"]
    assert _errors(preview, 3) == []
    assert preview["summary"]["rejected"] == 2 and preview["summary"]["create"] == 1


def test_invalid_date_names_row_column_and_value(sess, admin, orgs):
    preview = _rejected(sess, admin, [HEAD, member_row(1), member_row(2, dob="31/02/1980")])
    (err,) = _errors(preview, 3)
    assert err == {"column": "D", "header": "Ngày sinh", "value": "31/02/1980", "code": "invalid_date",
                   "message": "Ngày sinh không hợp lệ: 31/02/1980 (dòng 3, cột D)"}


def test_missing_name_and_card_and_unknown_words(sess, admin, orgs):
    rows = [HEAD, member_row(1, name=None), [2, "Phan Văn Long", None, "01/01/1990", "Nam"],
            member_row(3, gender="Khác"), member_row(4, status="Nghỉ hưu")]
    preview = _rejected(sess, admin, rows)
    assert [e["code"] for e in _errors(preview, 2)] == ["missing_required"]
    assert _errors(preview, 2)[0]["message"] == "Thiếu họ và tên (dòng 2, cột B)"
    assert [e["code"] for e in _errors(preview, 3)] == ["missing_required"]
    assert _errors(preview, 3)[0]["message"] == "Thiếu số thẻ đảng viên (dòng 3, cột C)"
    assert [e["code"] for e in _errors(preview, 4)] == ["unknown_gender"]
    assert [e["code"] for e in _errors(preview, 5)] == ["unknown_status"]
    for r in preview["rows"]:
        for e in r["errors"]:
            assert unicodedata.is_normalized("NFC", e["message"])


def test_residence_cell_named_like_one_of_another_ward_is_a_new_cell_of_the_ward_given(sess, admin, orgs):
    # "Chi bộ khu phố 5" exists in Bãi Cháy; the list says Hồng Hà: the ward decides, the new cell is listed
    batch, preview = run(sess, admin, xlsx([HEAD, member_row(1, residence="Chi bộ khu phố 5")]))
    assert preview["summary"]["rejected"] == 0
    assert {"name": "Chi bộ khu phố 5", "kind": "residence_cell", "parent": "Đảng ủy phường Hồng Hà",
            "place": None} in preview["summary"]["organisations_new"]


def test_ward_name_variants_match_the_same_ward(sess, admin, orgs):
    rows = [HEAD, member_row(1, ward="Đảng ủy phường Hồng Hà"), member_row(2, ward="phường hồng hà"),
            member_row(3, ward="Phường Hồng Hà", residence="Chi bộ khu phố 2")]
    batch, preview = run(sess, admin, xlsx(rows))
    assert preview["summary"]["rejected"] == 0 and preview["summary"]["organisations_created"] == []
    assert confirm_and_run(sess, admin, batch).state == "done"
    cells = {m.residence_cell_id for m in sess.scalars(select(Member))}
    assert cells == {orgs["cell1"].id, orgs["cell2"].id}
    workplaces = {m.workplace_org_id for m in sess.scalars(select(Member))}
    assert workplaces == {orgs["tax_cell"].id}


def test_workplace_staff_cannot_import_another_committee(sess, make_user, orgs):
    staff = make_user("thue", "workplace_staff", orgs["tax"])
    rows = [HEAD, member_row(1), member_row(2, committee="Đảng ủy Bệnh viện tỉnh", cell=None),
            member_row(3, committee="Đảng ủy Sở Nội vụ", cell=None)]
    preview = _rejected(sess, staff, rows)
    assert _errors(preview, 2) == []
    for row in (3, 4):
        (err,) = _errors(preview, row)
        assert err["code"] == "organisation_out_of_scope" and err["column"] == "F"


def test_workplace_staff_imports_own_committee_and_new_cell(sess, make_user, orgs):
    staff = make_user("thue", "workplace_staff", orgs["tax"])
    rows = [HEAD, member_row(1), member_row(2, cell="Chi bộ Phòng Tuyên truyền")]
    batch, preview = run(sess, staff, xlsx(rows))
    assert preview["summary"]["rejected"] == 0
    assert preview["summary"]["organisations_created"] == ["Chi bộ Phòng Tuyên truyền"]
    assert confirm_and_run(sess, staff, batch).state == "done"
    new_cell = sess.scalars(select(Organisation).where(Organisation.name == "Chi bộ Phòng Tuyên truyền")).one()
    assert new_cell.parent_id == orgs["tax"].id and new_cell.kind == "workplace_cell"


def test_confirm_twice_and_job_replans_against_changed_db(sess, admin, orgs):
    batch, _ = run(sess, admin, xlsx([HEAD, member_row(1)]))
    job = importing.confirm(sess, admin, batch)
    assert batch.status == "queued" and batch.job_id == job.id
    assert job.params == {"batch_id": batch.id, "user_id": admin.id}
    with pytest.raises(ServiceError) as exc:
        importing.confirm(sess, admin, batch)
    assert exc.value.code == "import_already_confirmed"

    # a second file previews fine, then the registry changes under it before the job runs
    rows = [HEAD, member_row(2), member_row(3, ward="Phường Cao Xanh", residence="Chi bộ khu phố 9")]
    batch2, preview = run(sess, admin, xlsx(rows))
    assert preview["summary"]["rejected"] == 0
    importing.confirm(sess, admin, batch2)
    # two "Đảng ủy phường Cao Xanh" appear meanwhile (two provinces): the ward of row 3 is now ambiguous
    other_body = Organisation(kind="party_body")
    other_body.set_name("Đảng bộ tỉnh Khác")
    sess.add(other_body)
    sess.flush()
    for parent in (other_body.id, orgs["province"].id):
        other = Organisation(kind="ward_committee", parent_id=parent)
        other.set_name("Đảng ủy phường Cao Xanh")
        sess.add(other)
    sess.commit()
    before = counts(sess)
    assert run_pending() == 2
    sess.expire_all()
    first, second = sess.get(ImportBatch, batch.id), sess.get(ImportBatch, batch2.id)
    assert first.status == "applied"
    assert second.status == "failed"
    failed = sess.get(Job, second.job_id)
    assert failed.state == "failed" and failed.error["code"] == "import_has_errors"
    assert failed.error["details"]["rows"][0]["errors"][0]["code"] == "ambiguous_organisation"
    after = counts(sess)
    assert after["Member"] == before["Member"] + 1  # only the first batch's member
    assert after["Organisation"] == before["Organisation"]
    assert sess.scalar(select(func.count()).select_from(Member).where(Member.card_number == "10.000002")) == 0
    assert "Cao Xanh" in failed.error["details"]["rows"][0]["errors"][0]["message"]


def test_job_reports_progress_and_applies_in_one_go(sess, admin, orgs):
    rows = [HEAD] + [member_row(i, name=f"Võ Văn Toàn {i}") for i in range(1, 41)]
    batch, _ = run(sess, admin, xlsx(rows))
    job = confirm_and_run(sess, admin, batch)
    assert job.state == "done" and job.progress_total == 40 and job.progress_done == 40
    assert job.result["created"] == 40
    assert counts(sess)["AuditEntry"] == 40


def test_workplace_staff_file_without_workplace_column_uses_own_committee(sess, make_user, orgs):
    staff = make_user("thue", "workplace_staff", orgs["tax"])
    rows = [["Họ tên", "Số thẻ", "Xã/Phường", "Chi bộ nơi cư trú"], ["Bùi Thị Lan", "77.700777", "Hồng Hà", "Chi bộ khu phố 2"]]
    batch, preview = run(sess, staff, xlsx(rows))
    assert preview["summary"]["create"] == 1 and preview["summary"]["organisations_created"] == []
    assert confirm_and_run(sess, staff, batch).state == "done"
    m = sess.scalars(select(Member)).one()
    assert m.workplace_org_id == orgs["tax"].id and m.residence_cell_id == orgs["cell2"].id
