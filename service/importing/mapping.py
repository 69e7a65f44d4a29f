"""Column mappings remembered per organisation: the next list with the same headers gets the
mapping the secretary confirmed last time."""
from __future__ import annotations

from typing import Callable, Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import ImportMapping, Organisation, User


def organisation_key(user: Optional[User]) -> str:
    return f"org:{user.organisation_id}" if user is not None and user.organisation_id else "all"


def recall_for(sess: Session, user: Optional[User]) -> Callable[[str], Optional[dict[str, str]]]:
    """signature -> the mapping saved for it by the user's organisation (header key -> field)."""
    key = organisation_key(user)

    def recall(signature: str) -> Optional[dict[str, str]]:
        saved = sess.scalar(select(ImportMapping).where(ImportMapping.organisation_key == key,
                                                        ImportMapping.signature == signature))
        return dict(saved.mapping) if saved is not None else None
    return recall


def remember(sess: Session, user: Optional[User], preview: dict) -> None:
    """Save the mapping of a confirmed preview for the user's organisation (no commit)."""
    signature = preview.get("signature")
    columns = preview.get("all_columns") or []
    if not signature or not columns:
        return
    mapping = {c["key"]: c.get("field") or "" for c in columns if c.get("key")}
    key = organisation_key(user)
    saved = sess.scalar(select(ImportMapping).where(ImportMapping.organisation_key == key,
                                                    ImportMapping.signature == signature))
    if saved is None:
        saved = ImportMapping(organisation_key=key, signature=signature)
        sess.add(saved)
    saved.mapping = mapping
    saved.updated_by = user.id if user is not None else None


def org_kinds(sess: Session) -> dict[str, str]:
    """organisation name key -> kind, for recognising a column by the organisations it names."""
    from .orgnames import core_key
    return {core_key(name): kind for name, kind in sess.execute(select(Organisation.name, Organisation.kind))}
