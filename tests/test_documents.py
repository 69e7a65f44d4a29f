"""Letters and sheets from the registry: numbering, one sheet per year, QR, bulk runs, custom templates."""
from __future__ import annotations

import datetime as dt
import io
import subprocess
import sys
import threading
import zipfile
from pathlib import Path

import pytest
from docx import Document

from service import db
from service.jobs.inprocess import run_pending
from service.documents.templates_store import TEMPLATES_DIR
from service.qrkeys import keyring, signing_key
from service.models import Evaluation, Introduction, Job, Member

YEAR = dt.date.today().year


def doc_text(data: bytes) -> str:
    doc = Document(io.BytesIO(data))
    parts = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        for row in table.rows:
            for cell in row.cells:
                parts.extend(p.text for p in cell.paragraphs)
                for inner in cell.tables:
                    for r in inner.rows:
                        parts.extend(c.text for c in r.cells)
    return "\n".join(parts)


def add_member(sess, orgs, name, card, cell="cell1", workplace="tax_cell", **kw):
    m = Member(card_number=card, workplace_org_id=orgs[workplace].id,
               residence_cell_id=orgs[cell].id if cell else None, gender=kw.pop("gender", "female"),
               date_of_birth=kw.pop("date_of_birth", dt.date(1985, 9, 2)),
               admission_date=kw.pop("admission_date", dt.date(2010, 5, 19)),
               house="Số 18 đường Nguyễn Văn Cừ", neighbourhood="Khu phố 1", commune="Phường Hồng Hà",
               province="Quảng Ninh", status=kw.pop("status", "active"), **kw)
    m.set_name(name)
    sess.add(m)
    sess.commit()
    return m


@pytest.fixture
def staff(make_user, login, orgs):
    return login(make_user("thue", role="workplace_staff", organisation=orgs["tax"]))


def test_letter_holds_every_field_and_a_reprint_keeps_its_number(app, sess, orgs, staff):
    orgs["tax"].secretary_name = "Trần Quốc Huy"
    orgs["tax"].place = "Hạ Long"
    sess.commit()
    m = add_member(sess, orgs, "Nguyễn Thị Ánh Tuyết", "1001")
    first = staff.post(f"/api/members/{m.id}/introductions")
    assert first.status_code == 201
    intro = first.get_json()
    assert intro["number"] == 1 and intro["reference"] == "01-GGT/ĐU" and intro["warnings"] == []
    again = staff.post(f"/api/members/{m.id}/introductions").get_json()
    assert again["id"] == intro["id"] and again["number"] == 1  # a reprint keeps its number
    text = doc_text(staff.get(f"/api/introductions/{intro['id']}/document").data)
    for expected in ("GIẤY GIỚI THIỆU", "ĐẢNG CỘNG SẢN VIỆT NAM", "Số 01-GGT/ĐU", "Nguyễn Thị Ánh Tuyết", "02/09/1985",
                     "19/05/2010", "Chi bộ Phòng Kiểm tra", "ĐẢNG ỦY PHƯỜNG HỒNG HÀ", "Chi bộ khu phố 1",
                     "Số 18 đường Nguyễn Văn Cừ", "Trần Quốc Huy", "ĐẢNG ỦY CỤC THUẾ TỈNH", "Hạ Long", "213-QĐ/TW"):
        assert expected in text, expected
    import unicodedata
    assert unicodedata.normalize("NFC", text) == text
    page = staff.get(f"/members/{m.id}").get_data(as_text=True)
    assert "01-GGT/ĐU" in page  # in the member's history


def test_letter_numbers_have_no_gap_or_duplicate_under_concurrency(app, sess, orgs):
    members = [add_member(sess, orgs, f"Đảng Viên {i}", f"20{i:02d}") for i in range(24)]
    ids = [m.id for m in members]

    def issue(chunk):
        from service.documents.letters import issue_introduction
        with app.app_context():
            for member_id in chunk:
                with db.new_session() as s:
                    issue_introduction(s, None, s.get(Member, member_id))

    threads = [threading.Thread(target=issue, args=(ids[k:12:3],)) for k in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    # ...and two processes at once on the same database.
    url, storage = app.config["DATABASE_URL"], app.config["STORAGE_DIR"]
    root = Path(__file__).resolve().parents[1]
    procs = [subprocess.Popen([sys.executable, "-m", "tests.support.issue_letters", url, storage,
                               *map(str, ids[12 + k::2])], cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for k in range(2)]
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err.decode()[-2000:]
    sess.expire_all()
    numbers = sorted(i.number for i in sess.query(Introduction).all())
    assert numbers == list(range(1, 25))


def test_numbering_is_per_organisation_and_year(app, sess, orgs):
    from service.documents.letters import issue_introduction
    a = add_member(sess, orgs, "Lê Văn Một", "3001")
    b = add_member(sess, orgs, "Lê Văn Hai", "3002", workplace="hospital")
    c = add_member(sess, orgs, "Lê Văn Ba", "3003")
    assert issue_introduction(sess, None, a, dt.date(2025, 3, 1)).number == 1
    assert issue_introduction(sess, None, b, dt.date(2025, 3, 1)).number == 1  # another committee
    assert issue_introduction(sess, None, c, dt.date(2025, 3, 1)).number == 2
    assert issue_introduction(sess, None, a, dt.date(2026, 1, 5)).number == 1  # a new year starts at 1


def test_member_without_residence_cell_is_named(app, sess, orgs, staff):
    m = add_member(sess, orgs, "Phạm Thị Không Nhà", "4001", cell=None)
    resp = staff.post(f"/api/members/{m.id}/introductions")
    assert resp.status_code == 400
    err = resp.get_json()["error"]
    assert err["code"] == "no_residence_cell" and "Phạm Thị Không Nhà" in err["message"]
    assert sess.query(Introduction).count() == 0


def test_one_sheet_per_member_and_year_with_a_signed_qr(app, sess, orgs, staff):
    import zxingcpp
    from PIL import Image
    from forms import qrpayload
    m = add_member(sess, orgs, "Hoàng Thị Yến", "5001")
    first = staff.post(f"/api/members/{m.id}/evaluations", json={"year": YEAR}).get_json()
    second = staff.post(f"/api/members/{m.id}/evaluations", json={"year": YEAR}).get_json()
    assert first["id"] == second["id"] and first["sheet_serial"] == second["sheet_serial"]
    data = staff.get(f"/api/evaluations/{first['id']}/document").data
    text = doc_text(data)
    for expected in ("PHIẾU NHẬN XÉT", "Hoàng Thị Yến", "Nêu gương tốt", "Chưa gương mẫu", "Xem xét xử lý",
                     "Nhận xét khác", "T/M CHI ỦY", first["sheet_serial"]):
        assert expected in text, expected
    # The QR picture in the document decodes to the signed payload of this sheet.
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        images = [zf.read(n) for n in zf.namelist() if n.startswith("word/media/")]
    decoded = []
    for img in images:
        pil = Image.open(io.BytesIO(img)).convert("L")
        decoded += [r.text for r in zxingcpp.read_barcodes(pil)]
    assert decoded, "no QR code found in the sheet"
    payload = qrpayload.verify(decoded[0], keyring()).as_dict()
    assert payload["kid"] == signing_key().kid
    assert str(payload["member_id"]) == str(m.id) and int(payload["year"]) == YEAR
    assert payload["sheet_serial"] == first["sheet_serial"]
    tampered = decoded[0].replace(str(YEAR), str(YEAR - 1), 1)
    with pytest.raises(Exception):
        qrpayload.verify(tampered, keyring())


def test_void_and_replace_is_recorded(app, sess, orgs, staff):
    m = add_member(sess, orgs, "Vũ Thị Lan", "6001")
    sheet = staff.post(f"/api/members/{m.id}/evaluations", json={"year": YEAR}).get_json()
    no_reason = staff.post(f"/api/evaluations/{sheet['id']}/void", json={"reason": " "})
    assert no_reason.status_code == 400 and no_reason.get_json()["error"]["code"] == "reason_required"
    resp = staff.post(f"/api/evaluations/{sheet['id']}/void", json={"reason": "Phiếu bị rách"})
    assert resp.status_code == 201
    body = resp.get_json()
    assert body["voided"]["status"] == "voided" and body["voided"]["voided_reason"] == "Phiếu bị rách"
    assert body["replacement"]["replaces_id"] == sheet["id"]
    assert body["replacement"]["sheet_serial"] != sheet["sheet_serial"]
    again = staff.post(f"/api/members/{m.id}/evaluations", json={"year": YEAR}).get_json()
    assert again["id"] == body["replacement"]["id"]
    assert sess.query(Evaluation).filter_by(member_id=m.id).count() == 2


def test_cell_secretary_cannot_issue(app, sess, orgs, make_user, login):
    m = add_member(sess, orgs, "Đỗ Văn Nam", "7001")
    sec = login(make_user("bithu", role="cell_secretary", organisation=orgs["cell1"]))
    assert sec.post(f"/api/members/{m.id}/introductions").status_code == 403
    assert sec.post(f"/api/members/{m.id}/evaluations", json={"year": YEAR}).status_code == 403


def test_bulk_run_outputs_and_reports_a_bad_member_by_name(app, sess, orgs, staff):
    good = [add_member(sess, orgs, n, f"80{i}", cell=c) for i, (n, c) in enumerate(
        [("Nguyễn Văn Ánh", "cell1"), ("Trần Thị Hường", "cell1"), ("Lê Đức Thắng", "cell2")])]
    add_member(sess, orgs, "Bùi Thị Thiếu", "809", date_of_birth=None)  # cannot be rendered: no date of birth
    resp = staff.post("/api/documents/bulk", json={"kind": "evaluation_sheet", "year": YEAR,
                                                   "selection": {"workplace_org_id": orgs["tax"].id},
                                                   "outputs": ["zip", "combined", "cell_bundles"]})
    assert resp.status_code == 202, resp.get_json()
    job_id = resp.get_json()["id"]
    run_pending()
    job = staff.get(f"/api/jobs/{job_id}").get_json()
    assert job["state"] == "done", job
    assert job["result"]["made"] == 3 and job["result"]["failed"] == 1
    assert "Bùi Thị Thiếu" in job["result"]["failures"][0]["message"]
    data = staff.get(f"/jobs/{job_id}/result").data
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        names = zf.namelist()
        singles = [n for n in names if n.startswith("tung-dang-vien/")]
        assert len(singles) == 3 and any("Nguyễn Văn Ánh" in n for n in singles)
        combined = [n for n in names if n.endswith("-gop.docx")]
        text = doc_text(zf.read(combined[0]))
        assert all(m.full_name in text for m in good)
        body = Document(io.BytesIO(zf.read(combined[0]))).element.body.xml
        assert body.count('w:type="page"') >= 2
        bundles = [n for n in names if n.startswith("theo-chi-bo/") and n.endswith(".docx")]
        assert len(bundles) == 2  # one packet per residence cell: the committee's request letter, then the sheets
        bundle_text = doc_text(zf.read(next(n for n in bundles if "khu phố 1" in n)))
        assert bundle_text.index("PHIẾU XIN Ý KIẾN") < bundle_text.index("PHIẾU NHẬN XÉT")
        assert "Kính gửi:" in bundle_text and "ĐẢNG ỦY CỤC THUẾ TỈNH" in bundle_text
        assert "Nguyễn Văn Ánh" in bundle_text and "Lê Đức Thắng" not in bundle_text
        assert "Bùi Thị Thiếu" in zf.read("khong-tao-duoc.txt").decode()
    # Running the same bulk again opens no second sheet.
    serials = {e.sheet_serial for e in sess.query(Evaluation).all()}
    staff.post("/api/documents/bulk", json={"kind": "evaluation_sheet", "year": YEAR,
                                            "selection": {"workplace_org_id": orgs["tax"].id}, "outputs": ["zip"]})
    run_pending()
    sess.expire_all()
    assert {e.sheet_serial for e in sess.query(Evaluation).all()} == serials


def test_bulk_pdf_through_libreoffice(app, sess, orgs, staff):
    add_member(sess, orgs, "Ngô Thị Mai", "8101")
    resp = staff.post("/api/documents/bulk", json={"kind": "introduction_letter", "year": YEAR,
                                                   "selection": {"residence_cell_id": orgs["cell1"].id},
                                                   "outputs": ["pdf"]})
    job_id = resp.get_json()["id"]
    run_pending()
    job = staff.get(f"/api/jobs/{job_id}").get_json()
    assert job["state"] == "done", job
    with zipfile.ZipFile(io.BytesIO(staff.get(f"/jobs/{job_id}/result").data)) as zf:
        pdf = next(zf.read(n) for n in zf.namelist() if n.endswith(".pdf"))
    import pdfplumber
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        text = doc.pages[0].extract_text()
    assert "GIẤY GIỚI THIỆU" in text and "Ngô Thị Mai" in text


def test_bulk_for_no_member_is_refused(app, sess, orgs, staff):
    resp = staff.post("/api/documents/bulk", json={"kind": "evaluation_sheet", "year": YEAR,
                                                   "selection": {"residence_cell_id": orgs["cell2"].id}})
    assert resp.status_code == 400 and resp.get_json()["error"]["code"] == "no_members"
    assert sess.query(Job).count() == 0


def test_preview_renders_without_issuing(app, sess, orgs, staff):
    m = add_member(sess, orgs, "Dương Văn Xem", "9001")
    resp = staff.get(f"/api/documents/preview?kind=evaluation_sheet&member_id={m.id}&format=png")
    assert resp.status_code == 200 and resp.mimetype == "image/png" and resp.data[:4] == b"\x89PNG"
    assert sess.query(Evaluation).count() == 0 and sess.query(Introduction).count() == 0


def _qr_texts(docx: bytes) -> list[str]:
    import zxingcpp
    from PIL import Image
    with zipfile.ZipFile(io.BytesIO(docx)) as zf:
        images = [zf.read(n) for n in zf.namelist() if n.startswith("word/media/")]
    return [r.text for img in images for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(img)).convert("L"))]


def _document_xml(docx: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(docx)) as zf:
        return zf.read("word/document.xml").decode("utf-8")


@pytest.mark.parametrize("kind", ["evaluation_sheet", "introduction_letter"])
def test_preview_says_so_across_the_page_and_its_qr_never_verifies(app, sess, orgs, staff, kind):
    from forms import qrpayload
    m = add_member(sess, orgs, "Dương Văn Thử", "9002")
    data = staff.get(f"/api/documents/preview?kind={kind}&member_id={m.id}&format=docx").data
    assert "BẢN XEM TRƯỚC" in _document_xml(data)
    text = doc_text(data)
    assert "Dương Văn Thử" in text
    assert "Số 0" not in text and "-000000-0" not in text and f"{YEAR}-{m.id:06d}-0" not in text
    codes = _qr_texts(data)
    assert codes, "the preview still carries a QR code"
    with pytest.raises(qrpayload.InvalidPayloadError) as exc:
        qrpayload.verify(codes[0], keyring())
    assert exc.value.code == "preview" and "bản xem trước" in exc.value.message_vi
    # the same code on a real, issued document verifies
    if kind == "evaluation_sheet":
        ev = staff.post(f"/api/members/{m.id}/evaluations", json={"year": YEAR}).get_json()
        issued = staff.get(f"/api/evaluations/{ev['id']}/document").data
        assert "BẢN XEM TRƯỚC" not in _document_xml(issued)
        assert qrpayload.verify(_qr_texts(issued)[0], keyring()).sheet_serial == ev["sheet_serial"]
        again = staff.get(f"/api/documents/preview?kind={kind}&member_id={m.id}&format=docx").data
        assert ev["sheet_serial"] in doc_text(again)  # an issued sheet's preview shows its serial...
        with pytest.raises(qrpayload.InvalidPayloadError):  # ...but its QR is still a preview's
            qrpayload.verify(_qr_texts(again)[0], keyring())


def test_sheet_prints_the_place_the_secretary_and_the_years_absences(app, sess, orgs, staff):
    from service.models import AbsenceRequest, Attendance, Meeting
    orgs["cell1"].secretary_name = "Đỗ Văn Bí Thư"
    m = add_member(sess, orgs, "Trịnh Thị Vắng", "9003")
    other = add_member(sess, orgs, "Trịnh Văn Đủ", "9004")

    def meeting(cell, day, member, status, note):
        mt = Meeting(residence_cell_id=orgs[cell].id, held_on=day, title="Họp chi bộ")
        sess.add(mt)
        sess.flush()
        sess.add(Attendance(meeting_id=mt.id, member_id=member.id, status=status, note=note))
        return mt
    # excused: an absence request certified by the workplace committee (only that excuses an absence)
    excused = meeting("cell1", dt.date(YEAR, 3, 15), m, "absent", None)
    sess.add(AbsenceRequest(meeting_id=excused.id, member_id=m.id, reason="Đi công tác tỉnh ngoài",
                            certified_at=dt.datetime(YEAR, 3, 10, 8, 0)))
    meeting("cell1", dt.date(YEAR, 9, 20), m, "absent", None)
    meeting("cell1", dt.date(YEAR, 6, 1), m, "present", None)
    meeting("cell1", dt.date(YEAR - 1, 9, 20), m, "absent", "Năm trước")
    meeting("cell2", dt.date(YEAR, 4, 2), m, "absent", "Chi bộ khác")
    meeting("cell1", dt.date(YEAR, 5, 5), other, "absent", "Người khác")
    sess.commit()
    ev = staff.post(f"/api/members/{m.id}/evaluations", json={"year": YEAR}).get_json()
    text = doc_text(staff.get(f"/api/evaluations/{ev['id']}/document").data)
    assert f"Hồng Hà, ngày …… tháng …… năm {YEAR}" in text  # the ward's place, no "phường", the year
    assert "Đỗ Văn Bí Thư" in text
    assert f"- Vắng họp chi bộ ngày 15/03/{YEAR} (có lý do): Đi công tác tỉnh ngoài" in text
    assert f"- Vắng họp chi bộ ngày 20/09/{YEAR} (không có lý do)" in text
    for elsewhere in ("Năm trước", "Chi bộ khác", "Người khác", "06/"):
        assert elsewhere not in text.split("Nhận xét khác")[1], elsewhere


def test_absences_beyond_the_lines_of_item_7_are_summed_up(app, sess, orgs):
    from docgen.textfit import text_width_pt
    from service.documents.contexts import PREFILLED_MAX_LINES, absence_remarks
    from service.models import Attendance, Meeting
    m = add_member(sess, orgs, "Mai Văn Bận", "9005")
    for month in range(1, 6):
        mt = Meeting(residence_cell_id=orgs["cell1"].id, held_on=dt.date(YEAR, month, 10))
        sess.add(mt)
        sess.flush()
        sess.add(Attendance(meeting_id=mt.id, member_id=m.id, status="absent", note="x" * 200))
    sess.commit()
    lines = absence_remarks(sess, m, YEAR)
    assert len(lines) == PREFILLED_MAX_LINES
    # a long reason is cut so that its line stays one printed line of item 7 (165 mm, 13 pt italic)
    assert lines[0].startswith(f"Vắng họp chi bộ ngày 10/01/{YEAR} (không có lý do): xxx") and lines[0].endswith("…")
    assert text_width_pt("- " + lines[0], 13, italic=True) <= 163 * 72 / 25.4
    assert lines[-1] == f"Vắng thêm 3 buổi họp chi bộ khác trong năm {YEAR}"


def _docx_with(text: str) -> bytes:
    doc = Document()
    doc.add_paragraph(text)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def test_custom_template_upload_is_checked_and_versioned(app, sess, orgs, make_user, login):
    admin = login(make_user("admin"))
    m = add_member(sess, orgs, "Hồ Văn Cũ", "9101")
    old = admin.post(f"/api/members/{m.id}/evaluations", json={"year": YEAR}).get_json()
    assert old["template_version"] == 2  # the built-in version 2 is the active one

    def upload(data, name):
        return admin.post("/api/templates", data={"kind": "evaluation_sheet", "file": (io.BytesIO(data), name)},
                          content_type="multipart/form-data")

    bad = upload(b"%PDF-1.4 not a docx", "mau.docx")
    assert bad.status_code == 400 and bad.get_json()["error"]["details"][0]["code"] == "not_docx"
    unknown = upload(_docx_with("Kính gửi {{ ten_la }} và {{ member_full_name }}"), "mau-moi.docx")
    err = unknown.get_json()["error"]
    assert err["code"] == "invalid_template"
    assert any(p["code"] == "unknown_placeholder" and p["name"] == "ten_la" for p in err["details"])
    assert "ten_la" in err["message"]
    macro = upload(_docx_with("{{ member_full_name }}"), "mau.docm")
    assert any(p["code"] == "macro_enabled" for p in macro.get_json()["error"]["details"])
    assert sorted(t["version"] for t in admin.get("/api/templates").get_json()["items"]
                  if t["kind"] == "evaluation_sheet") == [1, 2]

    good = upload((TEMPLATES_DIR / "evaluation_sheet.v2.docx").read_bytes(), "phieu-tinh.docx")
    assert good.status_code == 201 and good.get_json()["version"] == 3
    other = add_member(sess, orgs, "Hồ Văn Mới", "9102")
    new = admin.post(f"/api/members/{other.id}/evaluations", json={"year": YEAR}).get_json()
    assert new["template_version"] == 3
    sess.expire_all()
    assert sess.get(Evaluation, old["id"]).template_version == 2  # a sheet keeps the version it was made with
    assert "Hồ Văn Cũ" in doc_text(admin.get(f"/api/evaluations/{old['id']}/document").data)


def test_command_line_bulk_generation(app, sess, orgs, make_user, tmp_path):
    add_member(sess, orgs, "Lý Thị Dòng Lệnh", "9501")
    make_user("chanh")
    out = tmp_path / "phieu.zip"
    result = app.test_cli_runner().invoke(args=["generate", "--year", str(YEAR), "--cell", str(orgs["cell1"].id),
                                                "--as-user", "chanh", "--out", str(out), "--outputs", "zip"])
    assert result.exit_code == 0, result.output
    assert "Đã tạo 1 văn bản" in result.output
    with zipfile.ZipFile(out) as zf:
        assert any("Lý Thị Dòng Lệnh" in n for n in zf.namelist())
    empty = app.test_cli_runner().invoke(args=["generate", "--year", str(YEAR), "--cell", str(orgs["cell2"].id),
                                               "--as-user", "chanh", "--out", str(out)])
    assert empty.exit_code != 0 and "no_members" in empty.output


def test_job_page_names_members_that_failed(app, sess, orgs, staff):
    add_member(sess, orgs, "Đinh Văn Tốt", "9601")
    add_member(sess, orgs, "Đinh Thị Thiếu Ngày", "9602", date_of_birth=None)
    job_id = staff.post("/api/documents/bulk", json={"kind": "evaluation_sheet", "year": YEAR,
                                                     "selection": {"workplace_org_id": orgs["tax"].id},
                                                     "outputs": ["zip"]}).get_json()["id"]
    run_pending()
    page = staff.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert "Đã tạo 1 văn bản; 1 đảng viên không tạo được." in page
    assert "Đinh Thị Thiếu Ngày" in page and "Tải kết quả" in page


def test_letter_v2_prints_what_the_organisation_page_sets(app, sess, orgs, make_user, login, staff):
    admin = login(make_user("quantri"))
    resp = admin.post(f"/organisations/{orgs['tax'].id}/edit", data={
        "place": "thành phố hạ long", "secretary_name": "Trần Quốc Huy",
        "upper_body_name": "Đảng bộ Khối các cơ quan tỉnh", "document_code": "đu"})
    assert resp.status_code == 302
    page = admin.get(f"/organisations/{orgs['tax'].id}").get_data(as_text=True)
    for hint in ("In ở dòng ngày tháng", "In sau dấu «/» ở dòng số văn bản", "In bằng chữ in hoa ở dòng đầu"):
        assert hint in page, hint
    m = add_member(sess, orgs, "Nguyễn Thị Ánh Tuyết", "1001")
    intro = staff.post(f"/api/members/{m.id}/introductions").get_json()
    # version 3 (the active one) is version 2 with the slip's date in comb boxes
    assert intro["template_version"] == 3 and intro["reference"] == "01-GGT/ĐU"
    text = doc_text(staff.get(f"/api/introductions/{intro['id']}/document").data)
    assert "ĐẢNG BỘ KHỐI CÁC CƠ QUAN TỈNH" in text and "Số 01-GGT/ĐU" in text
    assert "Hạ Long, ngày " in text and "thành phố" not in text  # the place name, capitalised, no unit word
    assert "PHIẾU BÁO ĐÃ NHẬN ĐẢNG VIÊN" in text and "cuống" not in text.lower()
    assert text.count("BÍ THƯ") == 3 and "Trần Quốc Huy" in text  # issuer, residence receipt, slip


def test_number_suffix_comes_from_the_issuing_body(app, sess, orgs, staff, make_user, login):
    from service.models import Organisation
    grassroots_cell = Organisation(kind="workplace_committee", parent_id=orgs["province"].id, secretary_name="Lê Văn Ba")
    grassroots_cell.set_name("Chi bộ Trường Tiểu học Hồng Hà")
    sess.add(grassroots_cell)
    sess.commit()
    m = add_member(sess, orgs, "Phạm Văn Cơ", "2002", workplace="tax_cell")
    m.workplace_org_id = grassroots_cell.id
    sess.commit()
    admin = login(make_user("quantri"))
    intro = admin.post(f"/api/members/{m.id}/introductions").get_json()
    assert intro["reference"] == "01-GGT/CB"
    bad = admin.patch(f"/api/organisations/{grassroots_cell.id}", json={"document_code": "CB/X"})
    assert bad.status_code == 400 and bad.get_json()["error"]["code"] == "invalid_organisation"
    assert "Ký hiệu cơ quan trong số văn bản không hợp lệ: «CB/X»" in bad.get_json()["error"]["message"]
    sess.expire_all()
    assert sess.get(Organisation, grassroots_cell.id).document_code is None  # nothing changed
    assert admin.patch(f"/api/organisations/{grassroots_cell.id}", json={"document_code": "CBTH"}).status_code == 200
    assert admin.get(f"/api/introductions/{intro['id']}/document").status_code == 200
    assert admin.post(f"/api/members/{m.id}/introductions").get_json()["reference"] == "01-GGT/CBTH"


def test_warning_before_issuing_when_nobody_signs(app, sess, orgs, staff):
    m = add_member(sess, orgs, "Đỗ Thị Ký", "3003")
    check = staff.get(f"/api/members/{m.id}/introductions/check")
    assert check.status_code == 200
    warnings = check.get_json()["warnings"]
    assert [w["code"] for w in warnings] == ["no_signer"]
    assert warnings[0]["message"].startswith("Đảng ủy Cục Thuế tỉnh chưa có họ tên bí thư")
    page = staff.get(f"/members/{m.id}").get_data(as_text=True)
    assert 'id="issue-warning-no_signer"' in page and "data-confirm=" in page
    issued = staff.post(f"/api/members/{m.id}/introductions").get_json()
    assert [w["code"] for w in issued["warnings"]] == ["no_signer"]
    orgs["tax"].secretary_name = "Trần Quốc Huy"
    sess.commit()
    assert staff.get(f"/api/members/{m.id}/introductions/check").get_json()["warnings"] == []
    assert "issue-warning-no_signer" not in staff.get(f"/members/{m.id}").get_data(as_text=True)


def test_v1_letters_keep_their_template(app, sess, orgs, staff):
    orgs["tax"].secretary_name = "Trần Quốc Huy"
    sess.commit()
    m = add_member(sess, orgs, "Nguyễn Văn Cũ", "4004")
    intro = staff.post(f"/api/members/{m.id}/introductions").get_json()
    row = sess.get(Introduction, intro["id"])
    row.template_version = 1  # issued before version 2 was released
    sess.commit()
    text = doc_text(staff.get(f"/api/introductions/{intro['id']}/document").data)
    assert "PHIẾU BÁO ĐÃ TIẾP NHẬN ĐẢNG VIÊN" in text  # the v1 layout, as it was printed
