"""Residence meetings: only the cell's secretary records them; unexcused absences are flagged at year end."""
import datetime as dt

from service.models import Attendance, Member


def test_secretary_records_attendance_and_absence_is_flagged(app, sess, orgs, make_user, login):
    a = Member(full_name="", card_number="1", workplace_org_id=orgs["tax"].id, residence_cell_id=orgs["cell1"].id)
    a.set_name("Nguyễn Văn Vắng")
    b = Member(full_name="", card_number="2", workplace_org_id=orgs["tax"].id, residence_cell_id=orgs["cell1"].id)
    b.set_name("Trần Thị Có Mặt")
    sess.add_all([a, b])
    sess.commit()
    sec = login(make_user("bithu", role="cell_secretary", organisation=orgs["cell1"]))
    year = dt.date.today().year
    resp = sec.post("/meetings/", data={"cell_id": orgs["cell1"].id, "held_on": f"15/06/{year}", "title": "Sinh hoạt 6 tháng"})
    assert resp.status_code == 302
    meeting_url = resp.headers["Location"]
    page = sec.get(meeting_url).get_data(as_text=True)
    assert "Nguyễn Văn Vắng" in page and "Trần Thị Có Mặt" in page
    sec.post(meeting_url, data={f"s_{a.id}": "absent", f"s_{b.id}": "present"})
    assert sess.query(Attendance).count() == 2
    flagged = sec.get("/meetings/").get_data(as_text=True)
    assert "Nguyễn Văn Vắng" in flagged.split('id="absences"')[1] and "Trần Thị Có Mặt" not in flagged.split('id="absences"')[1]
    staff = login(make_user("thue", role="workplace_staff", organisation=orgs["tax"]))
    member_page = staff.get(f"/members/{a.id}").get_data(as_text=True)
    assert 'id="absence-flag"' in member_page and "Vắng không có lý do" in member_page
    assert 'id="absence-flag"' not in staff.get(f"/members/{b.id}").get_data(as_text=True)


def test_other_cells_secretary_cannot_record(app, sess, orgs, make_user, login):
    other = login(make_user("bithu2", role="cell_secretary", organisation=orgs["cell2"]))
    resp = other.post("/meetings/", data={"cell_id": orgs["cell1"].id, "held_on": "01/02/2026"})
    assert resp.status_code == 403  # a write outside one's scope: refused, not a redirect
    assert "Chỉ bí thư chi bộ" in resp.get_data(as_text=True)
    bad = other.post("/meetings/", data={"cell_id": orgs["cell2"].id, "held_on": "31/02/2026"})
    assert bad.status_code == 302
    assert "không hợp lệ" in other.get("/meetings/").get_data(as_text=True)
