"""Issue 9, service side: what the machine applies by itself, and item 7 never lost.

Real scan pipeline (docgen -> LibreOffice -> synthetic fill and scan -> ocr -> service), real
storage, real database (SQLite and PostgreSQL).
"""
from __future__ import annotations

import datetime as dt

from service.models import AuditEntry, Evaluation, Member, ScanPage
from service.scans import policy, remarks
from tests.test_scans import members, png, sources, staff, upload  # noqa: F401  (fixtures)

# clean marks only (tick, cross, fill): a circle or a correction always goes to a person (issue 9)
CLEAN_STYLES = ("tick", "cross", "fill")


def _page(sess, page_id: int) -> ScanPage:
    page = sess.get(ScanPage, page_id)
    sess.refresh(page)
    return page


def _evaluation(sess, member) -> Evaluation:
    ev = sess.query(Evaluation).filter_by(member_id=member.id).one()
    sess.refresh(ev)
    return ev


def test_genuine_qr_pasted_on_another_members_sheet_goes_to_review(app, sess, sources, staff, members):
    """Member 1's genuine QR on member 0's printed sheet: nothing applied, the reviewer told why."""
    from tests.support import synthetic_sheets as synthetic
    img, _ = synthetic.make_page(sources[0], seed=21, level="light",
                                 fill_kw={"qr_payload": sources[1].qr_payload, "scribble_items": 0})
    page = upload(staff, [("dan-qr.png", png(img))])["pages"][0]
    assert page["status"] == "review", page
    assert page["qr_valid"] is True and page["member_id"] == members[1].id
    mismatch = [p for p in page["problems"] if p["code"] == "name_mismatch"]
    assert mismatch, page["problems"]
    assert members[1].full_name in mismatch[0]["message_vi"] and "không khớp" in mismatch[0]["message_vi"]
    for m in members[:2]:
        ev = _evaluation(sess, m)
        assert ev.status == "issued" and ev.answers is None
    assert sess.query(AuditEntry).filter_by(action="evaluation").count() == 0
    html = staff.get(f"/scans/pages/{page['id']}").get_data(as_text=True)
    assert "không khớp với đảng viên theo mã QR" in html


def test_cancelled_item_goes_to_review_with_the_item_named_and_outlined(app, sess, sources, staff, members):
    from tests.support import synthetic_sheets as synthetic
    img, truth = synthetic.make_page(sources[2], seed=8, level="light", fill_kw={"scribble_items": 1})
    (scribbled,) = truth["scribbled"]
    page = upload(staff, [("sua-chua.png", png(img))])["pages"][0]
    assert page["status"] == "review", page
    item = next(i for i in sources[2].layout.choice_items() if i.key == scribbled)
    doubt = next(p for p in page["problems"] if p["code"] == "item_doubt" and p["item"] == scribbled)
    assert doubt["message_vi"].startswith(f"Mục {item.number} (")
    assert doubt["boxes"] and all(b.startswith(f"{scribbled}.") for b in doubt["boxes"])
    assert _evaluation(sess, members[2]).status == "issued"
    html = staff.get(f"/scans/pages/{page['id']}").get_data(as_text=True)
    assert f'class="doubt" data-name="{doubt["boxes"][0]}"' in html
    assert f"Mục {item.number} (" in html
    # the person decides: the reviewer's answers are applied
    resp = staff.post(f"/api/scan-pages/{page['id']}/apply", json={"answers": truth["answers"]})
    assert resp.status_code == 200, resp.get_json()
    assert _evaluation(sess, members[2]).answers == truth["answers"]


def test_blocking_table_unknown_codes_block(app, sess, sources, staff, members):
    """A clean page is applied; the same reading with a problem code nobody listed would not be."""
    from tests.support import synthetic_sheets as synthetic
    img, truth = synthetic.make_page(sources[0], seed=11, level="light",
                                     fill_kw={"scribble_items": 0, "remarks": False, "allowed_styles": CLEAN_STYLES})
    page = upload(staff, [("sach.png", png(img))])["pages"][0]
    assert page["status"] == "applied", page
    reading = _page(sess, page["id"]).reading
    assert policy.may_apply_automatically(reading, [])
    assert not policy.may_apply_automatically(reading, [{"code": "box_circled_new_in_reader"}])
    assert not policy.may_apply_automatically(reading, [{"code": "item_cancelled"}])
    assert policy.may_apply_automatically(reading, [{"code": "text_layer"}])
    assert policy.blocks("name_mismatch") and policy.blocks("anything_else") and not policy.blocks("remarks_pending")


def test_name_check_decisions():
    """Confident other name: mismatch; confident or not, the right name (OCR noise, no diacritics): confirmed;
    an unsure read of something else, or nothing read: not confirmed (review), never a mismatch."""
    member = Member()
    member.set_name("Nguyễn Văn Ánh")

    def reading(value, conf):
        return {"fields": [{"name": "member_full_name", "value": value, "confidence": conf, "kind": "text"}]}

    assert policy.name_check(reading("Nguyễn Văn Ánh", 0.95), member) is None
    assert policy.name_check(reading("NGUYEN VAN ANH", 0.4), member) is None
    assert policy.name_check(reading("Nguyễn Vàn Ảnh.", 0.7), member) is None
    assert policy.name_check(reading("Trần Thị Hường", 0.96), member)["code"] == "name_mismatch"
    assert policy.name_check(reading("Trần Thị Hường", 0.3), member)["code"] == "name_unconfirmed"
    assert policy.name_check(reading("", 0.0), member)["code"] == "name_unconfirmed"
    assert policy.name_check({"fields": []}, member)["code"] == "name_unconfirmed"


def test_item7_on_an_automatically_applied_page_waits_for_transcription(app, sess, sources, staff, members,
                                                                        make_user, login, orgs):
    from tests.support import synthetic_sheets as synthetic
    files = []
    for i in (0, 1):
        img, _ = synthetic.make_page(sources[i], seed=31 + i, level="light",
                                     fill_kw={"scribble_items": 0, "remarks": True, "allowed_styles": CLEAN_STYLES})
        files.append((f"nhan-xet-{i}.png", png(img)))
    pages = upload(staff, files)["pages"]
    assert [p["status"] for p in pages] == ["applied"] * 2, [(p["status"], p["problems"]) for p in pages]
    ev0, ev1 = (_evaluation(sess, m) for m in members[:2])
    # answers applied, the remark waits with its crop attached
    for ev in (ev0, ev1):
        assert ev.status == "returned" and ev.answers and ev.remarks_status == "pending"
        assert ev.remarks_file_id is not None and ev.other_remarks is None

    # the member's page says so and shows the crop
    html = staff.get(f"/members/{members[0].id}").get_data(as_text=True)
    assert "Nhận xét khác: chờ nhập" in html
    crop = staff.get(f"/scans/transcriptions/{ev0.id}/crop.png")
    assert crop.status_code == 200 and crop.data[:8] == b"\x89PNG\r\n\x1a\n"

    # listed for transcription (page and API)
    listed = staff.get("/api/transcriptions").get_json()["items"]
    assert [x["evaluation_id"] for x in listed] == [ev0.id, ev1.id]
    queue = staff.get("/scans/transcriptions/").get_data(as_text=True)
    assert f'data-evaluation="{ev0.id}"' in queue and "Còn 2 nhận xét chờ nhập" in queue

    # a cell secretary sees the member but does not write: refused, nothing changes
    secretary = login(make_user("bithu", role="cell_secretary", organisation=orgs["cell1"]))
    resp = secretary.post(f"/api/transcriptions/{ev0.id}", json={"text": "Không được ghi"})
    assert resp.status_code == 403 and resp.get_json()["error"]["code"] == "forbidden"
    assert secretary.get("/api/transcriptions").get_json()["items"] == []
    # empty text: a clear error, nothing changes
    resp = staff.post(f"/api/transcriptions/{ev0.id}", json={"text": "  \n "})
    assert resp.status_code == 400 and resp.get_json()["error"]["code"] == "remarks_empty"
    sess.refresh(ev0)
    assert ev0.remarks_status == "pending" and ev0.other_remarks is None

    # typed through the page (then the queue moves to the next one) ...
    resp = staff.post(f"/scans/transcriptions/{ev0.id}", data={"text": "Vắng họp tháng 3  có báo trước."})
    assert resp.status_code == 302 and f"after={ev0.id}" in resp.headers["Location"]
    # ... and through the API
    resp = staff.post(f"/api/transcriptions/{ev1.id}", json={"text": "Tích cực tham gia phong trào."})
    assert resp.status_code == 200 and resp.get_json()["remarks_status"] == "transcribed"
    sess.refresh(ev0)
    sess.refresh(ev1)
    assert ev0.other_remarks == "Vắng họp tháng 3 có báo trước." and ev0.remarks_status == "transcribed"
    assert ev1.other_remarks == "Tích cực tham gia phong trào."
    assert staff.get("/api/transcriptions").get_json()["items"] == []
    assert "Không còn nhận xét nào chờ nhập" in staff.get("/scans/transcriptions/").get_data(as_text=True)

    # audited, with who did it
    audits = sess.query(AuditEntry).filter_by(action="evaluation_remarks").order_by(AuditEntry.id).all()
    assert [(a.member_id, a.source) for a in audits] == [(members[0].id, "ui"), (members[1].id, "api")]
    assert all(a.user_id is not None and a.before["remarks_status"] == "pending" for a in audits)
    assert audits[0].after["other_remarks"] == "Vắng họp tháng 3 có báo trước."
    html = staff.get(f"/members/{members[0].id}").get_data(as_text=True)
    # the sheet no longer says it waits (the history below still tells «chờ nhập» → «đã nhập»)
    assert "Vắng họp tháng 3 có báo trước." in html and "Nhận xét khác: chờ nhập" not in html
    assert "đang chờ nhập" not in html and 'data-remarks-status="transcribed"' in html
    assert "«chờ nhập» → «đã nhập»" in html


def test_remark_kept_when_the_reader_sees_writing_or_is_not_sure():
    from forms.definition import Item
    item = Item(number=7, key="other_remarks", label="Nhận xét khác", type="free_text")

    def reading(value, conf):
        return {"fields": [{"name": "other_remarks_present", "value": value, "confidence": conf, "kind": "presence"}]}

    assert remarks.has_writing(reading(True, 0.9), item)
    assert remarks.has_writing(reading(False, 0.5), item)  # not sure it is empty: a person looks
    assert not remarks.has_writing(reading(False, 0.95), item)
    assert not remarks.has_writing({"fields": []}, item)


def test_undo_takes_the_waiting_remark_back(app, sess, sources, staff, members):
    from tests.support import synthetic_sheets as synthetic
    img, _ = synthetic.make_page(sources[1], seed=41, level="light", fill_kw={"scribble_items": 0, "remarks": True, "allowed_styles": CLEAN_STYLES})
    page = upload(staff, [("hoan-tac.png", png(img))])["pages"][0]
    assert page["status"] == "applied", page
    assert _evaluation(sess, members[1]).remarks_status == "pending"
    assert staff.post(f"/api/scan-pages/{page['id']}/undo").status_code == 200
    ev = _evaluation(sess, members[1])
    assert ev.status == "issued" and ev.remarks_status is None and ev.remarks_file_id is None
    assert staff.get("/api/transcriptions").get_json()["items"] == []


def test_reviewer_typing_the_remark_is_its_transcription(app, sess, sources, staff, members):
    from tests.support import synthetic_sheets as synthetic
    img, truth = synthetic.make_page(sources[0], seed=51, level="light", fill_kw={"scribble_items": 0, "remarks": True, "allowed_styles": CLEAN_STYLES})
    page = upload(staff, [("duyet.png", png(img))], auto="0")["pages"][0]
    assert page["status"] == "review"
    resp = staff.post(f"/api/scan-pages/{page['id']}/apply",
                      json={"answers": truth["answers"], "other_remarks": "Gương mẫu."})
    assert resp.status_code == 200, resp.get_json()
    ev = _evaluation(sess, members[0])
    assert ev.other_remarks == "Gương mẫu." and ev.remarks_status == "transcribed" and ev.remarks_file_id
    assert ev.returned_on == dt.date.today()

