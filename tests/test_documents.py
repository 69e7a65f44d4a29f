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
    assert intro["number"] == 1 and intro["reference"] == "1-GGT/ĐU"
    again = staff.post(f"/api/members/{m.id}/introductions").get_json()
    assert again["id"] == intro["id"] and again["number"] == 1  # a reprint keeps its number
    text = doc_text(staff.get(f"/api/introductions/{intro['id']}/document").data)
    for expected in ("GIẤY GIỚI THIỆU", "ĐẢNG CỘNG SẢN VIỆT NAM", "Số 1-GGT/ĐU", "Nguyễn Thị Ánh Tuyết", "02/09/1985",
                     "19/05/2010", "Chi bộ Phòng Kiểm tra", "ĐẢNG ỦY PHƯỜNG HỒNG HÀ", "Chi bộ khu phố 1",
                     "Số 18 đường Nguyễn Văn Cừ", "Trần Quốc Huy", "ĐẢNG ỦY CỤC THUẾ TỈNH", "Hạ Long", "213-QĐ/TW"):
        assert expected in text, expected
    import unicodedata
    assert unicodedata.normalize("NFC", text) == text
    page = staff.get(f"/members/{m.id}").get_data(as_text=True)
    assert "1-GGT/ĐU" in page  # in the member's history


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
    assert old["template_version"] == 1

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
    assert [t["version"] for t in admin.get("/api/templates").get_json()["items"] if t["kind"] == "evaluation_sheet"] == [1]

    good = upload((TEMPLATES_DIR / "evaluation_sheet.v1.docx").read_bytes(), "phieu-tinh.docx")
    assert good.status_code == 201 and good.get_json()["version"] == 2
    other = add_member(sess, orgs, "Hồ Văn Mới", "9102")
    new = admin.post(f"/api/members/{other.id}/evaluations", json={"year": YEAR}).get_json()
    assert new["template_version"] == 2
    sess.expire_all()
    assert sess.get(Evaluation, old["id"]).template_version == 1  # a sheet keeps the version it was made with
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
