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
