"""A session ends everywhere on sign-out, password change, role change and deactivation.

A copied session cookie (stolen, or left in another browser) is dead afterwards."""
from __future__ import annotations

from service.models import User


def _copy(client, app):
    """A second browser holding a copy of the client's session cookie."""
    other = app.test_client()
    other.set_cookie("session", client.get_cookie("session").value)
    return other


def test_copied_cookie_is_dead_after_sign_out(app, make_user, login):
    client = login(make_user("lan"))
    thief = _copy(client, app)
    assert thief.get("/members/").status_code == 200
    client.post("/logout")
    assert thief.get("/members/").status_code == 302  # to the sign-in page
    assert thief.get("/api/me").status_code == 401


def test_copied_cookie_is_dead_after_an_admin_resets_the_password(app, make_user, login, orgs):
    admin = login(make_user("chanh"))
    lan = make_user("lan", role="workplace_staff", organisation=orgs["tax"])
    client = login(lan)
    thief = _copy(client, app)
    resp = admin.post(f"/users/{lan.id}", data={"role": "workplace_staff", "organisation_id": orgs["tax"].id,
                                                 "active": "1", "full_name": "Lan", "password": "mat-khau-moi-123"})
    assert resp.status_code == 302
    for browser in (client, thief):
        assert browser.get("/members/").status_code == 302
    assert app.test_client().post("/login", data={"username": "lan", "password": "mat-khau-moi-123"}).status_code == 302
    assert admin.get("/members/").status_code == 200  # the administrator's own session is untouched


def test_own_password_change_ends_other_sessions_but_not_this_one(app, make_user, login, sess):
    user = make_user("lan")
    client = login(user)
    thief = _copy(login(user), app)  # a session from another sign-in
    resp = client.post("/account/", data={"action": "password", "current_password": "mat-khau-dai-1",
                                          "new_password": "mat-khau-moi-456"})
    assert resp.status_code == 302
    assert client.get("/members/").status_code == 200
    assert thief.get("/members/").status_code == 302
    wrong = client.post("/account/", data={"action": "password", "current_password": "khong-phai",
                                           "new_password": "mat-khau-moi-789"})
    assert "Mật khẩu hiện tại không đúng" in wrong.get_data(as_text=True)
    sess.expire_all()
    assert sess.get(User, user.id).session_version == 1


def test_role_change_and_deactivation_end_sessions(app, make_user, login, orgs):
    admin = login(make_user("chanh"))
    lan = make_user("lan", role="workplace_staff", organisation=orgs["tax"])
    client = login(lan)
    form = {"role": "workplace_staff", "organisation_id": orgs["tax"].id, "active": "1", "full_name": "Lan đổi tên"}
    admin.post(f"/users/{lan.id}", data=form)
    assert client.get("/members/").status_code == 200  # a new full name changes nothing of what she may do
    admin.post(f"/users/{lan.id}", data={**form, "role": "cell_secretary", "organisation_id": orgs["cell1"].id})
    assert client.get("/members/").status_code == 302
    client = login(lan)
    admin.post(f"/users/{lan.id}", data={**form, "role": "cell_secretary", "organisation_id": orgs["cell1"].id,
                                         "active": ""})
    assert client.get("/members/").status_code == 302


def test_an_administrator_setting_their_own_password_stays_signed_in_here_only(app, make_user, login):
    me = make_user("chanh")
    client = login(me)
    other = login(me)
    resp = client.post(f"/users/{me.id}", data={"role": "admin", "active": "1", "full_name": "Chánh",
                                                "password": "mat-khau-moi-999"})
    assert resp.status_code == 302
    assert client.get("/users/").status_code == 200
    assert other.get("/users/").status_code == 302
