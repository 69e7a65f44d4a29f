"""A secretary's morning in a real browser: sign in, import the sample workbook, find a member."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from openpyxl import load_workbook

from service.text import clean, search_key

pytestmark = pytest.mark.browser
SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "members.xlsx"


def a_sample_member() -> str:
    """A full name from the sample workbook (the 'Họ và tên' column), as the registry will store it."""
    ws = load_workbook(SAMPLE, read_only=True).active
    rows = list(ws.iter_rows(values_only=True))
    for i, row in enumerate(rows):
        cells = [search_key(c) for c in row if c]
        if any(c.startswith("ho va ten") or c == "ho ten" for c in cells):
            col = next(j for j, c in enumerate(row) if c and search_key(c) in ("ho va ten", "ho ten"))
            names = [clean(r[col]) for r in rows[i + 1:] if r[col] and " " in clean(r[col])]
            return names[len(names) // 2]
    raise AssertionError("no name column in the sample")


def test_sign_in_import_sample_and_search_without_diacritics(live_server, page, tmp_path):
    base = live_server["url"]
    page.goto(base + "/members/")
    assert "/login" in page.url
    page.fill("input[name=username]", live_server["username"])
    page.fill("input[name=password]", live_server["password"])
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/members/"))

    # The import wizard: upload, preview, confirm.
    page.click("text=Nhập Excel")
    page.set_input_files("input[type=file]", str(SAMPLE))
    page.click("text=Đọc thử và xem trước")
    page.wait_for_selector("#mapping")  # the proposed mapping is right for the sample: go on
    page.click("#to-preview")
    page.wait_for_selector("#summary")
    summary = page.inner_text("#summary")
    created = int(re.search(r"(\d+)\s*Thêm mới", summary).group(1))
    assert created >= 250
    assert re.search(r"0\s*Bị từ chối", summary)
    page.screenshot(path=str(tmp_path / "preview.png"))
    page.click("#confirm")

    # The job page shows its progress and ends done.
    page.wait_for_url(re.compile(r"/jobs/\d+"))
    page.wait_for_selector("#job-state[data-state=done]", timeout=60000)
    assert page.eval_on_selector("#job-progress", "el => el.value") == 100  # a <progress>: no inline style
    assert f"Thêm mới {created}" in page.inner_text("#job-result")

    # Search typed without diacritics finds the member.
    name = a_sample_member()
    typed = search_key(name)
    assert typed != name.lower()  # the name really has diacritics
    page.click("text=Đảng viên")
    page.fill("input[name=q]", typed)
    page.press("input[name=q]", "Enter")
    page.wait_for_selector("#members")
    assert name in page.inner_text("#members")
    page.click(f"#members >> text={name}")
    page.wait_for_selector("h1")
    assert page.inner_text("h1") == name
    assert "Nhập Excel" in page.inner_text("#audit")  # the import is in the member's history
    page.screenshot(path=str(tmp_path / "member.png"))
