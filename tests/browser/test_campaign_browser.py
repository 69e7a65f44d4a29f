"""The year-end campaign in a real browser: create it, follow the generation job to the end on its
own (through "Đang tổng hợp kết quả") until the download button appears, then the campaign screen:
progress bar, per-cell table, the overdue filter, the Excel export, the reminder letter, and the
printout that shows only the list."""
from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from docx import Document
from openpyxl import load_workbook

from tests.browser.test_scan_review_browser import sign_in

pytestmark = pytest.mark.browser


def test_campaign_screen_and_job_page(sample_server, page, tmp_path, monkeypatch):
    env = sample_server["env"]
    monkeypatch.setenv("NOICUTRU_INSTANCE_DIR", env["NOICUTRU_INSTANCE_DIR"])
    from sqlalchemy import func, select
    from service import create_app, db
    from service.models import Member, Organisation
    from service.permissions import subtree_ids
    app = create_app()
    with app.app_context():
        sess = db.session()
        committees = sess.scalars(select(Organisation).where(Organisation.kind == "workplace_committee")).all()
        sizes = {c.id: sess.scalar(select(func.count()).select_from(Member).where(
            Member.workplace_org_id.in_(subtree_ids(sess, c.id)), Member.status == "active")) for c in committees}
        committee_id = max(sizes, key=sizes.get)  # the largest: its job runs long enough to be watched
        name, size = sess.get(Organisation, committee_id).name, sizes[committee_id]
    assert size >= 20

    sign_in(page, sample_server)
    page.click("text=Đợt nhận xét")
    page.select_option("select[name=workplace_org_id]", str(committee_id))
    page.fill("input[name=year]", "2026")
    page.fill("input[name=deadline]", "01/12/2026")  # already passed: every sheet not back is overdue
    page.click("text=Lập đợt và tạo phiếu")
    page.wait_for_url(re.compile(r"/campaigns/\d+$"))
    campaign_url = page.url
    assert page.inner_text("#campaign-title") == f"Phiếu nhận xét 2026 — {name}"

    # The job page follows the job by itself to the end; the download button appears without a reload by us.
    page.click("text=Công việc tạo phiếu")
    page.wait_for_url(re.compile(r"/jobs/\d+"))
    assert page.inner_text("#job-title") == f"Phiếu nhận xét 2026 — {name}"
    first_state = page.get_attribute("#job-state", "data-state")
    assert first_state in ("queued", "running", "finishing"), first_state  # still working when the page opened
    assert page.get_attribute("#job-progress", "data-poll")
    page.wait_for_selector("#job-download", timeout=300000)
    assert page.get_attribute("#job-state", "data-state") == "done"
    assert page.eval_on_selector("#job-progress", "el => el.value") == 100
    assert re.search(r"Đã tạo \d+ văn bản", page.inner_text("#job-result"))

    # The campaign screen: totals, a <progress>, every cell; mark all sent.
    page.goto(campaign_url)
    total = int(page.inner_text("#t-total"))
    assert total == size
    assert page.eval_on_selector("#campaign-progress", "el => [el.max, el.value]") == [total, 0]
    assert int(page.inner_text("#t-overdue")) == total
    page.click("text=Ghi nhận đã in và gửi mọi phiếu chưa gửi")
    page.wait_for_selector(".flash.success")
    assert int(page.inner_text("#t-sent")) == total
    cell_rows = page.locator("#cells tbody tr")
    assert cell_rows.count() >= 2
    first_cell = page.locator("#cells tbody tr").first
    cell_id = first_cell.get_attribute("data-cell")
    cell_overdue = int(first_cell.locator(".c-overdue").inner_text())

    # Filter: one cell's overdue sheets.
    page.select_option("#filter-form select[name=cell]", cell_id)
    page.select_option("#filter-form select[name=state]", "overdue")
    page.click("#filter-form >> text=Lọc")
    page.wait_for_url(re.compile(r"state=overdue"))
    assert page.locator("#missing-list tbody tr").count() == cell_overdue

    # Excel export of the filtered list, read back.
    with page.expect_download() as dl:
        page.click("#export-link")
    ws = load_workbook(io.BytesIO(Path(dl.value.path()).read_bytes())).active
    assert len(list(ws.iter_rows(min_row=3, values_only=True))) == cell_overdue

    # The printout shows the list and hides the rest.
    page.emulate_media(media="print")
    assert page.is_visible("#missing-list") and not page.is_visible("#cells") and not page.is_visible("header.top")
    page.emulate_media(media="screen")

    # One click: the reminder letter of that cell, listing its missing sheets.
    with page.expect_download() as dl:
        first_cell.locator("text=Công văn nhắc").click()
    doc = Document(io.BytesIO(Path(dl.value.path()).read_bytes()))
    rows = [r for t in doc.tables for r in t.rows if r.cells[0].text.strip().isdigit()]
    assert len(rows) == cell_overdue
    page.goto(campaign_url)
    assert "Đã nhắc: số 1" in page.inner_text("#cells")
    page.screenshot(path=str(tmp_path / "campaign.png"), full_page=True)
