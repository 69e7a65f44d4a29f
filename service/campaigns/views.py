"""Campaign pages: the list and creation, the campaign screen (totals, per cell, sheets not
returned), marking sheets sent, a return by hand, the Excel export and the reminder letter."""
from __future__ import annotations

import datetime as dt
import io

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_login import login_required

from .. import db
from ..auth import current
from ..web import flashed_errors
from ..models import Organisation
from ..permissions import can_write
from . import logic
from .export import missing_workbook

bp = Blueprint("campaigns", __name__, url_prefix="/campaigns")
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _packets_url(campaign) -> str:
    """The per-cell mailable packets (another feature): linked only when its route exists."""
    from flask import current_app
    if "documents.packets_start" not in current_app.view_functions:
        return ""
    return url_for("documents.packets_start", workplace_org_id=campaign.workplace_org_id, year=campaign.year)


@bp.route("/", methods=["GET", "POST"])
@login_required
def index():
    sess, user = db.session(), current()
    if request.method == "POST":
        with flashed_errors(sess, reraise=(403,)) as failed:
            campaign = logic.create(sess, user, request.form.get("workplace_org_id"), request.form.get("year"),
                                    request.form.get("deadline"), include_exempt=request.form.get("include_exempt") == "1",
                                    answer_codes=request.form.get("answer_codes") == "1")
        if failed:
            return render_template("campaigns/index.html", campaigns=logic.visible_campaigns(sess, user),
                                   committees=logic.committee_choices(sess, user), form=request.form), failed.status
        flash(f"Đã lập đợt nhận xét năm {campaign.year}; phiếu đang được tạo.", "success")
        return redirect(url_for("campaigns.detail", campaign_id=campaign.id))
    return render_template("campaigns/index.html", campaigns=logic.visible_campaigns(sess, user),
                           committees=logic.committee_choices(sess, user),
                           form={"year": str(dt.date.today().year)})


def _filters():
    return {"cell": request.args.get("cell", type=int), "ward": request.args.get("ward", type=int),
            "state": request.args.get("state") or None}


def _items_cache(sess):
    """The choice items of a sheet's own form (version and variant), for the return-by-hand form."""
    from ..scans.decide import items_of
    cache: dict = {}

    def items_for(ev):
        key = (ev.template_version, ev.variant)
        if key not in cache:
            cache[key] = [i for i in items_of(sess, ev) if i.is_choice]
        return cache[key]
    return items_for


@bp.route("/<int:campaign_id>")
@login_required
def detail(campaign_id: int):
    sess, user = db.session(), current()
    campaign = logic.get_campaign(sess, user, campaign_id)
    rows = logic.sheet_rows(sess, campaign)
    f = _filters()
    cells = logic.by_cell(sess, rows)
    wards = {g.ward.id: g.ward for g in cells if g.ward is not None}
    return render_template("campaigns/detail.html", campaign=campaign, title=logic.title(campaign),
                           totals=logic.totals(rows), cells=cells, workplace_cells=logic.by_workplace_cell(rows),
                           wards=sorted(wards.values(), key=lambda w: w.search_name),
                           missing=logic.filter_rows(rows, cell_id=f["cell"], ward_id=f["ward"], state=f["state"]),
                           filters=f, states=logic.SheetState, exempt=logic.exempt_members(sess, campaign),
                           reminders=logic.reminders_of(sess, campaign), packets_url=_packets_url(campaign),
                           can_write=can_write(sess, user, campaign.workplace_org, "campaign"),
                           today=dt.date.today())


@bp.route("/<int:campaign_id>/missing.xlsx")
@login_required
def export(campaign_id: int):
    sess, user = db.session(), current()
    campaign = logic.get_campaign(sess, user, campaign_id)
    f = _filters()
    rows = logic.filter_rows(logic.sheet_rows(sess, campaign), cell_id=f["cell"], ward_id=f["ward"], state=f["state"])
    contacts = logic.contacts(sess, sorted({r.cell.id for r in rows if r.cell}))
    data = missing_workbook(f"Phiếu chưa gửi lại — {logic.title(campaign)} (hạn {campaign.deadline:%d/%m/%Y})",
                            rows, contacts)
    return send_file(io.BytesIO(data), as_attachment=True, mimetype=XLSX,
                     download_name=f"phieu-chua-gui-lai-{campaign.year}-{campaign.id}.xlsx")


@bp.route("/<int:campaign_id>/sent", methods=["POST"])
@login_required
def sent(campaign_id: int):
    sess, user = db.session(), current()
    campaign = logic.get_campaign(sess, user, campaign_id)
    with flashed_errors(sess):
        n = logic.mark_sent(sess, user, campaign, request.form.get("sent_on"), cell_id=request.form.get("cell_id", type=int))
        flash(f"Đã ghi nhận gửi {n} phiếu.", "success")
    return redirect(url_for("campaigns.detail", campaign_id=campaign.id))


@bp.route("/<int:campaign_id>/members/<int:member_id>/return", methods=["GET", "POST"])
@login_required
def hand_return(campaign_id: int, member_id: int):
    """A sheet returned without a scan: the form (the sheet's own items and options), and recording it."""
    sess, user = db.session(), current()
    campaign = logic.get_campaign(sess, user, campaign_id)
    if request.method == "GET":
        row = next((r for r in logic.sheet_rows(sess, campaign) if r.member.id == member_id), None)
        if row is None:
            abort(404)
        return render_template("campaigns/return.html", campaign=campaign, title=logic.title(campaign), row=row,
                               items=_items_cache(sess)(row.ev) if row.ev else [], today=dt.date.today(),
                               methods={k: v for k, v in logic.RETURN_METHODS.items() if k != "scan"})
    answers = {k[2:]: v for k, v in request.form.items() if k.startswith("a_")}
    with flashed_errors(sess):
        logic.record_by_hand(sess, user, campaign, member_id, answers, request.form.get("other_remarks"),
                             request.form.get("received_on"), via=request.form.get("via") or "hand")
        flash("Đã ghi nhận phiếu nhận lại.", "success")
    return redirect(url_for("campaigns.detail", campaign_id=campaign.id))


@bp.route("/<int:campaign_id>/cells/<int:cell_id>/reminder", methods=["POST"])
@login_required
def reminder(campaign_id: int, cell_id: int):
    sess, user = db.session(), current()
    campaign = logic.get_campaign(sess, user, campaign_id)
    with flashed_errors(sess) as failed:
        row, data = logic.issue_reminder(sess, user, campaign, cell_id)
    if failed:
        return redirect(url_for("campaigns.detail", campaign_id=campaign.id))
    cell = sess.get(Organisation, cell_id)
    import docgen
    return send_file(io.BytesIO(data), as_attachment=True, mimetype=DOCX,
                     download_name=docgen.safe_filename(f"cong-van-nhac-{row.number} {cell.name}", "docx"))


@bp.route("/cells/<int:cell_id>/contact", methods=["POST"])
@login_required
def contact(cell_id: int):
    sess, user = db.session(), current()
    cell = sess.get(Organisation, cell_id)
    if cell is None:
        abort(404)
    back = request.form.get("campaign_id", type=int)
    with flashed_errors(sess):
        logic.save_contact(sess, user, cell, request.form.get("name"), request.form.get("phone"))
        flash(f"Đã lưu liên hệ của {cell.name}.", "success")
    return redirect(url_for("campaigns.detail", campaign_id=back) if back else url_for("web.index"))
