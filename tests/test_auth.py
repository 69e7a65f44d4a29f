"""Sign-in, sessions, CSRF and tokens (throttling, session ends, token life: tests/security/)."""
from service.models import User


def test_sign_in_and_out(app, make_user):
    make_user("lan")
    client = app.test_client()
    assert client.get("/members/").status_code == 302  # to the sign-in page
    resp = client.post("/login", data={"username": "lan", "password": "mat-khau-dai-1"})
    assert resp.status_code == 302
    page = client.get("/members/")
    assert page.status_code == 200
    assert "Danh sách đảng viên" in page.get_data(as_text=True)


def test_wrong_password_is_refused_in_vietnamese(app, make_user):
    make_user("lan")
    client = app.test_client()
    resp = client.post("/login", data={"username": "lan", "password": "sai-mat-khau"})
    assert resp.status_code == 401
    assert "Tên đăng nhập hoặc mật khẩu không đúng" in resp.get_data(as_text=True)
    assert client.get("/members/").status_code == 302  # still signed out


def test_passwords_are_hashed(app, make_user):
    user = make_user("lan", password="mat-khau-dai-1")
    assert "mat-khau-dai-1" not in user.password_hash
    assert user.password_hash.startswith(("scrypt:", "pbkdf2:"))


def test_csrf_is_required_on_forms(app, tmp_path, app_factory):
    strict = app_factory(tmp_path / "strict", app.backend, WTF_CSRF_ENABLED=True)
    with strict.app_context():
        from service import db
        from service.auth import hash_password
        s = db.session()
        s.add(User(username="lan", role="admin", password_hash=hash_password("mat-khau-dai-1")))
        s.commit()
        client = strict.test_client()
        resp = client.post("/login", data={"username": "lan", "password": "mat-khau-dai-1"})
        assert resp.status_code == 400
        assert "Phiên làm việc đã hết hạn" in resp.get_data(as_text=True)
        # With the token from the form, the same sign-in works.
        page = client.get("/login").get_data(as_text=True)
        token = page.split('name="csrf_token" value="')[1].split('"')[0]
        resp = client.post("/login", data={"username": "lan", "password": "mat-khau-dai-1", "csrf_token": token})
        assert resp.status_code == 302
        # API writes with a session cookie but no CSRF header are refused too.
        api = client.post("/api/tokens", json={"name": "x"})
        assert api.status_code == 400
        assert api.get_json()["error"]["code"] == "csrf_failed"
        api = client.post("/api/tokens", json={"name": "x"}, headers={"X-CSRFToken": token})
        assert api.status_code == 201


def test_session_cookie_expires(app, make_user):
    make_user("lan")
    client = app.test_client()
    resp = client.post("/login", data={"username": "lan", "password": "mat-khau-dai-1"})
    cookie = resp.headers["Set-Cookie"]
    assert "Expires=" in cookie and "HttpOnly" in cookie


def test_api_token_authentication(app, make_user, login):
    admin = make_user("lan")
    client = login(admin)
    token = client.post("/api/tokens", json={"name": "script"}).get_json()["token"]
    anon = app.test_client()
    resp = anon.get("/api/me")
    assert resp.status_code == 401
    assert resp.get_json()["error"]["code"] == "unauthorized"
    resp = anon.get("/api/me", headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 200 and resp.get_json()["username"] == "lan"
    resp = anon.get("/api/me", headers={"Authorization": "Bearer nct_wrong"})
    assert resp.status_code == 401


def test_inactive_user_cannot_sign_in(app, make_user, sess):
    user = make_user("lan")
    user.active = False
    sess.commit()
    resp = app.test_client().post("/login", data={"username": "lan", "password": "mat-khau-dai-1"})
    assert resp.status_code == 401


def test_no_default_password_outside_demo(app):
    from sqlalchemy import func, select
    from service import db
    assert db.session().scalar(select(func.count()).select_from(User)) == 0
    page = app.test_client().get("/login").get_data(as_text=True)
    assert "dùng thử" not in page


def test_create_admin_command(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["create-admin", "chanh", "--password", "ngan"])
    assert result.exit_code != 0 and "ít nhất 10 ký tự" in result.output
    result = runner.invoke(args=["create-admin", "chanh", "--password", "mot-mat-khau-dai"])
    assert result.exit_code == 0, result.output
    resp = app.test_client().post("/login", data={"username": "chanh", "password": "mot-mat-khau-dai"})
    assert resp.status_code == 302
