"""The reminder letter (template ``reminder_letter.v1``), rendered through LibreOffice, still looks like
its committed reference (tests/reference/reminder_letter-p1.png, looked at by a person when made):
one A4 page, the committee's heading, "Kính gửi" the ward and the cell, the table of missing sheets,
the signature block."""
from __future__ import annotations

import datetime as dt
import io
import os
import shutil

import numpy as np
import pytest
from PIL import Image

from tests.reference.render_samples import DPI, HERE
from tests.test_template_pictures import MEAN_TOLERANCE, PIXEL_TOLERANCE, difference

if not shutil.which("soffice") and os.environ.get("CI") != "true":
    pytest.skip(reason="LibreOffice (soffice) is not installed: scripts/install.sh installs it", allow_module_level=True)

REFERENCE = HERE / "reminder_letter-p1.png"
SAMPLE = {
    "upper_body_name": "Đảng bộ tỉnh Quảng Ninh", "issuing_committee_name": "Đảng ủy Bệnh viện Đa khoa tỉnh",
    "letter_number": 12, "place": "Quảng Ninh", "issue_date": dt.date(2026, 12, 5), "year": 2026,
    "ward_committee_name": "Đảng ủy phường Hồng Hà", "residence_cell_name": "Chi bộ khu phố 1",
    "sent_date": dt.date(2026, 11, 5), "deadline": dt.date(2026, 12, 1), "new_deadline": dt.date(2026, 12, 15),
    "missing_count": 3, "contact_line": "văn phòng Đảng ủy Bệnh viện Đa khoa tỉnh", "signer_name": "Nguyễn Văn Bí",
    "missing_sheets": [{"no": i, "full_name": n, "date_of_birth": "04/03/1980", "sheet_serial": f"2026-00000{i}-1"}
                       for i, n in enumerate(["Lê Đức Thắng", "Hoàng Minh Hải", "Vũ Ngọc Lan"], 1)],
}


def render_pages() -> list[np.ndarray]:
    import pypdfium2 as pdfium
    from docgen import find_template, render_document
    from docgen.pdf import convert_to_pdf
    pdf = convert_to_pdf([("reminder.docx", render_document(find_template("reminder_letter").template_path, SAMPLE))])[0]
    doc = pdfium.PdfDocument(pdf)
    return [np.asarray(doc[i].render(scale=DPI / 72).to_pil().convert("L")) for i in range(len(doc))]


def test_reminder_letter_matches_reference_picture():
    pages = render_pages()
    assert len(pages) == 1, "the letter fits on one A4 page"
    mean, share = difference(pages[0], np.asarray(Image.open(REFERENCE).convert("L")))
    assert mean <= MEAN_TOLERANCE and share <= PIXEL_TOLERANCE, (mean, share)


if __name__ == "__main__":  # python -m tests.test_reminder_letter_picture: rewrite the reference (then look at it)
    buf = io.BytesIO()
    Image.fromarray(render_pages()[0]).save(buf, "PNG", optimize=True)
    REFERENCE.write_bytes(buf.getvalue())
