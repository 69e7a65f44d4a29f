"""Failed sign-ins are throttled per (account, address), per address and per account, atomically.

The old lockout (10 guesses from anyone locked the account; parallel guesses got past it; each failure
slept in a web thread) is gone: an attacker is answered 429 with Retry-After at once, and the real
user signs in from elsewhere meanwhile, without waiting.
"""
from __future__ import annotations

import threading
import time

from sqlalchemy import func, select

from service import db
from service.models import SignInThrottle
from tests.security.conftest import add_user, sign_in

def _throttle_rows(app) -> int:
    with app.app_context():
        return db.session().scalar(select(func.count()).select_from(SignInThrottle))


LIMITS = dict(SIGNIN_MAX_PER_ACCOUNT_ADDRESS=5, SIGNIN_MAX_PER_ADDRESS=30, SIGNIN_MAX_PER_ACCOUNT=100)


def test_guesses_from_one_address_get_429_while_the_user_signs_in_from_another(limited_app):
    app = limited_app(**LIMITS)
    add_user(app, "lan")
    attacker = app.test_client()
    codes = [sign_in(attacker, "lan", "doan-sai-%d" % i, "203.0.113.7").status_code for i in range(5)]
    assert codes == [401] * 5
    resp = sign_in(attacker, "lan", "mat-khau-dai-1", "203.0.113.7")  # even the right password: no more tries
    assert resp.status_code == 429
    assert 0 < int(resp.headers["Retry-After"]) <= 900
    assert "Đăng nhập sai quá nhiều lần" in resp.get_data(as_text=True)
    assert attacker.get("/members/").status_code == 302  # not signed in

    user = app.test_client()
    t0 = time.perf_counter()
    assert sign_in(user, "lan", address="198.51.100.20").status_code == 302
    assert time.perf_counter() - t0 < 3  # nobody sleeps
    assert user.get("/members/").status_code == 200


def test_a_successful_sign_in_resets_the_count(limited_app):
    app = limited_app(**LIMITS)
    add_user(app, "lan")
    client = app.test_client()
    for i in range(4):
        assert sign_in(client, "lan", "sai-%d" % i).status_code == 401
    assert sign_in(client, "lan").status_code == 302
    client.post("/logout")
    for i in range(5):  # five more tries, not one
        assert sign_in(client, "lan", "sai-lan-hai-%d" % i).status_code == 401
    assert sign_in(client, "lan", "sai-nua").status_code == 429


def test_one_address_guessing_many_accounts_is_stopped(limited_app):
    app = limited_app(SIGNIN_MAX_PER_ACCOUNT_ADDRESS=5, SIGNIN_MAX_PER_ADDRESS=8, SIGNIN_MAX_PER_ACCOUNT=100)
    add_user(app, "lan")
    client = app.test_client()
    codes = [sign_in(client, f"user{i}", "sai-mat-khau", "203.0.113.9").status_code for i in range(10)]
    assert codes == [401] * 8 + [429] * 2  # unknown accounts count like known ones (no enumeration)
    rows = _throttle_rows(app)
    assert [sign_in(client, f"other{i}", "x", "203.0.113.9").status_code for i in range(5)] == [429] * 5
    assert _throttle_rows(app) == rows  # a blocked address fills no table with made-up names
    assert sign_in(app.test_client(), "lan", address="198.51.100.20").status_code == 302


def test_account_ceiling_spares_an_address_the_user_signed_in_from_before(limited_app):
    app = limited_app(SIGNIN_MAX_PER_ACCOUNT_ADDRESS=5, SIGNIN_MAX_PER_ADDRESS=30, SIGNIN_MAX_PER_ACCOUNT=6)
    add_user(app, "lan")
    office = app.test_client()
    assert sign_in(office, "lan", address="198.51.100.20").status_code == 302  # a trusted address from now on
    office.post("/logout")
    botnet = app.test_client()
    codes = [sign_in(botnet, "lan", "sai-mat-khau", f"203.0.113.{i}").status_code for i in range(8)]
    assert codes == [401] * 6 + [429] * 2  # many addresses reach the account's ceiling
    assert sign_in(app.test_client(), "lan", address="192.0.2.50").status_code == 429  # a new address waits
    assert sign_in(office, "lan", address="198.51.100.20").status_code == 302  # the office still signs in


def test_parallel_guesses_cannot_pass_the_limit(limited_app):
    """Many threads guess at once: at most the limit reach the password check; the user is not delayed."""
    app = limited_app(**LIMITS)
    add_user(app, "lan")
    results: list[int] = []
    lock = threading.Lock()
    start = threading.Barrier(17)

    def guess(i: int) -> None:
        client = app.test_client()
        start.wait()
        code = sign_in(client, "lan", f"doan-song-song-{i}", "203.0.113.77").status_code
        with lock:
            results.append(code)

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    start.wait()
    t0 = time.perf_counter()
    legit = sign_in(app.test_client(), "lan", address="198.51.100.20")
    legit_seconds = time.perf_counter() - t0
    for t in threads:
        t.join(60)
    assert sorted(set(results)) <= [401, 429] and len(results) == 16
    assert results.count(401) <= 5, results  # only five guesses had their password checked
    assert results.count(429) >= 11
    assert legit.status_code == 302
    assert legit_seconds < 5, legit_seconds  # the old sleeping threads made this wait 7.7 s


def test_an_administrator_setting_a_new_password_lifts_the_throttle(limited_app):
    app = limited_app(**LIMITS)
    add_user(app, "chanh")
    lan_id = add_user(app, "lan")
    lan = app.test_client()
    for i in range(5):
        sign_in(lan, "lan", "quen-mat-khau-%d" % i)
    assert sign_in(lan, "lan", "quen-nua").status_code == 429
    admin = app.test_client()
    assert sign_in(admin, "chanh", address="10.0.0.2").status_code == 302
    resp = admin.post(f"/users/{lan_id}", data={"role": "admin", "active": "1", "full_name": "Lan",
                                                 "password": "mat-khau-moi-123"}, environ_base={"REMOTE_ADDR": "10.0.0.2"})
    assert resp.status_code == 302
    assert sign_in(lan, "lan", "mat-khau-moi-123").status_code == 302


def test_confirming_the_current_password_is_throttled_too(limited_app):
    """A stolen session cannot guess the password on the account page to take the account over."""
    app = limited_app(**LIMITS)
    add_user(app, "lan")
    thief = app.test_client()
    assert sign_in(thief, "lan").status_code == 302
    for i in range(4):  # 4 wrong guesses (the sign-in above was reset on success)
        page = thief.post("/account/", data={"action": "password", "current_password": "doan-%d" % i,
                                             "new_password": "mat-khau-cua-ke-gian"},
                          environ_base={"REMOTE_ADDR": "10.0.0.1"})
        assert "Mật khẩu hiện tại không đúng" in page.get_data(as_text=True)
    for _ in range(2):
        thief.post("/account/", data={"action": "password", "current_password": "doan-nua",
                                      "new_password": "mat-khau-cua-ke-gian"}, environ_base={"REMOTE_ADDR": "10.0.0.1"})
    page = thief.post("/account/", data={"action": "password", "current_password": "mat-khau-dai-1",
                                         "new_password": "mat-khau-cua-ke-gian"}, environ_base={"REMOTE_ADDR": "10.0.0.1"},
                      follow_redirects=True)
    assert "Đăng nhập sai quá nhiều lần" in page.get_data(as_text=True)
    assert sign_in(app.test_client(), "lan", address="198.51.100.20").status_code == 302  # not changed
