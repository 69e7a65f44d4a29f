"""One-time answer codes: issued for one sheet, kept as a hash, used once, expiring, revocable."""
from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import audit
from ..errors import ServiceError
from ..models import AnswerCode, Evaluation, Member, User, utcnow
from ..permissions import can_write, require_write, scope_members

# no 0/O, 1/I/L: read aloud or copied from paper without doubt
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
LENGTH = 10  # 31**10: about 49 bits; guessing is also rate-limited
VALID_DAYS = 90


def normalise(code: object) -> str:
    """Upper case, separators and spaces dropped; look-alike letters read as the digits we print."""
    text = str(code or "").upper().translate(str.maketrans({"O": "0", "I": "1", "L": "1"}))
    return "".join(ch for ch in text if ch.isalnum())


def code_hash(code: object) -> str:
    return hashlib.sha256(normalise(code).encode()).hexdigest()


def display(code: str) -> str:
    """``ABCDE-FGHJK``: easy to read out and type."""
    return f"{code[:5]}-{code[5:]}"


def issue(sess: Session, user: User, ev: Evaluation, *, days: int = VALID_DAYS, commit: bool = True,
          source: str = "ui") -> str:
    """A new code for sheet ``ev`` (earlier unused codes of the sheet are revoked). Returns the code
    in clear, the only time it exists; audited."""
    require_write(sess, user, ev.member, "return", message="Bạn không có quyền cấp mã trả lời cho phiếu của đảng viên này.")
    if ev.status == "voided":
        raise ServiceError("sheet_voided", f"Phiếu số {ev.sheet_serial} đã bị hủy: không cấp mã trả lời.", status=409)
    now = utcnow()
    for old in sess.scalars(select(AnswerCode).where(AnswerCode.evaluation_id == ev.id, AnswerCode.used_at.is_(None),
                                                     AnswerCode.revoked_at.is_(None))):
        old.revoked_at = now
    code = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    row = AnswerCode(evaluation_id=ev.id, code_hash=code_hash(code), issued_by=user.id, issued_at=now,
                     expires_at=now + dt.timedelta(days=days))
    sess.add(row)
    sess.flush()
    audit.record(sess, "evaluation", ev, "answer_code_issued", None,
                 {"answer_code_id": row.id, "expires_at": row.expires_at.isoformat(timespec="seconds")},
                 user=user, source=source, source_ref=f"Mã trả lời trực tuyến phiếu số {ev.sheet_serial}",
                 member_id=ev.member_id)
    if commit:
        sess.commit()
    return code


def sheets_of_cell(sess: Session, user: User, cell_id: int, year: int) -> list[Evaluation]:
    """The live sheets of ``year`` of the members of residence cell ``cell_id`` that ``user`` may write
    the return of, not yet returned, by name."""
    stmt = scope_members(sess, user, select(Member.id)).where(Member.residence_cell_id == cell_id)
    rows = sess.scalars(select(Evaluation).join(Member, Member.id == Evaluation.member_id)
                        .where(Evaluation.member_id.in_(stmt), Evaluation.year == year,
                               Evaluation.status == "issued").order_by(Member.search_name)).all()
    return [ev for ev in rows if can_write(sess, user, ev.member, "return")]


def issue_for_cell(sess: Session, user: User, cell_id: int, year: int) -> list[tuple[Evaluation, str]]:
    """A new code for every sheet of the cell not yet returned (all or nothing): [(sheet, code)]."""
    out = [(ev, issue(sess, user, ev, commit=False)) for ev in sheets_of_cell(sess, user, cell_id, year)]
    if not out:
        raise ServiceError("no_open_sheets", f"Không có phiếu nhận xét năm {year} nào chưa trả lời của chi bộ này "
                                             "trong phạm vi của đồng chí.", {"field": "cell_id"})
    sess.commit()
    return out


def revoke(sess: Session, user: User, row: AnswerCode) -> None:
    require_write(sess, user, row.evaluation.member, "return",
                  message="Bạn không có quyền thu hồi mã trả lời của phiếu này.")
    if row.used_at is not None or row.revoked_at is not None:
        raise ServiceError("code_closed", "Mã này đã được dùng hoặc đã thu hồi.", status=409)
    row.revoked_at = utcnow()
    audit.record(sess, "evaluation", row.evaluation, "answer_code_revoked", {"answer_code_id": row.id}, None,
                 user=user, source="ui", source_ref=f"Mã trả lời trực tuyến phiếu số {row.evaluation.sheet_serial}",
                 member_id=row.evaluation.member_id)
    sess.commit()


BAD_CODE = "Số phiếu hoặc mã trả lời không đúng. Kiểm tra lại số phiếu và mã in trong công văn gửi kèm phiếu."


def check(sess: Session, serial: object, code: object) -> AnswerCode:
    """The live code row for sheet ``serial`` and ``code``; one message for every wrong pair (it names
    neither which part was wrong nor whether the sheet exists)."""
    serial = str(serial or "").strip().upper()
    row = sess.scalar(select(AnswerCode).where(AnswerCode.code_hash == code_hash(code))) if normalise(code) else None
    if row is None or row.evaluation.sheet_serial != serial:
        raise ServiceError("bad_answer_code", BAD_CODE, {"field": "code"})
    if row.revoked_at is not None:
        raise ServiceError("answer_code_revoked", "Mã trả lời này đã bị thu hồi (đã cấp mã mới hoặc phiếu đã được "
                                                  "thay). Liên hệ đảng ủy nơi đảng viên công tác.", status=409)
    if row.used_at is not None:
        raise ServiceError("answer_code_used", f"Mã trả lời này đã được dùng lúc {row.used_at:%H:%M ngày %d/%m/%Y}: "
                                               "phiếu đã được gửi.", status=409)
    if row.expires_at < utcnow():
        raise ServiceError("answer_code_expired", f"Mã trả lời đã hết hạn ngày {row.expires_at:%d/%m/%Y}. "
                                                  "Liên hệ đảng ủy nơi đảng viên công tác để được cấp mã mới.",
                           status=409)
    if row.evaluation.status == "voided":
        raise ServiceError("sheet_voided", f"Phiếu số {serial} đã bị hủy và thay bằng phiếu khác.", status=409)
    return row


def codes_of(sess: Session, ev: Evaluation) -> list[AnswerCode]:
    return list(sess.scalars(select(AnswerCode).where(AnswerCode.evaluation_id == ev.id).order_by(AnswerCode.id.desc())))


def live_code(sess: Session, code_id: Optional[int], ev: Evaluation) -> Optional[AnswerCode]:
    """The code held in a browser session for ``ev``, if still usable."""
    row = sess.get(AnswerCode, code_id) if code_id else None
    if row is None or ev.status == "voided" or row.evaluation_id != ev.id or row.used_at or row.revoked_at or row.expires_at < utcnow():
        return None
    return row
