"""API tokens expire, are listed without their secret, can be revoked, and record their last use.
Only a valid token exempts a request from the CSRF check."""
from __future__ import annotations

import datetime as dt

from service.models import ApiToken, utcnow
from tests.security.conftest import add_user


def _token(client, **body):
    resp = client.post("/api/tokens", json={"name": "script", **body})
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def _bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_token_expires_by_default_and_the_lifetime_is_capped(app, make_user, login, sess):
    client = login(make_user("lan"))
    made = _token(client)
    expires = dt.datetime.fromisoformat(made["expires_at"].rstrip("Z"))
    assert abs((expires - utcnow()) - dt.timedelta(days=90)) < dt.timedelta(minutes=5)
    assert made["state"] == "active" and made["token"].startswith("nct_")
    short = _token(client, expires_in_days=7)
    assert short["expires_at"] < made["expires_at"]
    for bad, code in ((0, "invalid_token_expiry"), (366, "invalid_token_expiry"),
                      ("30", "invalid_request"), (True, "invalid_request")):  # wrong types: the declared schema
        resp = client.post("/api/tokens", json={"name": "x", "expires_in_days": bad})
        assert resp.status_code == 400
        assert resp.get_json()["error"]["code"] == code
    assert sess.query(ApiToken).count() == 2  # the refused ones made nothing

    row = sess.get(ApiToken, made["id"])
    row.expires_at = utcnow() - dt.timedelta(seconds=1)
    sess.commit()
    resp = app.test_client().get("/api/me", headers=_bearer(made["token"]))
    assert resp.status_code == 401
    assert resp.get_json()["error"]["code"] == "token_expired"


def test_tokens_are_listed_without_secret_and_revoked(app, make_user, login):
    client = login(make_user("lan"))
    made = _token(client)
    listed = client.get("/api/tokens").get_json()["items"]
    assert [t["name"] for t in listed] == ["script"]
    assert "token" not in listed[0] and "token_hash" not in listed[0]
    assert made["token"] not in client.get("/api/tokens").get_data(as_text=True)
    assert set(listed[0]) >= {"created_at", "last_used_at", "expires_at", "revoked_at", "state"}

    api = app.test_client()
    assert api.get("/api/me", headers=_bearer(made["token"])).status_code == 200
    resp = api.delete(f"/api/tokens/{made['id']}", headers=_bearer(made["token"]))  # a token may revoke itself
    assert resp.status_code == 200 and resp.get_json()["state"] == "revoked"
    resp = api.get("/api/me", headers=_bearer(made["token"]))
    assert resp.status_code == 401 and resp.get_json()["error"]["code"] == "token_revoked"
    resp = api.get("/api/me", headers=_bearer("nct_khong-co-that"))
    assert resp.status_code == 401 and resp.get_json()["error"]["code"] == "token_invalid"


def test_only_administrators_revoke_other_users_tokens(app, make_user, login, orgs):
    admin = login(make_user("chanh"))
    lan = login(make_user("lan", role="workplace_staff", organisation=orgs["tax"]))
    hoa = login(make_user("hoa", role="workplace_staff", organisation=orgs["tax"]))
    made = _token(lan)
    resp = hoa.delete(f"/api/tokens/{made['id']}")
    assert resp.status_code == 404  # not revealed
    assert hoa.post(f"/account/tokens/{made['id']}/revoke").status_code == 404
    assert app.test_client().get("/api/me", headers=_bearer(made["token"])).status_code == 200
    assert made["id"] not in [t["id"] for t in hoa.get("/api/tokens").get_json()["items"]]
    page = admin.get(f"/users/{made['user_id']}").get_data(as_text=True)
    assert f'id="token-{made["id"]}"' in page and made["token"] not in page
    resp = admin.post(f"/account/tokens/{made['id']}/revoke", data={"next": f"/users/{made['user_id']}"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/users/{made['user_id']}")
    assert app.test_client().get("/api/me", headers=_bearer(made["token"])).get_json()["error"]["code"] == "token_revoked"


def test_account_page_creates_lists_and_revokes_own_tokens(app, make_user, login):
    client = login(make_user("lan"))
    page = client.post("/account/", data={"action": "token", "token_name": "Máy chủ báo cáo", "expires_in_days": "30"})
    html = page.get_data(as_text=True)
    secret = html.split('id="new-token">')[1].split("<")[0]
    assert secret.startswith("nct_") and "Máy chủ báo cáo" in html
    again = client.get("/account/").get_data(as_text=True)
    assert secret not in again and "Máy chủ báo cáo" in again and "Chưa dùng" in again
    bad = client.post("/account/", data={"action": "token", "token_name": "x", "expires_in_days": "9999"})
    assert "từ 1 đến 365" in bad.get_data(as_text=True)
    token_id = client.get("/api/tokens").get_json()["items"][0]["id"]
    client.post(f"/account/tokens/{token_id}/revoke", data={"next": "/account/"})
    assert "Đã thu hồi" in client.get("/account/").get_data(as_text=True)
    assert app.test_client().get("/api/me", headers=_bearer(secret)).status_code == 401


def test_last_use_is_recorded_at_most_once_a_minute(app, make_user, login, sess):
    client = login(make_user("lan"))
    made = _token(client)
    assert made["last_used_at"] is None
    api = app.test_client()
    api.get("/api/me", headers=_bearer(made["token"]))
    sess.expire_all()
    first = sess.get(ApiToken, made["id"]).last_used_at
    assert first is not None and utcnow() - first < dt.timedelta(minutes=1)
    api.get("/api/me", headers=_bearer(made["token"]))
    sess.expire_all()
    assert sess.get(ApiToken, made["id"]).last_used_at == first  # not written again within the minute
    row = sess.get(ApiToken, made["id"])
    row.last_used_at = first - dt.timedelta(minutes=5)
    sess.commit()
    api.get("/api/me", headers=_bearer(made["token"]))
    sess.expire_all()
    assert sess.get(ApiToken, made["id"]).last_used_at > first - dt.timedelta(minutes=1)


def test_only_a_valid_bearer_token_skips_the_csrf_check(limited_app):
    strict = limited_app(WTF_CSRF_ENABLED=True)
    add_user(strict, "lan")
    client = strict.test_client()
    page = client.get("/login").get_data(as_text=True)
    csrf = page.split('name="csrf_token" value="')[1].split('"')[0]
    assert client.post("/login", data={"username": "lan", "password": "mat-khau-dai-1",
                                       "csrf_token": csrf}).status_code == 302
    # a cookie session with a made-up bearer header is checked as usual: refused for the missing CSRF token
    resp = client.post("/api/tokens", json={"name": "x"}, headers=_bearer("nct_bia-dat"))
    assert resp.status_code == 400 and resp.get_json()["error"]["code"] == "csrf_failed"
    resp = client.post("/api/tokens", json={"name": "x"}, headers={"Authorization": "Bearer"})
    assert resp.status_code == 400 and resp.get_json()["error"]["code"] == "csrf_failed"
    with strict.app_context():
        from service import db
        assert db.session().query(ApiToken).count() == 0
    # with the CSRF token but a made-up bearer header: still refused, the bad token is not ignored
    resp = client.post("/api/tokens", json={"name": "x"}, headers={**_bearer("nct_bia-dat"), "X-CSRFToken": csrf})
    assert resp.status_code == 401 and resp.get_json()["error"]["code"] == "token_invalid"
    made = client.post("/api/tokens", json={"name": "x"}, headers={"X-CSRFToken": csrf}).get_json()
    # a valid token, no cookie, no CSRF token: allowed
    resp = strict.test_client().post("/api/tokens", json={"name": "y"}, headers=_bearer(made["token"]))
    assert resp.status_code == 201


def test_create_token_command_sets_the_expiry(app, make_user, sess):
    make_user("lan")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["create-token", "lan", "--name", "sao lưu", "--days", "10"])
    assert result.exit_code == 0, result.output
    token = result.output.strip()
    resp = app.test_client().get("/api/me", headers=_bearer(token))
    assert resp.status_code == 200
    row = sess.query(ApiToken).one()
    assert dt.timedelta(days=9) < row.expires_at - utcnow() <= dt.timedelta(days=10)
    result = runner.invoke(args=["create-token", "lan", "--days", "1000"])
    assert result.exit_code != 0 and "từ 1 đến 365" in result.output
