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
