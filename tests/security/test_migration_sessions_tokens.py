"""Migration 0005 on a database with users and tokens from before: nobody loses an account, old
tokens get an expiry (90 days from the upgrade), and the user signs in afterwards. SQLite and PostgreSQL."""
from __future__ import annotations

import datetime as dt
import os

import pytest
from sqlalchemy import create_engine, text

from service import create_app, db, migrate
from service.auth import hash_password, hash_token
from tests.support.services import PG_BASE, pg_missing, require


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.sqlite3'}"
        return
    require(pg_missing())
    name = f"nct_mig5_{os.getpid()}"
    eng = create_engine(PG_BASE, isolation_level="AUTOCOMMIT")
    with eng.connect() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {name} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {name}"))
    yield f"{PG_BASE}?options=-csearch_path%3D{name}"
    with eng.connect() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {name} CASCADE"))
    eng.dispose()


def test_upgrade_keeps_users_and_gives_old_tokens_an_expiry(database_url, tmp_path):
    app = create_app({"DATABASE_URL": database_url, "TESTING": True, "WTF_CSRF_ENABLED": False, "INSTANCE_DIR": str(tmp_path / "i"),
                      "STORAGE_DIR": str(tmp_path / "s")})
    with app.app_context():
        migrate.upgrade("0004")
        now = dt.datetime(2026, 1, 5, 8, 0)
        with db.engine().begin() as conn:
            conn.execute(text(
                "INSERT INTO users (id, username, full_name, password_hash, role, active, failed_logins, created_at) "
                "VALUES (1, 'lan', 'Lan', :pw, 'admin', :yes, 3, :now)"), {"pw": hash_password("mat-khau-dai-1"),
                                                                        "yes": True, "now": now})
            conn.execute(text("INSERT INTO api_tokens (id, user_id, name, token_hash, created_at) "
                              "VALUES (1, 1, 'cu', :h, :now)"), {"h": hash_token("nct_cu"), "now": now})
        migrate.upgrade()
        with db.engine().connect() as conn:
            version = conn.execute(text("SELECT session_version FROM users WHERE id = 1")).scalar()
            expires, revoked = conn.execute(text("SELECT expires_at, revoked_at FROM api_tokens WHERE id = 1")).one()
        assert version == 0
        if isinstance(expires, str):
            expires = dt.datetime.fromisoformat(expires)
        left = expires - dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
        assert dt.timedelta(days=89) < left <= dt.timedelta(days=90) and revoked is None
        client = app.test_client()
        assert client.get("/api/me", headers={"Authorization": "Bearer nct_cu"}).status_code == 200
        assert client.post("/login", data={"username": "lan", "password": "mat-khau-dai-1"}).status_code == 302
        db.engine().dispose()
