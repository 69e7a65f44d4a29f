"""A form a cell retyped in its own layout and wording, scanned and uploaded: the review screen shows the
answers pre-read from its marks (a person still decides; nothing is applied automatically)."""
from __future__ import annotations

import re

from tests.support import foreign_forms as ff
from tests.test_scans import members, png, staff, upload  # noqa: F401  (fixtures)

from service.models import Evaluation


def test_retyped_form_shows_pre_read_answers_in_review(app, sess, staff, members):  # noqa: F811
    m = members[1]
    who = {"id": m.id, "full_name": m.full_name, "date_of_birth": m.date_of_birth,
           "workplace_org_name": "Cục Thuế tỉnh", "residence_cell_name": "Chi bộ Tổ dân phố số 5"}
    img, truth = ff.make_form(who, 3, split="tune", layout="boxes_inline", level="light", turn=0, pen="blue",
                              variant="standard")
    page = upload(staff, [("phieu-tu-go.png", png(img))])["pages"][0]
    assert page["status"] == "review", page
    assert page["kind"] == "foreign_form"
    html = staff.get(f"/scans/pages/{page['id']}").get_data(as_text=True)
    checked = dict(re.findall(r'name="a_(\w+)" value="(\w+)" checked', html))
    right = [k for k, v in truth["answers"].items() if checked.get(k) == v]
    assert len(right) >= len(truth["answers"]) // 2, (checked, truth["answers"])
    assert all(checked[k] == truth["answers"][k] for k in checked), (checked, truth["answers"])
    # pre-read is not applied: the member's sheet is untouched until a person applies the page
    ev = sess.query(Evaluation).filter_by(member_id=m.id).one()
    assert ev.status == "issued" and ev.answers is None
