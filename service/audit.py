"""Audit log of every change to a member's record."""
from __future__ import annotations

from typing import Any, Optional

from sqlalchemy.orm import Session

from .models import AuditEntry, Member


def record(sess: Session, member: Member, action: str, before: Optional[dict[str, Any]], *,
           user_id: Optional[int], source: str, source_ref: Optional[str] = None) -> Optional[AuditEntry]:
    """Add an audit entry for ``member`` (call after the change, before commit).

    ``before`` is ``member.snapshot()`` taken before the change (None on create).
    An update that changed nothing adds no entry.
    """
    sess.flush()
    after = member.snapshot() if action != "delete" else None
    if action == "update" and before == after:
        return None
    entry = AuditEntry(member_id=member.id, action=action, user_id=user_id, source=source,
                       source_ref=source_ref, before=before, after=after)
    sess.add(entry)
    return entry
