"""Hostile workbooks and templates are refused before parsing, through the web pages and the API,
with a stable code and a Vietnamese message naming the file and the member; nothing is written
(database and file store unchanged) and the server keeps answering. Exports never write formulas."""
from __future__ import annotations

import functools
import html
import io
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from tests.support import hostile_files as hf

from service.members.export import FORMULA_STARTS
from service.models import AuditEntry, DocumentTemplate, ImportBatch, Job, Member, Organisation, StoredFile

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "templates" / "evaluation_sheet.v1.docx"
WORKBOOK_CASES = sorted(hf.HOSTILE_WORKBOOKS)


@functools.lru_cache(maxsize=None)
def hostile(name: str) -> bytes:
    return hf.HOSTILE_WORKBOOKS[name][0]()


def state(app, sess) -> tuple:
    """Every table a refused upload could touch, and every file in the store."""
    sess.expire_all()
    counts = tuple(sess.scalar(select(func.count()).select_from(m))
                   for m in (Member, Organisation, ImportBatch, StoredFile, AuditEntry, Job, DocumentTemplate))
    store = Path(app.config["STORAGE_DIR"])
    files = sorted(str(p.relative_to(store)) for p in store.rglob("*") if p.is_file()) if store.exists() else []
    return counts, files


def alive(client) -> None:
    """A normal request right after the hostile one still works."""
    resp = client.get("/api/me")
    assert resp.status_code == 200 and resp.get_json()["username"] == "quantri"


@pytest.fixture
def admin_client(make_user, login):
    return login(make_user("quantri", "admin"))


@pytest.mark.parametrize("case", WORKBOOK_CASES)
def test_hostile_workbook_refused_by_api_and_page(app, sess, admin_client, case):
    code = hf.HOSTILE_WORKBOOKS[case][1]
    data, name = hostile(case), f"{case}.xlsx"
    before = state(app, sess)

    resp = admin_client.post("/api/imports", data={"file": (io.BytesIO(data), name)},
                             content_type="multipart/form-data")
    err = resp.get_json()["error"]
    assert resp.status_code == 400, err
    assert err["code"] == code
    assert f"«{name}»" in err["message"]
    if code.startswith(("zip_", "xml_")) and code != "zip_too_many_members":  # a count names no member
        assert err["details"]["file_name"] == name and err["details"]["member"]
        assert f"«{err['details']['member'][:50]}" in err["message"]
    assert state(app, sess) == before
    alive(admin_client)

    page = admin_client.post("/import/", data={"file": (io.BytesIO(data), name)}, content_type="multipart/form-data")
    assert page.status_code == 400
    assert err["message"] in html.unescape(page.get_data(as_text=True))
    assert state(app, sess) == before
    alive(admin_client)


def test_xxe_never_reads_the_file_nor_calls_the_address(app, sess, admin_client, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("bí-mật-không-được-lộ")
    resp = admin_client.post("/api/imports", data={"file": (io.BytesIO(hf.xxe_file_xlsx(str(secret))), "x.xlsx")},
                             content_type="multipart/form-data")
    assert resp.status_code == 400 and "bí-mật" not in resp.get_data(as_text=True)
    assert resp.get_json()["error"]["code"] == "xml_dtd"


def test_openpyxl_refuses_entities_itself(tmp_path):
    """Second wall: were the container check skipped, openpyxl (through defusedxml) still refuses."""
    from defusedxml import DefusedXmlException
    import openpyxl.xml
    assert openpyxl.xml.DEFUSEDXML is True
    for data in (hf.billion_laughs_xlsx(), hf.xxe_file_xlsx(), hf.xxe_http_xlsx()):
        with pytest.raises(Exception) as caught:
            load_workbook(io.BytesIO(data))
        chain, exc = [], caught.value
        while exc is not None:
            chain.append(exc)
            exc = exc.__cause__ or exc.__context__
        assert any(isinstance(e, DefusedXmlException) for e in chain), chain


def test_service_refuses_to_start_without_defusedxml(tmp_path):
    code = ("from service import create_app; "
            f"create_app({{'DATABASE_URL': 'sqlite:///{tmp_path}/x.sqlite3', 'INSTANCE_DIR': '{tmp_path}/i'}})")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OPENPYXL_DEFUSEDXML": "False"}
    bad = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert bad.returncode != 0 and "defusedxml" in bad.stderr
    env["OPENPYXL_DEFUSEDXML"] = "True"
    good = subprocess.run([sys.executable, "-c", code + "; import openpyxl.xml; print(openpyxl.xml.DEFUSEDXML)"],
                          env=env, capture_output=True, text=True, timeout=120)
    assert good.returncode == 0 and good.stdout.strip() == "True", good.stderr


def test_limits_are_settings(app_factory, tmp_path, make_user, login, app):
    """A smaller member limit from the configuration refuses a file the default accepts."""
    data = hf.plain_xlsx([(f"Nguyễn Văn {i}", str(30000000 + i)) for i in range(50)])
    small = app_factory(tmp_path / "small", app.backend, ZIP_MAX_MEMBERS=5)
    with small.app_context():
        from service import db
        from tests.support.passwords import password_hash_for
        from service.models import User
        s = db.session()
        s.add(User(username="quantri", full_name="Quản Trị", role="admin", password_hash=password_hash_for("mat-khau-dai-1")))
        s.commit()
        client = small.test_client()
        assert client.post("/login", data={"username": "quantri", "password": "mat-khau-dai-1"}).status_code == 302
        resp = client.post("/api/imports", data={"file": (io.BytesIO(data), "ds.xlsx")},
                           content_type="multipart/form-data")
        assert resp.status_code == 400 and resp.get_json()["error"]["code"] == "zip_too_many_members"
    ok = login(make_user("khac", "admin")).post("/api/imports", data={"file": (io.BytesIO(data), "ds.xlsx")},
                                                 content_type="multipart/form-data")
    assert ok.status_code == 201, ok.get_json()


@pytest.mark.parametrize("case,code", [("zip_bomb", "zip_member_too_large"), ("billion_laughs", "xml_dtd"),
                                       ("path_traversal", "zip_bad_name")])
def test_hostile_template_refused_by_api_and_page(app, sess, admin_client, case, code):
    template = TEMPLATE.read_bytes()
    data = {"zip_bomb": hf.docx_zip_bomb, "billion_laughs": hf.docx_billion_laughs,
            "path_traversal": lambda t: hf.rezip(t, add=[("../../evil.xml", b"<x/>")])}[case](template)
    from service.documents.templates_store import sync_builtin
    sync_builtin(sess, force=True)  # the built-in templates are registered before the snapshot
    before = state(app, sess)
    name = f"mau-{case}.docx"
    resp = admin_client.post("/api/templates", data={"kind": "evaluation_sheet", "file": (io.BytesIO(data), name)},
                             content_type="multipart/form-data")
    err = resp.get_json()["error"]
    assert resp.status_code == 400 and err["code"] == "invalid_template"
    assert [p["code"] for p in err["details"]] == [code]
    assert name in err["message"] and err["details"][0]["part"]
    assert state(app, sess) == before
    alive(admin_client)

    page = admin_client.post("/documents/templates", data={"kind": "evaluation_sheet", "file": (io.BytesIO(data), name)},
                             content_type="multipart/form-data")
    assert page.status_code == 400
    assert err["details"][0]["message"] in html.unescape(page.get_data(as_text=True))
    assert state(app, sess) == before
    alive(admin_client)


def _add_member(sess, name: str, card: str, notes: str | None = None) -> Member:
    m = Member(card_number=card, status="active", notes=notes)
    m.set_name(name)
    sess.add(m)
    return m


def test_export_writes_formula_like_text_as_text(app, sess, admin_client):
    """Names and notes that a spreadsheet would evaluate come back as the same text, never a formula."""
    for i, name in enumerate(hf.FORMULA_NAMES):
        _add_member(sess, name, str(40000000 + i), notes="=1+1" if i == 0 else "-ghi chú")
    _add_member(sess, "Nguyễn Văn Bình", "40000099", notes="bình thường")
    sess.commit()
    stored = {m.card_number: (m.full_name, m.notes) for m in sess.scalars(select(Member))}
    for url in ("/api/members/export.xlsx", "/members/export.xlsx"):
        resp = admin_client.get(url)
        assert resp.status_code == 200, url
        data = resp.data
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            sheets = [n for n in zf.namelist() if n.startswith("xl/worksheets/")]
            for n in sheets:
                assert not re.search(rb"<(\w+:)?f[ >/]", zf.read(n)), f"formula element in {n} ({url})"
        ws = load_workbook(io.BytesIO(data)).active
        headers = [c.value for c in ws[1]]
        name_col, card_col, notes_col = (headers.index(h) for h in ("Họ và tên", "Số thẻ đảng viên", "Ghi chú"))
        seen = 0
        for row in ws.iter_rows(min_row=2):
            card = row[card_col].value
            name, notes = stored[card]
            assert row[name_col].data_type == "s" and row[name_col].value == name
            assert row[notes_col].data_type == "s" and row[notes_col].value == notes
            if name.startswith(FORMULA_STARTS):
                assert row[name_col].quotePrefix
            seen += 1
        assert seen == len(stored)


def test_formula_names_imported_then_exported_stay_text(app, sess, admin_client):
    """The whole path: a workbook with formula-like names, imported, then exported and read back."""
    from service.jobs.inprocess import run_pending
    resp = admin_client.post("/api/imports", data={"file": (io.BytesIO(hf.formula_names_xlsx()), "ds.xlsx")},
                             content_type="multipart/form-data")
    assert resp.status_code == 201, resp.get_json()
    batch = resp.get_json()
    assert batch["status"] == "previewed", batch["preview"]["rows"][:2]
    assert admin_client.post(f"/api/imports/{batch['id']}/confirm").status_code == 202
    run_pending()
    data = admin_client.get("/api/members/export.xlsx").data
    ws = load_workbook(io.BytesIO(data)).active
    names = [r[0].value for r in ws.iter_rows(min_row=2)]
    assert sorted(names) == sorted(n.strip() for n in hf.FORMULA_NAMES)
    assert all(r[0].data_type == "s" for r in ws.iter_rows(min_row=2))
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert b"<f>" not in zf.read("xl/worksheets/sheet1.xml")


MEMORY_SCRIPT = r"""
import resource, sys, tempfile
from pathlib import Path
from service import create_app, db, importing, migrate
from tests.support.passwords import password_hash_for
from service.models import User
tmp = Path(tempfile.mkdtemp())
app = create_app({"DATABASE_URL": f"sqlite:///{tmp}/t.sqlite3", "INSTANCE_DIR": str(tmp / "i"),
                  "STORAGE_DIR": str(tmp / "s")})
data = open(sys.argv[1], "rb").read()
with app.app_context():
    migrate.upgrade()
    sess = db.session()
    user = User(username="quantri", full_name="Quản Trị", role="admin", password_hash=password_hash_for("mat-khau-dai-1"))
    sess.add(user)
    sess.commit()
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    batch = importing.preview_upload(sess, user, data, "lon-nhat.xlsx")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(len(batch.preview["rows"]), (peak - base) // 1024)
"""


def test_worst_allowed_workbook_stays_under_200_mb(tmp_path):
    """The heaviest workbook the default limits let through, previewed (parse + plan + stored preview)
    in a process of its own: its peak memory grows by less than 200 MB."""
    data = hf.worst_allowed_xlsx()
    assert len(data) <= 10 * 1024 * 1024  # within the upload limit
    from docgen.container import check_container
    check_container(data, label="lon-nhat.xlsx")  # ... and within the container limits
    path = tmp_path / "lon-nhat.xlsx"
    path.write_bytes(data)
    del data
    out = subprocess.run([sys.executable, "-c", MEMORY_SCRIPT, str(path)], env={**os.environ, "PYTHONPATH": str(ROOT)},
                         capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stderr[-2000:]
    rows, delta_mb = map(int, out.stdout.split())
    assert rows == 20000
    assert delta_mb < 200, f"peak RSS grew by {delta_mb} MB"


def test_rows_read_no_wider_than_the_column_cap(app, sess, admin_client):
    """A cell in column XFD on every row: rows are read MAX_COLUMNS wide, and the members still import."""
    from service.importing.workbook import MAX_COLUMNS, open_workbook
    data = hf.wide_xlsx(2000)
    wb = open_workbook(data, "rong.xlsx")
    widths = {len(r) for r in wb.worksheets[0].iter_rows(values_only=True)}
    wb.close()
    assert widths == {MAX_COLUMNS}
    resp = admin_client.post("/api/imports", data={"file": (io.BytesIO(data), "rong.xlsx")},
                             content_type="multipart/form-data")
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["preview"]["summary"]["create"] == 2000
