"""Render each template with sample data to .docx, .pdf and .png (for a visual check).

Every page is a preview: "BẢN XEM TRƯỚC" across it and a QR that never verifies
(signed under the reserved preview key id, see forms.qrpayload.sign_preview).

    python templates/preview.py /tmp/preview     # needs soffice and pdftoppm
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from docgen import find_template, load_definition, render_document, samples  # noqa: E402
from docgen.pdf import convert_to_pdf  # noqa: E402
from docgen.preview import watermark  # noqa: E402
from forms import qrpayload  # noqa: E402

HERE = Path(__file__).resolve().parent


def main(out_dir: str = "/tmp/noicutru-preview") -> int:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    sheet = find_template("evaluation_sheet")
    sheet_def = load_definition(sheet.definition_path)

    def sheet_preview(data: dict) -> bytes:
        qr = qrpayload.sign_preview(sheet_def, data["sheet_serial"], data["member_id"], data["year"])
        return watermark(render_document(sheet.template_path, dict(data, qr_payload=qr, preview=True)))

    docs = {
        "introduction_letter": watermark(render_document(HERE / "introduction_letter.v1.docx",
                                                         samples.introduction_letter())),
        "introduction_letter_exempt": watermark(render_document(
            HERE / "introduction_letter.v1.docx",
            samples.introduction_letter(exempt_from_meetings=True, member_full_member_date=None))),
        "evaluation_sheet": sheet_preview(samples.evaluation_sheet(2)),
        "evaluation_sheet_exempt": sheet_preview(samples.evaluation_sheet(3, variant="exempt")),
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
