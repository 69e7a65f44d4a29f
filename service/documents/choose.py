"""Choosing members for a bulk generation as a person does: by full name or card number (never by
internal id), and the organisations in tree order (a committee, then its cells)."""
from __future__ import annotations

import re
from typing import Iterable

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ..errors import ServiceError
from ..members.fields import ValueProblem, card_spellings, parse_card
from ..models import Member, Organisation, User
from ..permissions import scope_members
from ..text import clean, join_clauses, search_key, vi_collation_key

_SPLIT = re.compile(r"[\n;,]+")


def entries(text: str) -> list[str]:
    """One member per line (commas and semicolons also separate)."""
    return [e for e in (clean(part) for part in _SPLIT.split(text or "")) if e]


def _card(entry: str):
    if not re.fullmatch(r"[\d. ]+", entry):
        return None
    try:
        return parse_card(entry.replace(" ", ""))
    except ValueProblem:
        return None


def members_named(sess: Session, user: User, text: str) -> list[int]:
    """The ids of the members written in ``text`` (full names or card numbers), within the user's scope.
    400 ``unknown_members`` naming every entry found nowhere or matching several people (with their card
    numbers and dates of birth, so that the person can write the card number instead)."""
    ids: list[int] = []
    problems: list[str] = []
    for entry in entries(text):
        card = _card(entry)
        stmt = scope_members(sess, user, select(Member))
        if card:
            stmt = stmt.where(Member.card_number.in_(card_spellings(card)))
        else:
            stmt = stmt.where(or_(Member.search_name == search_key(entry)))
        found = sess.scalars(stmt.order_by(Member.sort_name, Member.id).limit(6)).all()
        if not found:
            problems.append(f"«{entry}»: không có đảng viên nào có {'số thẻ' if card else 'họ tên'} này trong "
                            "phạm vi của bạn")
        elif len(found) > 1:
            who = "; ".join(f"số thẻ {m.card_number or 'chưa có'}"
                            + (f", sinh {m.date_of_birth:%d/%m/%Y}" if m.date_of_birth else "") for m in found)
            problems.append(f"«{entry}»: có {len(found)} người cùng họ tên ({who}): hãy ghi số thẻ")
        elif found[0].id not in ids:
            ids.append(found[0].id)
    if problems:
        raise ServiceError("unknown_members", "Không xác định được đảng viên: " + join_clauses(problems),
                           {"field": "members"})
    return ids


def tree_order(orgs: Iterable[Organisation]) -> list[tuple[Organisation, int]]:
    """Organisations with their depth, each followed by its children (Vietnamese order among siblings)."""
    orgs = list(orgs)
    ids = {o.id for o in orgs}
    children: dict = {}
    for o in orgs:
        children.setdefault(o.parent_id if o.parent_id in ids else None, []).append(o)
    out: list[tuple[Organisation, int]] = []

    def visit(parent, depth):
        for o in sorted(children.get(parent, []), key=lambda o: vi_collation_key(o.name)):
            out.append((o, depth))
            visit(o.id, depth + 1)
    visit(None, 0)
    return out
