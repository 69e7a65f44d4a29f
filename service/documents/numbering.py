"""Document numbers per issuing organisation, kind and year: no gap, no duplicate.

The counter row is created if missing, then incremented with one UPDATE ... RETURNING
inside the caller's transaction. The row stays locked (PostgreSQL) or the database write
lock is held (SQLite) until that transaction ends, so concurrent issuers queue up, and a
transaction that fails gives its number back.
"""
from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from ..models import DocumentCounter


def next_number(sess: Session, organisation_id: int, kind: str, year: int) -> int:
    insert = pg_insert if sess.get_bind().dialect.name == "postgresql" else sqlite_insert
    sess.execute(insert(DocumentCounter).values(organisation_id=organisation_id, kind=kind, year=year, value=0)
                 .on_conflict_do_nothing(index_elements=["organisation_id", "kind", "year"]))
    return sess.execute(update(DocumentCounter)
                        .where(DocumentCounter.organisation_id == organisation_id, DocumentCounter.kind == kind,
                               DocumentCounter.year == year)
                        .values(value=DocumentCounter.value + 1)
                        .returning(DocumentCounter.value)).scalar_one()
