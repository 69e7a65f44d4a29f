"""Each template, rendered to PDF by LibreOffice and then to a picture, still looks like its
committed reference (tests/reference/*.png, looked at by a person when made)."""
from __future__ import annotations

import os
import shutil

import numpy as np
import pytest
from PIL import Image

from tests.reference.render_samples import HERE, SHEET_V2_OVER, pictures, render_pdfs
from tests.support.wrap_check import bad_pieces, pieces, segments

if not shutil.which("soffice") and os.environ.get("CI") != "true":
    pytest.skip(reason="LibreOffice (soffice) is not installed: scripts/install.sh installs it", allow_module_level=True)

MEAN_TOLERANCE = 2.0  # mean grey-level difference (0–255)
PIXEL_TOLERANCE = 0.01  # share of pixels that differ clearly (by more than 64 levels)


def difference(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    if a.shape != b.shape:
        return 255.0, 1.0
    d = np.abs(a.astype(np.int16) - b.astype(np.int16))
    return float(d.mean()), float((d > 64).mean())


@pytest.fixture(scope="module")
def pdfs():
    return render_pdfs()


@pytest.fixture(scope="module")
def rendered(pdfs):
    return pictures(pdfs)


@pytest.mark.parametrize("name", ["introduction_letter_v1", "introduction_letter", "introduction_letter_exempt",
                                  "evaluation_sheet", "evaluation_sheet_exempt", "evaluation_sheet_v2",
                                  "evaluation_sheet_v2_exempt", "cover_letter"])
def test_template_matches_reference_picture(rendered, name):
    pages = rendered[name]
    references = sorted(HERE.glob(f"{name}-p*.png"))
    assert len(pages) == len(references) == 1, "each document fits on one A4 page"
    reference = np.asarray(Image.open(references[0]).convert("L"))
    mean, share = difference(pages[0], reference)
    assert mean < MEAN_TOLERANCE and share < PIXEL_TOLERANCE, (name, mean, share)


def test_the_comparison_sees_a_real_change(rendered):
    """The exempt letter has one more line than the ordinary one: that must not pass as 'the same'."""
    reference = np.asarray(Image.open(HERE / "introduction_letter-p1.png").convert("L"))
    mean, share = difference(rendered["introduction_letter_exempt"][0], reference)
    assert mean >= MEAN_TOLERANCE or share >= PIXEL_TOLERANCE


LETTER_CASES = {  # the letter's longest content: exempt line, two-line headers, a long address
    "short": {},
    "exempt_long": {"exempt_from_meetings": True, "issuing_committee_name": "Đảng ủy Bệnh viện Đa khoa tỉnh",
                    "upper_body_name": "Đảng bộ Khối các cơ quan và doanh nghiệp tỉnh", "letter_number": 7,
                    "residence_address": "Số 118, ngách 4/12, ngõ 4, đường Nguyễn Văn Cừ, tổ 12, khu 3, "
                                         "phường Hồng Hà, tỉnh Quảng Ninh"},
    "no_signer": {"signer_name": "", "letter_number": 3},
}


def lone_lines(text: str) -> list[str]:
    """Lines that hold one word alone (the star under a committee's name excepted) or a lone "……"."""
    out = []
    for line in (ln.strip() for ln in text.splitlines()):
        words = line.split()
        if line == "*" or not words:
            continue
        dots_only = set(line) <= {"…", ".", " "}
        if (len(words) == 1 and not dots_only) or (dots_only and len(line) < 12):
            out.append(line)
    return out


@pytest.mark.parametrize("version", [2, 3])  # 3: version 2 with the slip's date in comb boxes
def test_letter_v2_lines_never_leave_a_word_alone_and_fit_one_page(version):
    import pypdfium2 as pdfium
    from docgen import find_template, render_document
    from docgen import samples as s
    from docgen.pdf import convert_to_pdf
    template = find_template("introduction_letter", version).template_path
    docs = [(f"{name}.docx", render_document(template, s.introduction_letter(**over), mark_key=s.MARK_KEY_FOR_TESTS))
            for name, over in LETTER_CASES.items()]
    for (name, _), pdf in zip(docs, convert_to_pdf(docs)):
        doc = pdfium.PdfDocument(pdf)
        try:
            assert len(doc) == 1, (name, "the letter and its slip fit on one A4 page")
            text = doc[0].get_textpage().get_text_range()
        finally:
            doc.close()
        assert lone_lines(text) == [], (name, lone_lines(text))
        date_line = next(ln for ln in text.splitlines() if ", ngày " in ln and "tháng" in ln)
        assert date_line.strip().startswith("Hạ Long, ngày ") and date_line.strip().endswith("năm 2026"), name


def test_the_lone_word_check_sees_a_lone_word():
    assert lone_lines("ĐẢNG ỦY BỆNH VIỆN ĐA KHOA\nTỈNH\n*\nHạ Long, ngày …… tháng …… năm\n……") == ["TỈNH", "……"]


def test_sheet_v2_prints_its_date_line_on_one_line_and_balanced_headings(pdfs):
    segs = segments(pdfs["evaluation_sheet_v2"])
    texts = [s for _t, _x, s in segs]
    # the issuing body's place, capitalised, with the year: on ONE line
    assert "Hồng Hà, ngày …… tháng …… năm 2026" in texts
    # headings that need two lines break into balanced lines: never a lone word, never a lone "……"
    for heading in ("ĐẢNG BỘ BỆNH VIỆN ĐA KHOA TỈNH", "XÁC NHẬN CỦA ĐẢNG ỦY PHƯỜNG HỒNG HÀ",
                    "Hồng Hà, ngày …… tháng …… năm 2026", "CHI BỘ TỔ DÂN PHỐ SỐ 12"):
        got = pieces(segs, heading)
        assert got, (heading, texts[:12])
        assert not bad_pieces(got), (heading, got)
    assert len(pieces(segs, "ĐẢNG BỘ BỆNH VIỆN ĐA KHOA TỈNH")) == 2
    # the correction line under the instruction, the pre-filled absence, the secretary, a readable serial
    assert any(t.startswith("(Muốn sửa: gạch chéo kín ô đã đánh dấu") for t in texts)
    assert "- " + SHEET_V2_OVER["prefilled_remarks"][0] in " ".join(texts)
    assert "Vũ Thị Lan" in texts and "2026-000123-1" in texts


def test_the_wrap_check_sees_a_lone_word():
    """What Word makes of a long heading in a narrow block, and what the check says of it."""
    segs = [(10.0, 40.0, "ĐẢNG ỦY BỆNH VIỆN ĐA KHOA"), (26.0, 80.0, "TỈNH"), (10.0, 300.0, "Hạ Long, ngày …… tháng"),
            (26.0, 330.0, "…… năm 2026")]
    assert bad_pieces(pieces(segs, "ĐẢNG ỦY BỆNH VIỆN ĐA KHOA TỈNH")) == ["TỈNH"]
    assert bad_pieces(pieces(segs, "Hạ Long, ngày …… tháng …… năm 2026")) == []
    assert bad_pieces(["Hạ Long, ngày …… tháng", "……"]) == ["……"]
