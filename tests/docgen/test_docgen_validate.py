import io
import zipfile

from docx import Document

from docgen import definition_for_template
from docgen.validate import validate_template
from helpers_docgen import LETTER, SHEET

LETTER_DEF = definition_for_template(LETTER)
SHEET_DEF = definition_for_template(SHEET)


def codes(problems):
    return [p.code for p in problems]


def docx_with(paragraphs) -> bytes:
    """A real .docx whose paragraphs are lists of runs (strings)."""
    doc = Document()
    for runs in paragraphs:
        p = doc.add_paragraph()
        for r in runs:
            p.add_run(r)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def rezip(data: bytes, add: dict | None = None, drop: set | None = None, ct_replace=None) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            if drop and info.filename in drop:
                continue
            buf = zin.read(info.filename)
            if ct_replace and info.filename == "[Content_Types].xml":
                buf = ct_replace(buf)
            zout.writestr(info.filename, buf)
        for name, buf in (add or {}).items():
            zout.writestr(name, buf)
    return out.getvalue()


def test_shipped_templates_are_valid():
    assert validate_template(LETTER.read_bytes(), LETTER_DEF) == []
    assert validate_template(SHEET.read_bytes(), SHEET_DEF) == []


def test_not_docx():
    assert codes(validate_template(b"hello, not a zip", LETTER_DEF)) == ["not_docx"]
    good = docx_with([["x"]])
    assert codes(validate_template(rezip(good, drop={"word/document.xml"}), LETTER_DEF)) == ["not_docx"]
    broken = rezip(good, drop={"word/document.xml"}, add={"word/document.xml": b"<w:document"})
    assert codes(validate_template(broken, LETTER_DEF)) == ["not_docx"]


def test_macro_enabled():
    good = docx_with([["{{ member_full_name }}"]])
    assert "macro_enabled" in codes(validate_template(good, LETTER_DEF, filename="mau.docm"))
    vba = rezip(good, add={"word/vbaProject.bin": b"\xd0\xcf\x11\xe0" + b"\0" * 100})
    assert codes(validate_template(vba, LETTER_DEF)) == ["macro_enabled"]
    ct = rezip(good, ct_replace=lambda b: b.replace(
        b"wordprocessingml.document.main+xml", b"ms-word.document.macroEnabled.main+xml"))
    assert codes(validate_template(ct, LETTER_DEF)) == ["macro_enabled"]


def test_too_large():
    good = docx_with([["x"]])
    problems = validate_template(good, LETTER_DEF, max_bytes=1000)
    assert codes(problems) == ["too_large"]
    assert "MB" in problems[0].message


def test_zip_bomb():
    good = docx_with([["x"]])
    bomb = rezip(good, add={"word/media/huge.bin": b"\0" * (80 * 1024 * 1024)})
    assert len(bomb) < 1024 * 1024
    problems = validate_template(bomb, LETTER_DEF, filename="mau.docx")
    assert codes(problems) == ["zip_member_too_large"]
    assert problems[0].part == "word/media/huge.bin" and "mau.docx" in problems[0].message


def test_unknown_placeholder_named_with_paragraph():
    data = docx_with([["Họ tên: {{ member_full_name }}"], ["Điện thoại: {{ so_dien_thoai }} và {{ member.x }}"],
                      ["{%p for item in items %}"], ["{{ item.label }} {{ bogus_in_loop }}"], ["{%p endfor %}"]])
    problems = validate_template(data, SHEET_DEF)
    unknown = {p.name: p for p in problems if p.code == "unknown_placeholder"}
    assert set(unknown) == {"so_dien_thoai", "member", "bogus_in_loop"}
    assert unknown["so_dien_thoai"].paragraph == "Điện thoại: {{ so_dien_thoai }} và {{ member.x }}"
    assert "so_dien_thoai" in unknown["so_dien_thoai"].message
    # the same names are fine for a definition that has them
    assert "unknown_placeholder" not in codes(validate_template(docx_with([["{{ member_full_name }}"]]), LETTER_DEF))


def test_split_placeholder():
    data = docx_with([["Họ tên: {{ member_", "full_name }}"], ["{{ place }}"]])
    problems = validate_template(data, LETTER_DEF)
    split = [p for p in problems if p.code == "split_placeholder"]
    assert len(split) == 1
    assert split[0].name == "{{ member_full_name }}"
    assert split[0].paragraph == "Họ tên: {{ member_full_name }}"


def test_unclosed_and_syntax_error():
    problems = validate_template(docx_with([["Họ tên: {{ member_full_name"]]), LETTER_DEF)
    assert "unclosed_placeholder" in codes(problems)
    problems = validate_template(docx_with([["{% if place %}"], ["x"]]), LETTER_DEF)
    assert "syntax_error" in codes(problems)


def test_missing_qr_picture():
    data = docx_with([["{{ member_full_name }}"]])
    problems = validate_template(data, SHEET_DEF)
    assert {p.name for p in problems if p.code == "missing_picture"} == {"qr_code", "corner_mark"}
