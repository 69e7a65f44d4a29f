"""Scanned pages are applied only within the write scope of the reviewer AND of the uploader
(findings 2 and 3 of issue 13), never into the replacement of a voided sheet, and every apply
names who did it. Real scan pipeline: sheets rendered by docgen + LibreOffice, pages drawn by
tests/support/synthetic_sheets.py, read by Tesseract."""
from __future__ import annotations

import datetime as dt
import io

import cv2
import pytest
from sqlalchemy import func, select

from service.jobs.inprocess import run_pending
from service.documents.contexts import evaluation_data
from service.documents.sheets import ensure_sheet
from service.qrkeys import signing_key
from service.models import AuditEntry, Evaluation, Member, ScanPage

YEAR = 2026


def jpeg(img) -> bytes:
    return cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 85])[1].tobytes()


@pytest.fixture
def people(sess, orgs):
    """Two members of the tax office living in cell 1; one of the hospital living in cell 2."""
    rows = [("Nguyễn Văn Ánh", "tax_cell", "cell1"), ("Trần Thị Hường", "tax_cell", "cell1"),
            ("Lê Đức Thắng", "hospital", "cell2")]
    out = []
    for i, (name, work, cell) in enumerate(rows):
        m = Member(card_number=f"70{i}", workplace_org_id=orgs[work].id, residence_cell_id=orgs[cell].id,
                   gender="male", date_of_birth=dt.date(1980 + i, 3, 4), admission_date=dt.date(2005, 1, 2),
                   house="Số 5", commune="Phường Hồng Hà", province="Quảng Ninh", status="active")
        m.set_name(name)
        sess.add(m)
        out.append(m)
    sess.commit()
    for m in out:
        ensure_sheet(sess, m, YEAR)
    return out


@pytest.fixture
def sources(app, sess, people):
    from tests.support import synthetic_sheets as synthetic
    records = [evaluation_data(sess.query(Evaluation).filter_by(member_id=m.id).one()) for m in people]
    return synthetic.render_sources(records, mark_key=signing_key())


def page_of(source, seed=11):
    from tests.support import synthetic_sheets as synthetic
    # clean marks only: a circle or a correction always goes to a person (issue 9)
    img, truth = synthetic.make_page(source, seed=seed, level="light",
                                     fill_kw={"allowed_styles": ("tick", "cross", "fill"), "scribble_items": 0})
    return jpeg(img), truth


def upload(client, files, auto="1") -> dict:
    data = {"files": [(io.BytesIO(b), n) for n, b in files], "auto_apply": auto}
    resp = client.post("/api/scans", data=data, content_type="multipart/form-data")
    assert resp.status_code == 202, resp.get_json()
    run_pending()
    return client.get(f"/api/scans/{resp.get_json()['id']}").get_json()


def evaluations(sess) -> list[tuple]:
    sess.expire_all()
    return sess.execute(select(Evaluation.id, Evaluation.status, Evaluation.answers)
                        .order_by(Evaluation.id)).all()


def audit_count(sess, **where) -> int:
    sess.expire_all()
    return sess.scalar(select(func.count()).select_from(AuditEntry).filter_by(**where))


def test_staff_cannot_apply_a_page_to_a_member_of_another_organisation(app, sess, orgs, people, sources,
                                                                        make_user, login):
    hospital = make_user("benhvien", role="workplace_staff", organisation=orgs["hospital"])
    client = login(hospital)
    tax_member = people[0]
    assert client.get(f"/api/members/{tax_member.id}").status_code == 403
    # A page of the uploader's own member, kept for review, and a photo of anything.
    from tests.support import synthetic_sheets as synthetic
    own, _ = page_of(sources[2])
    batch = upload(client, [("cua-minh.jpg", own), ("anh.jpg", jpeg(synthetic.natural_image(3)))], auto="0")
    pages = {p["file"]: p for p in batch["pages"]}
    assert pages["cua-minh.jpg"]["status"] == "review" and pages["anh.jpg"]["status"] == "review"
    before, audits = evaluations(sess), audit_count(sess)
    answers = {"i1": "a"}
    for page in pages.values():
        resp = client.post(f"/api/scan-pages/{page['id']}/apply", json={"member_id": tax_member.id,
                                                                       "year": YEAR, "answers": answers})
        assert resp.status_code == 403 and resp.get_json()["error"]["code"] == "forbidden"
        assert tax_member.full_name not in resp.get_data(as_text=True)
        resp = client.post(f"/scans/pages/{page['id']}/apply", data={"member_id": tax_member.id, "year": YEAR})
        assert resp.status_code == 403
    assert evaluations(sess) == before and audit_count(sess) == audits
    assert {p.status for p in sess.scalars(select(ScanPage))} == {"review"}


def test_genuine_sheet_outside_the_uploaders_scope_is_never_applied_nor_named(app, sess, orgs, people, sources,
                                                                              make_user, login):
    hospital = make_user("benhvien", role="workplace_staff", organisation=orgs["hospital"])
    client = login(hospital)
    tax_member = people[0]
    before = evaluations(sess)
    data, _ = page_of(sources[0])
    page = upload(client, [("phieu-thue.jpg", data)])["pages"][0]
    assert page["status"] == "rejected" and page["problems"][0]["code"] == "outside_scope"
    assert page["member_id"] is None and page["sheet_serial"] is None
    serial = sess.query(Evaluation).filter_by(member_id=tax_member.id).one().sheet_serial
    for text in (client.get(f"/api/scan-pages/{page['id']}").get_data(as_text=True),
                 client.get(f"/scans/pages/{page['id']}").get_data(as_text=True)):
        assert tax_member.full_name not in text and serial not in text
    assert "ngoài phạm vi quyền của người tải lên" in client.get(f"/scans/pages/{page['id']}").get_data(as_text=True)
    assert client.post(f"/api/scan-pages/{page['id']}/apply", json={}).status_code in (403, 409)
    assert evaluations(sess) == before and audit_count(sess, action="evaluation") == 0


def test_cell_secretary_uploads_only_their_own_cells_returns(app, sess, orgs, people, sources, make_user, login):
    """A residence-cell secretary may upload scans: pages of members of their cell are applied as the
    cell's return (the audit entry names the secretary); pages of anyone else are never applied."""
    own_cell = make_user("bithu1", role="cell_secretary", organisation=orgs["cell1"])
    other_cell = make_user("bithu2", role="cell_secretary", organisation=orgs["cell2"])
    data, truth = page_of(sources[0])
    before = evaluations(sess)
    # Secretary of cell 2: the member lives in cell 1.
    outsider = login(other_cell)
    page = upload(outsider, [("phieu.jpg", data)])["pages"][0]
    assert page["status"] == "rejected" and page["problems"][0]["code"] == "outside_scope"
    assert evaluations(sess) == before and audit_count(sess, action="evaluation") == 0
    # Secretary of cell 1: applied automatically, as the secretary.
    secretary = login(own_cell)
    page = upload(secretary, [("phieu-lan-2.jpg", data)])["pages"][0]
    assert page["status"] == "applied", page
    ev = sess.query(Evaluation).filter_by(member_id=people[0].id).one()
    sess.refresh(ev)
    assert ev.status == "returned" and ev.answers == truth["answers"]
    entry = sess.scalars(select(AuditEntry).where(AuditEntry.action == "evaluation")).one()
    assert entry.user_id == own_cell.id and entry.job_id is not None and entry.member_id == people[0].id
    # Still read-only for the record itself.
    assert secretary.patch(f"/api/members/{people[0].id}", json={"phone": "0900"}).status_code == 403


def test_automatic_apply_is_recorded_as_the_uploader(app, sess, orgs, people, sources, make_user, login):
    staff = make_user("thue", role="workplace_staff", organisation=orgs["tax"])
    data, _ = page_of(sources[1])
    page = upload(login(staff), [("phieu.jpg", data)])["pages"][0]
    assert page["status"] == "applied"
    entry = sess.scalars(select(AuditEntry).where(AuditEntry.action == "evaluation")).one()
    assert entry.user_id == staff.id and entry.source == "scan" and entry.job_id is not None
    assert sess.get(ScanPage, page["id"]).decided_by == staff.id


def test_scan_of_a_voided_sheet_never_writes_its_replacement(app, sess, orgs, people, sources, make_user, login):
    staff = make_user("thue", role="workplace_staff", organisation=orgs["tax"])
    client = login(staff)
    old = sess.query(Evaluation).filter_by(member_id=people[0].id).one()
    data, _ = page_of(sources[0])  # the old sheet, printed before it was voided
    resp = client.post(f"/api/evaluations/{old.id}/void", json={"reason": "Phiếu bị mất"})
    replacement_id = resp.get_json()["replacement"]["id"]
    page = upload(client, [("phieu-cu.jpg", data)])["pages"][0]
    assert page["status"] == "conflict" and "sheet_voided" in [p["code"] for p in page["problems"]]
    before = evaluations(sess)
    for body in ({}, {"member_id": people[0].id, "year": YEAR}):
        resp = client.post(f"/api/scan-pages/{page['id']}/apply", json=body)
        assert resp.status_code == 409 and resp.get_json()["error"]["code"] == "sheet_voided"
        assert "đã bị hủy" in resp.get_json()["error"]["message"]
    resp = client.post(f"/scans/pages/{page['id']}/apply", data={"member_id": people[0].id})
    assert resp.status_code == 302  # back to the page, with the message
    assert evaluations(sess) == before
    replacement = sess.get(Evaluation, replacement_id)
    assert replacement.status == "issued" and replacement.answers is None
    # Rejecting it is audited with who did it.
    assert client.post(f"/api/scan-pages/{page['id']}/reject", json={"reason": "Phiếu đã hủy"}).status_code == 200
    entry = sess.scalars(select(AuditEntry).where(AuditEntry.entity_kind == "scan_page")).one()
    assert entry.action == "reject" and entry.user_id == staff.id and entry.after["reason"] == "Phiếu đã hủy"
