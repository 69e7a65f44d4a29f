"""The typed, hashed form definition: loaded and validated once, a released version never changes, and the
review screen shows the form a page's own sheet was printed on."""
from __future__ import annotations

import datetime as dt
import json
import shutil
import unicodedata
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from forms.definition import DefinitionError, FormDefinition, content_hash, load
from service import db
from service.cli import db_upgrade_cmd
from service.documents import templates_store
from service.documents.sheets import ensure_sheet
from service.models import DocumentTemplate, Evaluation, Member, ScanBatch, ScanFile, ScanPage

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
SHEET_DEF = TEMPLATES / "evaluation_sheet.v1.form.json"
SHEET_V2 = TEMPLATES / "evaluation_sheet.v2.form.json"
# the hash version 1 was released with (stored in every installed database and on every v1 sheet)
V1_RELEASED_HASH = "37f83f77c840c071186b24c8b4393f6891616c4f425d83355322bf45695105b0"
EXEMPT_ONLY = "Thực hiện các nhiệm vụ khác của đảng viên ở nơi cư trú"
STANDARD_ONLY = "Tham gia các cuộc họp định kỳ của chi bộ nơi cư trú"


def _raw() -> dict:
    return json.loads(SHEET_DEF.read_text(encoding="utf-8"))


# --- the library -------------------------------------------------------------

def test_definition_is_typed_with_its_items_options_and_marks():
    d = load(SHEET_DEF)
    assert (d.kind, d.version, d.code) == ("evaluation_sheet", 1, "3-213")
    assert d.variant_names == ["standard", "exempt"] and d.variant().name == "standard"
    std, exempt = d.variant("standard"), d.variant("exempt")
    assert [i.key for i in std.free_text_items] == ["other_remarks"] and std.free_text_items[0].lines == 4
    assert std.item("meetings").option_keys == ["full", "partial", "none"]
    assert exempt.items[2].heading == "3. " + EXEMPT_ONLY
    assert (d.marks.qr, d.marks.qr_picture, d.marks.corner_marks, d.marks.corner_picture) == \
        (True, "qr_code", True, "corner_mark")
    assert d.field("member_date_of_birth").type == "date" and d.field("member_date_of_birth").required
    with pytest.raises(DefinitionError) as exc:
        d.variant("retired")
    assert exc.value.message_vi == "Không có loại phiếu retired"


def test_hash_follows_the_content_not_its_spelling():
    raw = _raw()
    h = load(SHEET_DEF).hash
    assert len(h) == 64 and h == content_hash(load(SHEET_DEF).data)
    # key order, decomposed Unicode and the notes do not change the form
    reordered = dict(reversed(list(raw.items())))
    nfd = json.loads(unicodedata.normalize("NFD", json.dumps(raw, ensure_ascii=False)))
    assert FormDefinition.from_dict(reordered).hash == h
    assert FormDefinition.from_dict(nfd).hash == h
    assert FormDefinition.from_dict(dict(raw, notes="Ghi chú khác")).hash == h
    # any printed or read part does
    relabelled = _raw()
    relabelled["variants"]["standard"]["items"][0]["options"][0]["label"] = "Nêu gương rất tốt"
    assert FormDefinition.from_dict(relabelled).hash != h
    assert FormDefinition.from_dict(dict(raw, marks=dict(raw["marks"], corner_marks=False))).hash != h


def test_version_1_keeps_its_released_hash_and_gets_the_old_codes_and_geometry():
    d = load(SHEET_DEF)
    assert d.hash == V1_RELEASED_HASH
    assert "kind_code" not in d.data and "correction_hint" not in d.data and "box_mm" not in d.data["marks"]
    assert (d.kind_code, d.correction_hint) == ("ES", "")
    assert (d.marks.box_mm, d.marks.label_mm, d.marks.qr_mm, d.marks.qr_quiet_modules, d.marks.corner_mark_mm) == \
        (6.0, 47.0, 22.0, 4, 5.0)
    assert load(TEMPLATES / "introduction_letter.v1.form.json").kind_code == "IL"


def test_version_2_loads_with_its_codes_geometry_and_correction_line():
    d = load(SHEET_V2)
    assert (d.kind, d.version, d.kind_code, d.template) == ("evaluation_sheet", 2, "ES", "evaluation_sheet.v2.docx")
    assert d.correction_hint.startswith("Muốn sửa: gạch chéo kín ô đã đánh dấu")
    assert d.correction_hint == unicodedata.normalize("NFC", d.correction_hint)
    assert d.marks.label_mm == 48.5 and d.marks.box_mm == 6.0
    assert d.hash != V1_RELEASED_HASH
    assert [i.key for i in d.items("standard")] == [i.key for i in load(SHEET_DEF).items("standard")]
    # the new keys are hashed: a changed code, box or correction line is another form
    raw = json.loads(SHEET_V2.read_text(encoding="utf-8"))
    assert FormDefinition.from_dict(dict(raw, kind_code="EV")).hash != d.hash
    assert FormDefinition.from_dict(dict(raw, correction_hint="Khác")).hash != d.hash
    assert FormDefinition.from_dict(dict(raw, marks=dict(raw["marks"], box_mm=7))).hash != d.hash


def test_bad_codes_and_geometry_are_refused_with_where():
    raw = json.loads(SHEET_V2.read_text(encoding="utf-8"))
    raw["kind_code"] = "es:"
    raw["marks"]["box_mm"] = 40
    raw["marks"]["qr_quiet_modules"] = 2.5
    with pytest.raises(DefinitionError) as exc:
        FormDefinition.from_dict(raw, source="v2.form.json")
    msg = exc.value.message_vi
    assert "'kind_code'" in msg and "marks: 'box_mm' must be a number from 3.0 to 12.0" in msg
    assert "marks: 'qr_quiet_modules'" in msg


def test_invalid_definition_says_what_and_where_in_vietnamese():
    raw = _raw()
    raw["variants"]["exempt"]["items"][1]["options"] = [{"key": "a", "label": "A"}]
    raw["marks"]["qr"] = "sometimes"
    with pytest.raises(DefinitionError) as exc:
        FormDefinition.from_dict(raw, source="x.form.json")
    msg = exc.value.message_vi
    assert msg == unicodedata.normalize("NFC", msg) and msg.startswith("Định nghĩa biểu mẫu không hợp lệ")
    assert "variant 'exempt' item[1]: a choice item needs at least 2 options" in msg
    assert "marks: 'qr'" in msg
    assert "x.form.json" in str(exc.value)


def test_qr_payload_takes_the_kind_code_from_the_definition_and_previews_never_verify():
    from forms import qrpayload
    key = qrpayload.SigningKey("ABC", b"k" * 32)
    v2 = load(SHEET_V2)
    text = qrpayload.sign_for(v2, "2026-000001-1", "7", 2026, key)
    assert text.split(":")[2:4] == ["ES", "2"] and qrpayload.verify(text, key).kind == "evaluation_sheet"
    other = FormDefinition.from_dict(dict(json.loads(SHEET_V2.read_text(encoding="utf-8")), kind_code="PN"))
    text = qrpayload.sign_for(other, "2026-000001-1", "7", 2026, key)
    assert text.split(":")[2] == "PN"
    assert qrpayload.verify(text, key).kind == "PN"  # a code nobody declared is not taken for a sheet
    assert qrpayload.verify(text, key, {"PN": "evaluation_sheet"}).kind == "evaluation_sheet"
    # a preview's code: well-formed, refused whatever keys the verifier holds
    preview = qrpayload.sign_preview(v2, "XEM-TRUOC", "7", 2026)
    assert qrpayload.parse(preview).kid == qrpayload.PREVIEW_KID
    ring = qrpayload.Keyring([key, qrpayload.SigningKey(qrpayload.PREVIEW_KID, b"p" * 32)], "ABC")
    with pytest.raises(qrpayload.InvalidPayloadError) as exc:
        qrpayload.verify(preview, ring)
    assert exc.value.code == "preview"
    assert all(qrpayload.new_kid() != qrpayload.PREVIEW_KID for _ in range(2000))


def test_docgen_errors_stay_docgen_errors():
    import docgen
    with pytest.raises(docgen.DocgenError):
        docgen.validate_definition({"kind": "x"})
    with pytest.raises(DefinitionError):  # and forms' own type, for ocr and the service
        docgen.validate_definition({"kind": "x"})


# --- the service: a released version never changes -----------------------------

@pytest.fixture
def templates_copy(tmp_path, monkeypatch):
    """The shipped templates in a folder of their own, used by the service instead of templates/."""
    folder = tmp_path / "templates"
    folder.mkdir()
    for p in TEMPLATES.glob("*.v1.*"):  # as installed before version 2 of the sheet
        shutil.copy(p, folder / p.name)
    monkeypatch.setattr(templates_store, "TEMPLATES_DIR", folder)
    return folder


def _rows(sess) -> dict:
    sess.expire_all()
    return {(r.kind, r.version): r for r in sess.scalars(select(DocumentTemplate))}


def test_template_versions_and_printed_sheets_keep_their_hash(app, sess, orgs):
    templates_store.sync_builtin(sess, force=True)
    rows = _rows(sess)
    assert rows[("evaluation_sheet", 1)].definition_hash == load(SHEET_DEF).hash == V1_RELEASED_HASH
    assert rows[("evaluation_sheet", 2)].definition_hash == load(SHEET_V2).hash
    assert rows[("introduction_letter", 1)].definition_hash == \
        load(TEMPLATES / "introduction_letter.v1.form.json").hash
    m = _member(sess, orgs, "exempt_meetings")
    ev = ensure_sheet(sess, m, 2026)  # new sheets are printed on version 2
    assert (ev.variant, ev.template_version, ev.definition_hash) == ("exempt", 2, load(SHEET_V2).hash)


def test_edited_released_version_is_refused_at_start_up(app, sess, templates_copy):
    runner = CliRunner()
    assert runner.invoke(db_upgrade_cmd, catch_exceptions=False).exit_code == 0
    before = {k: (r.definition, r.definition_hash) for k, r in _rows(sess).items()}
    edited = _raw()
    edited["variants"]["standard"]["items"][2]["label"] = "Tham gia sinh hoạt định kỳ"
    (templates_copy / SHEET_DEF.name).write_text(json.dumps(edited, ensure_ascii=False), encoding="utf-8")

    result = runner.invoke(db_upgrade_cmd)
    assert result.exit_code != 0
    assert "evaluation_sheet.v1.form.json đã bị sửa nhưng vẫn mang số phiên bản 1" in result.output
    assert "evaluation_sheet.v2.form.json" in result.output  # what to do instead
    assert {k: (r.definition, r.definition_hash) for k, r in _rows(sess).items()} == before
    # the pages that use the templates say so too, with a stable code in the API
    with pytest.raises(templates_store.ReleasedVersionChanged) as exc:
        templates_store.sync_builtin(db.session(), force=True)
    assert exc.value.code == "released_definition_changed"


def test_a_new_version_is_added_beside_the_released_one(app, sess, templates_copy):
    templates_store.sync_builtin(sess, force=True)
    v2 = _raw()
    v2["version"], v2["template"] = 2, "evaluation_sheet.v2.docx"
    v2["variants"]["standard"]["items"][2]["label"] = "Tham gia sinh hoạt định kỳ"
    (templates_copy / "evaluation_sheet.v2.form.json").write_text(json.dumps(v2, ensure_ascii=False),
                                                                  encoding="utf-8")
    shutil.copy(templates_copy / "evaluation_sheet.v1.docx", templates_copy / "evaluation_sheet.v2.docx")
    templates_store.sync_builtin(sess, force=True)
    rows = _rows(sess)
    assert rows[("evaluation_sheet", 1)].definition_hash == load(SHEET_DEF).hash
    assert rows[("evaluation_sheet", 2)].definition_hash == FormDefinition.from_dict(v2).hash
    assert templates_store.active_template(sess, "evaluation_sheet").version == 2


def test_database_from_before_hashes_gets_them_filled_in(app, sess):
    templates_store.sync_builtin(sess, force=True)
    for r in sess.scalars(select(DocumentTemplate)):
        r.definition_hash = None
    sess.commit()
    templates_store.sync_builtin(sess, force=True)
    assert all(r.definition_hash for r in _rows(sess).values())


# --- review shows the page's own form -------------------------------------------

def _member(sess, orgs, status="active", name="Nguyễn Thị Miễn"):
    m = Member(card_number=f"77{len(name)}{status[:2]}", workplace_org_id=orgs["tax_cell"].id,
               residence_cell_id=orgs["cell1"].id, gender="female", date_of_birth=dt.date(1979, 5, 6),
               admission_date=dt.date(2004, 1, 2), house="Số 9", commune="Phường Hồng Hà", province="Quảng Ninh",
               status=status)
    m.set_name(name)
    sess.add(m)
    sess.commit()
    return m


def _page(sess, *, member=None, serial=None, reading=None, kind="foreign_form") -> ScanPage:
    batch = ScanBatch(auto_apply=False, page_count=1)
    sess.add(batch)
    sess.flush()
    f = ScanFile(batch_id=batch.id, name="phieu.png", page_count=1)
    sess.add(f)
    sess.flush()
    page = ScanPage(batch_id=batch.id, scan_file_id=f.id, page_no=1, source_key=f"k{batch.id}", kind=kind,
                    reading=reading or {"kind": kind, "fields": [], "problems": []}, sheet_serial=serial,
                    member_id=member.id if member else None, status="review", problems=[])
    sess.add(page)
    sess.commit()
    return page


def _review_html(client, page) -> str:
    resp = client.get(f"/scans/pages/{page.id}")
    assert resp.status_code == 200
    return resp.get_data(as_text=True)


def test_review_uses_the_sheets_own_variant(app, sess, orgs, make_user, login):
    client = login(make_user("quantri"))
    m = _member(sess, orgs, "exempt_meetings")
    ev = ensure_sheet(sess, m, 2026)
    html = _review_html(client, _page(sess, member=m, serial=ev.sheet_serial, kind="evaluation_sheet"))
    assert EXEMPT_ONLY in html and STANDARD_ONLY not in html
    # a retyped form of that member, no sheet found: the variant the member is given
    html = _review_html(client, _page(sess, member=m))
    assert EXEMPT_ONLY in html and STANDARD_ONLY not in html
    # read as the exempt layout of version 1: that form, whoever the member
    html = _review_html(client, _page(sess, reading={"kind": "evaluation_sheet", "fields": [], "problems": [],
                                                     "layout_key": ["evaluation_sheet", 1, "exempt"]}))
    assert EXEMPT_ONLY in html and STANDARD_ONLY not in html
    # nothing known: the standard form
    html = _review_html(client, _page(sess))
    assert STANDARD_ONLY in html and EXEMPT_ONLY not in html


def test_review_of_an_older_version_shows_that_version(app, sess, orgs, make_user, login, templates_copy):
    client = login(make_user("quantri"))
    m = _member(sess, orgs)
    ev = ensure_sheet(sess, m, 2026)  # printed on version 1
    v2 = _raw()
    v2["version"], v2["template"] = 2, "evaluation_sheet.v2.docx"
    v2["variants"]["standard"]["items"][2]["label"] = "Tham gia sinh hoạt định kỳ ở nơi cư trú"
    (templates_copy / "evaluation_sheet.v2.form.json").write_text(json.dumps(v2, ensure_ascii=False),
                                                                  encoding="utf-8")
    shutil.copy(templates_copy / "evaluation_sheet.v1.docx", templates_copy / "evaluation_sheet.v2.docx")
    templates_store.sync_builtin(sess, force=True)
    assert templates_store.active_template(sess, "evaluation_sheet").version == 2
    html = _review_html(client, _page(sess, member=m, serial=ev.sheet_serial, kind="evaluation_sheet"))
    assert STANDARD_ONLY in html and "Tham gia sinh hoạt định kỳ ở nơi cư trú" not in html
    assert sess.get(Evaluation, ev.id).definition_hash == load(SHEET_DEF).hash


def test_uploaded_definition_must_be_an_object_and_gets_its_hash(app, sess, make_user):
    from service.errors import ServiceError
    admin = make_user("quantri")
    data = (TEMPLATES / "evaluation_sheet.v2.docx").read_bytes()
    with pytest.raises(ServiceError) as exc:
        templates_store.upload_template(sess, admin, "evaluation_sheet", data, "moi.docx", [1, 2])
    assert exc.value.code == "invalid_definition" and "đối tượng JSON" in exc.value.message
    assert sess.scalar(select(DocumentTemplate).where(DocumentTemplate.kind == "evaluation_sheet",
                                                      DocumentTemplate.version == 3)) is None
    row = templates_store.upload_template(sess, admin, "evaluation_sheet", data, "moi.docx")
    fd = templates_store.form_definition(row)
    assert (row.version, fd.version, fd.template, row.definition_hash) == (3, 3, "moi.docx", fd.hash)
    assert fd.kind_code == "ES" and fd.correction_hint == load(SHEET_V2).correction_hint
