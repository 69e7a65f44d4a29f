"""Members of one workplace cell with returned sheets, a meeting, absences and requests: the data
the results tests (report, member page, chart page) read. Sheets are returned through the real scan
apply (apply_page on a page of a scan batch), so each answer has its source page."""
from __future__ import annotations

import datetime as dt

from service.documents.sheets import ensure_sheet
from service.meetings import logic as meetings
from service.models import Meeting, Member, ScanBatch, ScanFile, ScanPage
from service.scans.decide import apply_page

STANDARD = {"setting_example": "good_example", "citizen_duties": "exemplary", "meetings": "partial",
            "keeping_contact": "regular", "local_activities": "active", "cell_proposal": "no_proposal"}
EXEMPT = {"setting_example": "good_example", "citizen_duties": "done_well", "other_duties": "not_done"}


def member(sess, name: str, card: str, workplace, cell, status: str = "active") -> Member:
    m = Member(card_number=card, workplace_org_id=workplace.id, residence_cell_id=cell.id, status=status,
               gender="male", date_of_birth=dt.date(1980, 1, 2), house="Số 3", commune="Phường Hồng Hà",
               province="Quảng Ninh")
    m.set_name(name)
    sess.add(m)
    sess.commit()
    return m


def return_sheet(sess, user, m: Member, year: int, answers: dict, remarks: str = "", typed: bool = False,
                 version: int | None = None) -> ScanPage:
    """The member's sheet of ``year``, returned by scan and applied by ``user`` (a reviewer);
    ``typed``: a sheet filled in on a computer (its answers read from the PDF's text layer);
    ``version``: the sheet was printed on that version of the form (default: the active one)."""
    ev = ensure_sheet(sess, m, year)
    if version is not None:
        ev.template_version = version
        sess.commit()
    batch = ScanBatch(created_by=user.id, auto_apply=False, page_count=1)
    sess.add(batch)
    sess.flush()
    f = ScanFile(batch_id=batch.id, name=f"phieu-{m.card_number}.pdf", page_count=1)
    sess.add(f)
    sess.flush()
    page = ScanPage(batch_id=batch.id, scan_file_id=f.id, page_no=1, source_key=f"k-{m.id}-{year}",
                    kind="evaluation_sheet", reading={"answers": answers}, member_id=m.id, year=year,
                    sheet_serial=ev.sheet_serial, status="review",
                    problems=[{"code": "text_layer", "message_vi": "Phiếu điền trên máy tính."}] if typed else [])
    sess.add(page)
    sess.commit()
    apply_page(sess, page, user, answers, remarks)
    sess.commit()
    return page


def world(sess, orgs, staff, secretary, year: int) -> dict:
    """Four members of the tax office's cell, living in cell 1 (three) and cell 2 (one):
    excused (certified request), unexcused (request not certified), present, exempt (no sheet returned)."""
    tax_cell, cell1, cell2 = orgs["tax_cell"], orgs["cell1"], orgs["cell2"]
    excused = member(sess, "Nguyễn Văn Có Đơn", "R-1", tax_cell, cell1)
    unexcused = member(sess, "Trần Thị Chưa Xác Nhận", "R-2", tax_cell, cell1)
    present = member(sess, "Lê Văn Đủ", "R-3", tax_cell, cell1)
    exempt = member(sess, "Phạm Thị Miễn", "R-4", tax_cell, cell2, status="exempt_meetings")
    for m in (excused, unexcused, present):
        return_sheet(sess, staff, m, year, STANDARD, "=HYPERLINK(\"http://x\")" if m is present else "")
    ensure_sheet(sess, exempt, year)  # sent, not returned
    meeting = Meeting(residence_cell_id=cell1.id, held_on=dt.date(year, 6, 15), title="Sinh hoạt 6 tháng đầu năm")
    sess.add(meeting)
    sess.commit()
    meetings.record_attendance(sess, secretary, meeting, {excused.id: ("absent", ""), unexcused.id: ("absent", ""),
                                                          present.id: ("present", "")})
    req_ok = meetings.record_absence_request(sess, secretary, meeting, excused.id, "Đi công tác tại Hà Nội")
    req_no = meetings.record_absence_request(sess, secretary, meeting, unexcused.id, "Bận việc gia đình")
    return {"excused": excused, "unexcused": unexcused, "present": present, "exempt": exempt, "meeting": meeting,
            "req_ok": req_ok, "req_no": req_no}
