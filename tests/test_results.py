"""Results for the annual rating: the member's yearly answers as labels with their source, absence
requests and their certification, the per-cell report (Excel with charts, Word), the chart page,
attendance preselected with counts and a printable sign-in sheet."""
from __future__ import annotations

import io
import zipfile

from docx import Document
from openpyxl import load_workbook

from service.models import AbsenceRequest, Evaluation
from tests.support import results_world as rw

YEAR = 2026


def people(make_user, orgs):
    return {"staff": make_user("thue", role="workplace_staff", organisation=orgs["tax"]),
            "other": make_user("benhvien", role="workplace_staff", organisation=orgs["hospital"]),
            "sec": make_user("bithu1", role="cell_secretary", organisation=orgs["cell1"])}


def test_member_page_shows_labels_of_an_exempt_v1_sheet_and_pending_remark(app, sess, orgs, make_user, login):
    u = people(make_user, orgs)
    m = rw.member(sess, "Phạm Thị Miễn", "E-1", orgs["tax_cell"], orgs["cell2"], status="exempt_meetings")
    page = rw.return_sheet(sess, u["staff"], m, YEAR - 1, rw.EXEMPT, "Công tác xa, thường xuyên liên lạc qua điện thoại",
                           version=1)
    rw.return_sheet(sess, u["staff"], m, YEAR, rw.EXEMPT, version=1)
    rw.return_sheet(sess, u["staff"], m, YEAR - 2, rw.EXEMPT, typed=True, version=1)
    now = sess.query(Evaluation).filter_by(member_id=m.id, year=YEAR).one()
    now.remarks_status = "pending"  # the handwriting of item 4 waits for a person to type it
    sess.commit()
    html = login(u["staff"]).get(f"/members/{m.id}").get_data(as_text=True)
    results = html.split('id="results"')[1].split("</table>")[0]
    last_year = results.split(f'data-year="{YEAR - 1}"')[1]
    # the exempt variant's own options, read from the sheet's definition (v1, exempt): labels, never keys
    assert "Nêu gương tốt" in last_year and "Thực hiện tốt" in last_year and "Chưa thực hiện" in last_year
    assert "Thực hiện các nhiệm vụ khác của đảng viên ở nơi cư trú" in last_year
    assert "Mẫu phiên bản 1" in results and "miễn sinh hoạt" in results
    for key in ("good_example", "done_well", "not_done", "other_duties", "None"):
        assert key not in results
    assert "Công tác xa, thường xuyên liên lạc qua điện thoại" in last_year
    assert f'href="/scans/pages/{page.id}"' in last_year and "Bản quét" in last_year
    assert "Bản điện tử" in results.split(f'data-year="{YEAR - 2}"')[1]  # filled in on a computer
    this_year = results.split(f'data-year="{YEAR}"')[1].split("data-year")[0]
    assert "Mục 4: đang chờ nhập" in this_year and f"/scans/transcriptions/{now.id}/crop.png" in this_year


def test_report_flags_the_uncertified_absence_only(app, sess, orgs, make_user, login):
    u = people(make_user, orgs)
    w = rw.world(sess, orgs, u["staff"], u["sec"], YEAR)
    sec, staff, other = login(u["sec"]), login(u["staff"]), login(u["other"])

    # a cell secretary records requests but cannot certify them; nothing changes
    resp = sec.post(f"/meetings/requests/{w['req_ok'].id}/certify")
    assert resp.status_code == 403 and "Chỉ đảng ủy nơi công tác" in resp.get_data(as_text=True)
    # staff of another committee cannot certify nor see
    assert other.post(f"/meetings/requests/{w['req_ok'].id}/certify").status_code == 403
    sess.expire_all()
    assert sess.get(AbsenceRequest, w["req_ok"].id).certified_at is None
    assert staff.post(f"/meetings/requests/{w['req_ok'].id}/certify").status_code == 302
    sess.expire_all()
    req = sess.get(AbsenceRequest, w["req_ok"].id)
    assert req.certified_by == u["staff"].id and req.certified_at is not None

    for client in (other, sec):
        assert client.get(f"/reports/{orgs['tax_cell'].id}.xlsx?year={YEAR}").status_code == 403
        assert client.get(f"/reports/{orgs['tax_cell'].id}/charts?year={YEAR}").status_code == 403

    resp = staff.get(f"/reports/{orgs['tax_cell'].id}.xlsx?year={YEAR}")
    assert resp.status_code == 200
    data = resp.get_data()
    ws = load_workbook(io.BytesIO(data))["Kết quả"]
    head = [c.value for c in ws[4]]
    rows = {r[1]: dict(zip(head, r)) for r in ws.iter_rows(min_row=5, values_only=True)}
    flag = "Không được xếp loại Hoàn thành tốt nhiệm vụ trở lên"
    assert rows["Trần Thị Chưa Xác Nhận"]["Lưu ý khi xếp loại"] == flag
    assert rows["Trần Thị Chưa Xác Nhận"]["Vắng không có lý do"] == 1
    assert "đơn chưa được xác nhận" in rows["Trần Thị Chưa Xác Nhận"]["Các lần vắng trong năm"]
    assert not rows["Nguyễn Văn Có Đơn"]["Lưu ý khi xếp loại"]
    assert rows["Nguyễn Văn Có Đơn"]["Vắng không có lý do"] == 0
    assert "Đi công tác tại Hà Nội" in rows["Nguyễn Văn Có Đơn"]["Các lần vắng trong năm"]
    assert not rows["Lê Văn Đủ"]["Lưu ý khi xếp loại"] and rows["Lê Văn Đủ"]["Số lần vắng"] == 0
    assert rows["Lê Văn Đủ"]["Mục 1"] == "Nêu gương tốt" and rows["Lê Văn Đủ"]["Mục 3"] == "Tham gia chưa đầy đủ"
    assert rows["Phạm Thị Miễn"]["Phiếu"] == "Chưa nhận lại" and rows["Phạm Thị Miễn"]["Mục 1"] in (None, "")
    # item 7 text that looks like a formula stays text
    cell = next(c for c in ws["L"] if c.value and str(c.value).startswith("=HYPERLINK"))
    assert cell.data_type == "s"
    # native charts in the workbook: return rate and one per item
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    charts = [n for n in names if n.startswith("xl/charts/chart")]
    assert len(charts) == 1 + 6
    rate = zipfile.ZipFile(io.BytesIO(data)).read(charts[0]).decode()
    assert "barChart" in rate

    doc = Document(io.BytesIO(staff.get(f"/reports/{orgs['tax_cell'].id}.docx?year={YEAR}").get_data()))
    table = {r.cells[1].text.split("\n")[0]: [c.text for c in r.cells] for r in doc.tables[0].rows[1:]}
    assert table["Trần Thị Chưa Xác Nhận"][-1] == flag and table["Nguyễn Văn Có Đơn"][-1] == ""
    assert table["Lê Văn Đủ"][3] == "Nêu gương tốt"

    # the chart page: SVG drawn on the server, no inline style
    html = staff.get(f"/reports/{orgs['tax_cell'].id}/charts?year={YEAR}").get_data(as_text=True)
    assert 'id="chart-return-rate"' in html and "style=" not in html and "<script>" not in html
    assert 'data-label="Chi bộ khu phố 1" data-value="100"' in html  # 3 of 3 returned
    assert 'data-label="Chi bộ khu phố 2" data-value="0"' in html  # the exempt member's sheet is out
    assert "Trần Thị Chưa Xác Nhận" in html.split('id="flagged"')[1]
    assert "Nguyễn Văn Có Đơn" not in html.split('id="flagged"')[1]


def test_absence_list_per_year_for_workplace_staff_with_export(app, sess, orgs, make_user, login):
    u = people(make_user, orgs)
    w = rw.world(sess, orgs, u["staff"], u["sec"], YEAR)
    staff, other = login(u["staff"]), login(u["other"])
    # the "Sinh hoạt" menu leads workplace staff to the absence list
    assert staff.get("/meetings/").headers["Location"].endswith("/meetings/absences")
    assert ">Sinh hoạt<" in staff.get("/members/").get_data(as_text=True)
    html = staff.get(f"/meetings/absences?year={YEAR}").get_data(as_text=True)
    listing = html.split('id="absence-list"')[1].split("</table>")[0]
    assert "Trần Thị Chưa Xác Nhận" in listing and "Bận việc gia đình" in listing and "Xác nhận đơn" in listing
    assert "Lê Văn Đủ" not in listing
    assert "Không có đảng viên nào vắng" in staff.get(f"/meetings/absences?year={YEAR - 1}").get_data(as_text=True)
    assert "Trần Thị" not in other.get(f"/meetings/absences?year={YEAR}").get_data(as_text=True)
    # a request recorded and certified at once by the workplace committee, for an absence without one
    w2 = rw.member(sess, "Đỗ Văn Mới Vắng", "R-9", orgs["tax_cell"], orgs["cell1"])
    from service.meetings import logic as meetings
    meetings.record_attendance(sess, u["sec"], w["meeting"], {w2.id: ("absent", "")})
    bad = staff.post(f"/meetings/{w['meeting'].id}/requests", data={"member_id": w2.id, "reason": "", "back": "absences"})
    assert bad.status_code == 302 and sess.query(AbsenceRequest).filter_by(member_id=w2.id).count() == 0
    assert "Cần ghi lý do xin vắng" in staff.get(bad.headers["Location"]).get_data(as_text=True)
    staff.post(f"/meetings/{w['meeting'].id}/requests",
               data={"member_id": w2.id, "reason": "Ốm, có giấy ra viện", "certify": "1", "back": "absences"})
    wb = load_workbook(io.BytesIO(staff.get(f"/meetings/absences.xlsx?year={YEAR}").get_data()))
    ws = wb.active
    rows = {r[1]: r for r in ws.iter_rows(min_row=4, values_only=True)}
    assert rows["Đỗ Văn Mới Vắng"][6].startswith("Vắng có lý do") and rows["Đỗ Văn Mới Vắng"][8] == "Thue"
    assert rows["Trần Thị Chưa Xác Nhận"][10] == "Không được xếp loại Hoàn thành tốt nhiệm vụ trở lên"
    assert rows["Nguyễn Văn Có Đơn"][6].startswith("Vắng không có lý do")  # not certified yet in this test


def test_attendance_preselected_counts_and_sign_in_sheet(app, sess, orgs, make_user, login):
    u = people(make_user, orgs)
    a = rw.member(sess, "Vũ Văn Một", "A-1", orgs["tax_cell"], orgs["cell1"])
    b = rw.member(sess, "Hoàng Thị Hai", "A-2", orgs["tax_cell"], orgs["cell1"])
    sec = login(u["sec"])
    url = sec.post("/meetings/", data={"cell_id": orgs["cell1"].id, "held_on": f"10/07/{YEAR}"}).headers["Location"]
    mid = int(url.rstrip("/").split("/")[-1])
    sec.post(f"/meetings/{mid}/requests", data={"member_id": b.id, "reason": "Đi học tập trung"})
    html = sec.get(url).get_data(as_text=True)
    assert f'name="s_{a.id}" value="present" checked' in html  # "Tất cả có mặt" preselected
    assert f'name="s_{b.id}" value="absent" checked' in html  # ... except whoever asked to be excused
    assert "Chưa được xác nhận" in html
    sec.post(url, data={f"s_{a.id}": "present", f"s_{b.id}": "absent"})
    listing = sec.get("/meetings/").get_data(as_text=True)
    row = listing.split(f'/meetings/{mid}"')[1].split("</tr>")[0]
    assert '<td class="n-present">1</td><td class="n-absent">1</td>' in row
    doc = Document(io.BytesIO(sec.get(f"/meetings/{mid}/sign-in.docx").get_data()))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "DANH SÁCH ĐẢNG VIÊN THAM DỰ SINH HOẠT" in text and f"10/07/{YEAR}" in text
    names = [r.cells[1].text for r in doc.tables[1].rows[1:]]
    assert sorted(names) == sorted(["Vũ Văn Một", "Hoàng Thị Hai"])
    assert login(make_user("bithu2", role="cell_secretary", organisation=orgs["cell2"])).get(
        f"/meetings/{mid}/sign-in.docx").status_code == 403
    if app.backend == "sqlite":  # the PDF through LibreOffice once is enough
        pdf = sec.get(f"/meetings/{mid}/sign-in.pdf")
        assert pdf.status_code == 200 and pdf.get_data().startswith(b"%PDF")


def test_api_report_and_certification(app, sess, orgs, make_user, login):
    u = people(make_user, orgs)
    w = rw.world(sess, orgs, u["staff"], u["sec"], YEAR)
    staff, sec, other = login(u["staff"]), login(u["sec"]), login(u["other"])
    url = f"/api/absence-requests/{w['req_ok'].id}/certify"
    refused = sec.post(url)
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "forbidden"
    assert other.post(url).status_code == 403
    ok = staff.post(url)
    assert ok.status_code == 200 and ok.get_json()["certified"] and ok.get_json()["certified_by"] == u["staff"].id
    again = staff.post(url)
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "already_certified"
    assert other.get(f"/api/reports/{orgs['tax_cell'].id}?year={YEAR}").status_code == 403
    body = staff.get(f"/api/reports/{orgs['tax_cell'].id}?year={YEAR}").get_json()
    rows = {r["full_name"]: r for r in body["rows"]}
    assert body["sent"] == 4 and body["returned"] == 3
    assert rows["Nguyễn Văn Có Đơn"]["flagged"] is False and rows["Nguyễn Văn Có Đơn"]["absences"][0]["excused"] is True
    assert rows["Trần Thị Chưa Xác Nhận"]["flagged"] is True
    assert rows["Lê Văn Đủ"]["items"]["3"] == "Tham gia chưa đầy đủ" and rows["Lê Văn Đủ"]["source"] == "scan"
    bad = staff.get(f"/api/reports/{orgs['tax_cell'].id}?year=1800")
    assert bad.status_code == 400


def test_absence_rule_switched_off_flags_nobody(app, sess, orgs, make_user, login):
    u = people(make_user, orgs)
    rw.world(sess, orgs, u["staff"], u["sec"], YEAR)
    app.config["ABSENCE_RULE"] = False  # NOICUTRU_ABSENCE_RULE=0: a province without the rule
    client = login(u["staff"])
    ws = load_workbook(io.BytesIO(client.get(f"/reports/{orgs['tax_cell'].id}.xlsx?year={YEAR}").get_data()))["Kết quả"]
    head = [c.value for c in ws[4]]
    rows = {r[1]: dict(zip(head, r)) for r in ws.iter_rows(min_row=5, values_only=True)}
    assert not rows["Trần Thị Chưa Xác Nhận"]["Lưu ý khi xếp loại"]
    assert rows["Trần Thị Chưa Xác Nhận"]["Vắng không có lý do"] == 1  # the absence is still listed
