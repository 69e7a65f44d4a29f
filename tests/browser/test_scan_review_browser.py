"""The review flow in a real browser: upload a scan, see the outlined page, correct a field, apply, undo."""
from __future__ import annotations

import os
import re

import cv2
import pytest

pytestmark = pytest.mark.browser


def sign_in(page, server):
    page.goto(server["url"] + "/login")
    page.fill("input[name=username]", server["username"])
    page.fill("input[name=password]", server["password"])
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/$"))


def test_upload_review_correct_apply_undo(sample_server, page, tmp_path, monkeypatch):
    env = sample_server["env"]
    sign_in(page, sample_server)

    # Issue this year's sheet for the first member from the member page.
    page.goto(sample_server["url"] + "/members/")
    page.click("#members tbody tr:first-child a")
    member_url = page.url
    page.click("#issue-sheet")
    page.wait_for_selector("#evaluations td:has-text('Đã phát hành')")

    # The returned paper: that very sheet, filled in by hand with one item ticked twice.
    monkeypatch.setenv("NOICUTRU_INSTANCE_DIR", env["NOICUTRU_INSTANCE_DIR"])
    from tests.support import synthetic_sheets as synthetic
    from service import create_app, db
    from service.documents.contexts import evaluation_data
    from service.qrkeys import signing_key
    from service.models import Evaluation
    app = create_app()
    with app.app_context():
        sess = db.session()
        member_id = int(member_url.rstrip("/").split("/")[-1])
        ev = sess.query(Evaluation).filter_by(member_id=member_id).one()
        source = synthetic.render_sources([evaluation_data(ev)], mark_key=signing_key())[0]
        unsure_item = source.layout.choice_items()[2]
        img, truth = synthetic.make_page(source, seed=4, level="light", fill_kw={"double_items": (unsure_item.key,)})
        scan = tmp_path / "phieu-tra-ve.jpg"
        cv2.imwrite(str(scan), img, [cv2.IMWRITE_JPEG_QUALITY, 88])
        ev_id = ev.id

    page.click("text=Bản quét")
    page.set_input_files("input[type=file]", str(scan))
    page.click("text=Tải lên và đọc")
    page.wait_for_url(re.compile(r"/scans/batches/\d+"))
    page.click("text=Tiến độ đọc")
    page.wait_for_selector("#job-state[data-state=done]", timeout=120000)

    # The review screen: the page image with the read fields outlined.
    page.goto(sample_server["url"] + "/scans/review")
    page.wait_for_selector("#page-img")
    page.wait_for_function("document.getElementById('page-img').naturalWidth > 0")
    assert page.locator("#overlay rect.field").count() >= 18
    assert page.locator("#overlay rect.unsure").count() >= 1
    assert page.get_attribute("#page-status", "data-status") == "review"
    review_url = page.url
    page.screenshot(path=str(tmp_path / "review.png"), full_page=True)
    # in Vietnamese only, the doubtful item named: no keys, box states or True/None
    from tests.browser.page_checks import english_words
    assert english_words(page) == []
    assert page.locator(f".problem:has-text('Mục {unsure_item.number} ({unsure_item.label}): có hai ô được đánh dấu')").count() == 1

    # Correct the unsure item from the keyboard-friendly form and apply.
    chosen = unsure_item.options[1].key
    page.check(f"input[name=a_{unsure_item.key}][value={chosen}]")
    page.click("#accept")
    page.wait_for_selector(".flash.success")
    with app.app_context():
        sess = db.session()
        ev = sess.get(Evaluation, ev_id)
        assert ev.status == "returned" and ev.answers[unsure_item.key] == chosen
        expected = dict(truth["answers"])
        expected[unsure_item.key] = chosen
        assert ev.answers == expected

    # Undo brings back the sheet as it was.
    page.goto(review_url)
    assert page.get_attribute("#page-status", "data-status") == "applied"
    dialogs: list[str] = []
    page.once("dialog", lambda d: (dialogs.append(d.message), d.accept()))
    page.click("#undo")
    page.wait_for_selector("#page-status[data-status=review]")
    with app.app_context():
        ev = db.session().get(Evaluation, ev_id)
        assert ev.status == "issued" and ev.answers is None
    assert dialogs and "trở lại như trước" in dialogs[0]  # undo asked first, saying what happens
