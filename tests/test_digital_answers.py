"""The residence cell's digital path (issue 11, item 7): a sheet answered online with a one-time
code or signed in goes through the same decision, apply and audit as a scanned page; a paper scan
and a digital answer with other answers for the same sheet are a conflict for review."""
from __future__ import annotations

import datetime as dt
import io
import re

import cv2
import pytest

from service.documents.contexts import evaluation_data
from service.jobs.inprocess import run_pending
from service.models import AnswerCode, AuditEntry, Evaluation, ScanPage
from service.qrkeys import signing_key
from tests.support.services import add_members_with_sheets

YEAR = 2026
ANSWERS = {"setting_example": "good_example", "citizen_duties": "exemplary", "meetings": "partial",
           "keeping_contact": "regular", "local_activities": "active", "cell_proposal": "no_proposal"}


@pytest.fixture
def members(sess, orgs):
    return add_members_with_sheets(sess, orgs, ["Nguyễn Văn Ánh", "Trần Thị Hường"], card_prefix="81",
                                   born=dt.date(1979, 3, 4), admitted=dt.date(2004, 1, 2), house="Số 9", year=YEAR)


@pytest.fixture
def staff(make_user, login, orgs):
    return login(make_user("thue", role="workplace_staff", organisation=orgs["tax"]))


def sheet_of(sess, member) -> Evaluation:
    ev = sess.query(Evaluation).filter_by(member_id=member.id, year=YEAR).one()
    sess.refresh(ev)
    return ev


def issue_code(client, serial: str) -> str:
    resp = client.post(f"/tra-loi/{serial}/ma", data={})
    assert resp.status_code == 200, resp.data[:300]
    match = re.search(r'id="new-code">([A-Z0-9-]+)<', resp.get_data(as_text=True))
    assert match, "the new code is shown once on the page"
    return match.group(1)


def form(answers: dict, remark: str = "") -> dict:
    return {**{f"a_{k}": v for k, v in answers.items()}, "other_remarks": remark}


def test_code_holder_answers_online_and_it_is_applied_with_audit(app, sess, members, staff):
    ev = sheet_of(sess, members[0])
    code = issue_code(staff, ev.sheet_serial)
    cell = app.test_client()  # the residence cell secretary, not signed in
    # without a code the sheet is not shown: the code entry page opens instead
    resp = cell.get(f"/tra-loi/{ev.sheet_serial}")
    assert resp.status_code == 302 and "/tra-loi/?serial=" in resp.headers["Location"]
    # a wrong code is refused with one message that does not say which part was wrong
    resp = cell.post("/tra-loi/", data={"serial": ev.sheet_serial, "code": "ABCDE-FGHJK"})
    assert resp.status_code == 400 and "mã trả lời không đúng" in resp.get_data(as_text=True)
    # the right code, typed in lower case with a space instead of the dash
    resp = cell.post("/tra-loi/", data={"serial": ev.sheet_serial.lower(), "code": code.lower().replace("-", " ")})
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/tra-loi/{ev.sheet_serial}")
    page = cell.get(f"/tra-loi/{ev.sheet_serial}").get_data(as_text=True)
    assert "Nguyễn Văn Ánh" in page and "Tham gia các cuộc họp định kỳ" in page and "Tham gia chưa đầy đủ" in page
    # one item left out: refused, naming the item, and nothing changes (the code stays usable)
    partial = {k: v for k, v in ANSWERS.items() if k != "meetings"}
    resp = cell.post(f"/tra-loi/{ev.sheet_serial}", data=form(partial))
    assert resp.status_code == 400 and "Mục 3" in resp.get_data(as_text=True)
    assert sheet_of(sess, members[0]).status == "issued"
    assert sess.query(AnswerCode).one().used_at is None
    assert "Tham gia các cuộc họp" in resp.get_data(as_text=True)  # the form again, with what was chosen
    # the whole sheet, with a remark
    resp = cell.post(f"/tra-loi/{ev.sheet_serial}", data=form(ANSWERS, "Vắng họp tháng 5 vì đi công tác."))
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200 and 'data-status="applied"' in body and "Đã ghi nhận" in body
    ev = sheet_of(sess, members[0])
    assert ev.status == "returned" and ev.answers == ANSWERS
    assert ev.other_remarks == "Vắng họp tháng 5 vì đi công tác." and ev.remarks_status == "transcribed"
    entry = sess.query(AuditEntry).filter_by(member_id=members[0].id, action="evaluation").one()
    assert entry.source == "digital" and ev.sheet_serial in entry.source_ref
    assert entry.user.username == "thue"  # applied as the person who issued the code
    row = sess.query(AnswerCode).one()
    assert row.used_at is not None and sess.get(ScanPage, row.page_id).status == "applied"
    # the code is used once
    resp = app.test_client().post("/tra-loi/", data={"serial": ev.sheet_serial, "code": code})
    assert resp.status_code == 409 and "đã được dùng" in resp.get_data(as_text=True)
    # the committee sees the answer as a page of the review screen, marked as online
    assert staff.get(f"/scans/pages/{row.page_id}").status_code == 200
    # and on the member's page, the year's answers say where they came from
    results = staff.get(f"/members/{members[0].id}").get_data(as_text=True).split('id="results"')[1]
    assert "chi bộ trả lời trực tuyến" in results and "Tham gia chưa đầy đủ" in results


def test_signed_in_cell_secretary_answers_and_another_cell_cannot(app, sess, orgs, members, make_user, login):
    ev = sheet_of(sess, members[1])
    outsider = login(make_user("bithu5", role="cell_secretary", organisation=orgs["other_cell"]))
    assert outsider.get(f"/tra-loi/{ev.sheet_serial}").status_code == 403
    resp = outsider.post(f"/tra-loi/{ev.sheet_serial}", data=form(ANSWERS))
    assert resp.status_code == 403 and sheet_of(sess, members[1]).status == "issued"
    assert outsider.post(f"/tra-loi/{ev.sheet_serial}/ma", data={}).status_code in (403, 404)
    secretary = login(make_user("bithu1", role="cell_secretary", organisation=orgs["cell1"]))
    assert secretary.get(f"/tra-loi/{ev.sheet_serial}").status_code == 200
    resp = secretary.post(f"/tra-loi/{ev.sheet_serial}", data=form(ANSWERS))
    assert 'data-status="applied"' in resp.get_data(as_text=True)
    ev = sheet_of(sess, members[1])
    assert ev.status == "returned" and ev.answers == ANSWERS
    entry = sess.query(AuditEntry).filter_by(member_id=members[1].id, action="evaluation").one()
    assert entry.source == "digital" and entry.user.username == "bithu1"


def test_new_code_revokes_the_old_one_and_a_voided_sheet_gets_none(app, sess, members, staff):
    ev = sheet_of(sess, members[0])
    first = issue_code(staff, ev.sheet_serial)
    second = issue_code(staff, ev.sheet_serial)
    client = app.test_client()
    resp = client.post("/tra-loi/", data={"serial": ev.sheet_serial, "code": first})
    assert resp.status_code == 409 and "thu hồi" in resp.get_data(as_text=True)
    assert client.post("/tra-loi/", data={"serial": ev.sheet_serial, "code": second}).status_code == 302
    # the sheet is voided and replaced: its code no longer opens anything
    assert staff.post(f"/documents/sheets/{ev.id}/void", data={"reason": "Phiếu bị rách"}).status_code in (200, 302)
    resp = client.post(f"/tra-loi/{ev.sheet_serial}", data=form(ANSWERS))
    assert resp.status_code == 302 and "/tra-loi/?serial=" in resp.headers["Location"]
    resp = client.post("/tra-loi/", data={"serial": ev.sheet_serial, "code": second})
    assert resp.status_code == 409 and "đã bị hủy" in resp.get_data(as_text=True)
    assert all(e.answers is None for e in sess.query(Evaluation).filter_by(member_id=members[0].id))


def test_paper_scan_after_an_online_answer_with_other_answers_is_a_conflict(app, sess, members, staff):
    from tests.support import synthetic_sheets as synthetic
    ev = sheet_of(sess, members[0])
    code = issue_code(staff, ev.sheet_serial)
    cell = app.test_client()
    cell.post("/tra-loi/", data={"serial": ev.sheet_serial, "code": code})
    cell.post(f"/tra-loi/{ev.sheet_serial}", data=form(ANSWERS))
    assert sheet_of(sess, members[0]).status == "returned"
    # the paper sheet comes back too, marked otherwise (item 6: "Biểu dương")
    source = synthetic.render_sources([evaluation_data(ev)], mark_key=signing_key())[0]
    paper = {**ANSWERS, "cell_proposal": "commend"}
    img, _ = synthetic.make_page(source, seed=5, level="light",
                                 fill_kw={"allowed_styles": ("tick", "cross", "fill"), "scribble_items": 0,
                                          "answers": paper})
    ok, buf = cv2.imencode(".png", img)
    resp = staff.post("/api/scans", data={"files": [(io.BytesIO(buf.tobytes()), "phieu.png")], "auto_apply": "1"},
                      content_type="multipart/form-data")
    assert resp.status_code == 202
    run_pending()
    batch = staff.get(f"/api/scans/{resp.get_json()['id']}").get_json()
    page = batch["pages"][0]
    assert page["status"] == "conflict", page
    assert any(p["code"] == "sheet_already_applied" for p in page["problems"])
    assert sheet_of(sess, members[0]).answers == ANSWERS  # the machine did not choose between them


def test_qr_printed_as_a_link_opens_the_sheet_and_still_reads(app, sess, members, staff, make_user, login):
    """With QR_LINK_BASE the sheet's QR is a link a phone camera opens; a scan of it is still identified."""
    from ocr import qr as ocr_qr
    from tests.support import synthetic_sheets as synthetic
    app.config["QR_LINK_BASE"] = "https://noicutru.example.vn/tra-loi/qr"
    ev = sheet_of(sess, members[0])
    source = synthetic.render_sources([evaluation_data(ev)], mark_key=signing_key())[0]
    img, truth = synthetic.make_page(source, seed=7, level="light",
                                     fill_kw={"allowed_styles": ("tick", "cross", "fill"), "scribble_items": 0})
    gray = img if img.ndim == 2 else cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
    texts = [text for text, _corners, _angle in ocr_qr.decode(gray, try_harder=True)]
    assert texts and texts[0].startswith("https://noicutru.example.vn/tra-loi/qr?c=")
    # the link, opened by the residence cell secretary's phone (signed in), leads to the sheet
    secretary = login(make_user("bithu1", role="cell_secretary", organisation=members[0].residence_cell))
    resp = secretary.get("/tra-loi/qr?" + texts[0].split("?", 1)[1])
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/tra-loi/{ev.sheet_serial}")
    # a link whose payload was altered leads nowhere
    forged = texts[0].replace(ev.sheet_serial, ev.sheet_serial[:-1] + "9")
    assert secretary.get("/tra-loi/qr?" + forged.split("?", 1)[1]).status_code == 404
    # the scanned paper sheet with the link QR is identified and applied as before
    ok, buf = cv2.imencode(".png", img)
    resp = staff.post("/api/scans", data={"files": [(io.BytesIO(buf.tobytes()), "phieu.png")], "auto_apply": "1"},
                      content_type="multipart/form-data")
    run_pending()
    page = staff.get(f"/api/scans/{resp.get_json()['id']}").get_json()["pages"][0]
    assert page["qr_valid"] and page["status"] == "applied", page
    assert sheet_of(sess, members[0]).answers == truth["answers"]


def test_codes_for_a_whole_cell_are_issued_once_within_scope(app, sess, orgs, members, staff, make_user, login):
    page = staff.get("/tra-loi/ma-chi-bo?year=2026").get_data(as_text=True)
    assert "Chi bộ khu phố 1" in page
    resp = staff.post("/tra-loi/ma-chi-bo", data={"cell_id": orgs["cell1"].id, "year": "2026"})
    body = resp.get_data(as_text=True)
    found = re.findall(r'<td class="code">([A-Z0-9-]+)</td>', body)
    assert len(found) == 2 and "Nguyễn Văn Ánh" in body and "Trần Thị Hường" in body
    serials = re.findall(r"<td>(2026-\d+-\d+)</td>", body)
    client = app.test_client()
    assert client.post("/tra-loi/", data={"serial": serials[1], "code": found[1]}).status_code == 302
    # another committee does not see the cell and cannot issue codes for its sheets
    other = login(make_user("benhvien", role="workplace_staff", organisation=orgs["hospital"]))
    assert "Chi bộ khu phố 1" not in other.get("/tra-loi/ma-chi-bo").get_data(as_text=True)
    before = sess.query(AnswerCode).count()
    resp = other.post("/tra-loi/ma-chi-bo", data={"cell_id": orgs["cell1"].id, "year": "2026"})
    assert "Chọn chi bộ nơi cư trú" in resp.get_data(as_text=True) and sess.query(AnswerCode).count() == before
