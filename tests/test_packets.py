"""The mailable packet per residence cell: the committee's numbered request letter (mẫu 3-213, part A)
then the cell's sheets, as .docx and PDF per cell, in a ZIP with one PDF to print everything.

Runs on SQLite and PostgreSQL, with the real LibreOffice converting.
"""
from __future__ import annotations

import datetime as dt
import io
import zipfile

import pypdfium2 as pdfium
import pytest
from docx import Document

from service.documents.packets import balanced_heading, cell_committee_name, members_for_year_run
from service.jobs.inprocess import run_pending
from service.models import CoverLetter, Evaluation, Job, Member
from tests.support.line_wraps import lone_wraps

YEAR = 2026
DEADLINE = "2026-12-15"


def add_member(sess, orgs, name, card, cell="cell1", workplace="tax_cell", **kw):
    m = Member(card_number=card, workplace_org_id=orgs[workplace].id,
               residence_cell_id=orgs[cell].id if cell else None, gender="female",
               date_of_birth=kw.pop("date_of_birth", dt.date(1985, 9, 2)), admission_date=dt.date(2010, 5, 19),
               house="Số 18 đường Nguyễn Văn Cừ", commune="Phường Hồng Hà", province="Quảng Ninh",
               status=kw.pop("status", "active"), **kw)
    m.set_name(name)
    sess.add(m)
    sess.commit()
    return m


def doc_text(data: bytes) -> str:
    doc = Document(io.BytesIO(data))
    parts = [p.text for p in doc.paragraphs]
    for t in doc.tables:
        for row in t.rows:
            parts.append(" | ".join(c.text for c in row.cells))
    return "\n".join(parts)


def pages(pdf: bytes) -> int:
    doc = pdfium.PdfDocument(pdf)
    try:
        return len(doc)
    finally:
        doc.close()


def pdf_text(pdf: bytes, page: int) -> str:
    doc = pdfium.PdfDocument(pdf)
    try:
        return doc[page].get_textpage().get_text_range()
    finally:
        doc.close()


@pytest.fixture
def staff(make_user, login, orgs):
    return login(make_user("thue", role="workplace_staff", organisation=orgs["tax"]))


@pytest.fixture
def people(sess, orgs):
    orgs["tax"].place, orgs["tax"].secretary_name = "Hạ Long", "Trần Quốc Huy"
    sess.commit()
    return {
        "anh": add_member(sess, orgs, "Nguyễn Văn Ánh", "9001", date_of_birth=dt.date(1971, 3, 4)),
        "huong": add_member(sess, orgs, "Trần Thị Hường", "9002", date_of_birth=dt.date(1980, 1, 2)),
        "thang": add_member(sess, orgs, "Lê Đức Thắng", "9003", cell="cell2"),
        "exempt": add_member(sess, orgs, "Phạm Ngọc Ước", "9004", status="exempt_meetings"),
        "gone": add_member(sess, orgs, "Hoàng Thị Yến", "9005", status="transferred"),
        "other": add_member(sess, orgs, "Vũ Thị Lan", "9006", workplace="hospital"),
    }


def run_job(client, body: dict) -> dict:
    resp = client.post("/api/documents/packets", json=body)
    assert resp.status_code == 202, resp.get_json()
    job_id = resp.get_json()["id"]
    run_pending()
    job = client.get(f"/api/jobs/{job_id}").get_json()
    assert job["state"] == "done", (job.get("error") or {}).get("details")
    return job


def test_members_for_year_run_leaves_exempt_members_out_and_lists_them(app, sess, orgs, people):
    run = members_for_year_run(sess, orgs["tax"].id, YEAR)
    assert [m.full_name for m in run.members] == ["Nguyễn Văn Ánh", "Trần Thị Hường", "Lê Đức Thắng"]
    assert [m.full_name for m in run.exempt] == ["Phạm Ngọc Ước"]
    assert [(c.name, len(ms)) for c, ms in run.cells()] == [("Chi bộ khu phố 1", 2), ("Chi bộ khu phố 2", 1)]


def test_one_packet_per_cell_with_the_letter_then_the_sheets(app, sess, orgs, people, staff):
    job = run_job(staff, {"committee_id": orgs["tax"].id, "year": YEAR, "return_deadline": DEADLINE})
    result = job["result"]
    assert result["cells"] == 2 and result["sheets"] == 3
    assert "Phạm Ngọc Ước" in result["summary"] and "miễn sinh hoạt nơi cư trú" in result["summary"]
    with zipfile.ZipFile(io.BytesIO(staff.get(f"/jobs/{job['id']}/result").data)) as zf:
        names = zf.namelist()
        docx = sorted(n for n in names if n.startswith("theo-chi-bo/") and n.endswith(".docx"))
        pdfs = sorted(n for n in names if n.startswith("theo-chi-bo/") and n.endswith(".pdf"))
        assert len(docx) == len(pdfs) == 2  # one .docx and one .pdf per residence cell
        assert all(not n.startswith("/") and ".." not in n for n in names)
        cell1 = next(n for n in docx if "khu phố 1" in n)
        text = doc_text(zf.read(cell1))
        # from the sending committee, to the cell
        assert "ĐẢNG ỦY CỤC THUẾ TỈNH" in text and "Đảng ủy Cục Thuế tỉnh trân trọng đề nghị" in text
        assert "Kính gửi:" in text and "Chi ủy khu phố 1" in text and "Đảng ủy phường Hồng Hà" in text
        assert "Số 01-CV/ĐU" in text or "Số 02-CV/ĐU" in text
        assert "ngày 15 tháng 12 năm 2026" in text  # the return deadline
        assert "Trần Quốc Huy" in text and "T/M ĐẢNG ỦY" in text
        # the list names exactly the cell's members, with birth year and sheet number
        sheets = {e.member.full_name: e.sheet_serial for e in sess.query(Evaluation).filter_by(year=YEAR)}
        assert set(sheets) == {"Nguyễn Văn Ánh", "Trần Thị Hường", "Lê Đức Thắng"}  # none for the exempt member
        rows = [r for r in text.splitlines() if sheets["Nguyễn Văn Ánh"] in r or sheets["Trần Thị Hường"] in r]
        assert any("Nguyễn Văn Ánh | 1971 | " + sheets["Nguyễn Văn Ánh"] in r for r in rows)
        assert "Tổng số: 2 đảng viên" in text
        assert "Lê Đức Thắng" not in text.split("Tổng số")[0] and "Phạm Ngọc Ước" not in text
        # then the sheets themselves (the letter is its own section: the sheets keep their corner marks)
        assert text.count("PHIẾU NHẬN XÉT") == 2
        assert Document(io.BytesIO(zf.read(cell1))).sections[-1].header.tables  # corner marks of the sheets
        # PDF: cover page(s) + one page per sheet; the print-all PDF is the sum
        counts = {n: pages(zf.read(n)) for n in pdfs}
        pdf1 = zf.read(next(n for n in pdfs if "khu phố 1" in n))
        assert counts[next(n for n in pdfs if "khu phố 1" in n)] == 1 + 2
        assert counts[next(n for n in pdfs if "khu phố 2" in n)] == 1 + 1
        assert "PHIẾU XIN Ý KIẾN" in pdf_text(pdf1, 0) and "PHIẾU NHẬN XÉT" in pdf_text(pdf1, 1)
        # each cell's PDF: its own letter, then its own sheets in order; the print PDF is them all in order
        pdf2 = zf.read(next(n for n in pdfs if "khu phố 2" in n))
        assert "Chi ủy khu phố 1" in pdf_text(pdf1, 0) and "Chi ủy khu phố 2" in pdf_text(pdf2, 0)
        assert "Nguyễn Văn Ánh" in pdf_text(pdf1, 1) and "Trần Thị Hường" in pdf_text(pdf1, 2)
        assert "PHIẾU NHẬN XÉT" in pdf_text(pdf2, 1) and "Lê Đức Thắng" in pdf_text(pdf2, 1)
        everything = zf.read(f"in-tat-ca-phieu-nhan-xet-{YEAR}.pdf")
        assert pages(everything) == sum(counts.values()) == result["pages"]
        assert [pdf_text(everything, k) for k in range(5)] == \
            [pdf_text(pdf1, k) for k in range(3)] + [pdf_text(pdf2, k) for k in range(2)]
        assert "Phạm Ngọc Ước" in zf.read("dang-vien-mien-sinh-hoat-noi-cu-tru.txt").decode()
        assert not lone_wraps(pdf1, pages=1)  # the letter (the sheets' own layout is checked with their template)
    assert "Mã trả lời" not in text and "trả lời trực tuyến" not in text  # no codes unless asked for
    # Printing again keeps each letter's number and date, and opens no second sheet; asked to print the
    # one-time answer codes, each letter lists a new code per sheet, and a code given out before is revoked.
    letters = {(c.residence_cell_id, c.number, c.issued_on) for c in sess.query(CoverLetter)}
    assert sorted(n for _, n, _ in letters) == [1, 2]
    serials = set(sheets.values())
    earlier = staff.post(f"/tra-loi/{sheets['Nguyễn Văn Ánh']}/ma", data={}).get_data(as_text=True)
    earlier = earlier.split('id="new-code">')[1].split("<")[0]
    page = staff.get(f"/documents/packets?committee_id={orgs['tax'].id}&year={YEAR}").get_data(as_text=True)
    assert 'name="answer_codes"' in page and "các mã đã in trước đó không dùng được nữa" in page
    job = run_job(staff, {"committee_id": orgs["tax"].id, "year": YEAR, "return_deadline": "2026-12-20",
                          "answer_codes": True})
    assert "in kèm mã trả lời trực tuyến" in job["result"]["summary"] and "đã bị thu hồi" in job["result"]["summary"]
    sess.expire_all()
    assert {(c.residence_cell_id, c.number, c.issued_on) for c in sess.query(CoverLetter)} == letters
    assert {e.sheet_serial for e in sess.query(Evaluation).filter_by(year=YEAR)} == serials
    assert {c.return_deadline for c in sess.query(CoverLetter)} == {dt.date(2026, 12, 20)}
    with zipfile.ZipFile(io.BytesIO(staff.get(f"/jobs/{job['id']}/result").data)) as zf:
        letter = Document(io.BytesIO(zf.read(next(n for n in zf.namelist() if "khu phố 1" in n and n.endswith(".docx")))))
        text = "\n".join(p.text for p in letter.paragraphs)
        codes_table = next(t for t in letter.tables if t.rows[0].cells[-1].text == "Mã trả lời")
        printed = {r.cells[3].text: r.cells[4].text for r in codes_table.rows[1:]}
        assert [r.cells[1].text for r in codes_table.rows[1:]] == ["Nguyễn Văn Ánh", "Trần Thị Hường"]
    assert set(printed) == {sheets["Nguyễn Văn Ánh"], sheets["Trần Thị Hường"]}
    assert "http://localhost/tra-loi/" in text and "nếu đảng ủy cấp lại, các mã cũ không dùng được nữa" in text
    client = app.test_client()  # the cell secretary, with the letter
    resp = client.post("/tra-loi/", data={"serial": sheets["Nguyễn Văn Ánh"], "code": earlier})
    assert resp.status_code == 409 and "thu hồi" in resp.get_data(as_text=True)
    resp = client.post("/tra-loi/", data={"serial": sheets["Nguyễn Văn Ánh"], "code": printed[sheets["Nguyễn Văn Ánh"]]})
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/tra-loi/{sheets['Nguyễn Văn Ánh']}")


def test_chosen_sheets_and_exempt_members_on_request(app, sess, orgs, people, staff):
    from service.documents.sheets import ensure_sheet
    ev = ensure_sheet(sess, people["thang"], YEAR)
    job = run_job(staff, {"committee_id": orgs["tax"].id, "year": YEAR, "sheet_ids": [ev.id]})
    assert job["result"]["cells"] == 1 and job["result"]["sheets"] == 1
    add_member(sess, orgs, "Bùi Thị Thiếu", "9010", cell="cell2", date_of_birth=None)  # its sheet cannot be made
    job = run_job(staff, {"committee_id": orgs["tax"].id, "year": YEAR, "include_exempt": True})
    assert job["result"]["sheets"] == 4 and not job["result"]["exempt"]
    assert [p for p in job["result"]["problems"] if "Bùi Thị Thiếu" in p]  # named; the cell's packet goes on
    assert job["result"]["cells"] == 2


def test_bad_requests_say_what_and_change_nothing(app, sess, orgs, people, staff):
    other = Evaluation(member_id=people["other"].id, year=YEAR, sheet_serial="2026-009006-1", status="issued")
    sess.add(other)
    sess.commit()
    cases = [
        ({"committee_id": orgs["tax"].id, "year": YEAR, "return_deadline": "2020-01-01"}, "deadline_not_after_issue",
         "Hạn gửi lại phiếu"),
        ({"committee_id": orgs["tax"].id, "year": YEAR, "sheet_ids": [other.id]}, "invalid_sheets",
         "phiếu số 2026-009006-1 không thuộc Đảng ủy Cục Thuế tỉnh"),
        ({"committee_id": orgs["cell1"].id, "year": YEAR}, "not_workplace_committee", "đảng ủy nơi công tác"),
    ]
    for body, code, words in cases:
        resp = staff.post("/api/documents/packets", json=body)
        assert resp.status_code == 400, resp.get_json()
        assert resp.get_json()["error"]["code"] == code and words in resp.get_json()["error"]["message"]
    page = staff.post("/documents/packets", data={"committee_id": str(orgs["tax"].id), "year": str(YEAR),
                                                  "return_deadline": "31/02/2026"})
    assert page.status_code == 400 and "Hạn gửi lại phiếu không hợp lệ" in page.get_data(as_text=True)
    assert "31/02/2026" in page.get_data(as_text=True)  # what was typed is kept
    assert sess.query(Job).count() == 0 and sess.query(CoverLetter).count() == 0


def test_only_the_committee_may_send_its_packets(app, sess, orgs, people, make_user, login):
    body = {"committee_id": orgs["tax"].id, "year": YEAR, "return_deadline": DEADLINE}
    other_cell = login(make_user("bithu5", role="cell_secretary", organisation=orgs["other_cell"]))
    own_cell = login(make_user("bithu1", role="cell_secretary", organisation=orgs["cell1"]))
    hospital = login(make_user("benhvien", role="workplace_staff", organisation=orgs["hospital"]))
    for client in (other_cell, own_cell, hospital):
        assert client.post("/api/documents/packets", json=body).status_code == 403
        assert client.get(f"/api/documents/packets/run?committee_id={orgs['tax'].id}&year={YEAR}").status_code == 403
        assert client.post("/documents/packets", data={k: str(v) for k, v in body.items()}).status_code == 403
    assert other_cell.get("/documents/packets").status_code == 403
    assert sess.query(Job).count() == 0 and sess.query(Evaluation).count() == 0


def test_start_page_shows_the_run_then_starts_the_job(app, sess, orgs, people, staff):
    page = staff.get(f"/documents/packets?committee_id={orgs['tax'].id}&year={YEAR}").get_data(as_text=True)
    assert "Chi bộ khu phố 1" in page and "Phạm Ngọc Ước" in page and "miễn sinh hoạt nơi cư trú" in page
    assert "Lê Đức Thắng" not in page  # counts per cell, no internal list of everyone
    resp = staff.post("/documents/packets", data={"committee_id": str(orgs["tax"].id), "year": str(YEAR),
                                                  "return_deadline": "15/12/2026"})
    assert resp.status_code == 302 and "/jobs/" in resp.headers["Location"]
    run_pending()
    detail = staff.get(resp.headers["Location"]).get_data(as_text=True)
    assert "Đã lập 2 bộ phiếu" in detail and "Tải kết quả" in detail


def test_hostile_names_print_as_written(app, sess, orgs, staff):
    orgs["tax"].place = "Hạ Long"
    sess.commit()
    add_member(sess, orgs, 'Lê <b>"Ánh" & Co</b> =1+1', "9101")
    job = run_job(staff, {"committee_id": orgs["tax"].id, "year": YEAR, "return_deadline": DEADLINE})
    with zipfile.ZipFile(io.BytesIO(staff.get(f"/jobs/{job['id']}/result").data)) as zf:
        name = next(n for n in zf.namelist() if n.endswith(".docx"))
        packet = zf.read(name)
        assert 'Lê <b>"Ánh" & Co</b> =1+1' in doc_text(packet)
        with zipfile.ZipFile(io.BytesIO(packet)) as inner:
            rels = "".join(inner.read(n).decode() for n in inner.namelist() if n.endswith(".rels"))
        assert 'TargetMode="External"' not in rels


def test_headings_split_into_two_balanced_lines():
    assert balanced_heading("Đảng ủy Cục Thuế tỉnh") == "ĐẢNG ỦY CỤC THUẾ TỈNH"
    first, second = balanced_heading("Đảng ủy Bệnh viện Đa khoa tỉnh Quảng Ninh").split("\n")
    assert abs(len(first) - len(second)) <= 6 and len(second.split()) >= 2
    assert cell_committee_name("Chi bộ Tổ dân phố số 12") == "Chi ủy Tổ dân phố số 12"


def test_the_wrap_check_sees_a_lone_word_and_the_letter_has_none():
    """The check finds the lone 'TRƯỜNG' a one-line heading leaves; the balanced heading leaves none."""
    from docgen import find_template, render_document, samples
    from docgen.pdf import convert_to_pdf
    template = find_template("cover_letter").template_path
    name = "Đảng ủy Sở Tài nguyên và Môi trường"
    unbalanced = render_document(template, samples.cover_letter(issuing_committee_name=name,
                                                                issuing_committee_heading=name.upper()))
    long_names = [render_document(template, samples.cover_letter(
        n_members=20, issuing_committee_name=n, issuing_committee_heading=balanced_heading(n)))
        for n in (name, "Đảng ủy Trường Đại học Sư phạm Kỹ thuật Thành phố Hồ Chí Minh")]
    pdfs = convert_to_pdf([("a.docx", unbalanced)] + [(f"b{i}.docx", d) for i, d in enumerate(long_names)])
    assert any("TRƯỜNG" in line for line in lone_wraps(pdfs[0]))
    for pdf in pdfs[1:]:
        assert lone_wraps(pdf) == []
