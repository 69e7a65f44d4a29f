"""Returned sheets read from scans: automatic updates, review, duplicates, conflicts, undo, bad files."""
from __future__ import annotations

import datetime as dt
import io

import cv2
import numpy as np
import pytest

from tests.support.services import add_members_with_sheets

from service import db
from service.jobs.inprocess import run_pending
from service.documents.contexts import evaluation_data
from service.qrkeys import signing_key
from service.models import AuditEntry, Evaluation, ScanBatch, ScanPage

YEAR = 2026

# marks that leave nothing in doubt (a circled box or a correction always goes to review)
CLEAN = {"allowed_styles": ("tick", "cross", "fill"), "scribble_items": 0}


def png(img: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".png", img)
    return buf.tobytes()


def jpeg(img: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 85])
    return buf.tobytes()


@pytest.fixture
def members(sess, orgs):
    return add_members_with_sheets(sess, orgs, ["Nguyễn Văn Ánh", "Trần Thị Hường", "Lê Đức Thắng"], card_prefix="90",
                                   born=dt.date(1980, 3, 4),
                                   admitted=dt.date(2005, 1, 2), house="Số 5", year=YEAR)


@pytest.fixture
def sources(app, sess, members):
    """Each member's real sheet (serial and signed QR from this installation), rendered once."""
    from tests.support import synthetic_sheets as synthetic
    records = [evaluation_data(sess.query(Evaluation).filter_by(member_id=m.id).one()) for m in members]
    return synthetic.render_sources(records, mark_key=signing_key())


@pytest.fixture
def staff(make_user, login, orgs):
    return login(make_user("thue", role="workplace_staff", organisation=orgs["tax"]))


def upload(client, files, auto="1"):
    data = {"files": [(io.BytesIO(b), n) for n, b in files], "auto_apply": auto}
    resp = client.post("/api/scans", data=data, content_type="multipart/form-data")
    assert resp.status_code == 202, resp.get_json()
    run_pending()
    job = client.get(f"/api/jobs/{resp.get_json()['job_id']}").get_json()
    assert job["state"] == "done", job
    return client.get(f"/api/scans/{resp.get_json()['id']}").get_json()


def test_confident_page_is_applied_with_audit_and_undo_restores(app, sess, sources, staff, members):
    from tests.support import synthetic_sheets as synthetic
    img, truth = synthetic.make_page(sources[0], seed=11, level="light", fill_kw=CLEAN)
    batch = upload(staff, [("phieu-1.jpg", jpeg(img))])
    page = batch["pages"][0]
    assert page["status"] == "applied", page
    ev = sess.query(Evaluation).filter_by(member_id=members[0].id).one()
    sess.refresh(ev)
    assert ev.status == "returned" and ev.answers == truth["answers"]
    audit = sess.query(AuditEntry).filter_by(member_id=members[0].id, action="evaluation").one()
    assert audit.source == "scan" and "phieu-1.jpg" in audit.source_ref
    # The same file again adds nothing new.
    again = upload(staff, [("phieu-1-lan-2.jpg", jpeg(img))])
    assert again["pages"][0]["status"] == "duplicate"
    # Undo puts the evaluation back and the page waits for review.
    undone = staff.post(f"/api/scan-pages/{page['id']}/undo").get_json()
    assert undone["status"] == "review"
    sess.refresh(ev)
    assert ev.status == "issued" and ev.answers is None


def test_second_scan_with_other_answers_is_a_conflict(app, sess, sources, staff):
    from tests.support import synthetic_sheets as synthetic
    first, truth = synthetic.make_page(sources[1], seed=3, level="light", fill_kw=CLEAN)
    upload(staff, [("a.png", png(first))])
    items = list(truth["answers"])
    other = {k: v for k, v in truth["answers"].items()}
    definition_items = {i.key: i for i in sources[1].layout.choice_items()}
    key = items[0]
    options = [o.key for o in definition_items[key].options]
    other[key] = next(o for o in options if o != truth["answers"][key])
    second, _ = synthetic.make_page(sources[1], seed=4, level="light", fill_kw={**CLEAN, "answers": other})
    batch = upload(staff, [("b.png", png(second))])
    page = batch["pages"][0]
    assert page["status"] == "conflict"
    assert any(p["code"] == "sheet_already_applied" for p in page["problems"])


def test_forged_qr_is_flagged_and_never_applied(app, sess, sources, staff, members):
    from tests.support import synthetic_sheets as synthetic
    from forms import qrpayload
    forged_payload = qrpayload.sign("evaluation_sheet", 1, "2026-000001-1", "1", YEAR, b"x" * 32)
    img, _ = synthetic.make_page(sources[0], seed=5, level="light", fill_kw={**CLEAN, "qr_payload": forged_payload})
    batch = upload(staff, [("gia.png", png(img))])
    page = batch["pages"][0]
    assert page["status"] == "review" and page["qr_valid"] is False
    resp = staff.post(f"/api/scan-pages/{page['id']}/apply", json={})
    assert resp.status_code == 409 and resp.get_json()["error"]["code"] == "forged_sheet"
    ev = sess.query(Evaluation).filter_by(member_id=members[0].id).one()
    assert ev.status == "issued"


def test_unsure_page_waits_and_a_reviewer_corrects_it(app, sess, sources, staff, members):
    from tests.support import synthetic_sheets as synthetic
    item = sources[2].layout.choice_items()[1].key
    img, truth = synthetic.make_page(sources[2], seed=8, level="light", fill_kw={**CLEAN, "double_items": (item,)})
    page = upload(staff, [("doi.png", png(img))])["pages"][0]
    assert page["status"] == "review"
    answers = dict(truth["answers"])
    answers[item] = sources[2].layout.choice_items()[1].options[0].key
    applied = staff.post(f"/api/scan-pages/{page['id']}/apply",
                         json={"answers": answers, "other_remarks": "Gương mẫu ở khu phố"})
    assert applied.status_code == 200, applied.get_json()
    ev = sess.query(Evaluation).filter_by(member_id=members[2].id).one()
    sess.refresh(ev)
    assert ev.answers == answers and ev.other_remarks == "Gương mẫu ở khu phố"
    incomplete = dict(answers)
    incomplete.pop(item)


def test_bad_files_are_named_and_the_rest_goes_on(app, sess, sources, staff):
    from tests.support import synthetic_sheets as synthetic
    img, _ = synthetic.make_page(sources[0], seed=21, level="light", fill_kw=CLEAN)
    big = io.BytesIO()
    from PIL import Image
    Image.new("1", (20000, 20000)).save(big, "PNG")
    batch = upload(staff, [("rong.pdf", b""), ("trang-web.pdf", b"<!doctype html><html><body>Xin chao</body></html>"),
                           ("hong.pdf", b"%PDF-1.4\n1 0 obj garbage"), ("to.png", big.getvalue()),
                           ("trang-trang.png", png(synthetic.blank_page(1))), ("tot.png", png(img))])
    messages = " ".join(e["message"] for e in batch["file_errors"])
    assert "rong.pdf" in messages and "trang-web.pdf" in messages and "hong.pdf" in messages
    statuses = {p["file"]: p["status"] for p in batch["pages"]}
    assert statuses["tot.png"] == "applied" and statuses["trang-trang.png"] == "skipped"
    failed = " ".join(f["message"] for f in batch["summary"]["failed_pages"])
    assert "to.png" in messages + failed and "quá lớn" in messages + failed  # the 20,000 × 20,000 image
    assert "to.png" not in statuses


def test_too_many_pages_are_refused_before_any_work(app, sess, staff):
    import pypdfium2 as pdfium
    doc = pdfium.PdfDocument.new()
    for _ in range(2000):
        doc.new_page(595, 842)
    out = io.BytesIO()
    doc.save(out)
    resp = staff.post("/api/scans", data={"files": [(io.BytesIO(out.getvalue()), "kho.pdf")]},
                      content_type="multipart/form-data")
    body = resp.get_json()["error"]
    assert resp.status_code == 400 and body["code"] == "no_readable_files"  # no batch for nothing readable
    assert "2000 trang" in body["details"][0]["message"] and sess.query(ScanBatch).count() == 0


def test_review_screen_shows_outlined_page(app, sess, sources, staff):
    from tests.support import synthetic_sheets as synthetic
    item = sources[0].layout.choice_items()[0].key
    img, _ = synthetic.make_page(sources[0], seed=9, level="light", fill_kw={**CLEAN, "double_items": (item,)})
    page = upload(staff, [("xem.png", png(img))])["pages"][0]
    html = staff.get(f"/scans/pages/{page['id']}").get_data(as_text=True)
    assert "<rect class=\"field" in html and "Cập nhật (A)" in html
    image = staff.get(f"/scans/pages/{page['id']}/image.png")
    assert image.status_code == 200 and image.mimetype == "image/jpeg" and image.data[:3] == b"\xff\xd8\xff"


def _slip_scan(sess, intro, date, **kw) -> bytes:
    """The letter as the service prints it, ``date`` written by hand in the slip's boxes, scanned (PNG)."""
    from service.documents.render import render_record, to_pdf
    from service.documents.templates_store import form_definition, template_version
    from tests.support import slip_dates
    pdf = to_pdf("giay.docx", render_record(sess, intro))
    definition = form_definition(template_version(sess, "introduction_letter", intro.template_version))
    return png(slip_dates.scanned_slip(slip_dates.source_from_pdf(pdf, definition), date, **kw))


def test_returned_receipt_slip_marks_the_introduction_received_on_the_date_written(app, sess, members, staff):
    from service.models import Introduction
    intro_id = staff.post(f"/api/members/{members[0].id}/introductions").get_json()["id"]
    intro = sess.get(Introduction, intro_id)
    assert intro.template_version == 3  # the slip with comb boxes for the date
    intro.issued_on = dt.date(2026, 3, 2)
    sess.commit()
    written = dt.date(2026, 3, 7)
    scan = _slip_scan(sess, intro, written)
    # by default a person confirms the date read, which the review form offers pre-filled
    page = upload(staff, [("phieu-bao.png", scan)])["pages"][0]
    assert page["status"] == "review" and "received_date_to_confirm" in {p["code"] for p in page["problems"]}
    html = staff.get(f"/scans/pages/{page['id']}").get_data(as_text=True)
    assert f'value="{written.isoformat()}"' in html and "07/03/26" in html
    staff.post(f"/scans/pages/{page['id']}/reject")
    # with NOICUTRU_SLIP_DATE_AUTO on, the date read with confidence is applied by itself
    app.config["SLIP_DATE_AUTO"] = True
    page = upload(staff, [("phieu-bao-lan-2.png", scan + b"\0")])["pages"][0]
    assert page["kind"] == "introduction_receipt" and page["status"] == "applied", page["problems"]
    sess.refresh(intro)
    assert intro.received_on == written
    html = staff.get(f"/members/{members[0].id}").get_data(as_text=True)
    assert written.strftime("%d/%m/%Y") in html.split('id="introductions"')[1]
    again = upload(staff, [("phieu-bao-3.png", scan + b"\0\0")])["pages"][0]
    assert again["status"] == "duplicate"


def test_receipt_slip_with_a_doubt_waits_for_a_person_and_never_gets_an_invented_date(app, sess, members, staff):
    from service.models import Introduction, ScanPage
    intro_id = staff.post(f"/api/members/{members[0].id}/introductions").get_json()["id"]
    intro = sess.get(Introduction, intro_id)
    intro.issued_on = dt.date(2026, 3, 2)
    sess.commit()
    before_issue = dt.date(2026, 1, 27)
    pages = upload(staff, [("trong.png", _slip_scan(sess, intro, None)),
                           ("truoc-ngay-ky.png", _slip_scan(sess, intro, before_issue, seed=4))])["pages"]
    blank, early = sorted(pages, key=lambda p: p["id"])
    # a slip without a date, and one whose date comes before the letter: both wait, nothing recorded
    assert blank["status"] == "review" and "date_blank" in {p["code"] for p in blank["problems"]}, blank["problems"]
    assert early["status"] == "review", early["problems"]
    assert "received_date_implausible" in {p["code"] for p in early["problems"]}, early["problems"]
    sess.refresh(intro)
    assert intro.received_on is None
    # the reviewer sees the date read, pre-filled, beside the crop of the date line
    html = staff.get(f"/scans/pages/{early['id']}").get_data(as_text=True)
    assert f'value="{before_issue.isoformat()}"' in html and 'id="received-on-crop"' in html
    assert staff.get(f"/scans/pages/{early['id']}/crops/received_on.png").data[:4] == b"\x89PNG"
    # applying the blank slip asks for the date: no date is made up, nothing changes
    resp = staff.post(f"/api/scan-pages/{blank['id']}/apply", json={})
    assert resp.status_code == 400 and resp.get_json()["error"]["code"] == "received_date_required", resp.get_json()
    sess.refresh(intro)
    assert intro.received_on is None and sess.get(ScanPage, blank["id"]).status == "review"
    # today's date only when the reviewer says the slip carries none
    resp = staff.post(f"/api/scan-pages/{blank['id']}/apply", json={"confirm_today": True})
    assert resp.status_code == 200, resp.get_json()
    sess.refresh(intro)
    assert intro.received_on == dt.date.today()


def test_sheet_filled_on_a_computer_is_read_from_its_text_layer(app, sess, members, staff):
    from docx import Document
    from service.documents.render import render_record, to_pdf
    ev = sess.query(Evaluation).filter_by(member_id=members[1].id).one()
    doc = Document(io.BytesIO(render_record(sess, ev)))
    from service.scans.decide import items_of
    items = [i for i in items_of(sess, ev) if i.is_choice]
    picks = [0, 1, 2, 0, 1, 0]  # item 6 left on "Biểu dương": the "X" of "Xem xét xử lý" must not count
    chosen = {i.key: i.options[picks[n]].key for n, i in enumerate(items)}
    labels = {i.options[picks[n]].label for n, i in enumerate(items)}

    def paragraphs(tables):
        for table in tables:
            for row in table.rows:
                for cell in row.cells:
                    yield from cell.paragraphs
                    yield from paragraphs(cell.tables)

    for p in paragraphs(doc.tables):  # the cell types an X before each chosen option
        if p.text.strip() in labels and p.runs:
            p.runs[0].text = "X " + p.runs[0].text
    out = io.BytesIO()
    doc.save(out)
    pdf = to_pdf("dien-may.docx", out.getvalue())
    page = upload(staff, [("dien-tren-may.pdf", pdf)])["pages"][0]
    assert any(p["code"] == "text_layer" for p in page["problems"]), page
    assert page["answers"] == chosen
    assert page["status"] == "applied"


def test_command_line_scan_batch(app, sess, sources, make_user, tmp_path, members):
    from tests.support import synthetic_sheets as synthetic
    make_user("chanh")
    img, truth = synthetic.make_page(sources[1], seed=31, level="light", fill_kw=CLEAN)
    path = tmp_path / "lo-quet.png"
    path.write_bytes(png(img))
    empty = tmp_path / "rong.pdf"
    empty.write_bytes(b"")
    result = app.test_cli_runner().invoke(args=["scan", str(path), str(empty), "--as-user", "chanh"])
    assert result.exit_code == 0, result.output
    assert "rong.pdf" in result.output and "'applied': 1" in result.output
    ev = sess.query(Evaluation).filter_by(member_id=members[1].id).one()
    sess.refresh(ev)
    assert ev.answers == truth["answers"]


def test_job_page_of_a_scan_batch(app, sess, sources, staff):
    from tests.support import synthetic_sheets as synthetic
    img, _ = synthetic.make_page(sources[0], seed=41, level="light", fill_kw=CLEAN)
    batch = upload(staff, [("mot-trang.png", png(img))])
    assert batch["summary"]["file_errors"] == []
    page = staff.get(f"/jobs/{batch['job_id']}").get_data(as_text=True)
    assert "Các trang: đã cập nhật: 1." in page and "Không xử lý được" not in page
