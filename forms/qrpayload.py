"""The signed QR payload of printed sheets: make, sign, parse, verify (the one codec).

docgen signs the payload and draws it; ocr decodes the picture and hands the
text here.  Nothing else splits a payload.

Current format (version 2, carries the id of the key that signed it)::

    NC2:K3F:ES:1:2026-000123-1:4521:2026:<26 base32 chars>

(prefix : key id : kind code : template version : sheet serial : member id : year : MAC).

Legacy format (version 1, sheets printed before key ids; still verified with
the key of id :data:`LEGACY_KID`)::

    NCT1:ES:1:2026-000123:4521:2026:<26 base32 chars>

The MAC is HMAC-SHA256 over everything before the last ``:`` (so the key id
is covered too), truncated to 16 bytes, base32 without padding.  Kind codes
come from the form definitions (``FormDefinition.kind_code``; the version 1
files' codes are :data:`forms.definition.LEGACY_KIND_CODES`: ES, IL, ER); a
kind without a code is written in full.

Previews carry a payload signed with a throwaway secret under the reserved key
id :data:`PREVIEW_KID`: it decodes, but :func:`verify` always refuses it.  Fields may not contain ``:``, ``|`` or
control characters.  With digits, upper-case letters and ``-`` the payload is
in the QR alphanumeric set (a version 5 code at level H for usual serials).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, field
from typing import Iterable, Mapping, Optional, Union
from urllib.parse import parse_qs, quote, urlsplit

from .definition import LEGACY_KIND_CODES

PREFIX = "NC2"
LEGACY_PREFIX = "NCT1"
LEGACY_KID = "legacy"  # never valid inside a version 2 payload (ids there are upper case)
SEP = ":"
LINK_PARAM = "c"  # the payload inside a link (see as_link)
CODE_KINDS = {v: k for k, v in LEGACY_KIND_CODES.items()}  # codes read when the caller names none
PREVIEW_KID = "PRV"  # never issued (see new_kid); verify refuses it whatever the keys
MAC_BYTES = 16
MAC_LEN = 26  # base32 of 16 bytes, padding removed
KID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
KID_LEN = 3

_FIELD_RE = re.compile(r"^[^:|\x00-\x1f\x7f]{1,64}$")
_KIND_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_KID_RE = re.compile(r"^[A-Z2-7]{%d}$" % KID_LEN)


class InvalidPayloadError(ValueError):
    """A scanned payload is not ours, is malformed, names an unknown key or has a wrong MAC.

    ``code``: not_ours | malformed | unknown_key | bad_signature;
    ``message_vi``: what to tell the user.
    """

    def __init__(self, code: str, message: str, message_vi: str):
        super().__init__(message)
        self.code = code
        self.message_vi = message_vi


@dataclass(frozen=True)
class SigningKey:
    """A QR signing key: its id (printed in the payload) and its secret (never printed)."""

    kid: str
    secret: bytes = field(repr=False)

    def __post_init__(self):
        if not (self.kid == LEGACY_KID or _KID_RE.match(self.kid or "")):
            raise ValueError(f"bad key id {self.kid!r}")
        if not isinstance(self.secret, (bytes, bytearray)) or len(self.secret) < 16:
            raise ValueError("a QR signing key must be at least 16 bytes")


def new_kid() -> str:
    while True:
        kid = "".join(secrets.choice(KID_ALPHABET) for _ in range(KID_LEN))
        if kid != PREVIEW_KID:
            return kid


def new_secret() -> bytes:
    return secrets.token_bytes(32)


def legacy_key(secret: Union[bytes, str]) -> SigningKey:
    """The key of sheets printed before key ids (payloads without a key id)."""
    return SigningKey(LEGACY_KID, secret.encode("utf-8") if isinstance(secret, str) else bytes(secret))


class Keyring:
    """The keys a verifier accepts, by id, and the current one that signs new sheets."""

    def __init__(self, keys: Iterable[SigningKey], current: Optional[str] = None):
        self.keys = {k.kid: k for k in keys}
        if current is not None and current not in self.keys:
            raise ValueError(f"current key {current!r} is not in the ring")
        self.current_kid = current

    @property
    def current(self) -> SigningKey:
        if self.current_kid is None:
            raise ValueError("no current QR signing key")
        return self.keys[self.current_kid]

    def get(self, kid: str) -> Optional[SigningKey]:
        return self.keys.get(kid)

    def __repr__(self) -> str:  # ids only: secrets never reach a log
        return f"Keyring(kids={sorted(self.keys)}, current={self.current_kid!r})"


KeyLike = Union[SigningKey, Keyring, bytes, str]


def as_signing_key(key: KeyLike) -> SigningKey:
    """A key to sign with: a SigningKey, a ring's current key, or bare bytes (= the legacy key)."""
    if isinstance(key, SigningKey):
        return key
    if isinstance(key, Keyring):
        return key.current
    return legacy_key(key)


def as_keyring(keys: KeyLike) -> Keyring:
    """Keys to verify with: a Keyring, one SigningKey, or bare bytes (= the legacy key)."""
    if isinstance(keys, Keyring):
        return keys
    key = as_signing_key(keys)
    return Keyring([key], key.kid)


@dataclass(frozen=True)
class Payload:
    """The fields of a sheet's QR code.  ``kid``: the key that signed it (LEGACY_KID for version 1)."""

    kind: str
    version: int
    sheet_serial: str
    member_id: str
    year: int
    kid: str = LEGACY_KID

    def as_dict(self) -> dict:
        return {"kind": self.kind, "version": self.version, "sheet_serial": self.sheet_serial,
                "member_id": self.member_id, "year": self.year, "kid": self.kid}


def _check(name: str, value) -> str:
    value = str(value)
    if not _FIELD_RE.match(value):
        raise ValueError(f"{name} must be 1-64 characters without ':', '|' or control characters: {value!r}")
    return value


def _body(p: Payload, kind_code: Optional[str] = None) -> str:
    if not _KIND_RE.match(p.kind):
        raise ValueError(f"bad form kind {p.kind!r}")
    if not isinstance(p.version, int) or isinstance(p.version, bool) or p.version < 1:
        raise ValueError(f"bad template version {p.version!r}")
    if not isinstance(p.year, int) or isinstance(p.year, bool) or not 1900 <= p.year <= 9999:
        raise ValueError(f"bad year {p.year!r}")
    if kind_code is not None and not re.match(r"^[A-Z][A-Z0-9]{1,3}$", kind_code):
        raise ValueError(f"bad kind code {kind_code!r}")
    code = kind_code or LEGACY_KIND_CODES.get(p.kind, p.kind)
    fields = [code, str(p.version), _check("sheet_serial", p.sheet_serial),
              _check("member_id", p.member_id), str(p.year)]
    head = [LEGACY_PREFIX] if p.kid == LEGACY_KID else [PREFIX, p.kid]
    return SEP.join(head + fields)


def _mac(body: str, secret: bytes) -> str:
    digest = hmac.new(secret, body.encode("utf-8"), hashlib.sha256).digest()[:MAC_BYTES]
    return base64.b32encode(digest).decode("ascii").rstrip("=")


def sign(kind: str, version: int, sheet_serial: str, member_id, year: int, key: KeyLike, *,
         kind_code: Optional[str] = None) -> str:
    """The signed payload text of a sheet, under ``key`` (a ring signs with its current key).

    ``kind_code``: the kind's code from its form definition (default: the version 1 codes).
    """
    k = as_signing_key(key)
    body = _body(Payload(kind, version, str(sheet_serial), str(member_id), year, k.kid), kind_code)
    return body + SEP + _mac(body, k.secret)


def as_link(payload: str, base: str) -> str:
    """The QR text as a link (``<base>?c=<payload>``) that a phone camera opens; still read as the payload."""
    return f"{base}?{LINK_PARAM}={quote(payload, safe='')}"


def _unlink(text: str) -> str:
    """The payload of a link made by :func:`as_link` (any other text unchanged)."""
    if not text.lower().startswith(("http://", "https://")):
        return text
    values = parse_qs(urlsplit(text.strip()).query).get(LINK_PARAM) or [""]
    return values[0]


def sign_for(definition, sheet_serial: str, member_id, year: int, key: KeyLike) -> str:
    """:func:`sign` for a form definition: its kind, version and kind code."""
    return sign(definition.kind, definition.version, sheet_serial, member_id, year, key,
                kind_code=definition.kind_code)


def preview_key() -> SigningKey:
    """A throwaway key under the reserved preview id: what it signs never verifies."""
    return SigningKey(PREVIEW_KID, new_secret())


def sign_preview(definition, sheet_serial: str, member_id, year: int) -> str:
    """The QR payload of a preview: well-formed, but refused by :func:`verify` (reserved key id)."""
    return sign_for(definition, sheet_serial, member_id, year, preview_key())


KindCodes = Optional[Mapping[str, str]]


def _split(text, kind_codes: KindCodes = None) -> tuple[Payload, str, str]:
    """(payload, signed body, MAC) of a text, or InvalidPayloadError.

    ``kind_codes``: {code: kind} of the known definitions (see :func:`forms.definition.kind_codes`);
    the version 1 codes are always known."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            text = None
    if isinstance(text, str):
        text = _unlink(text)
    parts = text.strip().split(SEP) if isinstance(text, str) else []
    if len(parts) == 8 and parts[0] == PREFIX:
        kid, fields = parts[1], parts[2:7]
        if not _KID_RE.match(kid):
            raise InvalidPayloadError("malformed", f"bad key id {kid!r}",
                                      "Mã QR có mã khóa không hợp lệ: phiếu bị sửa đổi hoặc không do hệ thống phát hành")
    elif len(parts) == 7 and parts[0] == LEGACY_PREFIX:
        kid, fields = LEGACY_KID, parts[1:6]
    else:
        raise InvalidPayloadError("not_ours", "not a noicutru sheet mark",
                                  "Mã QR không phải của phiếu do hệ thống phát hành")
    kind, version, serial, member_id, year = fields
    codes = dict(CODE_KINDS, **(kind_codes or {}))
    try:
        payload = Payload(codes.get(kind, kind), int(version), serial, member_id, int(year), kid)
    except ValueError:
        raise InvalidPayloadError("malformed", "malformed mark fields",
                                  "Mã QR có trường không hợp lệ: phiếu bị sửa đổi hoặc không do hệ thống phát hành") from None
    return payload, SEP.join(parts[:-1]), parts[-1]


def parse(text, kind_codes: KindCodes = None) -> Optional[Payload]:
    """The fields of a payload WITHOUT checking its MAC (None when it is not one of ours)."""
    try:
        return _split(text, kind_codes)[0]
    except InvalidPayloadError:
        return None


def verify(text, keys: KeyLike, kind_codes: KindCodes = None) -> Payload:
    """The fields of a payload whose MAC matches the key it names; else InvalidPayloadError."""
    payload, body, mac = _split(text, kind_codes)
    if payload.kid == PREVIEW_KID:
        raise InvalidPayloadError("preview", "mark of a preview (never valid)",
                                  "Mã QR của bản xem trước: bản xem trước không phải phiếu đã phát hành")
    key = as_keyring(keys).get(payload.kid)
    if key is None:
        raise InvalidPayloadError(
            "unknown_key", f"mark signed with unknown key id {payload.kid!r}",
            f"Mã QR được ký bằng khóa không có trong hệ thống (mã khóa {payload.kid}): phiếu không do hệ thống "
            "này phát hành hoặc khóa đã bị thu hồi")
    if len(mac) != MAC_LEN or not hmac.compare_digest(mac.encode("ascii", "replace"),
                                                     _mac(body, key.secret).encode("ascii")):
        raise InvalidPayloadError("bad_signature", "mark signature does not match (tampered or wrong key)",
                                  "Chữ ký của mã QR không khớp: phiếu bị sửa đổi hoặc không do hệ thống phát hành")
    return payload
