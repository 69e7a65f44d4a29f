"""The QR signing keys of the installation (table ``qr_signing_keys``), separate from the session secret.

* Every key has an id (``kid``) printed in the payloads it signs; the newest non-legacy key is
  the current one and signs new sheets; every key stays valid for verification.
* ``legacy``: the key every sheet was signed with before key ids (derived from the session
  secret, ``SECRET_KEY``).  It is copied into the table the first time this module runs, so
  sheets printed before keep verifying after the session secret changes.
* ``noicutru rotate-keys`` adds a new current key; ``noicutru revoke-key KID`` stops a key from
  signing and verifying (a leaked key), the row stays (see service/cli.py and the README).

Secrets never reach a log or a page: only key ids are printed.
"""
from __future__ import annotations

import hashlib
import hmac

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from forms import qrpayload

from . import audit, db
from .models import QrSigningKey, utcnow

LEGACY_DERIVATION = b"noicutru/sheet-qr/v1"


def legacy_secret(session_secret: str) -> bytes:
    """The key sheets were signed with before key ids: HMAC(session secret, a fixed label)."""
    return hmac.new(session_secret.encode(), LEGACY_DERIVATION, hashlib.sha256).digest()


def _rows(sess) -> list[QrSigningKey]:
    return list(sess.scalars(select(QrSigningKey).order_by(QrSigningKey.id)))


def _add(kid: str, secret: bytes) -> bool:
    """Insert a key in its own transaction; False when the id is taken already."""
    try:
        with db.new_session() as own:
            own.add(QrSigningKey(kid=kid, secret=secret, created_at=utcnow()))
    except IntegrityError:
        return False
    return True


def _add_new_key() -> str:
    while True:
        kid = qrpayload.new_kid()
        if _add(kid, qrpayload.new_secret()):
            return kid


def ensure() -> None:
    """First run: keep the legacy key (from the current session secret). Always: have a current key.

    The legacy key is added to an empty table only, so a revoked legacy key stays revoked.
    """
    with db.new_session() as sess:
        rows = _rows(sess)
    if not rows:
        _add(qrpayload.LEGACY_KID, legacy_secret(current_app.config["SECRET_KEY"]))
    if not [r for r in rows if r.kid != qrpayload.LEGACY_KID and r.revoked_at is None]:
        _add_new_key()


def keyring() -> qrpayload.Keyring:
    """Every key of the installation; its current key signs new sheets."""
    ensure()
    with db.new_session() as sess:
        rows = _rows(sess)
    keys = [qrpayload.SigningKey(r.kid, bytes(r.secret)) for r in rows if r.revoked_at is None]
    current = [k.kid for k in keys if k.kid != qrpayload.LEGACY_KID][-1]
    return qrpayload.Keyring(keys, current)


def signing_key() -> qrpayload.SigningKey:
    """The key new sheets are signed with."""
    return keyring().current


def rotate() -> str:
    """Make a new current key (older ones keep verifying); returns its id. Audited (the id, never the secret)."""
    ensure()
    kid = _add_new_key()
    with db.new_session() as sess:
        row = sess.scalar(select(QrSigningKey).where(QrSigningKey.kid == kid))
        audit.record(sess, "qr_key", row, "rotate", None, {"kid": kid})
    return kid


def revoke(kid: str) -> bool:
    """Stop the key ``kid`` from signing and verifying; False when there is no such live key."""
    with db.new_session() as sess:
        row = sess.scalar(select(QrSigningKey).where(QrSigningKey.kid == kid, QrSigningKey.revoked_at.is_(None)))
        if row is None:
            return False
        row.revoked_at = utcnow()
        audit.record(sess, "qr_key", row, "revoke", {"kid": kid, "revoked": False}, {"kid": kid, "revoked": True})
    ensure()  # the current key was revoked: a new one signs from now on
    return True
