"""QR code of our sheets: decoding with zxing-cpp and verification with docgen.marks."""
from __future__ import annotations

import cv2
import numpy as np
import zxingcpp

from docgen import marks as _marks
from docgen.errors import InvalidMarkError

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


def parse_unverified(text: str) -> dict | None:
    """The fields of a noicutru payload without checking its MAC (None if not ours)."""
    parts = (text or "").strip().split(_marks.SEP)
    if len(parts) != 7 or parts[0] != _marks.PREFIX:
        return None
    kind = _marks.CODE_KINDS.get(parts[1], parts[1])
    try:
        version, year = int(parts[2]), int(parts[5])
    except ValueError:
        return None
    return {"kind": kind, "version": version, "sheet_serial": parts[3], "member_id": parts[4], "year": year}


def verify(text: str, key) -> tuple[dict | None, bool, str | None]:
    """(payload dict or None, valid, Vietnamese message when invalid)."""
    try:
        return _marks.verify(text, key), True, None
    except InvalidMarkError as exc:
        return parse_unverified(text), False, getattr(exc, "message_vi", None)


def module_count(text: str) -> int:
    return len(_marks.qr_matrix(text))
