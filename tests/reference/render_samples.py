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


def samples() -> dict[str, tuple[str, dict]]:
    from docgen import samples as s
    return {
        "introduction_letter": ("introduction_letter", s.introduction_letter()),
        "introduction_letter_exempt": ("introduction_letter", s.introduction_letter(exempt_from_meetings=True)),
        "evaluation_sheet": ("evaluation_sheet", s.evaluation_sheet(1)),
        "evaluation_sheet_exempt": ("evaluation_sheet", s.evaluation_sheet(2, variant="exempt")),
        "cover_letter": ("cover_letter", s.cover_letter()),
    }


def render_all() -> dict[str, list[np.ndarray]]:
    """Each sample through docgen and LibreOffice, every page as a grey image at DPI."""
    import pypdfium2 as pdfium
    from docgen import find_template, render_document
    from docgen import samples as s
    from docgen.pdf import convert_to_pdf
    items = samples()
    docs = [(f"{name}.docx", render_document(find_template(kind).template_path, data,
                                             mark_key=s.MARK_KEY_FOR_TESTS))
            for name, (kind, data) in items.items()]
    out = {}
    for (name, _), pdf in zip(docs, convert_to_pdf(docs)):
        doc = pdfium.PdfDocument(pdf)
        out[name[:-5]] = [np.asarray(doc[i].render(scale=DPI / 72).to_pil().convert("L")) for i in range(len(doc))]
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
