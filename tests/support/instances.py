"""Whole instances for backup and storage tests: made, filled with every kind of record, compared."""
from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

from sqlalchemy import select

from tests.support.services import add_org

from service import backup, create_app, db, migrate, qrkeys, storage
from service.jobs.inprocess import run_pending
from service.auth import new_api_token
from tests.support.passwords import password_hash_for
from service.documents.sheets import ensure_sheet, void_and_replace
from service.models import Base, Member, User

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "members.xlsx"


def make_instance(tmp_path: Path, name: str, url: str | None, **overrides):
    folder = tmp_path / name
    app = create_app({"TESTING": True, "DATABASE_URL": url or f"sqlite:///{folder / 'db.sqlite3'}",
                      "STORAGE_DIR": str(folder / "storage"), "INSTANCE_DIR": str(folder / "instance"), **overrides})
    with app.app_context():
        migrate.upgrade()
    return app


def fill(app) -> None:
    """Every kind of record a province keeps: organisations, members (imported), sheets, users, files, keys."""
    from service import importing
    with app.app_context():
        sess = db.session()
        admin = User(username="quantri", full_name="Quản trị", role="admin", password_hash=password_hash_for("mat-khau-dai-1"))
        sess.add(admin)
        sess.commit()
        new_api_token(sess, admin, "Máy quét")
        sess.commit()
        batch = importing.preview_upload(sess, admin, SAMPLE.read_bytes(), SAMPLE.name)
        importing.confirm(sess, admin, batch)
        run_pending()
        ward = add_org(sess, "Đảng ủy phường Cao Xanh", "ward_committee")
        cell = add_org(sess, "Chi bộ khu phố 3", "residence_cell", ward)
        work = add_org(sess, "Đảng ủy Sở Tư pháp", "workplace_committee")
        sess.commit()
        m = Member(card_number="55501", residence_cell_id=cell.id, workplace_org_id=work.id, gender="female", date_of_birth=dt.date(1979, 1, 2),
                   admission_date=dt.date(2003, 4, 5), house="Số 7", commune="Phường Cao Xanh", province="Quảng Ninh",
                   status="active")
        m.set_name("Vương Thị Ánh Tuyết")
        sess.add(m)
        sess.commit()
        ev = ensure_sheet(sess, m, 2026)
        void_and_replace(sess, admin, ev, "Mất phiếu")
        for data, name in ((os.urandom(3 << 20), "quet.pdf"), (b"", "rong.txt"), ("Nhận xét".encode(), "nx.txt")):
            storage.save(sess, data, name, user_id=admin.id)
        sess.commit()
        qrkeys.rotate()
        db.engine().dispose()


def snapshot(app) -> dict:
    """Every row of every table (as text) and every stored file's bytes."""
    with app.app_context():
        out = {}
        with db.engine().connect() as conn:
            for table in Base.metadata.sorted_tables:
                rows = conn.execute(select(table).order_by(*table.primary_key.columns)).mappings()
                out[table.name] = [json.dumps({k: backup._encode(v) for k, v in r.items()}, sort_keys=True,
                                              ensure_ascii=False) for r in rows]
        out["files"] = {sha: storage.read_sha(sha) for sha in storage.list_shas()}
        db.engine().dispose()
    return out


def run(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


