"""A realistic scan batch for the scale-out tests and the benchmark: N members, each with a
real evaluation sheet (serial and signed QR of this installation), and one filled, scanned
page per member (drawn ticks, light degradation), as JPEG files.

One sheet is rendered through docgen + LibreOffice (cached on disk); each page re-signs its
QR for its own member's sheet, so every page is identified and can be applied.
"""
from __future__ import annotations

import datetime as dt

import cv2

from service.documents.contexts import evaluation_data
from service.documents.sheets import ensure_sheet
from service.qrkeys import signing_key
from service.models import Evaluation, Member, User
from tests.support.services import add_org

DISTINCT = 10  # different people (printed sheets) in a batch; the others are their namesakes
CLEAN = {"allowed_styles": ("tick", "cross", "fill"), "scribble_items": 0}  # nothing a person must decide


def seed(sess, n: int, year: int) -> tuple[User, list[Member]]:
    """Organisations, a workplace-staff user, and ``n`` members with their sheet for ``year``."""
    from tests.support.passwords import password_hash_for

    def org(name, kind, parent=None):
        return add_org(sess, name, kind, parent)
    province = org("Đảng bộ tỉnh Quảng Ninh", "party_body")
    tax = org("Đảng ủy Cục Thuế tỉnh", "workplace_committee", province)
    tax_cell = org("Chi bộ Phòng Kiểm tra", "workplace_cell", tax)
    ward = org("Đảng ủy phường Hồng Hà", "ward_committee", province)
    cells = [org(f"Chi bộ khu phố {k}", "residence_cell", ward) for k in range(1, 6)]
    sess.flush()
    user = User(username="thue", full_name="Cán bộ Thuế", role="workplace_staff", organisation_id=tax.id,
                password_hash=password_hash_for("mat-khau-dai-1"))
    sess.add(user)
    families, given = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ"], ["Văn An", "Thị Bình", "Đức Cường",
                                                                       "Thị Dung", "Minh Hải", "Ngọc Lan"]
    members = []
    for i in range(n):
        # DISTINCT people repeated (namesakes born the same day, other card numbers): a page is
        # rendered once per person and re-signed for each namesake, and its printed name and date
        # of birth still match the QR's member, as the automatic apply requires
        j = i % DISTINCT
        m = Member(card_number=f"77{i:05d}", workplace_org_id=tax_cell.id, residence_cell_id=cells[i % 5].id,
                   gender="male", date_of_birth=dt.date(1960 + j * 3, 1 + j, 1 + j * 2),
                   admission_date=dt.date(2000, 1, 2), house=f"Số {i + 1}", commune="Phường Hồng Hà",
                   province="Quảng Ninh", status="active")
        m.set_name(f"{families[j % 6]} {given[(j + j // 6) % 6]}")
        sess.add(m)
        members.append(m)
    sess.commit()
    for m in members:
        ensure_sheet(sess, m, year, commit=False)
    sess.commit()
    return user, members


def pages(sess, members: list[Member], year: int, level: str | None = None,
          distinct: int = 10) -> list[tuple[str, bytes]]:
    """One scanned page per member, as (file name, JPEG bytes).

    One page is drawn per different person (:data:`DISTINCT`, or ``distinct``), each namesake gets
    it with their own QR.
    ``level`` (light / medium / heavy) degrades every page like a real scanner (about a second
    a page to make); None keeps the clean 200 dpi page (fast to make).
    """
    from forms import qrpayload
    from tests.support import synthetic_sheets as synthetic
    evs = [sess.query(Evaluation).filter_by(member_id=m.id, year=year).one() for m in members]
    people = min(distinct, DISTINCT, len(members))
    sources = synthetic.render_sources([evaluation_data(ev) for ev in evs[:people]], mark_key=signing_key())
    key, out = signing_key(), []
    fills = [synthetic.fill(sources[k], seed=1000 + k, **CLEAN)[0] for k in range(people)] if level is None else []
    for k, (m, ev) in enumerate(zip(members, evs)):
        payload = qrpayload.sign("evaluation_sheet", ev.template_version or 1, ev.sheet_serial, m.id,
                                 year, key)
        source = sources[k % people]
        if level is None:
            img = fills[k % people].copy()  # the page of this member's namesake
            synthetic.replace_qr(img, source, payload)
        else:
            img, _truth = synthetic.make_page(source, seed=1000 + k, level=level,
                                              fill_kw={"qr_payload": payload, **CLEAN})
        ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 85])
        out.append((f"phieu-{k + 1:03d}.jpg", buf.tobytes()))
    return out
