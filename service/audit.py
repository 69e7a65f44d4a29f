"""The audit log: every change to any record, append-only, with a hash chain.

One way to record a change, from pages, the API, jobs and the CLI alike::

    audit.record(sess, "member", member, "update", before, member.snapshot(), user=user)

Call it after the change and before the commit, in the same transaction: the entry is written
only if the change is. ``before`` / ``after`` are plain dicts (never password hashes or secrets).

The chain: each entry stores ``prev_hash`` (the previous entry's ``entry_hash``) and its own
``entry_hash`` = SHA-256 of its content and ``prev_hash``. Appends are serialised (PostgreSQL:
a transaction-level advisory lock; SQLite: the database write lock, taken before reading the last
entry), so two writers cannot fork the chain; ids are given under that lock, one after another.
Triggers (migration 0006) refuse UPDATE and DELETE on the table, so the application cannot change
an entry either. ``verify`` walks the chain (``noicutru audit-verify``).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Optional, Union

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from .models import AuditEntry, User, utcnow

GENESIS = "0" * 64

# The triggers that make the table append-only on SQLite (created by migration 0006); a restore, which
# replaces every table at once, lifts and puts them back inside its one transaction.
SQLITE_APPEND_ONLY_TRIGGERS = {
    f"audit_log_no_{event.lower()}": f"CREATE TRIGGER audit_log_no_{event.lower()} BEFORE {event} ON audit_log "
                                      f"BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: {event} refused'); END"
    for event in ("UPDATE", "DELETE")}
CHAIN_LOCK = 213_0013  # PostgreSQL advisory lock key of the audit chain
HASHED = ("id", "at", "entity_kind", "entity_id", "member_id", "action", "user_id", "job_id", "source",
          "source_ref", "before", "after")


def plain(value: Any) -> Any:
    """``value`` as it reads back from a JSON column (dates as ISO text, tuples as lists, keys as text)."""
    if value is None:
        return None
    return json.loads(json.dumps(value, default=_iso, ensure_ascii=False))


def _iso(value: Any) -> str:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return str(value)


def content_hash(row: Mapping[str, Any], prev_hash: str) -> str:
    """The hash of one entry's content and the previous entry's hash (what ``entry_hash`` holds)."""
    doc = {k: row.get(k) for k in HASHED}
    at = doc["at"]
    doc["at"] = at.isoformat(timespec="microseconds") if isinstance(at, dt.datetime) else at
    doc["prev_hash"] = prev_hash
    data = json.dumps(doc, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=_iso)
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


def _row(entry: AuditEntry) -> dict[str, Any]:
    return {k: getattr(entry, k) for k in HASHED}


def _default_source() -> str:
    from flask import has_request_context, request
    if has_request_context():
        return "api" if request.path.startswith("/api/") else "ui"
    return "cli"


def _lock_chain(sess: Session) -> None:
    """Take the chain's lock for the rest of the transaction (see the module docstring)."""
    if sess.get_bind().dialect.name == "postgresql":
        sess.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHAIN_LOCK})
    else:  # any write statement makes SQLite take its write lock (waiting for busy_timeout)
        sess.execute(text("DELETE FROM audit_log WHERE 0 = 1"))


def record(sess: Session, kind: str, entity: Any, action: str, before: Optional[Mapping[str, Any]],
           after: Optional[Mapping[str, Any]], *, user: Union[User, int, None] = None, job_id: Optional[int] = None,
           source: Optional[str] = None, source_ref: Optional[str] = None,
           member_id: Optional[int] = None) -> Optional[AuditEntry]:
    """Append an audit entry for a change of ``entity`` (an object with ``id``, or an id) of ``kind``.

    ``user`` is who made the change (for a job: the user who asked for it, with ``job_id``).
    ``member_id`` (the member the change concerns, for the member's history) defaults to the
    entity itself for ``kind == "member"``, else to ``entity.member_id`` when it has one.
    An update that changed nothing adds no entry (returns None).
    """
    sess.flush()  # the entity has its id
    before, after = plain(dict(before) if before is not None else None), plain(dict(after) if after is not None else None)
    if action == "update" and before == after:
        return None
    entity_id = entity if isinstance(entity, int) or entity is None else getattr(entity, "id", None)
    if member_id is None:
        member_id = entity_id if kind == "member" else getattr(entity, "member_id", None)
    _lock_chain(sess)
    last = sess.execute(select(AuditEntry.id, AuditEntry.entry_hash).order_by(AuditEntry.id.desc()).limit(1)).first()
    entry = AuditEntry(id=(last.id + 1) if last else 1, entity_kind=kind, entity_id=entity_id, member_id=member_id,
                       action=action, user_id=user.id if isinstance(user, User) else user, job_id=job_id,
                       source=source or ("job" if job_id else _default_source()), source_ref=(source_ref or None) and source_ref[:255],
                       before=before, after=after, at=utcnow(), prev_hash=last.entry_hash if last else GENESIS)
    entry.entry_hash = content_hash(_row(entry), entry.prev_hash)
    sess.add(entry)
    sess.flush()
    return entry


@dataclass
class ChainReport:
    ok: bool
    count: int  # entries checked (all of them when ok)
    broken: Optional[AuditEntry] = None  # the first entry whose link or content does not match
    reason: str = ""


def verify_rows(rows: Iterable[AuditEntry]) -> ChainReport:
    prev, n = GENESIS, 0
    for entry in rows:
        if entry.prev_hash != prev:
            return ChainReport(False, n, entry, "prev_hash")
        if content_hash(_row(entry), prev) != entry.entry_hash:
            return ChainReport(False, n, entry, "content")
        prev, n = entry.entry_hash, n + 1
    return ChainReport(True, n)


def verify(sess: Session) -> ChainReport:
    """Walk the whole chain in id order; the first broken link is reported."""
    return verify_rows(sess.scalars(select(AuditEntry).order_by(AuditEntry.id).execution_options(yield_per=1000)))
