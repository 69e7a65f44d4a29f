"""The import on lists laid out the way offices keep them (tests/support/member_lists.py, tuning set)."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from service.models import Member, Organisation

from tests.support.layout_check import compare, failures, import_layout
from tests.support.member_lists import TUNING, people

PEOPLE = people(60, seed=10)


@pytest.fixture
def admin(make_user):
    return make_user("quantri", "admin")


@pytest.mark.parametrize("layout", TUNING, ids=[lay.name for lay in TUNING])
def test_each_layout_imports_with_every_field_right(sess, admin, layout):
    preview = import_layout(sess, admin, layout, PEOPLE)
    assert preview["summary"]["rejected"] == 0, [r["errors"] for r in preview["rows"] if r["errors"]][:3]
    assert preview["summary"]["create"] == len(PEOPLE)
    assert preview["unmapped_columns"] == []
    assert failures(compare(sess, layout, PEOPLE)) == {}
    # the employer is the member's employer, never a party organisation
    employers = {"Sở Tài chính tỉnh Quảng Ninh", "Bệnh viện Đa khoa tỉnh", "Cục Thuế tỉnh Quảng Ninh"}
    names = {o.name for o in sess.scalars(select(Organisation))}
    assert not names & employers
    # skipped rows carry their reason
    reasons = {s["reason"] for s in preview["skipped_rows"]}
    if layout.number_row:
        assert "column_numbers" in reasons
    if layout.footer:
        assert "signature" in reasons
    # wards created from the list get their place name
    for ward in sess.scalars(select(Organisation).where(Organisation.kind == "ward_committee")):
        assert ward.place in ("Hồng Hà", "Bãi Cháy")


def test_the_same_people_from_two_layouts_give_one_member_each(sess, admin):
    first, second = TUNING[1], TUNING[2]  # cards without the dot / in number cells, phones in other forms
    import_layout(sess, admin, first, PEOPLE)
    preview = import_layout(sess, admin, second, PEOPLE)
    assert preview["summary"]["rejected"] == 0
    assert preview["summary"]["create"] == 0
    assert sess.scalar(select(func.count()).select_from(Member)) == len(PEOPLE)
    # the second list adds the admission date and the workplace cell; nothing is duplicated
    assert failures(compare(sess, second, PEOPLE)) == {}
    third = TUNING[3]
    preview = import_layout(sess, admin, third, PEOPLE)
    assert preview["summary"]["create"] == 0 and preview["summary"]["rejected"] == 0
    assert sess.scalar(select(func.count()).select_from(Member)) == len(PEOPLE)
