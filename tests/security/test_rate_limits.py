"""Request rates (Flask-Limiter) on sign-in, uploads and the API: 429 with Retry-After and a stable code.
With NOICUTRU_RATELIMIT_STORAGE=redis://... two web processes share one count."""
from __future__ import annotations

import io
import shutil

import pytest

from tests.security.conftest import add_user, sign_in
from tests.support.services import free_port, require, start_redis


def _assert_limited(resp):
    assert resp.status_code == 429
    assert int(resp.headers["Retry-After"]) >= 1
    if resp.mimetype == "application/json":
        assert resp.get_json()["error"]["code"] == "too_many_requests"
    else:
        assert "Quá nhiều yêu cầu" in resp.get_data(as_text=True)


def test_limits_are_off_in_the_test_suite_unless_turned_on(app):
    client = app.test_client()
    assert all(client.get("/api/openapi.json").status_code == 200 for _ in range(30))


def test_api_sign_in_and_upload_rates(limited_app):
    app = limited_app(RATELIMIT_ENABLED=True, RATELIMIT_API="4/minute", RATELIMIT_LOGIN="3/minute",
                      RATELIMIT_UPLOAD="2/minute")
    add_user(app, "lan")
    client = app.test_client()
    for _ in range(3):
        assert sign_in(client, "lan").status_code == 302
    _assert_limited(sign_in(client, "lan"))
    assert sign_in(app.test_client(), "lan", address="198.51.100.3").status_code == 302  # per address

    api = app.test_client()
    codes = [api.get("/api/openapi.json").status_code for _ in range(4)]
    assert codes == [200] * 4
    _assert_limited(api.get("/api/openapi.json"))
    # signed-in users behind the same address (one office, one NAT) each have their own API count
    add_user(app, "hoa")
    for name in ("lan", "hoa"):
        office = app.test_client()
        assert sign_in(office, name, address="192.0.2.10").status_code == 302
        assert [office.get("/api/me", environ_base={"REMOTE_ADDR": "192.0.2.10"}).status_code
                for _ in range(4)] == [200] * 4
        _assert_limited(office.get("/api/me", environ_base={"REMOTE_ADDR": "192.0.2.10"}))

    pages = app.test_client()
    assert sign_in(pages, "lan", address="198.51.100.4").status_code == 302
    for _ in range(2):
        resp = pages.post("/import/", data={"file": (io.BytesIO(b"not a workbook"), "a.xlsx")},
                          environ_base={"REMOTE_ADDR": "198.51.100.4"})
        assert resp.status_code in (200, 302, 400), resp.status_code  # refused as a workbook, not throttled
    _assert_limited(pages.post("/import/", data={"file": (io.BytesIO(b"x"), "a.xlsx")},
                               environ_base={"REMOTE_ADDR": "198.51.100.4"}))
    assert pages.get("/import/", environ_base={"REMOTE_ADDR": "198.51.100.4"}).status_code == 200  # GET is free


@pytest.fixture
def redis_url(tmp_path):
    require(None if shutil.which("redis-server") else "redis-server is not installed")
    port = free_port()
    proc = start_redis(port, tmp_path)
    yield f"redis://127.0.0.1:{port}/0", proc
    proc.kill()
    proc.wait(10)


def test_redis_storage_is_shared_between_web_processes(limited_app, redis_url):
    url, server = redis_url
    settings = dict(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI=url, RATELIMIT_API="3/minute")
    first, second = limited_app(**settings), limited_app(**settings)
    assert [first.test_client().get("/api/openapi.json").status_code for _ in range(2)] == [200, 200]
    assert second.test_client().get("/api/openapi.json").status_code == 200
    _assert_limited(second.test_client().get("/api/openapi.json"))
    _assert_limited(first.test_client().get("/api/openapi.json"))

    server.kill()  # Redis gone: the service still answers, counting in memory meanwhile
    server.wait(10)
    assert second.test_client().get("/api/openapi.json", environ_base={"REMOTE_ADDR": "10.1.1.1"}).status_code == 200


def test_answer_code_guessing_is_limited_like_signing_in(limited_app):
    app = limited_app(RATELIMIT_ENABLED=True, RATELIMIT_LOGIN="3/minute")
    guesser = app.test_client()
    for _ in range(3):
        resp = guesser.post("/tra-loi/", data={"serial": "2026-000001-1", "code": "ABCDE-FGHJK"})
        assert resp.status_code == 400 and "mã trả lời không đúng" in resp.get_data(as_text=True)
    _assert_limited(guesser.post("/tra-loi/", data={"serial": "2026-000001-1", "code": "ABCDE-FGHJM"}))
    assert guesser.get("/tra-loi/").status_code == 200  # the page itself is not counted
