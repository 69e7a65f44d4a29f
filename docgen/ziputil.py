"""A minimal ZIP writer that can copy pre-compressed members unchanged.

The bulk renderer writes thousands of .docx files that differ from the
template only in ``word/document.xml`` (and a few image parts).  Python's
``zipfile`` always recompresses; this writer stores each constant member's
deflated bytes once and re-emits them byte for byte.
"""
from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

_LOCAL = struct.Struct("<IHHHHHIIIHH")
_CENTRAL = struct.Struct("<IHHHHHHIIIHHHHHII")
_EOCD = struct.Struct("<IHHHHIIH")
UTF8_FLAG = 0x800
STORED, DEFLATED = 0, 8
# 2026-01-01 00:00:00 in DOS format
DOS_TIME = 0
DOS_DATE = ((2026 - 1980) << 9) | (1 << 5) | 1


@dataclass(frozen=True)
class RawEntry:
    name: bytes
    flags: int
    method: int
    crc: int
    csize: int
    usize: int
    data: bytes


def make_entry(name: str, data: bytes, *, level: int = 6) -> RawEntry:
    """Compress ``data`` (raw deflate) into an entry ready to be written."""
    try:
        bname, flags = name.encode("ascii"), 0
    except UnicodeEncodeError:
        bname, flags = name.encode("utf-8"), UTF8_FLAG
    if level == 0 or not data:
        return RawEntry(bname, flags, STORED, zlib.crc32(data), len(data), len(data), data)
    co = zlib.compressobj(level, zlib.DEFLATED, -15)
    comp = co.compress(data) + co.flush()
    return RawEntry(bname, flags, DEFLATED, zlib.crc32(data), len(comp), len(data), comp)


def write_zip(entries: list[RawEntry]) -> bytes:
    """Serialize entries into a complete ZIP archive (no ZIP64; < 4 GiB)."""
    chunks: list[bytes] = []
    central: list[bytes] = []
    offset = 0
    for e in entries:
        header = _LOCAL.pack(0x04034B50, 20, e.flags, e.method, DOS_TIME, DOS_DATE,
                             e.crc, e.csize, e.usize, len(e.name), 0)
        central.append(_CENTRAL.pack(0x02014B50, 20, 20, e.flags, e.method, DOS_TIME, DOS_DATE,
                                     e.crc, e.csize, e.usize, len(e.name), 0, 0, 0, 0,
                                     0o644 << 16, offset) + e.name)
        chunks += (header, e.name, e.data)
        offset += len(header) + len(e.name) + len(e.data)
    cd = b"".join(central)
    chunks.append(cd)
    chunks.append(_EOCD.pack(0x06054B50, 0, 0, len(entries), len(entries), len(cd), offset, 0))
    return b"".join(chunks)
