"""Import a generated list (tests/support/member_lists.py) and compare the registry with the people in it."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

from service import importing
from service.jobs.inprocess import run_pending
from service.models import Member, Organisation
from service.text import search_key

from .member_lists import Layout, Person, expected, render


def _ward_of(org: Organisation | None) -> str | None:
    while org is not None and org.kind != "ward_committee":
        org = org.parent
    return org.name if org else None


def _committee_of(org: Organisation | None) -> str | None:
    while org is not None and org.kind != "workplace_committee":
        org = org.parent
    return org.name if org else None


def import_layout(sess, user, layout: Layout, persons: list[Person]) -> dict:
    """Preview and (when nothing is rejected) apply; returns the preview."""
    batch = importing.preview_upload(sess, user, render(layout, persons), f"{layout.name}.xlsx")
    preview = batch.preview
    if batch.status == "previewed" and preview["summary"]["create"] + preview["summary"]["update"]:
        importing.confirm(sess, user, batch)
        run_pending()
        sess.expire_all()
    return preview


def compare(sess, layout: Layout, persons: list[Person]) -> dict[str, list[int]]:
    """field -> [right, total] over the persons of ``layout`` (a person not found counts as wrong everywhere)."""
    members = {m.card_number: m for m in sess.scalars(select(Member))}
    score: dict[str, list[int]] = {}
    for p in persons:
        want = expected(layout, p)
        m = members.get(p.card)
        for f, v in want.items():
            got: Any
            if m is None:
                got = None
            elif f == "workplace_org":
                got = m.workplace_org.name if m.workplace_org else None
            elif f == "workplace_committee":
                got = _committee_of(m.workplace_org)
            elif f == "residence_cell":
                got = m.residence_cell.name if m.residence_cell else None
            elif f == "ward":
                got = _ward_of(m.residence_cell)
            elif f == "address_contains":
                got = v if m.residence_address and search_key(v) in search_key(m.residence_address) else m.residence_address
            else:
                got = getattr(m, f)
            s = score.setdefault(f, [0, 0])
            s[1] += 1
            s[0] += int(got == v)
    return score


def failures(score: dict[str, list[int]]) -> dict[str, str]:
    return {f: f"{ok}/{n}" for f, (ok, n) in score.items() if ok != n}
