"""A secretary imports another office's list in a real browser: upload, fix the column mapping
(with the keyboard), read the preview, confirm, then undo the import."""
from __future__ import annotations

import re

import pytest

from tests.support.member_lists import TUNING, Layout, people, render

pytestmark = pytest.mark.browser


def test_upload_map_preview_confirm_undo(live_server, page, tmp_path):
    base = TUNING[1]  # two-row header, dates split by gender, (1) (2) (3) row, signature block
    layout = Layout("browser", base.doc, base.columns + [("hometown", "Quê quán")], title_rows=base.title_rows,
                    number_row=base.number_row, footer=True, card_style="plain", phone_style="dots",
                    date_style="dmy")
    path = tmp_path / "danh sach chi bo.xlsx"
    path.write_bytes(render(layout, people(25, seed=3)))

    page.goto(live_server["url"] + "/login")
    page.fill("input[name=username]", live_server["username"])
    page.fill("input[name=password]", live_server["password"])
    page.click("button[type=submit]")
    page.goto(live_server["url"] + "/import/")
    page.set_input_files("input[type=file]", str(path))
    page.click("text=Đọc thử và xem trước")

    # Step 2: every column with its header, samples and proposed field; the unknown column is a warning.
    page.wait_for_selector("#mapping")
    assert "Bước 2: Ghép cột với trường" in page.inner_text("ol.steps")
    assert "Ngày sinh / Nữ" in page.inner_text("#mapping")
    assert page.input_value("#col_C") == "date_of_birth_male"
    assert page.input_value("#col_D") == "date_of_birth_female"
    warning = page.inner_text("#unmapped")
    assert "Quê quán" in warning and "25 dòng" in warning
    last = page.locator("#mapping tbody tr").last
    letter = last.get_attribute("data-letter")
    select = f"#col_{letter}"
    assert page.input_value(select) == ""
    page.focus(select)  # the keyboard: focus the field, choose, tab on, Enter on the button
    page.select_option(select, "notes")
    page.keyboard.press("Tab")
    page.focus("#to-preview")
    page.keyboard.press("Enter")

    # Step 3: the preview
    page.wait_for_selector("#summary")
    summary = page.inner_text("#summary")
    assert re.search(r"25\s*Thêm mới", summary) and re.search(r"0\s*Bị từ chối", summary)
    assert page.locator("#unmapped").count() == 0
    new_orgs = page.inner_text("#new-orgs")
    assert "Đảng ủy phường Hồng Hà" in new_orgs and "Hồng Hà" in new_orgs
    assert "Sở Tài chính tỉnh Quảng Ninh" not in new_orgs  # the employer is not a party organisation
    # a new ward's place name comes from its name; the secretary may give another
    place = page.locator("input[name='place_Đảng ủy phường Bãi Cháy']")
    assert place.input_value() == "Bãi Cháy"
    place.fill("Hạ Long")
    page.click("#save-places")
    page.wait_for_selector("text=Đã lưu địa danh")
    assert page.locator("input[name='place_Đảng ủy phường Bãi Cháy']").input_value() == "Hạ Long"
    page.click("#skipped summary")
    skipped = page.inner_text("#skipped")
    assert "dòng đánh số cột" in skipped and "phần ký tên" in skipped
    assert "Phiếu nhận xét: được" in page.inner_text("#preview-rows")
    page.screenshot(path=str(tmp_path / "preview.png"))
    page.click("#confirm")

    # Step 4: the job runs to the end
    page.wait_for_url(re.compile(r"/jobs/\d+"))
    page.wait_for_selector("#job-state[data-state=done]", timeout=60000)
    assert "Thêm mới 25" in page.inner_text("#job-result")
    page.goto(live_server["url"] + "/import/")  # the recent imports, newest first
    page.click("table.grid a >> nth=0")
    page.wait_for_selector("#undo")
    page.once("dialog", lambda d: d.accept())
    page.click("#undo")
    page.wait_for_selector("text=Đã hoàn tác lần nhập")
    assert "đã được hoàn tác" in page.inner_text("#batch-status")
    page.goto(live_server["url"] + "/members/")
    assert "Không có đảng viên nào" in page.content()
