"""JSON API of the year-end campaign (under /api/, registered by service.api)."""
from __future__ import annotations

from flask import Blueprint, jsonify
from flask_login import login_required

from .. import db
from ..api_models import campaigns as models
from ..api_schema import operation
from ..auth import current
from . import logic

bp = Blueprint("campaigns", __name__)


@bp.get("/campaigns")
@login_required
@operation("Các đợt nhận xét cuối năm trong phạm vi")
def campaigns_list():
    sess, user = db.session(), current()
    return jsonify({"items": [{"id": c.id, "title": logic.title(c), "year": c.year,
                               "workplace_org_id": c.workplace_org_id, "deadline": c.deadline.isoformat()}
                              for c in logic.visible_campaigns(sess, user)]})


@bp.get("/campaigns/<int:campaign_id>")
@login_required
@operation("Tiến độ một đợt nhận xét: tổng số và từng chi bộ nơi cư trú", ok_schema=models.CampaignOut)
def campaign_get(campaign_id: int):
    sess, user = db.session(), current()
    return jsonify(logic.to_dict(sess, logic.get_campaign(sess, user, campaign_id)))


@bp.post("/campaigns")
@login_required
@operation("Lập đợt nhận xét và tạo phiếu (công việc nền)", body=models.CampaignInput, ok=201,
           ok_schema=models.CampaignOut, errors=(400, 401, 403, 404, 409, 429))
def campaign_create(body: models.CampaignInput):
    sess, user = db.session(), current()
    campaign = logic.create(sess, user, body.workplace_org_id, body.year, body.deadline,
                            include_exempt=body.include_exempt, answer_codes=body.answer_codes, source="api")
    return jsonify(logic.to_dict(sess, campaign)), 201


@bp.post("/campaigns/<int:campaign_id>/sent")
@login_required
@operation("Ghi nhận đã in và gửi các phiếu đã tạo (mọi chi bộ, hoặc một chi bộ nơi cư trú)", body=models.SentInput,
           body_required=False, ok_schema=models.SentOut, errors=(400, 401, 403, 404, 409, 429))
def campaign_sent(campaign_id: int, body: models.SentInput):
    sess, user = db.session(), current()
    campaign = logic.get_campaign(sess, user, campaign_id)
    marked = logic.mark_sent(sess, user, campaign, body.sent_on, cell_id=body.cell_id, source="api")
    return jsonify({"marked": marked, "campaign": logic.to_dict(sess, campaign)})


@bp.post("/campaigns/<int:campaign_id>/members/<int:member_id>/return")
@login_required
@operation("Ghi nhận phiếu nhận lại không qua bản quét (nhận tay): kèm các lựa chọn thì cập nhật vào hồ sơ",
           body=models.HandReturnInput, ok_schema=models.CampaignSheetOut, errors=(400, 401, 403, 404, 409, 429))
def campaign_hand_return(campaign_id: int, member_id: int, body: models.HandReturnInput):
    sess, user = db.session(), current()
    campaign = logic.get_campaign(sess, user, campaign_id)
    logic.record_by_hand(sess, user, campaign, member_id, dict(body.answers), body.other_remarks, body.received_on,
                         via=body.via, source="api")
    return jsonify(logic.sheet_to_dict(logic.sheet_row(sess, campaign, member_id)))
