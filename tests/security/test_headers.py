"""Security headers on every response; pages need no inline script or style; proxy and Secure cookies."""
from __future__ import annotations

import re
from pathlib import Path

from service.http_security import HEADERS
from tests.security.conftest import add_user, sign_in

HTML = Path(__file__).resolve().parents[2] / "service" / "html"


def _check_headers(resp, url):
    for name, value in HEADERS.items():
        assert resp.headers.get(name) == value, (url, name, resp.headers.get(name))
    csp = resp.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp


def test_every_page_as_admin_has_the_headers_and_no_inline_script_or_style(app, make_user, login, orgs):
    client = login(make_user("lan"))
    client.post("/members/new", data={"full_name": "Nguyễn Văn An", "workplace_org_id": orgs["tax"].id,
                                      "residence_cell_id": orgs["cell1"].id})
    seen = 0
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint in ("static", "web.logout"):
            continue
        url = rule.rule
        for arg in rule.arguments:  # every id argument: the first object (or a 404 page, headers too)
            url = re.sub(rf"<(?:\w+:)?{arg}>", "1" if "id" in arg or arg.endswith("no") else "docx", url)
        resp = client.get(url)
        _check_headers(resp, url)
        seen += 1
        if resp.status_code == 200 and resp.mimetype == "text/html":
            html = resp.get_data(as_text=True)
            assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), url
            assert not re.search(r"\sstyle=", html), url
            assert not re.search(r"\son[a-z]+=", html), url
    assert seen > 30
    anonymous = app.test_client()
    for url in ("/login", "/members/", "/api/me", "/static/style.css", "/no-such-page"):
        _check_headers(anonymous.get(url), url)


def test_templates_hold_no_inline_script_style_or_handler():
    for path in HTML.rglob("*.html"):
        text = path.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), path
        assert not re.search(r"\sstyle=", text), path
        assert not re.search(r"\son[a-z]+=", text), path
        assert "javascript:" not in text, path


def test_cookies_are_not_secure_by_default(app, make_user):
    make_user("lan")
    resp = app.test_client().post("/login", data={"username": "lan", "password": "mat-khau-dai-1"})
    assert "Secure" not in resp.headers["Set-Cookie"]
    assert "Strict-Transport-Security" not in resp.headers


def test_behind_a_proxy_the_forwarded_address_and_https_count(limited_app):
    app = limited_app(BEHIND_PROXY=1, SIGNIN_MAX_PER_ACCOUNT_ADDRESS=2, SIGNIN_MAX_PER_ADDRESS=30,
                      SIGNIN_MAX_PER_ACCOUNT=100)
    add_user(app, "lan")
    client = app.test_client()

    def via_proxy(password, client_address):
        return client.post("/login", data={"username": "lan", "password": password}, environ_base={
            "REMOTE_ADDR": "10.9.9.9"}, headers={"X-Forwarded-For": client_address, "X-Forwarded-Proto": "https"})
    assert [via_proxy("sai", "203.0.113.5").status_code for _ in range(3)] == [401, 401, 429]
    ok = via_proxy("mat-khau-dai-1", "198.51.100.8")  # same proxy, another client: not throttled
    assert ok.status_code == 302 and ok.headers["Location"].startswith(("/", "https://"))
    cookie = ok.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert ok.headers["Strict-Transport-Security"].startswith("max-age=")


def test_secure_cookies_setting_overrides_the_proxy_default(limited_app):
    off = limited_app(BEHIND_PROXY=1, SECURE_COOKIES="0")
    on = limited_app(SECURE_COOKIES="1")
    assert off.config["SESSION_COOKIE_SECURE"] is False
    assert on.config["SESSION_COOKIE_SECURE"] is True
    add_user(on, "lan")
    resp = sign_in(on.test_client(), "lan")
    assert "Secure" in resp.headers["Set-Cookie"]
