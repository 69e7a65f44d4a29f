"""Sign-in, sessions, API tokens and CSRF.

- Sessions carry the user's ``session_version``; raising it (sign-out, password, role or active change)
  ends every session of that user, including copies of the cookie.
- API tokens (``Authorization: Bearer nct_...``) expire, can be revoked, and record their last use. Only a
  valid token exempts a request from the CSRF check; with any other bearer header the request is checked
  as usual and then refused with 401 and a stable code.
- Failed sign-ins are throttled by ``sign_in_throttle`` (atomic counters, 429 with Retry-After).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Optional

from flask import Flask, current_app, g, request, session
from flask_login import LoginManager, current_user, login_user, logout_user
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import select, update
from werkzeug.security import check_password_hash, generate_password_hash

from . import db, sign_in_throttle
from .errors import ServiceError
from .models import ApiToken, User, utcnow

login_manager = LoginManager()
csrf = CSRFProtect()

SESSION_VERSION_KEY = "_sv"
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
TOKEN_LAST_USED_STEP = dt.timedelta(minutes=1)  # last_used_at is written at most this often
TOKEN_PROBLEMS = {
    "token_invalid": "Mã truy cập API không hợp lệ.",
    "token_expired": "Mã truy cập API đã hết hạn. Hãy tạo mã mới.",
    "token_revoked": "Mã truy cập API đã bị thu hồi.",
}
_DUMMY_HASH = generate_password_hash("noicutru-dummy-password")


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
        if g.get("bearer_token") is not None:
            return None  # a request with a token acts as the token's user only
        user = db.session().get(User, int(user_id))
        if user is None or not user.active or session.get(SESSION_VERSION_KEY) != user.session_version:
            return None  # signed out elsewhere, password/role changed, or deactivated: this session is over
        return user

    @login_manager.request_loader
    def _load_from_token(_req) -> Optional[User]:
        token = g.get("bearer_token")
        return token.user if token is not None else None

    @login_manager.unauthorized_handler
    def _unauthorized():
        from flask import redirect, url_for, flash
        if request.path.startswith("/api/"):
            raise ServiceError("unauthorized", "Cần đăng nhập hoặc mã truy cập API hợp lệ.", status=401)
        flash("Vui lòng đăng nhập để tiếp tục.", "info")
        return redirect(url_for("web.login", next=request.full_path))

    @app.before_request
    def _token_csrf_and_session():
        # the user and token belong to this request, even in a shared app context
        g.pop("_login_user", None)
        g.pop("bearer_token", None)
        session.permanent = True  # expires after PERMANENT_SESSION_LIFETIME
        bearer = _bearer(request.headers.get("Authorization", ""))
        problem = None
        if bearer is not None:
            token, problem = check_token(bearer)
            if token is not None:
                g.bearer_token = token
                return  # authenticated by the token, not by a cookie: no CSRF risk
        if request.method in WRITE_METHODS and current_app.config.get("WTF_CSRF_ENABLED", True):
            csrf.protect()
        if problem:
            raise ServiceError(problem, TOKEN_PROBLEMS[problem], status=401)


def _bearer(header: str) -> Optional[str]:
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return value.strip()


def hash_password(password: str) -> str:
    return generate_password_hash(password)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check_token(token: str) -> tuple[Optional[ApiToken], Optional[str]]:
    """The token row if the token may be used now, else a problem code (token_invalid/expired/revoked)."""
    row = db.session().scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(token))) if token else None
    if row is None or not row.user.active:
        return None, "token_invalid"
    now = utcnow()
    state = row.state(now)
    if state != "active":
        return None, f"token_{state}"
    if row.last_used_at is None or row.last_used_at < now - TOKEN_LAST_USED_STEP:
        with db.engine().begin() as conn:  # its own short transaction, whatever the request does later
            conn.execute(update(ApiToken).where(ApiToken.id == row.id).values(last_used_at=now))
        row.last_used_at = now
    return row, None


def new_api_token(sess, user: User, name: str, days: Optional[int] = None, *,
                  by: Optional[User] = None) -> tuple[str, ApiToken]:
    """Make a token for ``user`` (created by ``by``, default the user): the secret is shown once, only its
    hash is kept; it expires after ``days`` (capped). Audited without the secret."""
    from . import audit
    from .permissions import require_write
    require_write(sess, by if by is not None else user, user, "own_tokens")
    cfg = current_app.config
    if days is None:
        days = cfg["TOKEN_DAYS_DEFAULT"]
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= cfg["TOKEN_DAYS_MAX"]:
        raise ServiceError("invalid_token_expiry",
                           f"Thời hạn của mã truy cập phải là số ngày từ 1 đến {cfg['TOKEN_DAYS_MAX']}.",
                           {"field": "expires_in_days", "max": cfg["TOKEN_DAYS_MAX"]})
    secret = "nct_" + secrets.token_urlsafe(32)
    row = ApiToken(user_id=user.id, name=(name or "API")[:120], token_hash=hash_token(secret),
                   expires_at=utcnow().replace(microsecond=0) + dt.timedelta(days=days))
    sess.add(row)
    sess.flush()
    audit.record(sess, "api_token", row, "create", None,
                 {"user_id": user.id, "name": row.name, "expires_at": row.expires_at.isoformat()},
                 user=by if by is not None else user)
    return secret, row


def token_to_dict(row: ApiToken) -> dict:
    """What may be shown of a token: never the secret nor its hash."""
    def iso(value):
        return value.isoformat() + "Z" if value else None
    return {"id": row.id, "user_id": row.user_id, "name": row.name, "created_at": iso(row.created_at),
            "last_used_at": iso(row.last_used_at), "expires_at": iso(row.expires_at),
            "revoked_at": iso(row.revoked_at), "state": row.state(utcnow())}


def revoke_token(sess, me: User, token_id: int) -> ApiToken:
    """Revoke one's own token (administrators: anyone's). Someone else's token is 'not found'. Audited."""
    from . import audit
    row = sess.get(ApiToken, token_id)
    if row is None or (row.user_id != me.id and me.role != "admin"):
        raise ServiceError("not_found", "Không tìm thấy mã truy cập API.", status=404)
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        sess.flush()
        audit.record(sess, "api_token", row, "revoke", {"user_id": row.user_id, "name": row.name, "revoked_at": None},
                     {"user_id": row.user_id, "name": row.name, "revoked_at": row.revoked_at.isoformat()}, user=me)
    sess.commit()
    return row


def check_password_strength(password: str) -> None:
    if len(password) < 10:
        raise ServiceError("weak_password", "Mật khẩu phải có ít nhất 10 ký tự.", {"field": "password"})


def authenticate(sess, username: str, password: str) -> User:
    """Check a sign-in from this request's client address, throttled (429 with Retry-After)."""
    name = username.strip().lower()
    user = sess.scalar(select(User).where(User.username == name))
    if not _password_matches(name, user, password):
        raise ServiceError("invalid_credentials", "Tên đăng nhập hoặc mật khẩu không đúng.", status=401)
    user.last_login_at = utcnow()
    sess.commit()
    return user


def check_own_password(user: User, password: str) -> None:
    """Confirm the signed-in user's current password (before changing it), throttled like a sign-in."""
    if not _password_matches(user.username, user, password):
        raise ServiceError("wrong_password", "Mật khẩu hiện tại không đúng.", {"field": "current_password"})


def _password_matches(name: str, user: Optional[User], password: str) -> bool:
    """Check a password behind the throttle. The throttle counts in transactions of its own; the
    request's session gives its connection back first (it holds only reads here), so a request never
    holds two pooled connections at once and many parallel sign-ins cannot exhaust the pool."""
    address = request.remote_addr or "unknown"
    engine, cfg = db.engine(), current_app.config
    db.session().commit()
    taken = sign_in_throttle.reserve(engine, cfg, name, address)
    if user is None:
        check_password_hash(_DUMMY_HASH, password)  # same time as a wrong password
    if user is None or not user.active or not check_password_hash(user.password_hash, password):
        db.session().commit()
        return False
    db.session().commit()
    sign_in_throttle.succeeded(engine, cfg, name, address, taken)
    return True


def start_session(user: User) -> None:
    login_user(user)
    session[SESSION_VERSION_KEY] = user.session_version


def end_sessions(user: User) -> None:
    """End every session of the user (all browsers, copied cookies too). The caller commits."""
    user.session_version = User.session_version + 1  # computed by the database: concurrent ends both count


def sign_out(sess) -> None:
    user = current_user._get_current_object() if current_user.is_authenticated else None  # type: ignore[attr-defined]
    if user is not None and g.get("bearer_token") is None:
        end_sessions(sess.merge(user))
        sess.commit()
    logout_user()


def current() -> User:
    return current_user._get_current_object()  # type: ignore[attr-defined]
