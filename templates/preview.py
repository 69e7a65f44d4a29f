"""Render each template with sample data to .docx, .pdf and .png (for a visual check).

    python templates/preview.py /tmp/preview     # needs soffice and pdftoppm
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from docgen import render_document, samples  # noqa: E402
from docgen.pdf import convert_to_pdf  # noqa: E402

HERE = Path(__file__).resolve().parent


def main(out_dir: str = "/tmp/noicutru-preview") -> int:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    key = samples.MARK_KEY_FOR_TESTS
    docs = {
        "introduction_letter": render_document(HERE / "introduction_letter.v1.docx", samples.introduction_letter()),
        "introduction_letter_exempt": render_document(
            HERE / "introduction_letter.v1.docx",
            samples.introduction_letter(exempt_from_meetings=True, member_full_member_date=None)),
        "evaluation_sheet": render_document(HERE / "evaluation_sheet.v1.docx", samples.evaluation_sheet(2), mark_key=key),
        "evaluation_sheet_exempt": render_document(
            HERE / "evaluation_sheet.v1.docx", samples.evaluation_sheet(3, variant="exempt"), mark_key=key),
    }
    pdfs = convert_to_pdf([(k + ".docx", v) for k, v in docs.items()])
    for (name, data), pdf in zip(docs.items(), pdfs):
        (out / f"{name}.docx").write_bytes(data)
        (out / f"{name}.pdf").write_bytes(pdf)
        subprocess.run(["pdftoppm", "-r", "70", "-png", str(out / f"{name}.pdf"), str(out / name)], check=True)
    for p in sorted(out.glob("*.png")):
        print(p)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
