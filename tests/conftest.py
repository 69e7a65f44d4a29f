"""Shared fixtures: an app on a real database.

Every test that takes ``app`` runs on SQLite, and on PostgreSQL as well when one is reachable.
With CI=true PostgreSQL must be reachable: its absence is an error, not a skip.
"""
from __future__ import annotations

import os
import shutil

import pytest
from sqlalchemy import text

from tests.support.passwords import password_hash_for
from tests.support.services import add_org, pg_missing, pg_schema, require

from service import create_app, db, migrate
from service.models import Base, Organisation, User

PG_MISSING = pg_missing()
PG_SCHEMA = f"nct_test_{os.getpid()}"
BACKENDS = ["sqlite", "postgres"]


@pytest.fixture(scope="session")
def pg_url():
    require(PG_MISSING)
    with pg_schema(PG_SCHEMA) as url:
        yield url


@pytest.fixture(scope="session")
def sqlite_schema(tmp_path_factory):
    """One SQLite database brought to the latest migration once per run; each test gets a copy
    (running the migrations for every test cost about 0.6 s a test)."""
    folder = tmp_path_factory.mktemp("sqlite-schema")
    path = folder / "migrated.sqlite3"
    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{path}", "STORAGE_DIR": str(folder / "storage"),
                      "INSTANCE_DIR": str(folder / "instance")})
    with app.app_context():
        migrate.upgrade()
        db.engine().dispose()
    return path


def _truncate_pg(app) -> None:
    names = ", ".join(t.name for t in Base.metadata.sorted_tables)
    with db.engine().begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


def make_app(tmp_path, backend: str, request, **overrides):
    cfg = {"TESTING": True, "LOGIN_DELAY_BASE": 0.0, "STORAGE_DIR": str(tmp_path / "storage"),
           "INSTANCE_DIR": str(tmp_path / "instance"),
           "WTF_CSRF_ENABLED": False}
    if backend == "postgres":
        cfg["DATABASE_URL"] = request.getfixturevalue("pg_url")
    else:
        target = tmp_path / "test.sqlite3"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(request.getfixturevalue("sqlite_schema"), target)
        cfg["DATABASE_URL"] = f"sqlite:///{target}"
    cfg.update(overrides)
    app = create_app(cfg)
    if backend == "postgres":
        with app.app_context():
            _truncate_pg(app)
    return app


@pytest.fixture
def app_factory(request):
    """Make another app on the same backend as ``app`` (e.g. with other settings)."""
    return lambda path, backend, **overrides: make_app(path, backend, request, **overrides)


@pytest.fixture(params=BACKENDS)
def app(request, tmp_path):
    application = make_app(tmp_path, request.param, request)
    application.backend = request.param
    with application.app_context():
        yield application
        db.engine().dispose()


@pytest.fixture
def sess(app):
    return db.session()


@pytest.fixture
def orgs(sess):
    """A small organisation tree: two workplace committees and one ward with two residence cells."""
    def org(name, kind, parent=None):
        return add_org(sess, name, kind, parent)
    province = org("Đảng bộ tỉnh Quảng Ninh", "party_body")
    tax = org("Đảng ủy Cục Thuế tỉnh", "workplace_committee", province)
    tax_cell = org("Chi bộ Phòng Kiểm tra", "workplace_cell", tax)
    hospital = org("Đảng ủy Bệnh viện tỉnh", "workplace_committee", province)
    ward = org("Đảng ủy phường Hồng Hà", "ward_committee", province)
    cell1 = org("Chi bộ khu phố 1", "residence_cell", ward)
    cell2 = org("Chi bộ khu phố 2", "residence_cell", ward)
    other_ward = org("Đảng ủy phường Bãi Cháy", "ward_committee", province)
    other_cell = org("Chi bộ khu phố 5", "residence_cell", other_ward)
    sess.commit()
    return {k: v for k, v in locals().items() if isinstance(v, Organisation)}


@pytest.fixture
def make_user(sess):
    def _make(username, role="admin", organisation=None, password="mat-khau-dai-1"):
        user = User(username=username, full_name=username.title(), role=role,
                    organisation_id=organisation.id if organisation else None,
                    password_hash=password_hash_for(password))
        sess.add(user)
        sess.commit()
        return user
    return _make


@pytest.fixture
def login(app):
    """A test client signed in as the given user (through the real sign-in form)."""
    def _login(user, password="mat-khau-dai-1"):
        client = app.test_client()
        resp = client.post("/login", data={"username": user.username, "password": password})
        assert resp.status_code == 302, resp.data[:500]
        return client
    return _login
