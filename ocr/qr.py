"""QR code of our sheets: decoding the picture with zxing-cpp.

The payload text is parsed and verified by :mod:`forms.qrpayload` only.
"""
from __future__ import annotations

import cv2
import numpy as np
import segno
import zxingcpp

from forms import qrpayload

_FMT = zxingcpp.BarcodeFormat.QRCode


def decode(gray: np.ndarray, *, try_harder: bool = False) -> list[tuple[str, np.ndarray, int]]:
    """[(text, corners 4x2 (TL, TR, BR, BL of the symbol), orientation degrees)]."""
    out = []
    variants = [gray]
    if try_harder:
        g = cv2.GaussianBlur(gray, (3, 3), 0)
        _, th = cv2.threshold(g, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
        variants.append(th)
        if max(gray.shape) < 900:
            up = cv2.resize(gray, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)
            variants.append(up)
        variants.append(cv2.adaptiveThreshold(g, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY, 31, 5))
    for k, img in enumerate(variants):
        try:
            res = zxingcpp.read_barcodes(img, formats=_FMT)
        except Exception:  # zxing raises on degenerate input
            res = []
        for b in res:
            if not b.valid or not b.text:
                continue
            p = b.position
            pts = np.array([[p.top_left.x, p.top_left.y], [p.top_right.x, p.top_right.y],
                            [p.bottom_right.x, p.bottom_right.y], [p.bottom_left.x, p.bottom_left.y]],
                           dtype=np.float32)
            if k > 0 and img.shape != gray.shape:
                pts = pts * (gray.shape[1] / img.shape[1])
            out.append((b.text, pts, int(b.orientation)))
        if out:
            break
    return out


def parse_unverified(text: str, kind_codes=None) -> dict | None:
    """The fields of a noicutru payload without checking its MAC (None if not ours).

    ``kind_codes``: {code: kind} of the known form definitions (see ocr.layout.kind_codes_of)."""
    p = qrpayload.parse(text, kind_codes)
    return p.as_dict() if p else None


def verify(text: str, keys, kind_codes=None) -> tuple[dict | None, bool, str | None]:
    """(payload dict or None, valid, Vietnamese message when invalid); ``keys``: see qrpayload.as_keyring."""
    try:
        return qrpayload.verify(text, keys, kind_codes).as_dict(), True, None
    except qrpayload.InvalidPayloadError as exc:
        return parse_unverified(text, kind_codes), False, exc.message_vi


def module_count(text: str) -> int:
    """Modules per side of the QR our sheets carry for ``text`` (printed at level H, see docgen.marks)."""
    return segno.make(text, error="h", boost_error=False).symbol_size(border=0)[0]
