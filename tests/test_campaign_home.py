"""Each role's home page shows what needs them now, and the same lists go out as an e-mail digest
through a real local SMTP server (aiosmtpd)."""
from __future__ import annotations

import datetime as dt
from email import message_from_bytes, policy

import pytest

from tests.support.services import free_port

from service.documents.letters import issue_introduction
from service.jobs.inprocess import run_pending
from service.models import Meeting, Member

TODAY = dt.date.today()


def add_member(sess, orgs, name, cell, card):
    m = Member(card_number=card, workplace_org_id=orgs["tax_cell"].id, residence_cell_id=orgs[cell].id,
               gender="female", date_of_birth=dt.date(1979, 2, 3), admission_date=dt.date(2004, 5, 6), house="Số 9",
               commune="Phường Hồng Hà", province="Quảng Ninh", status="active")
    m.set_name(name)
    sess.add(m)
    sess.commit()
    return m


@pytest.fixture
def world(sess, orgs, make_user, login):
    staff_user = make_user("thue", role="workplace_staff", organisation=orgs["tax"])
    secretary = make_user("bithu1", role="cell_secretary", organisation=orgs["cell1"])
    a = add_member(sess, orgs, "Nguyễn Thị Xuân", "cell1", "5101")
    b = add_member(sess, orgs, "Trần Văn Hạ", "cell2", "5102")
    c = add_member(sess, orgs, "Lê Thị Thu", "cell1", "5103")
    # Letters: one issued 40 days ago whose slip never came back, one 5 days ago, one received.
    old = issue_introduction(sess, staff_user, a, TODAY - dt.timedelta(days=40))
    issue_introduction(sess, staff_user, b, TODAY - dt.timedelta(days=5))
    got = issue_introduction(sess, staff_user, c, TODAY - dt.timedelta(days=60))
    got.received_on = TODAY - dt.timedelta(days=50)
    start, _end = (dt.date(TODAY.year, 1, 1), None) if TODAY.month <= 6 else (dt.date(TODAY.year, 7, 1), None)
    sess.add_all([Meeting(residence_cell_id=orgs["cell1"].id, held_on=start + dt.timedelta(days=3), title="Sinh hoạt định kỳ"),
                  Meeting(residence_cell_id=orgs["cell1"].id, held_on=start - dt.timedelta(days=20), title="Nửa năm trước")])
    sess.commit()
    staff = login(staff_user)
    deadline = (TODAY - dt.timedelta(days=1)).strftime("%d/%m/%Y")
    resp = staff.post("/campaigns/", data={"workplace_org_id": orgs["tax"].id, "year": str(TODAY.year),
                                           "deadline": deadline})
    assert resp.status_code == 302, resp.data[:1000]
    run_pending()
    return {"staff": staff, "secretary": login(secretary), "old_letter": old, "members": (a, b, c)}


def test_home_page_shows_what_needs_each_role(app, world):
    home = world["staff"].get("/").get_data(as_text=True)
    assert f"Phiếu nhận xét {TODAY.year} — Đảng ủy Cục Thuế tỉnh" in home
    assert "Đã nhận lại 0/3 phiếu" in home and "quá hạn 3" in home
    overdue = home.split('id="overdue-cells"')[1].split("</table>")[0]
    assert "Chi bộ khu phố 1" in overdue and "Chi bộ khu phố 2" in overdue
    waiting = home.split('id="letters-waiting"')[1].split("</table>")[0]
    assert "Nguyễn Thị Xuân" in waiting  # 40 days, no slip
    assert "Trần Văn Hạ" not in waiting and "Lê Thị Thu" not in waiting  # too recent; slip received
    assert "sau 30 ngày (1)" in home

    mine = world["secretary"].get("/").get_data(as_text=True)
    sheets = mine.split('id="sheets-to-fill"')[1].split("</table>")[0]
    assert "Nguyễn Thị Xuân" in sheets and "Lê Thị Thu" in sheets and "Trần Văn Hạ" not in sheets  # cell 2
    meetings = mine.split('id="half-year-meetings"')[1].split("</ul>")[0]
    assert "Sinh hoạt định kỳ" in meetings and "Nửa năm trước" not in meetings
    assert "overdue-cells" not in mine  # the committee's lists are not the cell's


def test_receipt_slip_days_is_a_setting(app, world, monkeypatch):
    monkeypatch.setenv("NOICUTRU_RECEIPT_SLIP_DAYS", "50")
    home = world["staff"].get("/").get_data(as_text=True)
    assert 'id="letters-waiting"' not in home  # 40 days is not late when the setting says 50
    monkeypatch.setenv("NOICUTRU_RECEIPT_SLIP_DAYS", "35")
    assert "sau 35 ngày (1)" in world["staff"].get("/").get_data(as_text=True)


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content, policy=policy.default)))
        return "250 OK"


def test_digest_goes_out_through_a_real_smtp_server(app, world, monkeypatch):
    from aiosmtpd.controller import Controller
    port = free_port()
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        monkeypatch.setenv("NOICUTRU_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("NOICUTRU_SMTP_PORT", str(port))
        monkeypatch.setenv("NOICUTRU_SMTP_FROM", "noicutru@thue.example.vn")
        runner = app.test_cli_runner()
        result = runner.invoke(args=["send-digest", "--to", "thue=thue@example.vn", "--to", "bithu1=bithu@example.vn"])
        assert result.exit_code == 0, result.output
        # Bad recipients: a clear message, nothing sent.
        bad = runner.invoke(args=["send-digest", "--to", "thue"])
        assert bad.exit_code != 0 and "tên_đăng_nhập=địa_chỉ_thư" in bad.output
    finally:
        controller.stop()
    assert [m[0] for m in inbox.messages] == [["thue@example.vn"], ["bithu@example.vn"]]
    staff_mail = inbox.messages[0][1].get_content()
    assert inbox.messages[0][1]["Subject"] == "Nối cư trú: việc đang chờ đồng chí"
    assert f"Phiếu nhận xét {TODAY.year} — Đảng ủy Cục Thuế tỉnh: đã nhận lại 0/3 phiếu" in staff_mail
    assert "Chi bộ khu phố 1" in staff_mail and "Nguyễn Thị Xuân" in staff_mail
    cell_mail = inbox.messages[1][1].get_content()
    assert "2 phiếu nhận xét của chi bộ đang chờ điền" in cell_mail and "Trần Văn Hạ" not in cell_mail
