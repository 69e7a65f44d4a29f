"""The year-end campaign end to end, on SQLite and PostgreSQL: generate (exempt members left out) with
one-time answer codes printed in each cell's request letter, mark sent (API and page), a quarter of the
sheets answered online with those codes, sheets back by scan (clean synthetic marks) and by hand, a
remark that keeps a sheet from counting as applied until it is typed or marked unreadable, the overdue
list, a reminder letter, the campaign screen per residence and workplace cell, the Excel export, and
the Excel/Word report per workplace cell."""
from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
import zipfile

import cv2
import pytest
from docx import Document
from openpyxl import load_workbook

from service.documents.contexts import evaluation_data
from service.jobs.inprocess import run_pending
from service.models import (AnswerCode, AuditEntry, Campaign, CampaignReminder, CampaignSheet, Evaluation, Job, Member)
from service.qrkeys import signing_key
from tests.support.services import add_org

YEAR = 2026
CLEAN = {"allowed_styles": ("tick", "cross", "fill"), "scribble_items": 0}  # nothing a person must decide
DEADLINE = "01/12/2026"  # before today (the tests run after it): what is not back is overdue


def jpeg(img) -> bytes:
    return cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 85])[1].tobytes()


ONLINE = {"setting_example": "good_example", "citizen_duties": "exemplary", "meetings": "partial",
          "keeping_contact": "regular", "local_activities": "active", "cell_proposal": "no_proposal"}


def add_member(sess, orgs, name, cell, card, *, status="active", born=dt.date(1980, 3, 4), workplace="tax_cell"):
    m = Member(card_number=card, workplace_org_id=orgs[workplace].id, residence_cell_id=orgs[cell].id,
               gender="male", date_of_birth=born, admission_date=dt.date(2005, 1, 2), house="Số 5",
               commune="Phường Hồng Hà", province="Quảng Ninh", status=status)
    m.set_name(name)
    sess.add(m)
    return m


@pytest.fixture
def people(sess, orgs):
    """Eight members of the tax office (two workplace cells) in three residence cells, one more exempt from
    residence meetings, and one of the hospital (another committee: never in the tax office's campaign)."""
    orgs["tax_cell2"] = add_org(sess, "Chi bộ Phòng Thuế thu nhập", "workplace_cell", orgs["tax"])
    sess.flush()
    out = {
        "anh": add_member(sess, orgs, "Nguyễn Văn Ánh", "cell1", "9101", born=dt.date(1980, 3, 4)),
        "huong": add_member(sess, orgs, "Trần Thị Hường", "cell1", "9102", born=dt.date(1981, 4, 5)),
        "thang": add_member(sess, orgs, "Lê Đức Thắng", "cell1", "9103", born=dt.date(1982, 5, 6)),
        "dung": add_member(sess, orgs, "Phạm Thị Dung", "cell2", "9104"),
        "hai": add_member(sess, orgs, "Hoàng Minh Hải", "cell2", "9105"),
        "lan": add_member(sess, orgs, "Vũ Ngọc Lan", "other_cell", "9106"),
        "mien": add_member(sess, orgs, "Đỗ Văn Miễn", "cell2", "9107", status="exempt_meetings"),
        "yen": add_member(sess, orgs, "Hoàng Thị Yến", "cell2", "9109", workplace="tax_cell2"),
        "phuc": add_member(sess, orgs, "Ngô Văn Phúc", "other_cell", "9110", workplace="tax_cell2"),
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


def start_campaign(staff, orgs, **extra) -> int:
    resp = staff.post("/campaigns/", data={"workplace_org_id": orgs["tax"].id, "year": str(YEAR), "deadline": DEADLINE,
                                           **extra})
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


def letter_codes(zip_bytes: bytes) -> dict[str, dict[str, str]]:
    """Per residence cell folder of the campaign's ZIP: {sheet number: answer code} read from the list
    of members in the request letter that opens the cell's packet (its last column: the codes)."""
    out = {}
    with zipfile.ZipFile(io.BytesIO(zip_bytes)) as z:
        for name in z.namelist():
            if name.startswith("theo-chi-bo/") and name.endswith(".docx"):
                doc = Document(io.BytesIO(z.read(name)))
                table = next(t for t in doc.tables if t.rows[0].cells[-1].text == "Mã trả lời")
                assert [c.text for c in table.rows[0].cells] == ["STT", "Họ và tên", "Năm sinh", "Số phiếu", "Mã trả lời"]
                out[name.split("/")[1]] = {r.cells[3].text: r.cells[4].text for r in table.rows[1:]}
    return out


def answer_online(app, serial: str, code: str, answers: dict, remark: str = "") -> str:
    """The residence cell secretary, not signed in, answers one sheet through the /tra-loi/ pages."""
    cell = app.test_client()
    resp = cell.post("/tra-loi/", data={"serial": serial, "code": code})
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/tra-loi/{serial}"), resp.data[:300]
    resp = cell.post(f"/tra-loi/{serial}", data={**{f"a_{k}": v for k, v in answers.items()}, "other_remarks": remark})
    assert resp.status_code == 200, resp.data[:300]
    return resp.get_data(as_text=True)


def test_campaign_end_to_end(app, sess, orgs, people, staff):
    from tests.support import synthetic_sheets as synthetic
    # Bad input: a clear Vietnamese message naming the field, and nothing created.
    bad = staff.post("/campaigns/", data={"workplace_org_id": orgs["tax"].id, "year": str(YEAR), "deadline": "31/02/2026"})
    assert bad.status_code == 400 and "Hạn gửi lại phiếu không hợp lệ" in bad.get_data(as_text=True)
    assert sess.query(Campaign).count() == 0 and sess.query(Job).count() == 0

    # Created with "in kèm mã trả lời trực tuyến": the form says that a new run revokes the printed codes.
    assert "các mã đã in trước đó không dùng được nữa" in staff.get("/campaigns/").get_data(as_text=True)
    campaign_id = start_campaign(staff, orgs, answer_codes="1")
    campaign = sess.get(Campaign, campaign_id)
    job = sess.get(Job, campaign.job_id)
    assert job.state == "done" and job.result["made"] == 8, job.result
    # The job says what it is.
    page = staff.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert "Phiếu nhận xét 2026 — Đảng ủy Cục Thuế tỉnh" in page and "Tải kết quả" in page
    # Exempt members (HD 33) are left out and listed apart; the other committee's member is not there.
    in_campaign = {s.member_id for s in sess.query(CampaignSheet).filter_by(campaign_id=campaign_id)}
    assert in_campaign == {m.id for k, m in people.items() if k != "mien"}
    assert sess.query(Evaluation).filter_by(member_id=people["mien"].id).count() == 0
    screen = staff.get(f"/campaigns/{campaign_id}").get_data(as_text=True)
    assert "Đỗ Văn Miễn" in screen.split('id="exempt-list"')[1] and "Bệnh Viện Khác" not in screen
    serial = {k: sess.query(Evaluation).filter_by(member_id=m.id, year=YEAR).one().sheet_serial
              for k, m in people.items() if k != "mien"}

    # Each cell's request letter prints one code per sheet of the cell; the database keeps only their hashes.
    codes = letter_codes(staff.get(f"/jobs/{job.id}/result").data)
    assert {folder: set(found) for folder, found in codes.items()} == {
        "Chi bộ khu phố 1": {serial[k] for k in ("anh", "huong", "thang")},
        "Chi bộ khu phố 2": {serial[k] for k in ("dung", "hai", "yen")},
        "Chi bộ khu phố 5": {serial[k] for k in ("lan", "phuc")}}, codes.keys()
    by_serial = {sn: code for found in codes.values() for sn, code in found.items()}
    assert all(re.fullmatch(r"[A-Z2-9]{5}-[A-Z2-9]{5}", c) for c in by_serial.values())
    stored = {row.code_hash for row in sess.query(AnswerCode)}
    assert len(stored) == 8 and all(hashlib.sha256(c.replace("-", "").encode()).hexdigest() in stored
                                    for c in by_serial.values())
    assert not any(c in repr(e.after) for e in sess.query(AuditEntry) for c in by_serial.values())

    state = staff.get(f"/api/campaigns/{campaign_id}").get_json()
    assert state["totals"]["total"] == 8 and state["totals"]["generated"] == 8 and state["totals"]["sent"] == 0

    # Printed and sent: one cell through the API (a bad date first: refused, naming it, nothing changed),
    # the rest on the page.
    resp = staff.post(f"/api/campaigns/{campaign_id}/sent", json={"sent_on": "32/11/2026"})
    assert resp.status_code == 400 and resp.get_json()["error"]["code"] == "invalid_date"
    assert "Ngày gửi không hợp lệ" in resp.get_json()["error"]["message"]
    assert {s.sent_on for s in sess.query(CampaignSheet).filter_by(campaign_id=campaign_id)} == {None}
    resp = staff.post(f"/api/campaigns/{campaign_id}/sent", json={"sent_on": "04/11/2026", "cell_id": orgs["other_cell"].id})
    assert resp.status_code == 200 and resp.get_json()["marked"] == 2
    assert resp.get_json()["campaign"]["totals"]["sent"] == 2
    resp = staff.post(f"/campaigns/{campaign_id}/sent", data={"sent_on": "05/11/2026"})
    assert resp.status_code == 302
    sent = {s.member_id: s.sent_on for s in sess.query(CampaignSheet).filter_by(campaign_id=campaign_id)}
    assert sent[people["lan"].id] == sent[people["phuc"].id] == dt.date(2026, 11, 4)
    assert sent[people["dung"].id] == dt.date(2026, 11, 5) and None not in sent.values()
    resp = staff.post(f"/api/campaigns/{campaign_id}/sent", json={})
    assert resp.status_code == 409 and resp.get_json()["error"]["code"] == "nothing_to_send"

    # A quarter of the sheets are answered online by the cells with the codes of their letters.
    body = answer_online(app, serial["yen"], by_serial[serial["yen"]], ONLINE, "Vắng họp tháng 5 vì đi công tác.")
    assert 'data-status="applied"' in body
    assert 'data-status="applied"' in answer_online(app, serial["phuc"], by_serial[serial["phuc"]], ONLINE)

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
    # An incomplete return by hand is refused, saying which item, and changes nothing (page and API).
    half = {f"a_{items[0]}": truth_a["answers"][items[0]]}
    before = staff.get(f"/api/campaigns/{campaign_id}").get_json()["totals"]
    resp = staff.post(f"/campaigns/{campaign_id}/members/{people['hai'].id}/return", data=half, follow_redirects=True)
    assert "Mục 2" in resp.get_data(as_text=True) and "chưa có lựa chọn hợp lệ" in resp.get_data(as_text=True)
    resp = staff.post(f"/api/campaigns/{campaign_id}/members/{people['hai'].id}/return",
                      json={"answers": {items[0]: truth_a["answers"][items[0]]}, "received_on": "20/11/2026"})
    assert resp.status_code == 400 and resp.get_json()["error"]["code"] == "incomplete_answers"
    assert "Mục 2" in resp.get_json()["error"]["message"]
    resp = staff.post(f"/api/campaigns/{campaign_id}/members/{people['hai'].id}/return", json={"via": "scan"})
    assert resp.status_code == 400 and resp.get_json()["error"]["code"] == "invalid_request"
    assert staff.get(f"/api/campaigns/{campaign_id}").get_json()["totals"] == before
    # A sheet already applied cannot be answered again by hand through the API (409, nothing changed).
    resp = staff.post(f"/api/campaigns/{campaign_id}/members/{people['yen'].id}/return", json={"answers": ONLINE})
    assert resp.status_code == 409 and resp.get_json()["error"]["code"] == "already_returned"

    dung = sess.query(Evaluation).filter_by(member_id=people["dung"].id).one()
    sess.refresh(dung)
    assert dung.status == "returned" and dung.answers == truth_a["answers"] and dung.returned_on == dt.date(2026, 11, 20)
    assert sess.query(AuditEntry).filter_by(member_id=people["dung"].id, action="evaluation").one().source == "ui"

    # Returned: 2 online + 2 scans + 1 by hand. Applied: only sheets whose remark does not wait (Hường's has
    # writing; the reader may also be unsure that Ánh's remark area is empty, and then a person looks at it too).
    for ev in evs.values():
        sess.refresh(ev)
    assert evs["huong"].remarks_status == "pending" and evs["huong"].remarks_file_id
    waiting = [k for k, ev in evs.items() if ev.remarks_status == "pending"]
    state = staff.get(f"/api/campaigns/{campaign_id}").get_json()
    totals = state["totals"]
    assert (totals["returned"], totals["applied"], totals["remarks_pending"], totals["overdue"]) == \
        (5, 5 - len(waiting), len(waiting), 3)
    cells = {c["cell"]: c for c in state["cells"]}
    assert (cells["Chi bộ khu phố 1"]["returned"], cells["Chi bộ khu phố 1"]["applied"],
            cells["Chi bộ khu phố 1"]["overdue"]) == (2, 2 - len(waiting), 1)
    assert (cells["Chi bộ khu phố 2"]["returned"], cells["Chi bộ khu phố 2"]["applied"]) == (2, 2)
    assert (cells["Chi bộ khu phố 5"]["returned"], cells["Chi bộ khu phố 5"]["overdue"]) == (1, 1)
    # ... and per workplace cell: the tax office's inspection cell 3 of 6, the income tax cell 2 of 2.
    work = {c["name"]: (c["total"], c["returned"], c["overdue"], c["percent_returned"]) for c in state["workplace_cells"]}
    assert work == {"Chi bộ Phòng Kiểm tra": (6, 3, 3, 50), "Chi bộ Phòng Thuế thu nhập": (2, 2, 0, 100)}

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
    assert (totals["returned"], totals["applied"], totals["remarks_pending"]) == (5, 5, 0)

    # The overdue list: the three not returned, filterable by cell; the screen shows the progress bar.
    screen = staff.get(f"/campaigns/{campaign_id}?state=overdue").get_data(as_text=True)
    listed = screen.split('id="missing-list"')[1]
    for k in ("thang", "hai", "lan"):
        assert people[k].full_name in listed
    for k in ("anh", "huong", "dung", "yen", "phuc"):
        assert people[k].full_name not in listed
    assert '<progress id="campaign-progress"' in screen and 'value="5"' in screen and "style=" not in screen
    rows = screen.split('id="workplace-cells"')[1].split("</table>")[0]
    assert re.search(r"Chi bộ Phòng Kiểm tra</td><td>6</td><td>6</td><td>3</td>\s*<td class=\"c-rate\">50%", rows)
    assert re.search(r"Chi bộ Phòng Thuế thu nhập</td><td>2</td><td>2</td><td>2</td>\s*<td class=\"c-rate\">100%", rows)
    only_cell1 = staff.get(f"/campaigns/{campaign_id}?cell={orgs['cell1'].id}").get_data(as_text=True)
    listed = only_cell1.split('id="missing-list"')[1]
    assert "Lê Đức Thắng" in listed and "Hoàng Minh Hải" not in listed

    # Every sheet with the date of each step and how it came back.
    every = staff.get(f"/campaigns/{campaign_id}?state=all").get_data(as_text=True).split('id="missing-list"')[1]
    row = lambda k: every.split(f'data-member="{people[k].id}"')[1].split("</tr>")[0]  # noqa: E731
    assert "05/11/2026" in row("dung") and "20/11/2026 (Nhận tay)" in row("dung") and "Đã cập nhật" in row("dung")
    assert "(Bản quét)" in row("anh") and "Đã gửi, chưa nhận lại" in row("lan")
    assert "04/11/2026" in row("phuc") and "(Trực tuyến)" in row("phuc") and "Đã cập nhật" in row("yen")

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

    # One click: the reminder letter to cell 2 lists exactly its missing sheet (not the ones answered
    # online or by hand), numbered.
    resp = staff.post(f"/campaigns/{campaign_id}/cells/{orgs['cell2'].id}/reminder")
    assert resp.status_code == 200 and resp.mimetype.endswith("wordprocessingml.document")
    doc = Document(io.BytesIO(resp.data))
    text = "\n".join(p.text for p in doc.paragraphs)
    table_text = "\n".join(c.text for t in doc.tables for row in t.rows for c in row.cells)
    listed = set(re.findall(r"\d{4}-\d{6}-\d+", table_text))
    assert listed == {serial["hai"]} and "Hoàng Minh Hải" in table_text
    assert "Hoàng Thị Yến" not in table_text and "Phạm Thị Dung" not in table_text
    assert "Kính gửi" in text and "Chi bộ khu phố 2" in text and "01/12/2026" in text
    assert "Số 1-CV/ĐU" in table_text and "ĐẢNG ỦY CỤC THUẾ TỈNH" in table_text
    reminder = sess.query(CampaignReminder).one()
    assert reminder.number == 1 and reminder.missing == [serial["hai"]]
    assert "Đã nhắc: số 1" in staff.get(f"/campaigns/{campaign_id}").get_data(as_text=True)

    # The report per workplace cell for the rating meeting: the answers of items 1-6 and item 7.
    ws = load_workbook(io.BytesIO(staff.get(f"/reports/{orgs['tax_cell2'].id}.xlsx?year={YEAR}").data))["Kết quả"]
    head = [c.value for c in ws[4]]
    report = {r[1]: dict(zip(head, r)) for r in ws.iter_rows(min_row=5, values_only=True)}
    assert set(report) == {"Hoàng Thị Yến", "Ngô Văn Phúc"}
    assert report["Hoàng Thị Yến"]["Mục 3"] == "Tham gia chưa đầy đủ" and report["Hoàng Thị Yến"]["Nguồn"] == "Bản điện tử"
    assert report["Hoàng Thị Yến"]["Nhận xét khác (mục 7)"] == "Vắng họp tháng 5 vì đi công tác."
    doc = Document(io.BytesIO(staff.get(f"/reports/{orgs['tax_cell'].id}.docx?year={YEAR}").data))
    table = {r.cells[1].text.split("\n")[0]: [c.text for c in r.cells] for r in doc.tables[0].rows[1:]}
    assert table["Phạm Thị Dung"][9] == "Gương mẫu ở khu phố" and table["Phạm Thị Dung"][3] != ""
    assert "Không đọc được" in table["Trần Thị Hường"][9] and "Chưa nhận lại" in table["Lê Đức Thắng"][1]
    assert set(table) == {people[k].full_name for k in ("anh", "huong", "thang", "dung", "hai", "lan", "mien")}
    assert table["Đỗ Văn Miễn"][3:10] == [""] * 7  # exempt: in the rating report, without a sheet or answers
    # the committee's chart page and Excel: the return rate per workplace cell as well
    html = staff.get(f"/reports/{orgs['tax'].id}/charts?year={YEAR}").get_data(as_text=True)
    assert 'id="chart-return-rate-workplace"' in html
    assert 'data-label="Chi bộ Phòng Kiểm tra" data-value="50"' in html
    assert 'data-label="Chi bộ Phòng Thuế thu nhập" data-value="100"' in html
    figures = load_workbook(io.BytesIO(staff.get(f"/reports/{orgs['tax'].id}.xlsx?year={YEAR}").data))["Biểu đồ"]
    values = list(figures.iter_rows(values_only=True))
    start = next(i for i, r in enumerate(values) if r[0] == "Chi bộ nơi công tác")
    assert values[start + 1][:4] == ("Chi bộ Phòng Kiểm tra", 6, 3, 50)
    assert values[start + 2][:4] == ("Chi bộ Phòng Thuế thu nhập", 2, 2, 100)


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
    assert resp.status_code == 201 and resp.get_json()["totals"]["total"] == 9
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
