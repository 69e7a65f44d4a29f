"""The sample documents whose pictures are kept as references (tests/reference/*.png).

Run ``python -m tests.reference.render_samples`` to write new references after an intended
change of a template; look at them before committing.
"""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
DPI = 50


# Version 2 of the sheet as a long-named hospital committee and a cell issue it: headings that
# must break into balanced lines, the date line with the place and the year, absences in item 7.
SHEET_V2_OVER = {
    "ward_party_body_name": "Đảng bộ bệnh viện đa khoa tỉnh", "ward_committee_name": "Đảng ủy phường Hồng Hà",
    "place": "Hồng Hà", "year": 2026, "sheet_serial": "2026-000123-1",
    "prefilled_remarks": ["Vắng họp chi bộ ngày 15/03/2026 (có lý do): đi công tác tỉnh ngoài"],
}


def samples() -> dict[str, tuple[str, int | None, dict]]:
    """name -> (kind, template version (None: the letter's highest), data)."""
    from docgen import samples as s
    return {
        "introduction_letter_v1": ("introduction_letter", 1, s.introduction_letter()),
        "introduction_letter": ("introduction_letter", None, s.introduction_letter()),
        "introduction_letter_exempt": ("introduction_letter", None, s.introduction_letter(exempt_from_meetings=True)),
        "evaluation_sheet": ("evaluation_sheet", 1, s.evaluation_sheet(1)),
        "evaluation_sheet_exempt": ("evaluation_sheet", 1, s.evaluation_sheet(2, variant="exempt")),
        "evaluation_sheet_v2": ("evaluation_sheet", 2, s.evaluation_sheet(1, **SHEET_V2_OVER)),
        "evaluation_sheet_v2_exempt": ("evaluation_sheet", 2, s.evaluation_sheet(2, variant="exempt")),
        "cover_letter": ("cover_letter", 1, s.cover_letter()),
    }


def render_pdfs() -> dict[str, bytes]:
    """Each sample through docgen and LibreOffice: name -> PDF."""
    from docgen import find_template, render_document
    from docgen import samples as s
    from docgen.pdf import convert_to_pdf
    docs = [(f"{name}.docx", render_document(find_template(kind, version).template_path, data,
                                             mark_key=s.MARK_KEY_FOR_TESTS))
            for name, (kind, version, data) in samples().items()]
    return {name[:-5]: pdf for (name, _), pdf in zip(docs, convert_to_pdf(docs))}


def render_all() -> dict[str, list[np.ndarray]]:
    """Each sample through docgen and LibreOffice, every page as a grey image at DPI."""
    return pictures(render_pdfs())


def pictures(pdfs: dict[str, bytes]) -> dict[str, list[np.ndarray]]:
    import pypdfium2 as pdfium
    out = {}
    for name, pdf in pdfs.items():
        doc = pdfium.PdfDocument(pdf)
        out[name] = [np.asarray(doc[i].render(scale=DPI / 72).to_pil().convert("L")) for i in range(len(doc))]
        doc.close()
    return out


def main() -> None:
    from PIL import Image
    for name, pages in render_all().items():
        for i, img in enumerate(pages, 1):
            path = HERE / f"{name}-p{i}.png"
            buf = io.BytesIO()
            Image.fromarray(img).save(buf, "PNG", optimize=True)
            path.write_bytes(buf.getvalue())
            print(path, len(buf.getvalue()))


if __name__ == "__main__":
    main()
