"""Uploaded scan files -> page images, with stable error codes.

    for page in iter_pages(data, "scan.pdf", max_pages=200):
        reading = read_page(page.image, ...)

Accepted: PDF (rendered with pypdfium2 at ``dpi``), TIFF (multi-page), JPEG,
PNG (also BMP/WebP through Pillow).  Every refusal is a :class:`ScanInputError`
with ``code`` and ``message_vi``:

* ``empty_file``      0-byte upload
* ``not_a_scan``      neither a PDF nor an image (e.g. an HTML page named .pdf)
* ``pdf_encrypted``   password-protected PDF
* ``pdf_corrupt``     a PDF that cannot be opened, or an image that cannot be decoded
* ``image_too_large`` more pixels than allowed (checked from the header, before decoding)
* ``too_many_pages``  more pages than the caller allows (said before any rendering)

A PDF page that carries a real text layer (a sheet filled in on a computer
and exported) can be read without OCR: :func:`read_text_pdf`.
"""
from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from typing import Iterator

import numpy as np

MAX_PIXELS = 60_000_000  # ~ A3 at 600 dpi; bigger is refused before decoding
DEFAULT_DPI = 200

MESSAGES_VI = {
    "empty_file": "Tệp rỗng (0 byte): hãy tải lại bản quét",
    "not_a_scan": "Tệp không phải bản quét (PDF, TIFF, JPEG hoặc PNG)",
    "pdf_encrypted": "Tệp PDF có mật khẩu: hãy bỏ mật khẩu rồi tải lên lại",
    "pdf_corrupt": "Tệp bị hỏng, không đọc được",
    "image_too_large": "Ảnh quá lớn (quá nhiều điểm ảnh): hãy quét ở độ phân giải 200–300 dpi",
    "too_many_pages": "Tệp có quá nhiều trang",
}


class ScanInputError(Exception):
    def __init__(self, code: str, message: str | None = None, message_vi: str | None = None, **extra):
        super().__init__(message or code)
        self.code = code
        self.message_vi = message_vi or MESSAGES_VI.get(code, code)
        self.extra = extra

    def to_dict(self) -> dict:
        return {"code": self.code, "message_vi": self.message_vi, **self.extra}


@dataclass
class Page:
    index: int  # 0-based
    image: np.ndarray  # BGR (or gray) uint8
    dpi: int | None
    source: str  # "pdf" | "tiff" | "jpeg" | "png" | ...
    has_text_layer: bool = False


def sniff(data: bytes) -> str:
    head = data[:16]
    if data[:1024].lstrip().startswith(b"%PDF") or b"%PDF-" in data[:1024]:
        return "pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return "tiff"
    if head.startswith(b"BM"):
        return "bmp"
    if head[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return "unknown"


def page_count(data: bytes, filename: str = "") -> int:
    """Number of pages without rendering anything (raises ScanInputError)."""
    kind = _check_kind(data)
    if kind == "pdf":
        doc = _open_pdf(data)
        try:
            return len(doc)
        finally:
            doc.close()
    with _open_image(data) as im:
        return getattr(im, "n_frames", 1)


def _check_kind(data: bytes) -> str:
    if not data:
        raise ScanInputError("empty_file", "empty file")
    kind = sniff(data)
    if kind == "unknown":
        raise ScanInputError("not_a_scan", "not a PDF or an image")
    return kind


def _open_pdf(data: bytes):
    import pypdfium2 as pdfium
    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        msg = str(exc).lower()
        if "password" in msg or "security" in msg:
            raise ScanInputError("pdf_encrypted", f"encrypted PDF: {exc}") from None
        raise ScanInputError("pdf_corrupt", f"cannot open PDF: {exc}") from None


def _open_image(data: bytes):
    from PIL import Image
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data))  # reads the header only
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ScanInputError("image_too_large", str(exc)) from None
    except Exception as exc:
        raise ScanInputError("pdf_corrupt", f"cannot read image: {exc}",
                             "Tệp ảnh bị hỏng, không đọc được") from None
    w, h = im.size
    if w * h > MAX_PIXELS or w <= 0 or h <= 0:
        im.close()
        raise ScanInputError("image_too_large", f"image is {w}x{h} pixels", width=w, height=h)
    return im


def _pil_to_array(im) -> np.ndarray:
    if im.mode in ("1", "L", "I;16", "I", "F", "P", "LA"):
        if im.mode == "P" and "transparency" not in im.info:
            im = im.convert("RGB")
        elif im.mode in ("LA",):
            im = im.convert("L")
    if im.mode in ("1", "I;16", "I", "F"):
        im = im.convert("L")
    if im.mode == "L":
        return np.ascontiguousarray(np.asarray(im))
    arr = np.asarray(im.convert("RGB"))
    return np.ascontiguousarray(arr[:, :, ::-1])


def iter_pages(data: bytes, filename: str = "", *, dpi: int = DEFAULT_DPI, max_pages: int | None = None,
               max_pixels: int | None = None) -> Iterator[Page]:
    """Yield the pages of an uploaded file as images.

    Raises ScanInputError (before yielding anything) for the errors listed
    in the module docstring; ``too_many_pages`` is raised before rendering.
    """
    global MAX_PIXELS
    kind = _check_kind(data)
    limit = max_pixels or MAX_PIXELS
    if kind == "pdf":
        doc = _open_pdf(data)
        try:
            n = len(doc)
            if n == 0:
                raise ScanInputError("pdf_corrupt", "PDF without pages")
            if max_pages is not None and n > max_pages:
                raise ScanInputError("too_many_pages", f"{n} pages > {max_pages}",
                                     f"Tệp có {n} trang, vượt quá giới hạn {max_pages} trang",
                                     pages=n, limit=max_pages)
            for i in range(n):
                page = doc[i]
                w, h = page.get_size()
                scale = dpi / 72.0
                if w * h * scale * scale > limit:
                    scale = (limit / (w * h)) ** 0.5
                try:
                    bm = page.render(scale=scale, grayscale=False)
                    arr = bm.to_numpy()
                    mode = bm.mode
                except Exception as exc:
                    raise ScanInputError("pdf_corrupt", f"cannot render page {i + 1}: {exc}") from None
                if mode.startswith("BGR"):
                    img = np.ascontiguousarray(arr[:, :, :3])
                elif mode in ("RGB", "RGBA", "RGBX"):
                    img = np.ascontiguousarray(arr[:, :, :3][:, :, ::-1])
                else:
                    img = np.ascontiguousarray(arr if arr.ndim == 2 else arr[:, :, 0])
                has_text = False
                try:
                    tp = page.get_textpage()
                    has_text = tp.count_chars() > 20
                    tp.close()
                except Exception:
                    pass
                yield Page(i, img, int(round(72 * scale)), "pdf", has_text)
        finally:
            doc.close()
        return
    im = _open_image(data)
    try:
        n = getattr(im, "n_frames", 1)
        if max_pages is not None and n > max_pages:
            raise ScanInputError("too_many_pages", f"{n} pages > {max_pages}",
                                 f"Tệp có {n} trang, vượt quá giới hạn {max_pages} trang", pages=n, limit=max_pages)
        for i in range(n):
            try:
                im.seek(i)
                w, h = im.size
                if w * h > limit:
                    raise ScanInputError("image_too_large", f"frame {i + 1} is {w}x{h} pixels", width=w, height=h)
                im.load()
                arr = _pil_to_array(im)
            except ScanInputError:
                raise
            except Exception as exc:
                raise ScanInputError("pdf_corrupt", f"cannot decode image frame {i + 1}: {exc}",
                                     "Tệp ảnh bị hỏng, không đọc được") from None
            d = im.info.get("dpi")
            yield Page(i, arr, int(round(d[0])) if d and d[0] else None, kind)
    finally:
        im.close()


def read_text_pdf(data: bytes, definition: "FormDefinition | dict", *, variant: str | None = None,
                  page_number: int = 0) -> dict | None:
    """Read a sheet filled in on a computer and exported to PDF (real text layer), no OCR.

    Returns ``{"text": full text, "member_full_name", "member_date_of_birth",
    "answers": {item: option|None}, "other_remarks"}`` or None when the page has no text
    layer.  An option counts as chosen when a mark glyph (X, x, ☒, ☑, ✓, ✔, ■)
    stands in its box or right before its label.
    """
    import re
    import unicodedata

    import pdfplumber
    from rapidfuzz import fuzz

    from forms.definition import FormDefinition

    from .layout import _lines_of_words, _norm, _squares_from_lines

    definition = FormDefinition.coerce(definition)
    try:
        pdf = pdfplumber.open(io.BytesIO(data))
    except Exception as exc:
        msg = str(exc).lower()
        raise ScanInputError("pdf_encrypted" if "password" in msg else "pdf_corrupt", str(exc)) from None
    with pdf:
        if page_number >= len(pdf.pages):
            return None
        page = pdf.pages[page_number]
        words = [dict(w, text=unicodedata.normalize("NFC", w["text"])) for w in page.extract_words()]
        if len(words) < 10:
            return None
        squares = _squares_from_lines(page)
        chars = page.chars
    lines = _lines_of_words(words)
    text = "\n".join(" ".join(w["text"] for w in ln) for ln in lines)
    marks = set("Xx☒☑✓✔■✗✘")
    items = definition.items(variant)
    out = {"text": text, "answers": {}, "member_full_name": None, "member_date_of_birth": None,
           "other_remarks": None}
    m = re.search(r"Họ và tên[^:]*:\s*(.+?)(?:\s{2,}|\s+Ngày sinh|$)", text, re.M)
    if m:
        out["member_full_name"] = m.group(1).strip()
    m = re.search(r"Ngày sinh:?\s*(\d{1,2}/\d{1,2}/\d{4})", text)
    if m:
        out["member_date_of_birth"] = m.group(1)
    flat = [w for ln in lines for w in ln]
    by_boxes = _answers_by_boxes(items, lines, squares, chars, marks)
    for it in items:
        if not it.is_choice:
            continue
        if by_boxes.get(it.key) is not None:
            out["answers"][it.key] = by_boxes[it.key]
            continue
        chosen = []
        targets = {op.key: _norm(op.label) for op in it.options}
        for op in it.options:
            target = targets[op.key]
            n = len(target.split())
            longer = [t for t in targets.values() if len(t.split()) > n and t.startswith(target)]
            for ln in lines:
                for i in range(len(ln)):
                    cand = _norm(" ".join(w["text"] for w in ln[i:i + n]))
                    if fuzz.ratio(cand, target) < 90:
                        continue
                    # "Nêu gương" is the start of "Nêu gương tốt": credit the longest label only
                    if any(fuzz.ratio(_norm(" ".join(w["text"] for w in ln[i:i + len(t.split())])), t) >= 90
                           for t in longer):
                        continue
                    x0, top, bottom = ln[i]["x0"], ln[i]["top"], ln[i]["bottom"]
                    # a mark glyph in a square just left of the label, or a mark word right before it
                    sq = [s for s in squares if s[2] <= x0 + 1 and x0 - s[2] < 25 and s[1] - 3 < (top + bottom) / 2 < s[3] + 3]
                    hit = False
                    for s in sq:
                        hit |= any(c["text"] in marks and s[0] - 1 <= c["x0"] and c["x1"] <= s[2] + 1
                                   and s[1] - 2 <= c["top"] and c["bottom"] <= s[3] + 2 for c in chars)
                    prev = ln[i - 1]["text"] if i > 0 else ""
                    hit |= bool(prev) and bool(re.fullmatch(r"[\[(]?[Xx☒☑✓✔■✗✘][\])]?", prev))
                    if hit:
                        chosen.append(op.key)
        # the same label can appear in two items (exempt variant): keep it only if unique in the item
        chosen = list(dict.fromkeys(chosen))
        out["answers"][it.key] = chosen[0] if len(chosen) == 1 else None
    del flat
    return out


def _answers_by_boxes(items, lines: list, squares: list, chars: list, marks: set) -> dict:
    """Options by position: the boxes under an item's heading are its options in the definition's
    order; a mark glyph in box k, or typed right after it before the label, chooses option k.
    (Label text is not needed, so labels that wrap or share words cannot be confused.)"""
    import re

    from rapidfuzz import fuzz

    from .layout import _norm
    heads = []
    for it in items:
        target = _norm(it.heading)
        best = max(((fuzz.partial_ratio(_norm(" ".join(w["text"] for w in ln)), target), ln) for ln in lines),
                   key=lambda t: t[0], default=(0, None))
        heads.append((it, best[1][0]["bottom"] if best[0] >= 85 else None))
    out: dict = {}
    for n, (it, bottom) in enumerate(heads):
        if not it.is_choice or bottom is None:
            continue
        nxt = next((b for _, b in heads[n + 1:] if b is not None and b > bottom), None)
        row = sorted((sq for sq in squares if sq[1] > bottom - 1 and (nxt is None or sq[3] < nxt - 8)),
                     key=lambda sq: sq[1])
        if not row:
            continue
        first_top = row[0][1]
        row = sorted((sq for sq in row if abs(sq[1] - first_top) < 4), key=lambda sq: sq[0])
        if len(row) != len(it.options):
            continue
        chosen = []
        for k, sq in enumerate(row):
            right = row[k + 1][0] if k + 1 < len(row) else sq[2] + 40
            in_row = lambda o: sq[1] - 3 <= (o["top"] + o["bottom"]) / 2 <= sq[3] + 3  # noqa: E731
            inside = any(c["text"] in marks and sq[0] - 1 <= c["x0"] and c["x1"] <= sq[2] + 1 and in_row(c)
                         for c in chars)
            typed = any(re.fullmatch(r"[\[(]?[Xx☒☑✓✔■✗✘][\])]?", w["text"]) and sq[0] - 1 <= w["x0"]
                        and w["x0"] < min(right, sq[2] + 30) and in_row(w) for ln in lines for w in ln)
            if inside or typed:
                chosen.append(it.options[k].key)
        if len(chosen) == 1:
            out[it.key] = chosen[0]
    return out


def load_page(data: bytes, filename: str = "", index: int = 0, *, dpi: int = DEFAULT_DPI,
              max_pixels: int | None = None) -> Page:
    """One page (0-based) of an uploaded file, without rendering the pages before it."""
    kind = _check_kind(data)
    if kind == "pdf":
        doc = _open_pdf(data)
        try:
            if not 0 <= index < len(doc):
                raise ScanInputError("pdf_corrupt", f"no page {index + 1}")
            # iter_pages over a one-page view keeps a single rendering path
            import pypdfium2 as pdfium
            single = pdfium.PdfDocument.new()
            single.import_pages(doc, [index])
            out = io.BytesIO()
            single.save(out)
            single.close()
        finally:
            doc.close()
        page = next(iter_pages(out.getvalue(), filename, dpi=dpi, max_pixels=max_pixels))
        return Page(index, page.image, page.dpi, page.source, page.has_text_layer)
    for page in iter_pages(data, filename, dpi=dpi, max_pixels=max_pixels):
        if page.index == index:
            return page
    raise ScanInputError("pdf_corrupt", f"no page {index + 1}")
