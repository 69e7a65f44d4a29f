"""The residence cell's digital path in a real browser at phone size: the code from the packet, the
sheet filled with the thumb, the answer applied to the member's record."""
from __future__ import annotations


import pytest

pytestmark = pytest.mark.browser


def test_cell_secretary_answers_a_sheet_online_on_a_phone(sample_server, page, monkeypatch):
    env = sample_server["env"]
    monkeypatch.setenv("NOICUTRU_INSTANCE_DIR", env["NOICUTRU_INSTANCE_DIR"])
    from service import create_app, db
    from service.digital import codes
    from service.documents.sheets import ensure_sheet
    from service.models import AuditEntry, Evaluation, Member, User
    app = create_app()
    with app.app_context():
        sess = db.session()
        member = sess.query(Member).filter(Member.residence_cell_id.is_not(None)).order_by(Member.id).first()
        ev = ensure_sheet(sess, member, 2026)
        code = codes.display(codes.issue(sess, sess.query(User).filter_by(username="admin").one(), ev))
        serial, ev_id, name = ev.sheet_serial, ev.id, member.full_name

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(sample_server["url"] + f"/tra-loi/?serial={serial}")
    assert page.input_value("#serial") == serial
    page.fill("#code", code.lower())
    page.click("text=Mở phiếu")
    page.wait_for_selector("#answer-form")
    assert name in page.inner_text("main")
    # the form fits the phone: nothing wider than the screen
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    # send with item 3 missing: the browser itself asks for it (required radios), nothing is sent
    for fieldset in page.query_selector_all("fieldset.item"):
        if fieldset.get_attribute("data-item") != "meetings":
            fieldset.query_selector_all("input[type=radio]")[0].check()
    page.click("#send")
    assert page.query_selector("#answer-form") is not None
    page.check("fieldset[data-item=meetings] input[value=partial]")
    page.fill("#other_remarks", "Vắng họp tháng 5 vì đi công tác, có báo trước.")
    page.click("#send")
    page.wait_for_selector("#outcome[data-status=applied]")
    assert "Đã ghi nhận" in page.inner_text("#outcome")
    with app.app_context():
        sess = db.session()
        ev = sess.get(Evaluation, ev_id)
        assert ev.status == "returned" and ev.answers["meetings"] == "partial"
        assert ev.other_remarks == "Vắng họp tháng 5 vì đi công tác, có báo trước."
        assert sess.query(AuditEntry).filter_by(member_id=ev.member_id, action="evaluation",
                                                source="digital").count() == 1
    # the code cannot be used twice
    page.goto(sample_server["url"] + f"/tra-loi/?serial={serial}")
    page.fill("#code", code)
    page.click("text=Mở phiếu")
    assert "đã được dùng" in page.inner_text("main")
