import os
import re
import shutil
import subprocess

import pytest

from docgen import render_document, samples
from docgen.errors import SofficeNotFoundError
from docgen.pdf import PdfConverter, find_soffice
from helpers_docgen import LETTER, SHEET

HAVE_SOFFICE = find_soffice() is not None
if not HAVE_SOFFICE and os.environ.get("CI") != "true":
    pytest.skip(reason="LibreOffice (soffice) is not installed on this machine; required when CI=true",
                allow_module_level=True)


def test_missing_soffice_is_a_clear_error():
    with pytest.raises(SofficeNotFoundError) as exc:
        PdfConverter(soffice="/nonexistent/soffice")
    assert "soffice" in str(exc.value)


def test_convert_batch_to_pdf(tmp_path):
    docs = [("giấy giới thiệu.docx", render_document(LETTER, samples.introduction_letter())),
            ("phiếu nhận xét.docx", render_document(SHEET, samples.evaluation_sheet(1),
                                                    mark_key=samples.MARK_KEY_FOR_TESTS))]
    conv = PdfConverter()
    with conv:
        pdfs = conv.convert(docs)
        again = conv.convert(docs[:1])  # the same soffice instance serves again
        pid = conv._proc.pid
        assert conv.is_alive()
    assert len(pdfs) == 2 and again[0][:5] == b"%PDF-"
    for (name, _), pdf in zip(docs, pdfs):
        assert pdf.startswith(b"%PDF-") and b"%%EOF" in pdf[-1024:]
        # each form fits on one A4 page
        assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) == 1, name
    if shutil.which("pdftotext"):
        p = tmp_path / "s.pdf"
        p.write_bytes(pdfs[1])
        text = subprocess.run(["pdftotext", "-layout", str(p), "-"], capture_output=True, check=True).stdout.decode()
        assert "PHIẾU NHẬN XÉT" in text and "Nêu gương tốt" in text
    assert pid > 0
    assert not conv.is_alive()  # close() ended the instance


COVER = SHEET.with_name("cover_letter.v1.docx")


def _pages(pdf: bytes) -> list[tuple[str, bytes]]:
    """Each page's text and a small rendering of it."""
    import pypdfium2 as pdfium
    doc = pdfium.PdfDocument(pdf)
    try:
        return [(page.get_textpage().get_text_range(), page.render(scale=0.5).to_pil().tobytes()) for page in doc]
    finally:
        doc.close()


def _packet(cell: int, sheets: list[int], letter_members: int) -> bytes:
    from docgen.combine import combine_documents, with_cover
    cover = render_document(COVER, samples.cover_letter(
        n_members=letter_members, residence_cell_name=f"Chi bộ Tổ dân phố số {cell}",
        residence_cell_committee_name=f"Chi ủy Tổ dân phố số {cell}"))
    return with_cover(cover, combine_documents([
        render_document(SHEET, samples.evaluation_sheet(i, member_full_name=f"Người thử {i:02d}"),
                        mark_key=samples.MARK_KEY_FOR_TESTS) for i in sheets]))


def test_packets_converted_together_come_back_one_per_cell_as_if_alone():
    """The fast path joins neighbouring packets into one conversion and splits the PDF back: each cell gets
    exactly its letter then its own sheets, in order, looking as it does converted alone (no corner marks
    on the letter, each sheet its own QR), and the print-everything PDF is all of them in order."""
    import io

    from docgen.pdf import CHUNK_PAGES, PdfConverterPool, convert_to_pdf, plan_chunks, split_pdf
    cells = {31: [11, 12], 32: [13], 34: [14], 35: [15, 16]}  # 34: a letter of two pages
    items = [(f"cell-{c}.docx", _packet(c, s, letter_members=25 if c == 34 else len(s))) for c, s in cells.items()]
    items.insert(2, ("giay-gioi-thieu.docx", render_document(LETTER, samples.introduction_letter())))
    # one instance, whatever the cores here: with more, fewer documents are joined (none idles)
    assert plan_chunks(items, CHUNK_PAGES, 1) == [[0, 1], [2], [3, 4]]  # packets joined; another template alone
    merged = io.BytesIO()
    with PdfConverterPool(1) as pool:
        pdfs = convert_to_pdf(items, pool=pool, merged=merged)
        alone = pool.convert(items)
    got = [_pages(p) for p in pdfs]
    assert got == [_pages(p) for p in alone]  # same pages, pixel for pixel
    packets = [g for n, g in enumerate(got) if n != 2]
    for (cell, sheets), pages in zip(cells.items(), packets):
        letter = len(pages) - len(sheets)
        assert letter == (2 if cell == 34 else 1)  # a long member list takes a second page
        assert "PHIẾU XIN Ý KIẾN" in pages[0][0] and f"Chi ủy Tổ dân phố số {cell}\r\n" in pages[0][0]
        assert all("PHIẾU NHẬN XÉT" not in text for text, _ in pages[:letter])
        for (text, _), sheet in zip(pages[letter:], sheets):
            assert "PHIẾU NHẬN XÉT" in text and f"Người thử {sheet:02d}" in text
    assert "GIẤY GIỚI THIỆU" in got[2][0][0].upper()
    assert _pages(merged.getvalue()) == [page for pages in got for page in pages]
    assert split_pdf(alone[0], 2) is None  # no marks: the caller converts those documents one by one


def test_a_document_that_cannot_be_converted_is_named():
    from docgen.errors import PdfConversionError
    from docgen.pdf import convert_to_pdf
    sheets = [(f"phieu-{i}.docx", render_document(SHEET, samples.evaluation_sheet(i),
                                                  mark_key=samples.MARK_KEY_FOR_TESTS)) for i in (1, 2)]
    with pytest.raises(PdfConversionError) as exc:
        convert_to_pdf([sheets[0], ("phiếu hỏng.docx", b"PK\x03\x04 not a document"), sheets[1]])
    assert "phiếu hỏng.docx" in exc.value.message_vi
