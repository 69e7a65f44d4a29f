"""Machine-readable marks printed on evaluation sheets.

* A QR code (error correction level H) carrying the form kind, template
  version, sheet serial, member id and year, signed with HMAC-SHA256
  (truncated to 16 bytes, base32 without padding) under a secret key.
  The QR sits in the title row of the sheet (top left).
* Four solid black 5 mm squares at the corners of the printed area (in the
  header and footer of the template) so a scan can be deskewed and scaled.
* The sheet serial printed in small text next to the title.

Payload format (ASCII/UTF-8, ``|``-separated, 7 fields)::

    NCT1:ES:1:2026-000123:4521:2026:<26 base32 chars>

(prefix : kind code : template version : sheet serial : member id : year : MAC).
Kind codes: ES = evaluation_sheet, IL = introduction_letter, ER =
evaluation_request; an unknown kind is written in full.  The MAC covers
everything before the last ``:``.  The fields may not contain ``:`` or
control characters.  With digits, upper-case letters and ``-`` in the
serial and member id the whole payload is in the QR alphanumeric set, so the
code is a version 5 (37x37 modules) at level H.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import io
import re
import struct
import zlib

import segno

from .errors import InvalidMarkError

PREFIX = "NCT1"
# Short codes keep the QR small (version 7 at level H for typical payloads).
KIND_CODES = {"evaluation_sheet": "ES", "introduction_letter": "IL", "evaluation_request": "ER"}
CODE_KINDS = {v: k for k, v in KIND_CODES.items()}
QR_MASK = 0  # fixed mask: skips segno's slow best-mask search (any mask is valid)
SEP = ":"  # in the QR alphanumeric set: with upper-case ids the code stays version 5
MAC_BYTES = 16
MAC_LEN = 26  # base32 of 16 bytes, padding removed
QR_ERROR = "h"

_FIELD_RE = re.compile(r"^[^:|\x00-\x1f\x7f]{1,64}$")
_KIND_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


def _key_bytes(key: bytes | str) -> bytes:
    if isinstance(key, str):
        key = key.encode("utf-8")
    if not isinstance(key, (bytes, bytearray)) or len(key) < 16:
        raise ValueError("mark key must be at least 16 bytes")
    return bytes(key)


def _check(name: str, value: str) -> str:
    value = str(value)
    if not _FIELD_RE.match(value):
        raise ValueError(f"{name} must be 1-64 characters without ':', '|' or control characters: {value!r}")
    return value


def make_payload(kind: str, version: int, sheet_serial: str, member_id: str | int, year: int) -> str:
    """The unsigned payload body (everything but the MAC)."""
    if not _KIND_RE.match(kind):
        raise ValueError(f"bad form kind {kind!r}")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ValueError(f"bad template version {version!r}")
    if not isinstance(year, int) or isinstance(year, bool) or not 1900 <= year <= 9999:
        raise ValueError(f"bad year {year!r}")
    return SEP.join([PREFIX, KIND_CODES.get(kind, kind), str(version), _check("sheet_serial", sheet_serial),
                     _check("member_id", member_id), str(year)])


def _mac(body: str, key: bytes | str) -> str:
    digest = hmac.new(_key_bytes(key), body.encode("utf-8"), hashlib.sha256).digest()[:MAC_BYTES]
    return base64.b32encode(digest).decode("ascii").rstrip("=")


def sign(payload: str, key: bytes | str) -> str:
    """Append the MAC to an unsigned payload body."""
    return payload + SEP + _mac(payload, key)


def make_signed_payload(kind: str, version: int, sheet_serial: str, member_id: str | int,
                        year: int, key: bytes | str) -> str:
    return sign(make_payload(kind, version, sheet_serial, member_id, year), key)


def verify(payload_str: str, key: bytes | str) -> dict:
    """Check a scanned payload; return its fields or raise InvalidMarkError."""
    if isinstance(payload_str, bytes):
        try:
            payload_str = payload_str.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidMarkError("payload is not UTF-8") from None
    parts = payload_str.strip().split(SEP) if isinstance(payload_str, str) else []
    if len(parts) != 7 or parts[0] != PREFIX:
        raise InvalidMarkError("not a noicutru sheet mark",
                               "Mã QR không phải của phiếu do hệ thống phát hành")
    body, mac = SEP.join(parts[:6]), parts[6]
    expected = _mac(body, key)
    if len(mac) != MAC_LEN or not hmac.compare_digest(mac.encode("ascii", "replace"), expected.encode("ascii")):
        raise InvalidMarkError("mark signature does not match (tampered or wrong key)",
                               "Chữ ký của mã QR không khớp: phiếu bị sửa đổi hoặc không do hệ thống phát hành")
    _, kind, version, serial, member_id, year = parts[:6]
    kind = CODE_KINDS.get(kind, kind)
    try:
        return {"kind": kind, "version": int(version), "sheet_serial": serial,
                "member_id": member_id, "year": int(year)}
    except ValueError:
        raise InvalidMarkError("malformed mark fields") from None


def _segno_matrix(payload: str, version: int | None = None):
    return segno.make(payload, error=QR_ERROR, boost_error=False, mask=QR_MASK, version=version).matrix


class _FastQR:
    """QR matrices without segno's per-code placement and masking loops.

    With a fixed version, level and mask, a QR matrix is a constant part
    (finder, timing, alignment, format/version info, masked zeros) XOR the
    codeword bits at fixed positions.  Both are learnt once per version from
    segno itself; per payload only segno's codeword generation (incl.
    Reed-Solomon) runs.  Uses segno internals, so every version's layout is
    checked against ``segno.make`` on first use and the class falls back to
    segno on any difference or error.
    """

    def __init__(self):
        self._layouts: dict[int, tuple] = {}
        self.disabled = False

    @staticmethod
    def _codeword_bits(payload: str):
        from segno import consts as C, encoder as E
        segments = E.prepare_data(payload, None, None)
        error = C.ERROR_LEVEL_H
        version = E.find_version(segments, error, eci=False, micro=False)
        buff = E.Buffer()
        ver_range = E.version_range(version)
        for seg in segments:
            E.write_segment(buff, seg, None, ver_range, False)
        capacity = C.SYMBOL_CAPACITY[version][error]
        E.write_terminator(buff, capacity, None, len(buff))
        E.write_padding_bits(buff, version, len(buff))
        E.write_pad_codewords(buff, version, capacity, len(buff))
        return version, E.make_final_message(version, error, buff).getbits()

    @staticmethod
    def _positions(version: int, nbits: int):
        from segno import encoder as E
        width = E.calc_matrix_size(version)

        def placed(values):
            m = E.make_matrix(width, width)
            E.add_finder_patterns(m, width, width)
            E.add_alignment_patterns(m, width, width)
            E.add_codewords(m, values, version)
            return m
        lo = placed(bytearray(3 + k % 250 for k in range(nbits)))
        hi = placed(bytearray(3 + k // 250 for k in range(nbits)))
        pos = [None] * nbits
        for i in range(width):
            for j in range(width):
                if lo[i][j] >= 3:
                    pos[(hi[i][j] - 3) * 250 + lo[i][j] - 3] = (i, j)
        if any(p is None for p in pos):
            raise ValueError("incomplete layout")
        return pos

    def matrix(self, payload: str):
        version, bits = self._codeword_bits(payload)
        layout = self._layouts.get(version)
        if layout is None:
            positions = self._positions(version, len(bits))
            ref = [list(r) for r in _segno_matrix(payload, version)]
            base = [r[:] for r in ref]
            for (i, j), b in zip(positions, bits):
                base[i][j] ^= b
            layout = self._layouts[version] = (base, positions)
            if self._place(layout, bits) != ref:
                raise ValueError("fast QR layout differs from segno")
        return self._place(layout, bits)

    @staticmethod
    def _place(layout, bits):
        base, positions = layout
        m = [r[:] for r in base]
        for (i, j), b in zip(positions, bits):
            if b:
                m[i][j] ^= 1
        return m


_FAST = _FastQR()


def qr_matrix(payload: str) -> list[list[int]]:
    """Module matrix (1 = dark) of the QR code, level H, fixed mask."""
    if not _FAST.disabled:
        try:
            return _FAST.matrix(payload)
        except Exception:  # segno internals changed: use the public API from now on
            _FAST.disabled = True
    return [list(r) for r in _segno_matrix(payload)]


def qr_png(payload: str, *, scale: int = 8, border: int = 4) -> bytes:
    """1-bit PNG of the QR code (error correction H), ``scale`` px per module.

    Written directly with zlib (segno's PNG writer is ~3 ms per code).
    """
    matrix = qr_matrix(payload)
    n = len(matrix) + 2 * border
    width = n * scale
    quiet_row = b"\x00" + _pack_bits("0" * width)
    lines = [quiet_row] * (border * scale)
    pad = "0" * (border * scale)
    on, off = "1" * scale, "0" * scale
    for row in matrix:
        bits = pad + "".join([on if v else off for v in row]) + pad
        line = b"\x00" + _pack_bits(bits)
        lines.extend([line] * scale)
    lines.extend([quiet_row] * (border * scale))
    raw = b"".join(lines)
    ihdr = struct.pack(">IIBBBBB", width, width, 1, 0, 0, 0, 0)
    return b"".join([b"\x89PNG\r\n\x1a\n", _chunk(b"IHDR", ihdr),
                     _chunk(b"IDAT", zlib.compress(raw, 6)), _chunk(b"IEND", b"")])


def _pack_bits(bits: str) -> bytes:
    """'1' = dark module -> PNG grayscale bit 0 (black); pad to whole bytes."""
    bits = bits + "0" * (-len(bits) % 8)
    inverted = bits.translate(_INVERT)
    return int(inverted, 2).to_bytes(len(bits) // 8, "big")


_INVERT = str.maketrans("01", "10")


def _chunk(tag: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))


def blank_png(size: int = 8) -> bytes:
    """A white square: what an optional QR's picture becomes when the document carries no code."""
    import io

    from PIL import Image
    out = io.BytesIO()
    Image.new("L", (size, size), 255).save(out, "PNG")
    return out.getvalue()
