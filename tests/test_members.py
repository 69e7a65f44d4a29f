"""Members through pages and API: search without diacritics, filters, paging, edits with audit, roles."""
import datetime as dt

import pytest

from service.models import AuditEntry, Member


def add_member(sess, name, card, workplace, cell, **kw):
    m = Member(card_number=card, workplace_org_id=workplace.id, residence_cell_id=cell.id if cell else None,
               status=kw.pop("status", "active"), **kw)
    m.set_name(name)
    sess.add(m)
    sess.commit()
    return m


@pytest.fixture
def people(sess, orgs):
    return {
        "a": add_member(sess, "Nguyễn Văn Á", "001", orgs["tax_cell"], orgs["cell1"], date_of_birth=dt.date(1980, 5, 2)),
        "b": add_member(sess, "Trần Thị Đào", "002", orgs["tax"], orgs["cell2"]),
        "c": add_member(sess, "Lê Đức Thọ Sáu", "003", orgs["hospital"], orgs["cell1"], status="exempt_meetings"),
        "d": add_member(sess, "Phạm Văn Đồng Bảy", "004", orgs["hospital"], orgs["other_cell"]),
    }


def names(resp):
    return {m["full_name"] for m in resp.get_json()["items"]}


def test_search_ignores_diacritics_and_case(app, make_user, login, people):
    client = login(make_user("admin"))
    assert names(client.get("/api/members?q=nguyen van a")) == {"Nguyễn Văn Á"}
    assert names(client.get("/api/members?q=DAO")) == {"Trần Thị Đào"}
    assert names(client.get("/api/members?q=Đồng")) == {"Phạm Văn Đồng Bảy"}
    page = client.get("/members/?q=nguyen+van+a").get_data(as_text=True)
    assert "Nguyễn Văn Á" in page and "Trần Thị Đào" not in page


def test_filters_and_paging(app, make_user, login, people, orgs):
    client = login(make_user("admin"))
    assert names(client.get(f"/api/members?workplace_org_id={orgs['tax'].id}")) == {"Nguyễn Văn Á", "Trần Thị Đào"}
    assert names(client.get(f"/api/members?residence_cell_id={orgs['cell1'].id}")) == {"Nguyễn Văn Á", "Lê Đức Thọ Sáu"}
    assert names(client.get(f"/api/members?ward_id={orgs['ward'].id}")) == {"Nguyễn Văn Á", "Trần Thị Đào", "Lê Đức Thọ Sáu"}
    assert names(client.get("/api/members?status=exempt_meetings")) == {"Lê Đức Thọ Sáu"}
    p1 = client.get("/api/members?per_page=3&page=1").get_json()
    p2 = client.get("/api/members?per_page=3&page=2").get_json()
    assert p1["total"] == 4 and len(p1["items"]) == 3 and len(p2["items"]) == 1
    assert not {m["id"] for m in p1["items"]} & {m["id"] for m in p2["items"]}


def test_workplace_staff_see_only_their_organisation(app, make_user, login, people, orgs):
    staff = login(make_user("thue", role="workplace_staff", organisation=orgs["tax"]))
    assert names(staff.get("/api/members")) == {"Nguyễn Văn Á", "Trần Thị Đào"}
    outsider = people["c"]
    resp = staff.get(f"/api/members/{outsider.id}")
    assert resp.status_code == 403
    body = resp.get_json()
    assert body["error"]["code"] == "forbidden" and "Lê Đức" not in resp.get_data(as_text=True)
    page = staff.get(f"/members/{outsider.id}")
    assert page.status_code == 403 and "Lê Đức" not in page.get_data(as_text=True)
    assert staff.patch(f"/api/members/{outsider.id}", json={"phone": "0900"}).status_code == 403
    # The export holds only their own members.
    from openpyxl import load_workbook
    import io
    wb = load_workbook(io.BytesIO(staff.get("/api/members/export.xlsx").data))
    text = " ".join(str(c.value) for row in wb.active.iter_rows() for c in row if c.value)
    assert "Nguyễn Văn Á" in text and "Lê Đức Thọ Sáu" not in text


def test_cell_secretary_sees_only_their_cell_and_cannot_edit(app, make_user, login, people, orgs):
    sec = login(make_user("bithu", role="cell_secretary", organisation=orgs["cell1"]))
    assert names(sec.get("/api/members")) == {"Nguyễn Văn Á", "Lê Đức Thọ Sáu"}
    resp = sec.patch(f"/api/members/{people['a'].id}", json={"phone": "0911"})
    assert resp.status_code == 403
    assert sec.get(f"/api/members/{people['b'].id}").status_code == 403


def test_edit_records_audit_with_before_and_after(app, make_user, login, people, sess):
    admin = make_user("admin")
    client = login(admin)
    member = people["a"]
    resp = client.post(f"/members/{member.id}/edit", data={"full_name": "Nguyễn Văn Á", "phone": "0912 345 678",
                                                           "date_of_birth": "02/05/1980", "status": "active"})
    assert resp.status_code == 302
    entries = sess.query(AuditEntry).filter_by(member_id=member.id).all()
    assert len(entries) == 1
    entry = entries[0]
    assert entry.before["phone"] is None and entry.after["phone"] == "0912345678"  # normalised as the import does
    assert entry.source == "ui" and entry.user_id == admin.id
    page = client.get(f"/members/{member.id}").get_data(as_text=True)
    assert "Số điện thoại" in page and "0912345678" in page and "Giao diện web" in page
    # Saving the same values again (spelled another way) adds no entry.
    client.post(f"/members/{member.id}/edit", data={"full_name": "Nguyễn Văn Á", "phone": "+84 912.345.678",
                                                    "date_of_birth": "2-5-1980", "status": "active"})
    assert sess.query(AuditEntry).filter_by(member_id=member.id).count() == 1


def test_api_create_and_validation_errors(app, make_user, login, orgs, sess):
    client = login(make_user("admin"))
    bad = client.post("/api/members", json={"full_name": "Hồ Thị Mai", "card_number": "777",
                                            "date_of_birth": "31/02/1990"})
    assert bad.status_code == 400
    err = bad.get_json()["error"]
    assert err["code"] == "invalid_member" and "Ngày sinh không hợp lệ: 31/02/1990" in err["message"]
    assert sess.query(Member).count() == 0
    ok = client.post("/api/members", json={"full_name": "  Hồ   Thị Mai ", "card_number": "777",
                                           "date_of_birth": "1990-02-28", "workplace_org_id": orgs["tax"].id})
    assert ok.status_code == 201
    assert ok.get_json()["full_name"] == "Hồ Thị Mai"
    dup = client.post("/api/members", json={"full_name": "Người Khác", "card_number": "777"})
    assert dup.status_code == 409 and dup.get_json()["error"]["code"] == "duplicate_card_number"
    history = client.get(f"/api/members/{ok.get_json()['id']}/history").get_json()["items"]
    assert [h["action"] for h in history] == ["create"] and history[0]["source"] == "api"


def test_workplace_staff_cannot_move_member_out_of_their_organisation(app, make_user, login, people, orgs):
    staff = login(make_user("thue", role="workplace_staff", organisation=orgs["tax"]))
    resp = staff.patch(f"/api/members/{people['a'].id}", json={"workplace_org_id": orgs["hospital"].id})
    assert resp.status_code == 403
    resp = staff.patch(f"/api/members/{people['a'].id}", json={"phone": "0987 654 321"})
    assert resp.status_code == 200 and resp.get_json()["phone"] == "0987654321"


def test_member_page_shows_full_history_sections(app, make_user, login, people):
    client = login(make_user("admin"))
    page = client.get(f"/members/{people['a'].id}").get_data(as_text=True)
    for heading in ("Giấy giới thiệu", "Sinh hoạt nơi cư trú", "Phiếu nhận xét", "Lịch sử thay đổi"):
        assert heading in page


def test_openapi_document(app):
    doc = app.test_client().get("/api/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    for path in ("/api/members", "/api/imports", "/api/imports/{batch_id}/confirm", "/api/members/export.xlsx",
                 "/api/organisations", "/api/jobs/{job_id}"):
        assert path in doc["paths"]
    # Every route under /api/ is described.
    rules = {r.rule for r in app.url_map.iter_rules() if r.rule.startswith("/api/")}
    described = {p.replace("{", "<int:").replace("}", ">") for p in doc["paths"]}
    assert rules <= described, rules - described


def test_organisations_api_and_pages(app, make_user, login, orgs):
    admin = login(make_user("admin"))
    items = admin.get("/api/organisations?kind=residence_cell").get_json()["items"]
    assert {o["name"] for o in items} == {"Chi bộ khu phố 1", "Chi bộ khu phố 2", "Chi bộ khu phố 5"}
    resp = admin.post("/api/organisations", json={"name": "Chi bộ khu phố 3", "kind": "residence_cell",
                                                  "parent_id": orgs["ward"].id})
    assert resp.status_code == 201
    bad = admin.post("/api/organisations", json={"name": "X", "kind": "village"})
    assert bad.status_code == 400 and bad.get_json()["error"]["code"] == "invalid_request"  # kind outside the schema
    page = admin.get("/organisations/").get_data(as_text=True)
    assert "Đảng ủy phường Hồng Hà" in page and "Chi bộ khu phố 3" in page
    sec = login(make_user("bithu", role="cell_secretary", organisation=orgs["cell1"]))
    assert sec.get(f"/api/organisations/{orgs['tax'].id}").status_code == 403
    assert sec.post("/api/organisations", json={"name": "Y", "kind": "residence_cell"}).status_code == 403


def test_admin_edits_an_organisation(app, make_user, login, orgs):
    admin = login(make_user("admin"))
    resp = admin.patch(f"/api/organisations/{orgs['tax'].id}", json={"place": "Hạ Long", "secretary_name": "Trần Quốc Huy"})
    assert resp.status_code == 200 and resp.get_json()["secretary_name"] == "Trần Quốc Huy"
    loop = admin.patch(f"/api/organisations/{orgs['province'].id}", json={"parent_id": orgs["tax_cell"].id})
    assert loop.status_code == 400 and loop.get_json()["error"]["code"] == "invalid_parent"
    page = admin.get(f"/organisations/{orgs['tax'].id}").get_data(as_text=True)
    assert "Hạ Long" in page and "Trần Quốc Huy" in page
    staff = login(make_user("thue", role="workplace_staff", organisation=orgs["tax"]))
    assert staff.patch(f"/api/organisations/{orgs['tax'].id}", json={"place": "X"}).status_code == 403


def test_phone_typed_in_the_api_is_normalised_or_refused_like_the_import(app, make_user, login, people, sess):
    client = login(make_user("admin"))
    member = people["a"]
    ok = client.patch(f"/api/members/{member.id}", json={"phone": "+84 930 775 789", "employer": "Sở Tài chính"})
    assert ok.status_code == 200
    assert ok.get_json()["phone"] == "0930775789" and ok.get_json()["employer"] == "Sở Tài chính"
    bad = client.patch(f"/api/members/{member.id}", json={"phone": "0912 34", "notes": "không được lưu"})
    assert bad.status_code == 400
    err = bad.get_json()["error"]
    assert err["code"] == "invalid_member"
    assert err["details"]["phone"] == ("Số điện thoại không hợp lệ: «0912 34» (ô «Số điện thoại»); "
                                       "cần 10 chữ số, dạng 0912345678")
    sess.expire_all()
    assert sess.get(Member, member.id).phone == "0930775789" and sess.get(Member, member.id).notes is None


def test_member_form_refuses_a_bad_phone_and_keeps_what_was_typed(app, make_user, login, people, sess):
    client = login(make_user("admin"))
    member = people["a"]
    resp = client.post(f"/members/{member.id}/edit", data={"full_name": "Nguyễn Văn Á", "phone": "09123abc",
                                                           "status": "active", "house": "12 Lê Lợi"})
    page = resp.get_data(as_text=True)
    assert resp.status_code == 400 and "Số điện thoại không hợp lệ: «09123abc»" in page
    assert 'value="12 Lê Lợi"' in page
    sess.expire_all()
    assert sess.get(Member, member.id).house is None and sess.get(Member, member.id).phone is None


def test_one_vocabulary_for_form_api_import_and_export(app):
    from service.api_models.members import MemberInput, MemberOut
    from service.importing.headers import FIELD_LABELS, match_header
    from service.members import fields
    from service.members.export import COLUMNS

    record = [n for n in Member.AUDITED]
    assert list(fields.MEMBER_LABELS) == record  # the form edits every audited field
    assert list(MemberInput.model_fields) == record and set(MemberOut.model_fields) >= set(record)
    schema = MemberInput.model_json_schema()["properties"]
    for name in record:  # the API's limits are the columns' limits
        length = getattr(Member.__table__.columns[name].type, "length", None)
        if length:
            assert fields.BY_NAME[name].max_length == length, name
            prop = schema[name]
            limits = [p["maxLength"] for p in prop.get("anyOf", [prop]) if "maxLength" in p]
            assert all(limit <= length for limit in limits), name
    assert schema["employer"]["anyOf"][0]["maxLength"] == 255
    assert FIELD_LABELS is fields.COLUMN_LABELS
    for name in COLUMNS:  # every exported header is read back as its own field
        assert match_header(fields.COLUMN_LABELS[name]) == name, name
