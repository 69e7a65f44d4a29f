"""A small seeded database for the API fuzzing tests: organisations, members, a sheet, a letter, an admin token."""
from __future__ import annotations

from service.auth import new_api_token
from service.documents import letters, sheets
from service.models import Member
from tests.support.services import add_org

YEAR = 2026


def seed(sess, make_user) -> dict:
    province = add_org(sess, "Đảng bộ tỉnh Mẫu", "party_body")
    work = add_org(sess, "Đảng ủy Sở Mẫu", "workplace_committee", province)
    ward = add_org(sess, "Đảng ủy phường Mẫu", "ward_committee", province)
    cell = add_org(sess, "Chi bộ khu phố Mẫu", "residence_cell", ward)
    sess.commit()
    admin = make_user("quantri", "admin")
    members = []
    for i, name in enumerate(("Nguyễn Văn Mẫu", "Trần Thị Thử")):
        m = Member(card_number=f"TEST{i}", status="active", workplace_org_id=work.id, residence_cell_id=cell.id)
        m.set_name(name)
        sess.add(m)
        members.append(m)
    sess.commit()
    sheet = sheets.ensure_sheet(sess, members[0], YEAR)
    intro = letters.issue_introduction(sess, admin, members[0])
    token, _row = new_api_token(sess, admin, "fuzz")
    sess.commit()
    return {"token": token, "admin": admin, "members": members, "sheet": sheet, "intro": intro, "cell": cell,
            "work": work}
