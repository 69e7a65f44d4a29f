"""No code runs from a template (issue 13, finding 1).

Every hostile template of :mod:`hostile_templates` is refused at upload, through the web page
and through the API, with its problem code, and leaves the database and the file store as they
were; the renderer itself, given such a template directly, runs nothing and stops huge outputs;
an uploaded template renders in a child process that is stopped when it takes too long or too
much memory, and the server goes on; LibreOffice never fetches what a document links to; scan
layouts are stored when a version is accepted and a scan job renders nothing.
"""
from __future__ import annotations

import http.server
import io
import re
import threading
import zipfile
from pathlib import Path

import pytest
from hostile_templates import docx_with, hostile_templates, rezip
from sqlalchemy import func, select

import docgen
from docgen.errors import DocgenError, TemplateForbiddenError, TemplateLimitError
from docgen.isolate import IsolatedRenderer
from docgen.package import strip_external_relationships
from docgen.pdf import convert_to_pdf
from docgen.render import BulkRenderer, render_document
from docgen.validate import validate_template
from service.documents.templates_store import TEMPLATES_DIR, sync_builtin
from service.models import Base, DocumentTemplate, FormLayout

MARKER_NAME = "pwned-by-template"
CASES = hostile_templates(Path("/nonexistent") / MARKER_NAME)  # names only; real markers per test
SHEET = TEMPLATES_DIR / "evaluation_sheet.v1.docx"


def state(app, sess) -> tuple:
    """Row count of every table and every file of the store."""
    sess.expire_all()
    counts = {t.name: sess.execute(select(func.count()).select_from(t)).scalar_one()
              for t in Base.metadata.sorted_tables}
    store = Path(app.config["STORAGE_DIR"])
    files = sorted(str(p.relative_to(store)) for p in store.rglob("*") if p.is_file()) if store.exists() else []
    return counts, files


@pytest.mark.parametrize("case", sorted(CASES))
def test_hostile_template_is_refused_by_page_and_api_and_changes_nothing(app, sess, make_user, login, tmp_path,
                                                                         case):
    marker = tmp_path / MARKER_NAME
    hostile = hostile_templates(marker)[case]
    admin = login(make_user("admin"))
    sync_builtin(sess, force=True)  # built-in versions (and their layouts) registered first
    before = state(app, sess)

    api = admin.post("/api/templates", data={"kind": "introduction_letter",
                                             "file": (io.BytesIO(hostile.data), "mau-moi.docx")},
                     content_type="multipart/form-data")
    assert api.status_code == 400, api.data[:300]
    error = api.get_json()["error"]
    assert error["code"] == "invalid_template"
    named = [p for p in error["details"] if p["code"] == hostile.code]
    assert named, error["details"]
    assert all(p["message"] for p in named)  # Vietnamese, for the administrator

    page = admin.post("/documents/templates", data={"kind": "introduction_letter",
                                                    "file": (io.BytesIO(hostile.data), "mau-moi.docx")},
                      content_type="multipart/form-data")
    assert page.status_code == 400
    html = page.get_data(as_text=True)
    assert 'id="template-problems"' in html and named[0]["message"].split("(")[0].strip() in html

    assert state(app, sess) == before
    assert not marker.exists()


def test_problems_name_the_part_in_vietnamese():
    problems = validate_template(CASES["decoy_main_part"].data, None)
    forbidden = [p for p in problems if p.code == "forbidden_construct"]
    assert forbidden and all(p.part == "word/main.xml" for p in forbidden)
    assert "phần word/main.xml" in forbidden[0].message and "không được phép" in forbidden[0].message
    external = validate_template(CASES["external_file"].data, None)
    assert any(p.code == "external_relationship" and "file:///etc/passwd" in p.message for p in external)


def test_shipped_templates_still_pass_the_check():
    for path in sorted(TEMPLATES_DIR.glob("*.v*.docx")):
        assert validate_template(path.read_bytes(), docgen.definition_for_template(path)) == [], path


@pytest.mark.parametrize("case", sorted(n for n, h in CASES.items() if h.escapes or h.huge))
def test_the_renderer_itself_runs_nothing_and_stops_huge_output(tmp_path, case):
    """Given the hostile template directly (no check before), both renderers refuse; no marker file."""
    marker = tmp_path / MARKER_NAME
    hostile = hostile_templates(marker)[case]
    path = tmp_path / "mau.docx"
    path.write_bytes(hostile.data)
    data = {"member_full_name": "Nguyễn Văn Thử"}
    for render in (lambda: render_document(path, data, raw=True),
                   lambda: BulkRenderer(path, raw=True).render(data)):
        try:
            out = render()
        except DocgenError as exc:
            assert exc.message_vi and exc.code in ("template_forbidden", "template_limit", "template_render")
            if hostile.huge:
                assert isinstance(exc, (TemplateLimitError, TemplateForbiddenError)) or "range" in str(exc)
        else:  # rendered: then only harmless text came out
            assert not hostile.huge, "a huge output was produced"
            assert len(out) < 200_000
        assert not marker.exists()


def _limited_template(tmp_path, jinja: str) -> Path:
    path = tmp_path / "mau.docx"
    path.write_bytes(docx_with("{{ member_full_name }}", jinja))
    return path


def test_uploaded_template_over_time_is_stopped_and_the_next_render_works(tmp_path):
    # Passes the check (three loops of 1000), but would take hours: the child is killed.
    slow = _limited_template(tmp_path, "{% for a in range(1000) %}{% for b in range(1000) %}"
                                       "{% for c in range(1000) %}{% endfor %}{% endfor %}{% endfor %}")
    assert [p.code for p in validate_template(slow.read_bytes(), None)] == []
    with IsolatedRenderer(slow, None, seconds=3) as renderer:
        with pytest.raises(TemplateLimitError) as info:
            renderer.render({"member_full_name": "A"})
        assert info.value.code == "template_limit" and "thời gian" in info.value.message_vi
    good = tmp_path / "tot.docx"
    good.write_bytes(docx_with("Kính gửi {{ member_full_name }}"))
    with IsolatedRenderer(good, None) as renderer:
        out = renderer.render({"member_full_name": "Trần Thị Tốt"})
    with zipfile.ZipFile(io.BytesIO(out)) as zf:
        assert "Trần Thị Tốt" in zf.read("word/document.xml").decode()


def test_uploaded_template_over_memory_is_stopped(tmp_path):
    # 1000 x 1000 pieces of 19 characters: under the output cap, over 64 MB in a Python list.
    big = _limited_template(tmp_path, "{% for a in range(1000) %}{% for b in range(1000) %}"
                                      "{{ member_full_name }}{% endfor %}{% endfor %}")
    with IsolatedRenderer(big, None, memory_mb=64, seconds=120) as renderer:
        with pytest.raises(TemplateLimitError) as info:
            renderer.render({"member_full_name": "Nguyễn Văn Bộ Nhớ"})
        assert info.value.code == "template_limit"


class _Recorder(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self):  # noqa: N802 - http.server's name
        _Recorder.hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.end_headers()

    def log_message(self, *a):
        pass


def test_pdf_conversion_fetches_nothing(tmp_path):
    """A rendered document that links a picture on a server: the server is never asked for it."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/leak.png"
    try:
        from docx import Document
        from docx.shared import Cm
        from PIL import Image
        pic = io.BytesIO()
        Image.new("RGB", (20, 20), "white").save(pic, "PNG")
        doc = Document()
        doc.add_paragraph("Có hình liên kết")
        doc.add_picture(pic, width=Cm(2))
        buf = io.BytesIO()
        doc.save(buf)
        rel = f'<Relationship Id="rIdLeak" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/image" Target="{url}" TargetMode="External"/>'
        linked = rezip(buf.getvalue(), replace={
            "word/_rels/document.xml.rels": lambda b: b.replace(b"</Relationships>", rel.encode() + b"</Relationships>"),
            # r:link alone: a LibreOffice without our protections fetches the URL (checked by hand)
            "word/document.xml": lambda b: re.sub(rb'r:embed="[^"]*"', b'r:link="rIdLeak"', b, count=1)})
        with zipfile.ZipFile(io.BytesIO(strip_external_relationships(linked))) as zf:
            assert url.encode() not in zf.read("word/_rels/document.xml.rels")
        pdf = convert_to_pdf([("lien-ket.docx", linked)])[0]
        assert pdf.startswith(b"%PDF")
        assert _Recorder.hits == []
    finally:
        server.shutdown()


def test_layouts_are_stored_at_upload_and_a_switched_off_version_renders_nowhere(app, sess, make_user, login):
    admin = login(make_user("admin"))
    up = admin.post("/api/templates", data={"kind": "evaluation_sheet", "file": (io.BytesIO(SHEET.read_bytes()),
                                                                                 "phieu-tinh.docx")},
                    content_type="multipart/form-data")
    assert up.status_code == 201, up.data[:300]
    version = up.get_json()["version"]
    variants = set(docgen.definition_for_template(SHEET).variant_names or ["standard"])
    stored = {r.variant for r in sess.scalars(select(FormLayout).where(FormLayout.kind == "evaluation_sheet",
                                                                      FormLayout.version == version))}
    assert stored == variants  # built at acceptance, not at the first scan

    # Switched off: the scan job still reads its stored layouts, but nothing renders it.
    row = sess.scalar(select(DocumentTemplate).where(DocumentTemplate.kind == "evaluation_sheet",
                                                     DocumentTemplate.version == version))
    assert admin.post(f"/documents/templates/{row.id}/toggle").status_code == 302
    from service.documents.templates_store import renderer
    from service.errors import ServiceError
    from service.scans.layouts import all_layouts
    sess.expire_all()
    with pytest.raises(ServiceError) as info:
        renderer(sess, sess.get(DocumentTemplate, row.id))
    assert info.value.code == "template_inactive"
    assert len(all_layouts(sess)) >= len(variants) * 2  # built-in v1 and this version


def test_a_slow_uploaded_template_fails_its_preview_with_a_code_and_the_server_goes_on(app, sess, orgs, make_user,
                                                                                       login):
    """A template the check cannot tell is slow (three loops of 1000) is accepted, then stopped when used."""
    import datetime as dt

    from service.models import Member
    app.config["TEMPLATE_RENDER_SECONDS"] = 3
    admin = login(make_user("admin"))
    slow_loops = ("<w:p><w:r><w:t>{% for a in range(1000) %}{% for b in range(1000) %}{% for c in range(1000) %}"
                  "{% endfor %}{% endfor %}{% endfor %}</w:t></w:r></w:p>")
    letter = rezip((TEMPLATES_DIR / "introduction_letter.v1.docx").read_bytes(), replace={
        "word/document.xml": lambda b: b.replace(b"<w:body>", b"<w:body>" + slow_loops.encode(), 1)})
    up = admin.post("/api/templates", data={"kind": "introduction_letter", "file": (io.BytesIO(letter), "cham.docx")},
                    content_type="multipart/form-data")
    assert up.status_code == 201, up.data[:400]
    member = Member(card_number="7001", workplace_org_id=orgs["tax_cell"].id, residence_cell_id=orgs["cell1"].id,
                    gender="male", date_of_birth=dt.date(1980, 1, 2), admission_date=dt.date(2005, 3, 4),
                    house="Số 1", neighbourhood="Khu phố 1", commune="Phường Hồng Hà", province="Quảng Ninh",
                    status="active")
    member.set_name("Phạm Văn Chậm")
    sess.add(member)
    sess.commit()
    slow = admin.get(f"/api/documents/preview?kind=introduction_letter&member_id={member.id}&format=docx")
    assert slow.status_code == 400
    error = slow.get_json()["error"]
    assert error["code"] == "template_limit" and "thời gian" in error["message"]
    assert admin.get("/api/templates").status_code == 200  # the server is still there
