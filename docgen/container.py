"""The one check every uploaded zip container (.xlsx, .docx) passes BEFORE any parser opens it.

``check_container(data, label=..., limits=...)`` reads the central directory and the
start of each member (never a whole member) and raises :class:`ContainerError` on
the first problem.  Each problem has a stable ``code``:

=======================  ==========================================================
zip_invalid              not a zip file, or a member that cannot be read
zip_too_many_members     more members than ``limits.max_members``
zip_member_too_large     one member larger (uncompressed) than ``limits.max_member``
zip_too_large            all members together larger than ``limits.max_total``
zip_ratio                a member compressed more than ``limits.max_ratio`` times
zip_nested               a member that is itself a zip archive
zip_bad_name             an absolute path, a ``..`` part, a drive letter or a control
                         character in a member name
zip_duplicate            two members with the same name (OOXML part names ignore case)
zip_encrypted            an encrypted member
zip_unsupported          a compression method other than stored or deflate
xml_dtd                  an XML part with a document type declaration (entities,
                         external references): OOXML never needs one
=======================  ==========================================================

Python's ``zipfile`` never inflates a member past the size the central directory
declares (it stops there and fails the CRC check), so the declared sizes checked here
bound what any later reader (openpyxl, python-docx, docxtpl) can decompress.
Knows nothing of Flask or the database; ``ocr/`` does not use it.
"""
from __future__ import annotations

import io
import re
import zipfile
import zlib
from dataclasses import dataclass
from xml.parsers import expat

from .errors import DocgenError

MB = 1024 * 1024
_XML_SUFFIXES = (".xml", ".rels", ".vml")
_XML_PROLOG_CHUNK = 64 * 1024
_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")
_DRIVE = re.compile(r"^[A-Za-z]:")


@dataclass(frozen=True)
class ContainerLimits:
    """Limits of one uploaded container; the defaults suit Office files a secretary makes."""
    max_members: int = 1000
    max_member: int = 20 * MB  # openpyxl keeps a workbook's shared strings in memory: this bounds them
    max_total: int = 100 * MB
    max_ratio: int = 200
    ratio_floor: int = 1 * MB  # the ratio is only checked for members bigger than this


DEFAULT_LIMITS = ContainerLimits()


class ContainerError(DocgenError):
    """An uploaded container refused before parsing: ``code``, the file's ``label`` and the ``member``."""

    def __init__(self, code: str, detail: str, message_vi: str, *, label: str, member: str | None = None):
        super().__init__(detail, message_vi)
        self.code = code
        self.label = label
        self.member = member

    def details(self) -> dict:
        return {"file_name": self.label, "member": self.member, "reason": str(self)}


def _mb(n: int) -> str:
    return f"{n / MB:.1f}".replace(".", ",") + " MB" if n >= MB else f"{max(1, round(n / 1024))} KB"


def _bad_name(name: str) -> bool:
    if not name or name.startswith(("/", "\\")) or _DRIVE.match(name):
        return True
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in name):
        return True
    return any(part in ("..", ".") for part in re.split(r"[/\\]", name))


def _has_doctype(fh) -> bool:
    """True when the XML in ``fh`` declares a DTD before its root element (read only up to there)."""
    parser = expat.ParserCreate()
    found: list[bool] = []

    class _Stop(Exception):
        pass

    def doctype(*_args):
        found.append(True)
        raise _Stop

    def root(*_args):
        raise _Stop

    parser.StartDoctypeDeclHandler = doctype
    parser.StartElementHandler = root
    try:
        while True:
            chunk = fh.read(_XML_PROLOG_CHUNK)
            parser.Parse(chunk, not chunk)
            if not chunk:
                break
    except _Stop:
        pass
    except expat.ExpatError:
        return False  # not well-formed: the real parser refuses it later with its own error
    return bool(found)


def check_container(data: bytes, *, label: str, limits: ContainerLimits = DEFAULT_LIMITS) -> list[zipfile.ZipInfo]:
    """Refuse a hostile or malformed zip container before it is parsed; return its members.

    ``label`` is the file's name as the user knows it; every message names it (and the member).
    """
    def fail(code: str, detail: str, message_vi: str, member: str | None = None):
        raise ContainerError(code, detail, message_vi, label=label, member=member)

    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError) as exc:
        fail("zip_invalid", f"not a zip archive: {exc}",
             f"Tệp «{label}» bị hỏng hoặc không phải tệp Office (.xlsx/.docx) hợp lệ.")
    if len(infos) > limits.max_members:
        fail("zip_too_many_members", f"{len(infos)} members > {limits.max_members}",
             f"Tệp «{label}» có {len(infos)} thành phần bên trong, vượt quá giới hạn {limits.max_members}: "
             "không được chấp nhận.")
    seen: dict[str, str] = {}
    total = 0
    for info in infos:
        name = info.filename
        if _bad_name(name):
            fail("zip_bad_name", f"unsafe member name {name!r}",
                 f"Tệp «{label}» có thành phần mang tên không hợp lệ «{name[:200]}» (đường dẫn tuyệt đối "
                 "hoặc có “..”): không được chấp nhận.", name)
        key = name.replace("\\", "/").casefold()
        if key in seen:
            fail("zip_duplicate", f"duplicate member {name!r}",
                 f"Tệp «{label}» có hai thành phần trùng tên «{name}»: không được chấp nhận.", name)
        seen[key] = name
        if info.flag_bits & 0x1:
            fail("zip_encrypted", f"encrypted member {name!r}",
                 f"Tệp «{label}» có thành phần «{name}» được mã hóa bằng mật khẩu: hãy bỏ mật khẩu rồi tải lên lại.",
                 name)
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            fail("zip_unsupported", f"member {name!r} uses compression method {info.compress_type}",
                 f"Tệp «{label}» có thành phần «{name}» nén theo cách không được hỗ trợ: không được chấp nhận.",
                 name)
        if info.file_size > limits.max_member:
            fail("zip_member_too_large", f"member {name!r}: {info.file_size} bytes > {limits.max_member}",
                 f"Tệp «{label}» có thành phần «{name}» khi giải nén lớn {_mb(info.file_size)}, vượt quá giới hạn "
                 f"{_mb(limits.max_member)}: không được chấp nhận.", name)
        if info.file_size > limits.ratio_floor and info.file_size > limits.max_ratio * max(info.compress_size, 1):
            ratio = info.file_size / max(info.compress_size, 1)
            fail("zip_ratio", f"member {name!r}: compression ratio {ratio:.0f} > {limits.max_ratio}",
                 f"Tệp «{label}» có thành phần «{name}» bị nén bất thường (giải nén lớn gấp {ratio:.0f} lần, "
                 f"tối đa {limits.max_ratio} lần): có thể là “bom nén”, không được chấp nhận.", name)
        total += info.file_size
        if total > limits.max_total:
            fail("zip_too_large", f"more than {limits.max_total} bytes uncompressed",
                 f"Tệp «{label}» khi giải nén lớn hơn {_mb(limits.max_total)} (thành phần «{name}» vượt giới hạn): "
                 "không được chấp nhận.", name)
    for info in infos:
        name = info.filename
        if info.is_dir() or info.file_size == 0:
            continue
        try:
            with zf.open(info) as fh:
                head = fh.read(4)
            if head in _ZIP_MAGICS:
                fail("zip_nested", f"member {name!r} is a zip archive",
                     f"Tệp «{label}» chứa một tệp nén khác bên trong («{name}»): không được chấp nhận.", name)
            # XML by name or by content (a part may be named anything in the relationships)
            if name.lower().endswith(_XML_SUFFIXES) or head.lstrip().startswith(b"<") or head.startswith(_BOMS):
                with zf.open(info) as fh:
                    if _has_doctype(fh):
                        fail("xml_dtd", f"member {name!r} declares a DTD",
                             f"Tệp «{label}» có phần «{name}» chứa khai báo DTD/thực thể XML (cách tấn công "
                             "tệp XML): không được chấp nhận.", name)
        except ContainerError:
            raise
        except (zipfile.BadZipFile, zlib.error, OSError, EOFError, NotImplementedError, RuntimeError) as exc:
            fail("zip_invalid", f"member {name!r} unreadable: {exc}",
                 f"Tệp «{label}» bị hỏng: không đọc được thành phần «{name}».", name)
    return infos

