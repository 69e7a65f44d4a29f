"""Pages read like a Vietnamese office tool: the review screen speaks Vietnamese, times are Vietnam time,
lists sort the Vietnamese way (given name, then family name), destructive actions ask first."""
from __future__ import annotations

import datetime as dt
import html as htmllib
import re

from service.display import vn_time
from service.models import Member
from service.text import vi_sorted
from tests.browser.page_checks import internal_names
from tests.test_scans import CLEAN, members, png, sources, staff, upload  # noqa: F401 (fixtures)


def visible_text(page_html: str) -> str:
    """What a person reads: text between tags (SVG tooltips included), attributes and scripts left out."""
    body = re.sub(r"<script.*?</script>", " ", page_html, flags=re.S)
    return htmllib.unescape(re.sub(r"<[^>]+>", " ", body))


def english_in(text: str) -> set[str]:
    words = set(re.findall(r"[A-Za-z_][A-Za-z0-9_.]*[A-Za-z0-9_]", text))
    return {w for w in words if w in internal_names()}


def test_vietnamese_order_given_name_first_then_family_with_its_letters():
    names = ["Nguyễn Văn Đức", "Trần Thị Anh", "Lê Văn Dũng", "Phạm Ánh", "Hoàng Thị Ân", "Đỗ Ăn", "Lê Anh",
             "Bùi Thị Ba", "Lê Ơn", "Lê Ôn", "Lê On", "Lý Ư", "Lê Uy"]
    assert vi_sorted(names) == ["Lê Anh", "Phạm Ánh", "Trần Thị Anh", "Đỗ Ăn", "Hoàng Thị Ân", "Bùi Thị Ba",
                                "Lê Văn Dũng", "Nguyễn Văn Đức", "Lê On", "Lê Ôn", "Lê Ơn", "Lê Uy", "Lý Ư"]


def test_times_are_shown_in_vietnam_time():
    assert vn_time(dt.datetime(2026, 1, 1, 17, 30)) == "02/01/2026 00:30"  # stored UTC, read UTC+7
    assert vn_time(None) == ""


def test_member_list_is_sorted_by_given_name_in_vietnamese_order(app, sess, orgs, login, make_user):
    for i, name in enumerate(["Trần Văn Đức", "Lê Thị Dung", "Nguyễn Văn Ân", "Phạm Anh", "Vũ Thị Ăn"]):
        m = Member(card_number=f"7{i}", residence_cell_id=orgs["cell1"].id, status="active")
        m.set_name(name)
        sess.add(m)
    sess.commit()
    client = login(make_user("quantri"))
    page = client.get("/members/").get_data(as_text=True)
    shown = [n for n in re.findall(r">([^<>]+)</a>", page) if n in
             {"Trần Văn Đức", "Lê Thị Dung", "Nguyễn Văn Ân", "Phạm Anh", "Vũ Thị Ăn"}]
    assert shown == ["Phạm Anh", "Vũ Thị Ăn", "Nguyễn Văn Ân", "Lê Thị Dung", "Trần Văn Đức"]


def test_review_screen_names_items_and_states_in_vietnamese(app, sess, sources, staff, members):
    from tests.support import synthetic_sheets as synthetic
    item = sources[0].layout.choice_items()[2]  # item 3, ticked twice
    img, _ = synthetic.make_page(sources[0], seed=9, level="light", fill_kw={**CLEAN, "double_items": (item.key,)})
    page = upload(staff, [("hai-o.png", png(img))], auto="0")["pages"][0]
    html = staff.get(f"/scans/pages/{page['id']}").get_data(as_text=True)
    text = visible_text(html)
    assert not english_in(text), english_in(text)
    for word in ("True", "False", "None", "ticked", "other_remarks", "setting_example.good_example"):
        assert word not in text
    assert f"Mục {item.number} ({item.label}): có hai ô được đánh dấu." in text
    assert f"Mục {item.number}, ô «{item.options[0].label}»" in text  # a tick box of the fields table
    assert "Nhận xét khác" in text and "Được đánh dấu" in text
    # the member list holds the QR's member only, unless the reviewer asks for all
    options = re.findall(r'<option value="(\d+)"', html)
    assert options == [str(members[0].id)]
    everyone = staff.get(f"/scans/pages/{page['id']}?all_members=1").get_data(as_text=True)
    assert len(re.findall(r'<option value="(\d+)"', everyone)) == len(members)
    # reject and undo ask first and say what will happen
    assert re.search(r'id="reject-form" data-confirm="Loại trang #\d+\? Trang sẽ không được dùng', html)


def test_member_form_keeps_what_was_typed_and_accepts_every_date_spelling(app, sess, orgs, login, make_user):
    client = login(make_user("quantri"))
    typed = {"full_name": "Đặng Thị Hồng", "card_number": "93001", "date_of_birth": "31/02/1985",
             "admission_date": "2010-05-19", "phone": "0912 345 678", "house": "Số 12 Trần Phú",
             "residence_cell_id": str(orgs["cell1"].id), "status": "active", "notes": "Chuyển về từ Hà Nội"}
    resp = client.post("/members/new", data=typed)
    assert resp.status_code == 400
    page = resp.get_data(as_text=True)
    assert sess.query(Member).filter_by(card_number="93001").count() == 0  # nothing recorded
    for value in ("Đặng Thị Hồng", "93001", "31/02/1985", "0912 345 678", "Số 12 Trần Phú", "Chuyển về từ Hà Nội"):
        assert value in page, value
    assert '<input type="date" name="admission_date" value="2010-05-19">' in page  # the picker keeps its date
    two = client.post("/members/new", data={**typed, "full_name": "", "gender": "nam"}).get_data(as_text=True)
    message = re.search(r'<div class="flash error"[^>]*>([^<]+)</div>', two).group(1)
    assert message.count(";") >= 1 and ".;" not in message and message.endswith(".")  # one sentence, two faults
    assert f'<option value="{orgs["cell1"].id}" selected' in page
    # d-m-yyyy typed, and the picker's yyyy-mm-dd, are both dates
    resp = client.post("/members/new", data={**typed, "date_of_birth": "2-9-1985"})
    assert resp.status_code == 302, resp.get_data(as_text=True)
    m = sess.query(Member).filter_by(card_number="93001").one()
    assert m.date_of_birth == dt.date(1985, 9, 2) and m.admission_date == dt.date(2010, 5, 19)


def test_bulk_generation_by_name_or_card_shows_the_count_before_starting(app, sess, orgs, login, make_user):
    from service.models import Job
    for i, (name, card) in enumerate([("Hoàng Văn Bình", "01.000101"), ("Hoàng Văn Bình", "01.000102"),
                                      ("Ngô Thị Lan", "01.000103"), ("Trịnh Minh Châu", "01.000104")]):
        m = Member(card_number=card, residence_cell_id=orgs["cell1"].id, workplace_org_id=orgs["tax_cell"].id,
                   status="active", date_of_birth=dt.date(1980 + i, 1, 2))
        m.set_name(name)
        sess.add(m)
    sess.commit()
    client = login(make_user("quantri"))
    page = client.get("/documents/").get_data(as_text=True)
    # the committee, then its cells
    assert page.index("Đảng ủy Cục Thuế tỉnh</option>") < page.index("Chi bộ Phòng Kiểm tra</option>")
    form = {"kind": "evaluation_sheet", "year": "2026", "outputs": "zip", "members": "Hoàng Văn Bình\nngo thi lan"}
    # a name two people share: both are shown with their card numbers, nothing starts, the text stays
    page = client.post("/documents/", data={**form, "step": "start"}).get_data(as_text=True)
    assert "«Hoàng Văn Bình»: có 2 người cùng họ tên (số thẻ 01.000101" in page and "01.000102" in page
    assert "Hoàng Văn Bình\nngo thi lan</textarea>" in page and sess.query(Job).count() == 0
    # names and card numbers: the count first, then the start
    form["members"] = "01.000102\nngo thi lan"
    page = client.post("/documents/", data={**form, "step": "count"}).get_data(as_text=True)
    assert "Sẽ lập 2 phiếu nhận xét đảng viên nơi cư trú năm 2026 cho 2 đảng viên" in page
    assert 'id="bulk-start"' in page and sess.query(Job).count() == 0
    resp = client.post("/documents/", data={**form, "step": "start"})
    assert resp.status_code == 302
    job = sess.query(Job).one()
    assert job.progress_total == 2


def test_receipt_slip_under_review_takes_the_date_written_on_it(app, sess, members, staff):
    from service.documents.render import render_record, to_pdf
    from service.models import Introduction
    intro_id = staff.post(f"/api/members/{members[0].id}/introductions").get_json()["id"]
    intro = sess.get(Introduction, intro_id)
    pdf = to_pdf("giay.docx", render_record(sess, intro))
    page = upload(staff, [("phieu-bao.pdf", pdf)], auto="0")["pages"][0]
    assert page["kind"] == "introduction_receipt" and page["status"] == "review", page
    html = staff.get(f"/scans/pages/{page['id']}").get_data(as_text=True)
    assert 'name="received_on"' in html and "Ngày tiếp nhận ghi trên phiếu báo" in html
    bad = staff.post(f"/scans/pages/{page['id']}/apply", data={"received_on": "31/02/2026"}, follow_redirects=True)
    assert "Ngày tiếp nhận ghi trên phiếu báo không hợp lệ" in bad.get_data(as_text=True)
    sess.refresh(intro)
    assert intro.received_on is None  # nothing recorded
    intro.issued_on = dt.date(2026, 11, 2)  # issued before the date written on the slip
    sess.commit()
    staff.post(f"/scans/pages/{page['id']}/apply", data={"received_on": "2026-11-20"})
    sess.refresh(intro)
    assert intro.received_on == dt.date(2026, 11, 20)
