"""The import's mapping step, normalised keys, likely duplicates, document readiness and undo."""
from __future__ import annotations

import datetime as dt
import io

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from service import importing
from service.jobs.inprocess import run_pending
from service.errors import ServiceError
from service.members.fields import ValueProblem, parse_card, parse_phone
from service.models import AuditEntry, ImportBatch, ImportMapping, Member, Organisation

HEAD = ["STT", "Họ và tên", "Số thẻ", "Ngày sinh", "Giới tính", "Ngày vào Đảng", "Đảng ủy nơi công tác",
        "Đảng ủy xã, phường nơi cư trú", "Chi bộ nơi cư trú", "Nơi cư trú", "Quê quán"]


def xlsx(rows) -> bytes:
    wb = Workbook()
    for r in rows:
        wb.active.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def row(n, name="Nguyễn Văn An", card=None, dob=None, ward="Phường Hồng Hà",
        cell="Chi bộ khu phố 1", home="Quảng Bình"):
    """Row ``n`` of a list; namesakes are born on different days (the same name and birth date twice in
    one file is flagged as one person)."""
    dob = dob or dt.date(1980, 2, 1) + dt.timedelta(days=n - 1)
    return [n, name, card or f"12.00{n:04d}", dob, "Nam", dt.date(2005, 5, 5), "Đảng ủy Cục Thuế tỉnh", ward, cell,
            f"Số {n} đường Lê Lợi", home]


@pytest.fixture
def admin(make_user):
    return make_user("quantri", "admin")


def apply(sess, user, batch):
    importing.confirm(sess, user, batch)
    assert run_pending() == 1
    sess.expire_all()
    return sess.get(ImportBatch, batch.id)


@pytest.mark.parametrize("typed,canonical", [
    ("22.668517", "22.668517"), ("22668517", "22.668517"), (" 22 668 517", "22.668517"), (2668517, "02.668517"),
    (137687, "00.137687"), ("02.668517", "02.668517"), (22.668517, "22.668517"),
])
def test_card_numbers_have_one_form(typed, canonical):
    assert parse_card(typed) == canonical


@pytest.mark.parametrize("typed,canonical", [
    ("+84 930 775 789", "0930775789"), ("0371.695.421", "0371695421"), ("0393 866 323", "0393866323"),
    (930775789, "0930775789"), ("84930775789", "0930775789"), ("0203 3825 111", "02033825111"),
])
def test_phones_have_one_form(typed, canonical):
    assert parse_phone(typed) == canonical


@pytest.mark.parametrize("bad", ["12345", "22.66851A", "ABC", "123456789012"])
def test_bad_card_numbers_are_refused(bad):
    with pytest.raises(ValueProblem):
        parse_card(bad)


def test_bad_phone_is_refused_with_row_column_and_form(sess, admin, orgs):
    rows = [HEAD[:3] + ["Số điện thoại"], [1, "Lê Văn Tư", "12.000001", "0912 34"]]
    batch = importing.preview_upload(sess, admin, xlsx(rows), "ds.xlsx")
    (err,) = batch.preview["rows"][0]["errors"]
    assert err["code"] == "invalid_phone" and err["column"] == "D"
    assert err["message"] == ("Số điện thoại không hợp lệ: «0912 34» (dòng 2, cột D); cần 10 chữ số, "
                              "dạng 0912345678")


def test_mapping_step_shows_every_column_and_warns_of_unmapped_values(sess, admin, orgs):
    batch = importing.preview_upload(sess, admin, xlsx([HEAD, row(1), row(2)]), "ds.xlsx")
    p = batch.preview
    cols = {c["letter"]: c for c in p["all_columns"]}
    assert cols["H"]["field"] == "commune" and cols["J"]["field"] == "house"
    assert cols["K"]["field"] is None and cols["K"]["samples"] == ["Quảng Bình", "Quảng Bình"]
    assert p["unmapped_columns"] == [{"letter": "K", "header": "Quê quán", "values": 2}]
    assert cols["A"]["suggestion"] == "_ignored"
    # the secretary maps "Quê quán" to the notes: it is imported, and no warning is left
    mapping = dict(p["mapping"], K="notes")
    batch = importing.remap(sess, admin, batch, mapping)
    assert batch.preview["unmapped_columns"] == []
    assert batch.preview["rows"][0]["changes"]["notes"] == [None, "Quảng Bình"]
    apply(sess, admin, batch)
    assert {m.notes for m in sess.scalars(select(Member))} == {"Quảng Bình"}
    # the confirmed mapping is saved and proposed for the next list with the same headers
    assert sess.scalar(select(func.count()).select_from(ImportMapping)) == 1
    again = importing.preview_upload(sess, admin, xlsx([HEAD, row(3)]), "ds2.xlsx")
    assert again.preview["mapping"]["K"] == "notes"
    assert next(c for c in again.preview["all_columns"] if c["letter"] == "K")["how"] == "remembered"


def test_a_mapping_that_cannot_work_is_refused_and_changes_nothing(sess, admin, orgs):
    batch = importing.preview_upload(sess, admin, xlsx([HEAD, row(1)]), "ds.xlsx")
    before = dict(batch.preview)
    for mapping, words in (({"C": ""}, "«Số thẻ đảng viên»"), ({"J": "commune"}, "nhiều cột (H, J)"),
                           ({"Z": "notes"}, "Z: notes"), ({"K": "khong_co"}, "K: khong_co")):
        with pytest.raises(ServiceError) as exc:
            importing.remap(sess, admin, batch, dict(batch.preview["mapping"], **mapping))
        assert exc.value.code == "invalid_mapping" and words in exc.value.message
    sess.expire_all()
    assert sess.get(ImportBatch, batch.id).preview == before


def test_api_takes_the_same_mapping(app, login, admin, orgs):
    client = login(admin)
    resp = client.post("/api/imports", data={"file": (io.BytesIO(xlsx([HEAD, row(1)])), "ds.xlsx")},
                       content_type="multipart/form-data")
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    mapping = dict(body["preview"]["mapping"], K="notes")
    resp = client.post(f"/api/imports/{body['id']}/mapping", json={"mapping": mapping})
    assert resp.status_code == 200 and resp.get_json()["preview"]["mapping"]["K"] == "notes"
    resp = client.post(f"/api/imports/{body['id']}/mapping", json={"mapping": {"C": ""}})
    assert resp.status_code == 400 and resp.get_json()["error"]["code"] == "invalid_mapping"


def test_ward_disambiguates_same_named_cells_and_new_ward_gets_its_place(sess, admin, orgs):
    rows = [HEAD, row(1, ward="Phường Bãi Cháy", cell="Chi bộ khu phố 1"), row(2, ward="Phường Hồng Hà"),
            row(3, ward="Phường Cao Xanh", cell="Chi bộ khu phố 1")]
    batch = importing.preview_upload(sess, admin, xlsx(rows), "ds.xlsx")
    assert batch.status == "previewed", batch.preview["rows"]
    new = batch.preview["summary"]["organisations_new"]
    assert {"name": "Đảng ủy phường Cao Xanh", "kind": "ward_committee", "parent": "Đảng bộ tỉnh Quảng Ninh",
            "place": "Cao Xanh"} in new
    assert {o["name"] for o in new} == {"Chi bộ khu phố 1", "Đảng ủy phường Cao Xanh"}
    apply(sess, admin, batch)
    by_card = {m.card_number: m for m in sess.scalars(select(Member))}
    assert by_card["12.000001"].residence_cell.parent_id == orgs["other_ward"].id
    assert by_card["12.000002"].residence_cell_id == orgs["cell1"].id
    assert by_card["12.000003"].residence_cell.parent.place == "Cao Xanh"


def test_likely_duplicate_is_shown_and_not_created(sess, admin, orgs):
    apply(sess, admin, importing.preview_upload(sess, admin, xlsx([HEAD, row(1, name="Trần Thị Mai")]), "a.xlsx"))
    rows = [HEAD, row(1, name="Trần  Thị Mai", card="34.000001"), row(2, name="Lê Văn Hòa")]
    batch = importing.preview_upload(sess, admin, xlsx(rows), "b.xlsx")
    s = batch.preview["summary"]
    assert (s["duplicate"], s["create"], s["rejected"]) == (1, 1, 0)
    dup = batch.preview["rows"][0]
    assert dup["action"] == "duplicate" and dup["duplicate_of"]["card_number"] == "12.000001"
    job = importing.confirm(sess, admin, batch)
    run_pending()
    sess.expire_all()
    assert sess.scalar(select(func.count()).select_from(Member)) == 2
    assert sess.scalar(select(func.count()).select_from(Member).where(Member.card_number == "34.000001")) == 0
    assert job.id


def test_preview_says_which_documents_each_member_can_get(sess, admin, orgs):
    orgs["tax"].place = "Hạ Long"  # the letter's place name (địa danh)
    sess.commit()
    rows = [HEAD, row(1), [2, "Phạm Văn Bảy", "12.000002", None, "Nam", None, "Đảng ủy Cục Thuế tỉnh",
                           "Phường Hồng Hà", None, None, None]]
    batch = importing.preview_upload(sess, admin, xlsx(rows), "ds.xlsx")
    ready, missing = batch.preview["rows"]
    assert batch.preview["summary"]["documents_ready"] == {"letter": 1, "sheet": 1}
    assert ready["documents"] == {"letter": [], "sheet": []}
    assert "chi bộ nơi cư trú" in missing["documents"]["sheet"] and "ngày sinh" in missing["documents"]["sheet"]
    assert "ngày vào Đảng" in missing["documents"]["letter"]
    orgs["tax"].place = None
    sess.commit()
    batch = importing.preview_upload(sess, admin, xlsx(rows[:2]), "ds.xlsx")
    assert batch.preview["rows"][0]["documents"]["letter"] == ["địa danh của đảng ủy nơi công tác (hoặc tỉnh)"]


def test_undo_restores_the_registry_and_keeps_the_audit(sess, admin, orgs):
    first = apply(sess, admin, importing.preview_upload(sess, admin, xlsx([HEAD, row(1)]), "a.xlsx"))
    assert first.status == "applied"
    m1 = sess.scalars(select(Member)).one()
    rows = [HEAD, row(1, dob=dt.date(1981, 3, 3)), row(2, name="Đỗ Thị Hằng", ward="Phường Mới", cell="Chi bộ thôn Mới")]
    batch = apply(sess, admin, importing.preview_upload(sess, admin, xlsx(rows), "b.xlsx"))
    assert batch.status == "applied"
    n_orgs = sess.scalar(select(func.count()).select_from(Organisation))
    audits = sess.scalar(select(func.count()).select_from(AuditEntry))
    result = importing.undo_import(sess, admin, batch)
    assert result == {"members_deleted": 1, "members_restored": 1, "organisations_deleted": 2}
    sess.expire_all()
    assert sess.scalar(select(func.count()).select_from(Member)) == 1
    assert sess.get(Member, m1.id).date_of_birth == dt.date(1980, 2, 1)
    assert sess.scalar(select(func.count()).select_from(Organisation)) == n_orgs - 2
    assert sess.scalar(select(func.count()).select_from(AuditEntry)) == audits + 2  # kept, plus the undo's own
    assert sess.get(ImportBatch, batch.id).status == "undone"
    with pytest.raises(ServiceError) as exc:
        importing.undo_import(sess, admin, sess.get(ImportBatch, batch.id))
    assert exc.value.code == "import_not_applied"


def test_undo_is_refused_when_a_member_changed_since(sess, admin, orgs, login):
    batch = apply(sess, admin, importing.preview_upload(sess, admin, xlsx([HEAD, row(1), row(2, name="Vũ Văn Ba")]), "a.xlsx"))
    m = sess.scalars(select(Member).where(Member.card_number == "12.000002")).one()
    resp = login(admin).patch(f"/api/members/{m.id}", json={"phone": "0912345678"})
    assert resp.status_code == 200
    before = sess.scalar(select(func.count()).select_from(Member))
    with pytest.raises(ServiceError) as exc:
        importing.undo_import(sess, admin, sess.get(ImportBatch, batch.id))
    assert exc.value.code == "import_undo_refused" and m.full_name in exc.value.message
    sess.expire_all()
    assert sess.scalar(select(func.count()).select_from(Member)) == before
    assert sess.get(ImportBatch, batch.id).status == "applied"


def test_registry_and_import_share_one_card_form(sess, admin, orgs, login):
    client = login(admin)
    resp = client.post("/api/members", json={"full_name": "Hồ Thị Mai", "card_number": "22668517"})
    assert resp.status_code == 201 and resp.get_json()["card_number"] == "22.668517"
    dup = client.post("/api/members", json={"full_name": "Người Khác", "card_number": " 22 668 517"})
    assert dup.status_code == 409 and dup.get_json()["error"]["code"] == "duplicate_card_number"
    # an older record typed without the dot is found by the import, not created again
    old = Member(card_number="33445566", status="active")
    old.set_name("Lý Văn Cũ")
    sess.add(old)
    sess.commit()
    batch = importing.preview_upload(sess, admin, xlsx([HEAD, row(1, name="Lý Văn Cũ", card="33.445566")]), "x.xlsx")
    assert batch.preview["rows"][0]["action"] == "update" and batch.preview["summary"]["create"] == 0


def _parse(rows):
    from service.importing.workbook import parse_workbook
    return parse_workbook(xlsx(rows), "x.xlsx")


def test_gender_split_fills_date_and_gender_and_checks_both_columns():
    rows = [["STT", "Họ và tên", "Ngày sinh", None, "Số thẻ"], [None, None, "Nam", "Nữ", None],
            ["(1)", "(2)", "(3)", "(4)", "(5)"],
            [1, "Lê Văn A", "01/02/1980", None, "11.000001"], [2, "Lê Thị B", None, "3/4/1985", "11.000002"],
            [3, "Lê Thị C", None, "31/02/1985", "11.000003"], [4, "Lê D", "1/1/1980", "1/1/1980", "11.000004"]]
    p = _parse(rows)
    assert p.header_rows == [1, 2] and p.columns["date_of_birth_female"].header == "Ngày sinh / Nữ"
    assert p.skipped == [{"row": 3, "text": "(1) (2) (3) (4) (5)", "reason": "column_numbers"}]
    a, b, c, d = p.rows
    assert (a.values["date_of_birth"], a.values["gender"]) == (dt.date(1980, 2, 1), "male")
    assert (b.values["date_of_birth"], b.values["gender"]) == (dt.date(1985, 4, 3), "female")
    assert [(e["code"], e["column"]) for e in c.errors] == [("invalid_date", "D")]
    assert [e["code"] for e in d.errors] == ["gender_split_both"]


def test_suggestions_from_similar_headers_and_from_values():
    rows = [["Họ và tên", "Mã số", "Số điện thaoi", "Ghi chép"],
            ["Lê Văn A", "22668517", "0912345678", "x"], ["Lê Văn B", "22.668518", "0912345679", None],
            ["Lê Văn C", " 22 668 519", "0912345670", None]]
    p = _parse(rows)
    cols = {c.letter: c for c in p.all_columns}
    assert (cols["B"].field, cols["B"].how) == ("card_number", "values")
    assert (cols["C"].field, cols["C"].how) == ("phone", "similar")
    assert cols["D"].field is None
    assert p.unmapped == [{"letter": "D", "header": "Ghi chép", "values": 1}]
    assert [r.values["card_number"] for r in p.rows] == ["22.668517", "22.668518", "22.668519"]


def test_a_list_whose_card_column_is_not_recognised_waits_for_the_mapping_step(sess, admin, orgs):
    rows = [["Họ và tên", "Ký hiệu", "Ngày sinh"], ["Lê Văn A", "hồ sơ 1", "1/2/1980"], ["Lê Văn B", "hồ sơ 2", None]]
    batch = importing.preview_upload(sess, admin, xlsx(rows + [[None, None, None]]), "x.xlsx")
    assert batch.status == "needs_mapping" and "«Số thẻ đảng viên»" in batch.preview["mapping_problems"][0]
    with pytest.raises(ServiceError) as exc:
        importing.confirm(sess, admin, batch)
    assert exc.value.code == "invalid_mapping"
    # "Ký hiệu" holds no card numbers: every row is refused with its row, column and value
    importing.remap(sess, admin, batch, dict(batch.preview["mapping"], B="card_number"))
    sess.expire_all()
    batch = sess.get(ImportBatch, batch.id)
    assert batch.status == "rejected" and batch.preview["rows"][0]["errors"][0]["code"] == "invalid_card"


def test_signature_block_and_section_rows_are_skipped_with_reasons():
    rows = [["TT", "Họ và tên", "Số thẻ"], [None, "I. Sở Tài chính"], [1, "Lê Văn A", "11.000001"], [],
            [None, "NGƯỜI LẬP BIỂU", None, "T/M CHI ỦY"], [None, None, None, "BÍ THƯ"], [None, "Trần Văn Lập"]]
    p = _parse(rows)
    assert [r.row for r in p.rows] == [3]
    # row 6 has a value only in an unmapped column: a blank row for the import
    assert [(s["row"], s["reason"]) for s in p.skipped] == [(2, "heading"), (5, "signature"), (7, "signature")]


def test_the_secretary_can_give_a_new_ward_another_place_name(sess, admin, orgs, login):
    batch = importing.preview_upload(sess, admin, xlsx([HEAD, row(1, ward="Xã Đông Ngũ", cell="Chi bộ thôn 2")]),
                                     "x.xlsx")
    ward = next(o for o in batch.preview["summary"]["organisations_new"] if o["kind"] == "ward_committee")
    assert (ward["name"], ward["place"]) == ("Đảng ủy xã Đông Ngũ", "Đông Ngũ")
    client = login(admin)
    bad = client.post(f"/api/imports/{batch.id}/places", json={"places": {"Đảng ủy Sở Tài chính": "Hạ Long"}})
    assert bad.status_code == 400 and bad.get_json()["error"]["code"] == "invalid_place"
    ok = client.post(f"/api/imports/{batch.id}/places", json={"places": {"Đảng ủy xã Đông Ngũ": "Tiên Yên"}})
    assert ok.status_code == 200
    sess.expire_all()
    apply(sess, admin, sess.get(ImportBatch, batch.id))
    assert sess.scalars(select(Organisation).where(Organisation.name == "Đảng ủy xã Đông Ngũ")).one().place == "Tiên Yên"


def _gender_marks_file(rows) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(["STT", "Họ và tên", "Số thẻ", "Giới tính", None, "Ngày sinh"])
    ws.append([None, None, None, "Nam", "Nữ", None])
    ws.merge_cells("D1:E1")
    for col in "ABCF":
        ws.merge_cells(f"{col}1:{col}2")
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_gender_marked_with_x_under_nam_nu_is_stored(sess, admin, orgs):
    data = _gender_marks_file([[1, "Lê Văn Nam", "12.000001", "x", None, dt.date(1980, 1, 2)],
                               [2, "Trần Thị Nữ", "12.000002", None, "X", dt.date(1981, 3, 4)]])
    batch = importing.preview_upload(sess, admin, data, "ds.xlsx")
    assert batch.status == "previewed", batch.preview["rows"]
    assert batch.preview["unmapped_columns"] == []  # both columns used, none dropped
    apply(sess, admin, batch)
    genders = dict(sess.execute(select(Member.full_name, Member.gender)).all())
    assert genders == {"Lê Văn Nam": "male", "Trần Thị Nữ": "female"}


def test_gender_marked_in_both_columns_is_refused_with_its_cell(sess, admin, orgs):
    data = _gender_marks_file([[1, "Lê Văn Hai", "12.000003", "x", "x", dt.date(1980, 1, 2)]])
    batch = importing.preview_upload(sess, admin, data, "ds.xlsx")
    (err,) = batch.preview["rows"][0]["errors"]
    assert batch.status == "rejected" and err["code"] == "gender_marks_both" and err["column"] == "E"
    assert err["message"] == ("Giới tính được đánh dấu ở cả cột Nam và cột Nữ; chỉ đánh dấu một cột (dòng 3, cột E)")
    assert sess.scalar(select(func.count()).select_from(Member)) == 0


def test_same_name_and_birth_date_twice_in_one_file_is_flagged(sess, admin, orgs, app, login):
    rows = [HEAD, row(1, name="Nguyễn Văn An", card="12.000001"), row(2, name="Nguyễn Văn Bình", card="12.000002"),
            row(3, name="NGUYỄN VĂN AN", card="12.000003", dob=dt.date(1980, 2, 1))]  # the same person, another card
    batch = importing.preview_upload(sess, admin, xlsx(rows), "ds.xlsx")
    plans = {r["row"]: r for r in batch.preview["rows"]}
    assert plans[2]["action"] == "create" and plans[3]["action"] == "create"
    assert plans[4]["action"] == "duplicate" and plans[4]["duplicate_of"]["row"] == 2
    assert plans[4]["duplicate_of"]["card_number"] == "12.000001"
    page = login(admin).get(f"/import/{batch.id}").get_data(as_text=True)
    assert "Có thể trùng với dòng 2 trong tệp" in page
    apply(sess, admin, batch)
    assert sess.scalar(select(func.count()).select_from(Member)) == 2  # the duplicate row was not created
