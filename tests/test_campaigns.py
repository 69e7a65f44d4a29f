"""The year-end campaign end to end, on SQLite and PostgreSQL: generate, mark sent, sheets back by
scan (clean synthetic marks) and by hand, a remark that keeps a sheet from counting as applied
until it is typed or marked unreadable, the overdue list, a reminder letter, the Excel export."""
from __future__ import annotations

import datetime as dt
import io

import cv2
import pytest
from docx import Document
from openpyxl import load_workbook

from service.documents.contexts import evaluation_data
from service.jobs.inprocess import run_pending
from service.models import (AuditEntry, Campaign, CampaignReminder, CampaignSheet, Evaluation, Job, Member)
from service.qrkeys import signing_key

YEAR = 2026
CLEAN = {"allowed_styles": ("tick", "cross", "fill"), "scribble_items": 0}  # nothing a person must decide
DEADLINE = "01/12/2026"  # before today (the tests run after it): what is not back is overdue


def jpeg(img) -> bytes:
    return cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 85])[1].tobytes()


def add_member(sess, orgs, name, cell, card, *, status="active", born=dt.date(1980, 3, 4)):
    m = Member(card_number=card, workplace_org_id=orgs["tax_cell"].id, residence_cell_id=orgs[cell].id,
               gender="male", date_of_birth=born, admission_date=dt.date(2005, 1, 2), house="Số 5",
               commune="Phường Hồng Hà", province="Quảng Ninh", status=status)
    m.set_name(name)
    sess.add(m)
    return m


@pytest.fixture
def people(sess, orgs):
    """Six members of the tax office in three residence cells, one exempt from residence meetings,
    and one of the hospital (another committee: never in the tax office's campaign)."""
    out = {
        "anh": add_member(sess, orgs, "Nguyễn Văn Ánh", "cell1", "9101", born=dt.date(1980, 3, 4)),
        "huong": add_member(sess, orgs, "Trần Thị Hường", "cell1", "9102", born=dt.date(1981, 4, 5)),
        "thang": add_member(sess, orgs, "Lê Đức Thắng", "cell1", "9103", born=dt.date(1982, 5, 6)),
        "dung": add_member(sess, orgs, "Phạm Thị Dung", "cell2", "9104"),
        "hai": add_member(sess, orgs, "Hoàng Minh Hải", "cell2", "9105"),
        "lan": add_member(sess, orgs, "Vũ Ngọc Lan", "other_cell", "9106"),
        "mien": add_member(sess, orgs, "Đỗ Văn Miễn", "cell2", "9107", status="exempt_meetings"),
    }
    other = Member(card_number="9108", workplace_org_id=orgs["hospital"].id, residence_cell_id=orgs["cell1"].id,
                   date_of_birth=dt.date(1970, 1, 1), admission_date=dt.date(2000, 1, 1), status="active")
    other.set_name("Bệnh Viện Khác")
    sess.add(other)
    sess.commit()
    return out


@pytest.fixture
def staff(make_user, login, orgs):
    return login(make_user("thue", role="workplace_staff", organisation=orgs["tax"]))


def start_campaign(staff, orgs) -> int:
    resp = staff.post("/campaigns/", data={"workplace_org_id": orgs["tax"].id, "year": str(YEAR), "deadline": DEADLINE})
    assert resp.status_code == 302, resp.data[:2000]
    campaign_id = int(resp.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    run_pending()
    return campaign_id


def upload_scans(client, files) -> dict:
    resp = client.post("/api/scans", data={"files": [(io.BytesIO(b), n) for n, b in files], "auto_apply": "1"},
                       content_type="multipart/form-data")
    assert resp.status_code == 202, resp.get_json()
    run_pending()
    job = client.get(f"/api/jobs/{resp.get_json()['job_id']}").get_json()
    assert job["title"] == f"Đọc bản quét — lô #{resp.get_json()['id']}, {len(files)} tệp"  # each job says what it is
    return client.get(f"/api/scans/{resp.get_json()['id']}").get_json()


def test_campaign_end_to_end(app, sess, orgs, people, staff):
    from tests.support import synthetic_sheets as synthetic
    # Bad input: a clear Vietnamese message naming the field, and nothing created.
    bad = staff.post("/campaigns/", data={"workplace_org_id": orgs["tax"].id, "year": str(YEAR), "deadline": "31/02/2026"})
    assert bad.status_code == 400 and "Hạn gửi lại phiếu không hợp lệ" in bad.get_data(as_text=True)
    assert sess.query(Campaign).count() == 0 and sess.query(Job).count() == 0

    campaign_id = start_campaign(staff, orgs)
    campaign = sess.get(Campaign, campaign_id)
    job = sess.get(Job, campaign.job_id)
    assert job.state == "done" and job.result["made"] == 6, job.result
    # The job says what it is.
    page = staff.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert "Phiếu nhận xét 2026 — Đảng ủy Cục Thuế tỉnh" in page and "Tải kết quả" in page
    # Exempt members (HD 33) are left out and listed apart; the other committee's member is not there.
    in_campaign = {s.member_id for s in sess.query(CampaignSheet).filter_by(campaign_id=campaign_id)}
    assert in_campaign == {m.id for k, m in people.items() if k != "mien"}
    assert sess.query(Evaluation).filter_by(member_id=people["mien"].id).count() == 0
    screen = staff.get(f"/campaigns/{campaign_id}").get_data(as_text=True)
    assert "Đỗ Văn Miễn" in screen.split('id="exempt-list"')[1] and "Bệnh Viện Khác" not in screen

    state = staff.get(f"/api/campaigns/{campaign_id}").get_json()
    assert state["totals"]["total"] == 6 and state["totals"]["generated"] == 6 and state["totals"]["sent"] == 0

    # Printed and sent, with the date.
    resp = staff.post(f"/campaigns/{campaign_id}/sent", data={"sent_on": "05/11/2026"})
    assert resp.status_code == 302
    assert {s.sent_on for s in sess.query(CampaignSheet).filter_by(campaign_id=campaign_id)} == {dt.date(2026, 11, 5)}

    # Two sheets of cell 1 come back scanned: clean marks, one with a handwritten remark in item 7.
    evs = {k: sess.query(Evaluation).filter_by(member_id=people[k].id, year=YEAR).one() for k in ("anh", "huong")}
    sources = synthetic.render_sources([evaluation_data(evs[k]) for k in ("anh", "huong")], mark_key=signing_key())
    img_a, truth_a = synthetic.fill(sources[0], seed=21, remarks=False, **CLEAN)
    img_h, _truth_h = synthetic.fill(sources[1], seed=22, remarks=True, **CLEAN)
    batch = upload_scans(staff, [("anh.jpg", jpeg(img_a)), ("huong.jpg", jpeg(img_h))])
    assert [p["status"] for p in batch["pages"]] == ["applied", "applied"], batch["pages"]

    # One comes back by hand (cell 2), typed in from the paper: the form has the sheet's own items.
    form = staff.get(f"/campaigns/{campaign_id}/members/{people['dung'].id}/return").get_data(as_text=True)
    assert "Phạm Thị Dung" in form and all(f'name="a_{k}"' in form for k in truth_a["answers"])
    items = [k for k in truth_a["answers"]]
    answers = {f"a_{k}": v for k, v in truth_a["answers"].items()}
    resp = staff.post(f"/campaigns/{campaign_id}/members/{people['dung'].id}/return",
                      data={**answers, "received_on": "20/11/2026", "other_remarks": "Gương mẫu ở khu phố"})
    assert resp.status_code == 302
    # An incomplete return by hand is refused, saying which item, and changes nothing.
    half = {f"a_{items[0]}": truth_a["answers"][items[0]]}
    before = staff.get(f"/api/campaigns/{campaign_id}").get_json()["totals"]
    resp = staff.post(f"/campaigns/{campaign_id}/members/{people['hai'].id}/return", data=half, follow_redirects=True)
    assert "Mục 2" in resp.get_data(as_text=True) and "chưa có lựa chọn hợp lệ" in resp.get_data(as_text=True)
    assert staff.get(f"/api/campaigns/{campaign_id}").get_json()["totals"] == before

    dung = sess.query(Evaluation).filter_by(member_id=people["dung"].id).one()
    sess.refresh(dung)
    assert dung.status == "returned" and dung.answers == truth_a["answers"] and dung.returned_on == dt.date(2026, 11, 20)
    assert sess.query(AuditEntry).filter_by(member_id=people["dung"].id, action="evaluation").one().source == "ui"

    # Returned: 2 scans + 1 by hand. Applied: only sheets whose remark does not wait (Hường's has writing;
    # the reader may also be unsure that Ánh's remark area is empty, and then a person looks at it too).
    for ev in evs.values():
        sess.refresh(ev)
    assert evs["huong"].remarks_status == "pending" and evs["huong"].remarks_file_id
    waiting = [k for k, ev in evs.items() if ev.remarks_status == "pending"]
    state = staff.get(f"/api/campaigns/{campaign_id}").get_json()
    totals = state["totals"]
    assert (totals["returned"], totals["applied"], totals["remarks_pending"], totals["overdue"]) == \
        (3, 3 - len(waiting), len(waiting), 3)
    cells = {c["cell"]: c for c in state["cells"]}
    assert (cells["Chi bộ khu phố 1"]["returned"], cells["Chi bộ khu phố 1"]["applied"],
            cells["Chi bộ khu phố 1"]["overdue"]) == (2, 2 - len(waiting), 1)
    assert cells["Chi bộ khu phố 2"]["returned"] == 1 and cells["Chi bộ khu phố 2"]["applied"] == 1
    assert cells["Chi bộ khu phố 5"]["overdue"] == 1

    # The remark nobody can read: "Không đọc được" keeps the crop and closes it; the sheet now counts as applied.
    queue = staff.get("/scans/transcriptions/").get_data(as_text=True)
    assert "Không đọc được" in queue
    for k in waiting:
        ev = evs[k]
        resp = staff.post(f"/scans/transcriptions/{ev.id}/unreadable")
        assert resp.status_code == 302
        sess.refresh(ev)
        assert ev.remarks_status == "unreadable" and ev.remarks_file_id and "Không đọc được" in ev.other_remarks
        assert staff.get(f"/scans/transcriptions/{ev.id}/crop.png").status_code == 200  # the crop stays on the record
    assert "queue-empty" in staff.get("/scans/transcriptions/").get_data(as_text=True)
    again = staff.post(f"/api/transcriptions/{evs['huong'].id}/unreadable")
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "remark_not_pending"
    totals = staff.get(f"/api/campaigns/{campaign_id}").get_json()["totals"]
    assert (totals["returned"], totals["applied"], totals["remarks_pending"]) == (3, 3, 0)

    # The overdue list: the three not returned, filterable by cell; the screen shows the progress bar.
    screen = staff.get(f"/campaigns/{campaign_id}?state=overdue").get_data(as_text=True)
    listed = screen.split('id="missing-list"')[1]
    for k in ("thang", "hai", "lan"):
        assert people[k].full_name in listed
    for k in ("anh", "huong", "dung"):
        assert people[k].full_name not in listed
    assert '<progress id="campaign-progress"' in screen and 'value="3"' in screen and "style=" not in screen
    only_cell1 = staff.get(f"/campaigns/{campaign_id}?cell={orgs['cell1'].id}").get_data(as_text=True)
    listed = only_cell1.split('id="missing-list"')[1]
    assert "Lê Đức Thắng" in listed and "Hoàng Minh Hải" not in listed

    # Every sheet with the date of each step and how it came back.
    every = staff.get(f"/campaigns/{campaign_id}?state=all").get_data(as_text=True).split('id="missing-list"')[1]
    row = lambda k: every.split(f'data-member="{people[k].id}"')[1].split("</tr>")[0]  # noqa: E731
    assert "05/11/2026" in row("dung") and "20/11/2026 (Nhận tay)" in row("dung") and "Đã cập nhật" in row("dung")
    assert "(Bản quét)" in row("anh") and "Đã gửi, chưa nhận lại" in row("lan")

    # The cell secretary's name and phone (a formula-looking name stays text in Excel).
    resp = staff.post(f"/campaigns/cells/{orgs['cell1'].id}/contact",
                      data={"name": "=HYPERLINK(\"http://x\")", "phone": "0912 345 678", "campaign_id": campaign_id})
    assert resp.status_code == 302
    bad_phone = staff.post(f"/campaigns/cells/{orgs['cell1'].id}/contact",
                           data={"name": "A", "phone": "gọi tôi", "campaign_id": campaign_id}, follow_redirects=True)
    assert "Số điện thoại «gọi tôi»" in bad_phone.get_data(as_text=True)
    cells = {c["cell"]: c for c in staff.get(f"/api/campaigns/{campaign_id}").get_json()["cells"]}
    assert cells["Chi bộ khu phố 1"]["phone"] == "0912 345 678"

    # Excel export of the list, read back.
    resp = staff.get(f"/campaigns/{campaign_id}/missing.xlsx")
    assert resp.status_code == 200
    ws = load_workbook(io.BytesIO(resp.data)).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[1][:4] == ("STT", "Họ và tên", "Ngày sinh", "Số phiếu")
    body = rows[2:]
    assert sorted(r[1] for r in body) == sorted(people[k].full_name for k in ("thang", "hai", "lan"))
    thang = next(r for r in body if r[1] == "Lê Đức Thắng")
    assert thang[5] == "Chi bộ khu phố 1" and thang[7] == "0912 345 678" and thang[10] == "Quá hạn"
    cell = next(c for c in ws.iter_rows(min_row=3) if c[1].value == "Lê Đức Thắng")[6]
    assert cell.value == "=HYPERLINK(\"http://x\")" and cell.data_type == "s"  # text, never a formula

    # One click: the reminder letter to cell 1 lists its missing sheet, numbered.
    resp = staff.post(f"/campaigns/{campaign_id}/cells/{orgs['cell1'].id}/reminder")
    assert resp.status_code == 200 and resp.mimetype.endswith("wordprocessingml.document")
    doc = Document(io.BytesIO(resp.data))
    text = "\n".join(p.text for p in doc.paragraphs)
    table_text = "\n".join(c.text for t in doc.tables for row in t.rows for c in row.cells)
    thang_ev = sess.query(Evaluation).filter_by(member_id=people["thang"].id).one()
    assert "Lê Đức Thắng" in table_text and thang_ev.sheet_serial in table_text
    assert "Nguyễn Văn Ánh" not in table_text  # returned: not listed
    assert "Kính gửi" in text and "Chi bộ khu phố 1" in text and "01/12/2026" in text
    assert "Số 1-CV/ĐU" in table_text and "ĐẢNG ỦY CỤC THUẾ TỈNH" in table_text
    reminder = sess.query(CampaignReminder).one()
    assert reminder.number == 1 and reminder.missing == [thang_ev.sheet_serial]
    assert "Đã nhắc: số 1" in staff.get(f"/campaigns/{campaign_id}").get_data(as_text=True)


def test_campaign_permissions_and_duplicates(app, sess, orgs, people, staff, make_user, login):
    campaign_id = start_campaign(staff, orgs)
    # A second campaign for the same committee and year is refused (409), nothing added.
    resp = staff.post("/api/campaigns", json={"workplace_org_id": orgs["tax"].id, "year": YEAR, "deadline": DEADLINE})
    assert resp.status_code == 409 and resp.get_json()["error"]["code"] == "campaign_exists"
    # Another committee's staff can neither see nor change it.
    other = login(make_user("benhvien", role="workplace_staff", organisation=orgs["hospital"]))
    assert other.get(f"/campaigns/{campaign_id}").status_code == 403
    assert other.post(f"/campaigns/{campaign_id}/sent", data={}).status_code == 403
    resp = other.post("/api/campaigns", json={"workplace_org_id": orgs["tax"].id, "year": YEAR + 1, "deadline": "01/12/2027"})
    assert resp.status_code == 403
    assert sess.query(Campaign).count() == 1
    # Including exempt members on request gives them their (exempt variant) sheet.
    resp = staff.post("/api/campaigns", json={"workplace_org_id": orgs["tax"].id, "year": YEAR + 1,
                                              "deadline": "15/12/2027", "include_exempt": True})
    assert resp.status_code == 201 and resp.get_json()["totals"]["total"] == 7
    run_pending()
    ev = sess.query(Evaluation).filter_by(member_id=people["mien"].id, year=YEAR + 1).one()
    assert ev.variant == "exempt"
    # A bulk run started from the documents page also says what it is, and the job list shows it.
    resp = staff.post("/api/documents/bulk", json={"kind": "introduction_letter", "year": YEAR,
                                                   "selection": {"workplace_org_id": orgs["tax"].id}})
    assert resp.status_code == 202, resp.get_json()
    job = staff.get(f"/api/jobs/{resp.get_json()['id']}").get_json()
    assert job["title"] == "Giấy giới thiệu 2026 — Đảng ủy Cục Thuế tỉnh"
    assert "Giấy giới thiệu 2026 — Đảng ủy Cục Thuế tỉnh" in staff.get("/jobs/").get_data(as_text=True)
