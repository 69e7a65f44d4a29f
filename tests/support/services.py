"""What the tests need from this machine: PostgreSQL, redis-server, Chromium, LibreOffice.

With CI=true a missing one fails the test (CI must run everything); elsewhere the test is
skipped and says why.
"""
from __future__ import annotations

import datetime as dt
import os
from contextlib import contextmanager
from typing import Iterator, Optional

import pytest
from sqlalchemy import create_engine, text

IN_CI = os.environ.get("CI") == "true"
PG_BASE = os.environ.get("NOICUTRU_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


def pg_missing() -> Optional[str]:
    """None when PostgreSQL answers at PG_BASE, else why not."""
    try:
        eng = create_engine(PG_BASE)
        with eng.connect() as conn:
            conn.execute(text("select 1"))
        eng.dispose()
        return None
    except Exception as exc:  # the reason is shown in the skip or the failure
        return f"PostgreSQL not reachable at {PG_BASE}: {exc.__class__.__name__}"


def require(missing: Optional[str]) -> None:
    """Fail (CI) or skip (elsewhere) when something the test needs is ``missing``."""
    if missing:
        if IN_CI:
            pytest.fail(f"CI=true but {missing}")
        pytest.skip(reason=missing)


@contextmanager
def pg_schema(name: str) -> Iterator[str]:
    """A fresh PostgreSQL schema at the latest migration; yields its URL, drops it afterwards."""
    from service import create_app, db, migrate
    eng = create_engine(PG_BASE, isolation_level="AUTOCOMMIT")
    with eng.connect() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {name} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {name}"))
    url = f"{PG_BASE}?options=-csearch_path%3D{name}"
    app = create_app({"DATABASE_URL": url, "TESTING": True})
    with app.app_context():
        migrate.upgrade()
        db.engine().dispose()
    try:
        yield url
    finally:
        with eng.connect() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {name} CASCADE"))
        eng.dispose()


def add_org(sess, name: str, kind: str, parent=None):
    """One organisation of a test's tree."""
    from service.models import Organisation
    org = Organisation(kind=kind, parent=parent)
    org.set_name(name)
    sess.add(org)
    return org


def add_members_with_sheets(sess, orgs, names, *, card_prefix: str, born: "dt.date", admitted: "dt.date",
                            house: str, year: int) -> list:
    """Members of the tax office's cell living in residence cell 1, one per name (born a year apart),
    each with their evaluation sheet for ``year``."""
    from service.documents.sheets import ensure_sheet
    from service.models import Member
    for i, name in enumerate(names):
        m = Member(card_number=f"{card_prefix}{i}", workplace_org_id=orgs["tax_cell"].id,
                   residence_cell_id=orgs["cell1"].id, gender="male",
                   date_of_birth=dt.date(born.year + i, born.month, born.day), admission_date=admitted,
                   house=house, commune="Phường Hồng Hà", province="Quảng Ninh", status="active")
        m.set_name(name)
        sess.add(m)
    sess.commit()
    out = []
    for m in sess.query(Member).order_by(Member.id):
        ensure_sheet(sess, m, year)
        out.append(m)
    return out


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_redis(port: int, workdir) -> "subprocess.Popen":
    """A redis-server of the test's own on ``port`` (nothing kept on disk), once it answers PING."""
    import socket
    import subprocess
    import time
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", str(workdir)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                if s.recv(16).startswith(b"+PONG"):
                    return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise AssertionError("redis-server did not start")
