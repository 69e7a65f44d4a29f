"""Each bad request found by hand: a 4xx with a stable code and a Vietnamese message, nothing changed."""
from __future__ import annotations

import io

from service.models import Job, Member, ScanBatch
from tests.security.api_seed import YEAR, seed


def _api(app, sess, make_user):
    data = seed(sess, make_user)
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {data['token']}"
    return client, data


def _error(resp, status=400, code="invalid_request"):
    assert resp.status_code == status, resp.data[:400]
    err = resp.get_json()["error"]
    assert err["code"] == code, err
    return err


def test_very_large_ids_are_404_on_both_databases(app, sess, make_user, login):
    client, data = _api(app, sess, make_user)
    for path in ("/api/members/99999999999999999999", "/api/members/2147483648", "/api/scans/9223372036854775808",
                 "/api/introductions/99999999999999/document", "/api/organisations/2147483648"):
        _error(client.get(path), 404, "not_found")
    _error(client.patch("/api/organisations/2147483648", json={"name": "X"}), 404, "not_found")
    _error(client.post("/api/evaluations/2147483648/void", json={"reason": "rách"}), 404, "not_found")
    _error(client.post("/api/scan-pages/99999999999/reject", json={}), 404, "not_found")
    web = login(data["admin"])
    assert web.get("/members/99999999999999999999").status_code == 404
    assert web.get("/organisations/2147483648").status_code == 404


def test_preview_year_must_be_a_year(app, sess, make_user):
    client, data = _api(app, sess, make_user)
    member = data["members"][0].id
    err = _error(client.get(f"/api/documents/preview?member_id={member}&year=abc"))
    assert "year" in err["message"] and "số nguyên" in err["message"]
    err = _error(client.get(f"/api/documents/preview?member_id={member}&year=99999"))
    assert "year" in err["message"] and "2100" in err["message"]
    _error(client.get("/api/documents/preview?year=2026"))  # member_id is required
    _error(client.get(f"/api/documents/preview?member_id={member}&kind=bogus"))


def test_bulk_member_ids_must_be_ids_and_no_job_is_queued(app, sess, make_user):
    client, _ = _api(app, sess, make_user)
    err = _error(client.post("/api/documents/bulk", json={"kind": "evaluation_sheet", "year": YEAR,
                                                          "selection": {"member_ids": ["x"]}}))
    assert "selection.member_ids.0" in err["message"]
    _error(client.post("/api/documents/bulk", json={"kind": "evaluation_sheet", "year": "2026"}))
    _error(client.post("/api/documents/bulk", json={"kind": "letter", "year": YEAR}))
    _error(client.post("/api/documents/bulk", json={"kind": "evaluation_sheet", "year": YEAR, "outputs": ["exe"]}))
    assert sess.query(Job).count() == 0


def test_full_name_list_is_refused_not_stored_as_text(app, sess, make_user):
    client, data = _api(app, sess, make_user)
    member = data["members"][0]
    err = _error(client.patch(f"/api/members/{member.id}", json={"full_name": ["a"]}))
    assert "full_name" in err["message"] and "chuỗi" in err["message"]
    err = _error(client.post("/api/members", json={"full_name": ["a"], "card_number": "X1"}))
    sess.expire_all()
    assert sess.get(Member, member.id).full_name == "Nguyễn Văn Mẫu"
    assert sess.query(Member).filter(Member.full_name.like("%[%")).count() == 0
    _error(client.patch(f"/api/members/{member.id}", json={"fullname": "Sai Tên Trường"}))  # unknown field
    _error(client.patch(f"/api/members/{member.id}", json={"status": "dead"}))
    _error(client.patch(f"/api/members/{member.id}", json={"workplace_org_id": "1"}))
    _error(client.patch(f"/api/members/{member.id}", json={"phone": "0" * 41}))
    _error(client.patch(f"/api/members/{member.id}", json=["full_name"]), code="invalid_json")
    _error(client.patch(f"/api/members/{member.id}", data="{bad", content_type="application/json"), code="invalid_json")


def test_text_longer_than_its_column_is_refused_on_the_web_form(app, sess, make_user, login):
    data = seed(sess, make_user)
    web = login(data["admin"])
    member = data["members"][0]
    resp = web.post(f"/members/{member.id}/edit", data={"full_name": "Á" * 201, "card_number": "TEST0"})
    assert resp.status_code < 500
    sess.expire_all()
    assert sess.get(Member, member.id).full_name == "Nguyễn Văn Mẫu"


def test_organisation_patch_with_bad_parent_or_long_name(app, sess, make_user):
    client, data = _api(app, sess, make_user)
    org = data["cell"].id
    _error(client.patch(f"/api/organisations/{org}", json={"parent_id": 2147483647}), code="invalid_organisation")
    _error(client.patch(f"/api/organisations/{org}", json={"parent_id": "x"}))
    _error(client.patch(f"/api/organisations/{org}", json={"name": "Đ" * 256}))
    _error(client.post("/api/organisations", json={"name": "Chi bộ mới", "kind": "village"}))


def test_void_and_reject_need_well_typed_bodies(app, sess, make_user):
    client, data = _api(app, sess, make_user)
    sheet = data["sheet"].id
    _error(client.post(f"/api/evaluations/{sheet}/void", json={"reason": 5}))
    _error(client.post(f"/api/evaluations/{sheet}/void", json={}))
    _error(client.post(f"/api/evaluations/{sheet}/void", json={"reason": "x" * 501}))
    _error(client.post(f"/api/evaluations/{sheet}/void"), code="invalid_json")
    _error(client.post("/api/scan-pages/1/reject", json={"reason": ["x"]}))


def test_scan_batch_of_only_bad_files_creates_no_batch(app, sess, make_user):
    client, _ = _api(app, sess, make_user)
    resp = client.post("/api/scans", data={"files": [(io.BytesIO(b""), "rong.pdf"),
                                                     (io.BytesIO(b"<html></html>"), "web.pdf")]},
                       content_type="multipart/form-data")
    err = _error(resp, code="no_readable_files")
    assert {d["message"].split(":")[0] for d in err["details"]} == {"Tệp rong.pdf", "Tệp web.pdf"}
    assert sess.query(ScanBatch).count() == 0 and sess.query(Job).count() == 0


def test_html_pages_with_bad_query_strings_answer_without_500(app, sess, make_user, login):
    data = seed(sess, make_user)
    web = login(data["admin"])
    member = data["members"][0].id
    for path in ("/members/?page=99999999999999999999", "/members/?per_page=abc&page=²",
                 "/members/?workplace_org_id=99999999999999999999", "/members/?q=%00",
                 f"/organisations/{data['cell'].id}?page=99999999999999999999",
                 "/documents/preview?member_id=abc", f"/documents/preview?member_id={member}&year=abc",
                 f"/documents/preview?member_id={member}&year=99999", "/scans/review?after=99999999999999999999",
                 "/jobs/?page=abc"):
        resp = web.get(path)
        assert resp.status_code < 500, (path, resp.data[:300])
    resp = web.get(f"/documents/preview?member_id={member}&year=abc", follow_redirects=True)
    assert "year" in resp.get_data(as_text=True)


def test_html_forms_with_bad_numbers_or_long_text_flash_an_error(app, sess, make_user, login):
    data = seed(sess, make_user)
    web = login(data["admin"])
    cell = data["cell"].id
    resp = web.post("/meetings/", data={"cell_id": "99999999999999999999", "held_on": "01/02/2026"},
                    follow_redirects=True)
    assert resp.status_code < 500 and "cell_id" in resp.get_data(as_text=True)
    resp = web.post("/meetings/", data={"cell_id": str(cell), "held_on": "01/02/2026", "title": "T" * 300},
                    follow_redirects=True)
    assert resp.status_code < 500 and "Tiêu đề buổi sinh hoạt quá dài" in resp.get_data(as_text=True)
    assert web.get("/meetings/?year=99999999999").status_code < 500
    resp = web.post(f"/documents/members/{data['members'][0].id}/sheet", data={"year": "hai nghìn"},
                    follow_redirects=True)
    assert resp.status_code < 500 and "year" in resp.get_data(as_text=True)
    resp = web.post("/documents/", data={"kind": "evaluation_sheet", "year": "2026", "outputs": "zip", "step": "start",
                                         "members": "1, 99999999999999999999"}, follow_redirects=True)
    assert resp.status_code < 500 and "«99999999999999999999»: không có đảng viên" in resp.get_data(as_text=True)
    assert sess.query(Job).count() == 0
    resp = web.post("/users/", data={"username": "nguoimoi", "password": "mat-khau-dai-1", "role": "admin",
                                     "full_name": "H" * 300}, follow_redirects=True)
    assert resp.status_code < 500 and "Họ và tên quá dài" in resp.get_data(as_text=True)


def test_sign_in_and_sheet_forms_with_hostile_text(app, sess, make_user, login):
    data = seed(sess, make_user)
    anon = app.test_client()
    resp = anon.post("/login", data={"username": "quan\x00tri", "password": "x"})
    assert resp.status_code == 401 and "Tên đăng nhập hoặc mật khẩu không đúng" in resp.get_data(as_text=True)
    web = login(data["admin"])
    sheet = data["sheet"]
    resp = web.post(f"/documents/sheets/{sheet.id}/void", data={"reason": "r" * 501}, follow_redirects=True)
    assert resp.status_code < 500 and "Lý do hủy phiếu quá dài" in resp.get_data(as_text=True)
    sess.expire_all()
    assert sess.get(type(sheet), sheet.id).status == "issued"
