"""noicutru backup / restore: every table row and every stored file comes back, on SQLite and PostgreSQL."""
from __future__ import annotations

import datetime as dt
import json
import os
import tarfile
from pathlib import Path

import pytest
from sqlalchemy import select, text

from tests.support.instances import fill, make_instance, run, snapshot
from tests.support.services import add_org, pg_missing, pg_schema, require

from service import audit, create_app, db, qrkeys, storage
from service.models import Base, Member, QrSigningKey


@pytest.fixture(scope="module")
def pg_target():
    require(pg_missing())
    with pg_schema(f"nct_restore_{os.getpid()}") as url:
        yield url


@pytest.fixture(scope="module")
def pg_source():
    require(pg_missing())
    with pg_schema(f"nct_backup_{os.getpid()}") as url:
        yield url


def _wipe_pg(url):
    app = create_app({"TESTING": True, "DATABASE_URL": url})
    with app.app_context(), db.engine().begin() as conn:
        conn.execute(text("TRUNCATE " + ", ".join(t.name for t in Base.metadata.sorted_tables)
                          + " RESTART IDENTITY CASCADE"))
        db.engine().dispose()


@pytest.mark.parametrize("source_db,target_db", [("sqlite", "sqlite"), ("postgres", "postgres"), ("sqlite", "postgres"),
                                                 ("postgres", "sqlite")])
def test_restore_into_an_empty_instance_brings_back_every_row_and_file(tmp_path, request, source_db, target_db):
    urls = {}
    for role, kind in (("source", source_db), ("target", target_db)):
        if kind == "postgres":
            urls[role] = request.getfixturevalue(f"pg_{role}")
            _wipe_pg(urls[role])
        else:
            urls[role] = None
    source = make_instance(tmp_path, "source", urls["source"])
    fill(source)
    before = snapshot(source)
    assert [t for t in ("members", "organisations", "users", "api_tokens", "evaluations", "stored_files",
                                   "jobs", "import_batches", "audit_log", "qr_signing_keys") if not before[t]] == []
    archive = tmp_path / "sao-luu.tar"
    out = run(source, "backup", str(archive))
    assert out.exit_code == 0, out.output
    with tarfile.open(archive) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))
    assert manifest["schema_revision"] and manifest["tables"]["members"]["rows"] == len(before["members"])
    assert set(manifest["files"]) == set(before["files"])

    target = make_instance(tmp_path, "target", urls["target"])
    out = run(target, "restore", str(archive))
    assert out.exit_code == 0, out.output
    after = snapshot(target)
    for name in before:
        assert after[name] == before[name], name
    # the restored instance works on: new rows get new ids, and the sheets it signed still verify
    with target.app_context():
        sess = db.session()
        m = sess.scalar(select(Member).where(Member.card_number == "55501"))
        fresh = Member(card_number="55502", residence_cell_id=m.residence_cell_id, workplace_org_id=m.workplace_org_id, gender="male",
                       date_of_birth=dt.date(1990, 1, 1), admission_date=dt.date(2015, 1, 1), house="Số 8",
                       commune="Phường Cao Xanh", province="Quảng Ninh", status="active")
        fresh.set_name("Hà Văn Bình")
        sess.add(fresh)
        sess.commit()
        assert fresh.id > max(json.loads(r)["id"] for r in before["members"])
        db.engine().dispose()
    with source.app_context():
        source_current = qrkeys.signing_key()
        db.engine().dispose()
    with target.app_context():
        assert qrkeys.signing_key() == source_current
        db.engine().dispose()


@pytest.fixture
def pair(tmp_path):
    source = make_instance(tmp_path, "source", None)
    with source.app_context():
        sess = db.session()
        add_org(sess, "Đảng ủy phường Hà Lầm", "ward_committee")
        sess.commit()
        storage.save(sess, "Biên bản".encode(), "bb.txt")
        sess.commit()
        db.engine().dispose()
    archive = tmp_path / "a.tar"
    assert run(source, "backup", str(archive)).exit_code == 0
    return source, archive, make_instance(tmp_path, "target", None)


def test_restore_refuses_a_target_with_data_unless_forced(tmp_path, pair):
    source, archive, target = pair
    with target.app_context():
        sess = db.session()
        org = add_org(sess, "Đảng ủy phường Khác", "ward_committee")
        audit.record(sess, "organisation", org, "create", None, {"name": "Đảng ủy phường Khác"})  # append-only rows
        sess.commit()
        db.engine().dispose()
    before = snapshot(target)
    out = run(target, "restore", str(archive))
    assert out.exit_code != 0 and "restore_target_not_empty" in out.output and "organisations (1 dòng)" in out.output
    assert snapshot(target) == before
    out = run(target, "restore", "--force", str(archive))
    assert out.exit_code == 0, out.output
    assert snapshot(target) == {**snapshot(source), "files": {**before["files"], **snapshot(source)["files"]}}
    out = run(target, "audit-verify")  # the restored chain is whole, and the table is append-only again
    assert out.exit_code == 0 and "OK" in out.output, out.output
    with target.app_context(), db.engine().connect() as conn:
        triggers = set(conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")).scalars())
        db.engine().dispose()
    assert set(audit.SQLITE_APPEND_ONLY_TRIGGERS) <= triggers


def _rewrite(archive: Path, dest: Path, change) -> None:
    """A copy of the archive with its members changed by ``change(name, data) -> data | None``."""
    with tarfile.open(archive) as src, tarfile.open(dest, "w") as out:
        for member in src.getmembers():
            data = change(member.name, src.extractfile(member).read())
            if data is None:
                continue
            member.size = len(data)
            import io
            out.addfile(member, io.BytesIO(data))


def test_restore_refuses_another_schema_revision_and_damaged_archives(tmp_path, pair):
    source, archive, target = pair
    before = snapshot(target)

    def other_revision(name, data):
        if name == "manifest.json":
            m = json.loads(data)
            m["schema_revision"] = "0001"
            return json.dumps(m).encode()
        return data
    _rewrite(archive, tmp_path / "old.tar", other_revision)
    out = run(target, "restore", str(tmp_path / "old.tar"))
    assert out.exit_code != 0 and "backup_schema_mismatch" in out.output
    assert "phiên bản cơ sở dữ liệu 0001" in out.output

    _rewrite(archive, tmp_path / "bad.tar", lambda n, d: d.replace("Hà Lầm".encode(), "Hà Lâm".encode()))
    out = run(target, "restore", str(tmp_path / "bad.tar"))
    assert out.exit_code != 0 and "tổng kiểm tra của tables/organisations.jsonl không khớp" in out.output

    _rewrite(archive, tmp_path / "short.tar", lambda n, d: None if n.startswith("files/") else d)
    out = run(target, "restore", str(tmp_path / "short.tar"))
    assert out.exit_code != 0 and "thiếu 1 mục" in out.output

    (tmp_path / "junk.tar").write_bytes(b"not a tar at all" * 10)
    out = run(target, "restore", str(tmp_path / "junk.tar"))
    assert out.exit_code != 0 and "backup_invalid" in out.output
    assert snapshot(target) == before


def test_a_failed_restore_changes_nothing(tmp_path, pair):
    """Rows that break a constraint at the end: the database and the file store stay as they were."""
    source, archive, target = pair

    def broken(name, data):
        if name == "tables/stored_files.jsonl":
            row = json.loads(data.splitlines()[0])
            return data + json.dumps({**row, "uploaded_by": 999999}).encode() + b"\n"  # no such user
        if name == "manifest.json":
            return data
        return data
    # keep the checksums right so that only the database refuses it
    with tarfile.open(archive) as src:
        manifest = json.load(src.extractfile("manifest.json"))
        table = broken("tables/stored_files.jsonl", src.extractfile("tables/stored_files.jsonl").read())
    import hashlib
    manifest["tables"]["stored_files"] = {"rows": 2, "sha256": hashlib.sha256(table).hexdigest()}
    _rewrite(archive, tmp_path / "fk.tar", lambda n, d: table if n == "tables/stored_files.jsonl"
             else json.dumps(manifest).encode() if n == "manifest.json" else d)
    before = snapshot(target)
    out = run(target, "restore", str(tmp_path / "fk.tar"))
    assert out.exit_code != 0 and "restore_failed" in out.output and "Chưa thay đổi gì" in out.output
    assert snapshot(target) == before and not before["files"]
    with target.app_context():
        assert db.session().query(QrSigningKey).count() == 0
        db.engine().dispose()
