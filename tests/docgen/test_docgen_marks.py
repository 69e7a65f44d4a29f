import io

from PIL import Image

from docgen import marks, render_document, samples
from forms import qrpayload
from helpers_docgen import SHEET, member

KEY = samples.MARK_KEY_FOR_TESTS


def _png_to_matrix(png: bytes, scale=8, border=4):
    img = Image.open(io.BytesIO(png)).convert("L")
    n = img.width // scale - 2 * border
    return [[1 if img.getpixel(((border + x) * scale + scale // 2, (border + y) * scale + scale // 2)) < 128 else 0
             for x in range(n)] for y in range(n)]


def test_qr_png_encodes_the_payload_matrix():
    p = qrpayload.sign("evaluation_sheet", 1, "2025-000001", "10001", 2025, KEY)
    png = marks.qr_png(p)
    assert png.startswith(b"\x89PNG")
    matrix = [list(r) for r in marks.qr_matrix(p)]
    assert _png_to_matrix(png) == matrix
    assert len(matrix) == 37  # version 5 at level H (alphanumeric payload): readable at 22 mm


def test_fast_qr_matches_segno():
    import segno
    for i in range(40):
        p = qrpayload.sign("evaluation_sheet", 1, f"2025-{i:06d}", str(7 * i + 1), 2025, KEY)
        if i % 3 == 0:
            p = qrpayload.sign("evaluation_sheet", 1, f"s-{i}", f"uuid-{i:x}ab", 2025, KEY)  # byte mode
        ref = [list(r) for r in segno.make(p, error="h", boost_error=False, mask=marks.QR_MASK).matrix]
        assert marks.qr_matrix(p) == ref
    assert not marks._FAST.disabled


def test_sheet_carries_signed_qr_and_corner_marks():
    data = samples.evaluation_sheet(5)
    out = render_document(SHEET, data, mark_key=KEY)
    from docgen import BulkRenderer
    br = BulkRenderer(SHEET, mark_key=KEY)
    png = member(out, br.compiled.picture_members["qr_code"])
    payload = qrpayload.sign("evaluation_sheet", 1, data["sheet_serial"], data["member_id"], 2025, KEY)
    assert png == marks.qr_png(payload)
    assert qrpayload.verify(payload, KEY).member_id == data["member_id"]
    header = member(out, "word/header1.xml").decode()
    footer = member(out, "word/footer1.xml").decode()
    assert header.count('name="corner_mark"') >= 2 and footer.count('name="corner_mark"') >= 2
    # 5 mm = 180000 EMU
    assert 'cx="180000" cy="180000"' in header
    # a pre-signed payload passed in is used as is
    out2 = render_document(SHEET, samples.evaluation_sheet(5, qr_payload=payload, member_id=None))
    assert member(out2, br.compiled.picture_members["qr_code"]) == png
