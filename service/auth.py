"""Sign-in, sessions, API tokens, CSRF and slowing down failed sign-ins."""
from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import time
from typing import Optional

from flask import Flask, current_app, g, request
from flask_login import LoginManager, current_user
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from . import db
from .errors import ServiceError
from .models import ApiToken, User, utcnow

login_manager = LoginManager()
csrf = CSRFProtect()

LOCK_AFTER = 10
LOCK_MINUTES = 15


def init_app(app: Flask) -> None:
    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "web.login"
    login_manager.login_message = "Vui lòng đăng nhập để tiếp tục."
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def _load_user(user_id: str) -> Optional[User]:
        user = db.session().get(User, int(user_id))
        return user if user and user.active else None

    @login_manager.request_loader
    def _load_from_token(req) -> Optional[User]:
        header = req.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            return None
        token = header[7:].strip()
        row = db.session().scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(token)))
        if row is None or not row.user.active:
            return None
        g.token_auth = True
        return row.user

    @login_manager.unauthorized_handler
    def _unauthorized():
        from flask import redirect, url_for, flash
        if request.path.startswith("/api/"):
            raise ServiceError("unauthorized", "Cần đăng nhập hoặc mã truy cập API hợp lệ.", status=401)
        flash("Vui lòng đăng nhập để tiếp tục.", "info")
        return redirect(url_for("web.login", next=request.full_path))

    @app.before_request
    def _csrf_and_session():
        from flask import session
        g.pop("_login_user", None)  # the user belongs to this request, even in a shared app context
        session.permanent = True  # expires after PERMANENT_SESSION_LIFETIME
        if request.method in ("POST", "PUT", "PATCH", "DELETE") and current_app.config.get("WTF_CSRF_ENABLED", True):
            if request.path.startswith("/api/") and request.headers.get("Authorization", "").startswith("Bearer "):
                return  # token requests carry no cookie, so no CSRF risk
            csrf.protect()


def hash_password(password: str) -> str:
    return generate_password_hash(password)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_api_token(sess, user: User, name: str, *, by: Optional[User] = None) -> str:
    """A new token for ``user`` (created by ``by``, default the user), audited without the token."""
    from . import audit
    from .permissions import require_write
    require_write(sess, by if by is not None else user, user, "own_tokens")
    token = "nct_" + secrets.token_urlsafe(32)
    row = ApiToken(user_id=user.id, name=name, token_hash=hash_token(token))
    sess.add(row)
    audit.record(sess, "api_token", row, "create", None, {"user_id": user.id, "name": name},
                 user=by if by is not None else user)
    return token


def check_password_strength(password: str) -> None:
    if len(password) < 10:
        raise ServiceError("weak_password", "Mật khẩu phải có ít nhất 10 ký tự.", {"field": "password"})


def authenticate(sess, username: str, password: str) -> User:
    """Check a sign-in. Each failure waits longer (doubling), and many failures lock the account for a while."""
    base = current_app.config["LOGIN_DELAY_BASE"]
    user = sess.scalar(select(User).where(User.username == username.strip().lower()))
    now = utcnow()
    if user is not None and user.failed_logins >= LOCK_AFTER and user.last_failed_at and \
            now - user.last_failed_at < dt.timedelta(minutes=LOCK_MINUTES):
        time.sleep(base)
        raise ServiceError("account_locked",
                           f"Tài khoản tạm khóa do đăng nhập sai nhiều lần. Vui lòng thử lại sau {LOCK_MINUTES} phút.",
                           status=429)
    if user is None or not user.active or not check_password_hash(user.password_hash, password):
        failures = 1
        if user is not None:
            user.failed_logins += 1
            user.last_failed_at = now
            failures = user.failed_logins
            sess.commit()
        time.sleep(min(base * (2 ** (failures - 1)), 8.0))
        raise ServiceError("invalid_credentials", "Tên đăng nhập hoặc mật khẩu không đúng.", status=401)
    user.failed_logins = 0
    user.last_login_at = now
    sess.commit()
    return user


def current() -> User:
    return current_user._get_current_object()  # type: ignore[attr-defined]
