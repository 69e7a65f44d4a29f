"""The chart page in a real browser: a workplace committee's staffer opens the results of a year,
sees the return rate per residence cell, the distribution per item and the flagged member, drawn
as SVG under the strict CSP (the page fixture fails on any CSP violation)."""
from __future__ import annotations

import re

import pytest

from tests.support import results_world as rw
from tests.support.services import add_org

pytestmark = pytest.mark.browser
YEAR = 2026


def seed(env, monkeypatch) -> None:
    monkeypatch.setenv("NOICUTRU_INSTANCE_DIR", env["NOICUTRU_INSTANCE_DIR"])
    from service import create_app, db
    from service.auth import hash_password
    from service.models import User
    app = create_app()
    with app.app_context():
        sess = db.session()
        province = add_org(sess, "Đảng bộ tỉnh Quảng Ninh", "party_body")
        tax = add_org(sess, "Đảng ủy Cục Thuế tỉnh", "workplace_committee", province)
        tax_cell = add_org(sess, "Chi bộ Phòng Kiểm tra", "workplace_cell", tax)
        ward = add_org(sess, "Đảng ủy phường Hồng Hà", "ward_committee", province)
        cell1 = add_org(sess, "Chi bộ khu phố 1", "residence_cell", ward)
        cell2 = add_org(sess, "Chi bộ khu phố 2", "residence_cell", ward)
        sess.commit()
        staff = User(username="thue", full_name="Cán bộ Thuế", role="workplace_staff", organisation_id=tax.id,
                     password_hash=hash_password("mat-khau-dai-1"))
        sec = User(username="bithu1", full_name="Bí thư Khu phố 1", role="cell_secretary", organisation_id=cell1.id,
                   password_hash=hash_password("mat-khau-dai-1"))
        sess.add_all([staff, sec])
        sess.commit()
        rw.world(sess, {"tax_cell": tax_cell, "cell1": cell1, "cell2": cell2}, staff, sec, YEAR)
        db.engine().dispose()


def test_chart_page_in_chromium(live_server, page, monkeypatch, tmp_path):
    seed(live_server["env"], monkeypatch)
    base = live_server["url"]
    page.goto(base + "/login")
    page.fill("input[name=username]", "thue")
    page.fill("input[name=password]", "mat-khau-dai-1")
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/$"))
    # "Sinh hoạt" leads the staffer to the absence list; certifying one request asks first
    page.click("header nav >> text=Sinh hoạt")
    page.wait_for_selector("#absence-list")
    page.select_option("#year-picker select[name=year]", str(YEAR))
    page.click("#year-picker button[type=submit]")
    page.on("dialog", lambda d: d.accept())
    page.click("#absence-list tr:has-text('Nguyễn Văn Có Đơn') button.certify")
    page.wait_for_selector("#absence-list tr:has-text('Nguyễn Văn Có Đơn')[data-excused=yes]")
    assert page.locator("#absence-list tr:has-text('Trần Thị Chưa Xác Nhận')[data-excused=no]").count() == 1
    page.click("header nav >> text=Kết quả nhận xét")
    page.select_option("#report-picker select[name=org_id]", label="Chi bộ Phòng Kiểm tra")
    page.select_option("#report-picker select[name=year]", str(YEAR))
    page.click("#report-picker button[type=submit]")
    page.wait_for_selector("#report")
    assert "Không được xếp loại Hoàn thành tốt nhiệm vụ trở lên" in page.inner_text("#report tr:has-text('Trần Thị Chưa Xác Nhận')")
    page.click("#report-charts")
    page.wait_for_selector("svg#chart-return-rate")
    bars = page.locator("svg#chart-return-rate g.bar rect")
    assert bars.count() == 2
    full = page.locator("svg#chart-return-rate g.bar[data-label='Chi bộ khu phố 1'] rect").bounding_box()
    none = page.locator("svg#chart-return-rate g.bar[data-label='Chi bộ khu phố 2'] rect").bounding_box()
    assert full["width"] > 100 and none["width"] < 5  # 3 of 3 returned against 0 of 1
    assert page.locator("svg.chart").count() == 1 + 6  # the return rate and one chart per item
    item3 = page.locator("svg#chart-item-3")
    assert "Tham gia chưa đầy đủ" in item3.text_content()
    assert page.locator("svg#chart-item-3 g.bar[data-label='Tham gia chưa đầy đủ']").get_attribute("data-value") == "3"
    page.screenshot(path=str(tmp_path / "charts.png"), full_page=True)
    assert page.locator("#flagged tbody tr").count() == 1
    assert "Trần Thị Chưa Xác Nhận" in page.inner_text("#flagged")

    # the member's page: this year's answers as labels, the source, the absence and its request
    page.click("#flagged a:has-text('Trần Thị Chưa Xác Nhận')")
    page.wait_for_selector("#results")
    row = page.inner_text(f"#results tr[data-year='{YEAR}']")
    assert "Tham gia chưa đầy đủ" in row and "Bản quét" in row and "partial" not in row
    assert "Vắng không có lý do (đơn xin vắng chưa được xác nhận)" in page.inner_text("body")
    page.screenshot(path=str(tmp_path / "member.png"), full_page=True)
