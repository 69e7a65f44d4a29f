"""Upload handling (ocr.pdfinput) and forms we did not print (foreign forms)."""
from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

import ocr
from ocr import pdfinput as pi
from tests.support import synthetic_sheets as syn
from docgen.samples import MARK_KEY_FOR_TESTS as KEY


def code_of(data, name="scan", **kw):
    with pytest.raises(pi.ScanInputError) as ei:
        list(pi.iter_pages(data, name, **kw))
    assert ei.value.message_vi and ei.value.to_dict()["code"] == ei.value.code
    return ei.value.code


def _png_header_only(w, h):
    def chunk(tag, data):
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def _encrypted_pdf():
    """A PDF with a Standard security handler whose empty user password does not open it."""
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
            b"<< /Filter /Standard /V 1 /R 2 /O <" + b"11" * 32 + b"> /U <" + b"22" * 32 + b"> /P -4 >>"]
    out, offs = b"%PDF-1.4\n", []
    for i, o in enumerate(objs):
        offs.append(len(out))
        out += b"%d 0 obj\n" % (i + 1) + o + b"\nendobj\n"
    x = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1) + b"".join(b"%010d 00000 n \n" % o for o in offs)
    out += (b"trailer\n<< /Root 1 0 R /Encrypt 4 0 R /Size 5 /ID [<00112233445566778899aabbccddeeff>"
            b"<00112233445566778899aabbccddeeff>] >>\nstartxref\n%d\n%%%%EOF\n" % x)
    return out


def _pdf_of_images(n):
    buf = io.BytesIO()
    ims = [Image.new("RGB", (300, 400), "white") for _ in range(n)]
    ims[0].save(buf, "PDF", save_all=True, append_images=ims[1:])
    return buf.getvalue()


def test_error_codes():
    assert code_of(b"") == "empty_file"
    assert code_of("<!DOCTYPE html><html><body>Đăng nhập</body></html>".encode(), "scan.pdf") == "not_a_scan"
    good = _pdf_of_images(3)
    assert code_of(good[: len(good) // 3]) == "pdf_corrupt"
    assert code_of(b"%PDF-1.7\n garbage garbage") == "pdf_corrupt"
    assert code_of(_encrypted_pdf()) == "pdf_encrypted"
    assert code_of(_png_header_only(20000, 20000)) == "image_too_large"
    assert code_of(good, max_pages=2) == "too_many_pages"
    assert pi.page_count(good) == 3


def test_pdf_tiff_jpeg_png():
    pages = list(pi.iter_pages(_pdf_of_images(2), "a.pdf", dpi=150))
    assert [p.index for p in pages] == [0, 1] and pages[0].image.ndim == 3 and pages[0].source == "pdf"
    frames = [Image.new("L", (200, 300), 255 - 40 * i) for i in range(3)]
    buf = io.BytesIO()
    frames[0].save(buf, "TIFF", save_all=True, append_images=frames[1:])
    pages = list(pi.iter_pages(buf.getvalue(), "a.tif"))
    assert len(pages) == 3 and pages[2].image[0, 0] == 255 - 80
    for fmt in ("JPEG", "PNG"):
        buf = io.BytesIO()
        Image.new("RGB", (120, 80), (200, 10, 10)).save(buf, fmt)
        (p,) = pi.iter_pages(buf.getvalue(), "x")
        assert p.image.shape == (80, 120, 3) and p.image[40, 60, 2] > 150  # BGR


def test_text_pdf_read_without_ocr(sources, definition):
    src = sources[0]
    got = pi.read_text_pdf(src.pdf, definition)
    assert got["member_full_name"] == src.record["member_full_name"]
    assert got["member_date_of_birth"]
    assert set(got["answers"]) == {it.key for it in definition.variant("standard").choice_items}
    # pages of a rendered sheet carry a text layer
    (p,) = pi.iter_pages(src.pdf, "s.pdf")
    assert p.has_text_layer


def test_page_from_pdf_is_read(sources, layouts):
    """A scan delivered as a PDF: pdfinput -> read_page."""
    img, truth = syn.make_page(sources[0], 5, "light", degrade_kw=dict(orientation=0))
    buf = io.BytesIO()
    Image.fromarray(img[:, :, ::-1]).save(buf, "PDF", resolution=200)
    (page,) = pi.iter_pages(buf.getvalue(), "scan.pdf", dpi=200)
    r = ocr.read_page(page.image, layouts=layouts, hmac_key=KEY, ocr_name=False)
    assert r.qr_valid and r.answers == truth["expected"]


def test_foreign_form(definition, layouts, members):
    target = members[1]
    answers = {"setting_example": "example", "citizen_duties": "leading", "meetings": "full",
               "keeping_contact": "regular", "local_activities": "active", "cell_proposal": "commend"}
    (img,) = syn.render_foreign_sources(definition, [target], [answers])
    out, _ = syn.degrade(img, "light", 3, orientation=0)
    r = ocr.read_page(out, layouts=layouts, hmac_key=KEY, members_hint=members)
    assert r.kind == "foreign_form"
    assert "foreign_form" in r.problem_codes and not r.auto_applicable and not r.qr_valid
    prop = r.field("proposed_member_id")
    assert prop is not None and prop.value == target["id"] and prop.confidence > 0.5
    # marks read where possible, never confidently
    right = [k for k, v in r.answers.items() if v is not None]
    assert right and all(r.answers[k] == answers[k] for k in right)
    assert all(c < ocr.CONFIDENT for c in r.answer_confidence.values())


# -- proposing the member of a retyped form ----------------------------------------------------------

def _namesakes(members):
    """The hint list plus a namesake of members[1] (same full name, other date of birth and cell)."""
    twin = dict(members[1], id=999, date_of_birth=members[1]["date_of_birth"].replace(year=1988),
                residence_cell_name="Chi bộ Tổ dân phố số 12")
    return members + [twin], twin


def test_find_dates_as_ocr_reads_them():
    from ocr.identify import find_dates
    assert find_dates("Ngày sinh: 02/O9/1985") == {"02/09/1985"}
    assert find_dates("sinh ngày 2 . 9 . 1985, số 12/3") == {"02/09/1985"}
    assert find_dates("Ngày sinh: l2-1l-19 85") == {"12/11/1985"}
    assert find_dates("điểm 45/12/1985 và 3/13/2000") == set()


def test_name_after_its_label():
    from ocr.identify import identity_lines, name_after_label
    assert name_after_label("Họ và tên đảng viên: Trần Thị Hường     Ngày sinh: 02/09/1985") == (2, "Trần Thị Hường")
    assert name_after_label("Hợ và tến đảng viền: Tran Thi Huong Ngay sinh 02/09/1985")[1] == "Tran Thi Huong"
    assert name_after_label("Đồng chí Lê Đức Thắng, sinh ngày 3/4/1970") == (1, "Lê Đức Thắng")
    # a sentence that starts with one of the labels is not a name
    assert name_after_label("Đảng viên đang công tác thường xuyên giữ mối liên hệ") is None
    lines = [{"text": t} for t in ("Đảng viên đang công tác thường xuyên giữ mối liên hệ",
                                   "Họ và tên: Lê Đức Thắng   Ngày sinh: 03/04/1970")]
    assert identity_lines(lines) == ("Lê Đức Thắng", "03/04/1970")


def test_propose_member_namesakes_and_wrong_diacritics(members):
    from ocr.identify import propose_member
    hint, twin = _namesakes(members)
    orig = members[1]  # Trần Thị Hường; members[6] is Trần Thị Hương
    page = "PHIẾU NHẬN XÉT\nHọ và tên đảng viên: {n}   Ngày sinh: {d}\nChi bộ nơi cư trú: {c}"
    for who in (orig, twin):
        dob = who["date_of_birth"].strftime("%d/%m/%Y")
        # diacritics OCR'd wrongly ("Hưởng"), the date with an O for a 0: the date of birth decides
        for name in ("Trần Thị Hường", "Trán Thi Hưởng", "Tran Thj Huong"):
            text = page.format(n=name, d=dob.replace("0", "O", 1), c=who["residence_cell_name"])
            got = propose_member(text, hint, name_text=name, dob_text=dob)
            assert got is not None and got[0] == who["id"], (name, got)
            assert got[1] >= 0.5
    # the date of birth not read: one of the namesakes, with a low confidence (a person chooses)
    text = page.format(n="Trần Thị Hường", d="", c="")
    got = propose_member(text, hint, name_text="Trần Thị Hường")
    assert got is not None and got[0] in (orig["id"], twin["id"]) and got[1] < 0.5
    # a name that is not in the list at all
    assert propose_member(page.format(n="Đỗ Minh Khoa", d="", c=""), hint, name_text="Đỗ Minh Khoa") is None


def test_foreign_form_namesake_medium(definition, layouts, members):
    """A retyped form about one of two namesakes, scanned in the shade and skewed: the right one."""
    hint, twin = _namesakes(members)
    answers = {"setting_example": "good_example", "citizen_duties": "exemplary", "meetings": "partial",
               "keeping_contact": "regular", "local_activities": "active", "cell_proposal": "commend"}
    (img,) = syn.render_foreign_sources(definition, [twin], [answers])
    out, info = syn.degrade(img, "medium", 21, orientation=0, skew=-4.5)
    r = ocr.read_page(out, layouts=layouts, hmac_key=KEY, members_hint=hint)
    assert r.kind == "foreign_form"
    prop = r.field("proposed_member_id")
    assert prop is not None and prop.value == twin["id"], info
    assert 0.5 < prop.confidence < ocr.CONFIDENT + 0.2
