"""Machine-readable marks printed on evaluation sheets: drawing only.

* A QR code (error correction level H) of the signed payload made by
  :mod:`forms.qrpayload` (the one codec: make, sign, parse, verify).
  The QR sits in the title row of the sheet (top left).
* Four solid black squares at the corners of the printed area (in the
  header and footer of the template) so a scan can be deskewed and scaled.
  Their size, the QR's printed size and quiet zone and the tick-box size are
  data of the form definition (``FormDefinition.marks``), not constants here.
* The sheet serial printed in small text next to the title.
"""
from __future__ import annotations

import struct
import zlib

import segno

QR_MASK = 0  # fixed mask: skips segno's slow best-mask search (any mask is valid)
QR_ERROR = "h"


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
