import datetime as dt
import io
import unicodedata
import zipfile

import pytest
from docx import Document

from docgen import (BulkRenderer, MissingFieldError, InvalidFieldError, combine_documents,
                    definition_for_template, prepare_context, render_document, render_docxtpl,
                    safe_filename, samples)
from docgen.context import format_date_long
from docgen.definitions import list_templates, load_definition, validate_definition
from docgen.errors import DefinitionError, DocgenError
from helpers_docgen import LETTER, SHEET, TEMPLATES, all_text, member

KEY = samples.MARK_KEY_FOR_TESTS


def nfc(s):
    return unicodedata.normalize("NFC", s)


def test_templates_listed_with_definitions():
    infos = {(t.kind, t.version): t for t in list_templates(TEMPLATES)}
    assert ("introduction_letter", 1) in infos and ("evaluation_sheet", 1) in infos
    sheet = load_definition(TEMPLATES / "evaluation_sheet.v1.form.json")
    std, ex = sheet.items("standard"), sheet.items("exempt")
    assert [i.number for i in std] == [1, 2, 3, 4, 5, 6, 7]
    assert all(len(i.options) == 3 for i in std[:6]) and std[6].type == "free_text"
    assert [i.number for i in ex] == [1, 2, 3, 4] and ex[3].type == "free_text"
    assert std[0].options[0].label == "Nêu gương tốt"
    assert ex[1].options[0].label == "Thực hiện tốt"


def test_introduction_letter_holds_every_field_nfc():
    data = samples.introduction_letter()
    # decomposed input must come out NFC
    data["member_full_name"] = unicodedata.normalize("NFD", "Nguyễn Thị Ánh Tuyết")
    text = all_text(render_document(LETTER, data))
    assert text == nfc(text)
    for expected in ["Nguyễn Thị Ánh Tuyết", "ĐẢNG BỘ KHỐI CÁC CƠ QUAN TỈNH", "ĐẢNG ỦY SỞ TÀI NGUYÊN VÀ MÔI TRƯỜNG",
                     "Số 121-GGT/ĐU", "ĐẢNG CỘNG SẢN VIỆT NAM", "Hạ Long, ngày 05 tháng 01 năm 2026",
                     "GIẤY GIỚI THIỆU", "- Đảng ủy phường Hồng Hà", "- Chi bộ Tổ dân phố số 12",
                     "Thực hiện Quy định số 213-QĐ/TW, ngày 02 tháng 01 năm 2020 của Bộ Chính trị",
                     "Nam, nữ: Nữ", "Sinh ngày: 02/09/1985", "Kết nạp vào Đảng ngày: 19/05/2010",
                     "Công nhận đảng viên chính thức ngày: 19/05/2011",
                     "Đang sinh hoạt đảng tại: Chi bộ Phòng Quản lý đất đai",
                     "Hiện cư trú tại: Số 18, ngõ 4, đường Nguyễn Văn Cừ", "Trần Quốc Huy", "T/M ĐẢNG ỦY",
                     "BÍ THƯ", "ĐẢNG ỦY NƠI CƯ TRÚ", "Tiếp nhận ngày", "PHIẾU BÁO ĐÃ TIẾP NHẬN ĐẢNG VIÊN",
                     "Đã tiếp nhận ngày …… tháng …… năm ……", "theo Giấy giới thiệu số 121-GGT/ĐU ngày 05/01/2026"]:
        assert expected in text, expected
    assert "miễn sinh hoạt" not in text
    assert "{{" not in text and "{%" not in text


def test_introduction_letter_exempt_and_optional_date():
    data = samples.introduction_letter(exempt_from_meetings=True, member_full_member_date=None)
    text = all_text(render_document(LETTER, data))
    assert "Giới thiệu nhưng được miễn sinh hoạt nơi cư trú" in text
    assert "Công nhận đảng viên chính thức" not in text


@pytest.mark.parametrize("variant", ["standard", "exempt"])
def test_evaluation_sheet_items_from_definition(variant):
    definition = definition_for_template(SHEET)
    data = samples.evaluation_sheet(4, variant=variant)
    text = all_text(render_document(SHEET, data, mark_key=KEY))
    assert text == nfc(text)
    for item in definition.items(variant):
        assert item.heading in text
        for opt in item.options:
            assert opt.label in text
    for expected in ["ĐẢNG BỘ PHƯỜNG HỒNG HÀ", "CHI BỘ TỔ DÂN PHỐ SỐ 12", "PHIẾU NHẬN XÉT", "Năm 2025",
                     data["member_full_name"], "2025-000004", "XÁC NHẬN CỦA ĐẢNG ỦY PHƯỜNG HỒNG HÀ",
                     "T/M CHI ỦY", "BÍ THƯ", "Vũ Thị Lan", "Đảng ủy Sở Tài nguyên và Môi trường",
                     "Chi ủy sau khi họp với ban công tác mặt trận thôn, bản, khu dân cư, tổ dân phố"]:
        assert expected in text, expected
    other = definition.variant("standard").item("cell_proposal")
    assert (other.options[0].label in text) == (variant == "standard")


def test_tick_boxes_are_fixed_size_bordered_cells():
    doc = Document(io.BytesIO(render_document(SHEET, samples.evaluation_sheet(1), mark_key=KEY)))
    xml = doc.element.xml
    # 6 choice items x 3 options -> 18 bordered 6 mm cells in exact-height rows
    assert xml.count('w:hRule="exact"') >= 18
    assert xml.count("<w:tcBorders>") == 18


def test_definition_drives_the_form(tmp_path):
    """A new definition (2 options, 1 item) changes the form without code changes."""
    import json
    import shutil
    d = load_definition(TEMPLATES / "evaluation_sheet.v1.form.json").to_dict()
    d["version"] = 9
    d["template"] = "custom.v9.docx"
    d["variants"]["standard"]["items"] = [
        {"number": 1, "key": "x", "label": "Mục thử nghiệm", "type": "choice",
         "options": [{"key": "a", "label": "Phương án Một"}, {"key": "b", "label": "Phương án Hai"}]},
        {"number": 2, "key": "y", "label": "Ý kiến khác", "type": "free_text", "lines": 2}]
    shutil.copy(SHEET, tmp_path / "custom.v9.docx")
    (tmp_path / "custom.v9.form.json").write_text(json.dumps(d, ensure_ascii=False), encoding="utf-8")
    out = render_document(tmp_path / "custom.v9.docx", samples.evaluation_sheet(1), mark_key=KEY)
    text = all_text(out)
    assert "1. Mục thử nghiệm" in text and "Phương án Hai" in text and "2. Ý kiến khác" in text
    assert "Nêu gương tốt" not in text
    assert member(out, "word/document.xml").count(b"<w:tcBorders>") == 2
    Document(io.BytesIO(out))


def test_missing_required_field_names_it():
    data = samples.evaluation_sheet(1)
    del data["member_date_of_birth"]
    with pytest.raises(MissingFieldError) as exc:
        render_document(SHEET, data, mark_key=KEY)
    assert exc.value.field == "member_date_of_birth"
    assert exc.value.message_vi == "Thiếu trường bắt buộc: ngày sinh"
    assert "member_date_of_birth" in str(exc.value)
    with pytest.raises(MissingFieldError):
        render_document(LETTER, samples.introduction_letter(member_full_name="  "))


def test_invalid_values():
    with pytest.raises(InvalidFieldError) as exc:
        render_document(LETTER, samples.introduction_letter(member_gender="X"))
    assert exc.value.field == "member_gender"
    with pytest.raises(InvalidFieldError):
        render_document(LETTER, samples.introduction_letter(issue_date="32/13/2026"))
    with pytest.raises(DocgenError):  # QR needs a key
        render_document(SHEET, samples.evaluation_sheet(1))


def test_dates_and_escaping():
    assert format_date_long(dt.date(2026, 1, 5)) == "ngày 05 tháng 01 năm 2026"
    data = samples.introduction_letter(issue_date="2026-01-05", residence_address='Số 1 & 2, "ngõ" <A>\x07',
                                       member_date_of_birth="02/09/1985")
    text = all_text(render_document(LETTER, data))
    assert 'Số 1 & 2, "ngõ" <A>' in text and "Sinh ngày: 02/09/1985" in text


@pytest.mark.parametrize("template,record", [
    (SHEET, samples.evaluation_sheet(7)),
    (SHEET, samples.evaluation_sheet(8, variant="exempt", residence_address="A & B <c>\nhai dòng")),
    (LETTER, samples.introduction_letter(3)),
    (LETTER, samples.introduction_letter(4, exempt_from_meetings=True, member_full_member_date="")),
])
def test_bulk_document_xml_equals_naive(template, record):
    br = BulkRenderer(template, mark_key=KEY)
    fast = br.render(record)
    ctx, images = prepare_context(definition_for_template(template), record, mark_key=KEY)
    naive = render_docxtpl(template, ctx, images)
    assert member(fast, "word/document.xml") == member(naive, "word/document.xml")
    Document(io.BytesIO(fast))  # opens
    if images:
        qr_member = br.compiled.picture_members["qr_code"]
        assert member(fast, qr_member) == images["qr_code"] == member(naive, qr_member)


def test_bulk_renderer_is_reusable_and_zip_streams(tmp_path):
    br = BulkRenderer(SHEET, mark_key=KEY)
    recs = [samples.evaluation_sheet(i) for i in range(6)]
    recs.append(samples.evaluation_sheet(0))  # same name twice -> deduplicated
    path = tmp_path / "out.zip"
    with open(path, "wb") as fh:
        assert br.write_zip(recs, fh) == 7
    with zipfile.ZipFile(path) as zf:
        infos = zf.infolist()
        assert len({i.filename for i in infos}) == 7
        viet = [i for i in infos if any(ord(c) > 127 for c in i.filename)]
        assert viet and all(i.flag_bits & 0x800 for i in viet)
        assert all(unicodedata.is_normalized("NFC", i.filename) for i in infos)
        Document(io.BytesIO(zf.read(infos[3].filename)))


def test_combined_document_page_breaks():
    br = BulkRenderer(SHEET, mark_key=KEY)
    n = 5
    docs = [br.render(samples.evaluation_sheet(i)) for i in range(n)]
    combined = combine_documents(docs)
    doc = Document(io.BytesIO(combined))
    xml = member(combined, "word/document.xml").decode()
    assert xml.count('w:type="page"') == n - 1
    assert len(doc.sections) == 1
    sec = doc.sections[0]
    assert round(sec.page_width.mm) == 210 and round(sec.left_margin.mm) == 30
    text = all_text(combined)
    for i in range(n):
        assert f"2025-{i:06d}" in text
    # every sheet keeps its own QR image
    blobs = {s._inline.graphic.graphicData.pic.blipFill.blip.embed for s in doc.inline_shapes}
    assert len(blobs) == n
    import re
    ids = re.findall(r'<wp:docPr id="(\d+)"', xml)
    assert len(ids) == len(set(ids))


def test_combine_from_streamed_writer(tmp_path):
    br = BulkRenderer(LETTER)
    path = tmp_path / "all.docx"
    with open(path, "wb") as fh:
        assert br.write_combined((samples.introduction_letter(i) for i in range(3)), fh) == 3
    doc = Document(str(path))
    assert all_text(path.read_bytes()).count("GIẤY GIỚI THIỆU") == 3


def test_safe_filename():
    assert safe_filename("Nguyễn Văn Á", "docx") == "Nguyễn Văn Á.docx"
    assert safe_filename(unicodedata.normalize("NFD", "Nguyễn Văn Á")) == "Nguyễn Văn Á"
    assert safe_filename("../../etc/passwd") == "etc passwd"
    assert safe_filename("a\x00b\r\nc:d*e?f\u202eg") == "a b c d e f g"
    assert safe_filename("CON", "docx") == "_CON.docx"
    assert safe_filename("...", "pdf") == "van-ban.pdf"
    assert safe_filename("Nguyễn Văn Á", "docx", ascii_only=True) == "Nguyen Van A.docx"
    assert safe_filename("Đặng Đức", ascii_only=True) == "Dang Duc"
    long = safe_filename("Ư" * 300, "docx")
    assert len(long.encode()) <= 180 and long.endswith(".docx")


def test_definition_validation_errors(tmp_path):
    with pytest.raises(DefinitionError):
        validate_definition({"kind": "x", "version": 1, "title": "t", "template": "x.docx",
                             "fields": [{"name": "a b", "label": ""}]})
    bad = tmp_path / "bad.form.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(DefinitionError) as exc:
        load_definition(bad)
    assert "JSON" in exc.value.message_vi
    with pytest.raises(DefinitionError):
        load_definition(tmp_path / "missing.form.json")
    d = load_definition(TEMPLATES / "evaluation_sheet.v1.form.json").to_dict()
    d["variants"]["standard"]["items"][0]["options"] = [{"key": "a", "label": "A"}]
    with pytest.raises(DefinitionError):
        validate_definition(d)


def test_templates_are_reproducible(tmp_path):
    import runpy
    mod = runpy.run_path(str(TEMPLATES / "build_templates.py"))
    assert mod["main"]([str(tmp_path)]) == 0
    for name in mod["BUILDERS"]:  # every template, the cover letter's version 2 included
        assert (tmp_path / name).read_bytes() == (TEMPLATES / name).read_bytes(), name


def test_bulk_zip_is_the_same_with_worker_processes():
    br = BulkRenderer(SHEET, mark_key=KEY)
    records = [samples.evaluation_sheet(i) for i in range(12)]
    one, many = io.BytesIO(), io.BytesIO()
    assert br.write_zip(records, one, workers=1) == br.write_zip(iter(records), many, workers=2) == 12
    with zipfile.ZipFile(one) as a, zipfile.ZipFile(many) as b:
        assert a.namelist() == b.namelist()
        for name in a.namelist():
            assert a.read(name) == b.read(name)
