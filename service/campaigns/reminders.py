"""The reminder letter to a late residence cell (template kind ``reminder_letter``)."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..documents.contexts import _place, _upper_body
from ..documents.templates_store import active_template, renderer, sync_builtin
from ..models import Campaign, CampaignReminder, CampaignSheet, Organisation

KIND = "reminder_letter"
EXTENSION_DAYS = 10  # the new deadline the letter asks for, counted from its date


def render_reminder(sess: Session, campaign: Campaign, ward: Organisation | None, cell: Organisation, missing: list,
                    reminder: CampaignReminder) -> bytes:
    """The letter as .docx: ``missing`` are the campaign's sheet rows of the cell not returned."""
    sync_builtin(sess)
    committee = campaign.workplace_org
    first = missing[0].member
    sent = sess.scalar(select(func.min(CampaignSheet.sent_on)).where(
        CampaignSheet.campaign_id == campaign.id, CampaignSheet.member_id.in_([r.member.id for r in missing])))
    office = f"văn phòng {committee.name}"
    data = {
        "upper_body_name": _upper_body(committee, first),
        "issuing_committee_name": committee.name,
        "letter_number": reminder.number,
        "letter_code": "CV/ĐU",
        "place": _place(committee.place, first.province),
        "issue_date": reminder.issued_on,
        "year": campaign.year,
        "ward_committee_name": ward.name if ward else "",
        "residence_cell_name": cell.name,
        "sent_date": sent or min((r.generated_on for r in missing if r.generated_on), default=reminder.issued_on),
        "deadline": campaign.deadline,
        "new_deadline": reminder.issued_on + dt.timedelta(days=EXTENSION_DAYS),
        "missing_count": len(missing),
        "contact_line": office,
        "signer_name": committee.secretary_name or "",
        "missing_sheets": [{"no": i, "full_name": r.member.full_name,
                            "date_of_birth": r.member.date_of_birth.strftime("%d/%m/%Y") if r.member.date_of_birth else "",
                            "sheet_serial": r.ev.sheet_serial if r.ev else ""} for i, r in enumerate(missing, 1)],
    }
    return renderer(sess, active_template(sess, KIND)).render(data)
