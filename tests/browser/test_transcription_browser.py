"""Item 7 in a real browser: two sheets with handwritten remarks applied automatically, then the
transcription queue from the keyboard only: look at the crop, type, Enter, next."""
from __future__ import annotations

import re

import cv2
import pytest

from tests.browser.test_scan_review_browser import sign_in

pytestmark = pytest.mark.browser


def test_transcription_queue_by_keyboard(sample_server, page, tmp_path, monkeypatch):
    env = sample_server["env"]
    monkeypatch.setenv("NOICUTRU_INSTANCE_DIR", env["NOICUTRU_INSTANCE_DIR"])
    from tests.support import synthetic_sheets as synthetic
    from service import create_app, db
    from service.documents.contexts import evaluation_data
    from service.documents.sheets import ensure_sheet
    from service.models import Evaluation, Member
    from service.qrkeys import signing_key
    app = create_app()
    scans, ev_ids, names = [], [], []
    with app.app_context():
        sess = db.session()
        for i, member in enumerate(sess.query(Member).order_by(Member.id).limit(2).all()):
            ev = ensure_sheet(sess, member, 2026)
            source = synthetic.render_sources([evaluation_data(ev)], mark_key=signing_key())[0]
            img, _ = synthetic.make_page(source, seed=60 + i, level="light",
                                         fill_kw={"scribble_items": 0, "remarks": True})
            scan = tmp_path / f"phieu-{i}.jpg"
            cv2.imwrite(str(scan), img, [cv2.IMWRITE_JPEG_QUALITY, 90])
            scans.append(str(scan))
            ev_ids.append(ev.id)
            names.append(member.full_name)

    sign_in(page, sample_server)
    page.click("text=Bản quét")
    page.set_input_files("input[type=file]", scans)
    page.click("text=Tải lên và đọc")
    page.wait_for_url(re.compile(r"/scans/batches/\d+"))
    # The batch page follows its reading job by itself and shows the pages when it is done.
    page.wait_for_selector("#job-state[data-state=done]", timeout=180000)
    assert page.locator("#pages tbody tr").count() == 2
    page.click("text=Tiến độ đọc")
    page.wait_for_selector("#job-state[data-state=done]")
    with app.app_context():
        evs = [db.session().get(Evaluation, i) for i in ev_ids]
        assert [(e.status, e.remarks_status) for e in evs] == [("returned", "pending")] * 2

    # The queue: the first crop, the text box already focused.
    page.goto(sample_server["url"] + "/scans/")
    page.click("#transcriptions-link")
    page.wait_for_selector(f"#transcription[data-evaluation='{ev_ids[0]}']")
    assert page.get_attribute("#waiting", "data-count") == "2"
    page.wait_for_function("document.getElementById('remark-crop').naturalWidth > 100")
    assert page.evaluate("document.activeElement.id") == "remark-text"
    page.keyboard.type("Vắng họp tháng 3 có báo trước.")
    page.keyboard.press("Shift+Enter")
    page.keyboard.type("Tích cực dọn vệ sinh khu phố.")
    page.keyboard.press("Enter")

    # Saved; the next one comes up focused. Esc skips it (it stays in the queue), then it is typed.
    page.wait_for_selector(f"#transcription[data-evaluation='{ev_ids[1]}']")
    assert page.get_attribute("#waiting", "data-count") == "1"
    page.keyboard.press("Escape")
    page.wait_for_selector(f"#transcription[data-evaluation='{ev_ids[1]}']")
    page.keyboard.type("Gương mẫu.")
    page.keyboard.press("Enter")
    page.wait_for_selector("#queue-empty")
    page.screenshot(path=str(tmp_path / "transcriptions-done.png"), full_page=True)

    with app.app_context():
        evs = [db.session().get(Evaluation, i) for i in ev_ids]
        assert evs[0].other_remarks == "Vắng họp tháng 3 có báo trước.\nTích cực dọn vệ sinh khu phố."
        assert evs[1].other_remarks == "Gương mẫu."
        assert all(e.remarks_status == "transcribed" for e in evs)
        member_id = evs[0].member_id

    # The member's page shows the typed remark, the crop kept beside it.
    page.goto(f"{sample_server['url']}/members/{member_id}")
    assert page.locator("#evaluations td.remarks").first.inner_text().startswith("Vắng họp tháng 3")
    assert page.locator("#evaluations img.remark-crop").count() == 1
